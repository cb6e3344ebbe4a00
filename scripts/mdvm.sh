#!/bin/sh
# Usage: mdvm.sh COMMAND [OPTIONS] [ARGS]
# Summary: make, boot and time QEMU virtual machines, without root
#
# Commands:
#   tiny DIR [--with PROG]... [--add SRC:DEST]... [--kernel VMLINUZ] [--gzip]
#       a Debian kernel + busybox initramfs in DIR: the fast, offline default.
#       --with copies a host program and its shared libraries into the guest;
#       --add copies a host file or directory to DEST in the guest.
#   run IMAGE|DIR [OPTIONS] [--add SRC:DEST]... [--script FILE] [-- COMMAND [ARG]...]
#       boot the tiny VM in DIR or an IMAGE made by build, run COMMAND (or
#       the script FILE, with ARGs) as root in the guest, print its output,
#       power off, exit with its status. stderr is merged into stdout (one
#       serial line carries both). An IMAGE boots its own kernel with a
#       minimal init instead of systemd; the guest writes to a temporary
#       overlay (the image is left as built) on the disk of TMPDIR, through
#       the host's page cache unless --disk-cache none (O_DIRECT).
#   boot IMAGE|DIR [OPTIONS] [--curses | --vnc :N]
#       interactive: the serial console on this terminal (Ctrl-A X quits),
#       or the screen on curses/VNC. A tiny DIR gives a busybox shell.
#   boottime [IMAGE|DIR|tiny] [-n N] [OPTIONS] [--timeout S] [--out DIR] [--matrix]
#       boot N times (default 5) headless and time each serial console line
#       from QEMU's start: firmware, kernel decompression, kernel init,
#       userspace, total; median/min/max; hung boots are counted, never
#       averaged in. --out writes CSV, a gnuplot PNG+SVG and a Markdown
#       report. --matrix compares machines and kernel formats (and KVM).
#       `tiny` (the default) is a tiny VM kept in the cache directory; an
#       IMAGE must come from build (its kernel beside it, the marker unit).
#   create IMG [--size 10G] [--format qcow2|raw]
#       an empty disk image
#   install IMG --iso ISO [--memory MB] [--vnc :N | --curses]
#       boot the installer ISO with IMG as its disk
#   build IMG.qcow2 [--suite bookworm] [--include PKG,...] [--size 4G]
#       a Debian guest without root and without an installer: mmdebstrap
#       (unshare mode with a subordinate id range), mke2fs -d, qcow2; its
#       kernel beside it (IMG.vmlinuz, and IMG.vmlinux uncompressed for a
#       PVH boot) with a small busybox initramfs that loads the virtio and
#       ext4 modules (IMG.initrd), a serial console, MDVM-READY printed
#       when multi-user.target is up
#
# Options for run, boot and boottime:
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --timeout S            give up on the guest after S seconds (run: none;
#                          boottime: 60 per boot)
#   --append ARGS          more kernel command line (last wins, e.g. loglevel=1)
#   --disk-cache MODE      run IMAGE: QEMU's cache mode for the disk (none,
#                          writeback (default), writethrough, directsync, unsafe)
#   -h, --help             print this help
#
# Environment: MDVM_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/minidocker)
# holds the downloaded kernel (once; offline afterwards) and the KVM probe
# result (per host boot); it must be yours and writable by nobody else.
# MDVM_KVM_PROBE_TIMEOUT: seconds (default 5).
#
# The guest's /init (tiny) mounts /proc, /sys, /dev, /dev/pts, /dev/shm,
# prints MDVM-READY on the console, then by the kernel command line word
# mdvm=MODE: ready (power off), shell (a shell on the console), run (run
# /mdvm/payload as root in /root, framed by MDVM-BEGIN and "MDVM-EXIT
# STATUS" lines), times (the kernel-log times boottime reads). To reuse it,
# e.g. for a test suite: `mdvm.sh tiny DIR --with PROG --add tests:/tests`
# then `mdvm.sh run DIR --script tests/run-all.sh -- ARGS`; the script can
# mount what it needs itself (e.g. cgroup2 on /sys/fs/cgroup).
set -eu

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

umask 022

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

# ---------------------------------------------------------------- helpers

# A progress line on a terminal, nothing otherwise (makefiles, CI, pipes).
say() {
	if [ -t 2 ]; then md_warn "$*"; fi
}

# One temporary directory per run, removed on exit and on signals, with the
# background processes (QEMU, readers) we started.
vm_tmp=
vm_pids=
cleanup() {
	for p in $vm_pids; do kill "$p" 2>/dev/null || true; done
	vm_pids=
	if [ -n "$vm_tmp" ] && [ -d "$vm_tmp" ]; then rm -rf -- "$vm_tmp"; fi
	vm_tmp=
}
on_signal() {
	cleanup
	trap - EXIT
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# As root, TMPDIR must be root's (sudo -E keeps a student's): mktemp makes
# a fresh directory, but in a student's directory the student could rename
# it and put a link in its place.
make_tmp() {
	[ -z "$vm_tmp" ] || return 0
	md_root_safe_dir "TMPDIR ${TMPDIR:-/tmp}" "${TMPDIR:-/tmp}" "unset TMPDIR"
	vm_tmp=$(mktemp -d "${TMPDIR:-/tmp}/mdvm.XXXXXX") ||
		md_die "mktemp: cannot create a temporary directory"
}

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
	make_tmp
	mkdir -p "$vm_tmp/deb" "$ek_cache"
	say "downloading $ek_pkg (once, into $ek_cache)"
	(cd "$vm_tmp/deb" && apt-get download -q=2 "$ek_pkg" >/dev/null 2>"$vm_tmp/apt.err") ||
		md_die "kernel download: apt-get download $ek_pkg failed: $(tail -n 1 "$vm_tmp/apt.err")"
	ek_dir=$ek_cache/${ek_pkg#linux-image-}
	rm -rf -- "$ek_dir.new"
	mkdir -p "$ek_dir.new"
	say "unpacking the kernel"
	dpkg-deb --fsys-tarfile "$vm_tmp/deb/$ek_pkg"_*.deb | (cd "$vm_tmp/deb" && tar -x ./boot) ||
		md_die "kernel unpack: dpkg-deb failed on $ek_pkg"
	cp "$vm_tmp/deb/boot/vmlinuz-"* "$ek_dir.new/vmlinuz"
	cp "$vm_tmp/deb/boot/config-"* "$ek_dir.new/config"
	# The .deb is kept: its modules are there if a guest needs one later.
	mv "$vm_tmp/deb/$ek_pkg"_*.deb "$ek_dir.new/"
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
	make_tmp
	cut_payload "$1" "$vm_tmp/payload" || return 1
	ev_codec=$(payload_codec "$vm_tmp/payload") || return 1
	# shellcheck disable=SC2086 # the codec is a command and its flags
	$ev_codec <"$vm_tmp/payload" >"$2" 2>/dev/null || true
	rm -f "$vm_tmp/payload"
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

# ---------------------------------------------------------------- initramfs

# The guest's /init. Busybox only; every step that can fail says so.
write_init() {
	cat >"$1" <<'EOF'
#!/bin/sh
# mdvm tiny init: mount the API filesystems, say we are up, then do what
# mdvm=MODE on the kernel command line says (ready, shell, run).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mode=ready
for w in $(cat /proc/cmdline); do
	case $w in mdvm=*) mode=${w#mdvm=} ;; esac
done
# The same moment in the kernel log (microseconds) and on the console: the
# host's boottime ties its clock to the guest's with it.
echo "mdvm: MDVM-MARK" >/dev/kmsg
# A newline first: SeaBIOS leaves its last line open.
printf '\nMDVM-READY\n'
case $mode in
run)
	echo MDVM-BEGIN
	if [ -x /mdvm/payload ]; then
		(cd /root && exec /mdvm/payload) </dev/null 2>&1
		rc=$?
	else
		echo "mdvm: no /mdvm/payload in the initramfs"
		rc=127
	fi
	echo "MDVM-EXIT $rc"
	;;
shell)
	echo "mdvm: busybox shell; 'poweroff' or exit to stop the VM"
	setsid cttyhack sh -l
	;;
times)
	# Both kernel clocks at one moment, for boottime: the log's clock
	# (cpu_clk) stood still while the early kernel ran without a timer
	# tick; sched_clk (raw TSC time since the log's zero) did not.
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	awk '$1 == "sched_clk" || $1 == "cpu_clk" { print "MDVM-CLOCK", $1, $3 }' /sys/kernel/debug/sched/debug 2>/dev/null
	dmesg | grep -e 'Run /init' -e 'MDVM-MARK' | sed 's/^/MDVM-DMESG /'
	;;
esac
sync
poweroff -f
EOF
	chmod 755 "$1"
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
	write_init "$bi_root/init"
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

# tiny_make DIR KERNEL GZIP EXTRA: EXTRA is the shell-quoted --with/--add list.
tiny_make() {
	need cpio "tiny"
	[ -x /bin/busybox ] || md_die "tiny: /bin/busybox is not installed (sudo make deps: busybox-static)"
	make_tmp
	if [ -n "$2" ]; then
		[ -f "$2" ] || md_die "tiny: --kernel $2: no such file"
		tm_kdir=$vm_tmp/kernel
		mkdir -p "$tm_kdir"
		cp -- "$2" "$tm_kdir/vmlinuz"
		extract_vmlinux "$tm_kdir/vmlinuz" "$tm_kdir/vmlinux" || rm -f "$tm_kdir/vmlinux"
	else
		tm_kdir=$(ensure_kernel)
	fi
	md_root_safe_dir "tiny $1" "$1"
	mkdir -p "$1" || md_die "tiny: cannot create $1"
	md_root_safe_dir "tiny $1" "$1"
	say "building the initramfs"
	rm -rf -- "$vm_tmp/root"
	eval "build_initramfs \"\$vm_tmp/root\" $4"
	make_cpio "$vm_tmp/root" "$vm_tmp/initrd.cpio"
	if [ -n "$3" ]; then
		gzip -9n <"$vm_tmp/initrd.cpio" >"$1/initrd.cpio"
	else
		mv -f "$vm_tmp/initrd.cpio" "$1/initrd.cpio"
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
	make_tmp
	kp_kernel=$1
	timeout -s KILL "$KVM_PROBE_TIMEOUT" "$QEMU" -M pc -accel kvm -m 128 -display none \
		-no-user-config -nodefaults -no-reboot -serial "file:$vm_tmp/probe.log" \
		-kernel "$kp_kernel" -append "console=ttyS0 panic=-1 reboot=t" \
		</dev/null >/dev/null 2>&1 || true
	if grep -q 'Linux version' "$vm_tmp/probe.log" 2>/dev/null; then echo kvm; else echo broken; fi
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

# ---------------------------------------------------------------- run

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

# Is $1 a disk image made by build (its kernel and initrd beside it)?
is_built() {
	case $1 in *.qcow2) ;; *) return 1 ;; esac
	[ -f "$1" ] && [ -f "$(built_kernel "$1")" ] && [ -f "$(built_initrd "$1")" ]
}

