#!/bin/sh
# Usage: sh tests/bench-rootfs.sh [RUNS]
# Summary: time mdrootfs.sh busybox, and mdrootfs.sh import against tar -x
#
# Prints, side by side, the median wall time of RUNS (default 5) busybox
# builds, and the median throughput (MiB/s) of `mdrootfs.sh import` and of
# plain `tar -xf` on the same 200 MiB tarball (uncompressed, so that the
# extractors are compared, not gzip). The tarball is made here, rootfs-like
# (a fixed mix of file sizes around 50 KiB on average, in 100 directories,
# with symlinks and hard links), from pseudo-random bytes.
# Target: import >= 0.8 x tar's throughput.
#
# Run from the source tree (make bench-rootfs): it needs build/loop and
# build/mem (make), python3 and GNU tar. Everything it makes lives under
# build/bench-rootfs and is removed at the end.
set -eu

PROG=bench-rootfs.sh
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
runs=${1:-5}
work=$top/build/bench-rootfs
MIB=200

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

case $runs in '' | *[!0-9]* | 0) die "RUNS must be a positive number" ;; esac
if [ ! -x "$top/build/loop" ] || [ ! -x "$top/build/mem" ]; then die "build/loop and build/mem are missing: run make first"; fi
command -v python3 >/dev/null || die "python3 is missing"

cleanup() {
	# The trees are ours (or our subordinate ids', which mdrootfs.sh rm
	# handles), so remove the rootfs through it, then the rest.
	if [ -d "$work/home" ]; then
		HOME=$work/home MD_LIBEXEC=$top/build sh "$top/scripts/mdrootfs.sh" rm bench >/dev/null 2>&1 || true
	fi
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

rm -rf -- "$work"
mkdir -p "$work/home"
export HOME="$work/home" MD_LIBEXEC="$top/build"
RF="sh $top/scripts/mdrootfs.sh"

# Nanoseconds since the epoch (GNU date).
now() { date +%s%N; }

# The median of the numbers on stdin.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- busybox
i=0
: >"$work/busybox.ns"
while [ "$i" -lt "$runs" ]; do
	t0=$(now)
	$RF busybox --force bb
	t1=$(now)
	echo $((t1 - t0)) >>"$work/busybox.ns"
	i=$((i + 1))
done
bb_ms=$(median <"$work/busybox.ns" | awk '{ printf "%.0f", $1 / 1e6 }')
$RF rm bb

# ---- the tarball
python3 - "$work/src.tar" "$MIB" <<'PY'
import io, os, random, sys, tarfile
out, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
sizes = [512, 4096, 16384, 65536, 262144, 1048576]
weights = [30, 30, 20, 12, 6, 2]
total, n = 0, 0
pool = os.urandom(4 << 20)
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    for d in range(100):
        i = tarfile.TarInfo("usr/share/d%02d" % d); i.type = tarfile.DIRTYPE; i.mode = 0o755
        t.addfile(i)
    while total < mib << 20:
        size = rng.choices(sizes, weights)[0]
        size = rng.randint(size // 2, size)
        name = "usr/share/d%02d/f%05d" % (n % 100, n)
        i = tarfile.TarInfo(name); i.size = size; i.mode = 0o644
        off = rng.randint(0, len(pool) - size)
        t.addfile(i, io.BytesIO(pool[off:off + size]))
        if n % 20 == 0:
            s = tarfile.TarInfo(name + ".link"); s.type = tarfile.SYMTYPE; s.linkname = "f%05d" % n
            t.addfile(s)
        if n % 50 == 0:
            h = tarfile.TarInfo(name + ".hard"); h.type = tarfile.LNKTYPE; h.linkname = name
            t.addfile(h)
        total += size
        n += 1
print("%d files, %d MiB of data" % (n, total >> 20), file=sys.stderr)
PY
bytes=$(stat -c %s "$work/src.tar")
# Both extractors read it from the page cache.
cat "$work/src.tar" >/dev/null

# ---- import vs tar, alternating so that both see the same machine load
: >"$work/import.ns"
: >"$work/tar.ns"
i=0
while [ "$i" -lt "$runs" ]; do
	# Removing the previous trees is not part of either measurement.
	if [ "$i" -gt 0 ]; then $RF rm bench; fi
	rm -rf -- "$work/tar-out"
	mkdir "$work/tar-out"
	sync
	t0=$(now)
	$RF import "$work/src.tar" bench
	t1=$(now)
	echo $((t1 - t0)) >>"$work/import.ns"
	sync
	t0=$(now)
	tar -xf "$work/src.tar" -C "$work/tar-out"
	t1=$(now)
	echo $((t1 - t0)) >>"$work/tar.ns"
	i=$((i + 1))
done
imp_ns=$(median <"$work/import.ns")
tar_ns=$(median <"$work/tar.ns")

awk -v bb="$bb_ms" -v runs="$runs" -v bytes="$bytes" -v imp="$imp_ns" -v tar="$tar_ns" 'BEGIN {
	mib = bytes / 1048576
	printf "busybox rootfs build (median of %d):   %6d ms   (target < 2000 ms)\n", runs, bb
	printf "%-42s %10s %10s\n", "import of a " int(mib + 0.5) " MiB tarball (median of " runs ")", "seconds", "MiB/s"
	printf "  %-40s %10.2f %10.1f\n", "mdrootfs.sh import", imp / 1e9, mib / (imp / 1e9)
	printf "  %-40s %10.2f %10.1f\n", "tar -xf", tar / 1e9, mib / (tar / 1e9)
	printf "  %-40s %10s %10.2f   (target >= 0.80)\n", "import / tar throughput", "", tar / imp
}'
