#!/bin/sh
# Usage: mdbench.sh report DIR
# Summary: rebuild DIR/report.md, DIR/report.html and DIR/plots/ from the
#          data a benchmark left in DIR
#
# Reads only DIR: results.csv, env.txt, calibration.csv, iostat/host.json.
# Prints the report's path. Run by mdbench.sh at the end of a benchmark too.

set -eu
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
MB_LIB=${MB_LIB:-$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)}
# shellcheck source=scripts/mdbench/common.sh disable=SC1091 # linted on its own
. "$MB_LIB/common.sh"

# iostat's samples as columns: iostat-table.awk.
mb_iostat_table() {
	[ -f "$1/iostat/host.json" ] || return 0
	awk -v dev="$(mb_get "$1" iostat.device)" -v t0="$(mb_get "$1" start_epoch)" \
		-v start="$(mb_get "$1" iostat.start_epoch)" -v end="$(mb_get "$1" iostat.end_epoch)" -f "$MB_LIB/iostat-table.awk" "$1/iostat/host.json"
}

# Mean iostat columns over the samples inside env $3's runs of test $2.
mb_iostat_during() {
	awk -F, -v test="$2" -v env="$3" -v t0="$(mb_get "$1" start_epoch)" \
		-f "$MB_LIB/iostat-during.awk" "$1/results.csv" "$1/plots/iostat.dat"
}

# A bar per environment, the mean, with the standard deviation as error bar.
mb_plot_bars() {
	mb_dir=$1 mb_t=$2 mb_ylabel=$3
	mb_stats "$mb_dir" "$mb_t" >"$mb_dir/plots/$mb_t.dat"
	[ -s "$mb_dir/plots/$mb_t.dat" ] || return 0
	gnuplot -c "$MB_LIB/bars.gp" "$mb_dir/plots/$mb_t" "$mb_dir/plots/$mb_t.dat" \
		"sysbench $mb_t: mean of $(mb_get "$mb_dir" param.runs) runs per environment, error bars = 1 standard deviation" \
		"$mb_ylabel" 2>>"$mb_dir/plots/gnuplot.err" ||
		md_warn "gnuplot failed for plots/$mb_t.png and .svg (see plots/gnuplot.err)"
}

# Column $1 of the lines $2, as one line of words.
mb_column() { printf '%s\n' "$2" | cut -d ' ' -f "$1" | tr '\n' ' '; }