# The tiny VM: the payload is one more cpio archive after its initramfs.
run_tiny_prepare() {
	make_cpio "$vm_tmp/payload" "$vm_tmp/payload.cpio"
	# Concatenated archives: the kernel unpacks one after the other.
	cat "$1/initrd.cpio" "$vm_tmp/payload.cpio" >"$vm_tmp/initrd"
}
run_tiny_boot() {
	rb_machine=${vm_machine:-microvm}
	tiny_qemu "$cr_accel" "$rb_machine" "$(tiny_kernel "$1" "$rb_machine" vmlinux)" "$vm_tmp/initrd" \
		"${vm_memory:-$TINY_MEMORY}" "$TINY_APPEND quiet mdvm=run" -serial stdio
}

# A built image: the guest writes to an overlay in the temporary directory
# (the image stays as built, and two runs may share it); the payload is a
# tar archive on a second disk that the guest's mdvm-init unpacks at /.
run_image_prepare() {
	need qemu-img run
	(cd "$vm_tmp/payload" && find . -mindepth 1 -maxdepth 1 -print0 |
		tar --null -T - --owner=0 --group=0 --numeric-owner -cf "$vm_tmp/payload.tar") ||
		md_die "run: packing the command for the guest failed"
	ri_base=$(cd -- "$(dirname -- "$1")" && pwd)/${1##*/}
	qemu-img create -q -f qcow2 -F "$(image_format "$1")" -b "$ri_base" "$vm_tmp/overlay.qcow2" ||
		md_die "run: qemu-img create of the overlay on $1 failed"
}
run_image_boot() {
	tiny_qemu "$cr_accel" "${vm_machine:-q35}" "$(image_kernel "$1")" "$(built_initrd "$1")" \
		"${vm_memory:-1536}" "root=/dev/vda rw quiet init=/usr/local/sbin/mdvm-init" \
		-drive "file=$vm_tmp/overlay.qcow2,format=qcow2,if=virtio,cache=$2" \
		-drive "file=$vm_tmp/payload.tar,format=raw,if=virtio,readonly=on" -serial stdio
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
	need "$QEMU" "run"
	make_tmp
	if is_tiny "$cr_target"; then
		cr_accel=$(pick_accel "$vm_accel" "$cr_target/vmlinuz")
	else
		cr_accel=$(pick_accel "$vm_accel" "$(built_kernel "$cr_target")")
	fi
	mkdir -p "$vm_tmp/payload"
	write_payload "$vm_tmp/payload" "$cr_script" "$@"
	eval "set -- $cr_adds"
	while [ $# -gt 0 ]; do add_path "$vm_tmp/payload" "$2"; shift 2; done
	if is_tiny "$cr_target"; then run_tiny_prepare "$cr_target"; else run_image_prepare "$cr_target"; fi
	# QEMU runs in the background (so the trap can stop it) into a FIFO that
	# frame_reader reads; its status is the guest command's. vm_exec: the
	# background job becomes QEMU (or timeout), so killing it stops QEMU.
	mkfifo "$vm_tmp/console"
	: >"$vm_tmp/console.log"
	(
		vm_exec=1
		if is_tiny "$cr_target"; then run_tiny_boot "$cr_target"; else run_image_boot "$cr_target" "${cr_cache:-writeback}"; fi
	) </dev/null >"$vm_tmp/console" 2>"$vm_tmp/qemu.err" &
	vm_pids=$!
	cr_rc=0
	frame_reader "$vm_tmp/console.log" <"$vm_tmp/console" || cr_rc=$?
	cr_qrc=0
	wait "$vm_pids" || cr_qrc=$?
	vm_pids=
	if [ "$cr_rc" -eq 255 ] && ! grep -q '^MDVM-EXIT 255$' "$vm_tmp/console.log"; then
		if [ "$cr_qrc" = 137 ] && [ -n "$vm_timeout" ]; then
			md_warn "run: the guest did not finish within ${vm_timeout}s"
		else
			md_warn "run: the guest stopped before the command finished; last console lines:"
		fi
		tail -n 15 "$vm_tmp/console.log" "$vm_tmp/qemu.err" >&2 2>/dev/null || true
		exit 125
	fi
	exit "$cr_rc"
}

# ---------------------------------------------------------------- boottime

# The timestamper: starts QEMU itself (so time 0 is the moment QEMU is
# started), stamps each console line with the time its first byte arrived
# (ms, monotonic clock), kills QEMU at the timeout. Python, not a sh `read`
# loop: one `date +%s%N` per line costs ~10 ms here (300 lines: 3.1 s in sh,
# 0.39 s in python3), which is coarser than the phases it measures.
write_timestamper() {
	cat >"$1" <<'EOF'
import os, select, signal, subprocess, sys, time
timeout, marker, out = float(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
t0 = time.monotonic_ns()
p = subprocess.Popen(sys.argv[4:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def stop(signum, frame):
    p.kill()
    sys.exit(128 + signum)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
fd, deadline = p.stdout.fileno(), t0 + int(timeout * 1e9)
ms = lambda t: (t - t0) / 1e6
status, line, line_t, seen, first = "timeout", b"", None, False, True
with open(out, "w") as f:
    def emit(t, raw):
        text = raw.replace(b"\r", b"").decode("ascii", "replace")
        text = "".join(c for c in text if c.isprintable())
        f.write("%.3f\t%s\n" % (ms(t), text))
        return raw.rstrip(b"\r").startswith(marker)
    while True:
        left = (deadline - time.monotonic_ns()) / 1e9
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        data, now = os.read(fd, 65536), time.monotonic_ns()
        if not data:
            status = "ok" if seen else "died"
            break
        if first:
            f.write("%.3f\t#first-byte\n" % ms(now))
            first = False
        parts = data.split(b"\n")
        for i, part in enumerate(parts):
            if line_t is None and part:
                line_t = now
            line += part
            if i < len(parts) - 1:
                seen = emit(line_t or now, line) or seen
                line, line_t = b"", None
    if line:
        emit(line_t or time.monotonic_ns(), line)
    if p.poll() is None:
        p.kill()
    p.wait()
    f.write("%.3f\t#end %s\n" % (ms(time.monotonic_ns()), status))
EOF
}

# Phases of one boot from its stamped console log ($1), as a CSV tail:
# status,firmware,decompress,kernel,userspace,total (ms). The guest boots
# quiet (a verbose console backs up behind the slow emulated serial port and
# delays everything after it: measured 1.4 s of backlog at the marker) and,
# after the marker, prints the kernel log times of "Run /init" and of the
# MDVM-MARK it wrote just before the marker. The kernel log's clock
# (local_clock) stands still while the early kernel runs without a timer
# tick (until the local APIC timer is set up, it is held at the last tick
# + 4 ms): under TCG it falls 0.4-0.6 s behind the time since its zero,
# which is the raw TSC clock (sched_clock, zero at tsc_early_init). The
# guest prints both at one moment (MDVM-CLOCK sched_clk, cpu_clk, from
# debugfs sched/debug); their difference is what the log's clock lost,
# and it is added back: the kernel's zero is at host time (marker arrival
# - MDVM-MARK log time - lost), "Run /init" at (its log time + lost).
# Without those lines (an image built by an older mdvm.sh) nothing is
# added: the lost time then counts as firmware. Firmware: QEMU start to
# the last console line before the kernel's zero (SeaBIOS's "Booting from
# ROM"); decompress: from there to the zero (option ROM loading the
# kernel, the decompressor, early setup_arch before the TSC clock starts).
phases() {
	awk -F '\t' -v marker="$MARKER" '
		function kts(s) { match(s, /\[ *[0-9]+\.[0-9]+\]/); return substr(s, RSTART + 1, RLENGTH - 2) * 1000 }
		$2 == "#first-byte" { fb = $1 + 0; next }
		$2 ~ /^#end / { st = substr($2, 6); next }
		m == "" && index($2, marker) == 1 { m = $1 + 0; next }
		$2 ~ /^MDVM-CLOCK sched_clk / { split($2, w, " "); sc = w[3]; next }
		$2 ~ /^MDVM-CLOCK cpu_clk / { split($2, w, " "); cc = w[3]; next }
		$2 ~ /MDVM-DMESG .*MDVM-MARK/ { mk = kts(substr($2, index($2, "MDVM-DMESG"))); next }
		$2 ~ /MDVM-DMESG .*Run \/init as init process/ { ri = kts(substr($2, index($2, "MDVM-DMESG"))); next }
		m == "" && $2 != "" { pre[++np] = $1 + 0 }
		END {
			if (st != "ok" || m == "" || mk == "" || ri == "") {
				printf "%s,,,,,\n", (st == "ok" ? "incomplete" : st); exit
			}
			lost = (sc != "" && cc != "" && sc - cc > 0) ? sc - cc : 0
			k = m - mk - lost
			# The firmware ends with its last line before the kernel starts
			# (SeaBIOS: "Booting from ROM"); a PVH boot prints nothing, and
			# QEMU start up to the kernel counts as firmware.
			fw = k
			for (i = 1; i <= np; i++) if (pre[i] < k) lastfw = pre[i]
			if (lastfw != "") fw = lastfw
			if (fw < 0) fw = 0
			printf "ok,%.1f,%.1f,%.1f,%.1f,%.1f\n", fw, k - fw, ri + lost, mk - ri, m
		}' "$1"
}

# One configuration: boot_config NAME MACHINE KERNELFILE ACCEL INITRD N OUTDIR
# [IMAGE] appends NAME,RUN,phases to OUTDIR/runs.csv. IMAGE: a built disk
# image, the root filesystem of the guest.
boot_config() {
	if [ -n "${8:-}" ]; then
		set -- "$@" "root=/dev/vda rw quiet mdvm=times$vm_append" \
			-drive "file=$8,format=$(image_format "$8"),if=virtio,snapshot=on"
	else
		set -- "$@" "" "$TINY_APPEND quiet mdvm=times$vm_append"
	fi
	bc_i=1
	while [ "$bc_i" -le "$6" ]; do
		say "boottime: $1 boot $bc_i/$6"
		bc_log=$7/logs/$1-$bc_i.log
		# In the background, so that the trap can stop it (it stops QEMU).
		python3 "$vm_tmp/ts.py" "${vm_timeout:-60}" "$MARKER" "$bc_log" \
			sh "$0" __qemu "$4" "$2" "$3" "$5" "${vm_memory:-$TINY_MEMORY}" "$9" -serial stdio ${10:+"${10}"} ${11:+"${11}"} &
		vm_pids=$!
		wait "$vm_pids" || md_die "boottime: the timestamper failed on $1"
		vm_pids=
		echo "$1,$bc_i,$(phases "$bc_log")" >>"$7/runs.csv"
		bc_i=$((bc_i + 1))
	done
}

# Median, min, max per configuration and phase; hung/failed boots counted.
summarize() {
	awk -F, '
		function med(c, j,   i, a, b, t, m) {
			m = ok[c]
			for (i = 1; i <= m; i++) a[i] = v[c, j, i]
			for (i = 2; i <= m; i++) { t = a[i]; for (b = i - 1; b >= 1 && a[b] > t; b--) a[b + 1] = a[b]; a[b + 1] = t }
			lo = a[1]; hi = a[m]
			return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		BEGIN { print "config,ok,hung,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms,total_min_ms,total_max_ms" }
		NR == 1 { next }
		!($1 in seen) { seen[$1] = 1; order[++nc] = $1 }
		$3 != "ok" { bad[$1]++; next }
		{ ok[$1]++; for (j = 4; j <= 8; j++) v[$1, j, ok[$1]] = $j }
		END {
			for (i = 1; i <= nc; i++) {
				c = order[i]
				if (!ok[c]) { printf "%s,0,%d,,,,,,,\n", c, bad[c] + 0; continue }
				printf "%s,%d,%d", c, ok[c], bad[c] + 0
				for (j = 4; j <= 8; j++) printf ",%.1f", med(c, j)
				printf ",%.1f,%.1f\n", lo, hi
			}
		}' "$1"
}

# The terminal table from the summary CSV.
print_table() {
	awk -F, '{ printf "%-22s %3s %4s %9s %10s %8s %9s %8s %8s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$1" |
		sed '1s/_min_ms/_min/; 1s/_max_ms/_max/'
	echo "(ms, medians over the boots that reached $MARKER; hung: boots that did not, left out)"
}

# gnuplot: one stacked bar per configuration, PNG and SVG.
plot_summary() {
	awk -F, 'NR > 1 && $2 > 0 { print $1, $4, $5, $6, $7 }' "$1/summary.csv" >"$vm_tmp/plot.dat"
	[ -s "$vm_tmp/plot.dat" ] || return 0
	for pl_t in png svg; do
		case $pl_t in
		png) pl_term="pngcairo size 1000,560" ;;
		svg) pl_term="svg size 1000,560" ;;
		esac
		gnuplot <<EOF || md_die "boottime: gnuplot failed on $1/boottime.$pl_t"
set terminal $pl_term
set output '$1/boottime.$pl_t'
set title 'Boot to $MARKER by phase (median ms)'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set ylabel 'ms'
set yrange [0:*]
set xtics rotate by -25 noenhanced
set key outside right top
set bmargin 6
plot '$vm_tmp/plot.dat' using 2:xtic(1) title 'firmware', '' using 3 title 'decompress', '' using 4 title 'kernel init', '' using 5 title 'userspace'
EOF
	done
}

# Host decompression of the same kernel payload: "MS TOOL", the yardstick
# for the guest's decompression phase.
host_decompress_ms() {
	cut_payload "$1" "$vm_tmp/payload" || return 1
	hd_codec=$(payload_codec "$vm_tmp/payload") || return 1
	hd_s=$(date +%s%N)
	# shellcheck disable=SC2086 # the codec is a command and its flags
	$hd_codec <"$vm_tmp/payload" >/dev/null 2>&1 || true
	hd_e=$(date +%s%N)
	echo "$(((hd_e - hd_s) / 1000000)) ${hd_codec%% *}"
}

# The Markdown report, every number from this run's files.
write_report() {
	wr_out=$1 wr_dir=$2 wr_accel=$3
	wr_host=$(host_decompress_ms "$wr_dir/vmlinuz" || echo "")
	{
		echo "# Boot time under QEMU ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		echo "Each boot was timed from the moment QEMU was started to the line"
		echo "\`$MARKER\` that the guest prints on its serial console."
		echo "Host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; accelerator: $wr_accel."
		echo
		echo "| config | ok | hung | firmware | decompress | kernel init | userspace | total (median) | min | max |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$wr_out/summary.csv"
		echo
		echo "Milliseconds; medians over the boots that reached the marker. A boot"
		echo "that did not within the timeout is counted as hung and left out of"
		echo "every median. The guest boots with \`quiet\` (a verbose console backs"
		echo "up behind the emulated serial port and delays the boot it is reporting)"
		echo "and prints, after the marker, the kernel-log times of \"Run /init\" and"
		echo "of a line it logged just before the marker; the host time of the"
		echo "kernel clock's zero is the marker's arrival minus that time, less the"
		echo "time the log's clock stood still while the early kernel had no timer"
		echo "tick (the guest prints the raw sched_clock and the log's clock at one"
		echo "moment from debugfs; 0.4-0.6 s under TCG). Phases:"
		echo "*firmware* = QEMU start to the firmware's last console line (SeaBIOS"
		echo "\"Booting from ROM\"), or to the kernel clock's zero when the firmware"
		echo "prints nothing (PVH on microvm, qboot): there it also holds QEMU's"
		echo "start-up and the kernel load; *decompress* = from there to the kernel"
		echo "clock's zero (option ROM loading the kernel, the decompressor, early"
		echo "setup); *kernel init* = to \"Run /init\"; *userspace* = to the marker."
		echo "The four add up to the total."
		echo
		awk -F, -v host="$wr_host" '
			NR == 1 { next }
			$2 > 0 && $1 ~ /bzImage/ && (dz == "" || $5 + 0 > dz + 0) { dz = $5; dc = $1 }
			$2 > 0 && (best == "" || $8 + 0 < best + 0) { best = $8; bc = $1 }
			$2 > 0 && (worst == "" || $8 + 0 > worst + 0) { worst = $8; wc = $1 }
			$2 > 0 && $1 ~ /^microvm-vmlinux-tcg/ { toinit = $4 + $5 + $6 }
			$2 > 0 { nok++ }
			END {
				split(host, h, " ")
				printf "**Why so slow.** "
				if (dz != "" && h[1] > 0)
					printf "In %s the guest spent %.0f ms loading and decompressing its own kernel up to its clock start; `%s -d` of the same payload took %d ms on the host, %.1fx less. ", dc, dz, h[2], h[1], dz / h[1]
				print "Under TCG every guest code block is translated to host code the first time it runs, and a booting kernel runs mostly new code, so translation dominates; every guest memory access goes through a software MMU/TLB; every device access (serial port, timers, interrupt controllers) leaves the translated code for an emulated device in QEMU."
				print ""
				if (nok > 1 && best > 0)
					printf "**What helps.** Fastest: %s, %.0f ms; slowest: %s, %.0f ms (%.1fx). An uncompressed vmlinux booted through PVH skips the firmware (SeaBIOS) and the guest-side decompression; microvm has fewer devices for the kernel to probe.\n", bc, best, wc, worst, worst / best
				if (toinit != "")
					printf "\n**To init.** The tiny VM reached its init (Run /init) under TCG on microvm with the vmlinux in %.0f ms (median here; the load average above says how idle this host was).\n", toinit
			}' "$wr_out/summary.csv"
		echo
		echo "Files: runs.csv (every boot), summary.csv, boottime.png and .svg, logs/ (the stamped consoles)."
	} >"$wr_out/boottime.md"
}

# The configurations: "NAME MACHINE KERNELFORMAT ACCEL" lines.
boot_configs() {
	if [ -n "$4" ]; then
		for bf_a in $3; do
			echo "pc-bzImage-$bf_a pc vmlinuz $bf_a"
			echo "q35-bzImage-$bf_a q35 vmlinuz $bf_a"
			echo "microvm-bzImage-$bf_a microvm vmlinuz $bf_a"
			if [ -f "$1/vmlinux" ]; then
				echo "pc-vmlinux-$bf_a pc vmlinux $bf_a"
				echo "microvm-vmlinux-$bf_a microvm vmlinux $bf_a"
			fi
		done
	else
		bf_m=${2:-microvm} bf_f=vmlinuz bf_n=bzImage
		if [ -f "$1/vmlinux" ]; then bf_f=vmlinux bf_n=vmlinux; fi
		echo "$bf_m-$bf_n-$3 $bf_m $bf_f $3"
	fi
}

cmd_boottime() {
	bt_target='' bt_n=5 bt_out='' bt_matrix=''
	while [ $# -gt 0 ]; do
		parse_vm_opt "$@"
		if [ "$vm_n" -gt 0 ]; then shift "$vm_n"; continue; fi
		case $1 in
		-n)
			[ $# -ge 2 ] || md_usage_error "-n needs a number"
			case $2 in '' | *[!0-9]* | 0) md_usage_error "-n: a number of boots, not '$2'" ;; esac
			bt_n=$2
			shift
			;;
		--out)
			[ $# -ge 2 ] || md_usage_error "--out needs a directory"
			bt_out=$2
			shift
			;;
		--matrix) bt_matrix=1 ;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "boottime: unknown option: $1" ;;
		*)
			[ -z "$bt_target" ] || md_usage_error "boottime: one IMAGE, DIR or tiny"
			bt_target=$1
			;;
		esac
		shift
	done
	need "$QEMU" boottime
	need python3 "boottime (the console timestamper)"
	make_tmp
	bt_image=''
	case ${bt_target:-tiny} in
	tiny) bt_dir=$(default_tiny) ;;
	*)
		if [ -f "$bt_target" ] && [ -f "$(built_kernel "$bt_target")" ]; then
			bt_image=$bt_target
			bt_dir=$(default_tiny)
		else
			is_tiny "$bt_target" || md_die "boottime: $bt_target is neither a tiny VM directory (mdvm.sh tiny DIR) nor an image made by build"
			bt_dir=$bt_target
		fi
		;;
	esac
	bt_accel=$(pick_accel "$vm_accel" "$bt_dir/vmlinuz")
	bt_accels=$bt_accel
	if [ -n "$bt_matrix" ] && [ "$bt_accel" = kvm ]; then bt_accels="kvm tcg"; fi
	bt_res=${bt_out:-$vm_tmp/out}
	md_root_safe_dir "boottime: --out $bt_res" "$bt_res"
	mkdir -p "$bt_res/logs" || md_die "boottime: cannot create $bt_res"
	md_root_safe_dir "boottime: --out $bt_res" "$bt_res/logs"
	rm -f "$bt_res/logs/"*.log
	echo "config,run,status,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms" >"$bt_res/runs.csv"
	write_timestamper "$vm_tmp/ts.py"
	if [ -n "$bt_image" ]; then
		[ -n "${vm_memory:-}" ] || vm_memory=1536
		for bt_a in $bt_accels; do
			for bt_m in ${vm_machine:-q35} ${bt_matrix:+pc}; do
				boot_config "debian-$bt_m-$bt_a" "$bt_m" "$(image_kernel "$bt_image")" "$bt_a" \
					"$(built_initrd "$bt_image")" "$bt_n" "$bt_res" "$bt_image" </dev/null
			done
		done
	else
		boot_configs "$bt_dir" "$vm_machine" "$bt_accels" "$bt_matrix" >"$vm_tmp/configs"
	fi
	touch "$vm_tmp/configs"
	while read -r bt_name bt_m bt_f bt_a; do
		boot_config "$bt_name" "$bt_m" "$(tiny_kernel "$bt_dir" "$bt_m" "$bt_f")" "$bt_a" \
			"$bt_dir/initrd.cpio" "$bt_n" "$bt_res" </dev/null
	done <"$vm_tmp/configs"
	summarize "$bt_res/runs.csv" >"$bt_res/summary.csv"
	print_table "$bt_res/summary.csv"
	[ -n "$bt_out" ] || return 0
	need gnuplot "boottime --out (the plot)"
	plot_summary "$bt_res"
	write_report "$bt_res" "$bt_dir" "$bt_accel"
	say "boottime: wrote $bt_res/boottime.md, summary.csv, runs.csv, boottime.png, boottime.svg"
}

