#!/bin/sh
# Usage: mdbench.sh [options]
# Summary: run the benchmark: sysbench cpu and fileio in each environment,
#          iostat on the host, then the report (mdbench.sh --help: options)

set -eu
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
MB_LIB=${MB_LIB:-$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)}
# shellcheck disable=SC1091 # each part is linted on its own
{
	. "$MB_LIB/common.sh"
	. "$MB_LIB/children.sh"
	. "$MB_LIB/iostat.sh"
	. "$MB_LIB/envs.sh"
	. "$MB_LIB/env-native.sh"
	. "$MB_LIB/env-minidocker.sh"
	. "$MB_LIB/env-docker.sh"
	. "$MB_LIB/env-vm.sh"
	. "$MB_LIB/record.sh"
	. "$MB_LIB/cpu.sh"
	. "$MB_LIB/fileio.sh"
	. "$MB_LIB/calibrate.sh"
	. "$MB_LIB/machine.sh"
}

MB_CSV_HEADER="env,test,run,start,end,status,params,events_per_s,total_time_s,events,lat_avg_ms,lat_p95_ms,reads_per_s,writes_per_s,fsyncs_per_s,read_mib_s,written_mib_s,cache,fstype"
MB_DOCKER_SEED=csminpp/ubuntu-sysbench
MB_FILEIO_DIR=/mdbench-fileio
# Run in the fileio directory inside an environment, it prints what
# fsname.awk needs to name the file system that directory is on.
MB_FS_PROBE='stat -f -c "%T %t" . && pwd && cat /proc/self/mountinfo'

# State that the EXIT trap undoes. Empty means nothing to undo.
mb_child=
mb_ticker=
mb_iostat=
mb_docker_ctr=
mb_work=
mb_md_dir=
mb_md_hostdir=
mb_md_disk=
mb_native_dir=
mb_native_disk=
mb_vm=
mb_dk_rootdir=
mb_ready=
mb_interrupted=0
mb_out=
mb_out_tmp=

# ------------------------------------------------------------------- options

mb_parse_list() { # $1 option, $2 value, $3 allowed words
	mb_list=
	for mb_w in $(printf '%s\n' "$2" | tr ',' ' '); do
		case " $3 " in
		*" $mb_w "*) ;;
		*) md_usage_error "$1: unknown value '$mb_w' (one of: $3)" ;;
		esac
		case ,$mb_list, in *,"$mb_w",*) ;; *) mb_list=${mb_list:+$mb_list,}$mb_w ;; esac
	done
	[ -n "$mb_list" ] || md_usage_error "$1: needs a value"
	echo "$mb_list"
}

mb_need_arg() {
	[ "$2" -ge 2 ] || md_usage_error "$1: needs a value"
}

mb_parse_options() {
	mb_envs=native,minidocker,docker,vm mb_tests=cpu,fileio mb_runs=3
	mb_calibrate=0 mb_calibrate_only=0 mb_quick=0
	mb_prime='' mb_events='' mb_time='' mb_size='' mb_filenum='' mb_mode=rndrw mb_direct=0
	mb_cpus='' mb_memory='' mb_rootfs='' mb_docker_image='' mb_vm_image='' mb_vm_build=0 mb_out=
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) md_help "${MB_SELF:-$0}"; exit 0 ;;
		--env) mb_need_arg "$1" $#; mb_envs=$(mb_parse_list --env "$2" "$MB_ENVS_ALL"); shift ;;
		--test) mb_need_arg "$1" $#; mb_tests=$(mb_parse_list --test "$2" "cpu fileio"); shift ;;
		--runs) mb_need_arg "$1" $#; mb_runs=$2; shift ;;
		--calibrate) mb_calibrate=1 ;;
		--calibrate-only) mb_calibrate=1 mb_calibrate_only=1 ;;
		--cpu-max-prime) mb_need_arg "$1" $#; mb_prime=$2; shift ;;
		--cpu-events) mb_need_arg "$1" $#; mb_events=$2; shift ;;
		--time) mb_need_arg "$1" $#; mb_time=$2; shift ;;
		--file-total-size) mb_need_arg "$1" $#; mb_size=$(md_parse_size "$2") ||
			md_usage_error "--file-total-size: not a size: $2"; shift ;;
		--file-num) mb_need_arg "$1" $#; mb_filenum=$2; shift ;;
		--file-test-mode) mb_need_arg "$1" $#; mb_mode=$2; shift ;;
		--direct) mb_direct=1 ;;
		--cpus) mb_need_arg "$1" $#; mb_cpus=$2; shift ;;
		--memory) mb_need_arg "$1" $#; mb_memory=$2; shift ;;
		--rootfs) mb_need_arg "$1" $#; mb_rootfs=$2; shift ;;
		--docker-image) mb_need_arg "$1" $#; mb_docker_image=$2; shift ;;
		--vm-image) mb_need_arg "$1" $#; mb_vm_image=$2; shift ;;
		--vm-build) mb_vm_build=1 ;;
		--quick) mb_quick=1 ;;
		--out) mb_need_arg "$1" $#; mb_out=$2; shift ;;
		-*) md_usage_error "unknown option: $1" ;;
		*) md_usage_error "unexpected argument: $1" ;;
		esac
		shift
	done
	mb_defaults
	mb_check_options
}

