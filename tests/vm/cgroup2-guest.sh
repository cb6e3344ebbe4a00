#!/bin/sh
# Usage: cgroup2-guest.sh [OPTIONS] CGTEST MEM
# Summary: run tests/cgroup.bats inside a QEMU guest whose only cgroup hierarchy is v2
#
# The guest is mdvm.sh's tiny VM (Debian's kernel, fetched once with apt-get
# download as any user, and a busybox initramfs) with what the suite needs
# added by `mdvm.sh tiny --with/--add`: bash, dash, bats, the user tools the
# fixtures use, tests/cgroup.bats with its helpers, and the two programs
# given: CGTEST (the tests/cgtest.c driver) and MEM (rootfs/mem.c). `mdvm.sh
# run --script tests/vm/cgroup2-run.sh` then mounts cgroup2 alone at
# /sys/fs/cgroup in the guest, runs the suite and powers off; its TAP lines
# are printed here and the exit status is the suite's.
#
# Options:
#   --append ARGS     more kernel command line (e.g. swapaccount=0)
#   --filter REGEX    run only the tests whose name matches (bats -f)
#   --quick           MDT_QUICK=1 inside the guest
#   --timeout SECS    give up on the guest after SECS seconds (default 300:
#                     the suite took 30 s of guest uptime at load 2 here)
#   --keep            keep the tiny VM directory, say where
#   --cache DIR       where the kernel is kept between runs
#                     (default $MD_VM_CACHE, else mdvm.sh's cache directory)
#   -h, --help        print this help
#
# Exit status: the suite's (0 all passed, 1 a test failed); 3 the guest
# never reported; 4 no kernel could be had (no apt archive, no cache);
# 2 misuse; 125 another failure, named on stderr.
#
# mdvm.sh uses KVM only when a probe guest really reaches the kernel (nested
# KVM here starts the BIOS and never gets further), TCG otherwise;
# MD_VM_NO_KVM=1 asks for TCG.
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

MDVM=$TOP/scripts/mdvm.sh

vm_dir=
keep=
cleanup() {
	if [ -n "$keep" ] && [ -n "$vm_dir" ]; then md_warn "kept $vm_dir"; vm_dir=''; fi
	if [ -n "$vm_dir" ] && [ -d "$vm_dir" ]; then rm -rf -- "$vm_dir"; fi
	vm_dir=''
}
on_signal() {
	cleanup
	trap - EXIT
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# mdvm.sh, with --cache as its kernel cache (else its own default, shared
# with every other tiny VM).
mdvm() {
	if [ -n "$cache" ]; then MDVM_CACHE=$cache sh "$MDVM" "$@"; else sh "$MDVM" "$@"; fi
}

# The tiny VM with the suite and its tools. Exit 4 when no kernel could be had.
make_guest() {
	set --
	for b in bash dash date timeout getent runuser unshare useradd usermod userdel \
		groupadd groupdel "$cgtest" "$mem"; do
		set -- "$@" --with "$b"
	done
	for f in /usr/lib/bats-core /usr/libexec/bats-core /usr/bin/bats /etc/login.defs \
		/lib/x86_64-linux-gnu/security/pam_rootok.so /lib/x86_64-linux-gnu/security/pam_permit.so; do
		set -- "$@" --add "$f:$f"
	done
	for f in cgroup.bats helper.bash setup_suite.bash; do
		set -- "$@" --add "$TOP/tests/$f:/work/tests/$f"
	done
	if ! mg_out=$(mdvm tiny "$vm_dir/tiny" "$@" 2>&1); then
		case $mg_out in *"kernel download"* | *"kernel unpack"*) md_die 4 "$mg_out" ;; esac
		md_die "$mg_out"
	fi
}

main() {
	append='' filter='' quick='' tmo=300
	cache=${MD_VM_CACHE:-}
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
	vm_dir=$(mktemp -d "${TMPDIR:-/tmp}/cgroup2-guest.XXXXXX")
	# mdvm.sh's temporary files go in vm_dir too; the fixtures' tools live
	# in /usr/sbin, off a plain user's PATH.
	TMPDIR=$vm_dir PATH=$PATH:/usr/sbin:/sbin
	export TMPDIR PATH
	make_guest
	accel=auto
	[ -z "${MD_VM_NO_KVM:-}" ] || accel=tcg
	# loglevel=1: kernel messages (OOM kills, by design here) would cut
	# into the TAP lines on the one serial console.
	rc=0
	mdvm run "$vm_dir/tiny" --accel "$accel" --cpus 2 --memory 1024 \
		--timeout "$tmo" --append "loglevel=1${append:+ $append}" \
		--script "$md_here/cgroup2-run.sh" -- "$quick" "$filter" "$cgtest" "$mem" || rc=$?
	# mdvm.sh run: 125 when the guest stopped without reporting.
	[ "$rc" -ne 125 ] || return 3
	return "$rc"
}

main "$@"
