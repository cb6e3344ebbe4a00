#!/bin/sh
# Usage: mdvm.sh build IMG.qcow2 [--suite bookworm] [--include PKG,...] [--size 4G]
# Summary: a Debian guest image, without root and without an installer
#
# mmdebstrap (unshare mode with a subordinate id range; root mode as root)
# makes the root tree, mke2fs -d an ext4 image of it, qemu-img the qcow2.
# Beside IMG.qcow2: its kernel (IMG.vmlinuz, and IMG.vmlinux uncompressed
# for a PVH boot) and a small busybox initramfs that loads the virtio and
# ext4 modules (IMG.initrd). The guest has a serial console, boots systemd
# to multi-user.target and prints MDVM-READY there; root has no password.
# Takes minutes (the packages come from the host's apt sources): a line on
# stderr says each of its four phases as it begins, with or without a
# terminal; mmdebstrap's own output goes to a log, shown if it fails.
#
# Options:
#   --suite NAME           Debian suite (default bookworm)
#   --include PKG,...      more packages
#   --size SIZE            the disk's size (default 4G, at least 512M)
#   -h, --help             print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"
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

# guest_initrd ROOT.TAR OUT: a busybox initramfs with the guest kernel's
# modules for its disk, numbered in load order.
guest_initrd() {
	gi_dep=$(tar -tf "$1" | grep -m 1 '/lib/modules/[^/]*/modules\.dep$') ||
		md_die "build: no modules.dep in the root tree"
	gi_dir=${gi_dep%/modules.dep}
	gi_x=$md_tmp/gi
	mkdir -p "$gi_x" "$md_tmp/giroot/bin" "$md_tmp/giroot/dev" "$md_tmp/giroot/proc" \
		"$md_tmp/giroot/sys" "$md_tmp/giroot/newroot" "$md_tmp/giroot/modules"
	tar -xf "$1" -C "$gi_x" "$gi_dep" || md_die "build: cannot read $gi_dep"
	guest_modules "$gi_x/$gi_dep" >"$md_tmp/gi.list"
	[ -s "$md_tmp/gi.list" ] || md_die "build: the guest kernel has no virtio_blk or ext4 module"
	# shellcheck disable=SC2046 # one member name per line, none with spaces
	tar -xf "$1" -C "$gi_x" $(sed "s|^|$gi_dir/|" "$md_tmp/gi.list") ||
		md_die "build: cannot read the guest kernel's modules"
	gi_n=10
	while read -r gi_m; do
		cp "$gi_x/$gi_dir/$gi_m" "$md_tmp/giroot/modules/$gi_n-${gi_m##*/}"
		gi_n=$((gi_n + 1))
	done <"$md_tmp/gi.list"
	cp /bin/busybox "$md_tmp/giroot/bin/busybox"
	cp -- "$MDVM_DIR/initrd-init.sh" "$md_tmp/giroot/init"
	chmod 755 "$md_tmp/giroot/init"
	make_cpio "$md_tmp/giroot" "$2"
	rm -rf "$gi_x" "$md_tmp/giroot"
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
	md_mktemp mdvm
	cu_mode=$(debstrap_mode)
	cu_pkgs=linux-image-amd64,systemd-sysv,udev,kmod,initramfs-tools,procps,iproute2
	if [ -n "$cu_inc" ]; then cu_pkgs=$cu_pkgs,$cu_inc; fi
	md_step "build: 1/4: the Debian $cu_suite root tree (mmdebstrap, $cu_mode mode: minutes)"
	# The apt sources are the host's; the root tree goes straight into a tar
	# (owners kept without root).
	# The essential hook keeps the initrd Debian's kernel package makes small
	# (guest-initramfs-tools.sh); the customize hook sets the guest up
	# (guest-setup.sh installs the files uploaded beside it).
	mmdebstrap --mode="$cu_mode" --variant=minbase --include="$cu_pkgs" \
		--essential-hook="upload $MDVM_DIR/guest-initramfs-tools.sh /tmp/mdvm-initrd" \
		--essential-hook="chroot \"\$1\" sh /tmp/mdvm-initrd" \
		--customize-hook="upload $MDVM_DIR/guest-ready.sh /tmp/mdvm-ready" \
		--customize-hook="upload $MDVM_DIR/guest-init.sh /tmp/mdvm-init" \
		--customize-hook="upload $MDVM_DIR/mdvm-ready.service /tmp/mdvm-ready.service" \
		--customize-hook="upload $MDVM_DIR/guest-setup.sh /tmp/mdvm-setup" \
		--customize-hook="chroot \"\$1\" sh /tmp/mdvm-setup" \
		"$cu_suite" "$md_tmp/root.tar" >"$md_tmp/mmdebstrap.log" 2>&1 || {
		tail -n 20 "$md_tmp/mmdebstrap.log" >&2
		md_die "build: mmdebstrap failed (log above)"
	}
	md_step "build: 2/4: the ext4 file system (mke2fs -d)"
	# mke2fs -d reads a directory (a tar only from e2fsprogs 1.47.1); under
	# one fakeroot session the unpacked files keep the tar's owners and
	# device nodes, and mke2fs -d copies what fakeroot says.
	: >"$md_tmp/root.raw"
	# shellcheck disable=SC2016 # the inner sh expands its own "$1".."$5"
	fakeroot sh -c 'mkdir "$1" && tar -C "$1" -xpf "$2" && "$5" -q -t ext4 -L mdvm -d "$1" "$3" "$4"' \
		sh "$md_tmp/rootdir" "$md_tmp/root.tar" "$md_tmp/root.raw" "$((cu_bytes / 1024))k" "$cu_mke2fs" ||
		md_die "build: unpacking the root tree or mke2fs -d failed"
	rm -rf "$md_tmp/rootdir"
	md_step "build: 3/4: the qcow2 image and the kernel beside it"
	qemu-img convert -O qcow2 "$md_tmp/root.raw" "$cu_img" || md_die "build: qemu-img convert failed"
	rm -f "$md_tmp/root.raw"
	# The guest's own kernel beside the image, for a direct boot, and its
	# uncompressed vmlinux for a PVH boot.
	(cd "$md_tmp" && tar -xf root.tar --wildcards './boot/vmlinuz-*') ||
		md_die "build: no kernel in the root tree"
	cp "$md_tmp"/boot/vmlinuz-* "${cu_img%.qcow2}.vmlinuz"
	rm -f "${cu_img%.qcow2}.vmlinux"
	extract_vmlinux "${cu_img%.qcow2}.vmlinuz" "${cu_img%.qcow2}.vmlinux" || rm -f "${cu_img%.qcow2}.vmlinux"
	md_step "build: 4/4: the initramfs"
	guest_initrd "$md_tmp/root.tar" "${cu_img%.qcow2}.initrd"
	md_step "build: $cu_img ready (mdvm.sh boot $cu_img)"
}


cmd_build "$@"
