#!/bin/sh
# Usage: mdrun.sh [OPTION]... [--] [COMMAND [ARG]...]
# Summary: run a command in a minidocker container
#
# Starts COMMAND (default: the rootfs's bash, else sh, which reads the
# rootfs's /etc/shrc when it has one) as PID 1 of a container with its own
# hostname, process tree, mounts, IPC and network, as root of a user
# namespace that is you on the host. What you may ask for is set by your
# administrator in /etc/minidocker/minidocker.conf: see it with
# `mdctl.sh check`. Containers started with -d are listed, entered and
# stopped with mdctl.sh (ps, exec, stop).
#
# Options:
#   -r, --rootfs NAME|DIR  root filesystem: a name from `mdrootfs.sh list`
#                          (yours first, then the system's) or a directory
#                          (default: default)
#   -H, --hostname NAME    hostname inside (default: administrator)
#   -m, --memory SIZE|max  memory limit (default: 10M; k, M, G suffixes);
#                          max: the most your rule allows
#       --memory-swap SIZE memory plus swap limit (default: no swap)
#   -c, --cpus N|all       run on N CPUs (default: 1); all: every CPU your
#                          rule allows on this machine
#       --cpuset-cpus LIST run on these CPUs, e.g. 0-1,3
#       --pids-limit N     most processes inside (default: your rule's pids=)
#       --cpu-quota CPUS   CPU time, as a number of CPUs: 0.5 is half of one
#                          (default: your rule's cpu-quota=, else none)
#       --device-read-bps DEV:RATE, --device-write-bps DEV:RATE
#                          read or write at most RATE bytes/s (k, M, G) on
#                          the disk DEV, e.g. /dev/vda:10M (repeatable;
#                          needs io=yes in your rule)
#   -n, --name NAME        the container's name: a-z, 0-9, _ . - (default:
#                          the first free md-USER-N); see mdctl.sh ps
#   -d, --detach           run in the background: print the container's
#                          name and return at once; its output goes to
#                          ~/.local/state/minidocker/logs/NAME.log
#                          (mdctl.sh logs NAME), its input is /dev/null
#   -e, --env KEY=VALUE    set an environment variable (repeatable)
#   -w, --workdir DIR      directory to start in (default: /)
#       --userns private|host
#                          private (default); host: no user namespace, for
#                          root only and only where the config allows it
#       --net bridge|none  on the administrator's bridge (the default when
#                          your rule gives you addresses and the bridge is
#                          up), or loopback only
#       --ip ADDR|auto     this address on the bridge, or the first free one
#                          in your range (auto); eth1 inside has it
#   -h, --help             show this help
#       --version          show the version
#
# With a terminal, the container gets a terminal of its own (Ctrl-C and
# job control work inside). Without one (makefiles, pipes, CI) input and
# output pass straight through and mdrun.sh prints nothing of its own.
# INT, TERM and HUP sent to mdrun.sh (kill, timeout, a closed terminal) go
# to the container's PID 1; one it has no handler for, which a PID 1 never
# receives, ends the container with SIGKILL instead.
#
# Exit status: the command's own; 2 bad usage; 125 refused or failed (one
# line on stderr says why); 126 command not executable; 127 command not
# found; 128+N killed by signal N.
#
# Examples:
#   mdrun.sh                              a shell in the default rootfs
#   mdrun.sh -r default -- ps -ef
#   mdrun.sh --hostname lab1 -- hostname
#   mdrun.sh -d -n web -- /home/loop      in the background; then
#                                         mdctl.sh ps, exec, stats, stop
set -eu

PROG=${0##*/}
# No command substitution on the way to the helper: every fork costs start-up
# time (the budget for mdrun.sh is 10 ms over the helper).
case $0 in */*) md_here=${0%/*} ;; *) md_here=. ;; esac
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck source=mdlib.sh # sourced from libexec when installed, beside us in the tree
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

VERSION=0.1.0

# Resolve a rootfs name or directory to an absolute directory in $dir.
resolve_rootfs() {
	case $1 in
	/*) dir=$1; return ;;
	*/* | . | ..) dir=$(CDPATH='' cd -- "$1" 2>/dev/null && pwd -P) ||
		md_die "rootfs $1: not found"; return ;;
	esac
	md_is_name "$1" || md_die "rootfs $1: not a valid name (see mdrootfs.sh list)"
	for dir in "${HOME:?HOME is not set}/.local/share/minidocker/rootfs/$1" \
		"${MD_SYSTEM_ROOTFS:-/var/lib/minidocker/rootfs}/$1"; do
		[ -d "$dir" ] && return
	done
	md_die "rootfs $1: not found (build it with: mdrootfs.sh busybox $1)"
}

# Append "--OPTION BYTES" for a size, or stop with a usage error.
size_arg() {
	md_bytes=$(md_parse_size "$2") || md_usage_error "$1: not a size: $2 (e.g. 10M, 512k, 1G)"
}

count_arg() {
	case $2 in
	'' | *[!0-9]* | 0*) md_usage_error "$1: not a positive number: $2" ;;
	esac
}

