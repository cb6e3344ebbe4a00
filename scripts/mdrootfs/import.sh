#!/bin/sh
# Usage: mdrootfs.sh [--system] import [--force] [--max-size SIZE] [--max-entries N] FILE NAME
# Summary: unpack a rootfs tarball (.tar .gz .xz .zst .bz2)
#
# Unpacks FILE (a tar archive, plain or compressed with gzip, xz, zstd or
# bzip2) into rootfs NAME, member by member, never through a symbolic link
# and never outside the rootfs. With subordinate ids (/etc/subuid) the
# archive's owners are kept, mapped into your range as the container maps
# them. Adds the /proc, /dev, /sys and /tmp an archive lacks. A system
# import (--system) keeps no set-id bit, device node, write permission
# for group or other, or owner other than root, and counts what it dropped.
#
# Options:
#   --system           work on the system rootfs directory shared by every
#                      user (/var/lib/minidocker/rootfs): root only
#   --force            replace an existing rootfs of the same name
#   --max-size SIZE    refuse archives unpacking to more (default 16G)
#   --max-entries N    refuse archives with more entries (default 1000000)
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

cmd_main() {
	[ $# -eq 2 ] || md_usage_error "import needs FILE and NAME"
	check_name "$2"
	check_caps
	# Root: what the path is and whether it may be read is the extractor's
	# to say, from the file it opens once (SECURITY.md 50).
	if [ "$rf_uid" -eq 0 ]; then
		[ -e "$1" ] || [ -L "$1" ] || md_die "import: cannot read $1"
	elif [ ! -f "$1" ] || [ ! -r "$1" ]; then
		md_die "import: cannot read $1"
	fi
	pick_base create
	begin_build "$2"
	say "import: unpacking $1 into $rf_tmp"
	run_job unpack tar "$1" || {
		rc=$?
		[ "$rc" -ne 4 ] || exit 125
		md_die "import: unpacking $1 failed; nothing was kept"
	}
	add_mount_points "$rf_tmp" || md_die "import: cannot create /proc, /dev, /sys and /tmp in $rf_tmp"
	finish_build ''
	say "import: rootfs '$2' is ready in $rf_target"
}

rf_main "$@"
