#!/bin/sh
# Usage: mdrootfs.sh [--system] COMMAND [OPTIONS] [ARGS]
# Summary: build, import, list and remove minidocker root filesystems
#
# Options (before or after COMMAND; `mdrootfs.sh COMMAND --help` lists the
# ones each command takes):
#   --system           work on the system rootfs directory shared by every
#                      user (/var/lib/minidocker/rootfs): root only
#   --force            replace an existing rootfs of the same name
#   --max-size SIZE    import: refuse archives unpacking to more (default 16G)
#   --max-entries N    import: refuse archives with more entries (default 1000000)
#   -h, --help         print this help, or with COMMAND, that command's
#
# Per-user rootfs live in ~/.local/share/minidocker/rootfs/NAME and belong to
# the user. When the user has a subordinate id range (/etc/subuid), debian
# and import keep the archive's owners by mapping them into that range, as
# the container will (apt-get works inside); without one, every file is the
# user's and apt-get inside installs only packages whose files all belong
# to root. A system rootfs is read-only in containers: apt-get there fails;
# it never holds set-id bits, device nodes, files or directories others may
# write, or owners other than root (each dropped class is counted).
# busybox and debian write /etc/resolv.conf with the host's nameservers
# (not loopback ones, which a container cannot reach): with the bridge's
# NAT (sudo mdnet.sh up --nat), `apt-get update` then works inside.
# import and import-image add the /proc, /dev, /sys and /tmp that an
# archive lacks (a `tar` of a container's files has none): the container's
# mounts go there.
# NAME is [a-z0-9][a-z0-9_.-]*, at most 63 characters.
#
# Commands:
set -eu

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

# Where the commands are (sets rf_dir): installed, in LIBEXECDIR/mdrootfs
# (MD_LIBEXEC's, else the one beside our bin directory: a test may point
# MD_LIBEXEC at the demo programs alone); in the source tree, beside us
# (`make install` builds the default rootfs from there).
find_commands() {
	for rf_dir in "$MD_LIBEXEC/mdrootfs" "$md_here/../libexec/minidocker/mdrootfs" "$md_here/mdrootfs"; do
		if [ -f "$rf_dir/common.sh" ]; then return; fi
	done
	md_die "its commands are missing (looked in $MD_LIBEXEC/mdrootfs and $md_here/mdrootfs): install minidocker again (see INSTALL)"
}

# --help without a command: this header, then each command's Summary line.
help() {
	md_help "$0"
	for f in "$rf_dir"/*.sh; do
		n=${f##*/}
		case $n in common.sh) continue ;; esac
		sed -n "s/^# Summary: /  ${n%.sh}|/p" "$f"
	done | awk -F'|' '{ printf "%-16s %s\n", $1, substr($0, length($1) + 2) }'
}

# Find the command word among options placed before or after it (an
# option's value is never one), and run its file with every other word,
# in order, by rotation: each word is shifted off the front and, unless it
# is the command, appended at the back.
main() {
	find_commands
	cmd='' want_help=0 bad_opt='' opts=1 left=$#
	while [ "$left" -gt 0 ]; do
		a=$1
		shift
		left=$((left - 1))
		if [ "$opts" = 1 ]; then
			case $a in
			--) opts=0 ;;
			-h | --help) want_help=1 ;;
			--suite | --include | --mirror | --variant | --max-size | --max-entries)
				set -- "$@" "$a"
				[ "$left" -gt 0 ] || continue
				a=$1
				shift
				left=$((left - 1))
				;;
			--system | --force | --dry-run | --*=*) ;;
			-?*) bad_opt=${bad_opt:-$a} ;;
			*) if [ -z "$cmd" ]; then cmd=$a; continue; fi ;;
			esac
		elif [ -z "$cmd" ]; then
			cmd=$a
			continue
		fi
		set -- "$@" "$a"
	done
	if [ -z "$cmd" ]; then
		if [ "$want_help" = 1 ]; then help; exit 0; fi
		[ -z "$bad_opt" ] || md_usage_error "unknown option: $bad_opt"
		md_usage_error "no command given"
	fi
	case $cmd in
	common | extract | *[!a-z-]*) md_usage_error "unknown command: $cmd" ;;
	esac
	[ -f "$rf_dir/$cmd.sh" ] || md_usage_error "unknown command: $cmd"
	MD_PROG=$PROG
	export MD_PROG MD_LIBEXEC
	exec sh "$rf_dir/$cmd.sh" "$@"
}

main "$@"