# Internal: the timestamper runs QEMU through this, so the QEMU arguments
# live in one place (tiny_qemu).
cmd_qemu() {
	vm_exec=1
	tiny_qemu "$@" </dev/null
}

# ---------------------------------------------------------------- images

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
	make_tmp
	ci_accel=$(pick_accel "$vm_accel" "$(default_tiny)/vmlinuz")
	say "install: booting $ci_iso with $ci_img as disk ($ci_accel)"
	# shellcheck disable=SC2046 # display_args prints separate QEMU options
	"$QEMU" -M "${vm_machine:-q35}" -accel "$ci_accel" -m "${vm_memory:-1536}" -smp "$vm_cpus" \
		-drive "file=$ci_img,format=$(image_format "$ci_img"),if=virtio" \
		-cdrom "$ci_iso" -boot d -nic user,model=virtio-net-pci $(display_args) ||
		md_die "install: QEMU failed"
}

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
	make_tmp
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

# ---------------------------------------------------------------- build

# The guest's setup, run in its root by mmdebstrap (chroot, as root of the
# build namespace): the marker unit, with the same contract as the tiny
# /init (MDVM-MARK in the kernel log, MDVM-READY on the console, and with
# mdvm=times on the command line the kernel log times, then power off),
# the minimal init `run` boots, fstab, hostname, and root without a
# password (a lab guest on a serial console, reachable from this host only).
write_setup_hook() {
	cat >"$1" <<'HOOK'
#!/bin/sh
set -eu
cat >/usr/local/sbin/mdvm-ready <<'EOF'
#!/bin/sh
# mdvm: say on the serial console that the system is up.
echo "mdvm: MDVM-MARK" >/dev/kmsg
printf '\nMDVM-READY\n' >/dev/ttyS0
case " $(cat /proc/cmdline) " in
*" mdvm=times "*)
	# agetty (Type=idle: started up to 5 s late) resets the port when it
	# starts, and the lines boottime reads were lost (1 boot in 3 here).
	# Not Before=serial-getty: multi-user.target is After= getty.target.
	systemctl stop serial-getty@ttyS0.service 2>/dev/null
	# Both kernel clocks at one moment (see the tiny VM's /init).
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	awk '$1 == "sched_clk" || $1 == "cpu_clk" { print "MDVM-CLOCK", $1, $3 }' /sys/kernel/debug/sched/debug >/dev/ttyS0 2>/dev/null
	dmesg | grep -e 'Run /init' -e 'MDVM-MARK' | sed 's/^/MDVM-DMESG /' >/dev/ttyS0
	# Where the userspace time went (mdvm.sh boottime --blame).
	case " $(cat /proc/cmdline) " in *" mdvm.blame "*)
		systemd-analyze blame --no-pager 2>&1 | head -n 25 | sed 's/^/MDVM-BLAME /' >/dev/ttyS0
		systemd-analyze critical-chain --no-pager 2>&1 | sed 's/^/MDVM-BLAME /' >/dev/ttyS0 ;;
	esac
	systemctl --no-block poweroff
	;;
