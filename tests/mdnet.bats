#!/usr/bin/env bats
# mdnet.sh: the bridge (up/down/status) and a container's veth
# (attach/detach), run the way mdhelper runs it: as root, with an empty
# environment plus a fixed PATH, stdin /dev/null, cwd /.
#
# Everything lives on a bridge of its own (mdtnet0, 10.99.0.0/24, its
# anti-spoofing table minidocker-spoof-mdtnet0), with veths named for their
# addresses (mdv010099000*), in network namespaces held by `unshare --net sleep`:
# no traffic leaves those. NAT is checked by its rules only, never by
# sending anything out. MDT_QUICK=1 skips the timing test; MDT_MDNET names
# another mdnet.sh to test (default: the source tree's, e.g. set it to
# $MDT_ROOT/bin/mdnet.sh for the installed one).

load helper
bats_require_minimum_version 1.5.0

MDNET=${MDT_MDNET:-$MDT_TOP/scripts/mdnet.sh}
NET_PATH=/usr/sbin:/usr/bin:/sbin:/bin
BR=mdtnet0
GW=10.99.0.254
NAT_TABLE=minidocker-nat-$BR
SPOOF_TABLE=minidocker-spoof-$BR
# The host ports of 10.99.0.1 and 10.99.0.2.
V1=mdv010099000001
V2=mdv010099000002

setup_file() {
	# up --nat changes net.ipv4.ip_forward: put it back whatever happens.
	cat /proc/sys/net/ipv4/ip_forward >"$BATS_FILE_TMPDIR/ip_forward"
}

teardown_file() {
	local was
	was=$(cat "$BATS_FILE_TMPDIR/ip_forward")
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$was" ] || echo "$was" >/proc/sys/net/ipv4/ip_forward
}

setup() {
	require ip nsenter unshare
	[ "$(id -u)" = 0 ] || skip "mdnet.sh runs as root only"
	CONF=$BATS_TEST_TMPDIR/minidocker.conf
	printf '# test config\nbridge %s %s/24\n' "$BR" "$GW" >"$CONF"
	HOLDERS=$BATS_TEST_TMPDIR/holders
	: >"$HOLDERS"
}

teardown() {
	local pid v
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$HOLDERS"
	for v in /sys/class/net/mdtnv* /sys/class/net/mdv010099*; do
		[ -e "$v" ] && ip link del "${v##*/}" 2>/dev/null
	done
	for v in "$BR" mdtnet1; do
		[ -e "/sys/class/net/$v" ] && ip link del "$v"
	done
	if command -v nft >/dev/null; then
		nft delete table ip "$NAT_TABLE" 2>/dev/null || true
		nft delete table bridge "$SPOOF_TABLE" 2>/dev/null || true
	fi
	if command -v iptables >/dev/null; then
		iptables -t nat -S POSTROUTING 2>/dev/null | grep "minidocker-nat:$BR:" | tr -d '"' |
			while read -r _ chain rest; do
				# shellcheck disable=SC2086 # the rule's own words
				iptables -t nat -D "$chain" $rest || true
			done
	fi
	return 0
}

