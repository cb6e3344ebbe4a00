# mdvm/common.sh: what the mdvm.sh commands share (the cache, the kernel,
# the tiny VM, the accelerator, QEMU's arguments, built images). Sourced by
# each command file after mdlib.sh, never run.
#
# The files beside this one are the programs the guests run (tiny-init.sh,
# initrd-init.sh, guest-*.sh, mdvm-ready.service) and boottime's timestamper
# (timestamp.py): each is copied or run from here, none written by a
# heredoc, so that each is linted in its own language.

# shellcheck disable=SC2034 # PROG: read by mdlib.sh's messages
PROG=${PROG:-mdvm.sh}
# MDVM_DIR: this directory (set by the command file that sources us).
MDVM_DIR=${MDVM_DIR:?MDVM_DIR is not set: run mdvm.sh, not its command files}

umask 022
md_trap_cleanup

QEMU=qemu-system-x86_64
MARKER=MDVM-READY
# The cached tiny VM's format: raised when its initramfs changes, so that
# boottime and run rebuild an old one (2: no /sbin/modprobe, clock offset;
# 3: the vmlinux trimmed, see trim_vmlinux).
TINY_FORMAT=3
# Seconds a KVM probe boot may take to print "Linux version" (KVM: ~0.1 s).
KVM_PROBE_TIMEOUT=${MDVM_KVM_PROBE_TIMEOUT:-5}
# The KVM device (another path only for tests of the probe).
KVM_DEV=${MDVM_KVM_DEVICE:-/dev/kvm}
cache_dir() {
	printf '%s\n' "${MDVM_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/minidocker}"
}

# The cache, checked before anything in it is read or written (SECURITY.md
# 50): a kernel, tiny VM or KVM probe result that another user could
# replace is not one to boot, and a link they planted would take our next
# `>`. So it must be the caller's own directory, writable by nobody else;
# as root, on a path that no other user can change either (HOME,
# XDG_CACHE_HOME or MDVM_CACHE kept by `sudo -E` or `su` may point into a
# student's tree). With $1 = create, it is made (0700) when missing.
check_cache() {
	cc_dir=$(cache_dir)
	md_root_safe_dir "cache $cc_dir" "$cc_dir" "sudo -H, or MDVM_CACHE=DIR"
	if [ "${1:-}" = create ]; then
		if [ ! -d "$cc_dir" ]; then
			{ mkdir -p -- "$(dirname -- "$cc_dir")" && { mkdir -m 700 -- "$cc_dir" || [ -d "$cc_dir" ]; }; } ||
				md_die "cannot create the cache $cc_dir"
		fi
		md_root_safe_dir "cache $cc_dir" "$cc_dir" "sudo -H, or MDVM_CACHE=DIR"
	fi
	if [ ! -e "$cc_dir" ] && [ ! -L "$cc_dir" ]; then return 0; fi
	if [ -L "$cc_dir" ] || [ ! -d "$cc_dir" ] || [ ! -O "$cc_dir" ]; then
		md_die "cache $cc_dir is not a directory of yours: remove it, or set MDVM_CACHE=DIR"
	fi
	case $(stat -c %a -- "$cc_dir") in
	*[2367]? | *[2367]) md_die "cache $cc_dir is writable by group or other: chmod go-w $cc_dir" ;;
	esac
}

need() {
	command -v "$1" >/dev/null 2>&1 || md_die "$2: $1 is not installed (sudo make deps)"
}

# Quote $1 for sh: 'it'\''s'.
shquote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# Is $1 a tiny VM directory made by `tiny`?
is_tiny() {
	[ -f "$1/mdvm-tiny" ] && [ -f "$1/initrd.cpio" ] && [ -f "$1/vmlinuz" ]
}

# ---------------------------------------------------------------- kernel

