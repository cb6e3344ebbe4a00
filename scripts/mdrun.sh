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
#       --env-file FILE    set the variables of FILE, read as you: one
#                          KEY=VALUE a line, or a bare KEY for your own
#                          value of KEY (skipped when you have none);
#                          blank lines and lines starting with # skipped
#   -w, --workdir DIR      directory to start in (default: /)
#   -v, --volume SRC:DST[:ro]
#                          your file or directory SRC at DST inside
#                          (repeatable; ro: read-only), where your rule's
#                          bind= allows it (mdctl.sh check); a relative SRC
#                          is below the current directory
#       --mount type=bind,source=SRC,target=DST[,readonly]
#                          the same, Docker's long form
#       --read-only        no writable layer: only /tmp, /run and /var/tmp
#                          (tmpfs) can be written
#       --ephemeral        a throw-away writable layer over your own rootfs
#                          too (a system rootfs always gets one)
#   -u, --user UID[:GID]   run the command as this uid and gid inside
#                          (numbers; GID default 0; HOME=/ unless uid 0):
#                          0, or within your /etc/subuid and /etc/subgid
#                          range, which the container maps to 1..count;
#                          no capabilities unless UID is 0, and no
#                          supplementary groups when you have a subgid range
#       --init             run a small init of minidocker's as PID 1, with
#                          the command as its child: it reaps zombies and
#                          passes every signal it gets to the command's
#                          process group (a PID 1 ignores those it has no
#                          handler for; the command then need not)
#       --userns private|host
#                          private (default); host: no user namespace, for
#                          root only and only where the config allows it
#       --net, --network bridge|none
#                          on the administrator's bridge (the default when
#                          your rule gives you addresses and the bridge is
#                          up), or loopback only
#       --ip ADDR|auto     this address on the bridge, or the first free one
#                          in your range (auto); eth1 inside has it
#   -i, --interactive, -t, --tty, --rm
#                          accepted for Docker's sake; minidocker always
#                          does what they ask: input reaches the container,
#                          it gets a terminal whenever mdrun.sh has one,
#                          and it is removed when it ends. -it and -ti work;
#                          -d with -i or -t (-dit, -itd) is refused: a
#                          detached container's input is /dev/null
#   -h, --help             show this help (not Docker's --hostname: -H)
#       --version          show the version
#
# Writes to a system rootfs (like default) go to a throw-away layer in
# memory, counted in the memory limit, and are gone when the container
# ends; your own rootfs is written directly unless --ephemeral. Bind mounts
# are nosuid and nodev, and reach no further than your own rights.
#
# Docker options minidocker does not have (-p, --publish, -P,
# --publish-all, --privileged, --net host, --cap-add, --cap-drop,
# --security-opt, --device, --pid, --ipc, --uts, --gpus, --restart,
# --add-host, --dns, -a, --attach, --entrypoint, --link, --expose) are
# refused with the reason and what to do instead.
#
# With a terminal, the container gets a terminal of its own (Ctrl-C and
# job control work inside). Without one (makefiles, pipes, CI) input and
# output pass straight through and mdrun.sh prints nothing of its own.
# INT, TERM and HUP sent to mdrun.sh (kill, timeout, a closed terminal) go
# to the container's PID 1; one it has no handler for, which a PID 1 never
# receives, ends the container with SIGKILL instead. With --init, PID 1 is
# the init, which handles them all and passes them on to the command.
#
# Exit status: the command's own; 2 bad usage; 125 refused or failed (one
# line on stderr says why); 126 command not executable; 127 command not
# found; 128+N killed by signal N.
#
# Examples:
#   mdrun.sh                              a shell in the default rootfs
#   mdrun.sh -r default -- ps -ef
#   mdrun.sh --hostname lab1 -- hostname
#   mdrun.sh -u 1000:1000 -- id           as uid 1000 (needs a subuid range)
#   mdrun.sh --init -- /home/loop         Ctrl-C ends it
#   mdrun.sh -d -n web -- /home/loop      in the background; then
#                                         mdctl.sh ps, exec, stats, stop
#   mdrun.sh -it --rm -- sh               as typed for docker run: a shell
#   mdrun.sh --env-file lab.env -- env    the variables of lab.env inside
set -eu

