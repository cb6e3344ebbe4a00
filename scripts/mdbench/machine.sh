# machine.sh: the machine and the parameters, into env.txt. Sourced by
# bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# key=value lines: the last one wins, so a later step can correct an earlier.
mb_set() { printf '%s=%s\n' "$1" "$2" >>"$mb_out/env.txt"; }

mb_describe_machine() {
	mb_set mdbench.version "$MB_VERSION"
	mb_set date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	mb_set start_epoch "$(mb_now)"
	mb_set host "$(uname -n)"
	mb_set os "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
	mb_set kernel "$(uname -sr)"
	mb_set cpu.model "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	mb_set cpu.cores "$(nproc)"
	mb_set memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	mb_set memory_bytes "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)"
	if [ -n "$mb_native_disk" ]; then
		mb_d=/sys/block/$mb_native_disk
		mb_set disk "$mb_native_disk, $(awk '{ printf "%.1f GiB", $1 * 512 / 1073741824 }' "$mb_d/size" 2>/dev/null), $(if [ "$(cat "$mb_d/queue/rotational" 2>/dev/null)" = 1 ]; then echo rotational; else echo non-rotational; fi)$(sed 's/^/, /;s/ *$//' "$mb_d/device/model" 2>/dev/null)"
	fi
	mb_set version.sysbench "$(sysbench --version 2>/dev/null)"
	mb_set version.sysstat "$(iostat -V 2>&1 | awk 'NR == 1')"
	mb_set version.gnuplot "$(gnuplot --version 2>/dev/null)"
	mb_v=$(docker version --format '{{.Server.Version}}' 2>/dev/null) || mb_v="no daemon answers"
	mb_set version.docker "$(docker --version 2>/dev/null || echo 'not installed'); server: $mb_v"
	mb_set version.qemu "$(qemu-system-x86_64 --version 2>/dev/null | awk 'NR == 1' || true)"
	mb_set user "$(id -un) (uid $(id -u))"
}

mb_record_params() {
	mb_set param.tests "$mb_tests"
	mb_set param.runs "$mb_runs"
	mb_set param.cpu_max_prime "$mb_prime"
	mb_set param.cpu_events "$mb_events"
	mb_set param.time "$mb_time"
	mb_set param.file_total_size "$mb_size"
	mb_set param.file_num "$mb_filenum"
	mb_set param.file_test_mode "$mb_mode"
	mb_set param.cache "$mb_cache"
	mb_set param.cache_reason "$mb_cache_reason"
	mb_set param.quick "$mb_quick"
	mb_set param.calibrated "$mb_calibrate"
	mb_set param.limits "${mb_cpus:+cpus=$mb_cpus }${mb_memory:+memory=$mb_memory}"
}
