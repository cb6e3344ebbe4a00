#!/bin/sh
# Usage: mdrootfs.sh [--system] import-image [--force] [--max-size SIZE] [--max-entries N] IMAGE NAME
# Summary: unpack a `docker save` archive or an OCI image layout, layers in order
#
# Applies the layers of IMAGE (a `docker save` archive, or an OCI image
# layout as a directory or a tar) in order, with their whiteouts, into
# rootfs NAME, checking each layer against its digest where the image
# names one; as import does, never through a link nor outside the rootfs.
# The image's Entrypoint, Cmd, Env, WorkingDir and User are kept beside the
# rootfs (.NAME.config): `mdrun.sh -r NAME` runs what the image would run
# under Docker when its command line does not say otherwise.
#
# Options:
#   --system           work on the system rootfs directory shared by every
#                      user (/var/lib/minidocker/rootfs): root only
#   --force            replace an existing rootfs of the same name
#   --max-size SIZE    refuse images unpacking to more (default 16G)
#   --max-entries N    refuse images with more entries (default 1000000)
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

cmd_main() {
	[ $# -eq 2 ] || md_usage_error "import-image needs IMAGE and NAME"
	check_name "$2"
	check_caps
	# Root: what the path is and whether it may be read is the extractor's
	# to say, from the file it opens once (SECURITY.md 50).
	if [ "$rf_uid" -eq 0 ]; then
		[ -e "$1" ] || [ -L "$1" ] || md_die "import-image: cannot read $1"
	elif [ ! -r "$1" ] || { [ ! -f "$1" ] && [ ! -d "$1" ]; }; then
		md_die "import-image: cannot read $1"
	fi
	pick_base create
	begin_build "$2"
	# The image's Cmd, Entrypoint, Env, WorkingDir and User: written by the
	# extractor into a private work directory, put beside the rootfs with it.
	rf_work=$(mktemp -d -- "$rf_base/.$2.work.$$.XXXXXX") || md_die "import-image: cannot create a work directory in $rf_base"
	MD_IMAGE_CONFIG=$rf_work/config
	export MD_IMAGE_CONFIG
	say "import-image: applying the layers of $1 into $rf_tmp"
	run_job unpack image "$1" || {
		rc=$?
		[ "$rc" -ne 4 ] || exit 125
		md_die "import-image: unpacking $1 failed; nothing was kept"
	}
	add_mount_points "$rf_tmp" || md_die "import-image: cannot create /proc, /dev, /sys and /tmp in $rf_tmp"
	finish_build "$MD_IMAGE_CONFIG"
	say "import-image: rootfs '$2' is ready in $rf_target"
}

rf_main "$@"
