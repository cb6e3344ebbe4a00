#!/bin/sh
# Usage: mdvm.sh boottime [IMAGE|DIR|tiny] [-n N] [OPTIONS] [--timeout S] [--out DIR] [--matrix]
# Summary: time N boots by phase: firmware, decompression, kernel, userspace
#
# Boots N times (default 5) headless and times each serial console line
# from QEMU's start: firmware, kernel decompression, kernel init,
# userspace, total; median/min/max; hung boots are counted, never averaged
# in. `tiny` (the default) is a tiny VM kept in the cache directory; an
# IMAGE must come from build (its kernel beside it, the marker unit).
#
# Options:
#   -n N                   boots per configuration (default 5)
#   --out DIR              write runs.csv, summary.csv, a gnuplot PNG and SVG
#                          and a Markdown report (boottime.md) to DIR
#   --matrix               compare machines and kernel formats (and KVM)
#   --timeout S            a boot that has not reached MDVM-READY after S
#                          seconds is hung (default 60)
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --append ARGS          more kernel command line (last wins, e.g. loglevel=1)
#   -h, --help             print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"

# Phases of one boot from its stamped console log ($1), as a CSV tail:
# status,firmware,decompress,kernel,userspace,total (ms). The guest boots
# quiet (a verbose console backs up behind the slow emulated serial port and
# delays everything after it: measured 1.4 s of backlog at the marker) and,
# after the marker, prints the kernel log times of "Run /init" and of the
# MDVM-MARK it wrote just before the marker. The kernel log's clock
# (local_clock) stands still while the early kernel runs without a timer
# tick (until the local APIC timer is set up, it is held at the last tick
# + 4 ms): under TCG it falls 0.4-0.6 s behind the time since its zero,
# which is the raw TSC clock (sched_clock, zero at tsc_early_init). The
# guest prints both at one moment (MDVM-CLOCK sched_clk, cpu_clk, from
# debugfs sched/debug); their difference is what the log's clock lost,
# and it is added back: the kernel's zero is at host time (marker arrival
# - MDVM-MARK log time - lost), "Run /init" at (its log time + lost).
# Without those lines (an image built by an older mdvm.sh) nothing is
# added: the lost time then counts as firmware. Firmware: QEMU start to
# the last console line before the kernel's zero (SeaBIOS's "Booting from
# ROM"); decompress: from there to the zero (option ROM loading the
# kernel, the decompressor, early setup_arch before the TSC clock starts).
phases() {
	awk -F '\t' -v marker="$MARKER" '
		function kts(s) { match(s, /\[ *[0-9]+\.[0-9]+\]/); return substr(s, RSTART + 1, RLENGTH - 2) * 1000 }
		$2 == "#first-byte" { fb = $1 + 0; next }
		$2 ~ /^#end / { st = substr($2, 6); next }
		m == "" && index($2, marker) == 1 { m = $1 + 0; next }
		$2 ~ /^MDVM-CLOCK sched_clk / { split($2, w, " "); sc = w[3]; next }
		$2 ~ /^MDVM-CLOCK cpu_clk / { split($2, w, " "); cc = w[3]; next }
		$2 ~ /MDVM-DMESG .*MDVM-MARK/ { mk = kts(substr($2, index($2, "MDVM-DMESG"))); next }
		$2 ~ /MDVM-DMESG .*Run \/init as init process/ { ri = kts(substr($2, index($2, "MDVM-DMESG"))); next }
		m == "" && $2 != "" { pre[++np] = $1 + 0 }
		END {
			if (st != "ok" || m == "" || mk == "" || ri == "") {
				printf "%s,,,,,\n", (st == "ok" ? "incomplete" : st); exit
			}
			lost = (sc != "" && cc != "" && sc - cc > 0) ? sc - cc : 0
			k = m - mk - lost
			# The firmware ends with its last line before the kernel starts
			# (SeaBIOS: "Booting from ROM"); a PVH boot prints nothing, and
			# QEMU start up to the kernel counts as firmware.
			fw = k
			for (i = 1; i <= np; i++) if (pre[i] < k) lastfw = pre[i]
			if (lastfw != "") fw = lastfw
			if (fw < 0) fw = 0
			printf "ok,%.1f,%.1f,%.1f,%.1f,%.1f\n", fw, k - fw, ri + lost, mk - ri, m
		}' "$1"
}

