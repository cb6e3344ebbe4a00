#!/usr/bin/env bats
# mdvm.sh: disk images, the tiny VM (kernel + busybox initramfs), running a
# command in it, boot-time measurement and the KVM probe, as a student.
#
# One tiny VM is built once (setup_file) and shared; every boot is TCG.
# MDT_QUICK=1 skips the boottime test (the slowest: two timed boots + plots).

load helper

# MDT_VM_USER overrides the student (default mdtest1) so this file can run
# beside another suite whose teardown kills mdtest1's processes.
MDT_USER=${MDT_VM_USER:-$MDT_USER}
VM=mdvm.sh
UHOME=/home/$MDT_USER
# The student's own work area and kernel cache, removed in teardown_file.
WORK=$UHOME/mdvm-bats
CACHE=$WORK/cache

# TMPDIR under WORK: a run killed with SIGKILL (no trap) leaves nothing
# outside what teardown_file removes.
vm() {
	as_user env MDVM_CACHE="$CACHE" TMPDIR="$WORK/tmp" "$MDT_BIN/$VM" "$@"
}

setup_file() {
	[ -x "$MDT_BIN/$VM" ] || return 0
	command -v qemu-system-x86_64 >/dev/null || return 0
	rm -rf "$WORK"
	as_user mkdir -p "$WORK/files" "$WORK/tmp"
	as_user sh -c "echo guest-file-content > '$WORK/files/hello.txt'"
	# The kernel comes from the apt archive once, into the test cache.
	as_user env MDVM_CACHE="$CACHE" TMPDIR="$WORK/tmp" "$MDT_BIN/$VM" tiny "$WORK/tiny" \
		--add "$WORK/files:/data" >"$BATS_FILE_TMPDIR/tiny.out" 2>&1 || true
}

teardown_file() {
	pkill -KILL -u "$MDT_USER" -f 'qemu-system-x86_64' 2>/dev/null || true
	rm -rf "$WORK"
}

setup() {
	[ -x "$MDT_BIN/$VM" ] || skip "$MDT_BIN/$VM is not installed (sudo make test-install)"
	require qemu-system-x86_64 qemu-img
}

need_tiny() {
	[ -f "$WORK/tiny/mdvm-tiny" ] || {
		cat "$BATS_FILE_TMPDIR/tiny.out" 2>/dev/null
		skip "the tiny VM could not be built (no apt archive for the kernel?)"
	}
}

@test "--help prints the usage to stdout and exits 0" {
	run vm --help
	assert_status 0
	assert_output_contains "Usage: mdvm.sh COMMAND"
	assert_output_contains "boottime [IMAGE|DIR|tiny]"
}

@test "--help lists every command's usage and summary; COMMAND --help prints that command's own" {
	run vm --help
	assert_status 0
	assert_output_contains "  build IMG.qcow2 [--suite bookworm]"
	assert_output_contains "      a Debian guest image, without root and without an installer"
	run vm run --help
	assert_status 0
	[ "${lines[0]}" = "Usage: mdvm.sh run IMAGE|DIR [OPTIONS] [--add SRC:DEST]... [--script FILE] [-- COMMAND [ARG]...]" ]
	assert_output_contains "--disk-cache MODE"
	run vm build -h
	assert_status 0
	[ "${lines[0]}" = "Usage: mdvm.sh build IMG.qcow2 [--suite bookworm] [--include PKG,...] [--size 4G]" ]
}

@test "installed, mdvm.sh runs its commands from LIBEXECDIR, and a command file is not a command" {
	[ -f "$MDT_LIBEXEC/mdvm/common.sh" ]
	[ -f "$MDT_LIBEXEC/mdvm/tiny-init.sh" ]
	run vm common
	assert_status 2
	assert_output "mdvm.sh: unknown command: common
Try 'mdvm.sh --help' for more information."
}

@test "an unknown command is refused with status 2" {
	run vm frobnicate
	assert_status 2
	assert_output "mdvm.sh: unknown command: frobnicate
Try 'mdvm.sh --help' for more information."
}

@test "create makes a qcow2 image of 10G by default" {
	run vm create "$WORK/a.qcow2"
	assert_status 0
	run qemu-img info "$WORK/a.qcow2"
	assert_output_contains "file format: qcow2"
	assert_output_contains "(10737418240 bytes)"
	rm -f "$WORK/a.qcow2"
}

@test "create --format raw --size 512M makes a raw image of 512 MiB" {
	run vm create "$WORK/b.raw" --format raw --size 512M
	assert_status 0
	run qemu-img info "$WORK/b.raw"
	assert_output_contains "file format: raw"
	assert_output_contains "(536870912 bytes)"
	rm -f "$WORK/b.raw"
}

