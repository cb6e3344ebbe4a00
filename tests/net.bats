#!/usr/bin/env bats
# The helper's side of networking, seen by the student: eth1 with a leased
# address on the administrator's bridge, the rule's range and quota, leases
# that never collide, and nothing left behind. The bridge is a test bridge
# of its own (mdtb0, 10.98.0.0/24) brought up with the installed mdnet.sh.

load helper

BRIDGE=mdtb0
NET=10.98.0

setup_file() {
	net_conf 3
	"$MDT_BIN/mdnet.sh" up --config "$MDT_CONF" >/dev/null
}

teardown_file() {
	"$MDT_BIN/mdnet.sh" down --config "$MDT_CONF" >/dev/null || true
}

setup() {
	net_conf 3
}

teardown() {
	[ ! -s "$BATS_TEST_TMPDIR/holder" ] || kill "$(cat "$BATS_TEST_TMPDIR/holder")" 2>/dev/null || true
	stop_containers mdtest1
	stop_containers mdtest2
	rm -rf "/home/mdtest1/.local/share/minidocker/rootfs/pinger" /home/mdtest1/.local/state \
		/home/mdtest1/bare /home/mdtest1/bent
}

net_conf() {
	write_conf <<CONF
bridge $BRIDGE $NET.254/24
permit :mdtestgrp memory=512M pids=256 containers=$1 ip=$NET.0/24 bridge=$BRIDGE rootfs=$MDT_SYSROOTFS rootfs=~
CONF
}

md() {
	as_user mdrun.sh "$@"
}

# Start a container that sleeps, in the background, and wait until it runs.
sleeper() {
	local user=$1 before
	shift
	before=$(sleeping "$user")
	as "$user" mdrun.sh "$@" -- sleep 60 >/dev/null 2>&1 &
	wait_for 30 more_sleeping "$user" "$before"
}

more_sleeping() {
	[ "$(sleeping "$1")" -gt "$2" ]
}

# How many sleep commands user runs (in containers, as themselves).
sleeping() {
	pgrep -c -u "$1" -x sleep || true
}

# No live (not zombie) sleep of USER's left.
no_sleep() {
	[ -z "$(ps -u "$1" -o stat=,comm= | grep -v '^Z' | grep -w sleep)" ]
}

registered() {
	ls "$MDT_RUN/containers" 2>/dev/null | wc -l
}


# A rootfs with iputils ping: busybox's ping needs a raw socket, which
# container root does not get in a network namespace it does not own.
pinger_rootfs() {
	local dir=/home/mdtest1/.local/share/minidocker/rootfs/pinger
	as_user mdrootfs.sh busybox pinger >/dev/null
	local ping
	ping=$(command -v ping) || skip "iputils-ping is not installed (sudo make deps)"
	for f in "$ping" $(ldd "$ping" | grep -o '/[^ ]*'); do
		mkdir -p "$dir$(dirname "$f")"
		rm -f "$dir$f" # busybox's applet link: never write through it
		cp -L "$f" "$dir$f"
	done
	chown -R mdtest1: "$dir"
}

@test "eth1 has the first free address of the student's range" {
	run md -- ip -o -4 addr show eth1
	assert_status 0
	assert_output_contains "inet $NET.1/24"
	registry_empty
}

@test "--ip takes exactly that address" {
	run md --ip $NET.7 -- ip -o -4 addr show eth1
	assert_output_contains "inet $NET.7/24"
}

@test "the default route goes through the bridge's gateway" {
	run md -- ip route
	assert_output_contains "default via $NET.254 dev eth1"
}

@test "mdctl.sh check names the student's address range and bridge" {
	run as_user mdctl.sh check
	assert_status 0
	assert_output_contains "ip           $NET.0/24 on bridge $BRIDGE"
	assert_output_contains "containers   3 at a time"
}

@test "an address outside the range is refused naming the rule" {
	run md --ip 10.98.1.5 -- true
	assert_status 125
	assert_output "mdhelper: 10.98.1.5 is outside your range $NET.0/24 ($MDT_CONF:2)"
	run md --ip $NET.254 -- true
	assert_output "mdhelper: $NET.254 is outside your range $NET.0/24 ($MDT_CONF:2)"
}

@test "an address in use by another container is refused" {
	sleeper mdtest2 --ip $NET.5
	run md --ip $NET.5 -- true
	assert_status 125
	assert_output "mdhelper: $NET.5 is in use by another container"
}

@test "the quota's next container is refused" {
	sleeper mdtest1
	sleeper mdtest1
	sleeper mdtest1
	run md -- true
	assert_status 125
	assert_output "mdhelper: you already run 3 containers, your limit ($MDT_CONF:2)"
}