# The Debian kernel package linux-image-amd64 points to, e.g.
# linux-image-6.1.0-56-amd64.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# Print the cached kernel directory, downloading and unpacking the Debian
# kernel once (apt-get download runs as the caller, no root needed). Offline
# afterwards: an existing cache is used without asking apt.
# shellcheck disable=SC2154 # md_tmp: mdlib.sh's, made by md_mktemp
ensure_kernel() {
	check_cache create
	ek_cache=$(cache_dir)/kernel
	ek_have=$(find "$ek_cache" -mindepth 2 -maxdepth 2 -name vmlinuz 2>/dev/null | sort | tail -n 1)
	if [ -n "$ek_have" ]; then
		# A cache from before trim_vmlinux: trimmed once, in place.
		if [ -f "${ek_have%/*}/vmlinux" ]; then trim_vmlinux "${ek_have%/*}/vmlinux" || true; fi
		dirname -- "$ek_have"
		return 0
	fi
	need apt-get "kernel download"
	ek_pkg=$(kernel_package)
	[ -n "$ek_pkg" ] || md_die "kernel download: apt-cache knows no linux-image-amd64 (apt-get update?), or pass --kernel VMLINUZ"
	md_mktemp mdvm
	mkdir -p "$md_tmp/deb" "$ek_cache"
	md_say "downloading $ek_pkg (once, into $ek_cache)"
	(cd "$md_tmp/deb" && apt-get download -q=2 "$ek_pkg" >/dev/null 2>"$md_tmp/apt.err") ||
		md_die "kernel download: apt-get download $ek_pkg failed: $(tail -n 1 "$md_tmp/apt.err")"
	ek_dir=$ek_cache/${ek_pkg#linux-image-}
	rm -rf -- "$ek_dir.new"
	mkdir -p "$ek_dir.new"
	md_say "unpacking the kernel"
	dpkg-deb --fsys-tarfile "$md_tmp/deb/$ek_pkg"_*.deb | (cd "$md_tmp/deb" && tar -x ./boot) ||
		md_die "kernel unpack: dpkg-deb failed on $ek_pkg"
	cp "$md_tmp/deb/boot/vmlinuz-"* "$ek_dir.new/vmlinuz"
	cp "$md_tmp/deb/boot/config-"* "$ek_dir.new/config"
	# The .deb is kept: its modules are there if a guest needs one later.
	mv "$md_tmp/deb/$ek_pkg"_*.deb "$ek_dir.new/"
	extract_vmlinux "$ek_dir.new/vmlinuz" "$ek_dir.new/vmlinux" || rm -f "$ek_dir.new/vmlinux"
	rm -rf -- "$ek_dir"
	mv "$ek_dir.new" "$ek_dir"
	printf '%s\n' "$ek_dir"
}

# Read an unsigned little-endian integer of $3 bytes at offset $2 of file $1.
read_le() {
	od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

# The bzImage payload: its offset and length from the boot protocol header
# (setup_sects at 0x1f1, payload_offset at 0x248, payload_length at 0x24c,
# protocol >= 2.08), as "OFFSET LENGTH", or fail.
bzimage_payload() {
	[ "$(od -An -c -j 514 -N 4 "$1" | tr -d ' ')" = HdrS ] || return 1
	bp_setup=$(read_le "$1" 497 1)
	[ "$bp_setup" -ne 0 ] || bp_setup=4
	bp_off=$(read_le "$1" 584 4)
	bp_len=$(read_le "$1" 588 4)
	echo "$(((bp_setup + 1) * 512 + bp_off)) $bp_len"
}

# The decompressor for a payload, from its magic bytes.
payload_codec() {
	case $(od -An -tx1 -N 6 "$1" | tr -d ' ') in
	fd377a585a00) echo "xz -dc --single-stream" ;;
	28b52ffd*) echo "zstd -dc" ;;
	1f8b*) echo "gzip -dc" ;;
	*) return 1 ;;
	esac
}

# Write the bzImage's compressed payload to $2.
cut_payload() {
	cp_where=$(bzimage_payload "$1") || return 1
	tail -c +$((${cp_where% *} + 1)) "$1" | head -c "${cp_where#* }" >"$2"
}

# vmlinuz -> the uncompressed ELF vmlinux, for PVH boots (microvm, no
# firmware, no decompression in the guest).
extract_vmlinux() {
	md_mktemp mdvm
	cut_payload "$1" "$md_tmp/payload" || return 1
	ev_codec=$(payload_codec "$md_tmp/payload") || return 1
	# shellcheck disable=SC2086 # the codec is a command and its flags
	$ev_codec <"$md_tmp/payload" >"$2" 2>/dev/null || true
	rm -f "$md_tmp/payload"
	[ "$(od -An -c -N 4 "$2" | tr -d ' ')" = 177ELF ] || return 1
	trim_vmlinux "$2"
}