# mdnet.sh exactly as mdhelper runs it.
# `mdnet attach ID PID HOSTVETH BRIDGE` passes the network namespace of
# PID on fd 3, as mdhelper does (it never passes a pid); anything else goes
# as it is, with no fd 3 (bats' own closed).
mdnet() {
	if [ "${1:-}" = attach ] && [ $# -eq 5 ] && [ -e "/proc/${3:-x}/ns/net" ]; then
		local pid=$3
		set -- attach "$2" "$4" "$5"
		(cd / && exec env -i PATH="$NET_PATH" "$MDNET" "$@" </dev/null 3<"/proc/$pid/ns/net")
		return
	fi
	(cd / && exec env -i PATH="$NET_PATH" "$MDNET" "$@" </dev/null 3<&-)
}

# A process alone in a new network namespace, like mdhelper's waiting
# child; prints its pid once unshare has switched namespaces.
new_netns() {
	local pid
	unshare --net sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$HOLDERS"
	wait_for 30 test ! "/proc/$pid/ns/net" -ef /proc/self/ns/net || return 1
	echo "$pid"
}

# Wait (at most 30 s) for interface $1 to vanish with its namespace.
wait_gone() {
	wait_for 30 test ! -e "/sys/class/net/$1"
}

in_ns() {
	local pid=$1
	shift
	nsenter --net="/proc/$pid/ns/net" "$@"
}

# attach ID PID ADDR: mdnet.sh attach as mdhelper runs it, then eth1 set up
# inside as mdhelper's child does it (address with its broadcast, up,
# default route; lo up; ping for every group). net.bats checks that part
# through mdhelper itself.
attach() {
	local id=$1 pid=$2 addr=$3
	mdnet attach "$id" "$pid" "$(port "$addr")" "$BR" || return
	in_ns "$pid" ip -batch - <<EOF
address add $addr/24 brd + dev eth1
link set eth1 up
link set lo up
route add default via $GW dev eth1
EOF
	in_ns "$pid" sh -c 'echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range'
}

# The two lines of a refusal for misuse.
refused() {
	assert_status 2
	assert_output "mdnet.sh: $1
Try 'mdnet.sh --help' for more information."
}

# The host port name of address $1: mdv and its octets in 3 digits each.
port() {
	local IFS=.
	# shellcheck disable=SC2086 # splitting the address into octets
	printf 'mdv%03d%03d%03d%03d' $1
}

# The MAC attach gives the port of address $1: 02:42 and its octets in hex.
mac() {
	local IFS=.
	# shellcheck disable=SC2086 # splitting the address into octets
	printf '02:42:%02x:%02x:%02x:%02x' $1
}

# Whether the anti-spoofing table pairs port $1 with address $2 and its MAC.
spoof_pair() {
	nft list set bridge "$SPOOF_TABLE" leases | grep -q "\"$1\" \. $(mac "$2") \. $2[,} ]"
}

# Frames dropped from port $1.
spoof_drops() {
	nft list set bridge "$SPOOF_TABLE" dropped | grep -o "\"$1\" counter packets [0-9]*" | grep -o '[0-9]*$'
}

# The table without its counters: what attach and detach must not change.
spoof_rules() {
	nft -s list table bridge "$SPOOF_TABLE"
}

@test "--help prints the usage to stdout and exits 0" {
	run --separate-stderr mdnet --help
	assert_status 0
	[ "${lines[0]}" = "Usage: mdnet.sh up [--nat] [--config FILE]" ]
	assert_output_contains "mdnet.sh attach ID HOSTVETH BRIDGE 3<NETNS"
	assert_output_contains "mdv010000000001"
	[ -z "$stderr" ]
}

@test "mdnet.sh is shellcheck clean" {
	require shellcheck
	run shellcheck -s sh "$MDNET"
	assert_status 0
}

@test "up creates the bridge with its gateway address and brings it up" {
	run mdnet up --config "$CONF"
	assert_status 0
	assert_output ""
	[ -d "/sys/class/net/$BR/bridge" ]
	run ip -4 -o addr show dev "$BR"
	assert_output_contains "inet $GW/24 "
	[ $(($(cat "/sys/class/net/$BR/flags") & 1)) -eq 1 ]
}

@test "up is idempotent: a second run changes nothing" {
	mdnet up --config "$CONF"
	local before
	before=$(ip -4 -o addr show dev "$BR")
	run mdnet up --config "$CONF"
	assert_status 0
	assert_output ""
	[ "$(ip -4 -o addr show dev "$BR")" = "$before" ]
	[ "$(ip -4 -o addr show dev "$BR" | wc -l)" -eq 1 ]
}

@test "up moves the bridge to a changed config address" {
	mdnet up --config "$CONF"
	printf 'bridge %s 10.99.0.1/24\n' "$BR" >"$CONF"
	run mdnet up --config "$CONF"
	assert_status 0
	run ip -4 -o addr show dev "$BR"
	assert_output_contains "inet 10.99.0.1/24 "
	[ "${#lines[@]}" -eq 1 ]
}

@test "up refuses an existing interface that is not a bridge" {
	ip link add mdtnv9 type veth peer name mdtnv8
	printf 'bridge mdtnv9 10.99.0.254/24\n' >"$CONF"
	run mdnet up --config "$CONF"
	assert_status 1
	assert_output "mdnet.sh: up: mdtnv9 exists and is not a bridge"
	[ -e /sys/class/net/mdtnv9 ]
}

@test "down removes the bridge and is idempotent" {
	mdnet up --config "$CONF"
	run mdnet down --config "$CONF"
	assert_status 0
	assert_output ""
	[ ! -e "/sys/class/net/$BR" ]
	run mdnet down --config "$CONF"
	assert_status 0
	assert_output ""
}

@test "a config without a bridge line means md0 10.0.0.254/24" {
	echo '# nothing but a comment' >"$CONF"
	run mdnet status --config "$CONF" --rundir "$BATS_TEST_TMPDIR/run"
	assert_output_contains "bridge: md0 10.0.0.254/24 "
}

@test "a second bridge line is refused with file:line" {
	printf 'bridge %s %s/24\nbridge mdtnet1 10.99.1.254/24\n' "$BR" "$GW" >"$CONF"
	run mdnet up --config "$CONF"
	assert_status 1
	assert_output "mdnet.sh: $CONF:2: a second bridge line (the first is line 1)"
	[ ! -e "/sys/class/net/$BR" ]
}

@test "a malformed bridge line is refused with file:line" {
	local bad
	for bad in "bridge $BR" "bridge $BR 10.99.0.254" "bridge $BR 10.99.0.0/24" \
		"bridge MD0 10.99.0.254/24" "bridge $BR 10.99.0.254/24 extra" \
		"bridge a23456789012345x 10.99.0.254/24" "bridge $BR 10.99.0.254/31"; do
		printf '# line 1\n%s\n' "$bad" >"$CONF"
		run mdnet up --config "$CONF"
		assert_status 1
		assert_output "mdnet.sh: $CONF:2: expected 'bridge NAME ADDR/PREFIX' with NAME [a-z0-9-], at most 15 bytes, and a host ADDR in a /1../30 subnet"
	done
	[ ! -e "/sys/class/net/$BR" ]
}

@test "a missing config is refused" {
	run mdnet up --config "$BATS_TEST_TMPDIR/none.conf"
	assert_status 1
	assert_output "mdnet.sh: cannot read config $BATS_TEST_TMPDIR/none.conf"
}

@test "status lists the bridge, its ports with their addresses, and the leases" {
	require nft
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	mdnet attach web1 "$p1" $V1 "$BR"
	mkdir -p "$BATS_TEST_TMPDIR/run/leases"
	echo web1 >"$BATS_TEST_TMPDIR/run/leases/10.99.0.1"
	echo 'bad name!' >"$BATS_TEST_TMPDIR/run/leases/10.99.0.7"
	echo ignored >"$BATS_TEST_TMPDIR/run/leases/not-an-address"
	run mdnet status --config "$CONF" --rundir "$BATS_TEST_TMPDIR/run"
	assert_status 0
	# Frames dropped so far: IPv6 the kernel sends on its own, if any.
	output=$(printf '%s\n' "$output" | sed 's/([0-9]* frames dropped)$/(N frames dropped)/')
	assert_output "bridge: $BR $GW/24 (up)
nat: off
anti-spoofing: on
ports:
  $V1 10.99.0.1 web1 (N frames dropped)
leases:
  10.99.0.1 web1
  10.99.0.7 ?"
}

@test "status exits 1 when the bridge is not up" {
	run mdnet status --config "$CONF" --rundir "$BATS_TEST_TMPDIR/run"
	assert_status 1
	assert_output_contains "bridge: $BR $GW/24 (not up: run mdnet.sh up)"
}

@test "up --nat adds masquerading and forwarding; up and down take them away" {
	command -v nft >/dev/null || command -v iptables >/dev/null || skip "neither nft nor iptables"
	require nft
	local was
	was=$(cat /proc/sys/net/ipv4/ip_forward)
	run mdnet up --nat --config "$CONF"
	assert_status 0
	run nft list table ip "$NAT_TABLE"
	assert_output_contains "ip saddr 10.99.0.0/24 oifname != \"$BR\" masquerade"
	assert_output_contains "comment \"ip_forward was $was\""
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	run mdnet status --config "$CONF"
	assert_output_contains "nat: on"
	# Again: still one rule, and the first value is kept.
	mdnet up --nat --config "$CONF"
	[ "$(nft list table ip "$NAT_TABLE" | grep -c masquerade)" -eq 1 ]
	nft list table ip "$NAT_TABLE" | grep -q "comment \"ip_forward was $was\""
	# up without --nat converges to no NAT.
	mdnet up --config "$CONF"
	refute nft list table ip "$NAT_TABLE" 2>/dev/null
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$was" ]
	mdnet up --nat --config "$CONF"
	run mdnet down --config "$CONF"
	assert_status 0
	refute nft list table ip "$NAT_TABLE" 2>/dev/null
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$was" ]
}

# mdnet.sh on a machine without nft: hidden in a mount namespace of our own.
no_nft() {
	if [ "${1:-}" = attach ] && [ $# -eq 5 ]; then # the namespace of PID $3 on fd 3
		local pid=$3
		set -- attach "$2" "$4" "$5"
		unshare -m --propagation private sh -c \
			'p=$1 m=$2; shift 2; mount --bind /dev/null /usr/sbin/nft && cd / && exec env -i PATH="$p" "$m" "$@"' \
			- "$NET_PATH" "$MDNET" "$@" </dev/null 3<"/proc/$pid/ns/net"
		return
	fi
	unshare -m --propagation private sh -c \
		'p=$1 m=$2; shift 2; mount --bind /dev/null /usr/sbin/nft && cd / && exec env -i PATH="$p" "$m" "$@"' \
		- "$NET_PATH" "$MDNET" "$@" </dev/null
}

@test "without nft, up --nat masquerades with iptables and down removes it" {
	require iptables nft
	local was rules had_nat=1
	was=$(cat /proc/sys/net/ipv4/ip_forward)
	nft list table ip nat >/dev/null 2>&1 || had_nat=''
	run no_nft up --config "$CONF" --nat
	assert_status 0
	rules=$(iptables -t nat -S POSTROUTING)
	[[ "$rules" == *"-A POSTROUTING -s 10.99.0.0/24 ! -o $BR -m comment --comment \"minidocker-nat:$BR:ip_forward=$was\" -j MASQUERADE"* ]]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	run no_nft up --config "$CONF" --nat
	assert_status 0
	[ "$(iptables -t nat -S POSTROUTING | grep -c "minidocker-nat:$BR:")" -eq 1 ]
	run no_nft down --config "$CONF"
	assert_status 0
	refute grep -q "minidocker-nat:$BR:" <<<"$(iptables -t nat -S POSTROUTING)"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$was" ]
	# iptables made its nat table for us: take it away if it is empty.
	[ -n "$had_nat" ] || iptables -t nat -S | grep -q '^-A' || nft delete table ip nat
}

@test "without nft, attach and detach work, without anti-spoofing" {
	require nft
	run no_nft up --config "$CONF"
	assert_status 0
	refute nft list table bridge "$SPOOF_TABLE" 2>/dev/null
	local p1
	p1=$(new_netns)
	run no_nft attach c1 "$p1" $V1 "$BR"
	assert_status 0
	run in_ns "$p1" ip -o link show dev eth1
	assert_status 0
	run no_nft status --config "$CONF"
	assert_output_contains "anti-spoofing: off (nft is not installed)"
	assert_output_contains "  $V1 10.99.0.1 ?"
	run no_nft detach c1 $V1 10.99.0.1
	assert_status 0
	[ ! -e "/sys/class/net/$V1" ]
}

@test "attach makes the pair: the host port up on the bridge, eth1 bare in the namespace" {
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	run mdnet attach c1 "$p1" $V1 "$BR"
	assert_status 0
	assert_output ""
	run ip -o link show dev $V1
	assert_output_contains "master $BR state "
	assert_output_contains ",UP"
	# eth1's address, link state and route are mdhelper's, from inside.
	run in_ns "$p1" ip -o link show dev eth1
	assert_status 0
	[[ "$output" != *",UP"* ]]
	assert_output_contains "link/ether $(mac 10.99.0.1) "
	run in_ns "$p1" ip -4 -o addr show dev eth1
	assert_output ""
}

@test "an attached namespace pings its gateway" {
	require busybox
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	run in_ns "$p1" busybox ping -c1 -W2 "$GW"
	assert_status 0
}

@test "two attached namespaces ping each other" {
	require busybox
	mdnet up --config "$CONF"
	local p1 p2
	p1=$(new_netns)
	p2=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	attach c2 "$p2" 10.99.0.2
	run in_ns "$p1" busybox ping -c1 -W2 10.99.0.2
	assert_status 0
	run in_ns "$p2" busybox ping -c1 -W2 10.99.0.1
	assert_status 0
}

@test "the bridge drops frames from a port whose source is not its lease" {
	require busybox nft
	mdnet up --config "$CONF"
	local p1 p2 before
	p1=$(new_netns)
	p2=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	attach c2 "$p2" 10.99.0.2
	# The leased address works (and resolves the neighbours)...
	in_ns "$p1" busybox ping -c1 -W2 10.99.0.2
	in_ns "$p1" busybox ping -c1 -W2 "$GW"
	# ...another one, added by a root that could, does not.
	in_ns "$p1" ip addr add 10.99.0.77/24 dev eth1
	before=$(spoof_drops $V1)
	run in_ns "$p1" busybox ping -c1 -W1 -I 10.99.0.77 10.99.0.2
	assert_status 1
	run in_ns "$p1" busybox ping -c1 -W1 -I 10.99.0.77 "$GW"
	assert_status 1
	[ "$(spoof_drops $V1)" -gt "$before" ]
	# ARP claiming another sender address is dropped too: a fresh
	# neighbour lookup from the spoofed address gets no answer.
	in_ns "$p1" ip neigh flush dev eth1
	before=$(spoof_drops $V1)
	run in_ns "$p1" busybox ping -c1 -W1 -I 10.99.0.77 10.99.0.2
	assert_status 1
	run in_ns "$p1" ip neigh show 10.99.0.2 dev eth1
	[[ "$output" != *lladdr* ]]
	[ "$(spoof_drops $V1)" -gt "$before" ]
	# The leased address still works.
	in_ns "$p1" busybox ping -c1 -W2 10.99.0.2
}

@test "the bridge drops frames from a port whose Ethernet source is not its MAC" {
	require busybox nft
	mdnet up --config "$CONF"
	local p1 p2 before
	p1=$(new_netns)
	p2=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	attach c2 "$p2" 10.99.0.2
	in_ns "$p1" busybox ping -c1 -W2 10.99.0.2
	# The leased address from another MAC (the neighbour's, then any),
	# set by a root that could: nothing gets through, ARP included.
	for m in "$(mac 10.99.0.2)" 02:00:00:00:00:01; do
		in_ns "$p1" ip link set eth1 address "$m"
		in_ns "$p1" ip neigh flush dev eth1
		before=$(spoof_drops $V1)
		run in_ns "$p1" busybox ping -c1 -W1 "$GW"
		assert_status 1
		[ "$(spoof_drops $V1)" -gt "$before" ]
	done
	in_ns "$p1" ip link set eth1 address "$(mac 10.99.0.1)"
	in_ns "$p1" busybox ping -c1 -W2 "$GW"
}

@test "detach removes the veth, and is idempotent" {
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	run mdnet detach c1 $V1 10.99.0.1
	assert_status 0
	assert_output ""
	[ ! -e "/sys/class/net/$V1" ]
	run in_ns "$p1" ip link show eth1
	assert_status 1
	run mdnet detach c1 $V1 10.99.0.1
	assert_status 0
	assert_output ""
}

@test "attach and detach change no nft rule: up's table already pairs every port with its address" {
	require nft
	mdnet up --config "$CONF"
	local p1 before i
	before=$(spoof_rules)
	for i in 1 2 100 253; do
		spoof_pair "$(port "10.99.0.$i")" "10.99.0.$i"
	done
	refute spoof_pair $V1 10.99.0.2
	refute spoof_pair "$(port 10.99.0.254)" 10.99.0.254
	p1=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	[ "$(spoof_rules)" = "$before" ]
	kill "$p1"
	wait_gone $V1
	mdnet detach c1 $V1 10.99.0.1
	[ "$(spoof_rules)" = "$before" ]
}

@test "detach after the container's namespace is gone has nothing to do" {
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	kill "$p1"
	wait "$p1" 2>/dev/null || true
	wait_gone $V1
	run mdnet detach c1 $V1 10.99.0.1
	assert_status 0
	assert_output ""
	[ ! -e "/sys/class/net/$V1" ]
}

@test "detach leaves alone an interface that is not a veth" {
	mdnet up --config "$CONF"
	ip link add $V1 type bridge
	run mdnet detach c1 $V1 10.99.0.1
	assert_status 1
	assert_output "mdnet.sh: detach: $V1 is not a veth: left alone"
	[ -e "/sys/class/net/$V1" ]
}

@test "up makes the anti-spoofing table, status shows it, and down removes it" {
	require nft
	mdnet up --config "$CONF"
	run nft list chain bridge "$SPOOF_TABLE" antispoof
	assert_output_contains "iifname != @ports accept"
	assert_output_contains "iifname @dropped drop"
	run mdnet status --config "$CONF"
	assert_output_contains "anti-spoofing: on"
	nft delete table bridge "$SPOOF_TABLE"
	run mdnet status --config "$CONF"
	assert_output_contains "anti-spoofing: off (no table: run mdnet.sh up)"
	mdnet up --config "$CONF"
	nft list table bridge "$SPOOF_TABLE" >/dev/null
	mdnet down --config "$CONF"
	refute nft list table bridge "$SPOOF_TABLE" 2>/dev/null
}

@test "up refuses a subnet too large for the anti-spoofing table" {
	require nft
	printf 'bridge %s 10.99.0.254/15\n' "$BR" >"$CONF"
	run mdnet up --config "$CONF"
	assert_status 1
	assert_output "mdnet.sh: up: the anti-spoofing table lists every address of the subnet: 10.98.0.0/15 is too large, use a /16 or smaller subnet"
	refute nft list table bridge "$SPOOF_TABLE" 2>/dev/null
}

@test "up puts back on the bridge the ports down left behind" {
	require nft busybox
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	attach c1 "$p1" 10.99.0.1
	mdnet down --config "$CONF"
	[ -e "/sys/class/net/$V1" ]
	[ ! -e "/sys/class/net/$V1/master" ]
	mdnet up --config "$CONF"
	run ip -o link show dev $V1
	assert_output_contains "master $BR "
	run in_ns "$p1" busybox ping -c1 -W2 "$GW"
	assert_status 0
}

@test "twenty attaches at once all succeed, and twenty detaches" {
	mdnet up --config "$CONF"
	local i pids=() jobs=() j fail=0
	for i in $(seq 20); do
		pids+=("$(new_netns)")
	done
	for i in $(seq 20); do
		attach "c$i" "${pids[$((i - 1))]}" "10.99.0.$i" &
		jobs+=($!)
	done
	for j in "${jobs[@]}"; do wait "$j" || fail=$((fail + 1)); done
	[ "$fail" -eq 0 ]
	for i in $(seq 20); do
		in_ns "${pids[$((i - 1))]}" ip -4 -o addr show dev eth1 | grep -q "inet 10.99.0.$i/24 "
		ip -o link show dev "$(port "10.99.0.$i")" | grep -q "master $BR "
	done
	jobs=()
	for i in $(seq 20); do
		mdnet detach "c$i" "$(port "10.99.0.$i")" "10.99.0.$i" &
		jobs+=($!)
	done
	for j in "${jobs[@]}"; do wait "$j" || fail=$((fail + 1)); done
	[ "$fail" -eq 0 ]
	for i in $(seq 20); do
		[ ! -e "/sys/class/net/$(port "10.99.0.$i")" ]
	done
}

@test "attach refuses the host's network namespace on fd 3" {
	mdnet up --config "$CONF"
	local eth1_before
	eth1_before=$(cat /sys/class/net/eth1/ifindex 2>/dev/null || echo none)
	sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	echo $! >>"$HOLDERS"
	run mdnet attach c1 $! $V1 "$BR"
	assert_status 1
	assert_output "mdnet.sh: attach: fd 3 is the host's network namespace"
	[ ! -e "/sys/class/net/$V1" ]
	[ "$(cat /sys/class/net/eth1/ifindex 2>/dev/null || echo none)" = "$eth1_before" ]
}

@test "attach refuses without a network namespace on fd 3" {
	mdnet up --config "$CONF"
	run mdnet attach c1 $V1 "$BR"
	assert_status 1
	assert_output "mdnet.sh: attach: no network namespace on fd 3"
	[ ! -e "/sys/class/net/$V1" ]
}

@test "attach refuses a bridge that is not up" {
	local p1
	p1=$(new_netns)
	run mdnet attach c1 "$p1" $V1 "$BR"
	assert_status 1
	assert_output "mdnet.sh: attach: bridge $BR is not up: ask the administrator to run mdnet.sh up"
	[ ! -e "/sys/class/net/$V1" ]
}

@test "attach refuses a host veth name that exists, and leaves it alone" {
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	ip link add "$V1" type veth peer name mdtnv2
	run mdnet attach c1 "$p1" $V1 "$BR"
	assert_status 1
	assert_output "mdnet.sh: attach: $V1 already exists"
	[ -e "/sys/class/net/$V1" ]
	[ -e /sys/class/net/mdtnv2 ]
}

@test "a failing attach names the step and leaves nothing" {
	mdnet up --config "$CONF"
	local p1
	p1=$(new_netns)
	# eth1 taken in the namespace: ip link add fails, all or nothing.
	in_ns "$p1" ip link add eth1 type veth peer name x1
	run mdnet attach c1 "$p1" $V1 "$BR"
	assert_status 1
	assert_output_contains "mdnet.sh: attach: creating veth $V1 on $BR with eth1 in the container's namespace (ip link add) failed"
	[ ! -e "/sys/class/net/$V1" ]
	run in_ns "$p1" ip -o link show dev x1
	assert_status 0
}

@test "bad arguments are refused with exact messages" {
	local p=12345 a=10.99.0.1/24
	run mdnet
	refused "no command given"
	run mdnet frobnicate
	refused "unknown command: frobnicate"
	run mdnet up --bogus
	refused "up: unknown option: --bogus"
	run mdnet down --nat
	refused "down: unknown option: --nat"
	run mdnet up --config
	refused "up: --config needs a value"
	run mdnet up --config relative.conf
	refused "up: --config needs an absolute path: relative.conf"
	run mdnet status extra
	refused "status: unexpected argument: extra"
	run mdnet attach c1 $V1
	refused "attach: expected ID HOSTVETH BRIDGE (and a namespace on fd 3), got 2 arguments"
	run mdnet attach c1 "$p" $V1 "$BR"
	refused "attach: expected ID HOSTVETH BRIDGE (and a namespace on fd 3), got 4 arguments"
	run mdnet attach -c1 $V1 "$BR"
	refused "attach: invalid container id: -c1"
	run mdnet attach C1 $V1 "$BR"
	refused "attach: invalid container id: C1"
	run mdnet attach "$(printf 'a%.0s' $(seq 64))" $V1 "$BR"
	refused "attach: invalid container id: $(printf 'a%.0s' $(seq 64))"
	run mdnet attach c1 $V1 "md0/x"
	refused "attach: invalid bridge name: md0/x"
	run mdnet attach c1 $V1 "$(printf 'md0\033[2J')"
	refused "attach: invalid bridge name: (unprintable)"
	# A port's name is its address: anything else is refused, so no
	# other interface can be given a container's place on the bridge.
	local bad
	for bad in mdtnv1 mdv01009900001 mdv0100990000011 mdv256099000001 mdv01009900000a \
		mdv127000000001 mdv000099000001 mdv224000000001 "$BR" -mdv010099000001 ''; do
		run mdnet attach c1 "$bad" "$BR"
		refused "attach: not a container port (mdv and an address, 3 digits an octet): $bad"
	done
	run mdnet detach c1 $V1
	refused "detach: expected ID HOSTVETH ADDR, got 2 arguments"
	run mdnet detach c1 $V1 10.99.0.1/24
	refused "detach: invalid address: 10.99.0.1/24"
	run mdnet detach 'c1;x' $V1 10.99.0.1
	refused "detach: invalid container id: c1;x"
	run mdnet detach c1 "$V1 x" 10.99.0.1
	refused "detach: invalid veth name: $V1 x"
	run mdnet detach c1 $V2 10.99.0.1
	refused "detach: the veth for 10.99.0.1 is $V1, not $V2"
}

@test "injection attempts in arguments create nothing and run nothing" {
	mdnet up --config "$CONF"
	local p1 m=$BATS_TEST_TMPDIR/pwned bad v5
	v5=$(port 10.99.0.5)
	p1=$(new_netns)
	for bad in "10.99.0.5;touch $m" "10.99.0.5/24;touch $m" "\$(touch $m)" \
		"\`touch $m\`" "10.99.0.5/24|touch $m" "10.99.0.5/24 && touch $m" \
		"10.99.0.5/24
touch $m"; do
		run mdnet attach c1 "$p1" "$bad" "$BR"
		assert_status 2
		run mdnet detach c1 $V1 "$bad"
		assert_status 2
	done
	run mdnet attach "c1;touch $m" "$p1" "$v5" "$BR"
	assert_status 2
	run mdnet attach c1 "$p1;touch $m" "$v5" "$BR"
	assert_status 2
	run mdnet attach c1 "$p1" "x;touch $m" "$BR"
	assert_status 2
	run mdnet attach c1 "$p1" "$v5" "$BR;touch $m"
	assert_status 2
	run mdnet up --config "$CONF;touch $m"
	assert_status 1
	[ ! -e "$m" ]
	[ ! -e "/sys/class/net/$v5" ]
	run in_ns "$p1" ip link show eth1
	assert_status 1
}

@test "a hostile environment changes nothing" {
	local p1 c m=$BATS_TEST_TMPDIR/pwned evil=$BATS_TEST_TMPDIR/evil
	mkdir -p "$evil"
	for c in ip nft nsenter sysctl sh sed tr; do
		printf '#!/bin/sh\ntouch %s\n' "$m" >"$evil/$c"
		chmod 755 "$evil/$c"
	done
	printf 'touch %s\n' "$m" >"$evil/env.sh"
	(cd / && env -i PATH="$evil:$NET_PATH" IFS=x ENV="$evil/env.sh" BASH_ENV="$evil/env.sh" \
		LD_PRELOAD=/nonexistent.so "$MDNET" up --config "$CONF" </dev/null)
	p1=$(new_netns)
	run env -i PATH="$evil:$NET_PATH" IFS=. ENV="$evil/env.sh" CDPATH="$evil" \
		"$MDNET" attach c1 $V1 "$BR" 3<"/proc/$p1/ns/net"
	assert_status 0
	[ ! -e "$m" ]
	run in_ns "$p1" ip -o link show dev eth1
	assert_status 0
}

@test "a user who is not root is refused" {
	run runuser -u "$MDT_USER" -- env -i PATH="$NET_PATH" "$MDNET" status --config "$CONF"
	assert_status 1
	assert_output "mdnet.sh: must be run as root"
	run runuser -u "$MDT_USER" -- env -i PATH="$NET_PATH" "$MDNET" detach c1 $V1 10.99.0.1
	assert_status 1
	assert_output "mdnet.sh: must be run as root"
}

# Not a pass/fail on speed (the machine is shared): prints the figures.
@test "attach and detach timings (median of 20 runs)" {
	[ -z "${MDT_QUICK:-}" ] || skip "MDT_QUICK is set"
	mdnet up --config "$CONF"
	local i p s e att=() det=() gone=() base=()
	for i in $(seq 20); do
		p=$(new_netns)
		s=$EPOCHREALTIME
		env -i PATH="$NET_PATH" "$MDNET" attach "c$i" $V1 "$BR" </dev/null 3<"/proc/$p/ns/net"
		e=$EPOCHREALTIME
		att+=($((${e/./} - ${s/./})))
		# The helper's usual case: the container has ended, its netns
		# with it, and the veth has vanished.
		kill "$p"
		wait "$p" 2>/dev/null || true
		wait_gone $V1
		s=$EPOCHREALTIME
		env -i PATH="$NET_PATH" "$MDNET" detach "c$i" $V1 10.99.0.1 </dev/null
		e=$EPOCHREALTIME
		gone+=($((${e/./} - ${s/./})))
		# The veth still there (helper killed, gc).
		p=$(new_netns)
		env -i PATH="$NET_PATH" "$MDNET" attach "c$i" $V2 "$BR" </dev/null 3<"/proc/$p/ns/net"
		s=$EPOCHREALTIME
		env -i PATH="$NET_PATH" "$MDNET" detach "c$i" $V2 10.99.0.2 </dev/null
		e=$EPOCHREALTIME
		det+=($((${e/./} - ${s/./})))
		kill "$p"
		s=$EPOCHREALTIME
		env -i PATH="$NET_PATH" /bin/true
		e=$EPOCHREALTIME
		base+=($((${e/./} - ${s/./})))
	done
	median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
	echo "# mdnet.sh attach: median $(median "${att[@]}") ms" >&3
	echo "# mdnet.sh detach, veth gone: median $(median "${gone[@]}") ms" >&3
	echo "# mdnet.sh detach, veth present: median $(median "${det[@]}") ms" >&3
	echo "# (env -i /bin/true, the cost of one process here: median $(median "${base[@]}") ms)" >&3
	[ ! -e "/sys/class/net/$V1" ]
	[ ! -e /sys/class/net/$V2 ]
}
