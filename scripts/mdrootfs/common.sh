# common.sh: what the mdrootfs.sh subcommands share. Sourced by each
# subcommand after mdlib.sh, never run.
#
# A subcommand is a file of its own: its header is its --help, its
# cmd_main does the work, rf_main (below) reads the options and calls it.
# The subcommand's own file is $0 (its --help is that file's header); PROG,
# for messages, is the command the user typed (the dispatcher exports it as
# MD_PROG).

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${MD_PROG:-mdrootfs.sh}
MD_PROG=$PROG
export MD_PROG
# Where loop, mem and ping are (the dispatcher sets it; tests point it
# elsewhere). rf_dir, the subcommands' directory (the extractor is there
# too), is set by the subcommand before it sources us.
MD_LIBEXEC=${MD_LIBEXEC:-$rf_dir/..}

# Files and directories we create are readable by everyone, writable only by
# their owner: the helper refuses a rootfs another user could write to.
umask 022

# The host's busybox; it must be static, since the rootfs has no libraries.
MD_BUSYBOX=/bin/busybox

# Import caps: a tarball bomb fails with a clear message instead of filling
# the disk.
MD_MAX_SIZE=16G
MD_MAX_ENTRIES=1000000

# Where the host's resolver configuration may be, in order of preference.
# A container has a network namespace of its own: a nameserver on the
# host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq) cannot
# be reached from it, so systemd-resolved's list of upstream servers is the
# second choice, as in Docker. The tests point MD_RESOLV_FILES at fixtures.
MD_RESOLV_FILES=${MD_RESOLV_FILES:-/etc/resolv.conf /run/systemd/resolve/resolv.conf}

# ---------------------------------------------------------------- helpers

# A phase line on a terminal, nothing otherwise (makefiles, CI, pipes).
say() {
	if [ -t 2 ]; then md_warn "$*"; fi
}

