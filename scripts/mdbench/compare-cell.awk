# compare-cell.awk: one cell of `mdbench.sh compare`: environment e's mean
# ± sd, runs and overhead against native of the same directory, from
# stats.awk's lines (env n mean sd ...); "-" when e has no good run.
$1 == "native" { base = $3 }
$1 == e { m = $3; sd = $4; n = $2 }
END {
	if (m == "") { print "-"; exit }
	o = (e != "native" && base > 0) ? sprintf(" (%+.1f%%)", 100 * (base - m) / base) : ""
	printf "%.2f ± %.2f, n=%d%s\n", m, sd, n, o
}