esac
EOF
chmod 755 /usr/local/sbin/mdvm-ready
# `mdvm.sh run IMAGE` boots with init=/usr/local/sbin/mdvm-init: no
# systemd, PID 1 is this script. The command comes on a second disk
# (/dev/vdb) that holds a tar archive (mdvm/payload and what --add put
# in), since nothing else reaches a guest without a network. The
# console protocol is the tiny VM's.
cat >/usr/local/sbin/mdvm-init <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
# The initramfs moved /proc, /sys, /dev and /run here; mount what is not.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs tmpfs /dev/shm
mount -o remount,rw / || echo "mdvm: cannot remount / read-write"
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname mdvm
echo "mdvm: MDVM-MARK" >/dev/kmsg
printf '\nMDVM-READY\n'
echo MDVM-BEGIN
# At / as in the tiny VM (--add SRC:DEST); run boots the image with
# snapshot=on, so nothing of it stays in the image.
# Existing directories keep their owner and mode, and /bin stays a link.
if tar -xf /dev/vdb -C / --no-overwrite-dir --keep-directory-symlink && [ -x /mdvm/payload ]; then
	(cd /root && exec /mdvm/payload) </dev/null 2>&1
	rc=$?
else
	echo "mdvm: no payload on /dev/vdb"
	rc=127