@test "container root cannot change its address or link state" {
	run md -- ip addr add $NET.99/24 dev eth1
	assert_status 2
	assert_output "ip: RTNETLINK answers: Operation not permitted"
	run md -- ip link set eth1 down
	assert_output "ip: SIOCSIFFLAGS: Operation not permitted"
}

@test "a container pings the gateway and another container with the busybox rootfs's ping" {
	sleeper mdtest2 --ip $NET.9
	run md -- ping -c1 -W2 $NET.254
	assert_status 0
	assert_output_contains "1 packets transmitted, 1 packets received, 0% packet loss"
	run md -- ping -c1 -W2 $NET.9
	assert_status 0
	run md -- ping -c1 -W1 $NET.99
	assert_status 1
	assert_output_contains "1 packets transmitted, 0 packets received, 100% packet loss"
}

@test "ping works however the busybox rootfs's shell runs it: sh -c, a script, mdctl.sh exec" {
	local ok="1 packets transmitted, 1 packets received, 0% packet loss"
	run md -- sh -c 'command -v ping'
	assert_output "/bin/ping"
	run md -- sh -c "ping -c1 -W2 $NET.254"
	assert_status 0
	assert_output_contains "$ok"
	run md -- sh -c "echo 'ping -c1 -W2 $NET.254 && echo reached' | sh"
	assert_status 0
	assert_output_contains "$ok"
	assert_output_contains "reached"
	as_user mdrun.sh -d -n web -- sleep 60
	run as_user mdctl.sh exec web -- sh -c "ping -c1 -W2 $NET.254"
	assert_status 0
	assert_output_contains "$ok"
}

@test "ping typed at the busybox rootfs's shell on a terminal is the one that works" {
	# Typed once the shell is up: its line editor drops what came before.
	run as_user sh -c "{ sleep 1; echo 'ping -c1 -W2 $NET.254; exit'; sleep 3; } |
		script -qec mdrun.sh /dev/null"
	assert_output_contains "1 packets transmitted, 1 packets received, 0% packet loss"
}

@test "a container pings the gateway and another container with iputils ping" {
	pinger_rootfs
	sleeper mdtest2 --ip $NET.9
	run md -r pinger -- sh -c "$(command -v ping) -c1 -W2 $NET.254 && $(command -v ping) -c1 -W2 $NET.9"
	assert_status 0
	assert_output_contains "1 packets transmitted, 1 received"
}

@test "--net none gives loopback only" {
	run md --net none -- sh -c 'ls /sys/class/net'
	assert_output "lo"
}

@test "injection attempts in --ip run nothing and create nothing" {
	run md --ip "$NET.5;touch /tmp/md-injected" -- true
	assert_status 125
	assert_output "mdhelper: not an IPv4 address: $NET.5;touch /tmp/md-injected"
	run md --hostname 'a$(touch /tmp/md-injected)' -- true
	assert_status 125
	[ ! -e /tmp/md-injected ]
}

@test "a container's host port is named for its address and is on the bridge" {
	sleeper mdtest1 --ip $NET.7
	run ip -o link show dev mdv010098000007
	assert_status 0
	assert_output_contains "master $BRIDGE "
}

@test "no veth, lease or registry entry is left after containers end" {
	md -- true
	md --ip $NET.3 -- true
	run md --ip $NET.300 -- true
	registry_empty
	# What stayed while a port went, the next start collects.
	md --net none -- true
	registry_clean
}

@test "a container's lease goes as it ends, and its port with its namespace" {
	md --ip $NET.4 -- true
	[ ! -e "$MDT_RUN/leases/$NET.4" ]
	wait_for 30 test ! -e /sys/class/net/mdv010098000004
}

@test "the same name and address work again right after a container ends" {
	for _ in 1 2 3 4 5; do
		run md -n again --ip $NET.5 -- true
		assert_status 0
	done
	for _ in 1 2 3 4 5; do
		run md -- true
		assert_status 0
	done
	registry_empty
}

@test "a rootfs without its mount points is refused in one line that names them all, bridge or not" {
	local r=/home/mdtest1/bare
	as_user mkdir -p "$r/bin" "$r/dev"
	for net in bridge none; do
		run as_user mdrun.sh --net $net -r "$r" -- /bin/sh
		assert_status 125
		assert_output "mdhelper: rootfs $r: no /proc, /sys to mount on (mkdir them; mdrootfs.sh import adds them)"
	done
	as_user rmdir "$r/dev"
	run as_user mdrun.sh -r "$r" -- /bin/sh
	assert_output "mdhelper: rootfs $r: no /proc, /dev, /sys to mount on (mkdir them; mdrootfs.sh import adds them)"
	registry_empty
}

