#!/bin/sh
# Usage: mdnet.sh up [--nat] [--config FILE]
#        mdnet.sh down [--config FILE]
#        mdnet.sh status [--config FILE] [--rundir DIR]
#        mdnet.sh attach ID PID HOSTVETH BRIDGE ADDR/PREFIX GATEWAY
#        mdnet.sh detach ID HOSTVETH ADDR
# Summary: the minidocker bridge, and each container's veth and address (root only)
#
# up      Create the bridge named by the config's `bridge NAME ADDR/PREFIX`
#         line (default: md0 10.0.0.254/24) with its gateway address, and the
#         nftables anti-spoofing table; put back on it the ports of running
#         containers that `down` took off. With --nat, also turn on IPv4
#         forwarding and masquerade the bridge's subnet (nftables, else
#         iptables); without it, remove them. Safe to run again.
# down    Remove the bridge, its masquerading, and the forwarding that `up
#         --nat` turned on. Safe to run again. Running containers keep their
#         veth and anti-spoofing chain, and lose the bridge until `up`.
# status  Print the bridge, NAT, anti-spoofing, the ports on the bridge and
#         the leases in DIR/leases (default /run/minidocker). Exit 1 when the
#         bridge is not up.
# attach  Called by mdhelper only: create a veth pair whose peer is born in
#         the network namespace of process PID as eth1, put HOSTVETH on
#         BRIDGE, give eth1 ADDR/PREFIX and a default route via GATEWAY, bring
#         up eth1 and lo, allow ping in that namespace, and drop frames from
#         HOSTVETH whose source is not ADDR. On failure, undo all of it.
# detach  Called by mdhelper only: remove HOSTVETH if it still exists and its
#         anti-spoofing chain, unless that chain says the port is now another
#         container's or has another address. Safe to run again.
#
#   --config FILE  the minidocker config (default /etc/minidocker/minidocker.conf)
#   --nat          masquerade the bridge's subnet behind the host's addresses
#   --rundir DIR   where mdhelper keeps leases (default /run/minidocker)
#
# Exit status: 0 done, 1 a step failed (the message names it), 2 misuse.
#
# mdnet.sh is the one program mdhelper runs as root (SECURITY.md item 18): it
# gets an empty environment and trusts none of its arguments, so it sources
# nothing, sets its own PATH and checks every argument against a fixed
# pattern before use.

set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
IFS='
 	'
LC_ALL=C
export LC_ALL
umask 022
# mdhelper gives an empty environment; run by hand, keep the caller's
# loader and resolver settings away from the tools run here.
unset CDPATH ENV BASH_ENV LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT GCONV_PATH \
	LOCPATH NLSPATH HOSTALIASES RES_OPTIONS LOCALDOMAIN TMPDIR
# No globbing: arguments and config words are never patterns. `status`
# turns it back on where it lists directories.
set -f

PROG=mdnet.sh
DEFAULT_CONF=/etc/minidocker/minidocker.conf
DEFAULT_RUNDIR=/run/minidocker
DEFAULT_BRIDGE=md0
DEFAULT_BRIDGE_ADDR=10.0.0.254/24
# The container's end of the pair, as DESIGN.md names it.
PEER=eth1
# Our nftables objects: one anti-spoofing table in family bridge for every
# bridge (ports are keyed by their unique interface names), one NAT table per
# bridge in family ip.
SPOOF=minidocker
NAT_PREFIX=minidocker-nat-

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

usage_error() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	printf "Try '%s --help' for more information.\n" "$PROG" >&2
	exit 2
}

# The '# Usage:' block at the top of this file is the --help text.
help() {
	sed -n '/^# Usage:/,/^[^#]/{/^[^#]/d;s/^# \{0,1\}//;p;}' "$0"
}

# An argument as it may be shown in a message: never raw control bytes.
shown() {
	case $1 in
	*[![:print:]]*) printf '(unprintable)' ;;
	*) printf '%s' "$1" ;;
	esac
}

# Without forking id(1): attach is on every container's start path.
require_root() {
	while read -r rr_key _ rr_eff _; do
		case $rr_key in Uid:) break ;; esac
	done </proc/self/status
	[ "${rr_eff:-}" = 0 ] || die "must be run as root"
}

# --- argument checks: fixed patterns, anything else refused -----------------

