# sysbench.awk: one sysbench output file to mdbench.sh's CSV fields, from
# events_per_s on: eps,total_time,events,lat_avg,lat_p95,reads/s,writes/s,
# fsyncs/s,read MiB/s,written MiB/s (empty where the test has none).
function num(s) { sub(/s$/, "", s); return s + 0 }
/events per second:/ { eps = $NF }
/total time:/ { tt = num($NF) }
/total number of events:/ { ev = $NF }
/^ *avg:/ && lat == "" { lat = $NF }
/95th percentile:/ { p95 = $NF }
/reads\/s:/ { rs = $NF }
/writes\/s:/ { ws = $NF }
/fsyncs\/s:/ { fs = $NF }
/read, MiB\/s:/ { rm = $NF }
/written, MiB\/s:/ { wm = $NF }
END {
	if (eps == "" && tt > 0) eps = sprintf("%.2f", ev / tt)
	printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", eps, tt, ev, lat, p95, rs, ws, fs, rm, wm
}
