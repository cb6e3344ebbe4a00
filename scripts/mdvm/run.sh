#!/bin/sh
# Usage: mdvm.sh run IMAGE|DIR [OPTIONS] [--add SRC:DEST]... [--script FILE] [-- COMMAND [ARG]...]
# Summary: boot a VM, run one command in it as root, print its output, power off
#
# Boots the tiny VM in DIR (`tiny`: the one kept in the cache) or an IMAGE
# made by build, runs COMMAND (or the script FILE, with ARGs) as root in
# the guest, prints its output, powers off and exits with its status.
# stderr is merged into stdout (one serial line carries both). An IMAGE
# boots its own kernel with a minimal init instead of systemd; the guest
# writes to a temporary overlay (the image is left as built) on the disk of
# TMPDIR, through the host's page cache unless --disk-cache none (O_DIRECT).
#
# Options:
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --timeout S            give up on the guest after S seconds (default: none)
#   --append ARGS          more kernel command line (last wins, e.g. loglevel=1)
#   --add SRC:DEST         a host file or directory at DEST in the guest
#   --script FILE          run this host script in the guest (ARGs after --)
#   --disk-cache MODE      IMAGE only: QEMU's cache mode for the disk (none,
#                          writeback (default), writethrough, directsync, unsafe)
#   -h, --help             print this help
#
# Exit status: the command's; 2 bad usage; 125 the guest stopped (or timed
# out) before the command finished, or mdvm.sh refused.
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"

# The payload: the command words, each quoted, after exec; or a script.
write_payload() {
	wp_root=$1 wp_script=$2
	shift 2
	mkdir -p "$wp_root/mdvm"
	if [ -n "$wp_script" ]; then
		cp -- "$wp_script" "$wp_root/mdvm/script"
		chmod 755 "$wp_root/mdvm/script"
		set -- /mdvm/script "$@"
	fi
	{
		echo '#!/bin/sh'
		printf 'exec'
		for wp_w in "$@"; do printf ' %s' "$(shquote "$wp_w")"; done
		echo
	} >"$wp_root/mdvm/payload"
	chmod 755 "$wp_root/mdvm/payload"
}

# Read the console on stdin; print the lines between MDVM-BEGIN and
# MDVM-EXIT (without the tty's \r) as they come; save everything to $1;
# exit with the guest command's status, or 255 if it never ended.
frame_reader() {
	awk -v logf="$1" '
		{ sub(/\r$/, ""); print > logf; fflush(logf) }
		inrun && /^MDVM-EXIT [0-9]+$/ { rc = $2 + 0; done = 1; inrun = 0; next }
		inrun { print; fflush(); next }
		/^MDVM-BEGIN$/ { inrun = 1 }
		END { exit done ? rc : 255 }'
}
# The tiny VM: the payload is one more cpio archive after its initramfs.
run_tiny_prepare() {
	make_cpio "$md_tmp/payload" "$md_tmp/payload.cpio"
	# Concatenated archives: the kernel unpacks one after the other.
	cat "$1/initrd.cpio" "$md_tmp/payload.cpio" >"$md_tmp/initrd"
}
run_tiny_boot() {
	rb_machine=${vm_machine:-microvm}
	tiny_qemu "$cr_accel" "$rb_machine" "$(tiny_kernel "$1" "$rb_machine" vmlinux)" "$md_tmp/initrd" \
		"${vm_memory:-$TINY_MEMORY}" "$TINY_APPEND quiet mdvm=run" -serial stdio
}

