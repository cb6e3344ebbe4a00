# iostat-during.awk: mean iostat columns over the samples inside one
# environment's runs of one test, for mdbench.sh's report.
#   awk -F, -v test=T -v env=E -v t0=EPOCH -f iostat-during.awk results.csv plots/iostat.dat
# A sample at t covers (t-1, t]. Prints "samples user system ..." or "-".
FNR == NR { if (FNR > 1 && $2 == test && $1 == env) { a[++n] = $4 - t0; b[n] = $5 - t0 } ; next }
{
	split($0, f, " "); t = f[1]
	for (i = 1; i <= n; i++) if (t - 1 >= a[i] - 0.5 && t <= b[i] + 0.5) {
		k++; for (j = 2; j <= 10; j++) sum[j] += f[j]; break
	}
}
END {
	if (!k) { print "-"; exit }
	printf "%d", k; for (j = 2; j <= 10; j++) printf " %.1f", sum[j] / k; printf "\n"
}