# --quick: tiny work so that the harness is tested in seconds.
mb_defaults() {
	if [ "$mb_quick" = 1 ]; then
		: "${mb_prime:=2000}" "${mb_events:=500}" "${mb_time:=1}" "${mb_size:=8388608}" "${mb_filenum:=4}"
	else
		: "${mb_prime:=20000}" "${mb_events:=10000}" "${mb_time:=45}" "${mb_size:=1073741824}" "${mb_filenum:=128}"
	fi
}

mb_check_options() {
	mb_is_uint "$mb_runs" || md_usage_error "--runs: not a number: $mb_runs"
	[ "$mb_runs" -ge 3 ] || md_usage_error "--runs: at least 3 runs are needed for a mean and a deviation"
	[ "$mb_runs" -le 1000 ] || md_usage_error "--runs: at most 1000"
	mb_in_range "$mb_prime" 3 1000000000 || md_usage_error "--cpu-max-prime: not a number from 3 to 1000000000: $mb_prime"
	mb_in_range "$mb_events" 1 1000000000 || md_usage_error "--cpu-events: not a number from 1 to 1000000000: $mb_events"
	mb_in_range "$mb_time" 1 86400 || md_usage_error "--time: not a number of seconds from 1 to 86400: $mb_time"
	mb_in_range "$mb_filenum" 1 100000 || md_usage_error "--file-num: not a number from 1 to 100000: $mb_filenum"
	[ "$mb_size" -ge 1048576 ] || md_usage_error "--file-total-size: at least 1M"
	case $mb_mode in
	seqwr | seqrewr | seqrd | rndrd | rndwr | rndrw) ;;
	*) md_usage_error "--file-test-mode: one of seqwr seqrewr seqrd rndrd rndwr rndrw, not $mb_mode" ;;
	esac
	if [ -n "$mb_cpus" ]; then
		mb_in_range "$mb_cpus" 1 "$(nproc)" ||
			md_usage_error "--cpus: a number from 1 to $(nproc): $mb_cpus"
	fi
	[ -z "$mb_memory" ] || md_parse_size "$mb_memory" >/dev/null || md_usage_error "--memory: not a size: $mb_memory"
	[ -z "$mb_vm_image" ] || [ -e "$mb_vm_image" ] || [ "$mb_vm_build" = 1 ] || md_usage_error "--vm-image: no such file or directory: $mb_vm_image"
	return 0
}

