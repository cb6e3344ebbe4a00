#!/bin/sh
# Usage: mdvm.sh COMMAND [OPTIONS] [ARGS]
# Summary: make, boot and time QEMU virtual machines, without root
#
# `mdvm.sh COMMAND --help` says more about each command and its options.
# Options for run, boot and boottime:
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --timeout S            give up on the guest after S seconds (run: none;
#                          boottime: 60 per boot)
#   --append ARGS          more kernel command line (last wins, e.g. loglevel=1)
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
#
# Commands:
set -eu

# The commands, in the order --help lists them; each is the file
# mdvm/COMMAND.sh (beside this script in the tree, under
# LIBEXECDIR/minidocker/mdvm when installed), with its own --help.
COMMANDS='tiny run boot boottime create install build'

PROG=${0##*/}
case $0 in */*) md_here=${0%/*} ;; *) md_here=. ;; esac
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
if [ -f "$MD_LIBEXEC/mdvm/common.sh" ]; then MDVM_DIR=$MD_LIBEXEC/mdvm; else MDVM_DIR=$md_here/mdvm; fi
# shellcheck source=mdlib.sh # from libexec when installed, beside us in the tree
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

# This header, then each command's usage line and summary.
help() {
	md_help "$0"
	for h_cmd in $COMMANDS; do
		sed -n 's/^# Usage: [^ ]* \{0,1\}/  /p; s/^# Summary: /      /p' "$MDVM_DIR/$h_cmd.sh"
	done
}

main() {
	[ $# -gt 0 ] || md_usage_error "which command? (tiny, run, boot, boottime, create, install, build)"
	case $1 in -h | --help) help; exit 0 ;; esac
	case " $COMMANDS " in
	*" $1 "*) ;;
	*) md_usage_error "unknown command: $1" ;;
	esac
	[ -f "$MDVM_DIR/$1.sh" ] || md_die "$MDVM_DIR/$1.sh is missing: reinstall minidocker (make install)"
	m_cmd=$1
	shift
	export PROG MDVM_DIR MD_LIBEXEC
	exec sh "$MDVM_DIR/$m_cmd.sh" "$@"
}

main "$@"
