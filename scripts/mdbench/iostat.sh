# iostat.sh: iostat on the host for the whole benchmark. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources


# iostat on the host for the whole run: containers share the host kernel and
# its counters, a VM sees only virtual devices; the real disk is out here.
mb_iostat_start() {
	mkdir -p "$mb_out/iostat"
	# shellcheck disable=SC2086 # $mb_disks is a list of device names, split on purpose
	TZ=UTC0 S_TIME_FORMAT=ISO setsid iostat -c -d -x -y -t -o JSON 1 $mb_disks \
		>"$mb_out/iostat/host.json" 2>"$mb_out/iostat/iostat.err" </dev/null &
	mb_iostat=$!
	mb_set iostat.command "iostat -c -d -x -y -t -o JSON 1 $mb_disks"
	mb_set iostat.device "${mb_disks%% *}"
}

# SIGINT makes iostat close its JSON document; a killed one is closed here.
mb_iostat_stop() {
	[ -n "$mb_iostat" ] || return 0
	kill -INT "$mb_iostat" 2>/dev/null || true
	wait "$mb_iostat" 2>/dev/null || true
	mb_iostat=
	if ! tail -n 1 "$mb_out/iostat/host.json" | grep -q '^}}'; then
		printf '\n\t\t\t]\n\t\t}\n\t]\n}}\n' >>"$mb_out/iostat/host.json"
	fi
}
