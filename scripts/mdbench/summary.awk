# summary.awk: mdbench.sh's summary table of one test, in Markdown, from
# stats.awk's lines (env n mean sd min max cv%), with what the numbers mean.
# -v vmacc=kvm|tcg: the VM's accelerator, which its overhead is due to.
{ seen[$1] = 1; e[NR] = $1; n[NR] = $2; m[NR] = $3; sd[NR] = $4; mn[NR] = $5; mx[NR] = $6; cv[NR] = $7; if ($1 == "native") base = $3 }
END {
	for (i = 1; i <= NR; i++) {
		o = (base > 0) ? sprintf("%+.1f%%", 100 * (base - m[i]) / base) : "no native runs"
		if (e[i] == "native") o = "(baseline)"
		f = (cv[i] > 5) ? sprintf("**%.1f%% > 5%%**", cv[i]) : sprintf("%.1f%%", cv[i])
		printf "| %s | %d | %.2f ± %.2f | %.2f | %.2f | %s | %s |\n", e[i], n[i], m[i], sd[i], mn[i], mx[i], f, o
		if (n[i] < 3) few = few " " e[i]
		if (cv[i] > 5) hi = hi " " e[i]
	}
	print ""
	print "Overhead: how much lower the mean is than native's, in percent of native (positive: slower)."
	if (vmacc == "tcg" && ("vm" in seen)) print "\nThe vm ran under TCG, QEMU's software emulation (no KVM for this user): its overhead is mostly the translation of every guest instruction, not the cost of virtualisation with KVM."
	if (vmacc == "kvm" && ("vm" in seen)) print "\nThe vm ran with KVM: its overhead is that of hardware virtualisation (and, for fileio, of its virtual disk)."
	if (hi != "") printf "\n**Flagged**: the coefficient of variation is above 5%% for%s: those means are not steady; look at the runs and the iostat plot for interference.\n", hi
	if (few != "") printf "\n**Fewer than 3 good runs** for%s: not enough for the report.\n", few
}
