#!/usr/bin/env bats
# The setuid helper under a hostile student (issue 14, SECURITY.md 38-43,
# and the attacks on items 18, 20 and 40 that need these programs):
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
	# What a test changed of the installation or the host, put back first.
	[ -z "${SUID_DUMPABLE:-}" ] || echo "$SUID_DUMPABLE" >/proc/sys/fs/suid_dumpable
	if [ -n "${SCRIPT_SAVED:-}" ]; then
		chown root:root "$MDT_BIN"
		chmod "$SCRIPT_SAVED" "$MDT_BIN"
		rm -f "$MDT_BIN/mdnet.sh" "$MDT_BIN/.att-new"
		install -o root -g root -m 755 "$BATS_TEST_TMPDIR/mdnet.sh" "$MDT_BIN/mdnet.sh"
	fi
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

# Has helper PID the registry lock's file open (it is at the lock: taking
# it, or polling for it while another holds it)?
at_lock() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" != "$MDT_ROOT/run/lock" ] || return 0
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

# Is PID waiting to write to a pipe nobody reads (its wchan: polling for
# room, or blocked in the write)?
stuck_on_pipe() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	poll_schedule_timeout* | do_sys_poll | pipe_write) return 0 ;;
	esac
	return 1
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
	wait_for 5 at_lock "$helper" # set-up has begun: it polls for the lock root holds
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
	wait_for 5 at_lock "$helper" # the command has ended: it waits for the lock to clean up
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
	refute grep -qx "Cpus_allowed_list:	0" "$f"
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
	# ...and the attacker has their helper forward a signal: a helper
	# that missed its container's end still supervises that pid, with the
	# caller's real uid; one that saw it has cleaned up (all root, so the
	# kill is refused) or gone.
	run as_user kill -TERM "$helper"
	echo "kill: $status $output"
	ps -o pid,user,stat,args -p "$helper,$child" || true
	# The helper saw its own container end and returned its status...
	reap "$front"
	assert_status 0
	# ...and whatever it forwarded on its way out, the other student's
	# process is untouched.
	[ "$(stat -c %U "/proc/$child")" = mdtest2 ]
	[ "$(cat "/proc/$child/comm")" = sleep ]
	[ "$(state_of "$child")" = S ] # alive, not a zombie
	kill -KILL "$child"
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
	# Either the student could not kill their helper in set-up (the
	# defence, SECURITY.md 38), or the pid was really recycled and the
	# interfaces in their namespace are listed below.
	[[ "$output" == *"kill "*": Operation not permitted"* ]] || grep -q '^recycled ' <<<"$output"
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
	# The attacker's helper has its refusal to write, and waits for the
	# pipe (at most a second: then it gives up and exits).
	helper=$(helper_with "--ip $NET.5")
	wait_for 10 stuck_on_pipe "$helper"
	local t0=$SECONDS
	run as mdtest2 timeout 20 mdrun.sh -- true
	assert_status 0
	[ $((SECONDS - t0)) -le 5 ]
	# The attacker's start was refused (the address is taken), and its
	# helper ended without anyone reading the pipe.
	reap "$stuck"
	assert_status 125
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
	# A sleep of the loop runs: the trap, set before it, is in place.
	wait_for 10 pgrep -u mdtest1 -x sleep >/dev/null
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

# ---- SECURITY.md 18, 20, 40: root's programs, the drop, dumpability ------

# The installed mdnet.sh and the mode of its directory, put back by
# teardown whatever the test did to them.
save_script() {
	cp -p "$MDT_BIN/mdnet.sh" "$BATS_TEST_TMPDIR/mdnet.sh"
	SCRIPT_SAVED=$(stat -c %a "$MDT_BIN")
}

# The student's payload: what root would run in their place, recording
# whose uid it ran with.
PAYLOAD=/home/mdtest1/att-ran
payload() {
	printf '#!/bin/sh\nid -u >>%s\n' "$PAYLOAD"
}

# A start on the bridge as mdtest1 is refused with LINE, the payload never
# ran, and nothing is left.
refused_without_payload() {
	run as_user mdrun.sh -n att-script --ip $NET.7 -- /bin/echo started
	assert_status 125
	assert_output "$1"
	[ ! -e "$PAYLOAD" ] || { echo "the student's script ran, as uid $(cat "$PAYLOAD")"; return 1; }
	[ ! -e "$MDT_ROOT/run/leases/$NET.7" ]
	[ ! -e "$MDT_ROOT/run/containers/att-script" ]
	assert_nothing_left
}

