#!/bin/sh
# Usage: mdnet.sh up [--nat] [--config FILE]
#        mdnet.sh down [--config FILE]
#        mdnet.sh status [--config FILE] [--rundir DIR]
#        mdnet.sh attach ID HOSTVETH BRIDGE 3<NETNS
#        mdnet.sh detach ID HOSTVETH ADDR
# Summary: the minidocker bridge, and each container's veth and address (root only)
#
# up      Create the bridge named by the config's `bridge NAME ADDR/PREFIX`
#         line (default: md0 10.0.0.254/24) with its gateway address, and the
#         nftables anti-spoofing table; put back on it the ports of running
#         containers that `down` took off. With --nat, also turn on IPv4
#         forwarding and masquerade the bridge's subnet (nftables, else
#         iptables); without it, remove them. Safe to run again. With nft,
#         the subnet must be a /16 or smaller (see anti-spoofing below).
# down    Remove the bridge, its anti-spoofing table, its masquerading, and
#         the forwarding that `up --nat` turned on. Safe to run again.
#         Running containers keep their veth, and lose the bridge until
#         `up`.
# status  Print the bridge, NAT, anti-spoofing, the ports on the bridge and
#         the leases in DIR/leases (default /run/minidocker). Exit 1 when the
#         bridge is not up.
# attach  Called by mdhelper only: create a veth pair whose peer is born in
#         the network namespace open on fd 3 as eth1 (down, without an
#         address), with HOSTVETH up on BRIDGE. mdhelper opened that
#         namespace while the container's process was its own living child,
#         and never names it by a pid that could be another's by now. HOSTVETH must be mdv
#         followed by the container's address, its octets in 3 digits each
#         (mdv010000000001 for 10.0.0.1): eth1 gets the MAC address
#         Docker would give it (02:42 and the address's octets in hex,
#         02:42:0a:00:00:01), and the anti-spoofing table of `up` lets that
#         port send as that address and MAC only. mdhelper then gives
#         eth1 its address, brings it and lo up, adds the default route and
#         allows ping, from inside the namespace. Fails having made nothing.
# detach  Called by mdhelper only: remove HOSTVETH if it still exists (it
#         usually went with the container's namespace). Safe to run again.
#
# Anti-spoofing (where nft is installed): `up` makes a table
# minidocker-spoof-BRIDGE that pairs each port name with its one address
# and its one MAC, for the whole subnet, so a container's start and exit
# change no rule (SECURITY.md 44).
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
# Our nftables objects, per bridge: an anti-spoofing table in family bridge
# and a NAT table in family ip.
SPOOF_PREFIX=minidocker-spoof-
NAT_PREFIX=minidocker-nat-
# The largest subnet whose every address the anti-spoofing table lists.
SPOOF_MIN_PREFIX=16

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

# A container's host port name, in pn_name: mdv and its address as four
# 3-digit octets (mdv010000000001 for 10.0.0.1, 15 bytes). Names are unique
# per address, so the table can list every (port, address) pair of the
# subnet once, at `up`. Without a subshell: attach is on every container's
# start path.
port_name() {
	pn_rest=$1 pn_name=mdv
	while [ -n "$pn_rest" ]; do
		pn_o=${pn_rest%%.*}
		case $pn_rest in *.*) pn_rest=${pn_rest#*.} ;; *) pn_rest= ;; esac
		case ${#pn_o} in 1) pn_o=00$pn_o ;; 2) pn_o=0$pn_o ;; esac
		pn_name=$pn_name$pn_o
	done
}

# The address a port name stands for (sets pn_addr); false when $1 is not
# one of ours.
port_addr() {
	case $1 in
	mdv[0-2][0-9][0-9][0-2][0-9][0-9][0-2][0-9][0-9][0-2][0-9][0-9]) ;;
	*) return 1 ;;
	esac
	pn_rest=${1#mdv} pn_addr='' pn_sep=''
	while [ -n "$pn_rest" ]; do
		pn_o=${pn_rest%"${pn_rest#???}"} pn_rest=${pn_rest#???}
		# No leading zeros: the shell would read 010 as octal.
		pn_o=${pn_o#0} pn_o=${pn_o#0}
		pn_addr=$pn_addr$pn_sep$pn_o pn_sep=.
	done
	is_ipv4 "$pn_addr"
}

# One octet (0-255) as two hex digits, in hx (no printf: no fork).
hex_octet() {
	hx=
	for hx_n in $(($1 >> 4)) $(($1 & 15)); do
		case $hx_n in
		10) hx_n=a ;; 11) hx_n=b ;; 12) hx_n=c ;; 13) hx_n=d ;; 14) hx_n=e ;; 15) hx_n=f ;;
		esac
		hx=$hx$hx_n
	done
}

