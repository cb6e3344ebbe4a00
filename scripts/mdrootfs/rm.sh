#!/bin/sh
# Usage: mdrootfs.sh [--system] rm NAME
# Summary: remove rootfs NAME, with the files of your subordinate ids in it
#
# Removes NAME from your rootfs directory (with --system, root only, from
# the system's), without following any link in it. Files that belong to
# your subordinate ids are removed from inside the user namespace that
# owns them, which plain rm -rf on the host cannot do.
#
# Options:
#   --system           work on the system rootfs directory shared by every
#                      user (/var/lib/minidocker/rootfs): root only
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

# Remove NAME from the caller's directory (or, with --system, the
# system's): only what `list` shows. It is first renamed to a dot name
# beside it - rename(2) moves a symlink, never what it points to - and
# then removed without following links; its image config with it.
cmd_main() {
	[ $# -eq 1 ] || md_usage_error "rm needs exactly one NAME"
	check_name "$1"
	pick_base existing
	rm_target=$rf_base/$1
	if [ -L "$rm_target" ] || [ ! -d "$rm_target" ]; then
		if [ "$opt_system" = 0 ] && [ -d "$(md_system_rootfs_dir)/$1" ]; then
			md_die "rm: '$1' is a system rootfs: remove it with sudo $PROG --system rm $1"
		fi
		md_die "rm: no rootfs '$1' in $rf_base"
	fi
	rf_old=$(mktemp -d -- "$rf_base/.$1.rm.$$.XXXXXX") || md_die "rm: cannot create a temporary directory in $rf_base"
	mv -T -- "$rm_target" "$rf_old/old" || md_die "rm: cannot move $rm_target aside"
	say "rm: removing $rm_target"
	run_job remove_tree "$rf_old" || md_die "rm: cannot remove $rm_target (left in $rf_old)"
	rf_old=''
	rm -f -- "$(config_path "$rm_target")" || md_die "rm: cannot remove the image config of $rm_target"
}

rf_main "$@"