fi
echo "MDVM-EXIT $rc"
sync
mount -o remount,ro / 2>/dev/null
# PID 1 must not exit (a panic); sysrq o powers off at once, and there is
# no systemd to ask.
echo o >/proc/sysrq-trigger
sleep 60
EOF
chmod 755 /usr/local/sbin/mdvm-init
cat >/etc/systemd/system/mdvm-ready.service <<'EOF'
[Unit]
Description=mdvm: print MDVM-READY on the serial console
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/mdvm-ready
[Install]
WantedBy=multi-user.target
EOF
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf ../mdvm-ready.service /etc/systemd/system/multi-user.target.wants/mdvm-ready.service
echo mdvm >/etc/hostname
# Pass 0: no fsck unit at every boot (the image is made fresh by mke2fs).
echo '/dev/vda / ext4 defaults 0 0' >/etc/fstab
# A machine id of its own (without one every boot is a first boot),
# multi-user.target (there is no display), and no e2scrub_reap (LVM
# snapshots) or getty-static (gettys on virtual consoles no one sees).
od -An -tx1 -N 16 /dev/urandom | tr -d ' \n' >/etc/machine-id
echo >>/etc/machine-id
ln -sf /lib/systemd/system/multi-user.target /etc/systemd/system/default.target
ln -sf /dev/null /etc/systemd/system/e2scrub_reap.service
ln -sf /dev/null /etc/systemd/system/getty-static.service
passwd -d root >/dev/null
rm -f /tmp/mdvm-setup
HOOK
}

