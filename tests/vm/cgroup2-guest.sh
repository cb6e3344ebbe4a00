#!/bin/sh
# Usage: cgroup2-guest.sh [OPTIONS] CGTEST MEM
# Summary: run tests/cgroup.bats inside a QEMU guest whose only cgroup hierarchy is v2
#
# Boots Debian's kernel (taken from the package linux-image-amd64 depends
# on, with apt-get download and dpkg-deb: no root needed) on an initramfs
# holding busybox, bash, dash, bats, the user tools the suite's fixtures use,
# tests/cgroup.bats with its helpers, and the two programs given: CGTEST (the
# tests/cgtest.c driver) and MEM (rootfs/mem.c). The guest mounts cgroup2
# alone at /sys/fs/cgroup, runs the suite, prints its TAP output on the
# serial console between "=== MDVM BEGIN" and "=== MDVM END rc=N", and
# powers off. The TAP lines are printed here; the exit status is the suite's.
#
# Options:
#   --append ARGS     more kernel command line (e.g. swapaccount=0)
#   --filter REGEX    run only the tests whose name matches (bats -f)
#   --quick           MDT_QUICK=1 inside the guest
#   --timeout SECS    give up on the guest after SECS seconds (default 300:
#                     about 100 s on an idle 2-core host, twice that when loaded)
#   --keep            keep the work directory (initramfs, console log), say where
#   --cache DIR       where the kernel is kept between runs
#                     (default $MD_VM_CACHE, else ~/.cache/minidocker/vm)
#   -h, --help        print this help
#
# Exit status: the suite's (0 all passed, 1 a test failed); 3 the guest
# never reported; 4 no kernel could be had (no apt archive, no cache);
# 2 misuse; 125 another failure, named on stderr.
#
# QEMU uses KVM only when a probe guest really reaches the kernel (nested
# KVM here starts the BIOS and never gets further), TCG otherwise.
set -eu

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/../../scripts/mdlib.sh"; fi

TOP=$(cd -- "$md_here/../.." && pwd)
umask 022

say() {
	if [ -t 2 ]; then md_warn "$*"; fi
}

vm_tmp=
keep=
cleanup() {
	if [ -n "$keep" ] && [ -n "$vm_tmp" ]; then md_warn "kept $vm_tmp"; vm_tmp=''; fi
	if [ -n "$vm_tmp" ] && [ -d "$vm_tmp" ]; then rm -rf -- "$vm_tmp"; fi
	vm_tmp=''
}
on_signal() {
	cleanup
	trap - EXIT
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# ---------------------------------------------------------------- kernel

# Print the path of a cached vmlinuz of Debian's current kernel package,
# downloading and extracting it first if needed. Works as any user.
vm_kernel() {
	cache=$1
	mkdir -p "$cache"
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1) || pkg=
	if [ -z "$pkg" ]; then
		# No apt metadata: the newest kernel already cached will do.
		k=$(find "$cache" -name 'vmlinuz-*' | sort | tail -n 1)
		[ -n "$k" ] || md_die 4 "kernel: linux-image-amd64 is unknown to apt and nothing is cached in $cache"
		echo "$k"
		return
	fi
	ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	k=$cache/vmlinuz-$pkg-$ver
	if [ ! -s "$k" ]; then
		say "kernel: downloading $pkg $ver"
		if ! (cd "$vm_tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
			# Offline: an older cached kernel is better than none.
			k=$(find "$cache" -name 'vmlinuz-*' | sort | tail -n 1)
			[ -n "$k" ] || md_die 4 "kernel: apt-get download $pkg failed and nothing is cached in $cache"
			echo "$k"
			return
		fi
		(cd "$vm_tmp" && dpkg-deb --fsys-tarfile ./"$pkg"_*.deb |
			tar -x --wildcards './boot/vmlinuz-*') ||
			md_die "kernel: extracting vmlinuz from $pkg failed"
		cp "$vm_tmp"/boot/vmlinuz-* "$k.tmp" && mv "$k.tmp" "$k"
		rm -rf "${vm_tmp:?}"/boot "${vm_tmp:?}"/*.deb
	fi
	echo "$k"
}

# ---------------------------------------------------------------- initramfs

# Copy file $1 into the tree $2 at its canonical path (merged /usr kept).
vm_add_file() {
	src=$(realpath -- "$1")
	dir=$(realpath -- "$(dirname -- "$1")")
	mkdir -p "$2$dir"
	cp -L -- "$src" "$2$dir/${1##*/}"
}

