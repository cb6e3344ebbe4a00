#!/bin/sh
# Usage: mdrootfs.sh [--system] path NAME
# Summary: print the directory of rootfs NAME
#
# Yours first, then the system's, as mdrun.sh -r resolves NAME; with
# --system, the system's only.
#
# Options:
#   --system           look in the system rootfs directory only
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

# Where rootfs NAME is: the caller's own first, then the system's, as
# mdrun.sh resolves it; --system looks at the system's only.
cmd_main() {
	[ $# -eq 1 ] || md_usage_error "path needs exactly one NAME"
	check_name "$1"
	if [ "$opt_system" = 0 ] && [ -n "${HOME:-}" ]; then
		set -- "$1" "$(md_user_rootfs_dir)/$1"
		if [ -d "$2" ] && [ ! -L "$2" ]; then printf '%s\n' "$2"; return; fi
	fi
	set -- "$1" "$(md_system_rootfs_dir)/$1"
	if [ -d "$2" ] && [ ! -L "$2" ]; then printf '%s\n' "$2"; return; fi
	md_die "path: no rootfs '$1'"
}

rf_main "$@"