# Write the unsigned integer $3 as 8 little-endian bytes at offset $2 of $1.
write_le8() {
	wl_v=$3 wl_s='' wl_n=0
	while [ "$wl_n" -lt 8 ]; do
		wl_s="$wl_s\\0$(printf '%03o' $((wl_v % 256)))"
		wl_v=$((wl_v / 256)) wl_n=$((wl_n + 1))
	done
	printf '%b' "$wl_s" | dd of="$1" bs=1 seek="$2" count=8 conv=notrunc 2>/dev/null
}

# Is the byte range $2 (offset), $3 (length) of file $1 all zeros?
all_zero() {
	[ "$(tail -c +$(($2 + 1)) "$1" | head -c "$3" | tr -d '\000' | wc -c)" -eq 0 ]
}

# Debian's vmlinux stores its .bss, .brk and .init.scratch as 24 MB of
# zeros at the end of its last PT_LOAD segment, and QEMU reads and copies
# them at every boot. Shrinking that segment's p_filesz to end before them
# (in whole MiB from its end) leaves the same memory image (the loader
# zero-fills up to p_memsz) from a 42 MB load instead of 66 MB. 12
# interleaved pairs at load 1.4-1.7: firmware phase 237 ms against 280 ms
# (medians); QEMU start to a paused guest: ~180 against ~265 ms.
# Idempotent: a trimmed segment ends in a non-zero MiB.
trim_vmlinux() {
	tv_phoff=$(read_le "$1" 32 8) tv_phnum=$(read_le "$1" 56 2) tv_i=0 tv_ph=''
	while [ "$tv_i" -lt "$tv_phnum" ]; do
		tv_h=$((tv_phoff + tv_i * 56))
		if [ "$(read_le "$1" "$tv_h" 4)" -eq 1 ]; then tv_ph=$tv_h; fi
		tv_i=$((tv_i + 1))
	done
	[ -n "$tv_ph" ] || return 0
	tv_off=$(read_le "$1" $((tv_ph + 8)) 8)
	tv_fsz=$(read_le "$1" $((tv_ph + 32)) 8)
	tv_keep=$tv_fsz
	while [ "$tv_keep" -gt 0 ]; do
		tv_chunk=$((tv_keep % 1048576))
		[ "$tv_chunk" -ne 0 ] || tv_chunk=1048576
		all_zero "$1" $((tv_off + tv_keep - tv_chunk)) "$tv_chunk" || break
		tv_keep=$((tv_keep - tv_chunk))
	done
	[ "$tv_keep" -lt "$tv_fsz" ] || return 0
	write_le8 "$1" $((tv_ph + 32)) "$tv_keep"
}


# Copy a host file to the same path under root $1, resolving symlinks.
copy_in() {
	mkdir -p "$1$(dirname -- "$2")"
	unlink_in "$1$2"
	cp -L "$2" "$1$2"
}

# A busybox applet link in the guest tree points at /bin/busybox, which on
# the host is the host's busybox: cp onto the link would write through it
# (as root: over the host's /bin/busybox). Remove the link first.
unlink_in() {
	if [ -L "$1" ]; then rm -f -- "$1"; fi
}