# Copy program $1 and every library ldd says it needs into tree $2.
vm_add_binary() {
	vm_add_file "$1" "$2"
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			[ -e "$2$(realpath -- "$(dirname -- "$lib")")/${lib##*/}" ] || vm_add_file "$lib" "$2"
		done
}

# Files the suite's fixtures expect of a Debian system: users, PAM for
# runuser (root only, nothing else), login.defs for useradd.
vm_add_etc() {
	r=$1
	mkdir -p "$r/etc/pam.d" "$r/etc/skel" "$r/home" "$r/root" "$r/tmp" "$r/var/tmp" \
		"$r/proc" "$r/sys" "$r/dev" "$r/run"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
	printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' > "$r/etc/shadow"
	printf 'root:*::\nnogroup:*::\n' > "$r/etc/gshadow"
	printf 'passwd: files\ngroup: files\nshadow: files\n' > "$r/etc/nsswitch.conf"
	printf 'auth sufficient pam_rootok.so\naccount sufficient pam_permit.so\nsession sufficient pam_permit.so\n' \
		> "$r/etc/pam.d/runuser"
	cp /etc/login.defs "$r/etc/login.defs"
	chmod 600 "$r/etc/shadow" "$r/etc/gshadow"
	chmod 1777 "$r/tmp" "$r/var/tmp"
	for m in pam_rootok.so pam_permit.so; do
		vm_add_file "/lib/x86_64-linux-gnu/security/$m" "$r"
	done
}

# The guest's /init: cgroup2 only, the suite, framed results, power off.
vm_write_init() {
	cat > "$1/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ln -s /proc/self/fd /dev/fd 2>/dev/null
cd /work
set --
if [ -s /work/filter ]; then set -- -f "\$(cat /work/filter)"; fi
echo "=== MDVM BEGIN"
MDT_IN_GUEST=1 MDT_GUEST_ACCEL=$accel MDT_QUICK=$quick MDT_CGTEST=/opt/cgtest MDT_MEM=/opt/mem \\
	bats --tap --timing "\$@" tests/cgroup.bats 2>&1
rc=\$?
echo "# guest uptime \$(cut -d' ' -f1 /proc/uptime) s"
echo "=== MDVM END rc=\$rc"
poweroff -f
EOF
	chmod 755 "$1/init"
}

vm_initramfs() {
	r=$vm_tmp/root
	mkdir -p "$r/bin" "$r/sbin" "$r/opt" "$r/work/tests" "$r/usr/bin" "$r/usr/sbin" \
		"$r/usr/lib" "$r/usr/lib64"
	ln -s usr/lib "$r/lib"
	ln -s usr/lib64 "$r/lib64"
	cp /bin/busybox "$r/bin/busybox"
	for b in bash dash date timeout getent runuser unshare useradd usermod userdel \
		groupadd groupdel; do
		p=$(command -v "$b" || PATH=/usr/sbin:/sbin:$PATH command -v "$b") ||
			md_die "initramfs: $b is not installed"
		vm_add_binary "$p" "$r"
	done
	ln -s dash "$r/usr/bin/sh" # sh -c in the tests: the same shell as on the host
	cp -R /usr/lib/bats-core "$r/usr/lib/bats-core"
	mkdir -p "$r/usr/libexec"
	cp -R /usr/libexec/bats-core "$r/usr/libexec/bats-core"
	cp /usr/bin/bats "$r/usr/bin/bats"
	vm_add_binary "$cgtest" "$r"
	cp "$r$(realpath "$cgtest")" "$r/opt/cgtest"
	cp "$mem" "$r/opt/mem"
	cp "$TOP/tests/cgroup.bats" "$TOP/tests/helper.bash" "$TOP/tests/setup_suite.bash" \
		"$r/work/tests/"
	printf '%s' "$filter" > "$r/work/filter"
	ln -s /bin/busybox "$r/usr/bin/env" # the #! of bats and bash scripts
	vm_add_etc "$r"
	vm_write_init "$r"
	(cd "$r" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) > "$vm_tmp/initrd.gz"
}