PROG=${0##*/}
# No command substitution on the way to the helper: every fork costs start-up
# time (the budget for mdrun.sh is 7 ms over the helper: make bench-start).
# Only what asks for more pays for one (--env-file, a relative rootfs).
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

# A Docker option minidocker does not have: why, and what to do instead.
# $2, when given, is how to name it (--net host).
unsupported() {
	case $1 in
	-p | --publish | -P | --publish-all | --expose)
		why="ports are not published on the host: a container's ports are open at its own address on the bridge (--ip, mdctl.sh ps)" ;;
	--link) why="containers reach each other at their addresses on the bridge (--ip, mdctl.sh ps)" ;;
	--privileged) why="a container never has more privilege than you (see mdctl.sh check)" ;;
	--net | --network) why="a container always has its own network: use --net bridge or --net none" ;;
	--cap-add | --cap-drop) why="a container has Docker's default capabilities, always" ;;
	--security-opt) why="the seccomp filter and the confinement are the same for every container" ;;
	--device) why="no device of the host is given to a container" ;;
	--gpus) why="no GPU is given to a container" ;;
	--pid) why="a container always has its own process tree: mdctl.sh exec runs a command in it" ;;
	--ipc) why="a container always has its own IPC namespace" ;;
	--uts) why="a container always has its own hostname: set it with -H" ;;
	--restart) why="nothing restarts a container: start it again (mdrun.sh -d)" ;;
	--add-host) why="put the line in /etc/hosts of a rootfs of yours (mdrootfs.sh cp FILE NAME:/etc/hosts)" ;;
	--dns) why="the rootfs's /etc/resolv.conf is used: put yours in a rootfs of yours (mdrootfs.sh cp FILE NAME:/etc/resolv.conf)" ;;
	-a | --attach) why="without -d, a container is attached to your input, output and errors" ;;
	--entrypoint) why="give the command after --: mdrun.sh [OPTION]... -- COMMAND [ARG]..." ;;
	esac
	md_die 2 "${2:-$1} is not supported by minidocker: $why"
}

