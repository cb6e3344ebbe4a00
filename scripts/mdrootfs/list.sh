#!/bin/sh
# Usage: mdrootfs.sh list
# Summary: NAME, WHERE (user/system), SIZE, PATH of every rootfs you can use
#
# Your own rootfs (~/.local/share/minidocker/rootfs) first, then the
# system's (/var/lib/minidocker/rootfs), as mdrun.sh -r looks them up.
#
# Options:
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

cmd_main() {
	[ $# -eq 0 ] || md_usage_error "list takes no arguments"
	printf '%-20s %-7s %6s  %s\n' NAME WHERE SIZE PATH
	all_rootfs | while read -r where d; do
		# Files of subordinate ids may be unreadable: du counts what it can.
		size=$(du -sh -- "$d" 2>/dev/null | cut -f1) || true
		printf '%-20s %-7s %6s  %s\n' "${d##*/}" "$where" "${size:-?}" "$d"
	done
}

rf_main "$@"