# mmdebstrap's mode: root as root, unshare for a user with a subordinate id
# range (the files get their real owners), else fakechroot.
debstrap_mode() {
	if [ "$(id -u)" = 0 ]; then echo root; return 0; fi
	if grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then echo unshare; return 0; fi
	echo fakechroot
}

# The modules (paths from modules.dep, $1) that a virtio disk with ext4
# needs, each after the modules it needs. crc32c_generic: ext4's checksums
# ask the crypto API for crc32c, and the guest's CPU under TCG lacks the
# SSE4.2 that crc32c-intel wants.
guest_modules() {
	awk -v want="virtio_pci virtio_blk crc32c_generic ext4" '
		function base(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); return p }
		function visit(m,   i, n, d) {
			if ((m in seen) || !(m in path)) return
			seen[m] = 1
			n = split(deps[m], d, " ")
			for (i = 1; i <= n; i++) visit(base(d[i]))
			print path[m]
		}
		{ k = $1; sub(/:$/, "", k); b = base(k); path[b] = k; $1 = ""; deps[b] = $0 }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }' "$1"
}

# The guest's /init in the initramfs guest_initrd makes.
write_guest_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
# mdvm initramfs: load the few modules a virtio disk with ext4 needs, mount
# root= and hand over to init= (default /sbin/init). In place of
# initramfs-tools, whose udev alone takes seconds under TCG.
B=/bin/busybox
$B mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
root=/dev/vda init=/sbin/init mode=ro
for w in $($B cat /proc/cmdline); do
	case $w in
	root=*) root=${w#root=} ;;
	init=*) init=${w#init=} ;;
	rw | ro) mode=$w ;;
	esac
