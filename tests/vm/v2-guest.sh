#!/bin/sh
# Usage: v2-guest.sh [OPTIONS] [SUITE...]
# Summary: run the container suites in a systemd, cgroup-v2 Debian 12 guest as a user logged in through PAM
#
# A student's machine boots systemd with cgroup v2 unified (Debian 12,
# Ubuntu 22.04/24.04); this host is cgroup v1. This script, as root:
#   1. builds a Debian 12 image with `mdvm.sh build` (once: it is kept in
#      the root-owned cache directory, named after what it holds);
#   2. builds minidocker on the host in a copy of this tree;
#   3. copies the image to a raw file and, through a loop mount, puts the
#      tree in /work and mdci.service, which runs tests/vm/v2-run.sh once
#      multi-user.target is up;
#   4. boots that copy with `mdvm.sh boot` (its own kernel, systemd as PID
#      1; KVM only if a probe boot gets through, else TCG);
#   5. in the guest, v2-run.sh runs `make install`, makes the test users,
#      logs them in through PAM (runuser -l, pam_systemd) and runs each
#      SUITE (default, in this order: limits cglimits ctl net run security
#      user-init binds: the last ones use what budget the others left) with MDT_INSTALLED=1
#      MDT_LOGIN=1 against the installed minidocker, then powers off;
#   6. the TAP lines come on the serial console as they run; the results are
#      read back from the guest's disk into --out DIR (report.tap: all
#      suites; NAME.tap, install.log, console.log).
#
# Options:
#   --out DIR        where the results go (default build/report/v2)
#   --budget SECS    guest time for the suites; a suite still running then
#                    is cut short, and those not started are not run: both
#                    are listed, not counted as failures (default 1000)
#   --timeout SECS   give up on the guest after SECS (default: budget + 120;
#                    it boots in 10-20 s under TCG)
#   --filter REGEX   run only the tests whose name matches (bats -f)
#   --cpus N         guest CPUs (default 2: limits.bats's cpuset tests need 2)
#   --cache DIR      the image cache, root-owned (default /var/cache/minidocker-ci)
#   --keep           keep the work directory (the raw image), say where
#   -h, --help       print this help
#
# Exit status: 0 every test run passed, or the whole run was skipped (a line
# starting "v2-guest.sh: SKIPPED:" says why: not root, no QEMU, no image
# could be built, no loop device); 1 a test failed or a suite was cut short; 3 the guest
# never reported; 2 misuse; 125 another failure, named on stderr.
set -eu

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
TOP=$(cd -- "$md_here/../.." && pwd)
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
. "$TOP/scripts/mdlib.sh"
umask 022

MDVM=$TOP/scripts/mdvm.sh
# What the guest needs beyond mdvm.sh build's base: make install's tools
# (make, busybox for the default rootfs), the suites' (bats, nft, gcc, ...),
# and logind's PAM module with D-Bus for the login sessions.
INCLUDE=make,busybox-static,bats,nftables,iputils-ping,psmisc,procps,libpam-systemd,dbus,libcap-ng0,gcc,libc6-dev,python3,uidmap,xz-utils,zstd,file
SUITE=bookworm
# Raised when the image must be built again for this script's sake.
IMAGE_FORMAT=1

work=''
mnt=''
keep=''
cleanup() {
	if [ -n "$mnt" ] && mountpoint -q "$mnt"; then umount "$mnt" || umount -l "$mnt" || true; fi
	mnt=''
	if [ -n "$keep" ] && [ -n "$work" ]; then md_warn "kept $work"; work=''; fi
	if [ -n "$work" ] && [ -d "$work" ]; then rm -rf -- "$work"; fi
	work=''
}
on_signal() {
	cleanup
	trap - EXIT
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

skip() {
	echo "$PROG: SKIPPED: $*"
	exit 0
}

# A line of progress with the seconds since the start.
step() {
	echo "# v2 guest [$(($(date +%s) - t_start)) s] $*"
}

# The cache must be root's alone: the image it holds boots as the guest's
# root and runs `make install` there.
check_cache() {
	mkdir -p "$cache"
	# shellcheck disable=SC2012 # ls -ld: owner and mode of one directory
	cc_st=$(ls -ldn "$cache" | awk '{ print $1, $3 }')
	case $cc_st in
	d????-??-?\ 0) ;;
	*) md_die "$cache is not a root-owned directory writable by root alone ($cc_st)" ;;
	esac
}

