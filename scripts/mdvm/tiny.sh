#!/bin/sh
# Usage: mdvm.sh tiny DIR [--with PROG]... [--add SRC:DEST]... [--kernel VMLINUZ] [--gzip]
# Summary: a Debian kernel + busybox initramfs in DIR: the fast, offline VM
#
# The kernel is Debian's (linux-image-amd64, fetched once with apt-get
# download into the cache, offline afterwards), with its uncompressed
# vmlinux for a PVH boot; the initramfs is busybox and its /init
# (tiny-init.sh), which `mdvm.sh run DIR` and `mdvm.sh boot DIR` boot.
#
# Options:
#   --with PROG        copy a host program and its shared libraries into
#                      the guest (at its host path)
#   --add SRC:DEST     copy a host file or directory to DEST in the guest
#   --kernel VMLINUZ   this kernel instead of Debian's
#   --gzip             compress the initramfs
#   -h, --help         print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"
cmd_tiny() {
	ct_dir='' ct_kernel='' ct_gzip='' ct_extra=''
	while [ $# -gt 0 ]; do
		case $1 in
		--with | --add)
			[ $# -ge 2 ] || md_usage_error "$1 needs an argument"
			ct_extra="$ct_extra $1 $(shquote "$2")"
			shift
			;;
		--kernel)
			[ $# -ge 2 ] || md_usage_error "--kernel needs a file"
			ct_kernel=$2
			shift
			;;
		--gzip) ct_gzip=1 ;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "tiny: unknown option: $1" ;;
		*)
			[ -z "$ct_dir" ] || md_usage_error "tiny: one DIR only"
			ct_dir=$1
			;;
		esac
		shift
	done
	[ -n "$ct_dir" ] || md_usage_error "tiny: which DIR?"
	tiny_make "$ct_dir" "$ct_kernel" "$ct_gzip" "$ct_extra"
}

cmd_tiny "$@"
