# iostat-notes.awk: what mdbench.sh's report says about the host's iostat
# means, one Markdown line per test and environment, from lines
#   test env samples user system iowait idle r/s w/s rkB/s wkB/s util
# -v cores=N (the host's), -v results=results.csv (what sysbench read).
BEGIN { FS = ","; while ((getline l < results) > 0) { split(l, f, ","); if (f[2] == "fileio" && f[6] == "ok") { rd[f[1]] += f[16]; nr[f[1]]++ } } FS = " " }
$1 == "cpu" {
	busy = $4 + $5
	printf "- **cpu, %s**: %%user + %%system = %.0f%%; one sysbench thread can keep one of %d cores busy, %.0f%% of the machine", $2, busy, cores, 100 / cores
	if (busy > 100 / cores + 10) printf ", so %.0f%% was other work (QEMU's own threads for the vm, or other load on the machine)", busy - 100 / cores
	printf "; %%iowait %.1f%% (the cpu test itself does no I/O).\n", $6
}
$1 == "fileio" {
	sbr = nr[$2] ? rd[$2] / nr[$2] : 0; dr = $10 / 1024
	# The numbers as measured, no adjective: %iowait is the share of time
	# a CPU was idle while I/O was outstanding, %util the share of time
	# the disk had a request in flight.
	s = sprintf("- **fileio, %s**: %%iowait %.1f%%: the CPUs sat idle with disk I/O outstanding %.1f%% of the time; %%util %.0f%%: the disk had requests in flight %.0f%% of the time. ", $2, $6, $6, $12, $12)
	if (sbr > 0) {
		s = s sprintf("sysbench read %.1f MiB/s, the disk delivered %.1f MiB/s (%.0f%%)", sbr, dr, 100 * dr / sbr)
		if (dr < 0.2 * sbr) s = s ": most reads were served from memory (the files fit in a page cache: the guest's, the host's if not dropped, or a RAM-backed directory), not from the disk."
		else if (dr > 1.2 * sbr) s = s ": reads went to the disk, which also served readahead and any other process's I/O."
		else s = s ": reads went to the disk."
	}
	print s
}
# A saturated host: the runs competed with other work for the CPU.
$1 == "cpu" && $7 < 5 { saturated = saturated " " $2 }
END {
	if (saturated != "") printf "\n**The host CPU was saturated** (under 5%% idle) during the cpu runs of%s: other work competed, so those numbers measure the competition as much as the environment. Under contention the kernel (CFS group scheduling) shares CPU time between cgroups first, so a process in a cgroup of its own (a container) can get more than one in a crowded cgroup (native, in the root group): see each environment's CPU cgroup above. Measure on an idle machine.\n", saturated
}
