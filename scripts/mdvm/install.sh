#!/bin/sh
# Usage: mdvm.sh install IMG --iso ISO [--memory MB] [--timeout S] [--vnc :N | --curses]
# Summary: boot an installer ISO with IMG as its disk
#
# The installer's screen on curses or VNC, or its serial console on this
# terminal (Ctrl-A X quits; Debian's installer: choose its text install).
# The run ends when the installer reboots or powers off the guest (then
# `mdvm.sh boot IMG`), and within seconds when the ISO does not boot.
#
# Options:
#   --iso ISO              the installer (required)
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --timeout S            stop the guest after S seconds (default: none)
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
	[ -n "$ci_iso" ] || md_usage_error "install: --iso ISO is required: an x86-64 installer ($NETINST), or no installer at all: mdvm.sh build IMG.qcow2"
	[ -f "$ci_img" ] || md_die "install: no such image: $ci_img (mdvm.sh create $ci_img)"
	[ -f "$ci_iso" ] || md_die "install: no such ISO: $ci_iso"
	md_root_safe_dir "install: $ci_img" "$(dirname -- "$ci_img")"
	root_boot_check install "$ci_img" "$ci_iso"
	need "$QEMU" install
	md_mktemp mdvm
	if [ "$vm_accel" = auto ]; then
		ci_accel=$(pick_accel auto "$(default_tiny)/vmlinuz")
	else
		ci_accel=$(pick_accel "$vm_accel" '')
	fi
	md_say "install: booting $ci_iso with $ci_img as disk ($ci_accel)"
	# The ISO is the one boot device (bootindex, strict), and a boot that
	# fails reboots after FAIL_MS, which -no-reboot turns into QEMU's exit:
	# an ISO that does not boot ends the run within seconds instead of
	# SeaBIOS retrying forever, and SeaBIOS's log (its debug port) says
	# why. -no-reboot also ends the run when the installer reboots at its
	# end, instead of booting the installer again. No PXE boot ROM on the
	# network card: it would try the network for a minute first.
	# shellcheck disable=SC2046 # display_args prints separate QEMU options
	set -- "$QEMU" -M "${vm_machine:-q35}" -accel "$ci_accel" -m "${vm_memory:-1536}" -smp "$vm_cpus" \
		-drive "file=$ci_img,format=$(image_format "$ci_img"),if=virtio" \
		-drive "if=none,id=cd,media=cdrom,readonly=on,format=raw,file=$ci_iso" \
		-device ide-cd,drive=cd,bootindex=0 -boot "strict=on,reboot-timeout=$FAIL_MS" -no-reboot \
		-netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile= \
		-chardev "file,id=fw,path=$md_tmp/firmware.log" -device isa-debugcon,iobase=0x402,chardev=fw \
		$(display_args)
	if [ -n "$vm_timeout" ]; then set -- timeout -s KILL "$vm_timeout" "$@"; fi
	ci_rc=0
	"$@" || ci_rc=$?
	if grep -q '^No bootable device' "$md_tmp/firmware.log" 2>/dev/null; then
		ci_why=$(sed -n 's/^Boot failed: //p' "$md_tmp/firmware.log" | head -n 1)
		md_die "install: $ci_iso does not boot (firmware: ${ci_why:-no bootable device}): give an x86-64 installer ISO ($NETINST)"
	fi
	if [ "$ci_rc" -eq 137 ] && [ -n "$vm_timeout" ]; then md_die "install: stopped after ${vm_timeout}s (--timeout)"; fi
	[ "$ci_rc" -eq 0 ] || md_die "install: QEMU failed (status $ci_rc)"
	md_say "install: the guest rebooted or powered off; to boot what was installed: mdvm.sh boot $ci_img"
}

# Where a student finds an installer.
NETINST='e.g. Debian netinst, https://www.debian.org/distrib/netinst'
# Milliseconds SeaBIOS waits after a failed boot before it reboots.
FAIL_MS=3000


cmd_install "$@"
