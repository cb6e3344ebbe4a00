# prime.awk: mdbench.sh's next --cpu-max-prime to probe in calibration.
# A cpu event checks every number up to the prime for primality by trial
# division: rate ~ N^-k, k measured between the last two probes (pa at ra
# events/s, pb at rb; it grows with N, bigger numbers need more divisions).
# Prints the N, rounded to 1000, at which e events last t seconds.
BEGIN {
	k = (pa != pb && ra != rb) ? log(ra / rb) / log(pb / pa) : 1.5
	if (k < 0.8) k = 0.8; if (k > 2.5) k = 2.5
	n = pb * exp(log(rb / (e / t)) / k)
	if (n < 1000) n = 1000; if (n > 100000000) n = 100000000
	printf "%d\n", int(n / 1000 + 0.5) * 1000
}
