#!/bin/sh
# bench-exec.sh: how long `mdctl.sh exec NAME -- true` takes, side by side
# in one run with nsenter into the same container (make bench-exec, as
# root), and how much memory a detached container's monitor (mdmonitor)
# holds.
# Medians from hyperfine:
#   nsenter   nsenter --all -t PID /bin/true (the reference: setns only)
#   helper    mdhelper exec NAME -- /bin/true
#   mdctl.sh  mdctl.sh exec NAME -- true
# Targets (issue 5): mdctl.sh exec <= 1.5x nsenter; the monitor's resident
# memory <= 1 MiB per container (conmon: typically 1-2 MiB), shown as RSS,
# PSS and private memory.
set -eu

top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
root=${TESTROOT:-/var/lib/minidocker-test}
runs=${RUNS:-200}

die() { echo "bench-exec: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo make bench-exec): it installs a test helper"
command -v hyperfine >/dev/null || die "hyperfine is not installed (sudo make deps)"
command -v nsenter >/dev/null || die "nsenter is not installed (util-linux)"

make -s -C "$top" test-install >/dev/null
conf=$root/etc/minidocker/minidocker.conf
helper=$root/libexec/minidocker/mdhelper
out=$(mktemp -d /root/bench-exec.XXXXXX)
cp "$conf" "$conf.bench-saved" 2>/dev/null || :
restore() {
	"$helper" kill bench-exec >/dev/null 2>&1 || :
	mv "$conf.bench-saved" "$conf" 2>/dev/null || rm -f "$conf"
	rm -rf "$out"
}
trap restore EXIT
trap 'exit 130' INT TERM
printf 'permit root containers=10 rootfs=%s\n' "$root/state/rootfs" > "$conf"
chmod 644 "$conf"

"$helper" run --rootfs "$root/state/rootfs/default" --net none --memory 10485760 --cpus 1 \
	--name bench-exec --detach "$out" -- sleep 100000 >/dev/null
pid=$("$helper" ps --json | sed -n 's/^{"name":"bench-exec",.*"pid":\([0-9]*\),.*/\1/p')
[ -n "$pid" ] || die "the bench container did not start"
monitor=$(ps -o ppid= -p "$pid" | tr -d " ")
[ "$(cat "/proc/$monitor/comm")" = mdmonitor ] || die "the bench container's monitor is not mdmonitor"

# Rounds of a few runs each, the three side by side in every round: load
# that comes and goes (a shared lab machine) weighs on all of them alike.
rounds=10
i=0
while [ $i -lt $rounds ]; do
	hyperfine -N --warmup 5 --runs $((runs / rounds)) --style none --export-json "$out/exec.$i.json" \
		-n nsenter "nsenter --all -t $pid /bin/true" \
		-n helper "$helper exec bench-exec -- /bin/true" \
		-n mdctl.sh "$root/bin/mdctl.sh exec bench-exec -- true" </dev/null >/dev/null
	i=$((i + 1))
done
# RSS counts every page the monitor maps; PSS divides shared pages among
# their users; private pages are mapped by this process alone (with one
# container, that is all of mdmonitor: each more monitor shares them).
mem=$(awk '/^(Rss|Pss|Private_Clean|Private_Dirty):/ { v[$1] = $2 }
	END { print v["Rss:"], v["Pss:"], v["Private_Clean:"] + v["Private_Dirty:"] }' \
	"/proc/$monitor/smaps_rollup")
# shellcheck disable=SC2086 # three numbers, split on purpose
python3 - "$out" $mem <<'PY'
import glob, json, statistics, sys
times = {}
for f in sorted(glob.glob(sys.argv[1] + "/exec.*.json")):
    for x in json.load(open(f))["results"]:
        times.setdefault(x["command"], []).extend(x["times"])
r = {n: statistics.median(t) for n, t in times.items()}
ms = lambda n: r[n] * 1000
print("%-10s %10s %12s" % ("", "median ms", "vs nsenter"))
for n in r:
    print("%-10s %10.2f %11.2fx" % (n, ms(n), ms(n) / ms("nsenter")))
print()
print("mdctl.sh exec / nsenter = %.2f (target <= 1.5)" % (ms("mdctl.sh") / ms("nsenter")))
print("monitor RSS = %s KiB (target <= 1024), PSS = %s KiB, private = %s KiB"
      % tuple(sys.argv[2:5]))
print("(%d runs each, in %d rounds)" % (len(times["helper"]), len(glob.glob(sys.argv[1] + "/exec.*.json"))))
PY