# The MAC of the port for address $1, in pm_mac: 02:42 (locally
# administered, unicast) and the address's octets, as Docker makes them.
port_mac() {
	pm_rest=$1 pm_mac=02:42
	while [ -n "$pm_rest" ]; do
		pm_o=${pm_rest%%.*}
		case $pm_rest in *.*) pm_rest=${pm_rest#*.} ;; *) pm_rest= ;; esac
		hex_octet "$pm_o"
		pm_mac=$pm_mac:$hx
	done
}

# --- attach (early: see the end of this section) ---------------------------

check_attach_args() {
	[ $# -eq 3 ] || usage_error "attach: expected ID HOSTVETH BRIDGE (and a namespace on fd 3), got $# arguments"
	is_id "$1" || usage_error "attach: invalid container id: $(shown "$1")"
	{ port_addr "$2" && is_host_ipv4 "$pn_addr"; } ||
		usage_error "attach: not a container port (mdv and an address, 3 digits an octet): $(shown "$2")"
	is_ifname "$3" || usage_error "attach: invalid bridge name: $(shown "$3")"
}

# One process after the checks: `ip link add` makes the pair with its peer
# born in the container's namespace (moving an existing veth there costs ten
# times more), and puts the host end up on the bridge, all or nothing. No
# nft: the port's name already is its entry in the anti-spoofing table.
# Container root (capable only in its own user namespace) can undo none of
# it: the namespace belongs to the host's user namespace.
cmd_attach() {
	check_attach_args "$@"
	at_veth=$2 at_bridge=$3
	require_root
	# ip opens the namespace by this path: its own fd 3, inherited.
	at_ns=/proc/self/fd/3
	[ -e "$at_ns" ] || die "attach: no network namespace on fd 3"
	# Never give the host's own namespace a container's eth1.
	# shellcheck disable=SC3013 # -ef is in dash, bash, busybox and ksh; where missing, [ fails and we die
	! [ "$at_ns" -ef /proc/self/ns/net ] ||
		die "attach: fd 3 is the host's network namespace"
	[ -d "/sys/class/net/$at_bridge/bridge" ] ||
		die "attach: bridge $at_bridge is not up: ask the administrator to run mdnet.sh up"
	[ ! -e "/sys/class/net/$at_veth" ] || die "attach: $at_veth already exists"
	# The MAC the anti-spoofing table expects from this port (check_attach_args
	# left the port's address in pn_addr).
	port_mac "$pn_addr"
	ip link add "$at_veth" master "$at_bridge" up type veth \
		peer name "$PEER" address "$pm_mac" netns "$at_ns" </dev/null ||
		die "attach: creating veth $at_veth on $at_bridge with $PEER in the container's namespace (ip link add) failed"
}

# attach runs on every container's start, and the shell parses a script as
# it reads it: reading the rest of this file would cost milliseconds more.
if [ "${1:-}" = attach ]; then
	shift
	cmd_attach "$@"
	exit 0
fi

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

# Is interface $1 a veth? False too when it is gone.
is_veth() {
	iv_info=$(ip -o -d link show dev "$1" 2>/dev/null) || return 1
	case $iv_info in *' veth '*) return 0 ;; esac
	return 1
}

spoof_table() {
	echo "$SPOOF_PREFIX$conf_bridge"
}

# Write the elements of the bridge's subnet, one per host address: "NAME"
# for $1 = names, "NAME" . MAC . ADDR for $1 = pairs (port_mac's MAC). The
# bridge's own address gets a name (a port so named would have all its
# frames dropped) but no pair: no container is leased the gateway's
# address, none may send as it.
spoof_elements() {
	se_first=$((cidr_net + 1)) se_last=$((cidr_net + (~cidr_mask & 0xffffffff) - 1))
	se_gw=$((cidr_net + cidr_host))
	se_a=$se_first se_sep=''
	while [ "$se_a" -le "$se_last" ]; do
		if [ "$1" = pairs ] && [ "$se_a" -eq "$se_gw" ]; then
			se_a=$((se_a + 1))
			continue
		fi
		if [ "$1" = names ]; then
			printf '%s"mdv%03d%03d%03d%03d"' "$se_sep" $((se_a >> 24 & 255)) \
				$((se_a >> 16 & 255)) $((se_a >> 8 & 255)) $((se_a & 255))
		else
			printf '%s"mdv%03d%03d%03d%03d" . 02:42:%02x:%02x:%02x:%02x . %d.%d.%d.%d' \
				"$se_sep" $((se_a >> 24 & 255)) $((se_a >> 16 & 255)) $((se_a >> 8 & 255)) \
				$((se_a & 255)) $((se_a >> 24 & 255)) $((se_a >> 16 & 255)) \
				$((se_a >> 8 & 255)) $((se_a & 255)) $((se_a >> 24 & 255)) \
				$((se_a >> 16 & 255)) $((se_a >> 8 & 255)) $((se_a & 255))
		fi
		se_sep=', '
		se_a=$((se_a + 1))
	done
}