@test "create refuses bad sizes" {
	for s in 12abc -1 1e9 10T ''; do
		run vm create "$WORK/c.img" --size "$s"
		assert_status 2
		assert_output "mdvm.sh: create: bad size '$s' (e.g. 512M, 10G)
Try 'mdvm.sh --help' for more information."
	done
	run vm create "$WORK/c.img" --size 0
	assert_status 2
	assert_output "mdvm.sh: create: size '0' is below 1M
Try 'mdvm.sh --help' for more information."
	[ ! -e "$WORK/c.img" ]
}

@test "create refuses an unknown format and an existing image" {
	run vm create "$WORK/d.img" --format vdi
	assert_status 2
	assert_output "mdvm.sh: create: --format qcow2 or raw, not 'vdi'
Try 'mdvm.sh --help' for more information."
	as_user touch "$WORK/d.img"
	run vm create "$WORK/d.img"
	assert_status 125
	assert_output "mdvm.sh: create: $WORK/d.img exists; remove it first"
	rm -f "$WORK/d.img"
}

@test "install refuses a missing ISO and a missing image" {
	run vm install "$WORK/none.img"
	assert_status 2
	assert_output "mdvm.sh: install: --iso ISO is required: an x86-64 installer (e.g. Debian netinst, https://www.debian.org/distrib/netinst), or no installer at all: mdvm.sh build IMG.qcow2
Try 'mdvm.sh --help' for more information."
	run vm install "$WORK/none.img" --iso "$WORK/none.iso"
	assert_status 125
	assert_output "mdvm.sh: install: no such image: $WORK/none.img (mdvm.sh create $WORK/none.img)"
	as_user touch "$WORK/f.img"
	run vm install "$WORK/f.img" --iso "$WORK/none.iso"
	assert_status 125
	assert_output "mdvm.sh: install: no such ISO: $WORK/none.iso"
	rm -f "$WORK/f.img"
}

@test "install with an ISO that does not boot says why in one line and ends within seconds" {
	as_user sh -c "head -c 1048576 /dev/zero > '$WORK/zero.iso'"
	run vm create "$WORK/g.qcow2" --size 1G
	assert_status 0
	# --timeout: had the run not ended by itself, the test fails on its
	# message instead of hanging.
	run vm install "$WORK/g.qcow2" --iso "$WORK/zero.iso" --accel tcg --timeout 120
	assert_status 125
	assert_output "mdvm.sh: install: $WORK/zero.iso does not boot (firmware: Could not read from CDROM (code 0005)): give an x86-64 installer ISO (e.g. Debian netinst, https://www.debian.org/distrib/netinst)"
	run pgrep -u "$MDT_USER" -f qemu-system-x86_64
	assert_status 1
	rm -f "$WORK/zero.iso" "$WORK/g.qcow2"
}

@test "tiny makes a kernel, a PVH vmlinux and a busybox initramfs with the added files" {
	need_tiny
	[ -s "$WORK/tiny/vmlinuz" ]
	run od -An -c -N 4 "$WORK/tiny/vmlinux"
	assert_output_contains "177   E   L   F"
	run sh -c "cpio -it --quiet < '$WORK/tiny/initrd.cpio'"
	assert_output_contains "init"
	assert_output_contains "bin/busybox"
	assert_output_contains "data/hello.txt"
	# The cache keeps the kernel for the next tiny, offline.
	[ -s "$(ls -d "$CACHE"/kernel/*/)vmlinuz" ]
}

@test "tiny --with a program busybox also provides puts the program in place of the applet link and leaves the host's busybox alone" {
	need_tiny
	local before
	before=$(md5sum </bin/busybox)
	# Offline: the kernel is in the test cache since setup_file.
	run vm tiny "$WORK/t3" --with date --add /usr/bin/timeout:/usr/bin/timeout
	assert_status 0
	[ "$(md5sum </bin/busybox)" = "$before" ]
	run sh -c "cd '$WORK' && rm -rf x && mkdir x && cd x && cpio -id --quiet usr/bin/date usr/bin/timeout < ../t3/initrd.cpio && cmp usr/bin/date /usr/bin/date && cmp usr/bin/timeout /usr/bin/timeout && echo same"
	assert_output "same"
	rm -rf "$WORK/t3" "$WORK/x"
}

