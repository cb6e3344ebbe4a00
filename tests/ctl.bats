#!/usr/bin/env bats
# The container lifecycle as students see it: mdrun.sh -d, mdctl.sh ps,
# exec, stats, stop, kill, logs and gc, run by two unprivileged test users,
# and what one student can do to another's containers (nothing: SECURITY.md
# 27-28).

load helper
bats_require_minimum_version 1.5.0

CGNAME=$MDT_CGNAME

setup() {
	default_conf
	mountinfo_before=$(cat /proc/self/mountinfo)
}

teardown() {
	stop_containers mdtest1
	stop_containers mdtest2
	for p in $(test_helpers mdtest1) $(test_helpers mdtest2); do kill -KILL "$p" 2>/dev/null || true; done
	"$MDT_HELPER" gc 2>/dev/null || true
	rm -rf /home/mdtest1/.local/state /home/mdtest2/.local/state
}

# A detached container of the test user's, running COMMAND (default loop).
detached() {
	local name=$1
	shift
	as_user mdrun.sh -d -n "$name" -- "${@:-/home/loop}"
}

# Wait until mdtest1's container NAME is gone from ps.
wait_gone() {
	wait_for 30 not_listed "$1"
}

not_listed() {
	! ctl ps | grep -q "^$1 "
}

# Every cgroup directory of container ID, in each hierarchy.
cgroups_of() {
	ls -d /sys/fs/cgroup/*/"$CGNAME/$1" /sys/fs/cgroup/"$CGNAME/$1" 2>/dev/null || true
}

@test "mdrun.sh -d prints the container's name and returns while it runs" {
	run detached web
	assert_status 0
	assert_output "web"
	pgrep -u mdtest1 -x loop >/dev/null
}

@test "a container without -n gets the first free md-USER-N" {
	run as_user mdrun.sh -d -- /home/loop
	assert_output "md-mdtest1-1"
	run as_user mdrun.sh -d -- /home/loop
	assert_output "md-mdtest1-2"
}

@test "a name that is taken or malformed is refused" {
	detached web
	run detached web
	assert_status 125
	assert_output "mdhelper: the name web is in use by another container"
	run as_user mdrun.sh -d -n Web -- true
	assert_status 125
	assert_output "mdhelper: invalid name: Web (a-z, 0-9, _ . -, at most 63 characters)"
	run as mdtest2 mdrun.sh -d -n web -- true
	assert_status 125
	assert_output "mdhelper: the name web is in use by another container"
}

@test "ps lists the caller's running containers with their limits" {
	detached web
	run ctl ps
	assert_status 0
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^NAME\ +PID\ +HOSTNAME\ +IP\ +MEMORY\ +CPUSET\ +UPTIME\ +COMMAND$ ]]
	[[ "${lines[1]}" =~ ^web\ +[0-9]+\ +administrator\ +-\ +10M\ +[0-9]\ +[0-9]+s\ +/home/loop$ ]]
	pid=$(echo "${lines[1]}" | awk '{print $2}')
	[ "$(cat /proc/"$pid"/comm)" = loop ]
}

@test "ps --format json prints one object per container" {
	detached web
	as_user mdrun.sh -d -n db --hostname db1 -- sleep 60
	run ctl ps --format json
	assert_status 0
	[ "${#lines[@]}" -eq 2 ]
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^\{\"name\":\"(web|db)\",\"owner\":\"mdtest1\",\"uid\":[0-9]+,\"pid\":[0-9]+, ]]
	done
	assert_output_contains '"hostname":"db1","ip":null,"memory":10485760,"cpus":"'
	assert_output_contains '"detached":true,"command":"sleep 60"}'
	if command -v python3 >/dev/null; then
		echo "$output" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]'
	fi
}

@test "ps shows a student only their own containers; root sees all, with the owner" {
	detached web
	as mdtest2 mdrun.sh -d -n other -- /home/loop
	run as mdtest2 mdctl.sh ps
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == other* ]]
	run "$MDT_BIN/mdctl.sh" ps
	[[ "${lines[0]}" =~ ^OWNER\ +NAME ]]
	assert_output_contains "mdtest1"
	assert_output_contains "mdtest2"
}

@test "exec runs inside: same PID 1, hostname, root user and network" {
	as_user mdrun.sh -d -n web -H lab1 -- /home/loop
	run ctl exec web -- hostname
	assert_output "lab1"
	run ctl exec web -- cat /proc/1/comm
	assert_output "loop"
	run ctl exec web -- id
	assert_output "uid=0(root) gid=0(root)"
	run ctl exec web -- ps -ef
	[[ "${lines[1]}" =~ ^\ *1\ root\ .*/home/loop ]]
	run ctl exec web -- sh -c 'ls /sys/class/net'
	assert_output "lo"
}

