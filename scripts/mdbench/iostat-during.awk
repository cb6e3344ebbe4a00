# iostat-during.awk: mean iostat columns over the samples inside one
# environment's runs of one test, for mdbench.sh's report.
#   awk -F, -v test=T -v env=E -v t0=EPOCH -f iostat-during.awk results.csv plots/iostat.dat
# A sample at t covers (t-c, t], c its 11th column (1 s in older data); it
# counts for a run when at least half of that lies inside the run. Prints
# "samples user system ..." or "-".
FNR == NR { if (FNR > 1 && $2 == test && $1 == env) { a[++n] = $4 - t0; b[n] = $5 - t0 } ; next }
{
	split($0, f, " "); t = f[1]; c = (f[11] > 0) ? f[11] : 1
	for (i = 1; i <= n; i++) if ((t < b[i] ? t : b[i]) - (t - c > a[i] ? t - c : a[i]) >= c / 2) {
		k++; for (j = 2; j <= 10; j++) sum[j] += f[j]; break
	}
}
END {
	if (!k) { print "-"; exit }
	printf "%d", k; for (j = 2; j <= 10; j++) printf " %.1f", sum[j] / k; printf "\n"
}
