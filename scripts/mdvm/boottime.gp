# mdvm boottime's plot: one stacked bar per configuration, by phase.
# gnuplot -c boottime.gp png|svg OUT DATA MARKER; DATA: one line per
# configuration, its median boot: "NAME FIRMWARE DECOMPRESS KERNEL
# USERSPACE RUN" (ms), whose phases add up to that boot's total.
if (ARG1 eq 'png') { set terminal pngcairo size 1000,560 } else { set terminal svg size 1000,560 }
set output ARG2
set title sprintf('Boot to %s by phase: the median boot of each configuration', ARG4) noenhanced
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set ylabel 'ms'
set yrange [0:*]
set xtics rotate by -25 noenhanced
set key outside right top
set bmargin 6
plot ARG3 using 2:xtic(1) title 'firmware', '' using 3 title 'decompress', '' using 4 title 'kernel init', '' using 5 title 'userspace'
