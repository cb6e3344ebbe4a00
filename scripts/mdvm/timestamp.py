#!/usr/bin/env python3
# mdvm boottime's console timestamper: starts QEMU itself (so time 0 is the
# moment QEMU is started), stamps each console line with the time its first byte arrived
# (ms, monotonic clock), kills QEMU at the timeout. Python, not a sh `read`
# loop: one `date +%s%N` per line costs ~10 ms here (300 lines: 3.1 s in sh,
# 0.39 s in python3), which is coarser than the phases it measures.
#
# Usage: python3 timestamp.py TIMEOUT MARKER OUT.log COMMAND [ARG]...
# OUT.log: "MS<TAB>LINE" per console line, "#first-byte" and "#end ok|died|timeout".
import os, select, signal, subprocess, sys, time
timeout, marker, out = float(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
t0 = time.monotonic_ns()
p = subprocess.Popen(sys.argv[4:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def stop(signum, frame):
    p.kill()
    sys.exit(128 + signum)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
fd, deadline = p.stdout.fileno(), t0 + int(timeout * 1e9)
ms = lambda t: (t - t0) / 1e6
status, line, line_t, seen, first = "timeout", b"", None, False, True
with open(out, "w", encoding="utf-8") as f:
    def emit(t, raw):
        text = raw.replace(b"\r", b"").decode("utf-8", "replace")
        text = "".join(c for c in text if c.isprintable())
        f.write("%.3f\t%s\n" % (ms(t), text))
        return raw.rstrip(b"\r").startswith(marker)
    while True:
        left = (deadline - time.monotonic_ns()) / 1e9
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        data, now = os.read(fd, 65536), time.monotonic_ns()
        if not data:
            status = "ok" if seen else "died"
            break
        if first:
            f.write("%.3f\t#first-byte\n" % ms(now))
            first = False
        parts = data.split(b"\n")
        for i, part in enumerate(parts):
            if line_t is None and part:
                line_t = now
            line += part
            if i < len(parts) - 1:
                seen = emit(line_t or now, line) or seen
                line, line_t = b"", None
    if line:
        emit(line_t or time.monotonic_ns(), line)
    if p.poll() is None:
        p.kill()
    p.wait()
    f.write("%.3f\t#end %s\n" % (ms(time.monotonic_ns()), status))
