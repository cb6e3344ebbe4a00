#!/bin/sh
# Usage: mdrootfs.sh cp SRC NAME:/PATH
# Summary: copy a file or directory into rootfs NAME, owned by its root
#
# Plain cp cannot write where your subordinate ids own the directory (an
# imported or Debian rootfs): this copies as the container's root would,
# in the user namespace of the rootfs's ids. Not for a system rootfs:
# root copies into those with cp.
#
# Options:
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

# Copy SRC into the student's rootfs at PATH, as the container's root:
# in the user namespace of the rootfs's ids (an imported tree's files
# belong to the student's subordinate ids, which the student cannot write
# on the host; mdrootfs.sh rm removes such trees the same way).
cmd_main() {
	[ $# -eq 2 ] || md_usage_error "cp needs SRC and NAME:/PATH"
	case $2 in
	*:/*) ;;
	*) md_usage_error "cp: the destination is NAME:/PATH, a place inside rootfs NAME: $2" ;;
	esac
	cp_name=${2%%:*} cp_path=${2#*:}
	check_name "$cp_name"
	case /$cp_path/ in */../*) md_die "cp: $cp_path leads out of the rootfs" ;; esac
	[ "$opt_system" = 0 ] || md_die "cp: a system rootfs is root's: copy into it as root with cp"
	[ -e "$1" ] || md_die "cp: cannot read $1"
	pick_base existing
	if [ -L "$rf_base/$cp_name" ] || [ ! -d "$rf_base/$cp_name" ]; then md_die "cp: no rootfs '$cp_name' in $rf_base"; fi
	pick_userns
	# shellcheck disable=SC2086 # rf_userns is a list of words we built
	$rf_userns cp -R -- "$1" "$rf_base/$cp_name$cp_path" || md_die "cp: copying $1 to $cp_name:$cp_path failed"
}

rf_main "$@"