# A built image: the guest writes to an overlay in the temporary directory
# (the image stays as built, and two runs may share it); the payload is a
# tar archive on a second disk that the guest's mdvm-init unpacks at /.
run_image_prepare() {
	need qemu-img run
	(cd "$md_tmp/payload" && find . -mindepth 1 -maxdepth 1 -print0 |
		tar --null -T - --owner=0 --group=0 --numeric-owner -cf "$md_tmp/payload.tar") ||
		md_die "run: packing the command for the guest failed"
	ri_base=$(cd -- "$(dirname -- "$1")" && pwd)/${1##*/}
	qemu-img create -q -f qcow2 -F "$(image_format "$1")" -b "$ri_base" "$md_tmp/overlay.qcow2" ||
		md_die "run: qemu-img create of the overlay on $1 failed"
}
run_image_boot() {
	tiny_qemu "$cr_accel" "${vm_machine:-q35}" "$(image_kernel "$1")" "$(built_initrd "$1")" \
		"${vm_memory:-1536}" "root=/dev/vda rw quiet init=/usr/local/sbin/mdvm-init" \
		-drive "file=$md_tmp/overlay.qcow2,format=qcow2,if=virtio,cache=$2" \
		-drive "file=$md_tmp/payload.tar,format=raw,if=virtio,readonly=on" -serial stdio
}

cmd_run() {
	cr_target='' cr_script='' cr_adds='' cr_cache=''
	while [ $# -gt 0 ]; do
		parse_vm_opt "$@"
		if [ "$vm_n" -gt 0 ]; then shift "$vm_n"; continue; fi
		case $1 in
		--) shift; break ;;
		--add)
			[ $# -ge 2 ] || md_usage_error "--add needs SRC:DEST"
			cr_adds="$cr_adds --add $(shquote "$2")"
			shift
			;;
		--script)
			[ $# -ge 2 ] || md_usage_error "--script needs a file"
			[ -f "$2" ] || md_die "run: --script $2: no such file"
			cr_script=$2
			shift
			;;
		--disk-cache)
			[ $# -ge 2 ] || md_usage_error "--disk-cache needs a mode"
			case $2 in none | writeback | writethrough | directsync | unsafe) cr_cache=$2 ;;
			*) md_usage_error "--disk-cache: none, writeback, writethrough, directsync or unsafe, not '$2'" ;;
			esac
			shift
			;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "run: unknown option: $1" ;;
		*)
			[ -z "$cr_target" ] || md_usage_error "run: one IMAGE|DIR, then -- COMMAND"
			cr_target=$1
			;;
		esac
		shift
	done
	[ -n "$cr_target" ] || md_usage_error "run: which IMAGE|DIR?"
	[ $# -gt 0 ] || [ -n "$cr_script" ] || md_usage_error "run: no command (mdvm.sh run IMAGE|DIR -- COMMAND)"
	[ "$cr_target" != tiny ] || cr_target=$(default_tiny)
	if ! is_tiny "$cr_target" && ! is_built "$cr_target"; then
		md_die "run: $cr_target is neither a tiny VM directory (mdvm.sh tiny DIR) nor an image made by build with its .vmlinuz and .initrd beside it (mdvm.sh build IMG.qcow2)"
	fi
	[ -z "$cr_cache" ] || is_built "$cr_target" || md_usage_error "run: --disk-cache is for an image; a tiny VM has no disk"
	root_boot_check run "$cr_target" "$cr_target/vmlinuz" "$cr_target/vmlinux" "$cr_target/initrd.cpio" \
		"$(built_kernel "$cr_target")" "${cr_target%.qcow2}.vmlinux" "$(built_initrd "$cr_target")"
	need "$QEMU" "run"
	md_mktemp mdvm
	if is_tiny "$cr_target"; then
		cr_accel=$(pick_accel "$vm_accel" "$cr_target/vmlinuz")
	else
		cr_accel=$(pick_accel "$vm_accel" "$(built_kernel "$cr_target")")
	fi
	mkdir -p "$md_tmp/payload"
	write_payload "$md_tmp/payload" "$cr_script" "$@"
	eval "set -- $cr_adds"
	while [ $# -gt 0 ]; do add_path "$md_tmp/payload" "$2"; shift 2; done
	if is_tiny "$cr_target"; then run_tiny_prepare "$cr_target"; else run_image_prepare "$cr_target"; fi
	# QEMU runs in the background (so the trap can stop it) into a FIFO that
	# frame_reader reads; its status is the guest command's. vm_exec: the
	# background job becomes QEMU (or timeout), so killing it stops QEMU.
	mkfifo "$md_tmp/console"
	: >"$md_tmp/console.log"
	(
		vm_exec=1
		if is_tiny "$cr_target"; then run_tiny_boot "$cr_target"; else run_image_boot "$cr_target" "${cr_cache:-writeback}"; fi
	) </dev/null >"$md_tmp/console" 2>"$md_tmp/qemu.err" &
	md_pids=$!
	cr_rc=0
	frame_reader "$md_tmp/console.log" <"$md_tmp/console" || cr_rc=$?
	cr_qrc=0
	wait "$md_pids" || cr_qrc=$?
	md_pids=
	if [ "$cr_rc" -eq 255 ] && ! grep -q '^MDVM-EXIT 255$' "$md_tmp/console.log"; then
		if [ "$cr_qrc" = 137 ] && [ -n "$vm_timeout" ]; then
			md_warn "run: the guest did not finish within ${vm_timeout}s"
		else
			md_warn "run: the guest stopped before the command finished; last console lines:"
		fi
		tail -n 15 "$md_tmp/console.log" "$md_tmp/qemu.err" >&2 2>/dev/null || true
		exit 125
	fi
	exit "$cr_rc"
}


cmd_run "$@"
