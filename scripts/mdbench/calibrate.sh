# calibrate.sh: --calibrate, parameters for 30-60 s runs on this machine.
# Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# cpu: one event checks every number up to --cpu-max-prime for primality by
# trial division, so its cost grows like N^k, k between 1 and 1.5; short
# probes measure k on this machine and check the pick. fileio: a short probe measures how many
# MiB/s the mode moves; the data set is made at least twice what a full run
# touches, so that reads keep going to the disk.
mb_calibrate() {
	mb_cal=$mb_out/calibration.csv
	echo "test,probe,parameter,value,seconds,rate,unit" >"$mb_cal"
	mb_probe_t=3
	[ "$mb_quick" = 0 ] || mb_probe_t=1
	mb_lo=30 mb_hi=60
	case ,$mb_tests, in *,cpu,*) mb_calibrate_cpu ;; esac
	case ,$mb_tests, in *,fileio,*) mb_calibrate_fileio ;; esac
}

mb_cpu_probe() {
	mb_pr=$mb_work/probe.txt
	mb_env_exec_native "$mb_pr" "calibrating cpu, prime $1" "$mb_probe_t" \
		sysbench cpu --threads=1 --cpu-max-prime="$1" --time="$mb_probe_t" --events=0 run ||
		mb_die "calibration: sysbench cpu --cpu-max-prime=$1 failed"
	mb_rate=$(awk '/events per second:/ { print $NF }' "$mb_pr")
	echo "cpu,$2,cpu-max-prime,$1,$mb_probe_t,$mb_rate,events/s" >>"$mb_cal"
}

mb_calibrate_cpu() {
	mb_target=$mb_time
	mb_cpu_probe 20000 1
	mb_pa=20000 mb_ra=$mb_rate
	mb_cpu_probe 40000 2
	mb_pb=40000 mb_rb=$mb_rate
	# Aim at the target (prime.awk), probe there, repeat until the pick
	# lasts 30-60 s (at most 4 more probes).
	mb_n=3
	while :; do
		mb_prime=$(awk -v pa="$mb_pa" -v ra="$mb_ra" -v pb="$mb_pb" -v rb="$mb_rb" \
			-v e="$mb_events" -v t="$mb_target" -f "$MB_LIB/prime.awk")
		mb_cpu_probe "$mb_prime" "$mb_n"
		mb_pred=$(awk -v r="$mb_rate" -v e="$mb_events" 'BEGIN { printf "%.1f", e / r }')
		# Inside the range with a margin, since a real run varies a little.
		if awk -v p="$mb_pred" -v lo="$mb_lo" -v hi="$mb_hi" 'BEGIN { exit !(p >= lo * 1.1 && p <= hi * 0.9) }'; then
			break
		fi
		[ "$mb_n" -lt 6 ] || break
		mb_pa=$mb_pb mb_ra=$mb_rb mb_pb=$mb_prime mb_rb=$mb_rate
		mb_n=$((mb_n + 1))
	done
	if awk -v p="$mb_pred" -v lo="$mb_lo" -v hi="$mb_hi" 'BEGIN { exit !(p < lo || p > hi) }'; then
		md_warn "calibration: --cpu-max-prime=$mb_prime still takes about $mb_pred s, outside $mb_lo-$mb_hi s (is the machine busy?)"
	fi
	echo "cpu,chosen,cpu-max-prime,$mb_prime,$mb_pred,$mb_rate,events/s" >>"$mb_cal"
	mb_set param.cpu_max_prime "$mb_prime"
	mb_set calibration.cpu "--cpu-max-prime=$mb_prime: $mb_events events at $mb_rate events/s take about $mb_pred s natively (target $mb_target s, range $mb_lo-$mb_hi s)"
	mb_say "calibrated: --cpu-max-prime=$mb_prime ($mb_events events in about $mb_pred s)"
}

mb_calibrate_fileio() {
	mb_psize=268435456
	[ "$mb_quick" = 0 ] || mb_psize=16777216
	mb_save_size=$mb_size mb_size=$mb_psize
	mb_fa=$(mb_fileio_args)
	mb_extra=
	[ "$mb_cache" != direct ] || mb_extra=--file-extra-flags=direct
	mb_pr=$mb_work/probe.txt
	mb_pt0=$(mb_now)
	# shellcheck disable=SC2086 # option words
	mb_env_exec_native "$mb_pr" "calibrating fileio prepare" 5 sysbench $mb_fa $mb_extra prepare ||
		mb_die "calibration: sysbench fileio prepare failed"
	mb_pt=$(awk -v a="$mb_pt0" -v b="$(mb_now)" 'BEGIN { printf "%.2f", b - a }')
	mb_sync_drop
	# shellcheck disable=SC2086 # option words
	mb_env_exec_native "$mb_pr" "calibrating fileio $mb_mode" "$mb_probe_t" sysbench $mb_fa $mb_extra \
		--file-test-mode="$mb_mode" --time="$mb_probe_t" --events=0 run ||
		mb_die "calibration: sysbench fileio run failed"
	# shellcheck disable=SC2086 # option words
	mb_env_exec_native "$mb_work/cleanup.txt" "calibrating fileio cleanup" 1 sysbench $mb_fa cleanup || true
	rm -f "$mb_native_dir"/test_file.*
	mb_mibs=$(awk '/read, MiB\/s:|written, MiB\/s:/ { s += $NF } END { printf "%.2f", s }' "$mb_pr")
	echo "fileio,prepare,file-total-size,$mb_psize,$mb_pt,$(awk -v s="$mb_psize" -v t="$mb_pt" 'BEGIN { printf "%.1f", s / 1048576 / t }'),MiB/s" >>"$mb_cal"
	echo "fileio,1,file-total-size,$mb_psize,$mb_probe_t,$mb_mibs,MiB/s" >>"$mb_cal"
	# Twice the data a full run moves, a power of two, within 256 MiB and half
	# the free space (--quick: 16 MiB).
	mb_free=$(df -Pk "$mb_native_dir" | awk 'NR == 2 { print $4 * 1024 }')
	mb_size=$(awk -v m="$mb_mibs" -v t="$mb_time" -v lo="$mb_psize" -v free="$mb_free" 'BEGIN {
		want = 2 * m * t * 1048576; s = lo
		while (s < want && s * 2 <= free / 2) s *= 2
		printf "%.0f\n", s }')
	[ "$mb_quick" = 0 ] || mb_size=$mb_psize
	echo "fileio,chosen,file-total-size,$mb_size,$mb_time,$mb_mibs,MiB/s" >>"$mb_cal"
	mb_set param.file_total_size "$mb_size"
	mb_set calibration.fileio "--file-total-size=$(mb_size_arg "$mb_size"): $mb_mode moved $mb_mibs MiB/s in a ${mb_probe_t} s probe, so a $mb_time s run touches about $(awk -v m="$mb_mibs" -v t="$mb_time" 'BEGIN { printf "%.0f", m * t }') MiB; the data set is at least twice that (was $(mb_size_arg "$mb_save_size") before calibrating)"
	mb_say "calibrated: --file-total-size=$(mb_size_arg "$mb_size")"
}
