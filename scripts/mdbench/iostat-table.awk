# iostat-table.awk: mdbench.sh's reading of iostat/host.json (iostat -o JSON,
# one sample a line group, as sysstat writes it) into columns:
#   seconds-since-start user system iowait idle r/s w/s rkB/s wkB/s util
# -v dev=DISK (the disk's columns; empty: the first disk of each sample)
# -v t0=EPOCH (the benchmark's start).
function field(line, key,   i, rest) {
	i = index(line, "\"" key "\": "); if (!i) return ""
	rest = substr(line, i + length(key) + 4); sub(/[,}].*/, "", rest)
	gsub(/"/, "", rest); return rest
}
# days from 1970-01-01 for a civil date (proleptic Gregorian).
function days(y, m, d) {
	if (m <= 2) { y--; m += 12 }
	return 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d - 719469
}
function flush() { if (ts != "") printf "%.0f %s %s %s %s %s %s %s %s %s\n", ts - t0, u, sy, io, idl, r, w, rk, wk, ut }
/"timestamp":/ {
	flush()
	s = field($0, "timestamp")
	ts = days(substr(s, 1, 4), substr(s, 6, 2) + 0, substr(s, 9, 2) + 0) * 86400 + substr(s, 12, 2) * 3600 + substr(s, 15, 2) * 60 + substr(s, 18, 2)
	r = w = rk = wk = ut = 0; seen = 0
}
/"avg-cpu":/ { u = field($0, "user"); sy = field($0, "system"); io = field($0, "iowait"); idl = field($0, "idle") }
/"disk_device":/ {
	d = field($0, "disk_device")
	if (dev == "" ? !seen : d == dev) {
		r = field($0, "r/s"); w = field($0, "w/s"); rk = field($0, "rkB/s"); wk = field($0, "wkB/s"); ut = field($0, "util"); seen = 1
	}
}
END { flush() }
