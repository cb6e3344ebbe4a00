#!/bin/sh
# Usage: mdctl.sh COMMAND [OPTION]... [NAME]...
# Summary: look at and control your running minidocker containers
#
# Commands:
#   ps [--format table|json]        your running containers (root: all)
#   exec [-it] NAME [-- COMMAND]    run a command inside a running container
#   stats [--format table|json] [NAME...]
#                                   memory, CPU, processes, OOM kills
#                                   (default: all your containers)
#   stop [-t SECONDS] NAME...       SIGTERM, then SIGKILL after SECONDS (10)
#   kill [-s SIGNAL] NAME...        send a signal (default KILL)
#   logs [-f] NAME                  the output of a detached container
#   gc                              remove what killed helpers left behind
#   check                           what the administrator allows you
#
# Containers are started with mdrun.sh (in the background with -d). You see
# and control only your own; another user's container reads exactly like
# one that does not exist. `mdctl.sh COMMAND --help` explains each command.
#
# Exit status: 0 done; 2 bad usage; 125 refused or failed (one line on
# stderr says why); for exec, the command's own status (126 not
# executable, 127 not found, 128+N killed by signal N).
#
# Examples:
#   mdrun.sh -d -n web -- /home/loop
#   mdctl.sh ps
#   mdctl.sh exec web -- ps -ef
#   mdctl.sh stats web
#   mdctl.sh stop web
set -eu