# A host program and the shared libraries ldd lists, at their host paths.
add_program() {
	ap_path=$(command -v -- "$2" 2>/dev/null) || md_die "tiny: --with $2: no such program on PATH"
	case $ap_path in /*) ;; *) md_die "tiny: --with $2: not a program file" ;; esac
	copy_in "$1" "$ap_path"
	# ldd prints "libx.so => /path (0x...)" and "/lib64/ld-linux... (0x...)".
	for ap_lib in $(ldd "$ap_path" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		copy_in "$1" "$ap_lib"
	done
}

# --add SRC:DEST: a host file or directory at DEST (absolute) in the guest.
add_path() {
	ad_src=${2%%:*}
	ad_dst=${2#*:}
	case $2 in *:*) ;; *) md_usage_error "--add wants SRC:DEST, got '$2'" ;; esac
	case $ad_dst in /*) ;; *) md_usage_error "--add $2: DEST must be an absolute path" ;; esac
	[ -e "$ad_src" ] || md_die "--add $2: no such file or directory: $ad_src"
	mkdir -p "$1$(dirname -- "$ad_dst")"
	unlink_in "$1$ad_dst"
	cp -R -- "$ad_src" "$1$ad_dst"
}

# A cpio (newc) archive of directory $1, every file owned by root.
make_cpio() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2" ||
		md_die "initramfs: cpio failed"
}

# The base initramfs: busybox (its applets as symlinks made now, so the boot
# need not install them), /init, and what --with/--add asked for.
build_initramfs() {
	bi_root=$1
	shift
	mkdir -p "$bi_root/bin" "$bi_root/sbin" "$bi_root/usr/bin" "$bi_root/usr/sbin" \
		"$bi_root/proc" "$bi_root/sys" "$bi_root/dev" "$bi_root/tmp" "$bi_root/root" \
		"$bi_root/etc" "$bi_root/mdvm"
	chmod 1777 "$bi_root/tmp"
	cp /bin/busybox "$bi_root/bin/busybox"
	# No /sbin/modprobe: the guest has no modules, and the kernel runs
	# its modprobe_path for each algorithm it looks up while booting (6
	# times here: crypto-hmac(sha256), ...), each an exec of busybox that
	# can only fail. Without it the lookup fails at once. Interleaved
	# runs, medians to init: 1469 ms without it, 1584 ms with it (load
	# 1.3-2); `busybox modprobe` is still there.
	for bi_app in $(/bin/busybox --list-full); do
		case $bi_app in sbin/modprobe) continue ;; esac
		[ -e "$bi_root/$bi_app" ] || ln -s /bin/busybox "$bi_root/$bi_app"
	done
	cp -- "$MDVM_DIR/tiny-init.sh" "$bi_root/init"
	chmod 755 "$bi_root/init"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$bi_root/etc/passwd"
	echo 'root:x:0:' >"$bi_root/etc/group"
	while [ $# -gt 0 ]; do
		case $1 in
		--with) add_program "$bi_root" "$2" ;;
		--add) add_path "$bi_root" "$2" ;;
		esac
		shift 2
	done
}

# Hard-link $1 to $2 when on one filesystem (the kernel is 70 MB), else copy.
link_or_copy() {
	ln -f -- "$1" "$2" 2>/dev/null || cp -- "$1" "$2"
}

# tiny_make DIR KERNEL GZIP EXTRA: EXTRA is the shell-quoted --with/--add list.
tiny_make() {
	need cpio "tiny"
	[ -x /bin/busybox ] || md_die "tiny: /bin/busybox is not installed (sudo make deps: busybox-static)"
	md_mktemp mdvm
	if [ -n "$2" ]; then
		[ -f "$2" ] || md_die "tiny: --kernel $2: no such file"
		tm_kdir=$md_tmp/kernel
		mkdir -p "$tm_kdir"
		cp -- "$2" "$tm_kdir/vmlinuz"
		extract_vmlinux "$tm_kdir/vmlinuz" "$tm_kdir/vmlinux" || rm -f "$tm_kdir/vmlinux"
	else
		tm_kdir=$(ensure_kernel)
	fi
	md_root_safe_dir "tiny $1" "$1"
	mkdir -p "$1" || md_die "tiny: cannot create $1"
	md_root_safe_dir "tiny $1" "$1"
	md_say "building the initramfs"
	rm -rf -- "$md_tmp/root"
	eval "build_initramfs \"\$md_tmp/root\" $4"
	make_cpio "$md_tmp/root" "$md_tmp/initrd.cpio"
	if [ -n "$3" ]; then
		gzip -9n <"$md_tmp/initrd.cpio" >"$1/initrd.cpio"
	else
		mv -f "$md_tmp/initrd.cpio" "$1/initrd.cpio"
	fi
	link_or_copy "$tm_kdir/vmlinuz" "$1/vmlinuz"
	rm -f "$1/vmlinux"
	if [ -f "$tm_kdir/vmlinux" ]; then link_or_copy "$tm_kdir/vmlinux" "$1/vmlinux"; fi
	{
		echo "mdvm tiny VM: vmlinuz, vmlinux (PVH) and initrd.cpio; boot with mdvm.sh run|boot $1"
		echo "format $TINY_FORMAT"
	} >"$1/mdvm-tiny"
}

# The tiny VM boottime uses by default, kept in the cache directory.
default_tiny() {
	check_cache create
	dt_dir=$(cache_dir)/tiny
	# One made by an older mdvm.sh (another format) is made again: offline,
	# from the cached kernel.
	if ! is_tiny "$dt_dir" || ! grep -qx "format $TINY_FORMAT" "$dt_dir/mdvm-tiny"; then
		tiny_make "$dt_dir" "" "" ""
	fi
	printf '%s\n' "$dt_dir"
}

# ---------------------------------------------------------------- accel

# Print kvm or tcg. auto: /dev/kvm must be usable and a probe boot must reach
# the kernel ("Linux version") within KVM_PROBE_TIMEOUT seconds; the result
# is cached per host boot (boot_id). The fallback is said in one line.
pick_accel() {
	case $1 in
	tcg) echo tcg; return 0 ;;
	kvm)
		kvm_usable || md_die "accel: $KVM_DEV is missing or not usable (see --accel auto)"
		echo kvm
		return 0
		;;
	auto) ;;
	*) md_usage_error "--accel: auto, kvm or tcg, not '$1'" ;;
	esac
	if [ ! -e "$KVM_DEV" ]; then
		md_warn "no $KVM_DEV: using TCG (slow software emulation)"
		echo tcg
		return 0
	fi
	if ! kvm_usable; then
		# Not "join the kvm group": INSTALL forbids it (the device gives
		# root-equivalent access to much of the host).
		md_warn "cannot open $KVM_DEV: using TCG (slow software emulation; KVM is not for students here)"
		echo tcg
		return 0
	fi
	pa_boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	check_cache
	pa_file=$(cache_dir)/kvm-probe.$pa_boot
	if [ -f "$pa_file" ]; then
		pa_res=$(cat "$pa_file")
	else
		pa_res=$(kvm_probe "$2")
		check_cache create
		# A new file, or the probe is not cached: never through a link.
		rm -f -- "$pa_file"
		(set -C && echo "$pa_res" >"$pa_file") 2>/dev/null || true
	fi
	case $pa_res in
	kvm) echo kvm ;;
	*)
		md_warn "KVM does not work here (a probe boot did not reach the kernel in ${KVM_PROBE_TIMEOUT}s): using TCG"
		echo tcg
		;;
	esac
}

kvm_usable() {
	[ -r "$KVM_DEV" ] && [ -w "$KVM_DEV" ]
}

# Boot kernel $1 under KVM with no initramfs: it prints
# "Linux version" within milliseconds if KVM works, then panics (no root)
# and QEMU exits (-no-reboot). Print kvm or broken.
kvm_probe() {
	md_mktemp mdvm
	kp_kernel=$1
	timeout -s KILL "$KVM_PROBE_TIMEOUT" "$QEMU" -M pc -accel kvm -m 128 -display none \
		-no-user-config -nodefaults -no-reboot -serial "file:$md_tmp/probe.log" \
		-kernel "$kp_kernel" -append "console=ttyS0 panic=-1 reboot=t" \
		</dev/null >/dev/null 2>&1 || true
	if grep -q 'Linux version' "$md_tmp/probe.log" 2>/dev/null; then echo kvm; else echo broken; fi
}

# ---------------------------------------------------------------- qemu

# Common options: parse into vm_* variables; vm_n: the number of words used.
vm_accel=auto vm_machine='' vm_memory='' vm_cpus=1 vm_timeout='' vm_display='' vm_n=0 vm_exec=
vm_append=
parse_vm_opt() {
	vm_n=2
	case $1 in
	--accel | --machine | --memory | --cpus | --timeout | --vnc | --append)
		[ $# -ge 2 ] || md_usage_error "$1 needs a value"
		;;
	esac
	case $1 in
	--accel) vm_accel=$2 ;;
	--machine)
		case $2 in pc | q35 | microvm) vm_machine=$2 ;; *) md_usage_error "--machine: pc, q35 or microvm, not '$2'" ;; esac
		;;
	--memory)
		case $2 in '' | *[!0-9]*) md_usage_error "--memory: a size in MB, not '$2'" ;; esac
		vm_memory=$2
		;;
	--cpus)
		case $2 in '' | *[!0-9]* | 0) md_usage_error "--cpus: a number of CPUs, not '$2'" ;; esac
		vm_cpus=$2
		;;
	--timeout)
		case $2 in '' | *[!0-9]* | 0) md_usage_error "--timeout: seconds, not '$2'" ;; esac
		vm_timeout=$2
		;;
	--vnc) vm_display="vnc=$2" ;;
	--append) vm_append="$vm_append $2" ;;
	--curses) vm_display=curses vm_n=1 ;;
	--headless) vm_display=headless vm_n=1 ;;
	*) vm_n=0 ;;
	esac
}

# The kernel file for a machine: PVH vmlinux when there is one and the
# machine can boot it, else the bzImage.
tiny_kernel() {
	if [ "$3" = vmlinux ] && [ -f "$1/vmlinux" ]; then
		echo "$1/vmlinux"
	else
		echo "$1/vmlinuz"
	fi
}

# Kernel command line of the tiny VM (run, boot, boottime), not of built
# images. rodata=off: the kernel leaves its text and read-only data
# writable instead of write-protecting them at the end of boot and then
# walking every page table to check that no page is writable and
# executable (CONFIG_DEBUG_WX in Debian's kernel: 0.14 s of the boot under
# TCG here). It gives up a hardening of the guest's own kernel, which a
# throwaway lab VM whose commands run as root anyway can spare; `--append
# rodata=on` brings it back. Interleaved runs, medians to init: 1417 ms
# with it, 1549 ms without (load 1.0), and 1409 against 1469 ms (load 1.3).
TINY_APPEND=rodata=off
# ipv6.disable=1: the tiny VM has no network device, and setting up IPv6
# (inet6_init) took 40 ms of the kernel's init under TCG here
# (initcall_debug); disabled, 0.07 ms.
TINY_APPEND="$TINY_APPEND ipv6.disable=1"

# The tiny VM's memory, in MB (--memory changes it). The kernel sets up
# its memory map and page tables for all of it: 14 interleaved rounds to
# init took a median 1458 ms at 128 MB; 8-10 rounds against 256 MB saved
# 65-90 ms (medians). At 64 MB the kernel does not reach init.
TINY_MEMORY=128

# The host's TSC frequency in kHz, from /proc/cpuinfo. Under TCG the guest
# reads the host's TSC; a microvm has no HPET or ACPI PM timer, and
# calibrating against the PIT fails when the host is busy (the kernel then
# hangs after "Marking TSC unstable": 3 hangs in 3 boots at load 7 here).
# Telling the kernel the frequency skips that calibration.
host_tsc_khz() {
	awk -F: '/^cpu MHz/ { printf "%d\n", $2 * 1000; exit }' /proc/cpuinfo 2>/dev/null
}

# Build QEMU's argument list (in "$@" of the caller via set --) for the tiny
# VM: tiny_qemu ACCEL MACHINE KERNELFILE INITRD MEMORY CMDLINE-EXTRA [QEMU-ARG]...
tiny_qemu() {
	tq_accel=$1 tq_machine=$2 tq_kernel=$3 tq_initrd=$4 tq_mem=$5 tq_extra=$6
	shift 6
	if [ "$tq_accel" = tcg ] && [ "$tq_machine" = microvm ]; then
		tq_khz=$(host_tsc_khz)
		if [ -n "$tq_khz" ]; then tq_extra="tsc_early_khz=$tq_khz $tq_extra"; fi
	fi
	# Under TCG the jiffies watchdog loses ticks on a busy host and marks
	# the (right) TSC unstable; the kernel clock then falls back to jiffies
	# and runs slow. tsc=reliable keeps the TSC.
	if [ "$tq_accel" = tcg ]; then tq_extra="tsc=reliable $tq_extra"; fi
	# cryptomgr.notests: the crypto self-tests are the slowest initcall of
	# Debian's kernel under TCG (crypto_algapi_init, 0.49 s of a 2.97 s
	# kernel init with initcall_debug); a lab VM does not need them at
	# every boot. Tiny VM, interleaved runs at load 2-3.6: kernel phase
	# 1.53-1.67 s with it, 1.66-2.57 s without.
	tq_extra="cryptomgr.notests $tq_extra"
	# The one crypto self-test cryptomgr.notests does not skip in 6.1:
	# crypto_kdf108_init only runs the SP800-108 KDF's known-answer test
	# (the KDF itself needs no init). initcall_debug: 43-105 ms of kernel
	# init under TCG. Tiny VM, 12 interleaved pairs at load 1.0-1.4:
	# medians to init 1473 ms with it, 1935 ms without (paired median
	# -211 ms; a noisy host, 9 pairs of 12 faster).
	tq_extra="initcall_blacklist=crypto_kdf108_init $tq_extra"
	# --append comes last: the kernel takes the last of a repeated option.
	tq_extra="$tq_extra$vm_append"
	set -- -M "$tq_machine" -accel "$tq_accel" -m "$tq_mem" -smp "$vm_cpus" \
		-no-user-config -nodefaults -no-reboot -display none \
		-kernel "$tq_kernel" -initrd "$tq_initrd" \
		-append "console=ttyS0 reboot=t panic=-1 $tq_extra" "$@"
	# SeaBIOS prints on the serial port only without graphics: its lines
	# mark the end of the firmware phase in boottime.
	case $tq_machine in pc | q35) set -- -machine graphics=off "$@" ;; esac
	# __qemu: the timestamper's child must be QEMU itself, so that killing
	# it at the timeout kills QEMU.
	# --timeout S: QEMU is killed after S seconds.
	if [ -n "$vm_exec" ] && [ -n "$vm_timeout" ]; then exec timeout -s KILL "$vm_timeout" "$QEMU" "$@"; fi
	if [ -n "$vm_exec" ]; then exec "$QEMU" "$@"; fi
	if [ -n "$vm_timeout" ]; then
		timeout -s KILL "$vm_timeout" "$QEMU" "$@"
	else
		"$QEMU" "$@"
	fi
}


# Is $1 a disk image made by build (its kernel and initrd beside it)?
is_built() {
	case $1 in *.qcow2) ;; *) return 1 ;; esac
	[ -f "$1" ] && [ -f "$(built_kernel "$1")" ] && [ -f "$(built_initrd "$1")" ]
}


# The kernel and initrd `build` put beside IMG.qcow2.
built_kernel() {
	echo "${1%.qcow2}.vmlinuz"
}
built_initrd() {
	echo "${1%.qcow2}.initrd"
}

# The kernel to boot an image with: the uncompressed vmlinux (PVH: no
# decompression in the guest, 3.9 s of the 26.6 s boot under TCG here) when
# build could extract it, else the bzImage.
image_kernel() {
	if [ -f "${1%.qcow2}.vmlinux" ]; then echo "${1%.qcow2}.vmlinux"; else built_kernel "$1"; fi
}

# The format qemu-img sees in an image (qcow2, raw, ...).
image_format() {
	qemu-img info "$1" 2>/dev/null | sed -n 's/^file format: //p'
}

# QEMU's display options from --curses/--vnc/--headless (default: the serial
# console on this terminal: lab VMs have no desktop).
display_args() {
	case $vm_display in
	curses) echo "-display curses" ;;
	vnc=*) echo "-display $vm_display" ;;
	*) echo "-display none -serial mon:stdio" ;;
	esac
}


# ---------------------------------------------------------------- root
#
# As root, boot only what no other user can change (issue 18, SECURITY.md
# 50). A student's disk image may name any file of the host as its qcow2
# backing file (/dev/sda, /etc/shadow) for root's QEMU to open, read into
# the guest or, booted without an overlay (boot, install), write to; the
# kernel and initramfs beside it are code QEMU runs as root's guest.

# Why root should not trust the file $1, on stdout (nothing if it may):
# it and every directory above it must belong to root and be writable by
# no one else (a sticky directory such as /tmp is fine above it). A
# symbolic link is followed only where everything before it passed: in
# such a directory nobody else can change the link between this check
# and QEMU's open, and where it leads is checked the same way (e.g.
# tests/vm/v2-guest.sh links the cached kernel beside its image copy).
untrusted_file() {
	case $1 in /*) ut_rest=$1 ;; *) ut_rest=$(pwd -P)/$1 ;; esac
	ut_whole=$ut_rest
	set -- /
	ut_cur=''
	while [ -n "$ut_rest" ]; do
		ut_c=${ut_rest%%/*}
		case $ut_rest in */*) ut_rest=${ut_rest#*/} ;; *) ut_rest='' ;; esac
		[ -n "$ut_c" ] || continue
		ut_cur=$ut_cur/$ut_c
		set -- "$@" "$ut_cur"
	done
	ut_last=$ut_cur
	ut_st=$(stat -c '%u %a %F' -- "$@" 2>/dev/null) || { echo "$ut_last cannot be read"; return 0; }
	while read -r ut_u ut_m ut_f; do
		ut_why=''
		if [ "$ut_f" = "symbolic link" ]; then
			ut_real=$(readlink -f -- "$ut_whole") || { echo "$1 leads nowhere"; return 0; }
			untrusted_file "$ut_real"
			return 0
		elif [ "$1" != "$ut_last" ] && [ "$ut_f" != directory ]; then
			ut_why='is not a directory'
		elif [ "$1" = "$ut_last" ] && [ "$ut_f" != "regular file" ] && [ "$ut_f" != "regular empty file" ]; then
			ut_why='is not a regular file'
		elif [ "$ut_u" -ne 0 ]; then
			ut_why='belongs to another user'
		elif [ $((0$ut_m & 022)) -ne 0 ] && { [ "$1" = "$ut_last" ] || [ $((0$ut_m & 01000)) -eq 0 ]; }; then
			ut_why='is writable by group or other'
		fi
		if [ -n "$ut_why" ]; then echo "$1 $ut_why"; return 0; fi
		shift
	done <<UT
$ut_st
UT
}

