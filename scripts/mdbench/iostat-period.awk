# iostat-period.awk: the iostat samples of one test's period, from the start
# of its first run to the end of its last, for mdbench.sh's plot of it:
#   awk -F, -v test=T -v t0=EPOCH -f iostat-period.awk results.csv plots/iostat.dat
# A sample at t covers (t-c, t], c its 11th column (1 s in older data); it
# belongs to the period when the middle of that time does, so the other
# test's samples stay out of this one's plot.
FNR == NR {
	if (FNR > 1 && $2 == test) {
		if (lo == "" || $4 - t0 < lo) lo = $4 - t0
		if (hi == "" || $5 - t0 > hi) hi = $5 - t0
	}
	next
}
lo != "" && $1 - (($11 > 0) ? $11 : 1) / 2 >= lo && $1 - (($11 > 0) ? $11 : 1) / 2 <= hi