# Detached: the helper writes the container's output to a log of ours.
detach_to_log() {
	logs=${XDG_STATE_HOME:-${HOME:?HOME is not set}/.local/state}/minidocker/logs
	case $logs in /*) ;; *) md_die "XDG_STATE_HOME must be an absolute path: $logs" ;; esac
	# As root, HOME may be a student's (sudo -E): mkdir -p would follow
	# their links (SECURITY.md 50); the helper then refuses the log anyway.
	md_root_safe_dir "log directory $logs" "$logs" "sudo -H, or XDG_STATE_HOME=DIR"
	# shellcheck disable=SC2174 # only the logs directory itself needs to be private
	[ -d "$logs" ] || mkdir -p -m 700 "$logs" || md_die "cannot create the log directory $logs"
	set_detach=1
}

# The default command, in $shell: the rootfs's bash, else its sh.
default_shell() {
	for shell in /bin/bash /usr/bin/bash /bin/sh; do
		if [ -x "$1$shell" ] || [ -L "$1$shell" ]; then
			return
		fi
	done
}

# Options are turned into the helper's exact arguments by rotation: each
# original word is shifted off the front and its translation appended at
# the back, so values keep every byte (no arrays in POSIX sh, no eval).
main() {
	rootfs=default
	memory=10M cpus=1 cpus_given='' cpuset_given='' set_detach=''
	left=$#
	while [ "$left" -gt 0 ]; do
		opt=$1
		case $opt in
		--) shift; left=$((left - 1)); break ;;
		-h | --help) md_help "$0"; exit 0 ;;
		--version) echo "mdrun.sh (minidocker) $VERSION"; exit 0 ;;
		-d | --detach) val=''; shift; left=$((left - 1)) ;;
		--*=*) val=${opt#*=}; opt=${opt%%=*}; shift; left=$((left - 1)) ;;
		-r | --rootfs | -H | --hostname | -m | --memory | --memory-swap | \
		-c | --cpus | --cpuset-cpus | --pids-limit | -n | --name | -e | --env | \
		-w | --workdir | --userns | --net | --ip | \
		--cpu-quota | --device-read-bps | --device-write-bps)
			[ "$left" -ge 2 ] || md_usage_error "option $opt needs a value"
			val=$2
			shift 2
			left=$((left - 2))
			;;
		-?*) md_usage_error "unknown option: $opt" ;;
		*) break ;;
		esac
		case $opt in
		-r | --rootfs) rootfs=$val ;;
		-H | --hostname) set -- "$@" --hostname "$val" ;;
		-m | --memory) memory=$val ;;
		--memory-swap) size_arg "$opt" "$val"; set -- "$@" --memory-swap "$md_bytes" ;;
		-c | --cpus)
			[ "$val" = all ] || count_arg "$opt" "$val"
			cpus=$val cpus_given=1 ;;
		--cpuset-cpus) cpuset_given=1; set -- "$@" --cpuset-cpus "$val" ;;
		--pids-limit) count_arg "$opt" "$val"; set -- "$@" --pids-limit "$val" ;;
		--cpu-quota) set -- "$@" --cpu-quota "$val" ;;
		--device-read-bps) set -- "$@" --device-read-bps "$val" ;;
		--device-write-bps) set -- "$@" --device-write-bps "$val" ;;
		-n | --name) set -- "$@" --name "$val" ;;
		-d | --detach) detach_to_log ;;
		-e | --env) set -- "$@" --env "$val" ;;
		-w | --workdir) set -- "$@" --workdir "$val" ;;
		--userns) set -- "$@" --userns "$val" ;;
		--net)
			case $val in
			none | bridge) set -- "$@" --net "$val" ;;
			*) md_usage_error "--net must be bridge or none: $val" ;;
			esac ;;
		--ip)
			case $val in
			auto) set -- "$@" --net bridge ;;
			*) set -- "$@" --ip "$val" ;;
			esac ;;
		*) md_usage_error "unknown option: $opt" ;;
		esac
	done
	if [ -n "$cpuset_given" ]; then
		[ -z "$cpus_given" ] || md_usage_error "--cpus and --cpuset-cpus cannot be used together"
		cpus=
	fi
	if [ "$memory" != max ]; then
		size_arg --memory "$memory"
		set -- "$@" --memory "$md_bytes"
	fi
	[ "$cpus" = all ] || set -- "$@" ${cpus:+--cpus "$cpus"}
	[ -z "$set_detach" ] || set -- "$@" --detach "$logs"
	resolve_rootfs "$rootfs"
	# The interactive shell of a rootfs that has an /etc/shrc reads it
	# (ENV). mdrootfs.sh busybox no longer needs one for ping: its busybox
	# has no ping applet to shadow /bin/ping.
	if [ "$left" -eq 0 ] && [ -f "$dir/etc/shrc" ]; then
		set -- "$@" --env ENV=/etc/shrc
	fi
	set -- "$@" --rootfs "$dir" --
	if [ "$left" -eq 0 ]; then
		default_shell "$dir"
		set -- "$@" "$shell"
	fi
	while [ "$left" -gt 0 ]; do
		set -- "$@" "$1"
		shift
		left=$((left - 1))
	done
	helper=${MDHELPER:-$MD_LIBEXEC/mdhelper}
	[ -x "$helper" ] || md_die "mdhelper not found at $helper (is minidocker installed? see INSTALL)"
	exec "$helper" run "$@"
}

main "$@"