done
for m in /modules/*.ko; do
	$B insmod "$m" || echo "mdvm initramfs: insmod $m failed"
done
i=0
while [ ! -b "$root" ] && [ "$i" -lt 200 ]; do
	$B sleep 0.05
	i=$((i + 1))
done
$B mount -t ext4 -o "$mode" "$root" /newroot || {
	echo "mdvm initramfs: cannot mount $root"
	exit 1
}
$B umount /proc /sys
$B mount --move /dev /newroot/dev
exec $B switch_root /newroot "$init"
EOF
	chmod 755 "$1"
}

# guest_initrd ROOT.TAR OUT: a busybox initramfs with the guest kernel's
# modules for its disk, numbered in load order.
guest_initrd() {
	gi_dep=$(tar -tf "$1" | grep -m 1 '/lib/modules/[^/]*/modules\.dep$') ||
		md_die "build: no modules.dep in the root tree"
	gi_dir=${gi_dep%/modules.dep}
	gi_x=$vm_tmp/gi
	mkdir -p "$gi_x" "$vm_tmp/giroot/bin" "$vm_tmp/giroot/dev" "$vm_tmp/giroot/proc" \
		"$vm_tmp/giroot/sys" "$vm_tmp/giroot/newroot" "$vm_tmp/giroot/modules"
	tar -xf "$1" -C "$gi_x" "$gi_dep" || md_die "build: cannot read $gi_dep"
	guest_modules "$gi_x/$gi_dep" >"$vm_tmp/gi.list"
	[ -s "$vm_tmp/gi.list" ] || md_die "build: the guest kernel has no virtio_blk or ext4 module"
	# shellcheck disable=SC2046 # one member name per line, none with spaces
	tar -xf "$1" -C "$gi_x" $(sed "s|^|$gi_dir/|" "$vm_tmp/gi.list") ||
		md_die "build: cannot read the guest kernel's modules"
	gi_n=10
	while read -r gi_m; do
		cp "$gi_x/$gi_dir/$gi_m" "$vm_tmp/giroot/modules/$gi_n-${gi_m##*/}"
		gi_n=$((gi_n + 1))
	done <"$vm_tmp/gi.list"
	cp /bin/busybox "$vm_tmp/giroot/bin/busybox"
	write_guest_init "$vm_tmp/giroot/init"
	make_cpio "$vm_tmp/giroot" "$2"
	rm -rf "$gi_x" "$vm_tmp/giroot"
}

