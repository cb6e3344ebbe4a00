#!/bin/sh
# bench-start.sh: how long a container takes to start, side by side in one
# run (make bench-start, as root). Medians from hyperfine:
#   floor    unshare --user --map-root-user --pid --mount --uts --ipc --net
#            --fork --mount-proc, chroot'ed into the same rootfs
#   helper   mdhelper run --net none --layer read-only -- /bin/true (a
#            cgroup with a pids limit; the system rootfs read-only, the
#            start issue 14 measured)
#   layer    the same with the default throw-away writable layer and one
#            read-write bind mount (issue 16)
#   limits   the same with --memory 10M --cpus 1
#   bridge   the same on a bench bridge (--net bridge: veth, lease, address)
#   mdrun.sh mdrun.sh -r default --net none -- true
#   bwrap    bubblewrap doing the same, when installed
#   before   (BEFORE=DIR: a test root installed from an earlier tree, e.g.
#            `make test-install TESTROOT=DIR` in a worktree of main) its
#            helper and its bridge start, in the same run, same rootfs
# Targets: helper <= 1.25x the floor, bridge <= helper + 12 ms (issue 14);
# layer <= helper + 2 ms (issue 16);
# mdrun.sh <= helper + 7 ms (issue 18); limits <= helper + 5 ms (issue 3).
set -eu

top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
root=${TESTROOT:-/var/lib/minidocker-test}
runs=${RUNS:-200}

die() { echo "bench-start: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo make bench-start): it installs a test helper"
command -v hyperfine >/dev/null || die "hyperfine is not installed (sudo make deps)"

make -s -C "$top" test-install >/dev/null
rootfs=$root/state/rootfs/default
conf=$root/etc/minidocker/minidocker.conf
cp "$conf" "$conf.bench-saved" 2>/dev/null || :
restore() {
	"$root/bin/mdnet.sh" down --config "$conf" >/dev/null 2>&1 || :
	mv "$conf.bench-saved" "$conf" 2>/dev/null || rm -f "$conf"
	[ -z "${bconf:-}" ] || mv "$bconf.bench-saved" "$bconf" 2>/dev/null || rm -f "$bconf"
	rm -rf "${out:-}" "$root/bench-bind"
}
trap restore EXIT
trap 'exit 130' INT TERM
printf 'bridge mdbench0 10.97.0.254/24\npermit root containers=1000 ip=10.97.0.0/24 rootfs=%s bind=%s\n' \
	"$root/state/rootfs" "$root/bench-bind" > "$conf"
chmod 644 "$conf"
mkdir -p "$root/bench-bind"
"$root/bin/mdnet.sh" up --config "$conf" >/dev/null
helper="$root/libexec/minidocker/mdhelper run --rootfs $rootfs --layer read-only"
before=${BEFORE:-}
if [ -n "$before" ]; then
	bconf=$before/etc/minidocker/minidocker.conf
	[ -x "$before/libexec/minidocker/mdhelper" ] || die "BEFORE=$before holds no installed test helper"
	cp "$bconf" "$bconf.bench-saved" 2>/dev/null || :
	printf 'bridge mdbench0 10.97.0.254/24\npermit root containers=1000 ip=10.97.0.0/24 rootfs=%s\n' \
		"$root/state/rootfs" > "$bconf"
	chmod 644 "$bconf"
fi

set -- \
	-n floor "unshare --user --map-root-user --pid --mount --uts --ipc --net --fork --mount-proc --root=$rootfs /bin/true" \
	-n helper "$helper --net none -- /bin/true" \
	-n layer "$root/libexec/minidocker/mdhelper run --rootfs $rootfs --net none --volume $root/bench-bind:/work -- /bin/true" \
	-n limits "$helper --net none --memory 10485760 --cpus 1 -- /bin/true" \
	-n bridge "$helper --net bridge -- /bin/true" \
	-n mdrun.sh "$root/bin/mdrun.sh -r default --read-only --net none -- true"
if [ -n "$before" ]; then
	bhelper="$before/libexec/minidocker/mdhelper run --rootfs $rootfs"
	set -- "$@" -n helper@before "$bhelper --net none -- /bin/true" \
		-n bridge@before "$bhelper --net bridge -- /bin/true"
fi
if command -v bwrap >/dev/null; then
	set -- "$@" -n bwrap "bwrap --unshare-all --bind $rootfs / --proc /proc --dev /dev --hostname administrator /bin/true"
fi

out=$(mktemp -d /root/bench-start.XXXXXX)
# The machine may be shared: the load average says how much it was.
read -r load_before _ </proc/loadavg
# mdrun.sh finds the test's system rootfs through the environment, not
# through an `env` process that a student's mdrun.sh would not pay for.
MD_SYSTEM_ROOTFS=$root/state/rootfs hyperfine -N --warmup 20 --runs "$runs" --style basic --export-json "$out/start.json" "$@" </dev/null >/dev/null
read -r load_after _ </proc/loadavg
echo "load average (1 min): $load_before before, $load_after after, on $(nproc) CPUs"
python3 - "$out/start.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ms = lambda n: r[n]["median"] * 1000
print("%-10s %10s %10s" % ("", "median ms", "vs floor"))
for n in r:
    print("%-10s %10.2f %9.2fx" % (n, ms(n), ms(n) / ms("floor")))
print()
print("helper / floor = %.2f (target <= 1.25)" % (ms("helper") / ms("floor")))
print("mdrun.sh - helper = %.2f ms (target <= 7)" % (ms("mdrun.sh") - ms("helper")))
print("limits - helper = %.2f ms (target <= 5)" % (ms("limits") - ms("helper")))
print("layer - helper = %.2f ms (target <= 2)" % (ms("layer") - ms("helper")))
print("bridge - helper = %.2f ms (target <= 12)" % (ms("bridge") - ms("helper")))
if "helper@before" in r:
    print("before: helper / floor = %.2f, bridge - helper = %.2f ms" % (
        ms("helper@before") / ms("floor"), ms("bridge@before") - ms("helper@before")))
PY
