#!/bin/sh
# Usage: mdvm.sh create IMG [--size 10G] [--format qcow2|raw]
# Summary: an empty disk image
#
# Options:
#   --size SIZE            the disk's size (k, M, G suffixes; default 10G)
#   --format qcow2|raw     default qcow2
#   -h, --help             print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"
cmd_create() {
	cc_img='' cc_size=10G cc_fmt=qcow2
	while [ $# -gt 0 ]; do
		case $1 in
		--size | --format) [ $# -ge 2 ] || md_usage_error "$1 needs a value" ;;
		esac
		case $1 in
		--size) cc_size=$2; shift ;;
		--format) cc_fmt=$2; shift ;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "create: unknown option: $1" ;;
		*)
			[ -z "$cc_img" ] || md_usage_error "create: one IMG only"
			cc_img=$1
			;;
		esac
		shift
	done
	[ -n "$cc_img" ] || md_usage_error "create: which IMG?"
	case $cc_fmt in qcow2 | raw) ;; *) md_usage_error "create: --format qcow2 or raw, not '$cc_fmt'" ;; esac
	cc_bytes=$(md_parse_size "$cc_size") || md_usage_error "create: bad size '$cc_size' (e.g. 512M, 10G)"
	[ "$cc_bytes" -ge 1048576 ] || md_usage_error "create: size '$cc_size' is below 1M"
	[ ! -e "$cc_img" ] || md_die "create: $cc_img exists; remove it first"
	md_root_safe_dir "create: $cc_img" "$(dirname -- "$cc_img")"
	need qemu-img create
	qemu-img create -q -f "$cc_fmt" "$cc_img" "$cc_bytes" ||
		md_die "create: qemu-img create failed for $cc_img"
}

cmd_create "$@"
