#!/usr/bin/env bats
# The setuid helper under a hostile student (issue 14, SECURITY.md 38-43):
# each test is an attack a member of the test group mounts from their own
# account against the installed test helper, with the static programs of
# tests/attack/ (installed in $MDT_ROOT/libexec/minidocker/test), and asserts
# that nothing got through and that nothing was left behind: no registry
# entry or lease, no port on the bridge, no cgroup in any hierarchy, no
# process. The attacks that tests/security.bats makes (SECURITY.md 12-37:
# hostile environment and arguments, symlink races, /proc peeking, forged
# registries, TIOCSTI...) are not repeated here.
#
# mdtest1 is the attacker, mdtest2 another student whose work must not be
# delayed or touched. Root stands in for the administrator: it holds the
# registry lock, plants what killed helpers leave, delegates a freezer
# cgroup, and watches root's children with `catch`.

load helper
bats_require_minimum_version 1.5.0

BRIDGE=mdta0
NET=10.89.0
T=$MDT_ROOT/libexec/minidocker/test
ROOTFS=$MDT_SYSROOTFS/default
FREEZER=/sys/fs/cgroup/freezer/minidocker-attack
# The ports of this file's bridge (assert_nothing_left looks at these).
MDT_PORTS=mdv010089
BUSY="mdhelper: minidocker is busy (another start or clean-up holds $MDT_ROOT/run/lock): try again"

setup_file() {
	net_conf
	"$MDT_BIN/mdnet.sh" up --config "$MDT_CONF" >/dev/null
}

teardown_file() {
	"$MDT_BIN/mdnet.sh" down --config "$MDT_CONF" >/dev/null || true
}

setup() {
	net_conf
	[ -x "$T/hostile" ] || skip "the attack programs are not installed (make test-install)"
	# Up again if anything took it down meanwhile (the machine is shared).
	[ -d "/sys/class/net/$BRIDGE/bridge" ] || "$MDT_BIN/mdnet.sh" up --config "$MDT_CONF" >/dev/null
	PIDS=$BATS_TEST_TMPDIR/pids
	: >"$PIDS"
}