# What the trap must undo: the temporary build tree, a replaced rootfs moved
# aside, mmdebstrap's work directory, and the background job we wait for.
rf_tmp='' rf_old='' rf_work='' rf_jobs=''
cleanup() {
	for d in "$rf_tmp" "$rf_old" "$rf_work"; do
		if [ -n "$d" ] && [ -d "$d" ]; then remove_tree "$d" || md_warn "could not remove $d"; fi
	done
	rf_tmp='' rf_old='' rf_work=''
}
on_signal() {
	trap '' INT TERM HUP
	if [ -n "$rf_jobs" ]; then
		# shellcheck disable=SC2086 # a list of our own background pids
		kill $rf_jobs 2>/dev/null || true
		wait || true
	fi
	rf_jobs=''
	cleanup
	trap - EXIT
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# Fail unless $1 is a plain rootfs name.
check_name() {
	md_is_name "$1" || md_die "invalid rootfs name '$1': use [a-z0-9][a-z0-9_.-]*, at most 63 characters"
}

# A system rootfs is shared by every user: the helper refuses one that
# another user could write to or that has a symlink in its path, so check
# $1 and every parent up to / now and say which one is wrong. One stat for
# the whole path: forks are dear on a loaded lab VM.
check_root_owned_path() {
	p=$1
	set --
	while :; do
		p=${p%"${p##*[!/]}"} # no trailing slashes
		[ -n "$p" ] || p=/
		[ ! -L "$p" ] || md_die "$p is a symbolic link: a system rootfs path must not contain one"
		set -- "$@" "$p"
		[ "$p" != / ] || break
		p=${p%/*}
	done
	stat -c '%u %a' -- "$@" | {
		for p in "$@"; do
			read -r uid mode
			[ "$uid" -eq 0 ] || md_die "$p is not owned by root"
			case $mode in
			*[2367]? | *[2367]) md_die "$p is writable by group or other" ;;
			esac
		done
	} || exit
}

# Where rootfs of this invocation live (sets rf_base): $1 = create makes
# the directory if needed, existing does not.
pick_base() {
	if [ "$opt_system" = 1 ]; then
		[ "$rf_uid" -eq 0 ] || md_die "--system needs root: run it with sudo, or drop --system to build a rootfs of your own"
		rf_base=$(md_system_rootfs_dir)
		case $rf_base in /*) ;; *) md_die "system rootfs directory '$rf_base' is not an absolute path" ;; esac
	else
		rf_base=$(md_user_rootfs_dir)
		# Root's own rootfs go under root's HOME; one that `sudo -E` or
		# `su` left pointing into a student's tree is refused, or root
		# would build, rename and remove through the student's links.
		md_root_safe_dir "rootfs directory $rf_base" "$rf_base" "sudo -H, or --system"
	fi
	if [ "${1:-}" = create ]; then
		mkdir -p -- "$rf_base" || md_die "cannot create $rf_base"
		[ "$opt_system" = 1 ] || md_root_safe_dir "rootfs directory $rf_base" "$rf_base" "sudo -H, or --system"
	fi
	if [ "$opt_system" = 1 ] && [ -e "$rf_base" ]; then check_root_owned_path "$rf_base"; fi
	if [ -d "$rf_base" ]; then remove_stale; fi
}

# Temporary trees carry the pid of the run that made them
# (.NAME.tmp.PID.XXXXXX): the trap removes them, but not after SIGKILL or a
# crash, so the next run removes those whose process is gone.
remove_stale() {
	for d in "$rf_base"/.*.tmp.*.* "$rf_base"/.*.old.*.* "$rf_base"/.*.work.*.* "$rf_base"/.*.rm.*.*; do
		if [ -L "$d" ] || [ ! -d "$d" ]; then continue; fi
		pid=${d%.*}
		pid=${pid##*.}
		case $pid in '' | *[!0-9]*) continue ;; esac
		if [ -d "/proc/$pid" ]; then continue; fi
		remove_tree "$d" || true
	done
}

# The caller's first subordinate uid and gid ranges, as newuidmap reads them
# (by name or by uid): sets sub_u sub_un sub_g sub_gn, or fails.
read_subids() {
	me=$(id -un) myid=$rf_uid
	sub_u=$(awk -F: -v n="$me" -v i="$myid" '($1 == n || $1 == i) && $3 > 0 { print $2 ":" $3; exit }' /etc/subuid 2>/dev/null) || true
	sub_g=$(awk -F: -v n="$me" -v i="$myid" '($1 == n || $1 == i) && $3 > 0 { print $2 ":" $3; exit }' /etc/subgid 2>/dev/null) || true
	[ -n "$sub_u" ] && [ -n "$sub_g" ] || return 1
	sub_un=${sub_u#*:} sub_u=${sub_u%:*} sub_gn=${sub_g#*:} sub_g=${sub_g%:*}
}

# How a non-root user runs a command as "root" over their own files and
# subordinate ids: the container's own mapping (0 = the caller, 1.. = the
# subordinate range), so owners written here are the owners seen inside.
# Sets rf_userns (words to put before the command), empty when unavailable.
pick_userns() {
	rf_userns=''
	[ "$rf_uid" -ne 0 ] || return 0
	read_subids || return 0
	command -v newuidmap >/dev/null 2>&1 || return 0
	set -- unshare --user --map-root-user --map-users="$sub_u,1,$sub_un" --map-groups="$sub_g,1,$sub_gn"
	"$@" true 2>/dev/null || return 0
	rf_userns="$*"
}

# Remove a tree we made, never following symlinks (rm -rf does not). A
# non-root user first makes their own directories writable (an archive may
# carry read-only ones); files owned by their subordinate ids are removed
# from inside the user namespace that can own them.
remove_tree() {
	[ -e "$1" ] || [ -L "$1" ] || return 0
	if [ "$rf_uid" -eq 0 ]; then rm -rf -- "$1"; return; fi
	find "$1" -type d -user "$rf_uid" ! -perm -u=rwx -exec chmod u+rwx {} + 2>/dev/null || true
	rm -rf -- "$1" 2>/dev/null && return 0
	pick_userns
	[ -n "$rf_userns" ] || { md_warn "cannot remove $1: it holds files you do not own"; return 1; }
	# shellcheck disable=SC2086 # rf_userns is a list of words we built
	$rf_userns rm -rf -- "$1"
}

# Start a build of rootfs $1: refuse an existing one unless --force, and
# make the temporary directory beside the target (same filesystem, so the
# final rename is atomic; never in /tmp). Sets rf_target and rf_tmp.
begin_build() {
	rf_target=$rf_base/$1
	if [ -e "$rf_target" ] || [ -L "$rf_target" ]; then
		[ "$opt_force" = 1 ] || md_die "rootfs '$1' already exists in $rf_base (use --force to replace it)"
		if [ -L "$rf_target" ] || [ ! -d "$rf_target" ]; then md_die "$rf_target is not a directory: remove it by hand"; fi
	fi
	# A leading dot keeps half-built trees out of `list`; mktemp makes it
	# 0700, so nobody else can reach into it while it is being filled.
	rf_tmp=$(mktemp -d -- "$rf_base/.$1.tmp.$$.XXXXXX") || md_die "cannot create a temporary directory in $rf_base"
}

# Put the finished tree in place; an existing one (--force) is moved aside
# first and removed only once the new one is in. mv -T renames exactly:
# never into a directory that appeared meanwhile. $1: the
# image config file (import-image) that goes beside it; without one, the
# old rootfs's is removed ('': none).
finish_build() {
	chmod 755 -- "$rf_tmp"
	if [ -d "$rf_target" ]; then
		rf_old=$(mktemp -d -- "$rf_base/.${rf_target##*/}.old.$$.XXXXXX") ||
			md_die "cannot create a temporary directory in $rf_base"
		mv -T -- "$rf_target" "$rf_old/old" || md_die "cannot move the old $rf_target aside"
	fi
	mv -T -- "$rf_tmp" "$rf_target" || md_die "cannot rename $rf_tmp to $rf_target"
	rf_tmp=''
	if [ -n "${1:-}" ] && [ -f "$1" ]; then
		mv -T -- "$1" "$(config_path "$rf_target")" || md_die "cannot put the image config beside $rf_target"
	else
		rm -f -- "$(config_path "$rf_target")"
	fi
	cleanup
}

# Where the image config of rootfs directory $1 is kept: beside it, under a
# name no rootfs can have (a leading dot), which mdrun.sh -r reads.
config_path() {
	printf '%s/.%s.config\n' "${1%/*}" "${1##*/}"
}

# Run a command in the background and wait for it, so that a signal reaches
# the trap at once (sh runs traps only between foreground commands) and the
# trap can stop it. Returns its status.
run_job() {
	"$@" &
	rf_jobs=$!
	rc=0
	wait "$rf_jobs" || rc=$?
	rf_jobs=''
	return "$rc"
}

# ------------------------------------------------ inside the rootfs: DNS

# Write $1/etc/resolv.conf from the first host file that names a nameserver
# a container can reach, without its loopback nameservers; containers on
# the bridge reach it through the bridge's NAT (mdnet.sh up --nat), as
# Docker's do. With none, say so ($2 names the command): names will not
# resolve inside. mmdebstrap copies the host's file verbatim, loopback and
# all, so a Debian rootfs gets this one instead.
write_resolv_conf() {
	for f in $MD_RESOLV_FILES; do
		[ -r "$f" ] || continue
		conf=$(awk '
			$1 == "nameserver" && ($2 ~ /^127\./ || $2 == "::1") { next }
			$1 == "nameserver" { ns = 1 }
			{ print }
			END { if (!ns) exit 1 }' "$f") || continue
		# rm first: never write through a link the tree may hold.
		rm -f -- "$1/etc/resolv.conf" || return 1
		printf '%s\n' "$conf" >"$1/etc/resolv.conf" || return 1
		return 0
	done
	md_warn "$2: the host has no nameserver a container can reach (only loopback ones in $MD_RESOLV_FILES): names will not resolve inside until you write one into the rootfs's /etc/resolv.conf"
}

# ---------------------------------------------------------------- unpack

# Unpack into $rf_tmp with extract.py (why python, and what it refuses, is
# at its top): $1 = tar (a file), image (docker save / OCI layout), stdin (a
# tar stream), sweep (a tree built as root). Exit status 4: the archive's
# path was refused, and the extractor's one line said why. The extractor runs as "root"
# of the caller's user namespace when they have subordinate ids, so owners
# are kept.
unpack() {
	# The system's python3 before any on PATH (a pyenv shim, a venv), run
	# isolated (-I: no PYTHON* variables, no user site) and without site
	# (-S): the extractor needs the standard library only, and may run as
	# root.
	py=/usr/bin/python3
	if [ ! -x "$py" ]; then py=$(command -v python3) || md_die "$1: python3 is needed to unpack safely (apt-get install python3)"; fi
	tty=0 rf_root=0
	if [ -t 2 ]; then tty=1; fi
	if [ "$rf_uid" -eq 0 ]; then rf_root=1; fi
	pick_userns
	# exec: this runs as a background job, and the trap must be able to
	# stop the extractor itself by the job's pid.
	# shellcheck disable=SC2086 # rf_userns is a list of words we built
	exec $rf_userns "$py" -I -S "$rf_dir/extract.py" "$@" "$rf_tmp" "$max_bytes" "$opt_max_entries" "$tty" "$opt_system" "$rf_root"
}

# The import caps, checked once: sets max_bytes.
check_caps() {
	max_bytes=$(md_parse_size "$opt_max_size") || md_usage_error "--max-size: not a size: $opt_max_size"
	case $opt_max_entries in '' | *[!0-9]*) md_usage_error "--max-entries: not a number: $opt_max_entries" ;; esac
	[ ${#opt_max_entries} -le 12 ] || md_usage_error "--max-entries: too large: $opt_max_entries"
}

# A `tar` of a container's files, or an image made by `docker import`, has
# no /proc, /dev or /sys: Docker and podman make them at run time, mdhelper
# only mounts on them. Add those missing, and /tmp, to the tree $1, as the
# unpack made it (in the same user namespace: the tree's top may belong to
# a subordinate id). A name that is there, even as a file or a symlink,
# is left for mdhelper to refuse.
add_mount_points() {
	pick_userns
	# shellcheck disable=SC2086,SC2016 # rf_userns is a list of words we built; $1 is the inner sh's
	$rf_userns sh -c '
		for d in proc dev sys; do
			[ -e "$1/$d" ] || [ -L "$1/$d" ] || mkdir -m 755 -- "$1/$d" || exit 1
		done
		[ -e "$1/tmp" ] || [ -L "$1/tmp" ] || mkdir -m 1777 -- "$1/tmp"' sh "$1"
}

# ------------------------------------------------------- list, path, rm, du

# The rootfs in directory $1, one path a line: real directories with plain
# names. Dot entries are builds in progress or removals, not rootfs.
rootfs_in() {
	[ -d "$1" ] || return 0
	for d in "$1"/*; do
		if [ -L "$d" ] || [ ! -d "$d" ]; then continue; fi
		if md_is_name "${d##*/}"; then printf '%s\n' "$d"; fi
	done
}

# Every rootfs the caller can see: "WHERE PATH" lines, theirs first.
all_rootfs() {
	if [ -n "${HOME:-}" ]; then rootfs_in "$(md_user_rootfs_dir)" | sed 's/^/user /'; fi
	rootfs_in "$(md_system_rootfs_dir)" | sed 's/^/system /'
}

# ------------------------------------------------------------------ options

# Every subcommand takes the same options, before or after its operands, as
# mdrootfs.sh always did; at most two operands. Ends by calling
# cmd_main with the operands: each subcommand defines it.
rf_main() {
	rf_uid=$(id -u)
	opt_system=0 opt_force=0 opt_suite='' opt_include='' opt_mirror='' opt_variant=apt opt_dry_run=0
	opt_max_size=$MD_MAX_SIZE opt_max_entries=$MD_MAX_ENTRIES
	arg1='' arg2='' nargs=0
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) md_help "$0"; exit 0 ;;
		--system) opt_system=1 ;;
		--force) opt_force=1 ;;
		--dry-run) opt_dry_run=1 ;;
		--suite | --include | --mirror | --variant | --max-size | --max-entries)
			[ $# -ge 2 ] || md_usage_error "$1 needs a value"
			set_opt "$1" "$2"
			shift
			;;
		--suite=* | --include=* | --mirror=* | --variant=* | --max-size=* | --max-entries=*)
			set_opt "${1%%=*}" "${1#*=}" ;;
		--) shift; break ;;
		-?*) md_usage_error "unknown option: $1" ;;
		*) add_operand "$1" ;;
		esac
		shift
	done
	for a in "$@"; do add_operand "$a"; done
	set --
	[ "$nargs" -lt 1 ] || set -- "$arg1"
	[ "$nargs" -lt 2 ] || set -- "$arg1" "$arg2"
	cmd_main "$@"
}

set_opt() {
	case $1 in
	--suite) opt_suite=$2 ;;
	--include) opt_include=$2 ;;
	--mirror) opt_mirror=$2 ;;
	--variant) opt_variant=$2 ;;
	--max-size) opt_max_size=$2 ;;
	--max-entries) opt_max_entries=$2 ;;
	esac
}

# Up to two operands (FILE NAME).
add_operand() {
	nargs=$((nargs + 1))
	case $nargs in
	1) arg1=$1 ;;
	2) arg2=$1 ;;
	*) md_usage_error "too many arguments: $1" ;;
	esac
}