cmd_build() {
	cu_img='' cu_suite=bookworm cu_inc='' cu_size=4G
	while [ $# -gt 0 ]; do
		case $1 in
		--suite | --include | --size) [ $# -ge 2 ] || md_usage_error "$1 needs a value" ;;
		esac
		case $1 in
		--suite) cu_suite=$2; shift ;;
		--include) cu_inc=$2; shift ;;
		--size) cu_size=$2; shift ;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "build: unknown option: $1" ;;
		*)
			[ -z "$cu_img" ] || md_usage_error "build: one IMG only"
			cu_img=$1
			;;
		esac
		shift
	done
	[ -n "$cu_img" ] || md_usage_error "build: which IMG.qcow2?"
	case $cu_suite in '' | *[!a-z0-9-]*) md_usage_error "build: bad suite '$cu_suite'" ;; esac
	case $cu_inc in *[!a-z0-9.+,-]*) md_usage_error "build: --include wants package names separated by commas" ;; esac
	cu_bytes=$(md_parse_size "$cu_size") || md_usage_error "build: bad size '$cu_size' (e.g. 4G)"
	[ "$cu_bytes" -ge 536870912 ] || md_usage_error "build: size '$cu_size' is below 512M"
	[ ! -e "$cu_img" ] || md_die "build: $cu_img exists; remove it first"
	md_root_safe_dir "build: $cu_img" "$(dirname -- "$cu_img")"
	need mmdebstrap build
	# Debian keeps mke2fs in /sbin, off a student's PATH.
	cu_mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
	[ -x "$cu_mke2fs" ] || md_die "build: mke2fs is not installed (sudo make deps)"
	need fakeroot build
	need qemu-img build
	[ -x /bin/busybox ] || md_die "build: /bin/busybox is not installed (sudo make deps: busybox-static)"
	make_tmp
	cu_mode=$(debstrap_mode)
	cu_pkgs=linux-image-amd64,systemd-sysv,udev,kmod,initramfs-tools,procps,iproute2
	if [ -n "$cu_inc" ]; then cu_pkgs=$cu_pkgs,$cu_inc; fi
	write_setup_hook "$vm_tmp/setup.sh"
	cat >"$vm_tmp/initrd.sh" <<'EOF'
mkdir -p /etc/initramfs-tools/conf.d /usr/share/initramfs-tools/modules.d
echo MODULES=list >/etc/initramfs-tools/conf.d/mdvm
printf 'virtio_pci\nvirtio_blk\next4\n' >/usr/share/initramfs-tools/modules.d/mdvm
rm -f /tmp/mdvm-initrd
EOF
	say "build: debian $cu_suite root tree ($cu_mode mode; minutes)"
	# The apt sources are the host's; the root tree goes straight into a tar
	# (owners kept without root).
	# A small initrd, made once at the kernel's install: only the modules a
	# virtio disk with ext4 needs (the default, MODULES=most, is ~10x bigger
	# and slower to build and to boot).
	mmdebstrap --mode="$cu_mode" --variant=minbase --include="$cu_pkgs" \
		--essential-hook="upload $vm_tmp/initrd.sh /tmp/mdvm-initrd" \
		--essential-hook="chroot \"\$1\" sh /tmp/mdvm-initrd" \
		--customize-hook="upload $vm_tmp/setup.sh /tmp/mdvm-setup" \
		--customize-hook="chroot \"\$1\" sh /tmp/mdvm-setup" \
		"$cu_suite" "$vm_tmp/root.tar" >"$vm_tmp/mmdebstrap.log" 2>&1 || {
		tail -n 20 "$vm_tmp/mmdebstrap.log" >&2
		md_die "build: mmdebstrap failed (log above)"
	}
	say "build: ext4 image"
	# mke2fs -d reads a directory (a tar only from e2fsprogs 1.47.1); under
	# one fakeroot session the unpacked files keep the tar's owners and
	# device nodes, and mke2fs -d copies what fakeroot says.
	: >"$vm_tmp/root.raw"
	# shellcheck disable=SC2016 # the inner sh expands its own "$1".."$5"
	fakeroot sh -c 'mkdir "$1" && tar -C "$1" -xpf "$2" && "$5" -q -t ext4 -L mdvm -d "$1" "$3" "$4"' \
		sh "$vm_tmp/rootdir" "$vm_tmp/root.tar" "$vm_tmp/root.raw" "$((cu_bytes / 1024))k" "$cu_mke2fs" ||
		md_die "build: unpacking the root tree or mke2fs -d failed"
	rm -rf "$vm_tmp/rootdir"
	say "build: qcow2"
	qemu-img convert -O qcow2 "$vm_tmp/root.raw" "$cu_img" || md_die "build: qemu-img convert failed"
	rm -f "$vm_tmp/root.raw"
	# The guest's own kernel beside the image, for a direct boot, and its
	# uncompressed vmlinux for a PVH boot.
	(cd "$vm_tmp" && tar -xf root.tar --wildcards './boot/vmlinuz-*') ||
		md_die "build: no kernel in the root tree"
	cp "$vm_tmp"/boot/vmlinuz-* "${cu_img%.qcow2}.vmlinuz"
	rm -f "${cu_img%.qcow2}.vmlinux"
	extract_vmlinux "${cu_img%.qcow2}.vmlinuz" "${cu_img%.qcow2}.vmlinux" || rm -f "${cu_img%.qcow2}.vmlinux"
	say "build: initramfs"
	guest_initrd "$vm_tmp/root.tar" "${cu_img%.qcow2}.initrd"
	say "build: $cu_img ready (mdvm.sh boot $cu_img)"
}

# ---------------------------------------------------------------- main

main() {
	[ $# -gt 0 ] || md_usage_error "which command? (tiny, run, boot, boottime, create, install, build)"
	m_cmd=$1
	shift
	case $m_cmd in
	-h | --help) md_help "$0" ;;
	tiny) cmd_tiny "$@" ;;
	run) cmd_run "$@" ;;
	boottime) cmd_boottime "$@" ;;
	boot) cmd_boot "$@" ;;
	create) cmd_create "$@" ;;
	install) cmd_install "$@" ;;
	build) cmd_build "$@" ;;
	__qemu) cmd_qemu "$@" ;;
	*) md_usage_error "unknown command: $m_cmd" ;;
	esac
}

main "$@"