# One configuration: boot_config NAME MACHINE KERNELFILE ACCEL INITRD N OUTDIR
# [IMAGE] appends NAME,RUN,phases to OUTDIR/runs.csv. IMAGE: a built disk
# image, the root filesystem of the guest.
boot_config() {
	if [ -n "${8:-}" ]; then
		set -- "$@" "root=/dev/vda rw quiet mdvm=times$vm_append" \
			-drive "file=$8,format=$(image_format "$8"),if=virtio,snapshot=on"
	else
		set -- "$@" "" "$TINY_APPEND quiet mdvm=times$vm_append"
	fi
	bc_i=1
	while [ "$bc_i" -le "$6" ]; do
		md_say "boottime: $1 boot $bc_i/$6"
		bc_log=$7/logs/$1-$bc_i.log
		# In the background, so that the trap can stop it (it stops QEMU).
		python3 "$MDVM_DIR/timestamp.py" "${vm_timeout:-60}" "$MARKER" "$bc_log" \
			sh "$0" __qemu "$4" "$2" "$3" "$5" "${vm_memory:-$TINY_MEMORY}" "$9" -serial stdio ${10:+"${10}"} ${11:+"${11}"} &
		md_pids=$!
		wait "$md_pids" || md_die "boottime: the timestamper failed on $1"
		md_pids=
		echo "$1,$bc_i,$(phases "$bc_log")" >>"$7/runs.csv"
		bc_i=$((bc_i + 1))
	done
}