@test "a network script the student can write is never run by root: the start is refused, leaving nothing" {
	save_script
	local s=$MDT_BIN/mdnet.sh
	# The administrator's mistakes, one at a time; each time the student
	# really puts their payload in place of root's script.
	chown mdtest1 "$s"
	payload | as_user sh -c 'cat >"$1"' sh "$s"
	[ "$(cat "$s")" = "$(payload)" ]
	refused_without_payload "mdhelper: $s is not owned by root"

	chown root:mdtestgrp "$s"
	chmod 775 "$s"
	refused_without_payload "mdhelper: $s is writable by group or other"

	install -o root -g root -m 755 "$BATS_TEST_TMPDIR/mdnet.sh" "$s"
	chgrp mdtestgrp "$MDT_BIN"
	chmod 775 "$MDT_BIN"
	payload | as_user sh -c 'cat >"$1" && chmod 755 "$1" && mv -f "$1" "$2"' sh "$MDT_BIN/.att-new" "$s"
	[ "$(stat -c %U "$s")" = mdtest1 ]
	refused_without_payload "mdhelper: $MDT_BIN is writable by group or other"
}

@test "credential changes made to fail or to lie never leave the command with a root id" {
	# Every set*id call and capset returns 0 and changes nothing: under
	# the filter the student's own setpriv "becomes" nobody and stays them.
	run as_user "$T/fakeids" setpriv --reuid 65534 --regid 65534 --clear-groups id -u
	assert_status 0
	assert_output "$(id -u mdtest1)"
	# The kernel allows that filter only with no_new_privs, which keeps
	# the setuid bit from raising anything: the helper is not root and
	# says so, before it changes any id.
	run as_user "$T/fakeids" "$MDT_HELPER" run --net none --rootfs "$ROOTFS" -- /bin/echo started
	assert_status 125
	assert_output "mdhelper: not installed setuid root (ask your administrator to run make install)"
	# RLIMIT_NPROC below what the student runs already: the classic way
	# to make a setuid() to them fail (EAGAIN), which a helper that did
	# not read its ids back would survive as root.
	as_user sleep 30 &
	local busy=$!
	track "$busy"
	as_user "$T/hostile" -u 1 -- "$MDT_HELPER" run --net none --name att-nproc --rootfs "$ROOTFS" -- /bin/sleep 3 &
	local front=$!
	track "$front"
	helper=$(helper_with "--name att-nproc")
	sleeper=$(pid1_of "$helper" sleep)
	# The command runs with the student's limit (the attack reached it)...
	grep -q '^Max processes *1 ' "/proc/$sleeper/limits"
	# ...and with the student's ids alone, on the host.
	local u g
	u=$(id -u mdtest1) g=$(id -g mdtest1)
	grep -qx "Uid:	$u	$u	$u	$u" "/proc/$sleeper/status"
	grep -qx "Gid:	$g	$g	$g	$g" "/proc/$sleeper/status"
	reap "$front"
	assert_status 0
	kill_tree "$busy"
	assert_nothing_left
}

@test "the caller reads nothing of their helper around its fsuid changes, even where every credential change leaves a process dumpable" {
	# fs.suid_dumpable=1: the kernel makes a process dumpable again at
	# each credential change, the helper's setfsuid to the caller for the
	# rootfs walk and the log's creation, and back, included; only the
	# helper's own PR_SET_DUMPABLE 0 after each keeps its doors shut.
	SUID_DUMPABLE=$(cat /proc/sys/fs/suid_dumpable)
	echo 1 >/proc/sys/fs/suid_dumpable
	# A rootfs as deep as the helper takes (64 components): the walk as
	# the caller takes a while.
	local deep=/home/mdtest1/att-deep/$(printf 'a/%.0s' $(seq 58))r
	as_user mkdir -p "$deep/bin" "$deep/proc" "$deep/dev" "$deep/sys" "$deep/tmp" /home/mdtest1/att-logs
	as_user chmod 700 /home/mdtest1/att-logs
	as_user cp "$(command -v busybox)" "$deep/bin/busybox"
	as_user ln -s busybox "$deep/bin/true"
	# The watcher opens every door of a process of the student's own.
	run as_user "$T/peek" -a /bin/sleep 0.2
	assert_status 0
	assert_output_contains "LEAK "
	assert_output_contains " pidfd_getfd"
	for i in 1 2 3; do
		run as_user "$T/peek" "$MDT_HELPER" run --net none --rootfs "$deep" -- /bin/true
		echo "$output"
		assert_status 0
		[ "$(sed -n 's/^peeks //p' <<<"$output")" -gt 0 ]
		refute grep -q LEAK <<<"$output"
		# Detached: the front, and the monitor that opens the log.
		run as_user "$T/peek" "$MDT_HELPER" run --detach /home/mdtest1/att-logs --name "att-peek$i" \
			--net none --rootfs "$deep" -- /bin/true
		echo "$output"
		assert_status 0
		[ "$(sed -n 's/^watched //p' <<<"$output")" -ge 2 ]
		refute grep -q LEAK <<<"$output"
	done
	assert_nothing_left
}