# The cached image for INCLUDE, SUITE and IMAGE_FORMAT; built when missing.
ensure_image() {
	ei_key=$(printf '%s %s %s\n' "$SUITE" "$INCLUDE" "$IMAGE_FORMAT" | cksum | cut -d' ' -f1)
	img=$cache/debian-$SUITE-$ei_key.qcow2
	if [ -f "$img" ] && [ -f "${img%.qcow2}.vmlinuz" ] && [ -f "${img%.qcow2}.initrd" ]; then
		step "image $img (cached)"
		return 0
	fi
	command -v mmdebstrap >/dev/null || skip "no image can be built: mmdebstrap is not installed (sudo make deps)"
	step "building $img with mdvm.sh build (1-4 minutes with a reachable Debian mirror)"
	ei_tmp=$cache/building-$$
	rm -f "$ei_tmp".*
	if ! sh "$MDVM" build "$ei_tmp.qcow2" --suite "$SUITE" --include "$INCLUDE" >"$work/build.log" 2>&1; then
		rm -f "$ei_tmp".*
		skip "no image could be built (mdvm.sh build: $(tail -n 1 "$work/build.log"))"
	fi
	for e in vmlinux vmlinuz initrd qcow2; do
		[ ! -f "$ei_tmp.$e" ] || mv -f "$ei_tmp.$e" "${img%.qcow2}.$e"
	done
}

# The guest's copy of the image, with the tree and mdci.service in it.
prepare_guest() {
	step "building minidocker on the host"
	mkdir -p "$work/tree"
	(cd "$TOP" && tar --exclude=./.git --exclude=./build --exclude='./build-*' -cf - .) |
		tar -C "$work/tree" -xf - || md_die "copying the tree failed"
	make -s -C "$work/tree" all >"$work/make.log" 2>&1 || {
		tail -n 20 "$work/make.log" >&2
		md_die "make all failed on the host"
	}
	printf "SUITES='%s'\nBUDGET=%s\nFILTER='%s'\n" "$suites" "$budget" "$filter" >"$work/tree/mdci.conf"
	step "copying the image and installing the tree and mdci.service in it"
	qemu-img convert -O raw "$img" "$work/guest.raw" || md_die "qemu-img convert of $img failed"
	for e in vmlinux vmlinuz initrd; do
		[ ! -f "${img%.qcow2}.$e" ] || ln -s "${img%.qcow2}.$e" "$work/guest.raw.$e"
	done
	mnt=$work/mnt
	mkdir -p "$mnt"
	mount -o loop "$work/guest.raw" "$mnt" || skip "cannot loop-mount the guest image (no loop devices here?)"
	mkdir -p "$mnt/work"
	# Owners and times kept: make install in the guest finds the host's
	# build up to date.
	tar -C "$work/tree" -cf - . | tar -C "$mnt/work" -xpf - || md_die "copying the tree into the guest failed"
	chown -R root:root "$mnt/work"
	cat >"$mnt/etc/systemd/system/mdci.service" <<'EOF'
[Unit]
Description=minidocker CI: the container suites as users logged in through PAM
After=multi-user.target
[Service]
Type=oneshot
# As from an administrator's root shell (a unit has no HOME).
Environment=HOME=/root
ExecStart=/bin/sh /work/tests/vm/v2-run.sh
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
EOF
	ln -sf ../mdci.service "$mnt/etc/systemd/system/multi-user.target.wants/mdci.service"
	# No getty on the console: it would reset the port under the results.
	ln -sf /dev/null "$mnt/etc/systemd/system/serial-getty@ttyS0.service"
	umount "$mnt"
	mnt=''
}

# The console on stdin into serial.log; the lines between MDCI-BEGIN and
# MDCI-END on stdout as they come (read, not awk: mawk reads a pipe in
# blocks, and the few lines of a quiet boot sat in its buffer).
show_run() {
	sr_cr=$(printf '\r')
	sr_in=''
	while IFS= read -r sr_l || [ -n "$sr_l" ]; do
		sr_l=${sr_l%"$sr_cr"}
		printf '%s\n' "$sr_l" >>"$work/serial.log"
		case $sr_l in MDCI-END*) sr_in='' ;; esac
		[ -z "$sr_in" ] || printf '%s\n' "$sr_l"
		case $sr_l in *MDCI-BEGIN) sr_in=1 ;; esac
	done
}