# ---------------------------------------------------------------- boot

# KVM only if a guest really starts under it: the kernel prints within a
# few seconds, or the accelerator is broken (nested KVM here).
vm_accel() {
	if [ -w /dev/kvm ] && [ -z "${MD_VM_NO_KVM:-}" ]; then
		if timeout 8 qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 256 \
			-nographic -no-reboot -kernel "$kernel" -append "console=ttyS0 panic=-1 rdinit=/nonexistent" \
			2>/dev/null | grep -q 'Linux version'; then
			echo kvm
			return
		fi
	fi
	echo tcg
}

vm_boot() {
	say "booting ($accel)"
	cpu=max
	[ "$accel" = kvm ] && cpu=host
	timeout "$tmo" qemu-system-x86_64 -machine "q35,accel=$accel" -cpu "$cpu" -m 1024 -smp 2 \
		-nographic -no-reboot -kernel "$kernel" -initrd "$vm_tmp/initrd.gz" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init $append" \
		< /dev/null > "$vm_tmp/console.log" 2>&1 || true
	tr -d '\r' < "$vm_tmp/console.log" > "$vm_tmp/console.txt"
}

# The framed part of the console: TAP lines out, the suite's status back.
vm_report() {
	# The BIOS's screen-clearing escapes may precede the first frame line.
	sed -n '/=== MDVM BEGIN$/,/^=== MDVM END/p' "$vm_tmp/console.txt" | sed '1d;$d'
	rc=$(sed -n 's/^=== MDVM END rc=\([0-9]*\)$/\1/p' "$vm_tmp/console.txt")
	if [ -z "$rc" ]; then
		md_warn "the guest never reported; the last console lines:"
		tail -n 20 "$vm_tmp/console.txt" >&2
		return 3
	fi
	return "$rc"
}

main() {
	append='' filter='' quick='' tmo=300
	cache=${MD_VM_CACHE:-${HOME:-/root}/.cache/minidocker/vm}
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) md_help "$0"; exit 0 ;;
		--append) [ $# -ge 2 ] || md_usage_error "--append needs a value"; append=$2; shift 2 ;;
		--filter) [ $# -ge 2 ] || md_usage_error "--filter needs a value"; filter=$2; shift 2 ;;
		--quick) quick=1; shift ;;
		--keep) keep=1; shift ;;
		--timeout) [ $# -ge 2 ] || md_usage_error "--timeout needs a value"
			case $2 in '' | *[!0-9]*) md_usage_error "--timeout: not a number: $2" ;; esac
			tmo=$2; shift 2 ;;
		--cache) [ $# -ge 2 ] || md_usage_error "--cache needs a value"; cache=$2; shift 2 ;;
		--) shift; break ;;
		-*) md_usage_error "unknown option: $1" ;;
		*) break ;;
		esac
	done
	[ $# -eq 2 ] || md_usage_error "expected CGTEST and MEM"
	cgtest=$1 mem=$2
	[ -x "$cgtest" ] || md_die "not an executable: $cgtest"
	[ -x "$mem" ] || md_die "not an executable: $mem"
	command -v qemu-system-x86_64 >/dev/null || md_die "qemu-system-x86_64 is not installed"
	vm_tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgroup2-guest.XXXXXX")
	kernel=$(vm_kernel "$cache")
	accel=$(vm_accel)
	say "initramfs"
	vm_initramfs
	vm_boot
	vm_report
}

main "$@"
