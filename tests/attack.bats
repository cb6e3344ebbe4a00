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
NET=10.94.0
T=$MDT_ROOT/libexec/minidocker/test
ROOTFS=$MDT_SYSROOTFS/default
FREEZER=/sys/fs/cgroup/freezer/minidocker-attack
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
	PIDS=$BATS_TEST_TMPDIR/pids
	: >"$PIDS"
}

teardown() {
	local p
	for p in $(cat "$PIDS"); do kill -KILL "$p" 2>/dev/null || true; done
	[ ! -d "$FREEZER" ] || echo THAWED >"$FREEZER/freezer.state"
	stop_containers mdtest1 || true
	stop_containers mdtest2 || true
	pkill -KILL -U mdtest1,mdtest2 -x 'mdhelper|mdmonitor' 2>/dev/null || true
	for p in $(cat "$PIDS"); do kill -KILL "$p" 2>/dev/null || true; done
	"$MDT_HELPER" gc >/dev/null 2>&1 || true
	[ ! -d "$FREEZER" ] || rmdir "$FREEZER" 2>/dev/null || true
	for g in /sys/fs/cgroup/*/minidocker-test/att-*; do
		[ ! -d "$g" ] || rmdir "$g" 2>/dev/null || true
	done
	rm -rf /home/mdtest1/.local/state /home/mdtest2/.local/state /home/mdtest1/att-*
	rm -f "$MDT_ROOT"/run/containers/att-*
	return 0
}

net_conf() {
	write_conf <<CONF
bridge $BRIDGE $NET.254/24
permit :mdtestgrp memory=512M cpus=0-63 pids=256 containers=4 ip=$NET.0/24 bridge=$BRIDGE rootfs=$MDT_SYSROOTFS rootfs=~
CONF
}

# Remember a pid for teardown to kill.
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

# mdtest1's sleep in a container (PID 1 of it), once it runs.
container_sleep() {
	for _ in $(seq 100); do
		pgrep -u mdtest1 -x sleep && return 0
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
	as_user mdrun.sh -n att-end -- sleep 1 &
	local front=$!
	helper=$(helper_with "--name att-end")
	sleeper=$(container_sleep)
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

@test "a hostile caller's scheduling, affinity, limits, signal mask and dispositions reach neither mdnet.sh nor mdmonitor" {
	"$T/catch" 20 mdnet.sh attach >"$BATS_TEST_TMPDIR/attach" &
	track $!
	local catcher=$!
	# CPU 0 for the caller, CPU 1 for the container: the caller's own
	# affinity is not the helper's choice.
	run as_user "$T/hostile" -s -c 0 -l -i -b -- mdrun.sh -d -n att-hostile --cpuset-cpus 1 -- sleep 60
	assert_status 0
	assert_output "att-hostile"
	reap "$catcher"
	assert_status 0
	"$T/catch" 5 mdmonitor att-hostile >"$BATS_TEST_TMPDIR/monitor"
	for who in attach monitor; do
		echo "# $who:" && cat "$BATS_TEST_TMPDIR/$who"
		f=$BATS_TEST_TMPDIR/$who
		grep -qx "SigIgn:	0000000000000000" "$f"
		grep -qx "policy 0 nice 0" "$f"
		! grep -qx "Cpus_allowed_list:	0" "$f"
		for l in "Max_stack_size 262144 262144" "Max_cpu_time 2 3" "Max_open_files 24 24" \
			"Max_processes 64 64" "Max_locked_memory 0 0" "Max_pending_signals 64 64" \
			"Max_msgqueue_size 0 0"; do
			! grep -qx "limit $l" "$f"
		done
	done
	# mdnet.sh blocks nothing; the monitor only what it waits for (HUP INT
	# QUIT USR1 USR2 TERM CHLD WINCH), never what the caller blocked.
	grep -qx "Uid:	0	0	0	0" "$BATS_TEST_TMPDIR/attach"
	grep -qx "SigBlk:	0000000000000000" "$BATS_TEST_TMPDIR/attach"
	blk=$(sed -n 's/^SigBlk:\t//p' "$BATS_TEST_TMPDIR/monitor")
	[ $((0x$blk & ~0x8014a07)) -eq 0 ]
	# Set up despite all that: on the bridge, and the command has the
	# caller's own limits back.
	[ -e "/sys/class/net/$(port_of $NET.1)/master" ]
	[ "$(cat "$MDT_ROOT/run/leases/$NET.1")" = att-hostile ]
	sleeper=$(container_sleep)
	grep -q '^Max open files *24 *24 ' "/proc/$sleeper/limits"
	grep -q '^Max stack size *262144 *262144 ' "/proc/$sleeper/limits"
	grep -q '^Max processes *64 *64 ' "/proc/$sleeper/limits"
	run as_user "$T/hostile" -s -c 0 -l -i -b -- mdctl.sh stop -t 1 att-hostile
	assert_status 0
	assert_output "att-hostile"
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
	# SIGCHLD ignored before exec: a helper that kept it would have its
	# container reaped by the kernel, unseen, and its pid freed.
	as_user "$T/hostile" -n -- mdrun.sh --net none -n att-recycle -- sleep 1 &
	local front=$!
	track "$front"
	helper=$(helper_with "--name att-recycle")
	child=$(container_sleep)
	wait_gone "$child"
	# Another student's process takes that very pid...
	run as mdtest2 "$T/pidat" 20 "$child" sleep 30
	assert_status 0
	assert_output "pid $child"
	[ "$(stat -c %U "/proc/$child")" = mdtest2 ]
	# ...and the attacker has their helper forward a signal.
	as_user kill -TERM "$helper" 2>/dev/null || true
	sleep 0.5
	[ "$(stat -c %U "/proc/$child")" = mdtest2 ]
	[ "$(cat "/proc/$child/comm")" = sleep ]
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
		as_user "$T/lockfreeze" "$FREEZER" 8 mdrun.sh -- true >"$BATS_TEST_TMPDIR/freeze" 2>&1 &
		local attacker=$!
		track "$attacker"
		for _ in $(seq 100); do
			[ -s "$BATS_TEST_TMPDIR/freeze" ] && break
			sleep 0.02
		done
		if grep -qx frozen "$BATS_TEST_TMPDIR/freeze"; then
			caught=1
			break
		fi
		wait "$attacker" || true
	done
	[ -n "$caught" ] || skip "the helper was never caught holding the lock in 40 starts"
	local t0=$SECONDS
	run as mdtest2 timeout 20 mdrun.sh -- true
	[ $((SECONDS - t0)) -le 8 ]
	[ "$status" -eq 0 ] || assert_output "$BUSY"
	reap "$attacker" || true
	assert_nothing_left
}

@test "gc run by a student hands root's network script none of the student's fds" {
	ended_with_held_port att-gcfd
	as_user touch /home/mdtest1/att-out
	"$T/catch" 20 mdnet.sh detach >"$BATS_TEST_TMPDIR/detach" &
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
# mdtest1's holds its network namespace open (/proc/PID/ns/net of the
# container's own process, which is the student's), and so its port.
ended_with_held_port() {
	local pid holder=
	run as_user mdrun.sh -d -n "$1" --ip $NET.1 -- sleep 60
	assert_status 0
	pid=$(container_sleep)
	as_user sh -c "exec sleep 60 3</proc/$pid/ns/net" &
	track $!
	for _ in $(seq 50); do
		for p in $(pgrep -u mdtest1 -x sleep); do
			[ "$(readlink "/proc/$p/fd/3")" = "$(readlink "/proc/$pid/ns/net")" ] && holder=$p
		done
		[ -z "$holder" ] || break
		sleep 0.05
	done
	[ -n "$holder" ]
	track "$holder"
	run as_user mdctl.sh stop -t 1 "$1"
	assert_status 0
	wait_gone "$pid"
	sleep 0.5
	[ -e "/sys/class/net/$(port_of $NET.1)" ]
}

@test "a port whose namespace a student holds open is removed by gc, even under the student's limits" {
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

@test "kill -TERM of mdrun.sh's pid ends the container" {
	as_user mdrun.sh -n att-term -- sleep 100 &
	local front=$!
	helper=$(helper_with "--name att-term")
	container_sleep >/dev/null
	run as_user kill -TERM "$helper"
	assert_status 0
	reap "$front"
	assert_status 143
	assert_nothing_left
}

# A tmux session of mdtest1's whose window runs mdrun.sh on a terminal.
tmux_container() {
	require tmux
	as_user tmux -L att new-session -d -s att -x 80 -y 24 "mdrun.sh -n att-tty -- sh -c 'sleep 100; echo after=\$?'; echo status=\$?; sleep 30"
	container_sleep >/dev/null
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
	assert_output_contains "after=130"
	assert_output_contains "status=0"
	assert_nothing_left
}

@test "hangup of the terminal ends a foreground container" {
	tmux_container
	as_user tmux -L att kill-server
	assert_nothing_left
}
