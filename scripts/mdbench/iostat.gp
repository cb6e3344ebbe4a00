# iostat.gp: mdbench.sh's plot of the host's CPU and disk over time during
# one test, as OUT.png and OUT.svg:
#   gnuplot -c iostat.gp OUT DAT TEST DEVICE STARTS ENDS ENVS RUNS COLORS
# DAT: iostat-table.awk's columns (seconds user system iowait idle r/s w/s
# rkB/s wkB/s util). Each run is shaded from its start to its end and named:
# STARTS, ENDS (seconds), ENVS, RUNS (its number) and COLORS are lists of
# words, one a run.
out = ARG1
dat = ARG2
starts = ARG5
ends = ARG6
envs = ARG7
runs = ARG8
colors = ARG9
lo = real(word(starts, 1))
hi = real(word(ends, 1))
do for [i = 1:words(starts)] {
	s = real(word(starts, i))
	e = real(word(ends, i))
	if (s < lo) { lo = s }
	if (e > hi) { hi = e }
	set object i rect from s, graph 0 to e, graph 1 fc rgb word(colors, i) fs solid 0.15 noborder behind
	set label i sprintf("%s %s", word(envs, i), word(runs, i)) at s, graph 0.97 rotate by 90 right offset 1,0 font ",8"
}
do for [fmt in "png svg"] {
	if (fmt eq "png") {
		set terminal pngcairo size 1000,900 font 'DejaVu Sans,11' noenhanced
	} else {
		set terminal svg size 1000,900 dynamic font 'DejaVu Sans,11' noenhanced
	}
	set output out . "." . fmt
	set multiplot layout 3,1 title sprintf("host iostat during the %s test (shaded: each run, start to end)", ARG3)
	set xrange [floor(lo - 2 + 0.5):floor(hi + 2 + 0.5)]
	set xlabel 'seconds since the benchmark started'
	set lmargin 12
	set rmargin 20
	set grid
	set key outside right
	set ylabel 'CPU (%)'
	set yrange [0:100]
	unset y2label
	unset y2tics
	set title 'CPU, all cores'
	plot dat using 1:2 with lines lw 2 title '%user', '' using 1:3 with lines lw 2 title '%system', \
	     '' using 1:4 with lines lw 2 title '%iowait', '' using 1:5 with lines lw 2 title '%idle'
	set yrange [0:*]
	set title sprintf('disk %s: requests', ARG4)
	set ylabel 'requests/s'
	plot '' using 1:6 with lines lw 2 title 'r/s', '' using 1:7 with lines lw 2 title 'w/s'
	set title sprintf('disk %s: throughput and utilisation', ARG4)
	set ylabel 'kB/s'
	set y2label '%util'
	set y2range [0:100]
	set y2tics
	plot '' using 1:8 with lines lw 2 title 'rkB/s', '' using 1:9 with lines lw 2 title 'wkB/s', \
	     '' using 1:10 axes x1y2 with lines lw 1 dt 2 title '%util'
	unset multiplot
	unset output
}