# The anti-spoofing table for the bridge's subnet: a frame from one of its
# port names passes as IPv4 from, or ARP for, that port's address, sent
# from that port's MAC (and for ARP, naming it as the sender's); every
# other frame from it (other addresses or MACs, IPv6, VLAN tags) is dropped and
# counted in @dropped. Frames from other ports are not ours and pass
# (failing closed for every port of the bridge would need `meta ibrname`,
# which kernels without nft_meta_bridge refuse). Replaced atomically: add,
# delete and define in one transaction.
ensure_spoof_table() {
	[ "$cidr_prefix" -ge "$SPOOF_MIN_PREFIX" ] ||
		die "up: the anti-spoofing table lists every address of the subnet: $cidr_network is too large, use a /$SPOOF_MIN_PREFIX or smaller subnet"
	{
		printf 'add table bridge %s\ndelete table bridge %s\n' "$(spoof_table)" "$(spoof_table)"
		printf 'table bridge %s {\n' "$(spoof_table)"
		printf '\tset ports { type ifname; elements = { '
		spoof_elements names
		printf ' }; }\n\tset dropped { type ifname; counter; elements = { '
		spoof_elements names
		printf ' }; }\n\tset leases { type ifname . ether_addr . ipv4_addr; elements = { '
		spoof_elements pairs
		printf ' }; }\n'
		cat <<EOF
	chain antispoof {
		type filter hook prerouting priority -200; policy accept;
		iifname != @ports accept
		ether type ip iifname . ether saddr . ip saddr @leases accept
		ether type arp iifname . ether saddr . arp saddr ip @leases iifname . arp saddr ether . arp saddr ip @leases accept
		iifname @dropped drop
	}
}
EOF
	} | nft -f -
}

# The table as text, for status; fails when there is none.
spoof_listing() {
	nft list set bridge "$(spoof_table)" dropped 2>/dev/null
}

# Frames dropped from port $1, from the listing $2 ('?' if not listed).
spoof_drops() {
	sd_rest=${2#*\""$1"\" counter packets }
	[ "$sd_rest" != "$2" ] || { echo '?'; return; }
	echo "${sd_rest%% *}"
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
# go back on the bridge: their names say they belong to its subnet.
reattach_ports() {
	set +f
	for rp_dir in /sys/class/net/mdv*; do
		rp_port=${rp_dir##*/}
		port_addr "$rp_port" || continue
		is_ipv4 "$pn_addr"
		[ $((ip_num & cidr_mask)) -eq "$cidr_net" ] || continue
		[ ! -e "$rp_dir/master" ] || continue
		is_veth "$rp_port" || continue
		ip link set "$rp_port" master "$conf_bridge" ||
			die "up: putting port $rp_port back on $conf_bridge failed"
	done
	set -f
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
	fi
	reattach_ports
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
	if have_nft && nft list table bridge "$(spoof_table)" >/dev/null 2>&1; then
		nft delete table bridge "$(spoof_table)" || die "down: removing the anti-spoofing table failed"
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
		if ! port_addr "$st_port"; then
			printf '  %s (not a container port)\n' "$st_port"
			continue
		fi
		st_name=
		[ ! -f "$rundir/leases/$pn_addr" ] || read -r st_name <"$rundir/leases/$pn_addr" || true
		is_id "$st_name" || st_name='?'
		if [ -n "$st_spoof" ]; then
			printf '  %s %s %s (%s frames dropped)\n' "$st_port" "$pn_addr" "$st_name" \
				"$(spoof_drops "$st_port" "$st_spoof")"
		else
			printf '  %s %s %s\n' "$st_port" "$pn_addr" "$st_name"
		fi
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

# --- detach -----------------------------------------------------------------

check_detach_args() {
	[ $# -eq 3 ] || usage_error "detach: expected ID HOSTVETH ADDR, got $# arguments"
	is_id "$1" || usage_error "detach: invalid container id: $(shown "$1")"
	is_ifname "$2" || usage_error "detach: invalid veth name: $(shown "$2")"
	is_host_ipv4 "$3" || usage_error "detach: invalid address: $(shown "$3")"
	port_name "$3"
	[ "$2" = "$pn_name" ] || usage_error "detach: the veth for $3 is $pn_name, not $2"
}

cmd_detach() {
	check_detach_args "$@"
	dt_veth=$2
	require_root
	# Usually gone already: a netns takes its veth with it when it dies.
	[ -e "/sys/class/net/$dt_veth" ] || return 0
	# Only ever a veth: never delete whatever else has that name.
	is_veth "$dt_veth" || {
		[ -e "/sys/class/net/$dt_veth" ] || return 0
		die "detach: $dt_veth is not a veth: left alone"
	}
	ip link del "$dt_veth" 2>/dev/null || [ ! -e "/sys/class/net/$dt_veth" ] ||
		die "detach: deleting $dt_veth (ip link del) failed"
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
