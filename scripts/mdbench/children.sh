# children.sh: mdbench.sh's children, signals and cleanup. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# Run "$@" in the background in a session of its own, output to $1, and wait
# for it. Its own session: Ctrl-C reaches only us, and the EXIT trap can stop
# the whole tree (docker client, mdrun.sh + helper, qemu) with one kill.
# Prints progress ($2, expected seconds $3) on a terminal. Returns its status.
mb_spawn() {
	mb_sp_out=$1 mb_sp_label=$2 mb_sp_expect=$3
	shift 3
	setsid "$@" >"$mb_sp_out" 2>&1 </dev/null &
	mb_child=$!
	if [ -t 2 ]; then
		mb_ticker_start "$mb_sp_label" "$mb_sp_expect"
	fi
	mb_sp_rc=0
	wait "$mb_child" || mb_sp_rc=$?
	mb_child=
	mb_ticker_stop
	return "$mb_sp_rc"
}

# A separate ticker process prints elapsed/expected time each second, so the
# shell itself stays in `wait`, where a signal interrupts it at once.
mb_ticker_start() {
	(
		t0=$(date +%s)
		while :; do
			printf '\r%s: %s  %ss / ~%ss ' "$PROG" "$1" $(($(date +%s) - t0)) "$2" >&2
			sleep 1
		done
	) &
	mb_ticker=$!
}
mb_ticker_stop() {
	[ -n "$mb_ticker" ] || return 0
	kill "$mb_ticker" 2>/dev/null || true
	wait "$mb_ticker" 2>/dev/null || true
	mb_ticker=
	printf '\r\033[K' >&2
}

mb_on_signal() {
	mb_interrupted=1
	exit 130
}

# The EXIT trap: stop what runs, remove test files and containers, keep data.
mb_cleanup() {
	mb_rc=$?
	trap - EXIT INT TERM HUP
	mb_ticker_stop
	if [ -n "$mb_child" ]; then
		kill -s TERM -- "-$mb_child" 2>/dev/null || kill -TERM "$mb_child" 2>/dev/null || true
		wait "$mb_child" 2>/dev/null || true
		mb_child=
	fi
	mb_env_teardown_all
	mb_iostat_stop
	[ -z "$mb_work" ] || rm -rf "$mb_work"
	# --calibrate-only without --out: its scratch results directory.
	[ -z "$mb_out_tmp" ] || rm -rf "$mb_out_tmp"
	# A step's scratch output; each finished run's own output stays in raw/.
	[ -z "$mb_out" ] || rm -f "$mb_out"/raw/*.prepare "$mb_out"/raw/*.cleanup "$mb_out"/raw/*.fs
	if [ "$mb_interrupted" = 1 ] && [ -n "$mb_out" ]; then
		md_warn "interrupted: the data so far is in $mb_out (\`$PROG report $mb_out\` builds its report)"
	fi
	exit "$mb_rc"
}