# Container id: [a-z0-9][a-z0-9_.-]{0,62}.
is_id() {
	case $1 in
	'' | [!a-z0-9]* | *[!a-z0-9_.-]*) return 1 ;;
	esac
	[ ${#1} -le 63 ]
}

# Interface name: [a-z0-9][a-z0-9-]*, at most 15 bytes (IFNAMSIZ - 1).
is_ifname() {
	case $1 in
	'' | [!a-z0-9]* | *[!a-z0-9-]*) return 1 ;;
	esac
	[ ${#1} -le 15 ]
}

# A pid: no sign, no leading zero, at most the kernel's 2^22 ceiling.
is_pid() {
	case $1 in
	'' | 0* | *[!0-9]*) return 1 ;;
	esac
	[ ${#1} -le 7 ] && [ "$1" -le 4194304 ]
}

# Dotted-quad IPv4, four decimal octets without leading zeros (some tools
# would read 010 as octal); sets ip_num to its value as a number.
is_ipv4() {
	case $1 in
	'' | *[!0-9.]* | .* | *. | *..*) return 1 ;;
	esac
	ip_rest=$1 ip_num=0 ip_count=0
	while [ -n "$ip_rest" ]; do
		ip_octet=${ip_rest%%.*}
		case $ip_rest in *.*) ip_rest=${ip_rest#*.} ;; *) ip_rest= ;; esac
		case $ip_octet in 0?*) return 1 ;; esac
		[ ${#ip_octet} -le 3 ] && [ "$ip_octet" -le 255 ] || return 1
		ip_num=$((ip_num * 256 + ip_octet)) ip_count=$((ip_count + 1))
	done
	[ "$ip_count" -eq 4 ]
}

# A host address one can give an interface: not in 0/8, 127/8 or 224/3.
is_host_ipv4() {
	is_ipv4 "$1" || return 1
	ip_first=$((ip_num >> 24))
	[ "$ip_first" -ne 0 ] && [ "$ip_first" -ne 127 ] && [ "$ip_first" -lt 224 ]
}

# ADDR/PREFIX with PREFIX 1..30 and ADDR neither the network nor the
# broadcast address of its subnet; sets cidr_addr, cidr_prefix, cidr_net
# (number), cidr_mask (number) and cidr_network (ADDR/PREFIX text).
is_cidr() {
	case $1 in */*) ;; *) return 1 ;; esac
	cidr_addr=${1%/*} cidr_prefix=${1#*/}
	case $cidr_prefix in
	'' | 0* | *[!0-9]*) return 1 ;;
	esac
	[ ${#cidr_prefix} -le 2 ] && [ "$cidr_prefix" -le 30 ] || return 1
	is_host_ipv4 "$cidr_addr" || return 1
	cidr_mask=$(((0xffffffff << (32 - cidr_prefix)) & 0xffffffff))
	cidr_net=$((ip_num & cidr_mask))
	cidr_host=$((ip_num & ~cidr_mask & 0xffffffff))
	[ "$cidr_host" -ne 0 ] && [ "$cidr_host" -ne $((~cidr_mask & 0xffffffff)) ] || return 1
	cidr_network=$((cidr_net >> 24 & 255)).$((cidr_net >> 16 & 255)).$((cidr_net >> 8 & 255)).$((cidr_net & 255))/$cidr_prefix
}

# --- config -----------------------------------------------------------------

# Read the `bridge NAME ADDR/PREFIX` line of $1 into conf_bridge and
# conf_addr; the default when there is none. Other lines are mdhelper's.
read_conf() {
	rc_file=$1 rc_name=$(shown "$1")
	{ [ -f "$rc_file" ] && [ -r "$rc_file" ]; } || die "cannot read config $rc_name"
	conf_bridge='' conf_addr='' conf_line=0 conf_seen=''
	while IFS= read -r conf_text || [ -n "$conf_text" ]; do
		conf_line=$((conf_line + 1))
		# Word-split the line (globbing is off) to look at its keyword.
		# shellcheck disable=SC2086 # splitting into words is the point
		set -- $conf_text
		[ "${1:-}" = bridge ] || continue
		[ -z "$conf_seen" ] ||
			die "$rc_name:$conf_line: a second bridge line (the first is line $conf_seen)"
		conf_seen=$conf_line
		{ [ $# -eq 3 ] && is_ifname "$2" && is_cidr "$3"; } ||
			die "$rc_name:$conf_line: expected 'bridge NAME ADDR/PREFIX' with NAME [a-z0-9-], at most 15 bytes, and a host ADDR in a /1../30 subnet"
		conf_bridge=$2 conf_addr=$3
	done <"$rc_file"
	conf_bridge=${conf_bridge:-$DEFAULT_BRIDGE}
	conf_addr=${conf_addr:-$DEFAULT_BRIDGE_ADDR}
	is_cidr "$conf_addr"
}

# Options shared by up/down/status: --config, --nat, --rundir (each verb
# says which it takes in $1, a list like "config nat").
parse_opts() {
	po_allowed=$1 po_verb=$2
	shift 2
	conf_file=$DEFAULT_CONF rundir=$DEFAULT_RUNDIR nat=
	while [ $# -gt 0 ]; do
		case $1 in
		--config | --rundir | --nat)
			case " $po_allowed " in
			*" ${1#--} "*) ;;
			*) usage_error "$po_verb: unknown option: $1" ;;
			esac ;;
		-*) usage_error "$po_verb: unknown option: $(shown "$1")" ;;
		*) usage_error "$po_verb: unexpected argument: $(shown "$1")" ;;
		esac
		case $1 in
		--nat) nat=1 ;;
		--config | --rundir)
			{ [ $# -ge 2 ] && [ -n "$2" ]; } || usage_error "$po_verb: $1 needs a value"
			case $2 in
			/*) ;;
			*) usage_error "$po_verb: $1 needs an absolute path: $(shown "$2")" ;;
			esac
			if [ "$1" = --config ]; then conf_file=$2; else rundir=$2; fi
			shift ;;
		esac
		shift
	done
}

have_nft() {
	command -v nft >/dev/null 2>&1
}
have_iptables() {
	command -v iptables >/dev/null 2>&1
}

# --- up / down --------------------------------------------------------------

# The anti-spoofing table. Each port has a chain of its own, port-NAME, that
# accepts IPv4 from, and ARP for, the port's address and drops every other
# frame (other addresses, IPv6, VLAN tags); the map @ports sends a frame
# entering a bridge from that port to its chain. Ports not in the map are
# not ours and pass (failing closed for every port of our bridges would need
# `meta ibrname`, which kernels without nft_meta_bridge refuse). Built with
# `add` and the base chain flushed and refilled in one transaction, so
# running it again (up, or attach finding the table gone) never duplicates a
# rule nor loses a port.
ensure_spoof_table() {
	nft -f - <<EOF
add table bridge $SPOOF
add map bridge $SPOOF ports { type ifname : verdict; }
add chain bridge $SPOOF antispoof { type filter hook prerouting priority -200; policy accept; }
flush chain bridge $SPOOF antispoof
add rule bridge $SPOOF antispoof iifname vmap @ports
EOF
}

# The table as text, for status and up to read; fails when there is none.
spoof_listing() {
	nft list table bridge "$SPOOF" 2>/dev/null
}

# Call $1 PORT ADDR ID DROPS for each port chain in the listing $2, until
# it returns non-zero.
each_spoof_port() {
	ep_fn=$1 ep_port='' ep_addr='' ep_id='' ep_drops=''
	while read -r ep_1 ep_2 ep_3 _ _ ep_6 _; do
		case "$ep_1 $ep_2" in
		"chain port-"*) ep_port=${ep_2#port-} ep_addr='' ep_id='' ep_drops='' ;;
		"ip saddr") ep_addr=$ep_3 ep_id=${ep_6#\"} ep_id=${ep_id%\"} ;;
		"counter packets")
			ep_drops=$ep_3
			if is_ifname "$ep_port" && is_ipv4 "$ep_addr"; then
				"$ep_fn" "$ep_port" "$ep_addr" "$ep_id" "$ep_drops" || return 0
			fi
			ep_port='' ;;
		esac
	done <<EOF
$2
EOF
}

ensure_bridge() {
	eb_dir=/sys/class/net/$conf_bridge
	if [ -e "$eb_dir" ]; then
		[ -d "$eb_dir/bridge" ] || die "up: $conf_bridge exists and is not a bridge"
	else
		ip link add "$conf_bridge" type bridge || die "up: creating bridge $conf_bridge (ip link add) failed"
	fi
	# Converge on the configured address: drop any other IPv4 address a
	# previous config gave it.
	eb_addrs=$(ip -4 -o addr show dev "$conf_bridge") || die "up: listing the addresses of $conf_bridge failed"
	eb_have=
	while read -r _ _ _ eb_a _; do
		case $eb_a in
		"$conf_addr") eb_have=1 ;;
		'') ;;
		*) ip addr del "$eb_a" dev "$conf_bridge" || die "up: removing old address $eb_a from $conf_bridge failed" ;;
		esac
	done <<EOF
$eb_addrs
EOF
	[ -n "$eb_have" ] || ip addr add "$conf_addr" dev "$conf_bridge" ||
		die "up: adding $conf_addr to $conf_bridge failed"
	ip link set "$conf_bridge" up || die "up: bringing $conf_bridge up failed"
}

# Ports left without a master by `down` (their containers still running)
# go back on the bridge: their anti-spoofing chains name them.
reattach_ports() {
	ra_list=$(spoof_listing) || return 0
	each_spoof_port reattach_port "$ra_list"
}

reattach_port() {
	is_ipv4 "$2"
	[ $((ip_num & cidr_mask)) -eq "$cidr_net" ] || return 0
	[ -e "/sys/class/net/$1" ] && [ ! -e "/sys/class/net/$1/master" ] || return 0
	ip link set "$1" master "$conf_bridge" ||
		die "up: putting port $1 back on $conf_bridge failed"
}

nat_table() {
	echo "$NAT_PREFIX$conf_bridge"
}

# The ip_forward value from before `up --nat` first turned it on, as
# recorded with the NAT rule; empty when there is no rule.
nat_recorded_forward() {
	if have_nft; then
		nr_text=$(nft list table ip "$(nat_table)" 2>/dev/null) || return 0
		case $nr_text in
		*'"ip_forward was 0"'*) echo 0 ;;
		*) echo 1 ;;
		esac
	elif have_iptables; then
		nr_text=$(iptables -t nat -S POSTROUTING) || die "reading the iptables nat table failed"
		case $nr_text in
		*"minidocker-nat:$conf_bridge:ip_forward=0"*) echo 0 ;;
		*"minidocker-nat:$conf_bridge:"*) echo 1 ;;
		esac
	fi
}

# /proc/sys files give no byte after the first read(2) of one byte, which
# is how dash reads: the line comes without its newline, so read fails.
read_forward() {
	rf_value=''
	read -r rf_value </proc/sys/net/ipv4/ip_forward || [ -n "$rf_value" ] ||
		die "reading net.ipv4.ip_forward failed"
	echo "$rf_value"
}

nat_on() {
	no_prev=$(nat_recorded_forward)
	[ -n "$no_prev" ] || no_prev=$(read_forward)
	if have_nft; then
		# add + delete + define in one transaction: an atomic replace.
		nft -f - <<EOF || die "up --nat: installing the nftables masquerade rule failed"
add table ip $(nat_table)
delete table ip $(nat_table)
table ip $(nat_table) {
	comment "ip_forward was $no_prev"
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr $cidr_network oifname != "$conf_bridge" masquerade
	}
}
EOF
	elif have_iptables; then
		nat_off_iptables
		iptables -t nat -A POSTROUTING -s "$cidr_network" ! -o "$conf_bridge" \
			-m comment --comment "minidocker-nat:$conf_bridge:ip_forward=$no_prev" -j MASQUERADE ||
			die "up --nat: adding the iptables masquerade rule failed"
	else
		die "up --nat: neither nft nor iptables is installed"
	fi
	echo 1 >/proc/sys/net/ipv4/ip_forward || die "up --nat: turning on net.ipv4.ip_forward failed"
}

# Delete our MASQUERADE rules for this bridge, whatever subnet they name.
nat_off_iptables() {
	nf_rules=$(iptables -t nat -S POSTROUTING) || die "reading the iptables nat table failed"
	while read -r nf_rule; do
		case $nf_rule in
		"-A POSTROUTING "*"minidocker-nat:$conf_bridge:"*) ;;
		*) continue ;;
		esac
		nf_rule=$(printf '%s\n' "$nf_rule" | tr -d '"')
		# shellcheck disable=SC2086 # the rule's own words, globbing is off
		iptables -t nat -D ${nf_rule#-A } || die "removing the iptables masquerade rule failed"
	done <<EOF
$nf_rules
EOF
}

# Remove the masquerading, and put ip_forward back to 0 if `up --nat` turned
# it on and no other minidocker bridge still masquerades.
nat_off() {
	nf_prev=$(nat_recorded_forward)
	[ -n "$nf_prev" ] || return 0
	if have_nft; then
		nft delete table ip "$(nat_table)" || die "removing the nftables masquerade table failed"
		nf_others=$(nft list tables ip) || die "listing nftables tables failed"
		case $nf_others in *" $NAT_PREFIX"*) return 0 ;; esac
	else
		nat_off_iptables
		nf_others=$(iptables -t nat -S POSTROUTING) || die "reading the iptables nat table failed"
		case $nf_others in *minidocker-nat:*) return 0 ;; esac
	fi
	if [ "$nf_prev" = 0 ]; then
		echo 0 >/proc/sys/net/ipv4/ip_forward || die "turning net.ipv4.ip_forward back off failed"
	fi
}

cmd_up() {
	parse_opts "config nat" up "$@"
	require_root
	read_conf "$conf_file"
	ensure_bridge
	if have_nft; then
		ensure_spoof_table || die "up: creating the nftables anti-spoofing table failed"
		reattach_ports
	fi
	if [ -n "$nat" ]; then nat_on; else nat_off; fi
}

cmd_down() {
	parse_opts "config" down "$@"
	require_root
	read_conf "$conf_file"
	nat_off
	if [ -e "/sys/class/net/$conf_bridge" ]; then
		[ -d "/sys/class/net/$conf_bridge/bridge" ] || die "down: $conf_bridge is not a bridge: left alone"
		ip link del "$conf_bridge" || die "down: deleting bridge $conf_bridge failed"
	fi
}

# --- status -----------------------------------------------------------------

cmd_status() {
	parse_opts "config rundir" status "$@"
	require_root
	read_conf "$conf_file"
	st_dir=/sys/class/net/$conf_bridge
	st_rc=0
	if [ -d "$st_dir/bridge" ]; then
		st_flags=0
		read -r st_flags <"$st_dir/flags" || true
		case $st_flags in 0x*[!0-9a-f]* | 0x) st_flags=0 ;; 0x*) ;; *) st_flags=0 ;; esac
		# IFF_UP is bit 0.
		if [ $((st_flags & 1)) -eq 1 ]; then
			echo "bridge: $conf_bridge $conf_addr (up)"
		else
			echo "bridge: $conf_bridge $conf_addr (down: run mdnet.sh up)"
			st_rc=1
		fi
	else
		echo "bridge: $conf_bridge $conf_addr (not up: run mdnet.sh up)"
		st_rc=1
	fi
	case $(nat_recorded_forward) in
	'') echo "nat: off" ;;
	*) echo "nat: on" ;;
	esac
	st_spoof=''
	if ! have_nft; then
		echo "anti-spoofing: off (nft is not installed)"
	elif st_spoof=$(spoof_listing); then
		echo "anti-spoofing: on"
	else
		echo "anti-spoofing: off (no table: run mdnet.sh up)"
	fi
	echo "ports:"
	set +f
	for st_port in "$st_dir"/brif/*; do
		[ -e "$st_port" ] || continue
		st_port=${st_port##*/}
		st_found=''
		each_spoof_port status_port "$st_spoof"
		[ -n "$st_found" ] || printf '  %s (no anti-spoofing chain)\n' "$st_port"
	done
	echo "leases:"
	for st_lease in "$rundir"/leases/*; do
		[ -f "$st_lease" ] || continue
		is_ipv4 "${st_lease##*/}" || continue
		st_name=
		read -r st_name <"$st_lease" || true
		is_id "$st_name" || st_name='?'
		printf '  %s %s\n' "${st_lease##*/}" "$st_name"
	done
	set -f
	return $st_rc
}