# Boot the copy; print the guest's lines between MDCI-BEGIN and MDCI-END.
boot_guest() {
	step "booting the guest (systemd, cgroup v2) with mdvm.sh boot, ${cpus} CPUs, timeout ${tmo}s"
	MDVM_CACHE=$cache/mdvm sh "$MDVM" boot "$work/guest.raw" --cpus "$cpus" --memory 2048 \
		--timeout "$tmo" --append "quiet loglevel=1 systemd.show_status=0 systemd.unified_cgroup_hierarchy=1" \
		</dev/null 2>"$work/mdvm.err" | show_run || :
	# mdvm.sh's lines (the accelerator it chose, and why) as comments.
	sed 's/^/# v2 guest: /' "$work/mdvm.err" || :
}

# The results from the guest's disk into $out; the exit status.
collect() {
	mnt=$work/mnt
	mount -o loop,ro "$work/guest.raw" "$mnt" || md_die "cannot loop-mount the guest image to read the results"
	mkdir -p "$out"
	rm -f "$out"/*.tap "$out"/*.log "$out/status" "$out/not-run"
	if [ -d "$mnt/mdci/results" ]; then cp -r "$mnt/mdci/results/." "$out/"; fi
	umount "$mnt"
	mnt=''
	cp "$work/serial.log" "$out/serial.log" 2>/dev/null || :
	if [ ! -f "$out/status" ]; then
		md_warn "the guest never reported (mdvm.sh: $(tail -n 1 "$work/mdvm.err" 2>/dev/null)); last console lines:"
		tail -n 15 "$work/serial.log" >&2 2>/dev/null || :
		return 3
	fi
	: >"$out/report.tap"
	for s in $suites; do [ ! -f "$out/$s.tap" ] || grep -E '^(not )?ok ' "$out/$s.tap" >>"$out/report.tap" || :; done
	co_p=$(grep -c '^ok ' "$out/report.tap" || :)
	co_f=$(grep -c '^not ok ' "$out/report.tap" || :)
	co_n=$(sed 's/$/,/' "$out/not-run" 2>/dev/null | tr '\n' ' ' | sed 's/, $//' || :)
	step "done: $co_p ok, $co_f not ok${co_n:+; NOT RUN for time: $co_n}; results in $out"
	grep '^not ok ' "$out/report.tap" | sed 's/^/# v2 guest FAILED: /' || :
	return "$(cat "$out/status")"
}

main() {
	out=$TOP/build/report/v2 budget=1000 tmo='' filter='' cpus=2 cache=/var/cache/minidocker-ci
	while [ $# -gt 0 ]; do
		case $1 in
		--out | --budget | --timeout | --filter | --cpus | --cache)
			[ $# -ge 2 ] || md_usage_error "$1 needs a value" ;;
		esac
		case $1 in
		-h | --help) md_help "$0"; exit 0 ;;
		--out) out=$2; shift 2 ;;
		--budget | --timeout | --cpus)
			case $2 in '' | *[!0-9]* | 0) md_usage_error "$1: a positive number, not '$2'" ;; esac
			case $1 in --budget) budget=$2 ;; --timeout) tmo=$2 ;; *) cpus=$2 ;; esac
			shift 2 ;;
		--filter) filter=$2; shift 2 ;;
		--cache) cache=$2; shift 2 ;;
		--keep) keep=1; shift ;;
		-*) md_usage_error "unknown option: $1" ;;
		*) break ;;
		esac
	done
	suites=${*:-limits cglimits ctl net run security user-init binds}
	for s in $suites; do
		[ -f "$TOP/tests/$s.bats" ] || md_usage_error "no suite tests/$s.bats"
	done
	case $filter in *"'"*) md_usage_error "--filter: no single quotes" ;; esac
	tmo=${tmo:-$((budget + 120))}
	t_start=$(date +%s)
	[ "$(id -u)" = 0 ] || skip "needs root (the guest image is loop-mounted): sudo make check-v2"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (sudo make deps)"
	command -v qemu-img >/dev/null || skip "qemu-img is not installed (sudo make deps)"
	[ -x /bin/busybox ] || skip "no image can be built: /bin/busybox is not installed (sudo make deps)"
	check_cache
	work=$(mktemp -d "${TMPDIR:-/tmp}/v2-guest.XXXXXX")
	ensure_image
	prepare_guest
	boot_guest
	collect
}

main "$@"
