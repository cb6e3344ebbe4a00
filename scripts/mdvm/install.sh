#!/bin/sh
# Usage: mdvm.sh install IMG --iso ISO [--memory MB] [--vnc :N | --curses]
# Summary: boot an installer ISO with IMG as its disk
#
# The installer's screen on curses or VNC, or its serial console on this
# terminal (Ctrl-A X quits; Debian's installer: choose its text install).
#
# Options:
#   --iso ISO              the installer (required)
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --curses, --vnc :N     the screen instead of the serial console
#   -h, --help             print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"
cmd_install() {
	ci_img='' ci_iso=''
	while [ $# -gt 0 ]; do
		parse_vm_opt "$@"
		if [ "$vm_n" -gt 0 ]; then shift "$vm_n"; continue; fi
		case $1 in
		--iso)
			[ $# -ge 2 ] || md_usage_error "--iso needs a file"
			ci_iso=$2
			shift
			;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "install: unknown option: $1" ;;
		*)
			[ -z "$ci_img" ] || md_usage_error "install: one IMG only"
			ci_img=$1
			;;
		esac
		shift
	done
	[ -n "$ci_img" ] || md_usage_error "install: which IMG?"
	[ -n "$ci_iso" ] || md_usage_error "install: --iso ISO is required"
	[ -f "$ci_img" ] || md_die "install: no such image: $ci_img (mdvm.sh create $ci_img)"
	[ -f "$ci_iso" ] || md_die "install: no such ISO: $ci_iso"
	md_root_safe_dir "install: $ci_img" "$(dirname -- "$ci_img")"
	need "$QEMU" install
	md_mktemp mdvm
	ci_accel=$(pick_accel "$vm_accel" "$(default_tiny)/vmlinuz")
	md_say "install: booting $ci_iso with $ci_img as disk ($ci_accel)"
	# shellcheck disable=SC2046 # display_args prints separate QEMU options
	"$QEMU" -M "${vm_machine:-q35}" -accel "$ci_accel" -m "${vm_memory:-1536}" -smp "$vm_cpus" \
		-drive "file=$ci_img,format=$(image_format "$ci_img"),if=virtio" \
		-cdrom "$ci_iso" -boot d -nic user,model=virtio-net-pci $(display_args) ||
		md_die "install: QEMU failed"
}


cmd_install "$@"