# One line of status for port $st_port, when $1 is it.
status_port() {
	[ "$1" = "$st_port" ] || return 0
	st_found=1
	printf '  %s %s %s (%s frames dropped)\n' "$1" "$2" "${3:-?}" "$4"
	return 1
}

# --- attach / detach ---------------------------------------------------------

check_attach_args() {
	[ $# -eq 6 ] || usage_error "attach: expected ID PID HOSTVETH BRIDGE ADDR/PREFIX GATEWAY, got $# arguments"
	is_id "$1" || usage_error "attach: invalid container id: $(shown "$1")"
	is_pid "$2" || usage_error "attach: invalid pid: $(shown "$2")"
	is_ifname "$3" || usage_error "attach: invalid veth name: $(shown "$3")"
	[ "$3" != "$4" ] || usage_error "attach: the veth and the bridge have the same name: $3"
	is_ifname "$4" || usage_error "attach: invalid bridge name: $(shown "$4")"
	is_cidr "$5" || usage_error "attach: invalid address: $(shown "$5")"
	is_host_ipv4 "$6" || usage_error "attach: invalid gateway: $(shown "$6")"
	{ [ $((ip_num & cidr_mask)) -eq "$cidr_net" ] && [ "$6" != "$cidr_addr" ]; } ||
		usage_error "attach: gateway $6 is not another address in $cidr_network"
	at_gw_host=$((ip_num & ~cidr_mask & 0xffffffff))
	{ [ "$at_gw_host" -ne 0 ] && [ "$at_gw_host" -ne $((~cidr_mask & 0xffffffff)) ]; } ||
		usage_error "attach: gateway $6 is the network or broadcast address of $cidr_network"
}

# What attach has done so far, for undo on failure or signal: background
# jobs still to reap, the veth made, the anti-spoofing entries added.
at_jobs='' at_veth='' at_spoof='' at_done=''

attach_undo() {
	[ -z "$at_done" ] || return 0
	for au_job in $at_jobs; do
		wait "$au_job" 2>/dev/null || true
	done
	if [ -n "$at_veth" ]; then
		ip link del "$at_veth" 2>/dev/null || true
	fi
	if [ -n "$at_spoof" ]; then
		spoof_forget "$at_veth_name" || true
	fi
}

# Reap background job $1; its status.
reap() {
	rp_rc=0
	wait "$1" || rp_rc=$?
	at_jobs=${at_jobs#"$1 "}
	return $rp_rc
}

# Let port $1 send as address $2 only (the rule commented with the id $3).
# The chain is flushed first: entries a lost detach left for a port of the
# same name cannot grant a second address.
spoof_allow() {
	spoof_allow_once "$@" 2>/dev/null && return 0
	# The table is gone (no `up` since nft was installed, or a flushed
	# ruleset): make it, then say why if it still fails.
	ensure_spoof_table && spoof_allow_once "$@"
}

spoof_allow_once() {
	nft add chain bridge "$SPOOF" "port-$1" \; \
		flush chain bridge "$SPOOF" "port-$1" \; \
		add rule bridge "$SPOOF" "port-$1" ether type ip ip saddr "$2" accept comment "\"$3\"" \; \
		add rule bridge "$SPOOF" "port-$1" ether type arp arp saddr ip "$2" accept \; \
		add rule bridge "$SPOOF" "port-$1" counter drop \; \
		add element bridge "$SPOOF" ports "{ \"$1\" : jump port-$1 }"
}

# Remove port $1's map entry and chain; what is already gone is not an
# error, any other failure is.
spoof_forget() {
	sf_err=$(nft delete element bridge "$SPOOF" ports "{ \"$1\" }" \; \
		delete chain bridge "$SPOOF" "port-$1" 2>&1) && return 0
	spoof_gone "$sf_err" || return 1
	# One of the two was missing, so the transaction did nothing: retry
	# each alone, the map entry first (it holds the chain).
	sf_err=$(nft delete element bridge "$SPOOF" ports "{ \"$1\" }" 2>&1) ||
		spoof_gone "$sf_err" || return 1
	sf_err=$(nft delete chain bridge "$SPOOF" "port-$1" 2>&1) ||
		spoof_gone "$sf_err"
}

# True when nft's error $1 says the element, set or table does not exist;
# otherwise show the error and fail.
spoof_gone() {
	case $1 in
	*'No such file or directory'*) return 0 ;;
	esac
	printf '%s\n' "$1" >&2
	return 1
}

cmd_attach() {
	check_attach_args "$@"
	at_id=$1 at_pid=$2 at_veth_name=$3 at_bridge=$4 at_addr=$cidr_addr
	at_cidr=$5 at_gw=$6
	require_root
	at_ns=/proc/$at_pid/ns/net
	[ -e "$at_ns" ] || die "attach: no process $at_pid"
	# Never configure the host's own namespace as a container's.
	# shellcheck disable=SC3013 # -ef is in dash, bash, busybox and ksh; where missing, [ fails and we die
	! [ "$at_ns" -ef /proc/self/ns/net ] ||
		die "attach: process $at_pid is in the host's network namespace"
	[ -d "/sys/class/net/$at_bridge/bridge" ] ||
		die "attach: bridge $at_bridge is not up: ask the administrator to run mdnet.sh up"
	[ ! -e "/sys/class/net/$at_veth_name" ] || die "attach: $at_veth_name already exists"

	trap attach_undo EXIT
	trap 'exit 1' INT TERM HUP
	# Every process costs milliseconds on a container's start, so the steps
	# that do not depend on each other run side by side. eth1 stays down,
	# so nothing crosses the port, until all of them are done.
	if have_nft; then
		at_spoof=1
		spoof_allow "$at_veth_name" "$at_addr" "$at_id" &
		at_nft=$! at_jobs="$at_jobs$! "
	fi
	# Container root (capable only in its own user namespace) cannot undo
	# any of this: the netns belongs to the host's user namespace.
	nsenter --net="$at_ns" sysctl -q -w net.ipv4.ping_group_range="0 2147483647" &
	at_sysctl=$! at_jobs="$at_jobs$! "
	# The peer is born in the container's namespace: moving an existing
	# veth there costs ten times more.
	ip link add "$at_veth_name" master "$at_bridge" up type veth peer name "$PEER" netns "$at_pid" ||
		die "attach: creating veth $at_veth_name on $at_bridge with $PEER in process $at_pid's namespace (ip link add) failed"
	at_veth=$at_veth_name
	reap "$at_sysctl" ||
		die "attach: allowing ping in process $at_pid's namespace (sysctl ping_group_range) failed"
	if [ -n "$at_spoof" ]; then
		reap "$at_nft" || die "attach: adding the anti-spoofing rule for $at_veth_name (nft) failed"
	fi
	nsenter --net="$at_ns" ip -batch - <<EOF || die "attach: configuring $PEER in process $at_pid's namespace (ip -batch) failed"
address add $at_cidr dev $PEER
link set $PEER up
link set lo up
route add default via $at_gw dev $PEER
EOF
	at_done=1
}

check_detach_args() {
	[ $# -eq 3 ] || usage_error "detach: expected ID HOSTVETH ADDR, got $# arguments"
	is_id "$1" || usage_error "detach: invalid container id: $(shown "$1")"
	is_ifname "$2" || usage_error "detach: invalid veth name: $(shown "$2")"
	is_host_ipv4 "$3" || usage_error "detach: invalid address: $(shown "$3")"
}

cmd_detach() {
	check_detach_args "$@"
	dt_id=$1 dt_veth=$2 dt_addr=$3
	require_root
	dt_chain=''
	if have_nft; then
		dt_chain=$(nft list chain bridge "$SPOOF" "port-$dt_veth" 2>/dev/null) || dt_chain=''
		# A port of that name given to another container since: not ours.
		case $dt_chain in
		'' | *"ip saddr $dt_addr accept comment \"$dt_id\""*) ;;
		*) die "detach: $dt_veth is not container $dt_id's port with $dt_addr: left alone" ;;
		esac
	fi
	# Usually gone already: a netns takes its veth with it when it dies.
	if [ -e "/sys/class/net/$dt_veth" ]; then
		# Only ever a veth: never delete whatever else has that name.
		dt_info=$(ip -o -d link show dev "$dt_veth" 2>/dev/null) || dt_info=gone
		case $dt_info in
		gone) ;;
		*' veth '*)
			ip link del "$dt_veth" 2>/dev/null || [ ! -e "/sys/class/net/$dt_veth" ] ||
				die "detach: deleting $dt_veth (ip link del) failed" ;;
		*) die "detach: $dt_veth is not a veth: left alone" ;;
		esac
	fi
	if [ -n "$dt_chain" ]; then
		spoof_forget "$dt_veth" ||
			die "detach: removing the anti-spoofing rule for $dt_veth (nft) failed"
	fi
}

main() {
	[ $# -gt 0 ] || usage_error "no command given"
	mn_cmd=$1
	shift
	case $mn_cmd in
	-h | --help | help) help; exit 0 ;;
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	status) cmd_status "$@" ;;
	attach) cmd_attach "$@" ;;
	detach) cmd_detach "$@" ;;
	*) usage_error "unknown command: $(shown "$mn_cmd")" ;;
	esac
}

main "$@"
