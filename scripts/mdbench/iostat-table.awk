# iostat-table.awk: mdbench.sh's reading of iostat/host.json (iostat -o JSON,
# one sample a line group, as sysstat writes it) into columns:
#   time user system iowait idle r/s w/s rkB/s wkB/s util covered
# time: when the sample was taken, in seconds since the benchmark started;
# covered: the seconds it covers, up to then.
# -v dev=DISK (the disk's columns; empty: the first disk of each sample)
# -v t0=EPOCH (the benchmark's start), -v start=EPOCH (iostat's start),
# -v end=EPOCH (the last sample, taken on mdbench.sh's signal after the last
# run); start and end are empty in data from before they were recorded.
# iostat prints its timestamps in whole seconds; with -y, sample k is taken
# k seconds after iostat started, which places it to a fraction of a second
# (kept within its printed second).
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
function flush(last,   t, len) {
	if (ts == "") return
	k++; t = ts; len = 1
	if (start != "") {
		t = start + k
		if (last && end != "" && end < t) t = end
		if (t < ts) t = ts
		if (t >= ts + 1) t = ts + 0.99
		if (k > 1) len = t - prev; else len = t - start
		if (len <= 0 || len > 1) len = 1
		prev = t
	}
	printf "%.2f %s %s %s %s %s %s %s %s %s %.2f\n", t - t0, u, sy, io, idl, r, w, rk, wk, ut, len
}
/"timestamp":/ {
	flush(0)
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
END { flush(1) }
