# common.sh: what every part of mdbench.sh shares. Sourced, never run.
#
# Sourced by bench.sh, report.sh and compare.sh, which set MB_LIB (this
# directory). mdlib.sh sits one level up both in the tree (scripts/) and
# installed (LIBEXECDIR/minidocker/).

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${MB_PROG:-mdbench.sh}
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
. "$MB_LIB/../mdlib.sh"

# sysbench and iostat print numbers with '.', awk reads them the same way.
LC_ALL=C
export LC_ALL

MB_VERSION=0.1.0
MB_ENVS_ALL="native minidocker docker vm"

mb_die() { md_die 1 "$@"; }

# md_root_safe_dir, failing with mdbench.sh's status for a failed step.
mb_safe() {
	mb_why=$(md_root_safe_dir "$@" 2>&1) || mb_die "${mb_why#"$PROG: "}"
}

# Progress on a terminal only; silence otherwise.
mb_say() {
	[ -t 2 ] || return 0
	printf '%s: %s\n' "$PROG" "$*" >&2
}

mb_now() { date +%s.%N; }

# key=value lines of env.txt: the last one wins (mb_set, in machine.sh).
mb_get() { sed -n "s|^$2=||p" "$1/env.txt" | tail -n 1; }

mb_is_uint() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ ${#1} -le 12 ]
}

# $1 is a whole number from $2 to $3.
mb_in_range() {
	mb_is_uint "$1" || return 1
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# A size as sysbench reads it: bytes, or whole MiB with an M suffix.
mb_size_arg() {
	if [ $(($1 % 1048576)) -eq 0 ]; then echo "$(($1 / 1048576))M"; else echo "$1"; fi
}

# The whole disk (iostat's device name) holding directory $1, or nothing.
mb_disk_of() {
	mb_majmin=$(stat -c '%Hd:%Ld' "$1" 2>/dev/null) || return 0
	mb_sys=$(readlink -f "/sys/dev/block/$mb_majmin" 2>/dev/null) || return 0
	[ -d "$mb_sys" ] || return 0
	# A partition's parent directory is its disk: iostat -x reports disks.
	[ ! -f "$mb_sys/partition" ] || mb_sys=${mb_sys%/*}
	echo "${mb_sys##*/}"
}
mb_is_outdir() { [ -f "$1/results.csv" ] && [ -f "$1/env.txt" ]; }

# Per test and environment over the ok rows of DIR $1, test $2: n mean sd min
# max cv% of the test's main metric (cpu: events/s; fileio: read + written
# MiB/s).
mb_stats() {
	awk -F, -v test="$2" -f "$MB_LIB/stats.awk" "$1/results.csv"
}
