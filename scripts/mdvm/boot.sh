#!/bin/sh
# Usage: mdvm.sh boot IMAGE|DIR [OPTIONS] [--curses | --vnc :N]
# Summary: boot a VM interactively, its serial console on this terminal
#
# The serial console on this terminal (Ctrl-A X quits), or the screen on
# curses/VNC. A tiny DIR (`tiny`: the one in the cache) gives a busybox
# shell; an IMAGE made by build boots its own kernel and systemd; any other
# disk image boots through its own boot loader.
#
# Options:
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --timeout S            stop the guest after S seconds (default: none)
#   --append ARGS          more kernel command line (last wins, e.g. loglevel=1)
#   --curses, --vnc :N     the screen instead of the serial console
#   -h, --help             print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"
cmd_boot() {
	cb_target=''
	while [ $# -gt 0 ]; do
		parse_vm_opt "$@"
		if [ "$vm_n" -gt 0 ]; then shift "$vm_n"; continue; fi
		case $1 in
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "boot: unknown option: $1" ;;
		*)
			[ -z "$cb_target" ] || md_usage_error "boot: one IMAGE|DIR only"
			cb_target=$1
			;;
		esac
		shift
	done
	[ -n "$cb_target" ] || md_usage_error "boot: which IMAGE|DIR?"
	[ "$cb_target" != tiny ] || cb_target=$(default_tiny)
	need "$QEMU" boot
	root_boot_check boot "$cb_target" "$cb_target/vmlinuz" "$cb_target/vmlinux" "$cb_target/initrd.cpio" \
		"$(built_kernel "$cb_target")" "${cb_target%.qcow2}.vmlinux" "$(built_initrd "$cb_target")"
	md_mktemp mdvm
	if is_tiny "$cb_target"; then
		cb_accel=$(pick_accel "$vm_accel" "$cb_target/vmlinuz")
		cb_m=${vm_machine:-microvm}
		tiny_qemu "$cb_accel" "$cb_m" "$(tiny_kernel "$cb_target" "$cb_m" vmlinux)" \
			"$cb_target/initrd.cpio" "${vm_memory:-$TINY_MEMORY}" "$TINY_APPEND mdvm=shell" -serial mon:stdio ||
			md_die "boot: QEMU failed"
		return 0
	fi
	[ -f "$cb_target" ] || md_die "boot: no such image or tiny VM directory: $cb_target"
	if [ -f "$(built_kernel "$cb_target")" ]; then
		cb_accel=$(pick_accel "$vm_accel" "$(built_kernel "$cb_target")")
		# A built image: its own kernel, the console on the serial port.
		cb_m=${vm_machine:-q35}
		tiny_qemu "$cb_accel" "$cb_m" "$(image_kernel "$cb_target")" "$(built_initrd "$cb_target")" \
			"${vm_memory:-1536}" "root=/dev/vda rw" \
			-drive "file=$cb_target,format=$(image_format "$cb_target"),if=virtio" \
			-nic user,model=virtio-net-pci -serial mon:stdio ||
			md_die "boot: QEMU failed"
		return 0
	fi
	cb_accel=$(pick_accel "$vm_accel" "$(default_tiny)/vmlinuz")
	# shellcheck disable=SC2046 # display_args prints separate QEMU options
	"$QEMU" -M "${vm_machine:-q35}" -accel "$cb_accel" -m "${vm_memory:-1536}" -smp "$vm_cpus" \
		-drive "file=$cb_target,format=$(image_format "$cb_target"),if=virtio" \
		-nic user,model=virtio-net-pci $(display_args) ||
		md_die "boot: QEMU failed"
}


cmd_boot "$@"