# root_boot_check WHAT FILE...: as root, refuse in one line unless root
# may trust each FILE that exists (a directory is skipped: the files in it
# are named too) and, for a disk image, every file of its backing chain
# (read by qemu-img only once the image itself passed).
root_boot_check() {
	[ "$(id -u)" -eq 0 ] || return 0
	rb_what=$1
	shift
	for rb_f in "$@"; do
		[ -e "$rb_f" ] || [ -L "$rb_f" ] || continue
		# A tiny VM's directory: its files, named too, are what is booted.
		if [ -d "$rb_f" ] && [ ! -L "$rb_f" ]; then continue; fi
		rb_why=$(untrusted_file "$rb_f")
		[ -z "$rb_why" ] || root_refuse "$rb_what" "$rb_f" "$rb_why"
		case $rb_f in *.vmlinuz | *.vmlinux | *.initrd | */vmlinuz | */vmlinux | */initrd.cpio | *.iso) continue ;; esac
		case $rb_f in /*) rb_abs=$rb_f ;; *) rb_abs=$(pwd -P)/$rb_f ;; esac
		# The chain after the image itself, each file as qemu-img opened it.
		rb_chain=$(qemu-img info -U --backing-chain -- "$rb_abs" 2>/dev/null) ||
			md_die "$rb_what: qemu-img cannot read the backing chain of $rb_f"
		rb_chain=$(printf '%s\n' "$rb_chain" | sed -n 's/^image: //p' | tail -n +2)
		while IFS= read -r rb_b; do
			[ -n "$rb_b" ] || continue
			case $rb_b in /*) ;; *) md_die "$rb_what: $rb_f has a backing file that is not a plain file ($rb_b)" ;; esac
			rb_why=$(untrusted_file "$rb_b")
			[ -z "$rb_why" ] || root_refuse "$rb_what" "backing file $rb_b of $rb_f" "$rb_why"
		done <<RB
$rb_chain
RB
	done
}
root_refuse() {
	md_die "$1: $2: $3: as root, $PROG boots only files no other user can change (copy them to a directory of root's)"
}