# CPU and disk over time during test $2, each run's window shaded and named:
# the samples of that test's period alone (iostat-period.awk).
mb_plot_iostat() {
	mb_dir=$1 mb_t=$2
	rm -f "$mb_dir/plots/iostat-$mb_t.png" "$mb_dir/plots/iostat-$mb_t.svg"
	[ -s "$mb_dir/plots/iostat-$mb_t.dat" ] || return 0
	# Each run of the test: start end env run colour (of its environment).
	mb_marks=$(awk -F, -v test="$mb_t" -v t0="$(mb_get "$mb_dir" start_epoch)" '
		NR > 1 && $2 == test {
			e = $1; if (!(e in c)) c[e] = ++ne
			printf "%.1f %.1f %s %s %s\n", $4 - t0, $5 - t0, e, $3, (c[e] == 1 ? "#2ca02c" : c[e] == 2 ? "#ff7f0e" : c[e] == 3 ? "#1f77b4" : "#d62728")
		}' "$mb_dir/results.csv")
	[ -n "$mb_marks" ] || return 0
	mb_dev=$(mb_get "$mb_dir" iostat.device)
	gnuplot -c "$MB_LIB/iostat.gp" "$mb_dir/plots/iostat-$mb_t" "$mb_dir/plots/iostat-$mb_t.dat" "$mb_t" "${mb_dev:-?}" \
		"$(mb_column 1 "$mb_marks")" "$(mb_column 2 "$mb_marks")" "$(mb_column 3 "$mb_marks")" \
		"$(mb_column 4 "$mb_marks")" "$(mb_column 5 "$mb_marks")" \
		2>>"$mb_dir/plots/gnuplot.err" ||
		md_warn "gnuplot failed for plots/iostat-$mb_t.png and .svg (see plots/gnuplot.err)"
}

mb_report() {
	mb_dir=${1%/}
	mb_is_outdir "$mb_dir" ||
		mb_die "report: $mb_dir has no results.csv and env.txt (not an mdbench.sh output directory)"
	# A student's results, reported by root, would have root write through
	# the links that student may have left in them.
	mb_safe "report: $mb_dir" "$mb_dir" "run report as the directory's owner"
	[ ! -L "$mb_dir/plots" ] || mb_die "report: $mb_dir/plots is a symbolic link"
	mkdir -p "$mb_dir/plots"
	rm -f "$mb_dir/plots/gnuplot.err"
	mb_iostat_table "$mb_dir" >"$mb_dir/plots/iostat.dat"
	for mb_t in cpu fileio; do
		awk -F, -v test="$mb_t" -v t0="$(mb_get "$mb_dir" start_epoch)" -f "$MB_LIB/iostat-period.awk" \
			"$mb_dir/results.csv" "$mb_dir/plots/iostat.dat" >"$mb_dir/plots/iostat-$mb_t.dat"
	done
	if command -v gnuplot >/dev/null 2>&1; then
		mb_plot_bars "$mb_dir" cpu 'events per second (higher is better)'
		mb_plot_bars "$mb_dir" fileio 'MiB/s read + written (higher is better)'
		mb_plot_iostat "$mb_dir" cpu
		mb_plot_iostat "$mb_dir" fileio
	else
		md_warn "report: gnuplot is not installed: no plots (sudo apt-get install gnuplot-nox)"
	fi
	mb_report_md "$mb_dir" >"$mb_dir/report.md"
	awk -f "$MB_LIB/md2html.awk" "$mb_dir/report.md" >"$mb_dir/report.html"
	mb_say "report: $mb_dir/report.md, $mb_dir/report.html"
}

mb_kv() { printf -- '- **%s**: %s\n' "$1" "$(mb_get "$mb_dir" "$2")"; }

mb_report_md() {
	mb_dir=$1
	cat <<EOF
# sysbench: native, minidocker, Docker and a QEMU VM

Made by mdbench.sh $(mb_get "$mb_dir" mdbench.version) on $(mb_get "$mb_dir" date), from the data in this directory (\`mdbench.sh report DIR\` rebuilds it).

## The machine

EOF
	mb_kv host host; mb_kv OS os; mb_kv kernel kernel; mb_kv CPU cpu.model; mb_kv cores cpu.cores
	mb_kv memory memory; mb_kv disk disk; mb_kv sysbench version.sysbench; mb_kv iostat version.sysstat
	mb_kv docker version.docker; mb_kv QEMU version.qemu; mb_kv gnuplot version.gnuplot; mb_kv "run by" user
	printf '\n## Environments\n\n'
	for mb_e in $MB_ENVS_ALL; do
		mb_s=$(mb_get "$mb_dir" "env.$mb_e.status")
		[ -n "$mb_s" ] || continue
		if [ "$mb_s" = ok ]; then
			mb_cg=$(mb_get "$mb_dir" "env.$mb_e.cgroup")
			printf -- '- **%s**: %s. Test files: %s. sysbench %s.%s\n' "$mb_e" \
				"$(mb_get "$mb_dir" "env.$mb_e.setup")" "$(mb_get "$mb_dir" "env.$mb_e.files")" \
				"$(mb_get "$mb_dir" "env.$mb_e.sysbench")" "${mb_cg:+ CPU cgroup: $mb_cg.}"
		else
			printf -- '- **%s**: skipped: %s\n' "$mb_e" "$(mb_get "$mb_dir" "env.$mb_e.reason")"
		fi
	done
	mb_report_params
	for mb_t in cpu fileio; do
		grep -q "^[^,]*,$mb_t," "$mb_dir/results.csv" || continue
		mb_report_test "$mb_t"
	done
	mb_report_iostat
}

mb_report_params() {
	mb_tt=$(mb_get "$mb_dir" param.time)
	printf '\n## Parameters and why\n\n'
	printf 'Every environment runs the same sysbench command with one thread, %s runs each, the environments taking turns run by run (A B C A B C ...) so that drift in the machine favours none of them.\n\n' "$(mb_get "$mb_dir" param.runs)"
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf -- '- **cpu**: `sysbench cpu --threads=1 --cpu-max-prime=%s --events=%s --time=%s run`: a fixed amount of work, as in the sysbench 0.4 of the lab, so the run time itself is a result; the --time is only a cap (10 times the target).\n' \
		"$(mb_get "$mb_dir" param.cpu_max_prime)" "$(mb_get "$mb_dir" param.cpu_events)" "$((mb_tt * 10))"
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf -- '- **fileio**: `sysbench fileio --threads=1 --file-total-size=%s --file-num=%s --file-test-mode=%s --time=%s --events=0 run` after `prepare` in the same environment and directory, `cleanup` after.\n' \
		"$(mb_size_arg "$(mb_get "$mb_dir" param.file_total_size)")" "$(mb_get "$mb_dir" param.file_num)" \
		"$(mb_get "$mb_dir" param.file_test_mode)" "$mb_tt"
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	case $(mb_get "$mb_dir" param.cache) in
	dropped) printf -- '- **page cache**: run as root, so before every fileio run the host did `sync; echo 3 > /proc/sys/vm/drop_caches` (the VM does the same inside the guest): each run starts from the disk, not from memory.\n' ;;
	direct) printf -- '- **page cache**: fileio used `--file-extra-flags=direct` (O_DIRECT), bypassing the page cache: %s.\n' "$(mb_get "$mb_dir" param.cache_reason)" ;;
	*) printf -- '- **page cache**: NOT dropped and no direct I/O (%s): fileio numbers may come from memory.\n' "$(mb_get "$mb_dir" param.cache_reason)" ;;
	esac
	[ "$(mb_get "$mb_dir" param.quick)" != 1 ] ||
		printf -- '- **--quick**: tiny parameters to test the harness in seconds; these numbers say little about the machine.\n'
	mb_lim=$(mb_get "$mb_dir" param.limits)
	printf -- '- **limits**: %s\n' "${mb_lim:-none: every environment may use every CPU and all memory}"
	if [ "$(mb_get "$mb_dir" param.calibrated)" = 1 ] && [ -f "$mb_dir/calibration.csv" ]; then
		printf '\n### Calibration\n\n'
		[ -z "$(mb_get "$mb_dir" calibration.cpu)" ] || printf -- '- %s\n' "$(mb_get "$mb_dir" calibration.cpu)"
		[ -z "$(mb_get "$mb_dir" calibration.fileio)" ] || printf -- '- %s\n' "$(mb_get "$mb_dir" calibration.fileio)"
		printf '\n| test | probe | parameter | value | seconds | rate | unit |\n|---|---|---|---|---|---|---|\n'
		awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$mb_dir/calibration.csv"
	else
		# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
		printf -- '- **not calibrated**: `--calibrate` measures this machine and picks --cpu-max-prime and --file-total-size for 30-60 s runs.\n'
	fi
}

mb_report_test() {
	mb_t=$1
	if [ "$mb_t" = cpu ]; then mb_unit="events/s"; else mb_unit="MiB/s (read + written)"; fi
	printf '\n## %s\n\n### Every run\n\n' "$mb_t"
	if [ "$mb_t" = cpu ]; then
		printf '| environment | run | status | events/s | total time (s) | events | latency avg (ms) | p95 (ms) |\n|---|---|---|---|---|---|---|---|\n'
		awk -F, 'NR > 1 && $2 == "cpu" { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $6, $8, $9, $10, $11, $12 }' "$mb_dir/results.csv"
	else
		printf '| environment | run | status | read MiB/s | written MiB/s | reads/s | writes/s | fsyncs/s | cache | filesystem |\n|---|---|---|---|---|---|---|---|---|---|\n'
		awk -F, 'NR > 1 && $2 == "fileio" { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $6, $16, $17, $13, $14, $15, $18, $19 }' "$mb_dir/results.csv"
	fi
	printf '\n### Summary: %s\n\n' "$mb_unit"
	printf '| environment | runs | mean ± sd | min | max | CV | overhead vs native |\n|---|---|---|---|---|---|---|\n'
	mb_stats "$mb_dir" "$mb_t" | awk -v vmacc="$(mb_get "$mb_dir" env.vm.accel)" -f "$MB_LIB/summary.awk"
	if [ "$mb_t" = cpu ]; then
		awk -F, -v t="$(mb_get "$mb_dir" param.time)" 'NR > 1 && $1 == "native" && $2 == "cpu" && $6 == "ok" { s += $9; n++ }
			END { if (n && (s / n < 30 || s / n > 60)) printf "\nA native cpu run lasted %.2f s on average, outside the 30-60 s the lab asks for: use --calibrate for a full run.\n", s / n }' "$mb_dir/results.csv"
	fi
	mb_failed=$(awk -F, -v t="$mb_t" 'NR > 1 && $2 == t && $6 != "ok"' "$mb_dir/results.csv" | wc -l)
	[ "$mb_failed" = 0 ] || printf '\n%s run(s) failed: their sysbench output is in raw/.\n' "$mb_failed"
	[ ! -f "$mb_dir/plots/$mb_t.png" ] || printf '\n![%s: mean and standard deviation per environment](plots/%s.png)\n' "$mb_t" "$mb_t"
}

mb_report_iostat() {
	printf '\n## What iostat saw on the host\n\n'
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf 'Command: `%s`, on the host for the whole benchmark. Not in the containers: they share the host kernel, so iostat there would show the same host-wide counters (when the image has it at all); a VM would see only its virtual CPUs and disk. Only the host sees the real disk that every environment'"'"'s I/O lands on, and the host CPU that every environment uses.\n\n' \
		"$(mb_get "$mb_dir" iostat.command)"
	if [ ! -s "$mb_dir/plots/iostat.dat" ]; then
		printf 'No iostat samples were recorded.\n'
		return 0
	fi
	mb_cores=$(mb_get "$mb_dir" cpu.cores)
	printf 'Means over the samples inside each environment'"'"'s runs (disk %s):\n\n' "$(mb_get "$mb_dir" iostat.device)"
	printf '| test | environment | samples | %%user | %%system | %%iowait | %%idle | r/s | w/s | rkB/s | wkB/s | %%util |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n'
	for mb_t in cpu fileio; do
		for mb_e in $MB_ENVS_ALL; do
			grep -q "^$mb_e,$mb_t," "$mb_dir/results.csv" || continue
			mb_io=$(mb_iostat_during "$mb_dir" "$mb_t" "$mb_e")
			[ "$mb_io" != - ] || continue
			# shellcheck disable=SC2086 # $mb_io is a list of numbers
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$mb_t" "$mb_e" $mb_io
			echo "$mb_t $mb_e $mb_io" >>"$mb_dir/plots/iostat-means.tmp"
		done
	done
	printf '\n'
	if [ -f "$mb_dir/plots/iostat-means.tmp" ]; then
		awk -v cores="$mb_cores" -v results="$mb_dir/results.csv" -f "$MB_LIB/iostat-notes.awk" \
			"$mb_dir/plots/iostat-means.tmp"
		rm -f "$mb_dir/plots/iostat-means.tmp"
	fi
	for mb_t in cpu fileio; do
		if [ -f "$mb_dir/plots/iostat-$mb_t.png" ]; then
			printf '\n![host CPU and disk during the %s test](plots/iostat-%s.png)\n' "$mb_t" "$mb_t"
		elif grep -q "^[^,]*,$mb_t," "$mb_dir/results.csv" && [ ! -s "$mb_dir/plots/iostat-$mb_t.dat" ]; then
			awk -F, -v test="$mb_t" 'NR > 1 && $2 == test { if (lo == "" || $4 < lo) lo = $4; if ($5 > hi) hi = $5 }
				END { printf "\nNo plot of the %s test: its runs took %.1f s from the first start to the last end, and no iostat sample (one a second) lies mostly within them.\n", test, hi - lo }' \
				"$mb_dir/results.csv"
		fi
	done
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf '\nThe data: `results.csv` (one row per run, start and end as Unix time), `iostat/host.json`, `env.txt`, `raw/` (each sysbench output), `plots/*.dat` (what the plots show).\n'
}

main() {
	case ${1-} in -h | --help) md_help "$0"; exit 0 ;; esac
	[ $# -eq 1 ] || md_usage_error "report: name one output directory"
	mb_report "$1"
	printf '%s\n' "${1%/}/report.md"
}

main "$@"