@test "tiny leaves /sbin/modprobe out of the initramfs and the trailing zeros out of the vmlinux's load" {
	need_tiny
	require python3
	run sh -c "cpio -it --quiet < '$WORK/tiny/initrd.cpio'"
	assert_output_contains "bin/busybox"
	if printf '%s\n' "$output" | grep -qx 'sbin/modprobe'; then
		echo "sbin/modprobe is in the initramfs"
		false
	fi
	# The last PT_LOAD segment: p_filesz below p_memsz (QEMU zero-fills).
	run python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", d, 32); phnum, = struct.unpack_from("<H", d, 56)
last = [struct.unpack_from("<IIQQQQQ", d, phoff + i * 56) for i in range(phnum)]
last = [h for h in last if h[0] == 1][-1]
print("trimmed" if last[5] < last[6] else "untrimmed %d %d" % (last[5], last[6]))' "$WORK/tiny/vmlinux"
	assert_output "trimmed"
}

@test "tiny --with refuses a program that is not on PATH" {
	run vm tiny "$WORK/t2" --with no-such-program-mdvm
	assert_status 125
	assert_output "mdvm.sh: tiny: --with no-such-program-mdvm: no such program on PATH"
	rm -rf "$WORK/t2"
}

@test "run tiny -- echo hi prints hi and exits 0" {
	need_tiny
	run vm run "$WORK/tiny" --accel tcg --timeout 120 -- echo hi
	assert_status 0
	assert_output "hi"
	# Nothing left behind: the temporary directory and QEMU are gone.
	[ -z "$(ls -A "$WORK/tmp")" ]
	run pgrep -u "$MDT_USER" -f qemu-system-x86_64
	assert_status 1
}

@test "a tiny VM has 128 MB unless --memory says otherwise, and boots without IPv6" {
	need_tiny
	meminfo='s/^MemTotal: *\([0-9]*\) kB$/\1/p'
	run vm run "$WORK/tiny" --accel tcg --timeout 120 -- sh -c "sed -n '$meminfo' /proc/meminfo; cat /proc/cmdline"
	assert_status 0
	[ "${lines[0]}" -gt 0 ]
	[ "${lines[0]}" -le $((128 * 1024)) ]
	[[ " ${lines[1]} " == *" ipv6.disable=1 "* ]]
	run vm run "$WORK/tiny" --accel tcg --timeout 120 --memory 256 -- sed -n "$meminfo" /proc/meminfo
	assert_status 0
	[ "$output" -gt $((128 * 1024)) ]
}

