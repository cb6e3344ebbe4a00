#!/bin/sh
# Usage: mdbench.sh [options]
#        mdbench.sh report DIR
#        mdbench.sh compare DIR1 DIR2...
# Summary: sysbench cpu and fileio on native, minidocker, Docker and a QEMU VM,
#          iostat on the host, gnuplot plots and a report.
#
# Runs every test --runs times, environments alternating run by run
# (A B C A B C) so that machine drift favours none, with iostat recording the
# host's CPU and disk once a second for the whole time. Ends with DIR/report.md
# and DIR/report.html; the raw data stays beside them (results.csv,
# iostat/host.json, env.txt, raw/) and `report DIR` rebuilds everything from it.
# An environment that cannot run is skipped and the reason is printed and
# written into the report.
#
# Options:
#   --env LIST               environments, comma-separated, from native,
#                            minidocker,docker,vm (default: all four)
#   --test LIST              cpu,fileio (default: both)
#   --runs N                 runs per test and environment, at least 3 (3)
#   --calibrate              measure this machine first and pick --cpu-max-prime
#                            and --file-total-size so that a run lasts 30-60 s
#   --calibrate-only         calibrate on the disk of ./ (or of --out), print
#                            the options to pass on (e.g. --cpu-max-prime
#                            35000 --file-total-size 2G, with --time and the
#                            like when not the defaults) and stop; no results
#                            directory, and nothing left behind unless --out
#                            names one for env.txt and calibration.csv
#   --cpu-max-prime N        primes up to N per cpu event (20000)
#   --cpu-events N           events per cpu run: fixed work, as in sysbench 0.4
#                            that the lab was written for (10000)
#   --time S                 length of a fileio run; the target length of a cpu
#                            run for --calibrate, and 10*S caps a cpu run (45)
#   --file-total-size SIZE   fileio data set, e.g. 512M, 2G (1G)
#   --file-num N             number of fileio files (128)
#   --file-test-mode MODE    seqwr seqrewr seqrd rndrd rndwr rndrw (rndrw)
#   --direct                 O_DIRECT fileio even as root (the default when not
#                            root, since only root can drop the page cache)
#   --cpus N                 limit the containers to N CPUs (native: taskset;
#                            vm: -smp N, default all)
#   --memory SIZE            limit the containers' memory (vm: -m, default 1G)
#   --rootfs NAME|DIR        minidocker rootfs with sysbench (default: build
#                            "mdbench" from busybox and the host's sysbench)
#   --docker-image IMAGE     Docker image with sysbench (default:
#                            csminpp/ubuntu-sysbench if present, else one made
#                            by `docker import` of the same busybox rootfs)
#   --vm-image IMG.qcow2     the vm environment's guest: made by `mdvm.sh build
#                            IMG.qcow2 --include sysbench` (default:
#                            ~/.cache/minidocker/mdbench-vm.qcow2)
#   --vm-build               build that guest first when it is missing (minutes)
#   --quick                  tiny parameters: seconds per environment (tests)
#   --out DIR                where results go (default: a new ./mdbench-DATE-TIME);
#                            an existing DIR must be yours and hold no results
#   -h, --help               show this help
#
# Exit status: 0 done, 1 a step or a run failed (each failed run is named on
# stderr; the report is written all the same), 2 misuse, 130 interrupted (the
# data so far is kept: `mdbench.sh report DIR` builds its report).

# This file only finds the subcommand and runs it: each lives in a file of
# its own (bench.sh, report.sh, compare.sh, with the parts and the awk and
# gnuplot programs they use), installed in LIBEXECDIR/minidocker/mdbench/,
# in the source tree in scripts/mdbench/ beside this script.

set -eu

MB_PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
if [ -d "$MD_LIBEXEC/mdbench" ]; then MB_LIB=$MD_LIBEXEC/mdbench; else MB_LIB=$md_here/mdbench; fi
# MB_SELF: the file whose header `mdbench.sh --help` prints.
MB_SELF=$md_here/${0##*/}
export MB_PROG MB_LIB MB_SELF

case ${1-} in
report | compare) mb_cmd=$1; shift ;;
*) mb_cmd=bench ;;
esac
[ -f "$MB_LIB/$mb_cmd.sh" ] || {
	printf '%s: its parts are not in %s (install minidocker: make install)\n' "$MB_PROG" "$MB_LIB" >&2
	exit 1
}
exec sh "$MB_LIB/$mb_cmd.sh" "$@"
