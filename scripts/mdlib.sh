# mdlib.sh: what the minidocker user scripts share. Sourced, never run.
#
# Each script sets PROG before sourcing, then calls these. An administrator
# runs mdrootfs.sh, mdbench.sh and mdvm.sh as root too: md_root_safe_dir
# keeps their writes where no other user can reach (SECURITY.md 50).

unset CDPATH

# Print a message prefixed with the tool's name, to stderr.
md_warn() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

# Print why, then exit 125 (minidocker refused or failed) unless a status is
# given first: md_die 2 "unknown option: -x".
md_die() {
	case $1 in
	[0-9] | [0-9][0-9] | [0-9][0-9][0-9]) md_rc=$1; shift ;;
	*) md_rc=125 ;;
	esac
	md_warn "$*"
	exit "$md_rc"
}

# Misuse: one line on stderr and a pointer to --help, exit 2.
md_usage_error() {
	md_warn "$*"
	printf "Try '%s --help' for more information.\n" "$PROG" >&2
	exit 2
}

# Print the '# Usage:' comment block at the top of the script ($1) to stdout:
# the --help text lives in one place, next to the code it describes.
md_help() {
	sed -n '/^# Usage:/,/^[^#]/{/^[^#]/d;s/^# \{0,1\}//;p;}' "$1"
}

# Turn a size (bytes, or with k/K, m/M, g/G: powers of 1024) into bytes on
# stdout; fail on anything else (12abc, -1, 1e9, empty, overflow).
md_parse_size() {
	case $1 in
	'' | *[!0-9kKmMgG]* | [!0-9]* | *[kKmMgG]?*) return 1 ;;
	esac
	md_num=${1%[kKmMgG]}
	case $md_num in *[!0-9]* | '') return 1 ;; esac
	# Digit caps keep every product below 2^63 for shell arithmetic.
	case $1 in
	*[kK]) md_digits=15 md_mult=1024 ;;
	*[mM]) md_digits=12 md_mult=1048576 ;;
	*[gG]) md_digits=9 md_mult=1073741824 ;;
	*) md_digits=18 md_mult=1 ;;
	esac
	[ ${#md_num} -le $md_digits ] || return 1
	# Strip leading zeros: $((010)) would be octal.
	while case $md_num in 0?*) true ;; *) false ;; esac; do md_num=${md_num#0}; done
	echo $((md_num * md_mult))
}

# Where rootfs live: the caller's own first, then the system's.
md_user_rootfs_dir() {
	printf '%s/.local/share/minidocker/rootfs\n' "${HOME:?HOME is not set}"
}
md_system_rootfs_dir() {
	printf '%s\n' "${MD_SYSTEM_ROOTFS:-/var/lib/minidocker/rootfs}"
}

# Is $1 a plain name (rootfs, container): [a-z0-9][a-z0-9_.-]{0,62}?
md_is_name() {
	case $1 in
	'' | [!a-z0-9]* | *[!a-z0-9_.-]*) return 1 ;;
	esac
	[ ${#1} -le 63 ]
}

# As root, refuse to write under directory $2 (existing or about to be made)
# unless no other user can change where that path leads (SECURITY.md 50):
# every component of it that exists, from /, must be a real directory (no
# symbolic link) owned by root and writable by nobody else. A sticky one
# such as /tmp is fine: nobody else may rename or remove root's entries
# there. Otherwise a student could plant a link or swap a directory under
# the administrator's `sudo` (HOME, XDG_*, TMPDIR, the working directory).
# $1 names the path in the message, $3 (optional) says what to do instead.
# md_trust_uid (optional): one more owner to accept, the user who ran sudo
# when root works in that user's own tree for them (mdbench.sh's fileio):
# they could run anything as root already.
# Call it before making anything under $2 and again once it is made: mkdir
# -p may have met a link planted meanwhile in a sticky parent. For other
# users, nothing: they write with no more than their own rights.
md_root_safe_dir() {
	[ "${md_uid:=$(id -u)}" -eq 0 ] || return 0
	md_what=$1 md_hint=${3:-}
	case $2 in /*) md_rest=$2 ;; *) md_rest=$(pwd -P)/$2 ;; esac
	set -- /
	md_cur=''
	while [ -n "$md_rest" ]; do
		md_c=${md_rest%%/*}
		case $md_rest in */*) md_rest=${md_rest#*/} ;; *) md_rest='' ;; esac
		[ -n "$md_c" ] || continue
		md_cur=$md_cur/$md_c
		[ -e "$md_cur" ] || [ -L "$md_cur" ] || break
		set -- "$@" "$md_cur"
	done
	md_st=$(stat -c '%u %a %F' -- "$@") || md_die "$md_what: cannot stat it"
	while read -r md_u md_m md_f; do
		md_why=''
		if [ "$md_f" = "symbolic link" ]; then
			md_why='is a symbolic link'
		elif [ "$md_f" != directory ]; then
			md_why='is not a directory'
		elif [ "$md_u" -ne 0 ] && [ "$md_u" != "${md_trust_uid:-0}" ]; then
			md_why='belongs to another user'
		elif [ $((0$md_m & 022)) -ne 0 ] && [ $((0$md_m & 01000)) -eq 0 ]; then
			md_why='is writable by group or other'
		fi
		[ -z "$md_why" ] ||
			md_die "$md_what: $1 $md_why: as root, $PROG writes only where no other user can change the path${md_hint:+ ($md_hint)}"
		shift
	done <<EOF
$md_st
EOF
}

# ---------------------------------------------------------------- progress and cleanup
# (first used by mdvm.sh; any tool with a temporary directory, background
# jobs or long phases can use them the same way.)

# md_say: a detail of progress, on a terminal only (makefiles, CI and pipes
# see nothing of it). md_step: a phase of a long job (minutes), always: a
# build in CI or under nohup must show where it is. Both write whole lines
# to stderr; a tool that lets another program write to the terminal while
# it runs sends that program's output to a log instead, so that the lines
# never interleave.
md_say() {
	if [ -t 2 ]; then md_warn "$*"; fi
}
md_step() {
	md_warn "$*"
}

# One temporary directory per run (md_tmp, made by md_mktemp) and the
# background jobs started (md_pids): md_cleanup stops and removes them, at
# exit and on INT, TERM and HUP once md_trap_cleanup has set the traps; a
# signal then ends the run with 130. A tool with more to undo defines
# md_cleanup_more, called first.
md_tmp='' md_pids=''
md_cleanup() {
	if command -v md_cleanup_more >/dev/null 2>&1; then md_cleanup_more || true; fi
	for md_p in $md_pids; do kill "$md_p" 2>/dev/null || true; done
	md_pids=''
	if [ -n "$md_tmp" ] && [ -d "$md_tmp" ]; then rm -rf -- "$md_tmp"; fi
	md_tmp=''
}
md_on_signal() {
	md_cleanup
	trap - EXIT
	exit 130
}
md_trap_cleanup() {
	trap md_cleanup EXIT
	trap md_on_signal INT TERM HUP
}

# md_mktemp PREFIX: make md_tmp once, in TMPDIR. As root TMPDIR must be
# root's (sudo -E keeps a student's): mktemp makes a fresh directory, but
# in a student's directory the student could rename it and put a link in
# its place (SECURITY.md 50).
md_mktemp() {
	[ -z "$md_tmp" ] || return 0
	md_root_safe_dir "TMPDIR ${TMPDIR:-/tmp}" "${TMPDIR:-/tmp}" "unset TMPDIR"
	md_tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") ||
		md_die "mktemp: cannot create a temporary directory"
}