# The output directory (SECURITY.md 50). The default name is one anybody
# can predict, in a directory anybody may share (sudo in a student's lab
# directory): it is made fresh, and an existing one, a link or a directory
# planted there is never written into. An existing --out is reused only
# when it is the caller's own real directory. As root, its path must be
# one no other user can change (md_root_safe_dir). Files are created with
# noclobber: a name taken in the new directory is an error, never followed.
mb_prepare_out() {
	if [ -z "$mb_out" ] && [ "$mb_calibrate_only" = 1 ]; then
		# No results: a scratch directory, removed at exit, where the
		# results of the run that follows will go (./), so that the fileio
		# probe measures that disk (TMPDIR may be memory).
		mb_safe "work directory" . "run it in a directory of root's, or give --out"
		mb_out=$(mktemp -d ./.mdbench-calibrate.XXXXXX) ||
			mb_die "cannot create a work directory in $(pwd) (calibrate where the results will go, or give --out)"
		mb_out_tmp=$mb_out
	elif [ -z "$mb_out" ]; then
		mb_out=./mdbench-$(date +%Y%m%d-%H%M%S)
		mb_safe "output directory $mb_out" . "run it in a directory of root's, or give --out"
		if [ -e "$mb_out" ] || [ -L "$mb_out" ]; then mb_die "$mb_out already exists: choose another --out"; fi
		mkdir -- "$mb_out" || mb_die "cannot create $mb_out"
	else
		mb_out=${mb_out%/}
		mb_safe "--out $mb_out" "$mb_out"
		if [ -L "$mb_out" ]; then
			mb_die "--out $mb_out is a symbolic link: name the directory itself"
		elif [ -e "$mb_out" ]; then
			[ -d "$mb_out" ] || mb_die "--out $mb_out is not a directory"
			[ -O "$mb_out" ] || mb_die "--out $mb_out belongs to another user: choose a directory of your own"
			[ ! -e "$mb_out/results.csv" ] || mb_die "$mb_out already holds results: choose another --out"
		else
			mkdir -p -- "$mb_out" || mb_die "cannot create $mb_out"
		fi
	fi
	mb_safe "output directory $mb_out" "$mb_out"
	mb_out=$(cd -- "$mb_out" && pwd)
	set -C
	if [ "$mb_calibrate_only" = 1 ]; then
		# Calibration alone: env.txt and calibration.csv, no results.
		: >"$mb_out/env.txt" || mb_die "cannot create $mb_out/env.txt (it must be new)"
	else
		{ mkdir -p "$mb_out/raw" && : >"$mb_out/env.txt" && echo "$MB_CSV_HEADER" >"$mb_out/results.csv"; } ||
			mb_die "cannot create the files of $mb_out (raw/, env.txt and results.csv must be new)"
	fi
	set +C
	mb_work=$(mktemp -d "$mb_out/.work.XXXXXX")
}

# The disks iostat watches: those under the test files of every environment.
# The native one comes first: the plots show it.
mb_watch_disks() {
	mb_disks=$mb_native_disk
	for mb_p in "$mb_md_hostdir" "$mb_dk_rootdir" "$mb_vm"; do
		if [ -z "$mb_p" ] || [ ! -e "$mb_p" ]; then continue; fi
		mb_d=$(mb_disk_of "$mb_p")
		case " $mb_disks " in *" $mb_d "*) ;; *) mb_disks="$mb_disks $mb_d" ;; esac
	done
	mb_disks=${mb_disks# }
}

mb_setup_envs() {
	mb_ready=
	for mb_e in $(echo "$mb_envs" | tr ',' ' '); do
		mb_say "setting up $mb_e"
		if mb_env_setup "$mb_e"; then
			mb_ready="$mb_ready $mb_e"
			mb_set "env.$mb_e.status" ok
		else
			# A half set up environment may hold a container: undo it now.
			mb_env_teardown_"$mb_e" || true
			md_warn "skipping $mb_e: $mb_reason"
			mb_set "env.$mb_e.status" skipped
			mb_set "env.$mb_e.reason" "$mb_reason"
		fi
	done
	[ -n "$mb_ready" ] || mb_die "no environment can run"
}