@test "run passes the command's non-zero status and its arguments through" {
	need_tiny
	run vm run "$WORK/tiny" --accel tcg --timeout 120 -- sh -c 'printf "[%s]\n" "$@"; cat /data/hello.txt; exit 7' x "two words" "it's"
	assert_status 7
	assert_output "[two words]
[it's]
guest-file-content"
}

@test "run --script runs a host script in the guest with --add files" {
	need_tiny
	as_user sh -c "printf '#!/bin/sh\necho \"script \$1\"; cat /extra/note; exit 3\n' > '$WORK/s.sh'; echo note-ok > '$WORK/note'"
	run vm run "$WORK/tiny" --accel tcg --timeout 120 --add "$WORK/note:/extra/note" --script "$WORK/s.sh" -- arg1
	assert_status 3
	assert_output "script arg1
note-ok"
}

@test "run refuses a directory that is not a tiny VM and a file that build did not make" {
	run vm run "$WORK" -- true
	assert_status 125
	assert_output "mdvm.sh: run: $WORK is neither a tiny VM directory (mdvm.sh tiny DIR) nor an image made by build with its .vmlinuz and .initrd beside it (mdvm.sh build IMG.qcow2)"
	as_user touch "$WORK/bare.qcow2"
	run vm run "$WORK/bare.qcow2" -- true
	assert_status 125
	assert_output "mdvm.sh: run: $WORK/bare.qcow2 is neither a tiny VM directory (mdvm.sh tiny DIR) nor an image made by build with its .vmlinuz and .initrd beside it (mdvm.sh build IMG.qcow2)"
	rm -f "$WORK/bare.qcow2"
}

@test "run refuses --disk-cache for a tiny VM and an unknown cache mode" {
	need_tiny
	run vm run "$WORK/tiny" --disk-cache none -- true
	assert_status 2
	assert_output "mdvm.sh: run: --disk-cache is for an image; a tiny VM has no disk
Try 'mdvm.sh --help' for more information."
	run vm run "$WORK/tiny" --disk-cache fast -- true
	assert_status 2
	assert_output "mdvm.sh: --disk-cache: none, writeback, writethrough, directsync or unsafe, not 'fast'
Try 'mdvm.sh --help' for more information."
}

@test "boottime -n 2 under TCG reports ordered phases that sum to the total, with CSV, PNG and SVG" {
	[ -z "${MDT_QUICK:-}" ] || skip "MDT_QUICK: the timed boots are skipped"
	need_tiny
	require python3 gnuplot
	run vm boottime "$WORK/tiny" -n 2 --accel tcg --timeout 120 --out "$WORK/bt"
	assert_status 0
	assert_output_contains "microvm-vmlinux-tcg"
	[ "$(head -n 1 "$WORK/bt/runs.csv")" = "config,run,status,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms" ]
	# Both boots: ok, every phase present and >= 0, the four add up to the
	# total (each rounded to 0.1 ms), so the boundaries are ordered.
	run awk -F, 'NR > 1 {
		n++
		if ($3 != "ok") { print "boot " $2 " " $3; bad = 1; next }
		for (j = 4; j <= 8; j++) if ($j == "" || $j < 0) { print "phase " j " is " $j; bad = 1 }
		s = $4 + $5 + $6 + $7; d = s - $8
		if (d > 0.3 || d < -0.3) { print "sum " s " != total " $8; bad = 1 }
		if ($6 <= 0 || $7 <= 0) { print "kernel/userspace phase empty"; bad = 1 }
	} END { if (n != 2) { print n " boots"; bad = 1 }; exit bad }' "$WORK/bt/runs.csv"
	assert_status 0
	[ "$(awk -F, 'NR == 2 { print $2 }' "$WORK/bt/summary.csv")" = 2 ]
	[ "$(od -An -tx1 -N 8 "$WORK/bt/boottime.png" | tr -d ' ')" = 89504e470d0a1a0a ]
	grep -q '<svg' "$WORK/bt/boottime.svg"
	grep -q 'Why so slow' "$WORK/bt/boottime.md"
	# It names the accelerator and why, says why the phase medians need not
	# add up, and has no development target in it.
	grep -q 'The accelerator was tcg: asked for with --accel tcg' "$WORK/bt/boottime.md"
	grep -q 'phase medians need not add up to the median total' "$WORK/bt/boottime.md"
	run grep -c 'Target' "$WORK/bt/boottime.md"
	assert_output 0
}

@test "boottime counts the time the kernel log's clock stood still as kernel init, not firmware" {
	[ -z "${MDT_QUICK:-}" ] || skip "MDT_QUICK: the timed boots are skipped"
	need_tiny
	require python3
	run vm boottime "$WORK/tiny" -n 1 --accel tcg --timeout 120 --out "$WORK/bc"
	assert_status 0
	# The guest printed both clocks; the raw one is ahead (it never stood
	# still), and the firmware phase ends at marker - MDVM-MARK - lost.
	run awk -F '\t' '
		function kts(s) { match(s, /\[ *[0-9]+\.[0-9]+\]/); return substr(s, RSTART + 1, RLENGTH - 2) * 1000 }
		m == "" && index($2, "MDVM-READY") == 1 { m = $1 }
		$2 ~ /^MDVM-CLOCK sched_clk / { split($2, w, " "); sc = w[3] }
		$2 ~ /^MDVM-CLOCK cpu_clk / { split($2, w, " "); cc = w[3] }
		$2 ~ /MDVM-DMESG .*MDVM-MARK/ { mk = kts($2) }
		END {
			if (sc == "" || cc == "") { print "no MDVM-CLOCK lines"; exit 1 }
			if (sc - cc <= 0) { print "sched_clk " sc " is not ahead of cpu_clk " cc; exit 1 }
			printf "%.1f\n", m - mk - (sc - cc)
		}' "$WORK/bc/logs/microvm-vmlinux-tcg-1.log"
	assert_status 0
	local want=$output
	run awk -F, -v want="$want" 'NR == 2 { d = $4 - want; exit (d > 0.2 || d < -0.2) }' "$WORK/bc/runs.csv"
	assert_status 0
}

@test "boottime refuses a bad -n" {
	run vm boottime -n 0
	assert_status 2
	assert_output "mdvm.sh: -n: a number of boots, not '0'
Try 'mdvm.sh --help' for more information."
}

# A fake KVM device the student can open, and a qemu-system-x86_64 first on
# PATH that hangs like nested KVM here (BIOS, never the kernel) when asked
# for KVM, and runs the real QEMU otherwise.
make_fake_kvm() {
	as_user mkdir -p "$WORK/fake"
	as_user touch "$WORK/fake/kvm"
	as_user sh -c "cat > '$WORK/fake/qemu-system-x86_64'" <<'EOF'
#!/bin/sh
echo "$*" >> "${0%/*}/calls"
for a in "$@"; do
	case $a in kvm | -enable-kvm | accel=kvm*) exec sleep 600 ;; esac
