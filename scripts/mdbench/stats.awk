# stats.awk: mdbench.sh's summary of results.csv (awk -F, -v test=cpu|fileio).
# Per environment, over its ok rows of the test, one line:
#   env n mean sd min max cv%
# of the test's main metric (cpu: events/s; fileio: read + written MiB/s).
NR == 1 || $2 != test || $6 != "ok" { next }
{
	v = (test == "cpu") ? $8 : $16 + $17
	e = $1; if (!(e in n)) order[++ne] = e
	n[e]++; s[e] += v; ss[e] += v * v
	if (!(e in mn) || v < mn[e]) mn[e] = v
	if (!(e in mx) || v > mx[e]) mx[e] = v
}
END {
	for (i = 1; i <= ne; i++) {
		e = order[i]; m = s[e] / n[e]
		var = (n[e] > 1) ? (ss[e] - n[e] * m * m) / (n[e] - 1) : 0
		sd = (var > 0) ? sqrt(var) : 0
		printf "%s %d %.4f %.4f %.4f %.4f %.2f\n", e, n[e], m, sd, mn[e], mx[e], (m > 0) ? 100 * sd / m : 0
	}
}
