# iostat.sh: iostat on the host for the whole benchmark. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# iostat on the host for the whole run: containers share the host kernel and
# its counters, a VM sees only virtual devices; the real disk is out here.
mb_iostat_start() {
	mkdir -p "$mb_out/iostat"
	# With -y, sample k covers the k-th second after this moment: the
	# report places each sample by it (iostat's timestamps are whole seconds).
	mb_set iostat.start_epoch "$(mb_now)"
	# shellcheck disable=SC2086 # $mb_disks is a list of device names, split on purpose
	TZ=UTC0 S_TIME_FORMAT=ISO setsid iostat -c -d -x -y -t -o JSON 1 $mb_disks \
		>"$mb_out/iostat/host.json" 2>"$mb_out/iostat/iostat.err" </dev/null &
	mb_iostat=$!
	mb_set iostat.command "iostat -c -d -x -y -t -o JSON 1 $mb_disks"
	mb_set iostat.device "${mb_disks%% *}"
}

# After the last run: one more sample, of the time since the last one, so
# that the end of the last run is not lost (iostat stopped by SIGINT drops
# the second it is in). SIGALRM is iostat's own timer signal: it takes that
# sample at once, its rates over the part of a second it covers. The
# report places it at iostat.end_epoch.
mb_iostat_flush() {
	[ -n "$mb_iostat" ] || return 0
	mb_n=$(grep -c '"timestamp"' "$mb_out/iostat/host.json") || true
	mb_set iostat.end_epoch "$(mb_now)"
	kill -ALRM "$mb_iostat" 2>/dev/null || return 0
	mb_deadline=$(($(date +%s) + 2))
	while [ "$(grep -c '"timestamp"' "$mb_out/iostat/host.json")" -le "$mb_n" ]; do
		kill -0 "$mb_iostat" 2>/dev/null && [ "$(date +%s)" -le "$mb_deadline" ] || return 0
		sleep 0.01
	done
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