PROG=${0##*/}
# No command substitution on the way to the helper: every fork costs
# milliseconds on each exec (the budget is 1.5x nsenter).
case $0 in */*) md_here=${0%/*} ;; *) md_here=. ;; esac
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck source=mdlib.sh # sourced from libexec when installed, beside us in the tree
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

VERSION=0.1.0

# The "# mdctl.sh VERB ..." comment block above a verb's function.
verb_help() {
	sed -n "/^# mdctl.sh $1\( .*\)\{0,1\}\$/,/^[^#]/{/^[^#]/d;s/^# mdctl/Usage: mdctl/;s/^# \{0,1\}//;p;}" "$0"
}

helper() {
	hp_path=${MDHELPER:-$MD_LIBEXEC/mdhelper}
	[ -x "$hp_path" ] || md_die "mdhelper not found at $hp_path (is minidocker installed? see INSTALL)"
	"$hp_path" "$@"
}

# --format table|json: sets $json to --json or nothing.
format_arg() {
	case $1 in
	table) json='' ;;
	json) json=--json ;;
	*) md_usage_error "--format must be table or json: $1" ;;
	esac
}

need_names() {
	[ "$1" -gt 0 ] || md_usage_error "$2: no container name given"
}

# mdctl.sh ps [--format table|json]
#
# Lists your running containers: NAME, PID (the container's PID 1 as the
# host sees it), HOSTNAME, IP (- without one), MEMORY and CPUSET (limits:
# the memory, and the list of CPUs it may run on, e.g. 0 or 0-1),
# UPTIME and COMMAND. Run by root, every user's, with an OWNER column.
# --format json prints one JSON object per line, for scripts.
cmd_ps() {
	json=''
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) verb_help ps; exit 0 ;;
		--format) [ $# -ge 2 ] || md_usage_error "--format needs a value"; format_arg "$2"; shift 2 ;;
		--format=*) format_arg "${1#*=}"; shift ;;
		--json) json=--json; shift ;;
		*) md_usage_error "ps: unknown argument: $1" ;;
		esac
	done
	helper ps ${json:+"$json"}
}

# mdctl.sh exec [-i] [-t] [-e KEY=VALUE]... [-w DIR] [-u UID[:GID]] NAME [--] [COMMAND [ARG]...]
#
# Runs COMMAND (default /bin/sh) inside the running container NAME: in its
# PID, mount, UTS, IPC, network, user and cgroup namespaces, in its cgroup
# (its limits count what you run), as its root user (or -u's), with a fresh
# environment (PATH, HOME, TERM and your -e values). It may use those of
# the container's CPUs that your own affinity allows (taskset works).
#
#   -i, -t, -it        accepted as in docker: with a terminal on both input
#                      and output the command gets a terminal of its own;
#                      otherwise input and output pass straight through
#   -e, --env KEY=VALUE
#   -w, --workdir DIR  directory to start in, inside the container
#   -u, --user UID[:GID]
#                      as that uid and gid of the container, as mdrun.sh -u
#
# Exit status: the command's own; 125 no such container, or refused.
cmd_exec() {
	left=$#
	while [ "$left" -gt 0 ]; do
		case $1 in
		-h | --help) verb_help exec; exit 0 ;;
		-i | -t | -it | -ti | --interactive | --tty) shift; left=$((left - 1)) ;;
		-e | --env | -w | --workdir | -u | --user)
			[ "$left" -ge 2 ] || md_usage_error "option $1 needs a value"
			case $1 in -e | --env) ex_opt=--env ;; -u | --user) ex_opt=--user ;; *) ex_opt=--workdir ;; esac
			set -- "$@" "$ex_opt" "$2"
			shift 2
			left=$((left - 2)) ;;
		-?*) md_usage_error "exec: unknown option: $1" ;;
		*) break ;;
		esac
	done
	[ "$left" -gt 0 ] || md_usage_error "exec: no container name given"
	set -- "$@" "$1"
	shift
	left=$((left - 1))
	if [ "$left" -gt 0 ] && [ "$1" = -- ]; then
		shift
		left=$((left - 1))
	fi
	if [ "$left" -gt 0 ]; then
		set -- "$@" --
		while [ "$left" -gt 0 ]; do
			set -- "$@" "$1"
			shift
			left=$((left - 1))
		done
	fi
	hp_path=${MDHELPER:-$MD_LIBEXEC/mdhelper}
	[ -x "$hp_path" ] || md_die "mdhelper not found at $hp_path (is minidocker installed? see INSTALL)"
	exec "$hp_path" exec "$@"
}

# mdctl.sh stats [--format table|json] [NAME...]
#
# For each container (without a name: each of yours; root: everyone's),
# from its cgroup: memory in use and its limit (and
# the share of the limit), the highest use so far (PEAK), CPU use over half
# a second (100% = one CPU), processes and their limit, and how many times
# the out-of-memory killer struck.
cmd_stats() {
	json=''
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) verb_help stats; exit 0 ;;
		--format) [ $# -ge 2 ] || md_usage_error "--format needs a value"; format_arg "$2"; shift 2 ;;
		--format=*) format_arg "${1#*=}"; shift ;;
		--json) json=--json; shift ;;
		-?*) md_usage_error "stats: unknown option: $1" ;;
		*) break ;;
		esac
	done
	if [ $# -eq 0 ]; then
		# shellcheck disable=SC2046 # names are [a-z0-9_.-]: they split on newlines only
		set -- $(helper ps --json | sed -n 's/^{"name":"\([^"]*\)".*/\1/p')
		[ $# -gt 0 ] || exit 0
	fi
	helper stats ${json:+"$json"} "$@"
}

# mdctl.sh stop [-t SECONDS] NAME...
#
# Asks each container to end: SIGTERM to its PID 1, then SIGKILL if it is
# still running after SECONDS (default 10; --time works too). A PID 1
# without a SIGTERM handler (e.g. the loop program) ignores SIGTERM, as in
# Docker, and is killed at the deadline. Returns once the container and
# everything minidocker made for it are gone; prints each name.
cmd_stop() {
	time=10
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) verb_help stop; exit 0 ;;
		-t | --time)
			[ $# -ge 2 ] || md_usage_error "option $1 needs a value"
			time=$2
			shift 2 ;;
		--time=*) time=${1#*=}; shift ;;
		-?*) md_usage_error "stop: unknown option: $1" ;;
		*) break ;;
		esac
	done
	case $time in '' | *[!0-9]*) md_usage_error "stop: --time must be a number of seconds: $time" ;; esac
	need_names $# stop
	for st_name in "$@"; do
		helper kill --signal TERM --timeout "$time" "$st_name"
		printf '%s\n' "$st_name"
	done
}

