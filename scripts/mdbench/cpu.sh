# cpu.sh: the cpu benchmark, one run of `sysbench cpu` in one environment.
# Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

mb_cpu_args() {
	echo "cpu --threads=1 --cpu-max-prime=$mb_prime --events=$mb_events --time=$((mb_time * 10))"
}

mb_run_cpu() {
	mb_env=$1 mb_i=$2
	mb_raw=$mb_out/raw/$mb_env-cpu-$mb_i.txt
	mb_t_start=$(mb_now)
	mb_rc=0
	# shellcheck disable=SC2046 # mb_cpu_args prints option words
	mb_env_exec_"$mb_env" "$mb_raw" "cpu run $mb_i/$mb_runs $mb_env" "$mb_expect_cpu" \
		sysbench $(mb_cpu_args) run || mb_rc=$?
	mb_t_end=$(mb_now)
	mb_st=ok
	[ "$mb_rc" = 0 ] || mb_st="failed(exit $mb_rc)"
	mb_record "$mb_env" cpu "$mb_i" "prime=$mb_prime events=$mb_events" "$mb_st" n/a -
}
