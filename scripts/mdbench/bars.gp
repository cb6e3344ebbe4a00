# bars.gp: mdbench.sh's plot of one test, as OUT.png and OUT.svg:
#   gnuplot -c bars.gp OUT DAT TITLE YLABEL
# DAT holds stats.awk's lines (env n mean sd min max cv%): a bar per
# environment, the mean, with the standard deviation as error bar.
out = ARG1
dat = ARG2
stats dat using 3 nooutput
n = STATS_records
do for [fmt in "png svg"] {
	if (fmt eq "png") {
		set terminal pngcairo size 1000,600 font 'DejaVu Sans,11' noenhanced
	} else {
		set terminal svg size 1000,600 dynamic font 'DejaVu Sans,11' noenhanced
	}
	set output out . "." . fmt
	set title ARG3
	set xlabel 'environment'
	set ylabel ARG4
	set yrange [0:*]
	set xrange [-0.6:n - 0.4]
	set style fill solid 0.6 border -1
	set boxwidth 0.6
	set grid ytics
	set key top right
	plot dat using 0:3:4:xtic(1) with boxerrorbars lc rgb '#4472c4' title 'mean +/- 1 sd', \
	     '' using 0:($3 / 2):(sprintf('%.1f +/- %.1f', $3, $4)) with labels notitle
	unset output
}