done
exec /usr/bin/qemu-system-x86_64 "$@"
EOF
	chmod 755 "$WORK/fake/qemu-system-x86_64"
}

@test "--accel auto falls back to TCG in one line when the KVM probe hangs, and caches the result" {
	need_tiny
	make_fake_kvm
	rm -f "$CACHE"/kvm-probe.*
	run as_user env MDVM_CACHE="$CACHE" TMPDIR="$WORK/tmp" MDVM_KVM_DEVICE="$WORK/fake/kvm" MDVM_KVM_PROBE_TIMEOUT=3 \
		PATH="$WORK/fake:$MDT_BIN:/usr/bin:/bin" "$MDT_BIN/$VM" run "$WORK/tiny" --timeout 120 -- echo hi
	assert_status 0
	assert_output "mdvm.sh: KVM does not work here (a probe boot did not reach the kernel in 3s): using TCG
hi"
	[ -f "$CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id)" ]
	# No QEMU left behind by the probe.
	run pgrep -u "$MDT_USER" -f 'sleep 600'
	assert_status 1
	# The second run asks the cache, not a new probe.
	[ "$(grep -c 'accel kvm' "$WORK/fake/calls")" = 1 ]
	run as_user env MDVM_CACHE="$CACHE" TMPDIR="$WORK/tmp" MDVM_KVM_DEVICE="$WORK/fake/kvm" MDVM_KVM_PROBE_TIMEOUT=3 \
		PATH="$WORK/fake:$MDT_BIN:/usr/bin:/bin" "$MDT_BIN/$VM" run "$WORK/tiny" --timeout 120 -- true
	assert_status 0
	assert_output "mdvm.sh: KVM does not work here (a probe boot did not reach the kernel in 3s): using TCG"
	[ "$(grep -c 'accel kvm' "$WORK/fake/calls")" = 1 ]
}

@test "--accel auto tells a student without access to the KVM device it uses TCG, never to join the kvm group" {
	need_tiny
	install -m 600 /dev/null "$WORK/rootkvm"
	run as_user env MDVM_CACHE="$CACHE" TMPDIR="$WORK/tmp" MDVM_KVM_DEVICE="$WORK/rootkvm" \
		"$MDT_BIN/$VM" run "$WORK/tiny" --timeout 120 -- true
	assert_status 0
	rm -f "$WORK/rootkvm"
	assert_output "mdvm.sh: cannot open $WORK/rootkvm: using TCG (slow software emulation; KVM is not for students here)"
}

@test "--accel kvm without a KVM device is refused" {
	need_tiny
	run as_user env MDVM_CACHE="$CACHE" TMPDIR="$WORK/tmp" MDVM_KVM_DEVICE="$WORK/no-such-kvm" \
		"$MDT_BIN/$VM" run "$WORK/tiny" --accel kvm -- true
	assert_status 125
	assert_output "mdvm.sh: accel: $WORK/no-such-kvm is missing or not usable (see --accel auto)"
}

@test "build refuses bad sizes, package lists and an existing image" {
	run vm build "$WORK/e.qcow2" --size 100M
	assert_status 2
	assert_output "mdvm.sh: build: size '100M' is below 512M
Try 'mdvm.sh --help' for more information."
	run vm build "$WORK/e.qcow2" --include 'sysbench;rm'
	assert_status 2
	assert_output "mdvm.sh: build: --include wants package names separated by commas
Try 'mdvm.sh --help' for more information."
	as_user touch "$WORK/e.qcow2"
	run vm build "$WORK/e.qcow2"
	assert_status 125
	assert_output "mdvm.sh: build: $WORK/e.qcow2 exists; remove it first"
	rm -f "$WORK/e.qcow2"
}

# A built Debian guest: MDT_VM_IMAGE names one (read only: run writes to an
# overlay), else the build test below makes one in WORK (MDT_VM_BUILD=1).
need_image() {
	IMG=${MDT_VM_IMAGE:-$WORK/deb.qcow2}
	[ -f "$IMG" ] || skip "no built Debian guest: set MDT_VM_BUILD=1 (builds one, minutes) or MDT_VM_IMAGE=IMG.qcow2 (mdvm.sh build IMG.qcow2 --include sysbench)"
}