# Line $ef_n of the --env-file $ef_file (Docker's format), $ef_line, into
# $ef_out: KEY=VALUE, or empty when the line sets nothing.
env_file_line() {
	ef_out=''
	ef_line=${ef_line%"$ef_cr"}
	# Leading blanks go, as in Docker; the value keeps every other byte.
	ef_line=${ef_line#"${ef_line%%[![:space:]]*}"}
	case $ef_line in '' | '#'*) return ;; esac
	ef_key=${ef_line%%=*}
	case $ef_key in
	'' | [0-9]* | *[!A-Za-z0-9_]*)
		md_die 2 "$ef_file:$ef_n: not KEY=VALUE or KEY (KEY: letters, digits and _, not first a digit): $ef_line" ;;
	esac
	if [ "$ef_key" != "$ef_line" ]; then
		ef_out=$ef_line
	elif ef_val=$(printenv -- "$ef_key"); then
		# A bare KEY: the caller's own value, from the environment (not
		# from this script's variables); none, and the line sets nothing.
		ef_out=$ef_key=$ef_val
	fi
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
# -v SRC:DST[:ro|:rw] -> $md_volume, the helper's SRC:DST[:MODE] with SRC
# made absolute (a relative one is below the working directory, ~ is home).
volume_arg() {
	case $1 in
	*:*) src=${1%%:*} rest=${1#*:} ;;
	*) md_usage_error "$2 $1: expected SRC:DST[:ro] (a path of yours and one inside)" ;;
	esac
	case $src in
	/*) ;;
	\~) src=$HOME ;;
	\~/*) src=$HOME/${src#??} ;;
	*/* | . | ..) src=$PWD/${src#./} ;;
	*) md_usage_error "$2 $1: named volumes are not supported by minidocker: give a path (./$src for one here)" ;;
	esac
	case $src in
	*/. | */./* | */.. | */../*) md_usage_error "$2 $1: the source may not contain . or .. components" ;;
	esac
	md_volume=$src:$rest
}

# --mount type=bind,source=SRC,target=DST[,readonly] -> $md_volume.
mount_arg() {
	m_type='' m_src='' m_dst='' m_mode='' m_rest=$1,
	while [ -n "$m_rest" ]; do
		m_kv=${m_rest%%,*} m_rest=${m_rest#*,}
		case $m_kv in
		type=*) m_type=${m_kv#type=} ;;
		source=* | src=*) m_src=${m_kv#*=} ;;
		target=* | destination=* | dst=*) m_dst=${m_kv#*=} ;;
		readonly | ro | readonly=true | ro=true | readonly=1) m_mode=:ro ;;
		readonly=false | ro=false | readonly=0) m_mode= ;;
		'') ;;
		*) md_usage_error "--mount $1: $m_kv is not supported by minidocker (type=bind,source=,target=[,readonly])" ;;
		esac
	done
	[ "$m_type" = bind ] || md_usage_error "--mount $1: only type=bind is supported by minidocker"
	if [ -z "$m_src" ] || [ -z "$m_dst" ]; then
		md_usage_error "--mount $1: needs source= and target="
	fi
	volume_arg "$m_src:$m_dst$m_mode" --mount
}

default_shell() {
	for shell in /bin/bash /usr/bin/bash /bin/sh; do
		if [ -x "$1$shell" ] || [ -L "$1$shell" ]; then
			return
		fi
	done
}

# A rootfs made by `mdrootfs.sh import-image` runs as Docker runs the
# image, unless the command line says otherwise: its config, kept beside
# it (.NAME.config: "KEY VALUE" lines, one per word, read without eval),
# gives the command when none is given (Entrypoint then Cmd; a command
# given replaces Cmd only, after the Entrypoint), Env (under the user's
# -e) and WorkingDir (unless -w). $1: the rootfs directory; $2: how many of
# the words after it are the command; then the command, then the helper's
# options. Without a config it returns; with one it runs the helper.
image_config() {
	img_cfg=${1%/*}/.${1##*/}.config
	[ -f "$img_cfg" ] || return 0
	img_dir=$1 img_left=$2 img_ep='' img_cmd='' img_keys=' ' img_wd='' prev=''
	shift 2
	while IFS= read -r line; do
		case $line in
		'Entrypoint '*) img_ep=1 ;;
		'Cmd '*) img_cmd=1 ;;
		'User '*)
			case ${line#User } in
			root | 0 | root:root | 0:0) ;;
			*) md_warn "image user ${line#User } ignored: not supported yet" ;;
			esac ;;
		esac
	done <"$img_cfg"
	# The helper's options, after the command words: which the user set.
	img_n=0
	for a in "$@"; do
		img_n=$((img_n + 1))
		[ "$img_n" -gt "$img_left" ] || continue
		case $prev in
		--env) img_keys="$img_keys${a%%=*} " ;;
		--workdir) img_wd=1 ;;
		esac
		prev=$a
	done
	# The image's options go after the helper's, then --rootfs and the
	# Entrypoint; then, by rotation as in main, the command words move from
	# the front to the back; without any, Cmd or the default shell.
	while IFS= read -r line; do
		case $line in
		'Env '*)
			img_k=${line#Env }
			case $img_keys in *" ${img_k%%=*} "*) ;; *) set -- "$@" --env "$img_k" ;; esac ;;
		'WorkingDir '*) [ -n "$img_wd" ] || set -- "$@" --workdir "${line#WorkingDir }" ;;
		esac
	done <"$img_cfg"
	if [ "$img_left" -eq 0 ] && [ -z "$img_ep$img_cmd" ] && [ -f "$img_dir/etc/shrc" ]; then
		set -- "$@" --env ENV=/etc/shrc
	fi
	set -- "$@" --rootfs "$img_dir" --
	while IFS= read -r line; do
		case $line in 'Entrypoint '*) set -- "$@" "${line#Entrypoint }" ;; esac
	done <"$img_cfg"
	if [ "$img_left" -gt 0 ]; then
		while [ "$img_left" -gt 0 ]; do set -- "$@" "$1"; shift; img_left=$((img_left - 1)); done
	elif [ -n "$img_cmd" ]; then
		while IFS= read -r line; do
			case $line in 'Cmd '*) set -- "$@" "${line#Cmd }" ;; esac
		done <"$img_cfg"
	elif [ -z "$img_ep" ]; then
		default_shell "$img_dir"
		set -- "$@" "$shell"
	fi
	helper=${MDHELPER:-$MD_LIBEXEC/mdhelper}
	[ -x "$helper" ] || md_die "mdhelper not found at $helper (is minidocker installed? see INSTALL)"
	exec "$helper" run "$@"
}

