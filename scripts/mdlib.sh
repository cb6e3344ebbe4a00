# mdlib.sh: what the minidocker user scripts share. Sourced, never run.
#
# Each script sets PROG before sourcing, then calls these. Nothing here runs
# with privilege: mdnet.sh, the one script run as root, does not source it.

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
