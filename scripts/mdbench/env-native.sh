# env-native.sh: sysbench run directly on the host. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

mb_env_setup_native() {
	mb_native_dir=$mb_work/native-fileio
	mkdir -p "$mb_native_dir"
	mb_native_pin=
	[ -z "$mb_cpus" ] || mb_native_pin="taskset -c 0-$((mb_cpus - 1))"
	mb_set env.native.setup "sysbench $(mb_sysbench_version) run directly on the host${mb_native_pin:+ under $mb_native_pin}"
	mb_set env.native.files "$mb_native_dir on the host's $(mb_fs_of "$mb_native_dir") (${mb_native_disk:-no block device})"
	mb_set env.native.sysbench "$(mb_sysbench_version)"
	mb_set env.native.cgroup "$(mb_cpu_cgroup $$)"
}

mb_env_exec_native() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	# shellcheck disable=SC2086,SC2016 # $mb_native_pin is empty or "taskset -c LIST"; $1 and $@ are the inner shell's
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		sh -c 'cd "$1" && shift && exec "$@"' sh "$mb_native_dir" $mb_native_pin "$@"
}

mb_env_hostdir_native() { echo "$mb_native_dir"; }

mb_env_teardown_native() { [ -z "$mb_native_dir" ] || rm -rf "$mb_native_dir"; }