@test "a refusal in the container's own setup is its one line: the network attach says nothing more" {
	local r=/home/mdtest1/bent
	as_user mkdir -p "$r/bin" "$r/dev" "$r/sys" "$r/elsewhere"
	as_user ln -s elsewhere "$r/proc"
	for _ in 1 2 3 4 5; do
		run as_user mdrun.sh -r "$r" -- /bin/sh
		assert_status 125
		assert_output "mdhelper: the rootfs's /proc is not a directory (a symlink is refused)"
	done
	registry_empty
}

@test "stop and kill return with the name and address free: the same start works at once, 5 times" {
	for _ in 1 2 3 4 5; do
		run as_user mdrun.sh -d -n again --ip $NET.5 -- sleep 60
		assert_status 0
		assert_output "again"
		run ctl stop -t 1 again
		assert_status 0
		assert_output "again"
		run as_user mdrun.sh -d -n again --ip $NET.5 -- sleep 60
		assert_status 0
		assert_output "again"
		run ctl kill again
		assert_status 0
		assert_output "again"
	done
	run ctl ps
	[ "${#lines[@]}" -eq 1 ]
	registry_empty
}

# A container of mdtest1's at $NET.1 that has ended while something (here
# host root) keeps its network namespace, and so its host port; the
# keeper's pid is in $BATS_TEST_TMPDIR/holder (teardown kills it).
ended_with_held_port() {
	local pid
	sleeper mdtest1 --ip $NET.1
	pid=$(pgrep -u mdtest1 -x sleep)
	nsenter --net="/proc/$pid/ns/net" sleep 60 </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/holder"
	stop_containers mdtest1
	[ -e /sys/class/net/mdv010098000001 ]
	[ ! -e "$MDT_RUN/leases/$NET.1" ]
}

@test "an ended container's address stays taken while its port is held, until a start needs it" {
	ended_with_held_port
	# Nobody else is given that address meanwhile...
	run md -- sh -c 'ip -4 -o addr show dev eth1'
	assert_output_contains "inet $NET.2/24 "
	# ...until a start asks for it: the port is removed, then it is free.
	run md --ip $NET.1 -- sh -c 'ip -4 -o addr show dev eth1'
	assert_status 0
	assert_output_contains "inet $NET.1/24 "
	kill "$(cat "$BATS_TEST_TMPDIR/holder")"
	registry_empty
}

@test "gc removes a held port of an ended container" {
	ended_with_held_port
	run as_user "$MDT_HELPER" gc
	assert_status 0
	[ ! -e /sys/class/net/mdv010098000001 ]
	kill "$(cat "$BATS_TEST_TMPDIR/holder")"
	registry_clean
}

@test "20 parallel starts get 20 different addresses" {
	net_conf 30
	for i in $(seq 20); do
		as_user mdrun.sh -- sh -c 'ip -o -4 addr show eth1; sleep 120' > "/home/mdtest1/par.$i" 2>&1 &
	done
	# All 20 up at once, however slow the starts (a 2 s sleep ended the
	# first before the last started under TCG, and their addresses were
	# rightly reused): they end when every one has printed its address.
	for _ in $(seq 600); do
		[ "$(cat /home/mdtest1/par.* | grep -c "inet $NET\.")" -lt 20 ] || break
		sleep 0.1
	done
	stop_containers
	wait
	addrs=$(cat /home/mdtest1/par.* | grep -o "inet $NET\.[0-9]*" | sort -u | wc -l)
	for i in $(seq 20); do echo "par.$i: $(cat "/home/mdtest1/par.$i")"; done
	rm -f /home/mdtest1/par.*
	[ "$addrs" -eq 20 ]
	registry_empty
}

@test "without a bridge up, containers get loopback only and --ip is refused" {
	"$MDT_BIN/mdnet.sh" down --config "$MDT_CONF" >/dev/null
	run md -- ls /sys/class/net
	local out=$output
	run md --ip $NET.5 -- true
	"$MDT_BIN/mdnet.sh" up --config "$MDT_CONF" >/dev/null
	[ "$out" = lo ]
	assert_status 125
	assert_output "mdhelper: no bridge is up: ask your administrator to run mdnet.sh up"
}

@test "a container dies with its helper, and gc removes all it left" {
	sleeper mdtest1
	pkill -KILL -U mdtest1 -x mdhelper
	wait_for 30 no_sleep mdtest1
	[ "$(registered)" -ge 1 ] # the helper had no chance to clean up
	run as_user "$MDT_HELPER" gc
	assert_status 0
	registry_clean
	[ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$MDT_CGNAME/*")" ]
}

@test "every start collects what killed helpers left" {
	sleeper mdtest1
	pkill -KILL -U mdtest1 -x mdhelper
	wait_for 30 no_sleep mdtest1
	run md -- true
	assert_status 0
	registry_empty
}