@test "exec passes the command's exit status and names a missing command" {
	detached web
	run ctl exec web -- sh -c 'exit 7'
	assert_status 7
	run -127 ctl exec web -- nosuchcommand
	assert_status 127
	assert_output "mdhelper: nosuchcommand: command not found"
	run ctl exec -e GREETING=hi -w /home web -- sh -c 'echo $GREETING; pwd'
	assert_output "$(printf 'hi\n/home')"
}

@test "what exec runs is in the container's cgroup and keeps its limits" {
	detached web
	ctl exec web -- sleep 30 &
	wait_for 30 pgrep -u mdtest1 -x sleep >/dev/null
	pid=$(pgrep -u mdtest1 -x sleep)
	for d in $(cgroups_of web); do
		grep -qx "$pid" "$d/cgroup.procs"
	done
	run ctl exec web -- sh -c 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'
	assert_output "$(printf 'CapEff:\t00000000a80425fb\nNoNewPrivs:\t1')"
	kill %1 2>/dev/null || true
}

@test "what exec runs may use the container's CPUs that the caller's affinity allows" {
	require taskset
	cpus=$(sed -n 's/^Cpus_allowed_list:\t//p' /proc/self/status)
	[ "$cpus" = 0-1 ] || skip "needs CPUs 0-1 (this machine: $cpus)"
	as_user mdrun.sh -d -n web --cpus 2 -- /home/loop
	# The helper runs on one CPU while it hands over to the command: that
	# pin must not reach the command.
	run ctl exec web -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t0-1')"
	run as_user taskset -c 1 mdctl.sh exec web -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t1')"
	as_user mdrun.sh -d -n one --cpuset-cpus 1 -- /home/loop
	run as_user taskset -c 0 mdctl.sh exec one -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t1')"
}

@test "exec gives a terminal when it has one" {
	require script
	detached web
	run as_user script -qec "mdctl.sh exec -it web -- tty" /dev/null
	assert_output_contains "/dev/pts/0"
}

@test "exec, kill, stop and stats on another student's container read as no such container" {
	detached web
	for cmd in "exec web -- true" "kill web" "stop web" "stats web" "exec nosuch -- true" "kill nosuch"; do
		# shellcheck disable=SC2086 # the words of cmd are meant to split
		run as mdtest2 mdctl.sh $cmd
		assert_status 125
		assert_output "mdhelper: no such container: $(echo "$cmd" | awk '{print $2}')"
	done
	pgrep -u mdtest1 -x loop >/dev/null
}

@test "stats shows memory, limit, CPU, pids and OOM kills from the cgroup" {
	detached web
	run ctl stats web
	echo "$output"
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +MEMORY\ +LIMIT\ +MEM\ %\ +PEAK\ +CPU\ %\ +PIDS\ +OOM\ KILLS$ ]]
	[[ "${lines[1]}" =~ ^web\ +[0-9.]+[KMG]?\ +10M\ +[0-9.]+%\ +[0-9.]+[KMG]?\ +([0-9.]+)%\ +1/[0-9]+\ +0$ ]]
	# loop spins: it uses a good part of its one CPU.
	cpu=${BASH_REMATCH[1]}
	[ "${cpu%.*}" -ge 5 ]
	run ctl stats --format json web
	[[ "$output" =~ ^\{\"name\":\"web\",\"memory_bytes\":[0-9]+,\"memory_limit_bytes\":10485760,\"memory_peak_bytes\":[0-9]+,\"cpu_percent\":[0-9.]+,\"cpu_ns\":[0-9]+,\"pids\":1,\"pids_limit\":[0-9]+,\"oom_kills\":0\}$ ]]
}

@test "stats without a name shows each of the caller's containers, and only theirs" {
	detached web
	detached db
	as mdtest2 mdrun.sh -d -n other -- /home/loop
	run ctl stats
	assert_status 0
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^NAME\ +MEMORY ]]
	[ "$(printf '%s\n' "${lines[@]:1}" | awk '{ print $1 }' | sort | tr '\n' ' ')" = "db web " ]
	run ctl stats --format json
	[ "${#lines[@]}" -eq 2 ]
	run as mdtest2 mdctl.sh stats
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "other "* ]]
}