# Options are turned into the helper's exact arguments by rotation: each
# original word is shifted off the front and its translation appended at
# the back, so values keep every byte (no arrays in POSIX sh, no eval).
main() {
	rootfs=default
	memory=10M cpus=1 cpus_given='' cpuset_given='' set_detach='' docker_io=''
	left=$#
	while [ "$left" -gt 0 ]; do
		opt=$1
		case $opt in
		--) shift; left=$((left - 1)); break ;;
		-h | --help) md_help "$0"; exit 0 ;;
		--version) echo "mdrun.sh (minidocker) $VERSION"; exit 0 ;;
		# Docker's bundles of its boolean short options, taken apart.
		-d | -i | -t | -[dit][dit] | -[dit][dit][dit] | \
		--detach | --interactive | --tty | --rm | --init | --read-only | --ephemeral) val=''; shift; left=$((left - 1)) ;;
		--*=*) val=${opt#*=}; opt=${opt%%=*}; shift; left=$((left - 1)) ;;
		-r | --rootfs | -H | --hostname | -m | --memory | --memory-swap | \
		-c | --cpus | --cpuset-cpus | --pids-limit | -n | --name | -e | --env | \
		--env-file | -w | --workdir | --userns | --net | --network | --ip | -v | --volume | --mount | -u | --user | \
		--cpu-quota | --device-read-bps | --device-write-bps)
			[ "$left" -ge 2 ] || md_usage_error "option $opt needs a value"
			val=$2
			shift 2
			left=$((left - 2))
			;;
		-p | -P | -a | --publish | --publish-all | --expose | --link | --privileged | \
		--cap-add | --cap-drop | --security-opt | --device | --gpus | --pid | --ipc | \
		--uts | --restart | --add-host | --dns | --attach | --entrypoint) unsupported "$opt" ;;
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
		# What minidocker always does: input reaches the container, which
		# has a terminal when mdrun.sh has one, and is removed at its end.
		-i | -t | --interactive | --tty) docker_io=$opt ;;
		--rm) ;;
		-[dit]*)
			case $opt in *d*) detach_to_log ;; esac
			case $opt in *[it]*) docker_io=$opt ;; esac ;;
		-e | --env) set -- "$@" --env "$val" ;;
		--env-file)
			if [ ! -r "$val" ] || [ -d "$val" ]; then
				md_usage_error "--env-file $val: no such readable file"
			fi
			ef_file=$val ef_n=0 ef_cr=$(printf '\r')
			while IFS= read -r ef_line || [ -n "$ef_line" ]; do
				ef_n=$((ef_n + 1))
				env_file_line
				[ -z "$ef_out" ] || set -- "$@" --env "$ef_out"
			done < "$val" ;;
		-w | --workdir) set -- "$@" --workdir "$val" ;;
		-v | --volume) volume_arg "$val" "$opt"; set -- "$@" --volume "$md_volume" ;;
		--mount) mount_arg "$val"; set -- "$@" --volume "$md_volume" ;;
		--read-only) set -- "$@" --layer read-only ;;
		--ephemeral) set -- "$@" --layer ephemeral ;;
		--userns) set -- "$@" --userns "$val" ;;
		-u | --user) set -- "$@" --user "$val" ;;
		--init) set -- "$@" --init ;;
		--net | --network)
			case $val in
			none | bridge) set -- "$@" --net "$val" ;;
			host) unsupported "$opt" "$opt host" ;;
			*) md_usage_error "$opt must be bridge or none: $val" ;;
			esac ;;
		--ip)
			case $val in
			auto) set -- "$@" --net bridge ;;
			*) set -- "$@" --ip "$val" ;;
			esac ;;
		--publish | --publish-all | --expose | --link | --privileged | --cap-add | \
		--cap-drop | --security-opt | --device | --gpus | --pid | --ipc | --uts | \
		--restart | --add-host | --dns | --attach | --entrypoint) unsupported "$opt" ;;
		*) md_usage_error "unknown option: $opt" ;;
		esac
	done
	# A detached container's input is /dev/null and no terminal is left to
	# attach to: Docker's -dit shell would end at once here, so say so.
	[ -z "$set_detach" ] || [ -z "$docker_io" ] ||
		md_die 2 "-i and -t cannot be used with -d: a detached container's input is /dev/null; start a long-running command with -d, then enter it with mdctl.sh exec -it NAME"
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
	image_config "$dir" "$left" "$@"
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