@test "build as a student makes a Debian qcow2 with its kernel beside it that boots to the marker" {
	[ -n "${MDT_VM_BUILD:-}" ] || skip "building and booting a Debian guest takes minutes: set MDT_VM_BUILD=1"
	need_tiny
	require mmdebstrap fakeroot
	grep -q "^$MDT_USER:" /etc/subuid || skip "$MDT_USER has no subordinate id range (unshare mode)"
	run vm build "$WORK/deb.qcow2" --size 2G --include sysbench
	[ "$status" -eq 0 ] || case $output in
	*"Temporary failure"* | *"Could not resolve"* | *"Failed to fetch"*) skip "the Debian mirror is not reachable" ;;
	esac
	assert_status 0
	# A line per phase without a terminal (CI, nohup), and nothing else.
	assert_output "mdvm.sh: build: 1/4: the Debian bookworm root tree (mmdebstrap, unshare mode: minutes)
mdvm.sh: build: 2/4: the ext4 file system (mke2fs -d)
mdvm.sh: build: 3/4: the qcow2 image and the kernel beside it
mdvm.sh: build: 4/4: the initramfs
mdvm.sh: build: $WORK/deb.qcow2 ready (mdvm.sh boot $WORK/deb.qcow2)"
	run qemu-img info "$WORK/deb.qcow2"
	assert_output_contains "file format: qcow2"
	[ -s "$WORK/deb.vmlinuz" ]
	[ -s "$WORK/deb.initrd" ]
	[ "$(stat -c %U "$WORK/deb.qcow2")" = "$MDT_USER" ]
	# Nothing of the build is left in TMPDIR.
	[ -z "$(ls -A "$WORK/tmp")" ]
	run vm boottime "$WORK/deb.qcow2" -n 1 --accel tcg --timeout 300 --out "$WORK/btd"
	assert_status 0
	[ "$(awk -F, 'NR == 2 { print $3 }' "$WORK/btd/runs.csv")" = ok ]
	# The guest's marker unit printed both kernel clocks, as the tiny VM does.
	grep -q 'MDVM-CLOCK sched_clk' "$WORK"/btd/logs/*.log
	grep -q 'MDVM-CLOCK cpu_clk' "$WORK"/btd/logs/*.log
	# The report explains the boot from the guest's own systemd-analyze:
	# its time, blame and critical chain, each line as the guest said it.
	grep -q "^## The Debian guest's boot, from the guest's own data" "$WORK/btd/boottime.md"
	grep -q '^    Startup finished in .*(kernel) + .*(userspace)' "$WORK/btd/boottime.md"
	grep -q '^    multi-user.target @[0-9.]*m\{0,1\}s$' "$WORK/btd/boottime.md"
	local slowest
	slowest=$(sed -n 's/^[0-9.]*\tMDVM-BLAME *\([0-9.]*m\{0,1\}s [^ ]*\)$/\1/p' "$WORK"/btd/logs/*.log | head -n 1)
	[ -n "$slowest" ]
	grep -qF "    $slowest" "$WORK/btd/boottime.md"
}

@test "run IMAGE -- COMMAND runs it in the built guest's own kernel and passes its output and status" {
	need_image
	require file
	run vm run "$IMG" --accel tcg --timeout 300 -- sh -c 'uname -r; test -d /run/systemd/system || echo "no systemd"; echo "$1"; exit 5' x "two words"
	assert_status 5
	# The release the image's own kernel file names (file(1) reads its header).
	local release
	release=$(file -b "${IMG%.qcow2}.vmlinuz" | sed -n 's/.*version \([^ ]*\) .*/\1/p')
	[ -n "$release" ]
	assert_output "$release
no systemd
two words"
	[ -z "$(ls -A "$WORK/tmp")" ]
	run pgrep -u "$MDT_USER" -f qemu-system-x86_64
	assert_status 1
}

@test "run IMAGE gives the guest --cpus and --memory, --add files and a --script, and leaves the image as built" {
	need_image
	local before
	before=$(md5sum <"$IMG")
	as_user sh -c "cat > '$WORK/s.sh'; echo note-ok > '$WORK/note'" <<'EOF'
#!/bin/sh
nproc
# 512 MB, less what the kernel keeps for itself.
awk '/^MemTotal:/ { print ($2 > 400000 && $2 <= 524288) ? "mem ok" : $2 }' /proc/meminfo
cat /extra/note
echo x >/root/scratch
EOF
	run vm run "$IMG" --accel tcg --timeout 300 --cpus 2 --memory 512 --disk-cache none \
		--add "$WORK/note:/extra/note" --script "$WORK/s.sh"
	assert_status 0
	assert_output "2
mem ok
note-ok"
	[ "$(md5sum <"$IMG")" = "$before" ]
}