@test "stats counts the out-of-memory kills of a container" {
	detached web /bin/sh -c 'while :; do sleep 1; done'
	run ctl exec web -- /home/mem 64
	[ "$status" -ne 0 ]
	run ctl stats --format json web
	assert_output_contains '"oom_kills":1}'
}

@test "stop ends a container that ignores SIGTERM at the deadline and leaves nothing" {
	detached web
	run ctl stop -t 1 web
	assert_status 0
	assert_output "web"
	refute pgrep -u mdtest1 -x loop
	run ctl ps
	[ "${#lines[@]}" -eq 1 ]
	[ -z "$(cgroups_of web)" ]
	registry_empty
}

@test "kill sends the signal to PID 1, which may handle it" {
	detached web sh -c 'trap "echo got TERM; exit 3" TERM; while :; do sleep 0.2; done'
	run ctl kill -s TERM web
	assert_output "web"
	wait_gone web
	run ctl logs web
	assert_output "got TERM"
	run ctl kill -s BOGUS web
	assert_status 125
}

@test "logs prints what a detached container wrote, also after it ended" {
	detached hello sh -c 'echo out; echo err >&2'
	wait_gone hello
	run ctl logs hello
	assert_output "$(printf 'out\nerr')"
	log=/home/mdtest1/.local/state/minidocker/logs/hello.log
	[ "$(stat -c '%U %a' "$log")" = "mdtest1 600" ]
}

@test "logs -f follows until the container ends" {
	detached ticker sh -c 'for i in 1 2 3; do echo $i; sleep 0.3; done'
	run timeout 20 bash -c "runuser -u mdtest1 -- env HOME=/home/mdtest1 PATH=$MDT_BIN:/usr/bin:/bin mdctl.sh logs -f ticker"
	assert_status 0
	assert_output "$(printf '1\n2\n3')"
}

@test "logs -f of a name with a dot follows that container, not a look-alike" {
	detached axb
	detached a.b sh -c 'echo one; sleep 0.5'
	run timeout 20 bash -c "runuser -u mdtest1 -- env HOME=/home/mdtest1 PATH=$MDT_BIN:/usr/bin:/bin mdctl.sh logs -f a.b"
	assert_status 0
	assert_output "one"
}

@test "a detached command that cannot run fails at once with its status" {
	run -127 as_user mdrun.sh -d -n bad -- /nosuch
	assert_status 127
	assert_output "mdhelper: /nosuch: command not found"
	registry_empty
}

@test "a log path through a symbolic link is refused and nothing is written through it" {
	logs=/home/mdtest1/.local/state/minidocker/logs
	as_user mkdir -p "$logs"
	as_user ln -s /home/mdtest1/target "$logs/web.log"
	run detached web
	assert_status 125
	assert_output_contains "mdhelper: log $logs/web.log: cannot create it"
	[ ! -e /home/mdtest1/target ]
	as_user rm "$logs/web.log"
	as_user ln -s /root "$logs/../logs2"
	run as_user env XDG_STATE_HOME=/home/mdtest1/.local/state/minidocker/logs2 mdrun.sh -d -n web -- true
	assert_status 125
	registry_empty
}