# mdctl.sh kill [-s SIGNAL] NAME...
#
# Sends SIGNAL (a name such as TERM, HUP, USR1, or a number; default KILL)
# to each container's PID 1 and prints its name. With KILL, returns once
# the container has ended and its name and address are free again, as stop
# does; another signal may be handled, and kill returns at once.
cmd_kill() {
	signal=KILL
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) verb_help kill; exit 0 ;;
		-s | --signal)
			[ $# -ge 2 ] || md_usage_error "option $1 needs a value"
			signal=$2
			shift 2 ;;
		--signal=*) signal=${1#*=}; shift ;;
		-?*) md_usage_error "kill: unknown option: $1" ;;
		*) break ;;
		esac
	done
	need_names $# kill
	for kl_name in "$@"; do
		helper kill --signal "$signal" "$kl_name"
		printf '%s\n' "$kl_name"
	done
}

# mdctl.sh logs [-f] NAME
#
# Prints what the container started with mdrun.sh -d -n NAME wrote to its
# output, kept in ~/.local/state/minidocker/logs/NAME.log (or under
# $XDG_STATE_HOME), also after it ended. -f follows the log until the
# container ends.
cmd_logs() {
	follow=''
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) verb_help logs; exit 0 ;;
		-f | --follow) follow=1; shift ;;
		-?*) md_usage_error "logs: unknown option: $1" ;;
		*) break ;;
		esac
	done
	[ $# -eq 1 ] || md_usage_error "logs: give one container name"
	md_is_name "$1" || md_die "no such container: $1"
	lg_file=${XDG_STATE_HOME:-${HOME:?HOME is not set}/.local/state}/minidocker/logs/$1.log
	[ -f "$lg_file" ] || md_die "no log for $1 (only containers started with mdrun.sh -d have one)"
	if [ -z "$follow" ]; then
		cat -- "$lg_file"
		return
	fi
	# Follow until the container's PID 1 ends (it runs as you: tail may
	# watch it); a container that is not running prints the log and ends.
	# A name may hold dots: literal ones in the pattern ([a-z0-9_-] are).
	lg_re=$(printf '%s' "$1" | sed 's/\./[.]/g')
	lg_pid=$(helper ps --json | sed -n "s/^{\"name\":\"$lg_re\",.*\"pid\":\([0-9]*\),.*/\1/p")
	if [ -z "$lg_pid" ]; then
		cat -- "$lg_file"
		return
	fi
	exec tail -n +1 -f --pid="$lg_pid" -- "$lg_file"
}

# mdctl.sh gc
#
# Removes what helpers that were killed (kill -9, a crash) left behind:
# their cgroups, network ports, address leases and registry entries. Every
# mdrun.sh does this at start too; this is for tidying by hand.
cmd_gc() {
	case ${1:-} in -h | --help) verb_help gc; exit 0 ;; esac
	[ $# -eq 0 ] || md_usage_error "gc takes no arguments"
	helper gc
}

# mdctl.sh check
#
# Prints the rule of /etc/minidocker/minidocker.conf that applies to you:
# memory, CPUs, processes, containers, addresses and root filesystems you
# may use.
cmd_check() {
	case ${1:-} in -h | --help) verb_help check; exit 0 ;; esac
	[ $# -eq 0 ] || md_usage_error "check takes no arguments"
	helper check
}

main() {
	[ $# -gt 0 ] || md_usage_error "no command given"
	mn_cmd=$1
	shift
	case $mn_cmd in
	-h | --help | help) md_help "$0"; exit 0 ;;
	--version) echo "mdctl.sh (minidocker) $VERSION"; exit 0 ;;
	ps) cmd_ps "$@" ;;
	exec) cmd_exec "$@" ;;
	stats) cmd_stats "$@" ;;
	stop) cmd_stop "$@" ;;
	kill) cmd_kill "$@" ;;
	logs) cmd_logs "$@" ;;
	gc) cmd_gc "$@" ;;
	check) cmd_check "$@" ;;
	*) md_usage_error "unknown command: $mn_cmd" ;;
	esac
}

main "$@"