# Median, min, max per configuration and phase; hung/failed boots counted.
summarize() {
	awk -F, '
		function med(c, j,   i, a, b, t, m) {
			m = ok[c]
			for (i = 1; i <= m; i++) a[i] = v[c, j, i]
			for (i = 2; i <= m; i++) { t = a[i]; for (b = i - 1; b >= 1 && a[b] > t; b--) a[b + 1] = a[b]; a[b + 1] = t }
			lo = a[1]; hi = a[m]
			return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		BEGIN { print "config,ok,hung,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms,total_min_ms,total_max_ms" }
		NR == 1 { next }
		!($1 in seen) { seen[$1] = 1; order[++nc] = $1 }
		$3 != "ok" { bad[$1]++; next }
		{ ok[$1]++; for (j = 4; j <= 8; j++) v[$1, j, ok[$1]] = $j }
		END {
			for (i = 1; i <= nc; i++) {
				c = order[i]
				if (!ok[c]) { printf "%s,0,%d,,,,,,,\n", c, bad[c] + 0; continue }
				printf "%s,%d,%d", c, ok[c], bad[c] + 0
				for (j = 4; j <= 8; j++) printf ",%.1f", med(c, j)
				printf ",%.1f,%.1f\n", lo, hi
			}
		}' "$1"
}

# The terminal table from the summary CSV.
print_table() {
	awk -F, '{ printf "%-22s %3s %4s %9s %10s %8s %9s %8s %8s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$1" |
		sed '1s/_min_ms/_min/; 1s/_max_ms/_max/'
	echo "(ms, medians over the boots that reached $MARKER; hung: boots that did not, left out)"
}

# gnuplot: one stacked bar per configuration, PNG and SVG.
plot_summary() {
	awk -F, 'NR > 1 && $2 > 0 { print $1, $4, $5, $6, $7 }' "$1/summary.csv" >"$md_tmp/plot.dat"
	[ -s "$md_tmp/plot.dat" ] || return 0
	for pl_t in png svg; do
		gnuplot -c "$MDVM_DIR/boottime.gp" "$pl_t" "$1/boottime.$pl_t" "$md_tmp/plot.dat" "$MARKER" ||
			md_die "boottime: gnuplot failed on $1/boottime.$pl_t"
	done
}

# Host decompression of the same kernel payload: "MS TOOL", the yardstick
# for the guest's decompression phase.
host_decompress_ms() {
	cut_payload "$1" "$md_tmp/payload" || return 1
	hd_codec=$(payload_codec "$md_tmp/payload") || return 1
	hd_s=$(date +%s%N)
	# shellcheck disable=SC2086 # the codec is a command and its flags
	$hd_codec <"$md_tmp/payload" >/dev/null 2>&1 || true
	hd_e=$(date +%s%N)
	echo "$(((hd_e - hd_s) / 1000000)) ${hd_codec%% *}"
}

# The Markdown report, every number from this run's files.
write_report() {
	wr_out=$1 wr_dir=$2 wr_accel=$3
	wr_host=$(host_decompress_ms "$wr_dir/vmlinuz" || echo "")
	{
		echo "# Boot time under QEMU ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		echo "Each boot was timed from the moment QEMU was started to the line"
		echo "\`$MARKER\` that the guest prints on its serial console."
		echo "Host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; accelerator: $wr_accel."
		echo
		echo "| config | ok | hung | firmware | decompress | kernel init | userspace | total (median) | min | max |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$wr_out/summary.csv"
		echo
		echo "Milliseconds; medians over the boots that reached the marker. A boot"
		echo "that did not within the timeout is counted as hung and left out of"
		echo "every median. The guest boots with \`quiet\` (a verbose console backs"
		echo "up behind the emulated serial port and delays the boot it is reporting)"
		echo "and prints, after the marker, the kernel-log times of \"Run /init\" and"
		echo "of a line it logged just before the marker; the host time of the"
		echo "kernel clock's zero is the marker's arrival minus that time, less the"
		echo "time the log's clock stood still while the early kernel had no timer"
		echo "tick (the guest prints the raw sched_clock and the log's clock at one"
		echo "moment from debugfs; 0.4-0.6 s under TCG). Phases:"
		echo "*firmware* = QEMU start to the firmware's last console line (SeaBIOS"
		echo "\"Booting from ROM\"), or to the kernel clock's zero when the firmware"
		echo "prints nothing (PVH on microvm, qboot): there it also holds QEMU's"
		echo "start-up and the kernel load; *decompress* = from there to the kernel"
		echo "clock's zero (option ROM loading the kernel, the decompressor, early"
		echo "setup); *kernel init* = to \"Run /init\"; *userspace* = to the marker."
		echo "The four add up to the total."
		echo
		awk -F, -v host="$wr_host" '
			NR == 1 { next }
			$2 > 0 && $1 ~ /bzImage/ && (dz == "" || $5 + 0 > dz + 0) { dz = $5; dc = $1 }
			$2 > 0 && (best == "" || $8 + 0 < best + 0) { best = $8; bc = $1 }
			$2 > 0 && (worst == "" || $8 + 0 > worst + 0) { worst = $8; wc = $1 }
			$2 > 0 && $1 ~ /^microvm-vmlinux-tcg/ { toinit = $4 + $5 + $6 }
			$2 > 0 { nok++ }
			END {
				split(host, h, " ")
				printf "**Why so slow.** "
				if (dz != "" && h[1] > 0)
					printf "In %s the guest spent %.0f ms loading and decompressing its own kernel up to its clock start; `%s -d` of the same payload took %d ms on the host, %.1fx less. ", dc, dz, h[2], h[1], dz / h[1]
				print "Under TCG every guest code block is translated to host code the first time it runs, and a booting kernel runs mostly new code, so translation dominates; every guest memory access goes through a software MMU/TLB; every device access (serial port, timers, interrupt controllers) leaves the translated code for an emulated device in QEMU."
				print ""
				if (nok > 1 && best > 0)
					printf "**What helps.** Fastest: %s, %.0f ms; slowest: %s, %.0f ms (%.1fx). An uncompressed vmlinux booted through PVH skips the firmware (SeaBIOS) and the guest-side decompression; microvm has fewer devices for the kernel to probe.\n", bc, best, wc, worst, worst / best
				if (toinit != "")
					printf "\n**To init.** The tiny VM reached its init (Run /init) under TCG on microvm with the vmlinux in %.0f ms (median here; the load average above says how idle this host was).\n", toinit
			}' "$wr_out/summary.csv"
		echo
		echo "Files: runs.csv (every boot), summary.csv, boottime.png and .svg, logs/ (the stamped consoles)."
	} >"$wr_out/boottime.md"
}

# The configurations: "NAME MACHINE KERNELFORMAT ACCEL" lines.
boot_configs() {
	if [ -n "$4" ]; then
		for bf_a in $3; do
			echo "pc-bzImage-$bf_a pc vmlinuz $bf_a"
			echo "q35-bzImage-$bf_a q35 vmlinuz $bf_a"
			echo "microvm-bzImage-$bf_a microvm vmlinuz $bf_a"
			if [ -f "$1/vmlinux" ]; then
				echo "pc-vmlinux-$bf_a pc vmlinux $bf_a"
				echo "microvm-vmlinux-$bf_a microvm vmlinux $bf_a"
			fi
		done
	else
		bf_m=${2:-microvm} bf_f=vmlinuz bf_n=bzImage
		if [ -f "$1/vmlinux" ]; then bf_f=vmlinux bf_n=vmlinux; fi
		echo "$bf_m-$bf_n-$3 $bf_m $bf_f $3"
	fi
}

cmd_boottime() {
	bt_target='' bt_n=5 bt_out='' bt_matrix=''
	while [ $# -gt 0 ]; do
		parse_vm_opt "$@"
		if [ "$vm_n" -gt 0 ]; then shift "$vm_n"; continue; fi
		case $1 in
		-n)
			[ $# -ge 2 ] || md_usage_error "-n needs a number"
			case $2 in '' | *[!0-9]* | 0) md_usage_error "-n: a number of boots, not '$2'" ;; esac
			bt_n=$2
			shift
			;;
		--out)
			[ $# -ge 2 ] || md_usage_error "--out needs a directory"
			bt_out=$2
			shift
			;;
		--matrix) bt_matrix=1 ;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "boottime: unknown option: $1" ;;
		*)
			[ -z "$bt_target" ] || md_usage_error "boottime: one IMAGE, DIR or tiny"
			bt_target=$1
			;;
		esac
		shift
	done
	need "$QEMU" boottime
	need python3 "boottime (the console timestamper)"
	md_mktemp mdvm
	bt_image=''
	case ${bt_target:-tiny} in
	tiny) bt_dir=$(default_tiny) ;;
	*)
		if [ -f "$bt_target" ] && [ -f "$(built_kernel "$bt_target")" ]; then
			bt_image=$bt_target
			bt_dir=$(default_tiny)
		else
			is_tiny "$bt_target" || md_die "boottime: $bt_target is neither a tiny VM directory (mdvm.sh tiny DIR) nor an image made by build"
			bt_dir=$bt_target
		fi
		;;
	esac
	bt_accel=$(pick_accel "$vm_accel" "$bt_dir/vmlinuz")
	bt_accels=$bt_accel
	if [ -n "$bt_matrix" ] && [ "$bt_accel" = kvm ]; then bt_accels="kvm tcg"; fi
	bt_res=${bt_out:-$md_tmp/out}
	md_root_safe_dir "boottime: --out $bt_res" "$bt_res"
	mkdir -p "$bt_res/logs" || md_die "boottime: cannot create $bt_res"
	md_root_safe_dir "boottime: --out $bt_res" "$bt_res/logs"
	rm -f "$bt_res/logs/"*.log
	echo "config,run,status,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms" >"$bt_res/runs.csv"
	if [ -n "$bt_image" ]; then
		[ -n "${vm_memory:-}" ] || vm_memory=1536
		for bt_a in $bt_accels; do
			for bt_m in ${vm_machine:-q35} ${bt_matrix:+pc}; do
				boot_config "debian-$bt_m-$bt_a" "$bt_m" "$(image_kernel "$bt_image")" "$bt_a" \
					"$(built_initrd "$bt_image")" "$bt_n" "$bt_res" "$bt_image" </dev/null
			done
		done
	else
		boot_configs "$bt_dir" "$vm_machine" "$bt_accels" "$bt_matrix" >"$md_tmp/configs"
	fi
	touch "$md_tmp/configs"
	while read -r bt_name bt_m bt_f bt_a; do
		boot_config "$bt_name" "$bt_m" "$(tiny_kernel "$bt_dir" "$bt_m" "$bt_f")" "$bt_a" \
			"$bt_dir/initrd.cpio" "$bt_n" "$bt_res" </dev/null
	done <"$md_tmp/configs"
	summarize "$bt_res/runs.csv" >"$bt_res/summary.csv"
	print_table "$bt_res/summary.csv"
	[ -n "$bt_out" ] || return 0
	need gnuplot "boottime --out (the plot)"
	plot_summary "$bt_res"
	write_report "$bt_res" "$bt_dir" "$bt_accel"
	md_say "boottime: wrote $bt_res/boottime.md, summary.csv, runs.csv, boottime.png, boottime.svg"
}

# Internal (boottime.sh __qemu ...): the timestamper runs QEMU through
# this, so the QEMU arguments live in one place (tiny_qemu).
cmd_qemu() {
	vm_exec=1
	tiny_qemu "$@" </dev/null
}


case ${1:-} in
__qemu) shift; cmd_qemu "$@" ;;
*) cmd_boottime "$@" ;;
esac
