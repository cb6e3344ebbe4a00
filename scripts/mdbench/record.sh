# record.sh: a run's sysbench output into results.csv. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# One CSV field list (from events_per_s on) out of a sysbench output file.
mb_parse_sysbench() { awk -f "$MB_LIB/sysbench.awk" "$1"; }

# MB_FS_PROBE's output to the file system's name (fsname.awk).
mb_fs_name() { awk -f "$MB_LIB/fsname.awk"; }

# The file system of host directory $1.
mb_fs_of() { (cd "$1" && sh -c "$MB_FS_PROBE") 2>/dev/null | mb_fs_name; }

# Append one row to results.csv for env $1, test $2, run $3.
mb_record() {
	mb_fields=$(mb_parse_sysbench "$mb_raw")
	mb_status=$5
	case $mb_fields in ,*) [ "$mb_status" != ok ] || mb_status=failed ;; esac
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$1" "$2" "$3" "$mb_t_start" "$mb_t_end" \
		"$mb_status" "$4" "$mb_fields" "$6" "$7" >>"$mb_out/results.csv"
	# Said at once, on the terminal: the report alone would hide it.
	[ "$mb_status" = ok ] ||
		md_warn "$1 $2 run $3 $mb_status: $(grep -v '^[[:space:]]*$' "$mb_raw" 2>/dev/null | tail -n 1) (raw/${mb_raw##*/})"
}