# Cache policy: drop it as root (the lab's way), O_DIRECT otherwise.
mb_choose_cache() {
	if [ "$mb_direct" = 1 ]; then
		mb_cache=direct mb_cache_reason="asked for with --direct"
	elif [ "$(id -u)" != 0 ]; then
		mb_cache=direct mb_cache_reason="not root, so the page cache could not be dropped"
		case ,$mb_tests, in
		*,fileio,*) md_warn "not root: fileio uses O_DIRECT (--file-extra-flags=direct) instead of dropping the page cache" ;;
		esac
	elif [ -w /proc/sys/vm/drop_caches ]; then
		mb_cache=dropped mb_cache_reason="root"
	else
		mb_cache=none mb_cache_reason="root, but /proc/sys/vm/drop_caches is not writable"
	fi
	if [ "$mb_cache" = none ] && case ,$mb_tests, in *,fileio,*) true ;; *) false ;; esac &&
		[ "$mb_size" -lt "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)" ]; then
		md_warn "the page cache cannot be dropped and --direct is off: a $(mb_size_arg "$mb_size") data set, smaller than RAM, will be read from memory"
	fi
}

# The options that give the runs what was calibrated: the picks, and the
# settings they were picked for where those are not the defaults.
mb_calibrated_options() {
	mb_o=
	case ,$mb_tests, in *,cpu,*)
		mb_o="--cpu-max-prime $mb_prime"
		[ "$mb_events" = 10000 ] || mb_o="$mb_o --cpu-events $mb_events" ;;
	esac
	case ,$mb_tests, in *,fileio,*)
		mb_o="$mb_o --file-total-size $(mb_size_arg "$mb_size")"
		[ "$mb_mode" = rndrw ] || mb_o="$mb_o --file-test-mode $mb_mode" ;;
	esac
	[ "$mb_time" = 45 ] || mb_o="$mb_o --time $mb_time"
	printf '%s\n' "${mb_o# }"
}

mb_bench() {
	mb_parse_options "$@"
	command -v sysbench >/dev/null 2>&1 || mb_die "sysbench is not installed (sudo apt-get install sysbench)"
	command -v iostat >/dev/null 2>&1 || mb_die "iostat is not installed (sudo apt-get install sysstat)"
	mb_ready=
	trap mb_cleanup EXIT
	trap mb_on_signal INT TERM HUP
	mb_prepare_out
	mb_choose_cache
	mb_native_disk=$(mb_disk_of "$mb_work")
	mb_describe_machine
	if [ "$mb_calibrate_only" = 1 ]; then mb_envs=native; fi
	mb_setup_envs
	mb_watch_disks
	# Calibration alone keeps no record of the host's disk and CPU.
	[ "$mb_calibrate_only" = 1 ] || mb_iostat_start
	if [ "$mb_calibrate" = 1 ]; then
		case " $mb_ready " in *" native "*) ;; *) mb_die "--calibrate measures the native environment, which is not running" ;; esac
		mb_calibrate
	fi
	mb_record_params
	if [ "$mb_calibrate_only" = 1 ]; then
		mb_say "pass these options to the runs that follow:"
		mb_calibrated_options
		return 0
	fi
	mb_expect_prep=$((mb_size / 104857600 + 1))
	mb_expect_cpu='?'
	for mb_t in $(echo "$mb_tests" | tr ',' ' '); do
		mb_i=1
		while [ "$mb_i" -le "$mb_runs" ]; do
			for mb_e in $mb_ready; do
				mb_run_"$mb_t" "$mb_e" "$mb_i"
				[ "$mb_t" != cpu ] || [ "$mb_e" != native ] ||
					mb_expect_cpu=$(awk -F, 'END { printf "%.0f", $9 }' "$mb_out/results.csv")
			done
			mb_i=$((mb_i + 1))
		done
	done
	mb_iostat_flush
	mb_iostat_stop
	sh "$MB_LIB/report.sh" "$mb_out"
	mb_failed=$(awk -F, 'NR > 1 && $6 != "ok" { printf "%s%s %s %s", n++ ? ", " : "", $1, $2, $3 }' "$mb_out/results.csv")
	[ -z "$mb_failed" ] || mb_die "runs failed: $mb_failed (their sysbench output is in $mb_out/raw)"
}

mb_bench "$@"
