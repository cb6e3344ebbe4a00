# fileio.sh: the fileio benchmark, one run of `sysbench fileio` (prepare,
# run, cleanup) in one environment. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

mb_fileio_args() {
	mb_fa="fileio --threads=1 --file-total-size=$(mb_size_arg "$mb_size") --file-num=$mb_filenum"
	echo "$mb_fa"
}

# Before a run: the data on the disk, and as root the page cache dropped.
mb_sync_drop() {
	sync
	[ "$mb_cache" = dropped ] || return 0
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || {
		md_warn "dropping the page cache failed: this run may read from the cache"
		return 0
	}
}

mb_run_fileio() {
	mb_env=$1 mb_i=$2
	mb_raw=$mb_out/raw/$mb_env-fileio-$mb_i.txt
	mb_fa=$(mb_fileio_args)
	mb_extra=
	[ "$mb_cache" != direct ] || mb_extra=--file-extra-flags=direct
	mb_params="size=$(mb_size_arg "$mb_size") files=$mb_filenum mode=$mb_mode time=$mb_time${mb_extra:+ direct}"
	if [ "$mb_env" = vm ]; then
		mb_run_fileio_vm
		return 0
	fi
	# The filesystem as the environment sees it: ext4 (bind mount), overlay...
	mb_fs=unknown
	if mb_env_exec_"$mb_env" "$mb_raw.fs" "fstype $mb_env" 1 sh -c "$MB_FS_PROBE"; then
		mb_fs=$(mb_fs_name <"$mb_raw.fs")
	fi
	rm -f "$mb_raw.fs"
	mb_rc=0
	# shellcheck disable=SC2086 # $mb_fa and $mb_extra hold option words
	mb_env_exec_"$mb_env" "$mb_raw.prepare" "fileio prepare $mb_i/$mb_runs $mb_env" \
		"$mb_expect_prep" sysbench $mb_fa $mb_extra prepare || mb_rc=$?
	mb_t_start=$(mb_now) mb_t_end=$mb_t_start
	if [ "$mb_rc" = 0 ]; then
		mb_sync_drop
		mb_t_start=$(mb_now)
		# shellcheck disable=SC2086 # $mb_fa and $mb_extra hold option words
		mb_env_exec_"$mb_env" "$mb_raw" "fileio run $mb_i/$mb_runs $mb_env" "$mb_time" \
			sysbench $mb_fa $mb_extra --file-test-mode="$mb_mode" --time="$mb_time" \
			--events=0 run || mb_rc=$?
		mb_t_end=$(mb_now)
	else
		cat "$mb_raw.prepare" >"$mb_raw"
	fi
	# shellcheck disable=SC2086 # $mb_fa holds option words
	mb_env_exec_"$mb_env" "$mb_raw.cleanup" "fileio cleanup $mb_env" 1 sysbench $mb_fa cleanup || true
	mb_hd=$(mb_env_hostdir_"$mb_env")
	[ -z "$mb_hd" ] || rm -f "$mb_hd"/test_file.*
	rm -f "$mb_raw.prepare" "$mb_raw.cleanup"
	mb_st=ok
	[ "$mb_rc" = 0 ] || mb_st="failed(exit $mb_rc)"
	mb_record "$mb_env" fileio "$mb_i" "$mb_params" "$mb_st" "$mb_cache" "$mb_fs"
}

# The guest has its own page cache: it is dropped inside, as root there.
mb_run_fileio_vm() {
	mb_sb="sysbench $mb_fa $mb_extra"
	mb_script="mkdir -p $MB_FILEIO_DIR && cd $MB_FILEIO_DIR && { $MB_FS_PROBE; } | sed 's/^/fstype: /' && $mb_sb prepare >/dev/null && sync && echo 3 >/proc/sys/vm/drop_caches; $mb_sb --file-test-mode=$mb_mode --time=$mb_time --events=0 run; rc=\$?; $mb_sb cleanup >/dev/null; exit \$rc"
	mb_sync_drop
	mb_t_start=$(mb_now)
	mb_rc=0
	mb_env_exec_vm "$mb_raw" "fileio run $mb_i/$mb_runs vm" "$mb_time" sh -c "$mb_script" || mb_rc=$?
	mb_t_end=$(mb_now)
	mb_fs=$(sed -n 's/^fstype: //p' "$mb_raw" | mb_fs_name)
	mb_st=ok
	[ "$mb_rc" = 0 ] || mb_st="failed(exit $mb_rc)"
	mb_record vm fileio "$mb_i" "$mb_params" "$mb_st" "$mb_cache" "${mb_fs:-unknown}"
}