@test "a detached container's monitor is mdmonitor, static, in the helper's own process" {
	local monitor pid
	detached web
	# The registry names the process that started the container: the
	# monitor, now mdmonitor, and PID 1 is still its child.
	read -r _ monitor _ <"$MDT_RUN/containers/web"
	[ "$(readlink "/proc/$monitor/exe")" = "$MDT_LIBEXEC/mdmonitor" ]
	[ "$(cat "/proc/$monitor/comm")" = mdmonitor ]
	pid=$(ctl ps --format json | sed 's/.*"pid":\([0-9]*\),.*/\1/')
	[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$monitor" ]
	# No shared library: nothing of libc or libcap-ng mapped.
	refute grep -q '\.so' "/proc/$monitor/maps"
	[ ! -u "$MDT_LIBEXEC/mdmonitor" ]
	# It cleans up as the helper did.
	run ctl stop -t 1 web
	assert_status 0
	wait_for 30 test ! -e "/proc/$monitor"
	[ -z "$(cgroups_of web)" ]
	registry_empty
}

@test "kill -9 of a detached container's monitor, then gc, leaves nothing anywhere" {
	detached web
	read -r _ helper _ <"$MDT_RUN/containers/web"
	pid=$(ctl ps --format json | sed 's/.*"pid":\([0-9]*\),.*/\1/')
	kill -KILL "$helper"
	# PDEATHSIG takes the container with its helper.
	wait_for 30 test ! -e "/proc/$pid"
	[ -n "$(cgroups_of web)" ] # what the killed helper could not remove
	ctl gc
	[ -z "$(cgroups_of web)" ]
	registry_clean
	refute user_runs mdtest1
	mounts_unchanged
	run ctl ps
	[ "${#lines[@]}" -eq 1 ]
}

@test "an exec'd command dies with its helper" {
	detached web
	ctl exec web -- sleep 60 &
	wait_for 30 pgrep -u mdtest1 -x sleep >/dev/null
	sleep_pid=$(pgrep -u mdtest1 -x sleep)
	pkill -KILL -U mdtest1 -f 'mdhelper exec'
	wait_for 30 test ! -e "/proc/$sleep_pid"
	pgrep -u mdtest1 -x loop >/dev/null
}

@test "a registry forged in a user's own mount namespace is never trusted" {
	require unshare
	detached web
	# The user's own namespaces: the setuid bit means nothing in there.
	run as_user unshare -Urm sh -c "mount -t tmpfs none $MDT_RUN 2>/dev/null; $MDT_HELPER ps"
	assert_status 125
	assert_output "mdhelper: must run in the host's user namespace, not under unshare or in a container"
	# Nor can a user write where the registry is.
	run as_user sh -c "echo '$(id -u mdtest1) 1 1 -' > $MDT_RUN/containers/fake"
	[ "$status" -ne 0 ]
}

@test "mdctl.sh and each command explain themselves with --help" {
	run ctl --help
	assert_status 0
	assert_output_contains "Usage: mdctl.sh COMMAND"
	for verb in ps exec stats stop kill logs gc check; do
		run ctl "$verb" --help
		assert_status 0
		assert_output_contains "Usage: mdctl.sh $verb"
	done
	run ctl frobnicate
	assert_status 2
	assert_output "$(printf "mdctl.sh: unknown command: frobnicate\nTry 'mdctl.sh --help' for more information.")"
}

@test "30 students starting 3 containers each at once get distinct names or a clear refusal" {
	users=()
	for i in $(seq -w 1 30); do
		u=mdc$i
		id "$u" >/dev/null 2>&1 || useradd --no-create-home --home-dir /nonexistent -G mdtestgrp "$u"
		users+=("$u")
	done
	logs=$(mktemp -d /tmp/mdc-logs.XXXXXX)
	chmod 755 "$logs"
	echo "$logs" > "$BATS_FILE_TMPDIR/logs"
	for u in "${users[@]}"; do
		# A log directory must be the student's own (SECURITY.md 34).
		install -d -o "$u" -m 700 "$logs/$u"
		for n in 1 2 3 4; do
			runuser -u "$u" -- env PATH="$MDT_BIN:/usr/bin:/bin" HOME=/nonexistent \
				"$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" \
				--net none --memory 10485760 --cpus 1 --detach "$logs/$u" \
				-- sleep 120 > "$BATS_TEST_TMPDIR/$u.$n" 2>&1 &
		done
	done
	wait || true
	# 3 each (containers=3), the 4th refused with the quota's message.
	for u in "${users[@]}"; do
		names=$(cat "$BATS_TEST_TMPDIR/$u".* | grep -c "^md-$u-[1-4]$" || true)
		refused=$(cat "$BATS_TEST_TMPDIR/$u".* | grep -c "^mdhelper: you already run 3 containers, your limit" || true)
		[ "$names" -eq 3 ] && [ "$refused" -eq 1 ] || { cat "$BATS_TEST_TMPDIR/$u".*; return 1; }
	done
	[ "$("$MDT_HELPER" ps --json | wc -l)" -eq 90 ]
	[ "$("$MDT_HELPER" ps --json | sed 's/.*"name":"\([^"]*\)".*/\1/' | sort -u | wc -l)" -eq 90 ]
}

teardown_file() {
	for u in $(seq -f 'mdc%02g' 1 30); do
		pkill -KILL -u "$u" 2>/dev/null || true
	done
	wait_for 30 no_test_helpers || true
	for u in $(seq -f 'mdc%02g' 1 30); do
		id "$u" >/dev/null 2>&1 && userdel "$u" 2>/dev/null
	done
	[ ! -f "$BATS_FILE_TMPDIR/logs" ] || rm -rf "$(cat "$BATS_FILE_TMPDIR/logs")"
	return 0
}