@test "mdvm.sh and its command files are shellcheck clean, its Python pyflakes clean" {
	require shellcheck pyflakes3
	run shellcheck -s sh "$MDT_TOP/scripts/mdvm.sh" "$MDT_TOP"/scripts/mdvm/*.sh
	assert_status 0
	run pyflakes3 "$MDT_TOP"/scripts/mdvm/*.py
	assert_status 0
}

# ------------------------------------- root on what a student prepared
#
# Issue 18 (SECURITY.md 50): `sudo -E mdvm.sh`, or `su` without -, keeps a
# student's HOME, XDG_CACHE_HOME, MDVM_CACHE or TMPDIR. Root's cache and
# temporary files must be root's own: the student's planted links are
# never written through, and nothing of root's appears in their tree.

# A tiny VM directory of root's (the refusals come before any boot), a
# KVM device root can open, so that --accel auto reaches the cache, and
# the name of a file of root's that must not appear (the probe result
# written through a dangling link would create it).
root_fakes() {
	ROOT_TINY=$BATS_TEST_TMPDIR/tiny
	mkdir -p "$ROOT_TINY"
	touch "$ROOT_TINY/mdvm-tiny" "$ROOT_TINY/initrd.cpio" "$ROOT_TINY/vmlinuz" "$BATS_TEST_TMPDIR/kvm"
	VICTIM=$BATS_TEST_TMPDIR/victim
}

@test "root's KVM probe result never goes through a link the student planted in the HOME root kept" {
	root_fakes
	as_user mkdir -p "$UHOME/.cache/minidocker"
	as_user ln -sf "$VICTIM" "$UHOME/.cache/minidocker/kvm-probe.$(cat /proc/sys/kernel/random/boot_id)"
	run env HOME="$UHOME" MDVM_KVM_DEVICE="$BATS_TEST_TMPDIR/kvm" MDVM_KVM_PROBE_TIMEOUT=2 \
		"$MDT_BIN/$VM" run "$ROOT_TINY" -- true
	as_user rm -rf "$UHOME/.cache/minidocker"
	as_user rmdir "$UHOME/.cache" 2>/dev/null || true
	assert_status 125
	assert_output "mdvm.sh: cache $UHOME/.cache/minidocker: $UHOME belongs to another user: as root, mdvm.sh writes only where no other user can change the path (sudo -H, or MDVM_CACHE=DIR)"
	[ ! -e "$VICTIM" ]
}

@test "root refuses an XDG_CACHE_HOME or MDVM_CACHE in a student's tree" {
	root_fakes
	run env HOME=/root XDG_CACHE_HOME="$WORK/xdg" MDVM_KVM_DEVICE="$BATS_TEST_TMPDIR/kvm" "$MDT_BIN/$VM" run "$ROOT_TINY" -- true
	assert_status 125
	assert_output "mdvm.sh: cache $WORK/xdg/minidocker: $UHOME belongs to another user: as root, mdvm.sh writes only where no other user can change the path (sudo -H, or MDVM_CACHE=DIR)"
	run env MDVM_CACHE="$CACHE" "$MDT_BIN/$VM" tiny "$BATS_TEST_TMPDIR/t2"
	assert_status 125
	assert_output "mdvm.sh: cache $CACHE: $UHOME belongs to another user: as root, mdvm.sh writes only where no other user can change the path (sudo -H, or MDVM_CACHE=DIR)"
	[ -z "$(find "$WORK" -user root)" ]
}

@test "root refuses a TMPDIR in a student's tree" {
	root_fakes
	run env TMPDIR="$WORK/tmp" "$MDT_BIN/$VM" run "$ROOT_TINY" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: TMPDIR $WORK/tmp: $UHOME belongs to another user: as root, mdvm.sh writes only where no other user can change the path (unset TMPDIR)"
	[ -z "$(find "$WORK" -user root)" ]
}

@test "a cache of another user, or one others can write, is refused" {
	install -d -m 755 "$WORK/rootcache"
	run as_user env MDVM_CACHE="$WORK/rootcache" "$MDT_BIN/$VM" tiny "$WORK/t3"
	assert_status 125
	assert_output "mdvm.sh: cache $WORK/rootcache is not a directory of yours: remove it, or set MDVM_CACHE=DIR"
	as_user mkdir -p "$WORK/open"
	chmod 777 "$WORK/open"
	run as_user env MDVM_CACHE="$WORK/open" "$MDT_BIN/$VM" tiny "$WORK/t3"
	assert_status 125
	assert_output "mdvm.sh: cache $WORK/open is writable by group or other: chmod go-w $WORK/open"
	[ ! -e "$WORK/t3" ]
	rm -rf "$WORK/rootcache" "$WORK/open"
}

# Root boots only what no other user can change: a student's image, or a
# backing file of theirs behind root's own image, would have root's QEMU
# open any host file the student names (and write to it: boot, install).
@test "root refuses to boot a student's image, or one whose backing chain leads to a file a student owns or can write" {
	as_user mkdir -p "$WORK/img"
	as_user qemu-img create -q -f qcow2 "$WORK/img/s.qcow2" 64M
	as_user qemu-img create -q -f qcow2 "$WORK/img/base.qcow2" 64M
	as_user touch "$WORK/img/s.vmlinuz" "$WORK/img/s.initrd"
	local why="as root, mdvm.sh boots only files no other user can change (copy them to a directory of root's)"
	run "$MDT_BIN/$VM" run "$WORK/img/s.qcow2" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: run: $WORK/img/s.qcow2: $UHOME belongs to another user: $why"
	run "$MDT_BIN/$VM" boot "$WORK/img/s.qcow2" --accel tcg
	assert_status 125
	assert_output "mdvm.sh: boot: $WORK/img/s.qcow2: $UHOME belongs to another user: $why"
	# Root's own image in root's own directory, on the student's base.
	local R=$BATS_TEST_TMPDIR/r
	mkdir -m 755 "$R"
	qemu-img create -q -f qcow2 -b "$WORK/img/base.qcow2" -F qcow2 "$R/top.qcow2"
	touch "$R/top.vmlinuz" "$R/top.initrd"
	head -c 65536 /dev/zero >"$R/zero.iso"
	run "$MDT_BIN/$VM" run "$R/top.qcow2" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: run: backing file $WORK/img/base.qcow2 of $R/top.qcow2: $UHOME belongs to another user: $why"
	run "$MDT_BIN/$VM" boottime "$R/top.qcow2" --accel tcg
	assert_status 125
	assert_output "mdvm.sh: boottime: backing file $WORK/img/base.qcow2 of $R/top.qcow2: $UHOME belongs to another user: $why"
	run "$MDT_BIN/$VM" install "$R/top.qcow2" --iso "$R/zero.iso" --accel tcg
	assert_status 125
	assert_output "mdvm.sh: install: backing file $WORK/img/base.qcow2 of $R/top.qcow2: $UHOME belongs to another user: $why"
	# A base of root's that anyone may write to is no better.
	qemu-img create -q -f qcow2 "$R/open.qcow2" 64M
	chmod 666 "$R/open.qcow2"
	qemu-img create -q -f qcow2 -b "$R/open.qcow2" -F qcow2 "$R/top2.qcow2"
	touch "$R/top2.vmlinuz" "$R/top2.initrd"
	run "$MDT_BIN/$VM" run "$R/top2.qcow2" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: run: backing file $R/open.qcow2 of $R/top2.qcow2: $R/open.qcow2 is writable by group or other: $why"
	# A link in root's directory is followed, and where it leads checked.
	ln -s "$WORK/img/base.qcow2" "$R/link.qcow2"
	touch "$R/link.vmlinuz" "$R/link.initrd"
	run "$MDT_BIN/$VM" run "$R/link.qcow2" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: run: $R/link.qcow2: $UHOME belongs to another user: $why"
	# Root's own chain passes the check, also through root's links (the
	# v2 guest links the cached kernel beside its copy): the next refusal
	# is TMPDIR's.
	chmod 644 "$R/open.qcow2"
	run env TMPDIR="$WORK/tmp" "$MDT_BIN/$VM" run "$R/top2.qcow2" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: TMPDIR $WORK/tmp: $UHOME belongs to another user: as root, mdvm.sh writes only where no other user can change the path (unset TMPDIR)"
	ln -s "$R/top2.qcow2" "$R/top3.qcow2"
	ln -s "$R/top2.vmlinuz" "$R/top3.vmlinuz"
	ln -s "$R/top2.initrd" "$R/top3.initrd"
	run env TMPDIR="$WORK/tmp" "$MDT_BIN/$VM" run "$R/top3.qcow2" --accel tcg -- true
	assert_status 125
	assert_output "mdvm.sh: TMPDIR $WORK/tmp: $UHOME belongs to another user: as root, mdvm.sh writes only where no other user can change the path (unset TMPDIR)"
	# Nothing of root's was made in the student's tree.
	[ -z "$(find "$WORK" -user root)" ]
	rm -rf "$WORK/img"
}