teardown() {
	local p
	for p in $(cat "$PIDS"); do kill_tree "$p"; done
	[ ! -d "$FREEZER" ] || echo THAWED >"$FREEZER/freezer.state"
	as_user tmux -L att kill-server 2>/dev/null || true
	# Every process of the test users, then every helper (in set-up or
	# clean-up they are all root): what a test left, teardown ends.
	for _ in 1 2 3; do
		pkill -KILL -u mdtest1,mdtest2 2>/dev/null || true
		pkill -KILL -U mdtest1,mdtest2 2>/dev/null || true
		for p in /proc/[0-9]*; do
			case $(readlink "$p/exe" 2>/dev/null) in
			"$MDT_ROOT"/libexec/minidocker/md*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;;
			esac
		done
		sleep 0.2
	done
	"$MDT_HELPER" gc >/dev/null 2>&1 || true
	# What even gc could not remove, so that the next test starts clean.
	rm -f "$MDT_ROOT"/run/containers/* "$MDT_ROOT"/run/leases/*
	for p in $(ip -o link show | grep -o " $MDT_PORTS[0-9]*"); do ip link del "$p" 2>/dev/null || true; done
	for g in /sys/fs/cgroup/*/minidocker-test/* "$FREEZER"; do
		[ ! -d "$g" ] || rmdir "$g" 2>/dev/null || true
	done
	rm -rf /home/mdtest1/.local/state /home/mdtest2/.local/state /home/mdtest1/att-* \
		/home/mdtest1/.local/share/minidocker/rootfs/att
	return 0
}

net_conf() {
	write_conf <<CONF
bridge $BRIDGE $NET.254/24
permit :mdtestgrp memory=512M cpus=0-63 pids=256 containers=4 ip=$NET.0/24 bridge=$BRIDGE rootfs=$MDT_SYSROOTFS rootfs=~
CONF
}

# Kill PID and all its descendants (runuser stops itself when the helper it
# waits for is stopped: an attack that works would leave it so).
kill_tree() {
	local c
	for c in $(pgrep -P "$1"); do kill_tree "$c"; done
	kill -KILL "$1" 2>/dev/null || true
}

# Remember a pid for teardown to kill, with its descendants.
track() {
	echo "$1" >>"$PIDS"
}

# The test helper's process (mdhelper or mdmonitor, whatever its uids) whose
# arguments contain WORD; waits up to 5 s for it.
helper_with() {
	local p
	for _ in $(seq 100); do
		for p in $(pgrep -f -- "$1"); do
			case $(readlink "/proc/$p/exe") in
			"$MDT_ROOT"/libexec/minidocker/md*) echo "$p"; return 0 ;;
			esac
		done
		sleep 0.05
	done
	return 1
}

# Root holds the registry lock for SECONDS, from a background process of its
# own (sleep, with the locked fd), until it ends or teardown kills it.
hold_lock() {
	mkdir -p -m 700 "$MDT_ROOT/run"
	(exec 9>>"$MDT_ROOT/run/lock" && flock -x 9 && exec sleep "$1") &
	track $!
	for _ in $(seq 100); do
		flock -n "$MDT_ROOT/run/lock" true || return 0
		sleep 0.01
	done
	return 1
}

# Wait (up to 10 s) until process PID has ended (gone, or a zombie).
wait_gone() {
	for _ in $(seq 200); do
		case $(state_of "$1") in gone | Z) return 0 ;; esac
		sleep 0.05
	done
	return 1
}

# Wait (up to 10 s) for background job PID; its exit status in $status.
reap() {
	wait_gone "$1" || { echo "process $1 still runs"; return 1; }
	status=0
	wait "$1" || status=$?
}

# Is PID stopped or gone (what the attacker's signal would have done)?
state_of() {
	sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null || echo gone
}

# The container's PID 1, the child named COMM of helper PID, once it runs.
pid1_of() {
	for _ in $(seq 100); do
		pgrep -P "$1" -x "$2" && return 0
		sleep 0.05
	done
	return 1
}

port_of() {
	local a=$1 o out=mdv
	for o in ${a//./ }; do out=$out$(printf %03d "$o"); done
	echo "$out"
}

# ---- SECURITY.md 38: out of the caller's reach while it matters ----------

@test "the caller can neither stop nor kill their helper while it waits for the registry lock" {
	hold_lock 2
	as_user mdrun.sh -n att-wait -- true &
	local front=$!
	track "$front"
	helper=$(helper_with "--name att-wait")
	sleep 0.3 # it is at the lock now: set-up has begun
	run as_user kill -STOP "$helper"
	assert_status 1
	assert_output "kill: ($helper): Operation not permitted"
	run as_user kill -KILL "$helper"
	assert_status 1
	assert_output "kill: ($helper): Operation not permitted"
	[ "$(state_of "$helper")" = S ]
	reap "$front"
	assert_status 0
	assert_nothing_left
}

@test "the caller can neither stop nor kill their helper while it cleans up" {
	# Without a port, its clean-up takes the lock at once to forget it.
	as_user mdrun.sh --net none -n att-end -- sleep 1 &
	local front=$!
	track "$front"
	helper=$(helper_with "--name att-end")
	sleeper=$(pid1_of "$helper" sleep)
	hold_lock 2.5
	wait_gone "$sleeper"
	sleep 0.3 # the command has ended: the helper waits for the lock to clean up
	run as_user kill -STOP "$helper"
	assert_status 1
	assert_output "kill: ($helper): Operation not permitted"
	run as_user kill -KILL "$helper"
	assert_status 1
	assert_output "kill: ($helper): Operation not permitted"
	reap "$front"
	assert_status 0
	assert_nothing_left
}

# ---- SECURITY.md 38-39: nothing the caller set reaches root's children ----

# Start detached container NAME as mdtest1 through LAUNCHER (words), on
# CPU 1, while catching root's mdnet.sh attach, then read its monitor:
# their reports in $BATS_TEST_TMPDIR/NAME.attach and NAME.monitor.
detached_caught() {
	local name=$1 catcher
	shift
	catcher 30 mdnet.sh attach >"$BATS_TEST_TMPDIR/$name.attach" &
	catcher=$!
	track "$catcher"
	as_user mkdir -p -m 700 /home/mdtest1/att-logs
	# mdhelper itself: mdrun.sh's shell would reset SIGCHLD.
	run as_user "$@" "$MDT_HELPER" run --detach /home/mdtest1/att-logs --name "$name" \
		--cpuset-cpus 1 --rootfs "$ROOTFS" -- /bin/sleep 60
	assert_status 0
	assert_output "$name"
	reap "$catcher"
	assert_status 0
	"$T/catch" -p "$(monitor_of "$name")" >"$BATS_TEST_TMPDIR/$name.monitor"
}

# catch, woken first by each exec (SCHED_FIFO: it sleeps until then).
catcher() {
	chrt -f 50 "$T/catch" "$@"
}

# The pid of container NAME's monitor, from its registry entry.
monitor_of() {
	local m
	read -r _ m _ <"$MDT_ROOT/run/containers/$1" && echo "$m"
}

# What a process inherited, from a catch report: all but its pid and fds.
inherited() {
	grep -v -e '^pid ' -e '^fd[0-9] ' "$BATS_TEST_TMPDIR/$1"
}

@test "a hostile caller's scheduling, affinity, limits, signal mask and dispositions reach neither mdnet.sh nor mdmonitor" {
	detached_caught att-plain env
	# CPU 0 for the caller, CPU 1 for the container: the caller's own
	# affinity is not the helper's choice.
	detached_caught att-hostile "$T/hostile" -s -c 0 -l -i -b --
	cat "$BATS_TEST_TMPDIR"/att-hostile.*
	# Root's script: all root, nothing blocked or ignored, SCHED_OTHER at
	# nice 0, and exactly what a plain caller's start gives it.
	f=$BATS_TEST_TMPDIR/att-hostile.attach
	grep -qx "Uid:	0	0	0	0" "$f"
	grep -qx "SigBlk:	0000000000000000" "$f"
	grep -qx "SigIgn:	0000000000000000" "$f"
	grep -qx "policy 0 nice 0" "$f"
	! grep -qx "Cpus_allowed_list:	0" "$f"
	[ "$(inherited att-hostile.attach)" = "$(inherited att-plain.attach)" ]
	# The monitor: the very same as a plain caller's.
	grep -qx "SigIgn:	0000000000000000" "$BATS_TEST_TMPDIR/att-hostile.monitor"
	grep -qx "policy 0 nice 0" "$BATS_TEST_TMPDIR/att-hostile.monitor"
	[ "$(inherited att-hostile.monitor)" = "$(inherited att-plain.monitor)" ]
	# Set up despite all that, on the bridge, and the command has the
	# caller's own limits back.
	[ "$(cat "$MDT_ROOT/run/leases/$NET.2")" = att-hostile ]
	[ "$(basename "$(readlink "/sys/class/net/$(port_of $NET.2)/master")")" = "$BRIDGE" ]
	sleeper=$(pgrep -P "$(sed -n 's/^pid //p' "$BATS_TEST_TMPDIR/att-hostile.monitor")" -x sleep)
	grep -q '^Max open files *24 ' "/proc/$sleeper/limits"
	grep -q '^Max stack size *262144 ' "/proc/$sleeper/limits"
	grep -q '^Max processes *64 ' "/proc/$sleeper/limits"
	grep -q '^Max cpu time *2 ' "/proc/$sleeper/limits"
	run as_user "$T/hostile" -s -c 0 -l -i -b -- mdctl.sh stop -t 1 att-hostile att-plain
	assert_status 0
	assert_output "att-hostile
att-plain"
	assert_nothing_left
}

@test "interval timers armed before exec end neither the helper's start nor its wait" {
	# ITIMER_VIRTUAL and ITIMER_PROF fire within the start's first
	# milliseconds of CPU, ITIMER_REAL while the command runs; their
	# signals' default action would end the helper at that moment.
	for _ in 1 2 3; do
		run as_user "$T/hostile" -p 2 -t 600 -- "$MDT_HELPER" run --rootfs "$ROOTFS" -- /bin/sleep 1
		assert_status 0
		assert_output ""
	done
	assert_nothing_left
}

# ---- SECURITY.md 41: processes by pidfd, never a pid the caller recycles --

@test "a container's pid recycled by another student's process never receives the signals the helper forwards" {
	# SIGCHLD ignored before exec (of mdhelper itself: mdrun.sh's shell
	# would reset it): a helper that kept it would have its container
	# reaped by the kernel, unseen, and its pid freed.
	as_user "$T/hostile" -n -- "$MDT_HELPER" run --net none --name att-recycle --rootfs "$ROOTFS" -- /bin/sleep 1 &
	local front=$!
	track "$front"
	helper=$(helper_with "--name att-recycle")
	child=$(pid1_of "$helper" sleep)
	wait_gone "$child"
	# Another student's process takes that very pid...
	run as mdtest2 "$T/pidat" 60 "$child" sleep 30
	assert_status 0
	assert_output "pid $child"
	[ "$(stat -c %U "/proc/$child")" = mdtest2 ]
	[ "$(state_of "$child")" = S ]
	# ...and the attacker has their helper forward a signal.
	as_user kill -TERM "$helper" 2>/dev/null || true
	sleep 0.5
	ps -o pid,user,stat,args -p "$helper,$child" || true
	[ "$(stat -c %U "/proc/$child")" = mdtest2 ]
	[ "$(cat "/proc/$child/comm")" = sleep ]
	[ "$(state_of "$child")" = S ] # alive, not a zombie
	kill -KILL "$child"
	# The helper saw its own container end and returned its status.
	reap "$front"
	assert_status 0
	assert_nothing_left
}

@test "a helper's child pid recycled into the student's own namespace never gets the container's port" {
	# The helper killed while root's mdnet.sh attach, slowed by the
	# caller's SCHED_IDLE on a CPU the caller keeps busy, has yet to open
	# the child's namespace; the child's pid taken by a process of the
	# student's in a user and network namespace of their own.
	run as_user "$T/attachrace" 12 25 mdrun.sh -n att-race --cpuset-cpus 1 --ip $NET.9 -- true
	echo "$output"
	assert_status 0
	assert_output_contains "mdnet.sh "
	[[ "$output" != *"no namespaces of its own"* ]] ||
		skip "the attacker's process could not make its namespaces: ${output##*: }"
	run grep '^iface ' <<<"$output"
	[ -z "$output" ] || assert_output "iface lo"
	run ctl gc
	assert_status 0
	assert_nothing_left
}

# ---- SECURITY.md 42: the lock, with a deadline, never across the caller's fds

@test "a registry lock held past the deadline refuses a start with one line within seconds" {
	hold_lock 20
	local t0=$SECONDS
	run as_user timeout 15 mdrun.sh -- true
	[ $((SECONDS - t0)) -le 10 ]
	assert_status 125
	assert_output "$BUSY"
	for p in $(cat "$PIDS"); do kill "$p" 2>/dev/null || true; done
	assert_nothing_left
}

@test "a refusal stuck on a full stderr pipe nobody reads delays no other student's start" {
	run as_user mdrun.sh -d -n att-five --ip $NET.5 -- sleep 60
	assert_status 0
	# Refused (the address is taken), with nowhere to say so.
	as_user "$T/fullpipe" 30 mdrun.sh --ip $NET.5 -- true &
	local stuck=$!
	track "$stuck"
	sleep 1
	local t0=$SECONDS
	run as mdtest2 timeout 20 mdrun.sh -- true
	assert_status 0
	[ $((SECONDS - t0)) -le 5 ]
	# The attacker gives up: the refusal was the one expected.
	kill "$(pgrep -P "$stuck" || echo none)" 2>/dev/null || true
	pkill -u mdtest1 -x fullpipe || true
	reap "$stuck" || true
	run as_user mdctl.sh stop -t 1 att-five
	assert_status 0
	assert_nothing_left
}

@test "a caller frozen in a cgroup while their helper holds the lock delays no other student's start" {
	[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
	# A freezer the administrator delegated to the student, as systemd
	# delegates cgroup.freeze in a user's own slice.
	mkdir "$FREEZER"
	chown mdtest1 "$FREEZER" "$FREEZER/cgroup.procs" "$FREEZER/tasks" "$FREEZER/freezer.state"
	local caught=
	for _ in $(seq 40); do
		as_user "$T/lockfreeze" "$FREEZER" 60 mdrun.sh -- true >"$BATS_TEST_TMPDIR/freeze" 2>&1 &
		local attacker=$!
		track "$attacker"
		for _ in $(seq 100); do
			[ -s "$BATS_TEST_TMPDIR/freeze" ] && break
			sleep 0.02
		done
		if grep -qx -e frozen -e escaped "$BATS_TEST_TMPDIR/freeze"; then
			caught=$(cat "$BATS_TEST_TMPDIR/freeze")
			break
		fi
		wait "$attacker" || true
	done
	[ -n "$caught" ] || skip "the helper was never caught holding the lock in 40 starts"
	# Out of the student's group while it holds the lock: nothing to freeze.
	if [ "$caught" = escaped ]; then
		reap "$attacker"
		assert_status 0
		assert_nothing_left
		return
	fi
	# Frozen for a minute: the other student waits at most the deadline.
	local t0=$SECONDS
	run as mdtest2 timeout 20 mdrun.sh -- true
	[ $((SECONDS - t0)) -le 8 ]
	[ "$status" -eq 0 ] || assert_output "$BUSY"
	# The attacker thaws their helper, which finishes its start.
	echo THAWED >"$FREEZER/freezer.state"
	pkill -u mdtest1 -x lockfreeze
	assert_nothing_left
}

@test "gc run by a student hands root's network script none of the student's fds" {
	ended_with_held_port att-gcfd
	as_user touch /home/mdtest1/att-out
	catcher 20 mdnet.sh detach >"$BATS_TEST_TMPDIR/detach" &
	local catcher=$!
	track "$catcher"
	# The student's stdin, stdout and stderr: a file of theirs, which
	# could as well be a full pipe or a terminal.
	run as_user sh -c "'$MDT_HELPER' gc </home/mdtest1/att-out >/home/mdtest1/att-out 2>&1; echo \$?"
	assert_output "0"
	reap "$catcher"
	assert_status 0
	cat "$BATS_TEST_TMPDIR/detach"
	run grep -c "^fd[012] /home/mdtest1/att-out$" "$BATS_TEST_TMPDIR/detach"
	assert_output "0"
	for p in $(cat "$PIDS"); do kill "$p" 2>/dev/null || true; done
	assert_nothing_left
}

# ---- SECURITY.md 43: an entry goes only when what it describes has gone ---

# Container NAME of mdtest1's at $NET.1 has ended while a host process of
# mdtest1's holds its network namespace, and so its port: the container
# passed an fd of its /proc/self/ns/net over a unix socket in the
# student's own rootfs (nsfd). The holder's pid is tracked.
ended_with_held_port() {
	local dir=/home/mdtest1/.local/share/minidocker/rootfs/att holder
	as_user mdrootfs.sh busybox att >/dev/null
	install -o mdtest1 -m 755 "$T/nsfd" "$dir/bin/nsfd"
	as_user "$T/nsfd" hold "$dir/tmp/ns.sock" 60 >"$BATS_TEST_TMPDIR/held" &
	track $!
	for _ in $(seq 100); do [ -S "$dir/tmp/ns.sock" ] && break; sleep 0.05; done
	run as_user mdrun.sh -n "$1" -r att --ip $NET.1 -- /bin/nsfd send /tmp/ns.sock
	assert_status 0
	assert_output ""
	for _ in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/held" ] && break; sleep 0.05; done
	run cat "$BATS_TEST_TMPDIR/held"
	assert_output_contains "held net:["
	holder=$(pgrep -u mdtest1 -x nsfd)
	track "$holder"
	sleep 0.5
	[ -e "/sys/class/net/$(port_of $NET.1)" ]
}

@test "a port whose namespace a student holds open is removed by gc, even under the student's limits" {
	# ASan reserves its shadow memory before main: no room for it here.
	[ -z "${MDT_SANITIZED:-}" ] || skip "the sanitized helper cannot start in 4 MiB of address space"
	ended_with_held_port att-held
	# Address space too small for root's `ip` to load, had it been passed
	# on to mdnet.sh detach.
	run as_user "$T/hostile" -a 4194304 -- "$MDT_HELPER" gc
	assert_status 0
	assert_output ""
	[ ! -e "/sys/class/net/$(port_of $NET.1)" ]
	[ ! -e "$MDT_ROOT/run/leases/$NET.1" ]
	[ ! -e "$MDT_ROOT/run/containers/att-held" ]
	for p in $(cat "$PIDS"); do kill "$p" 2>/dev/null || true; done
	assert_nothing_left
}

@test "gc collects more than 256 entries that killed helpers left" {
	local dead=$((32768 - 1)) i
	while [ -e "/proc/$dead" ]; do dead=$((dead - 1)); done
	mkdir -p "$MDT_ROOT/run/containers"
	for i in $(seq 300); do
		printf '%s %s 12345 -\n' "$(id -u mdtest1)" "$dead" >"$MDT_ROOT/run/containers/att-$i"
	done
	chmod 600 "$MDT_ROOT"/run/containers/att-*
	run ctl gc
	assert_status 0
	assert_output ""
	run ls "$MDT_ROOT/run/containers"
	assert_output ""
	assert_nothing_left
}

@test "a cgroup still busy at gc is removed by a later gc" {
	local dead=$((32768 - 1)) g
	while [ -e "/proc/$dead" ]; do dead=$((dead - 1)); done
	printf '%s %s 12345 -\n' "$(id -u mdtest1)" "$dead" >"$MDT_ROOT/run/containers/att-busy"
	chmod 600 "$MDT_ROOT/run/containers/att-busy"
	for g in /sys/fs/cgroup/pids /sys/fs/cgroup/memory; do
		mkdir -p "$g/minidocker-test/att-busy"
	done
	sleep 60 &
	local busy=$!
	track "$busy"
	echo "$busy" >/sys/fs/cgroup/pids/minidocker-test/att-busy/cgroup.procs
	run ctl gc
	assert_status 0
	[ -d /sys/fs/cgroup/pids/minidocker-test/att-busy ]
	kill -KILL "$busy"
	wait "$busy" || true
	run ctl gc
	assert_status 0
	assert_output ""
	assert_nothing_left
}

# ---- the student can still end their own container -----------------------

@test "timeout on mdrun.sh ends the container with 124 and leaves nothing" {
	run as_user timeout -k 5 2 mdrun.sh -- sleep 100
	assert_status 124
	assert_output ""
	assert_nothing_left
}

@test "kill -TERM of mdrun.sh's pid reaches the container, which ends with its status" {
	as_user mdrun.sh -n att-term -- sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' &
	local front=$!
	track "$front"
	helper=$(helper_with "--name att-term")
	for _ in $(seq 100); do pgrep -u mdtest1 -x sh >/dev/null && break; sleep 0.05; done
	sleep 0.2 # the trap is set
	run as_user kill -TERM "$helper"
	assert_status 0
	reap "$front"
	assert_status 7
	assert_nothing_left
}

# A tmux session of mdtest1's whose window runs mdrun.sh on a terminal.
tmux_container() {
	require tmux
	as_user tmux -L att new-session -d -s att -x 80 -y 24 "mdrun.sh -n att-tty -- sh -c 'sleep 100; echo after=\$?'; echo status=\$?; sleep 30"
	for _ in $(seq 100); do pgrep -u mdtest1 -x sleep >/dev/null && return 0; sleep 0.05; done
	return 1
}

@test "Ctrl-C on the terminal ends a foreground container" {
	tmux_container
	as_user tmux -L att send-keys -t att C-c
	for _ in $(seq 100); do
		as_user tmux -L att capture-pane -p -t att | grep -q status= && break
		sleep 0.05
	done
	run as_user tmux -L att capture-pane -p -t att
	as_user tmux -L att kill-server || true
	assert_output_contains "status=130"
	assert_nothing_left
}

@test "hangup of the terminal ends a foreground container" {
	tmux_container
	as_user tmux -L att kill-server
	assert_nothing_left
}
