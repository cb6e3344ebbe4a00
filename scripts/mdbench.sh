#!/bin/sh
# Usage: mdbench.sh [options]
#        mdbench.sh report DIR
#        mdbench.sh compare DIR1 DIR2...
# Summary: sysbench cpu and fileio on native, minidocker, Docker and a QEMU VM,
#          iostat on the host, gnuplot plots and a report.
#
# Runs every test --runs times, environments alternating run by run
# (A B C A B C) so that machine drift favours none, with iostat recording the
# host's CPU and disk once a second for the whole time. Ends with DIR/report.md
# and DIR/report.html; the raw data stays beside them (results.csv,
# iostat/host.json, env.txt, raw/) and `report DIR` rebuilds everything from it.
# An environment that cannot run is skipped and the reason is printed and
# written into the report.
#
# Options:
#   --env LIST               environments, comma-separated, from native,
#                            minidocker,docker,vm (default: all four)
#   --test LIST              cpu,fileio (default: both)
#   --runs N                 runs per test and environment, at least 3 (3)
#   --calibrate              measure this machine first and pick --cpu-max-prime
#                            and --file-total-size so that a run lasts 30-60 s
#   --calibrate-only         calibrate, print the options to pass on (e.g.
#                            --cpu-max-prime 35000 --file-total-size 2G),
#                            stop; keeps a results directory only with --out
#   --cpu-max-prime N        primes up to N per cpu event (20000)
#   --cpu-events N           events per cpu run: fixed work, as in sysbench 0.4
#                            that the lab was written for (10000)
#   --time S                 length of a fileio run; the target length of a cpu
#                            run for --calibrate, and 10*S caps a cpu run (45)
#   --file-total-size SIZE   fileio data set, e.g. 512M, 2G (1G)
#   --file-num N             number of fileio files (128)
#   --file-test-mode MODE    seqwr seqrewr seqrd rndrd rndwr rndrw (rndrw)
#   --direct                 O_DIRECT fileio even as root (the default when not
#                            root, since only root can drop the page cache)
#   --cpus N                 limit the containers to N CPUs (native: taskset;
#                            vm: -smp N, default all)
#   --memory SIZE            limit the containers' memory (vm: -m, default 1G)
#   --rootfs NAME|DIR        minidocker rootfs with sysbench (default: build
#                            "mdbench" from busybox and the host's sysbench)
#   --docker-image IMAGE     Docker image with sysbench (default:
#                            csminpp/ubuntu-sysbench if present, else one made
#                            by `docker import` of the same busybox rootfs)
#   --vm-image IMG.qcow2     the vm environment's guest: made by `mdvm.sh build
#                            IMG.qcow2 --include sysbench` (default:
#                            ~/.cache/minidocker/mdbench-vm.qcow2)
#   --vm-build               build that guest first when it is missing (minutes)
#   --quick                  tiny parameters: seconds per environment (tests)
#   --out DIR                where results go (default: a new ./mdbench-DATE-TIME);
#                            an existing DIR must be yours and hold no results
#   -h, --help               show this help
#
# Exit status: 0 done, 1 a step or a run failed (each failed run is named on
# stderr; the report is written all the same), 2 misuse, 130 interrupted (the
# data so far is kept: `mdbench.sh report DIR` builds its report).

set -eu

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

# sysbench and iostat print numbers with '.', awk reads them the same way.
LC_ALL=C
export LC_ALL

MB_VERSION=0.1.0
MB_ENVS_ALL="native minidocker docker vm"
MB_CSV_HEADER="env,test,run,start,end,status,params,events_per_s,total_time_s,events,lat_avg_ms,lat_p95_ms,reads_per_s,writes_per_s,fsyncs_per_s,read_mib_s,written_mib_s,cache,fstype"
MB_DOCKER_SEED=csminpp/ubuntu-sysbench
MB_FILEIO_DIR=/mdbench-fileio

# State that the EXIT trap undoes. Empty means nothing to undo.
mb_child=
mb_ticker=
mb_iostat=
mb_docker_ctr=
mb_work=
mb_md_dir=
mb_md_disk=
mb_native_dir=
mb_native_disk=
mb_vm=
mb_dk_rootdir=
mb_ready=
mb_interrupted=0
mb_out=
mb_out_tmp=

# ---------------------------------------------------------------- small tools

mb_die() { md_die 1 "$@"; }

# md_root_safe_dir, failing with mdbench.sh's status for a failed step.
mb_safe() {
	mb_why=$(md_root_safe_dir "$@" 2>&1) || mb_die "${mb_why#"$PROG: "}"
}

# Progress on a terminal only; silence otherwise.
mb_say() {
	[ -t 2 ] || return 0
	printf '%s: %s\n' "$PROG" "$*" >&2
}

mb_now() { date +%s.%N; }

# key=value lines: the last one wins, so a later step can correct an earlier.
mb_set() { printf '%s=%s\n' "$1" "$2" >>"$mb_out/env.txt"; }
mb_get() { sed -n "s|^$2=||p" "$1/env.txt" | tail -n 1; }

mb_is_uint() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ ${#1} -le 12 ]
}

# $1 is a whole number from $2 to $3.
mb_in_range() {
	mb_is_uint "$1" || return 1
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# A size as sysbench reads it: bytes, or whole MiB with an M suffix.
mb_size_arg() {
	if [ $(($1 % 1048576)) -eq 0 ]; then echo "$(($1 / 1048576))M"; else echo "$1"; fi
}

# The whole disk (iostat's device name) holding directory $1, or nothing.
mb_disk_of() {
	mb_majmin=$(stat -c '%Hd:%Ld' "$1" 2>/dev/null) || return 0
	mb_sys=$(readlink -f "/sys/dev/block/$mb_majmin" 2>/dev/null) || return 0
	[ -d "$mb_sys" ] || return 0
	# A partition's parent directory is its disk: iostat -x reports disks.
	[ ! -f "$mb_sys/partition" ] || mb_sys=${mb_sys%/*}
	echo "${mb_sys##*/}"
}

# ------------------------------------------------ children, signals, cleanup

# Run "$@" in the background in a session of its own, output to $1, and wait
# for it. Its own session: Ctrl-C reaches only us, and the EXIT trap can stop
# the whole tree (docker client, mdrun.sh + helper, qemu) with one kill.
# Prints progress ($2, expected seconds $3) on a terminal. Returns its status.
mb_spawn() {
	mb_sp_out=$1 mb_sp_label=$2 mb_sp_expect=$3
	shift 3
	setsid "$@" >"$mb_sp_out" 2>&1 </dev/null &
	mb_child=$!
	if [ -t 2 ]; then
		mb_ticker_start "$mb_sp_label" "$mb_sp_expect"
	fi
	mb_sp_rc=0
	wait "$mb_child" || mb_sp_rc=$?
	mb_child=
	mb_ticker_stop
	return "$mb_sp_rc"
}

# A separate ticker process prints elapsed/expected time each second, so the
# shell itself stays in `wait`, where a signal interrupts it at once.
mb_ticker_start() {
	(
		t0=$(date +%s)
		while :; do
			printf '\r%s: %s  %ss / ~%ss ' "$PROG" "$1" $(($(date +%s) - t0)) "$2" >&2
			sleep 1
		done
	) &
	mb_ticker=$!
}
mb_ticker_stop() {
	[ -n "$mb_ticker" ] || return 0
	kill "$mb_ticker" 2>/dev/null || true
	wait "$mb_ticker" 2>/dev/null || true
	mb_ticker=
	printf '\r\033[K' >&2
}

mb_on_signal() {
	mb_interrupted=1
	exit 130
}

# The EXIT trap: stop what runs, remove test files and containers, keep data.
mb_cleanup() {
	mb_rc=$?
	trap - EXIT INT TERM HUP
	mb_ticker_stop
	if [ -n "$mb_child" ]; then
		kill -s TERM -- "-$mb_child" 2>/dev/null || kill -TERM "$mb_child" 2>/dev/null || true
		wait "$mb_child" 2>/dev/null || true
		mb_child=
	fi
	mb_env_teardown_all
	mb_iostat_stop
	[ -z "$mb_work" ] || rm -rf "$mb_work"
	# --calibrate-only without --out: its scratch results directory.
	[ -z "$mb_out_tmp" ] || rm -rf "$mb_out_tmp"
	# A step's scratch output; each finished run's own output stays in raw/.
	[ -z "$mb_out" ] || rm -f "$mb_out"/raw/*.prepare "$mb_out"/raw/*.cleanup "$mb_out"/raw/*.fs
	if [ "$mb_interrupted" = 1 ] && [ -n "$mb_out" ]; then
		md_warn "interrupted: the data so far is in $mb_out (\`$PROG report $mb_out\` builds its report)"
	fi
	exit "$mb_rc"
}

# --------------------------------------------------------------------- iostat

# iostat on the host for the whole run: containers share the host kernel and
# its counters, a VM sees only virtual devices; the real disk is out here.
mb_iostat_start() {
	mkdir -p "$mb_out/iostat"
	# shellcheck disable=SC2086 # $mb_disks is a list of device names, split on purpose
	TZ=UTC0 S_TIME_FORMAT=ISO setsid iostat -c -d -x -y -t -o JSON 1 $mb_disks \
		>"$mb_out/iostat/host.json" 2>"$mb_out/iostat/iostat.err" </dev/null &
	mb_iostat=$!
	mb_set iostat.command "iostat -c -d -x -y -t -o JSON 1 $mb_disks"
	mb_set iostat.device "${mb_disks%% *}"
}

# SIGINT makes iostat close its JSON document; a killed one is closed here.
mb_iostat_stop() {
	[ -n "$mb_iostat" ] || return 0
	kill -INT "$mb_iostat" 2>/dev/null || true
	wait "$mb_iostat" 2>/dev/null || true
	mb_iostat=
	if ! tail -n 1 "$mb_out/iostat/host.json" | grep -q '^}}'; then
		printf '\n\t\t\t]\n\t\t}\n\t]\n}}\n' >>"$mb_out/iostat/host.json"
	fi
}

# -------------------------------------------------------- rootfs and images

# A small rootfs: static busybox for the shell, the host's sysbench and the
# libraries ldd names, at the paths ldd names them.
mb_build_quick_rootfs() {
	mb_r=$1
	mb_bb=$(command -v busybox) || { md_warn "building a rootfs: busybox is not installed"; return 1; }
	mb_sb=$(command -v sysbench)
	mkdir -p "$mb_r/bin" "$mb_r/usr/bin" "$mb_r/tmp" "$mb_r/proc" "$mb_r/dev" \
		"$mb_r/sys" "$mb_r$MB_FILEIO_DIR"
	chmod 1777 "$mb_r/tmp"
	cp "$mb_bb" "$mb_r/bin/busybox"
	for mb_a in sh sleep stat mkdir rm sync cat ls echo; do
		ln -sf busybox "$mb_r/bin/$mb_a"
	done
	cp "$mb_sb" "$mb_r/usr/bin/sysbench"
	for mb_lib in $({ ldd "$mb_sb"; ldd "$mb_bb"; } 2>/dev/null |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u); do
		mkdir -p "$mb_r${mb_lib%/*}"
		cp -L "$mb_lib" "$mb_r$mb_lib"
	done
}

# The cpu cgroup of process $1 (v1: the hierarchy with the cpu controller;
# v2: the one path): under contention CFS shares CPU time between groups.
mb_cpu_cgroup() {
	awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3; found = 1; exit }
		$1 == "0" && $2 == "" { v2 = $3 }
		END { if (!found && v2 != "") print v2 }' "/proc/$1/cgroup" 2>/dev/null || true
}

mb_sysbench_version() { sysbench --version 2>/dev/null | awk '{ print $2; exit }'; }

# ---------------------------------------------------------------- environments
#
# Each environment has setup (sets mb_reason and returns 1 when it cannot
# run), exec (runs "$@" inside it with the fileio directory as working
# directory, via mb_spawn), a host path for its test files when the host can
# see them, and teardown. The vm runs a whole fileio sequence per boot.

mb_env_setup() {
	mb_reason=
	mb_env_setup_"$1"
}

mb_env_setup_native() {
	mb_native_dir=$mb_work/native-fileio
	mkdir -p "$mb_native_dir"
	mb_native_pin=
	[ -z "$mb_cpus" ] || mb_native_pin="taskset -c 0-$((mb_cpus - 1))"
	mb_set env.native.setup "sysbench $(mb_sysbench_version) run directly on the host${mb_native_pin:+ under $mb_native_pin}"
	mb_set env.native.files "$mb_native_dir on the host's $(stat -f -c %T "$mb_native_dir") (${mb_native_disk:-no block device})"
	mb_set env.native.sysbench "$(mb_sysbench_version)"
	mb_set env.native.cgroup "$(mb_cpu_cgroup $$)"
}

mb_env_exec_native() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	# shellcheck disable=SC2086,SC2016 # $mb_native_pin is empty or "taskset -c LIST"; $1 and $@ are the inner shell's
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		sh -c 'cd "$1" && shift && exec "$@"' sh "$mb_native_dir" $mb_native_pin "$@"
}

mb_env_hostdir_native() { echo "$mb_native_dir"; }

mb_env_teardown_native() { [ -z "$mb_native_dir" ] || rm -rf "$mb_native_dir"; }

# minidocker: mdrun.sh with no network; limits only when asked for, so that by
# default every environment runs on every CPU with all the memory it may
# have (mdrun.sh's own defaults, the seed's 10M and one CPU, would not be
# a fair comparison).
mb_env_setup_minidocker() {
	command -v mdrun.sh >/dev/null 2>&1 || {
		mb_reason="mdrun.sh is not on PATH (install minidocker: make install)"
		return 1
	}
	mb_md_limits="--cpus ${mb_cpus:-all} --memory ${mb_memory:-max}"
	# As root, every rootfs is root-owned, which mdhelper mounts read-only
	# (as it does the shared system ones): fileio could not write. Under
	# sudo the environment runs as the user who ran it, in their own
	# rootfs, as a student's would; root still drops the page cache.
	mb_md_as='' mb_md_home=$HOME
	if [ "$(id -u)" = 0 ] && case ,$mb_tests, in *,fileio,*) true ;; *) false ;; esac; then
		case ${SUDO_USER:-root} in
		root | *[!a-zA-Z0-9_.-]*)
			mb_reason="as root every rootfs is root's, which mdhelper mounts read-only: fileio cannot write there (run mdbench.sh with sudo as a member of the minidocker group: that user's containers are used)"
			return 1 ;;
		esac
		mb_md_home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
		[ -d "$mb_md_home" ] || { mb_reason="the home of $SUDO_USER (SUDO_USER) is not found"; return 1; }
		mb_md_as="runuser -u $SUDO_USER -- env HOME=$mb_md_home"
		# Their own tree: root may write there for them (md_root_safe_dir).
		md_trust_uid=$(id -u "$SUDO_USER")
		# shellcheck disable=SC2086 # $mb_md_as holds separate words
		$mb_md_as mkdir -p "$mb_md_home/.local/share/minidocker/rootfs"
	fi
	if [ -n "$mb_rootfs" ]; then
		mb_md_root=$mb_rootfs
		case $mb_rootfs in
		*/*) mb_md_dir=$mb_rootfs ;;
		*) mb_md_dir=$(HOME=$mb_md_home md_user_rootfs_dir)/$mb_rootfs
			[ -d "$mb_md_dir" ] || mb_md_dir=$(md_system_rootfs_dir)/$mb_rootfs ;;
		esac
		mb_md_how="rootfs $mb_rootfs given with --rootfs"
	else
		mb_md_root=mdbench
		mb_md_dir=$(HOME=$mb_md_home md_user_rootfs_dir)/mdbench
		# As root, HOME (sudo -E) may be a student's: never build there.
		if ! mb_why=$(md_root_safe_dir "rootfs $mb_md_dir" "$mb_md_dir" "sudo -H, or --rootfs" 2>&1); then
			mb_reason=${mb_why#"$PROG: "}
			return 1
		fi
		if [ ! -x "$mb_md_dir/usr/bin/sysbench" ]; then
			mb_say "building the minidocker rootfs $mb_md_dir (busybox + host sysbench)"
			mb_build_quick_rootfs "$mb_md_dir" || { mb_reason="building the rootfs $mb_md_dir failed"; return 1; }
			[ -z "$mb_md_as" ] || chown -R "$SUDO_USER:" "$mb_md_dir" ||
				{ mb_reason="cannot give the rootfs $mb_md_dir to $SUDO_USER"; return 1; }
		fi
		mb_md_how="rootfs \"mdbench\" ($mb_md_dir) built by mdbench.sh from busybox-static and the host's sysbench with the libraries ldd names"
	fi
	[ -d "$mb_md_dir" ] || { mb_reason="rootfs $mb_md_root not found"; return 1; }
	# Root writes the test files into the rootfs from the host too.
	if ! mb_why=$(md_root_safe_dir "rootfs $mb_md_dir" "$mb_md_dir" 2>&1) || [ -L "$mb_md_dir$MB_FILEIO_DIR" ]; then
		mb_reason=${mb_why:-$mb_md_dir$MB_FILEIO_DIR is a symbolic link}
		mb_reason=${mb_reason#"$PROG: "}
		mb_md_dir=
		return 1
	fi
	mb_md_disk=$(mb_disk_of "$mb_md_dir")
	# Not guaranteed a writable tmpfs inside: the files go in a directory of
	# the rootfs that the user owns, which the helper bind-mounts as /.
	mkdir -p "$mb_md_dir$MB_FILEIO_DIR" 2>/dev/null || true
	if [ ! -w "$mb_md_dir$MB_FILEIO_DIR" ]; then
		mb_reason="cannot write $mb_md_dir$MB_FILEIO_DIR (use a rootfs you own, --rootfs)"
		mb_md_dir=
		return 1
	fi
	[ -z "$mb_md_as" ] || mb_md_how="$mb_md_how; run as $SUDO_USER, who ran sudo (root's rootfs would be read-only)"
	mb_md_ver=
	# shellcheck disable=SC2086 # $mb_md_as and $mb_md_limits hold separate words
	if ! mb_md_ver=$($mb_md_as mdrun.sh -r "$mb_md_root" --net none $mb_md_limits -- sysbench --version 2>&1); then
		mb_reason="mdrun.sh failed: $(printf '%s\n' "$mb_md_ver" | tail -n 1)"
		return 1
	fi
	mb_set env.minidocker.setup "mdrun.sh -r $mb_md_root --net none${mb_md_limits:+ $mb_md_limits}; $mb_md_how"
	mb_set env.minidocker.files "$mb_md_dir$MB_FILEIO_DIR: a directory of the rootfs, bind-mounted by the helper ($(stat -f -c %T "$mb_md_dir") on ${mb_md_disk:-no block device})"
	mb_set env.minidocker.sysbench "$(printf '%s\n' "$mb_md_ver" | awk '/^sysbench/ { print $2; exit }')"
}

mb_env_exec_minidocker() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	# shellcheck disable=SC2086,SC2016 # $mb_md_as and $mb_md_limits hold separate words; $1 and $@ are the inner shell's
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		$mb_md_as mdrun.sh -r "$mb_md_root" --net none $mb_md_limits -- \
		/bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$MB_FILEIO_DIR" "$@"
}

mb_env_hostdir_minidocker() { echo "$mb_md_dir$MB_FILEIO_DIR"; }

mb_env_teardown_minidocker() {
	[ -z "$mb_md_dir" ] || rm -f "$mb_md_dir$MB_FILEIO_DIR"/test_file.*
}

# docker: one long-lived container per bench, so that prepare, run and
# cleanup share its writable layer; each step is a `docker exec`.
mb_env_setup_docker() {
	command -v docker >/dev/null 2>&1 || {
		mb_reason="docker is not installed (sudo apt-get install docker.io)"
		return 1
	}
	mb_dk_err=$(docker version --format '{{.Server.Version}}' 2>&1) || {
		mb_reason="no Docker daemon answers: $(printf '%s\n' "$mb_dk_err" | tail -n 1)"
		return 1
	}
	mb_dk_server=$mb_dk_err
	mb_dk_image=
	if [ -n "$mb_docker_image" ]; then
		mb_dk_image=$mb_docker_image mb_dk_how="image $mb_docker_image given with --docker-image"
	elif docker image inspect "$MB_DOCKER_SEED" >/dev/null 2>&1; then
		mb_dk_image=$MB_DOCKER_SEED mb_dk_how="the lab's image $MB_DOCKER_SEED, present locally"
	else
		mb_dk_image=mdbench/sysbench:$(mb_sysbench_version)
		mb_dk_how="image $mb_dk_image made by \`docker import\` of a rootfs of busybox-static and the host's sysbench with its libraries (no registry reachable)"
		if ! docker image inspect "$mb_dk_image" >/dev/null 2>&1; then
			mb_say "importing $mb_dk_image into Docker"
			mb_build_quick_rootfs "$mb_work/docker-rootfs" || { mb_reason="building the image's rootfs failed"; return 1; }
			mb_dk_err=$(tar -C "$mb_work/docker-rootfs" -cf - . |
				docker import -c 'CMD ["/bin/sh"]' - "$mb_dk_image" 2>&1) || {
				mb_reason="docker import failed: $(printf '%s\n' "$mb_dk_err" | tail -n 1)"
				return 1
			}
			rm -rf "$mb_work/docker-rootfs"
		fi
	fi
	mb_dk_limits=
	[ -z "$mb_cpus" ] || mb_dk_limits="--cpuset-cpus 0-$((mb_cpus - 1))"
	[ -z "$mb_memory" ] || mb_dk_limits="$mb_dk_limits --memory $mb_memory"
	mb_dk_name=mdbench-$$
	# shellcheck disable=SC2086 # $mb_dk_limits holds separate option words
	mb_dk_err=$(docker run -d --name "$mb_dk_name" --network none $mb_dk_limits \
		"$mb_dk_image" sleep 2147483647 2>&1) || {
		docker rm -f "$mb_dk_name" >/dev/null 2>&1 || true
		mb_reason="docker run failed: $(printf '%s\n' "$mb_dk_err" | tail -n 1)"
		return 1
	}
	mb_docker_ctr=$mb_dk_name
	mb_dk_ver=$(docker exec "$mb_dk_name" sysbench --version 2>&1) || {
		mb_reason="sysbench does not run in $mb_dk_image: $(printf '%s\n' "$mb_dk_ver" | tail -n 1)"
		return 1
	}
	case $mb_dk_ver in
	*"sysbench 1."*) ;;
	*) mb_reason="$mb_dk_image has $mb_dk_ver, not sysbench 1.x (use --docker-image)"; return 1 ;;
	esac
	docker exec "$mb_dk_name" mkdir -p "$MB_FILEIO_DIR" || { mb_reason="mkdir $MB_FILEIO_DIR in the container failed"; return 1; }
	mb_dk_fs=$(docker exec "$mb_dk_name" stat -f -c '%T %t' "$MB_FILEIO_DIR" 2>/dev/null | mb_fs_name) || mb_dk_fs=unknown
	mb_dk_rootdir=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null) || mb_dk_rootdir=
	mb_dk_root="${mb_dk_rootdir:-an unknown directory} ($(docker info --format '{{.Driver}}' 2>/dev/null || echo 'unknown driver'))"
	mb_set env.docker.setup "Docker Engine $mb_dk_server; docker run -d --network none${mb_dk_limits:+ $mb_dk_limits} $mb_dk_image, each step a docker exec; $mb_dk_how"
	mb_set env.docker.files "$MB_FILEIO_DIR in the container's writable layer: $mb_dk_fs, under $mb_dk_root"
	mb_set env.docker.sysbench "$(printf '%s\n' "$mb_dk_ver" | awk '{ print $2; exit }')"
	mb_dk_pid=$(docker inspect -f '{{.State.Pid}}' "$mb_dk_name" 2>/dev/null) || mb_dk_pid=
	[ -z "$mb_dk_pid" ] || mb_set env.docker.cgroup "$(mb_cpu_cgroup "$mb_dk_pid")"
}

mb_env_exec_docker() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		docker exec -w "$MB_FILEIO_DIR" "$mb_docker_ctr" "$@"
}

mb_env_hostdir_docker() { :; }

mb_env_teardown_docker() {
	[ -n "$mb_docker_ctr" ] || return 0
	docker rm -f "$mb_docker_ctr" >/dev/null 2>&1 || true
	mb_docker_ctr=
}

# vm: a Debian guest made by `mdvm.sh build --include sysbench`; each
# `mdvm.sh run` boots it (its own kernel, a minimal init, no systemd), runs
# one command and powers off; a fileio run is one boot that prepares, drops
# the guest's cache, runs and cleans up. The guest writes to an overlay in
# the work directory (on the disk iostat watches), with QEMU's cache=none so
# that the host's page cache does not serve the guest's disk reads.
mb_env_setup_vm() {
	command -v mdvm.sh >/dev/null 2>&1 || {
		mb_reason="mdvm.sh is not on PATH (install minidocker: make install)"
		return 1
	}
	mb_vm=${mb_vm_image:-$(mb_default_vm_image)}
	case $mb_vm in
	*.qcow2) ;;
	*) mb_reason="--vm-image $mb_vm: not a .qcow2 made by mdvm.sh build"; return 1 ;;
	esac
	if [ ! -f "$mb_vm" ] && [ "$mb_vm_build" = 1 ]; then
		mb_say "building the guest $mb_vm (mdvm.sh build --include sysbench; a few minutes)"
		if ! mb_why=$(md_root_safe_dir "guest directory" "$(dirname -- "$mb_vm")" "sudo -H, or --vm-image" 2>&1); then
			mb_reason=${mb_why#"$PROG: "}
			return 1
		fi
		mkdir -p "$(dirname -- "$mb_vm")"
		mb_vm_err=$(mdvm.sh build "$mb_vm" --include sysbench 2>&1) || {
			mb_reason="mdvm.sh build $mb_vm --include sysbench failed: $(printf '%s\n' "$mb_vm_err" | tail -n 1)"
			return 1
		}
	fi
	if [ ! -f "$mb_vm" ]; then
		mb_reason="no guest image $mb_vm: build it once with \`mdvm.sh build $mb_vm --include sysbench\` (a few minutes), or run with --vm-build, or name one with --vm-image"
		return 1
	fi
	if [ ! -f "${mb_vm%.qcow2}.vmlinuz" ] || [ ! -f "${mb_vm%.qcow2}.initrd" ]; then
		mb_reason="$mb_vm has no .vmlinuz and .initrd beside it (not made by mdvm.sh build?)"
		return 1
	fi
	# The VM's share of the machine: the same CPUs and memory limits as the
	# containers; a VM needs some size, so without --memory it gets 1024 MB.
	mb_vm_cpus=${mb_cpus:-$(nproc)}
	mb_vm_mem=1024 mb_vm_memwhy="no --memory given; a VM needs a size"
	if [ -n "$mb_memory" ]; then
		mb_vm_mem=$(($(md_parse_size "$mb_memory") / 1048576)) mb_vm_memwhy="--memory $mb_memory"
	fi
	mb_vm_args="--cpus $mb_vm_cpus --memory $mb_vm_mem --disk-cache none"
	# shellcheck disable=SC2016,SC2086 # $1 is the guest shell's; $mb_vm_args holds option words
	mb_vm_ver=$(TMPDIR=$mb_work timeout -s TERM 600 mdvm.sh run "$mb_vm" $mb_vm_args -- \
		sh -c 'sysbench --version && mkdir -p "$1" && echo "fstype: $(stat -f -c "%T %t" "$1")"' sh "$MB_FILEIO_DIR" 2>&1) || {
		mb_reason="mdvm.sh run $mb_vm failed: $(printf '%s\n' "$mb_vm_ver" | tail -n 1)"
		return 1
	}
	case $mb_vm_ver in
	*"sysbench 1."*) ;;
	*) mb_reason="no sysbench 1.x in $mb_vm (build it with --include sysbench): $(printf '%s\n' "$mb_vm_ver" | tail -n 1)"; return 1 ;;
	esac
	mb_vm_fs=$(printf '%s\n' "$mb_vm_ver" | sed -n 's/^fstype: //p' | mb_fs_name)
	mb_set env.vm.files "$MB_FILEIO_DIR in the guest, on $mb_vm_fs on its virtual disk (virtio, a qcow2 overlay on $mb_vm in the work directory, QEMU cache=none: no host page cache)"
	# The accelerator mdvm.sh used: TCG, QEMU's software emulation, when
	# it said so (no usable KVM), whose cpu figures are several times
	# below native for that reason alone; else KVM.
	if case $mb_vm_ver in *"using TCG"*) false ;; *) true ;; esac &&
		[ -r "${MDVM_KVM_DEVICE:-/dev/kvm}" ] && [ -w "${MDVM_KVM_DEVICE:-/dev/kvm}" ]; then
		mb_set env.vm.accel kvm
	else
		mb_set env.vm.accel tcg
	fi
	mb_set env.vm.setup "accelerator $(mb_get "$mb_out" env.vm.accel | tr '[:lower:]' '[:upper:]'); mdvm.sh run $mb_vm $mb_vm_args: QEMU $(qemu-system-x86_64 --version 2>/dev/null | awk 'NR == 1 { print $4 }') -smp $mb_vm_cpus -m $mb_vm_mem ($mb_vm_memwhy), the guest's own Debian kernel and a minimal init, one boot per run (the time marks include the boot)"
	mb_set env.vm.limits "-smp $mb_vm_cpus -m $mb_vm_mem"
	mb_set env.vm.sysbench "$(printf '%s\n' "$mb_vm_ver" | awk '/^sysbench/ { print $2; exit }')"
}

# Where the guest is kept between benchmarks (built once, minutes).
mb_default_vm_image() {
	echo "${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/minidocker/mdbench-vm.qcow2"
}

mb_env_exec_vm() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	# A guest that hangs must not hang the benchmark: mdvm.sh stops QEMU on
	# TERM. TMPDIR: the overlay goes into the work directory.
	# shellcheck disable=SC2086 # $mb_vm_args holds option words
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		env TMPDIR="$mb_work" timeout -s TERM $((180 + 20 * mb_time)) mdvm.sh run "$mb_vm" $mb_vm_args -- "$@"
}

mb_env_hostdir_vm() { :; }
mb_env_teardown_vm() { :; }

mb_env_teardown_all() {
	for mb_e in $mb_ready; do
		mb_env_teardown_"$mb_e" || true
	done
	mb_ready=
}

# ------------------------------------------------------------ parsing results

# One CSV field list (from events_per_s on) out of a sysbench output file.
mb_parse_sysbench() {
	awk '
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
	}' "$1"
}

# "NAME MAGIC" from stat -f to a name: busybox's stat calls overlayfs and
# others UNKNOWN, so the magic number (statfs(2)) names them.
mb_fs_name() {
	awk 'NR == 1 {
		n = $1; m = $NF
		if (n == "UNKNOWN" || n == "") {
			n = (m == "794c7630") ? "overlayfs" : (m == "ef53") ? "ext2/3/4" : (m == "1021994") ? "tmpfs" : \
			    (m == "858458f6") ? "ramfs" : (m == "9123683e") ? "btrfs" : (m == "58465342") ? "xfs" : "magic 0x" m
		}
		gsub(/,/, ";", n); print n
	}'
}

# ------------------------------------------------------------------ the runs

mb_cpu_args() {
	echo "cpu --threads=1 --cpu-max-prime=$mb_prime --events=$mb_events --time=$((mb_time * 10))"
}
mb_fileio_args() {
	mb_fa="fileio --threads=1 --file-total-size=$(mb_size_arg "$mb_size") --file-num=$mb_filenum"
	echo "$mb_fa"
}

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

mb_sync_drop() {
	sync
	[ "$mb_cache" = dropped ] || return 0
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || {
		md_warn "dropping the page cache failed: this run may read from the cache"
		return 0
	}
}

mb_run_cpu() {
	mb_env=$1 mb_i=$2
	mb_raw=$mb_out/raw/$mb_env-cpu-$mb_i.txt
	mb_t_start=$(mb_now)
	mb_rc=0
	# shellcheck disable=SC2046 # mb_cpu_args prints option words
	mb_env_exec_"$mb_env" "$mb_raw" "cpu run $mb_i/$mb_runs $mb_env" "$mb_expect_cpu" \
		sysbench $(mb_cpu_args) run || mb_rc=$?
	mb_t_end=$(mb_now)
	mb_st=ok
	[ "$mb_rc" = 0 ] || mb_st="failed(exit $mb_rc)"
	mb_record "$mb_env" cpu "$mb_i" "prime=$mb_prime events=$mb_events" "$mb_st" n/a -
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
	if mb_env_exec_"$mb_env" "$mb_raw.fs" "fstype $mb_env" 1 stat -f -c '%T %t' .; then
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
	mb_script="mkdir -p $MB_FILEIO_DIR && cd $MB_FILEIO_DIR && echo fstype: \$(stat -f -c '%T %t' .) && $mb_sb prepare >/dev/null && sync && echo 3 >/proc/sys/vm/drop_caches; $mb_sb --file-test-mode=$mb_mode --time=$mb_time --events=0 run; rc=\$?; $mb_sb cleanup >/dev/null; exit \$rc"
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

# ------------------------------------------------------------- calibration

# cpu: one event checks every number up to --cpu-max-prime for primality by
# trial division, so its cost grows like N^k, k between 1 and 1.5; short
# probes measure k on this machine and check the pick. fileio: a short probe measures how many
# MiB/s the mode moves; the data set is made at least twice what a full run
# touches, so that reads keep going to the disk.
mb_calibrate() {
	mb_cal=$mb_out/calibration.csv
	echo "test,probe,parameter,value,seconds,rate,unit" >"$mb_cal"
	mb_probe_t=3
	[ "$mb_quick" = 0 ] || mb_probe_t=1
	mb_lo=30 mb_hi=60
	case ,$mb_tests, in *,cpu,*) mb_calibrate_cpu ;; esac
	case ,$mb_tests, in *,fileio,*) mb_calibrate_fileio ;; esac
}

mb_cpu_probe() {
	mb_pr=$mb_work/probe.txt
	mb_env_exec_native "$mb_pr" "calibrating cpu, prime $1" "$mb_probe_t" \
		sysbench cpu --threads=1 --cpu-max-prime="$1" --time="$mb_probe_t" --events=0 run ||
		mb_die "calibration: sysbench cpu --cpu-max-prime=$1 failed"
	mb_rate=$(awk '/events per second:/ { print $NF }' "$mb_pr")
	echo "cpu,$2,cpu-max-prime,$1,$mb_probe_t,$mb_rate,events/s" >>"$mb_cal"
}

mb_calibrate_cpu() {
	mb_target=$mb_time
	mb_cpu_probe 20000 1
	mb_pa=20000 mb_ra=$mb_rate
	mb_cpu_probe 40000 2
	mb_pb=40000 mb_rb=$mb_rate
	# rate ~ N^-k, k measured between the last two probes (it grows with N:
	# bigger numbers need more trial divisions); aim at the target, probe
	# there, repeat until the pick lasts 30-60 s (at most 4 more probes).
	mb_n=3
	while :; do
		mb_prime=$(awk -v pa="$mb_pa" -v ra="$mb_ra" -v pb="$mb_pb" -v rb="$mb_rb" \
			-v e="$mb_events" -v t="$mb_target" 'BEGIN {
			k = (pa != pb && ra != rb) ? log(ra / rb) / log(pb / pa) : 1.5
			if (k < 0.8) k = 0.8; if (k > 2.5) k = 2.5
			n = pb * exp(log(rb / (e / t)) / k)
			if (n < 1000) n = 1000; if (n > 100000000) n = 100000000
			printf "%d\n", int(n / 1000 + 0.5) * 1000 }')
		mb_cpu_probe "$mb_prime" "$mb_n"
		mb_pred=$(awk -v r="$mb_rate" -v e="$mb_events" 'BEGIN { printf "%.1f", e / r }')
		# Inside the range with a margin, since a real run varies a little.
		if awk -v p="$mb_pred" -v lo="$mb_lo" -v hi="$mb_hi" 'BEGIN { exit !(p >= lo * 1.1 && p <= hi * 0.9) }'; then
			break
		fi
		[ "$mb_n" -lt 6 ] || break
		mb_pa=$mb_pb mb_ra=$mb_rb mb_pb=$mb_prime mb_rb=$mb_rate
		mb_n=$((mb_n + 1))
	done
	if awk -v p="$mb_pred" -v lo="$mb_lo" -v hi="$mb_hi" 'BEGIN { exit !(p < lo || p > hi) }'; then
		md_warn "calibration: --cpu-max-prime=$mb_prime still takes about $mb_pred s, outside $mb_lo-$mb_hi s (is the machine busy?)"
	fi
	echo "cpu,chosen,cpu-max-prime,$mb_prime,$mb_pred,$mb_rate,events/s" >>"$mb_cal"
	mb_set param.cpu_max_prime "$mb_prime"
	mb_set calibration.cpu "--cpu-max-prime=$mb_prime: $mb_events events at $mb_rate events/s take about $mb_pred s natively (target $mb_target s, range $mb_lo-$mb_hi s)"
	mb_say "calibrated: --cpu-max-prime=$mb_prime ($mb_events events in about $mb_pred s)"
}

mb_calibrate_fileio() {
	mb_psize=268435456
	[ "$mb_quick" = 0 ] || mb_psize=16777216
	mb_save_size=$mb_size mb_size=$mb_psize
	mb_fa=$(mb_fileio_args)
	mb_extra=
	[ "$mb_cache" != direct ] || mb_extra=--file-extra-flags=direct
	mb_pr=$mb_work/probe.txt
	mb_pt0=$(mb_now)
	# shellcheck disable=SC2086 # option words
	mb_env_exec_native "$mb_pr" "calibrating fileio prepare" 5 sysbench $mb_fa $mb_extra prepare ||
		mb_die "calibration: sysbench fileio prepare failed"
	mb_pt=$(awk -v a="$mb_pt0" -v b="$(mb_now)" 'BEGIN { printf "%.2f", b - a }')
	mb_sync_drop
	# shellcheck disable=SC2086 # option words
	mb_env_exec_native "$mb_pr" "calibrating fileio $mb_mode" "$mb_probe_t" sysbench $mb_fa $mb_extra \
		--file-test-mode="$mb_mode" --time="$mb_probe_t" --events=0 run ||
		mb_die "calibration: sysbench fileio run failed"
	# shellcheck disable=SC2086 # option words
	mb_env_exec_native "$mb_work/cleanup.txt" "calibrating fileio cleanup" 1 sysbench $mb_fa cleanup || true
	rm -f "$mb_native_dir"/test_file.*
	mb_mibs=$(awk '/read, MiB\/s:|written, MiB\/s:/ { s += $NF } END { printf "%.2f", s }' "$mb_pr")
	echo "fileio,prepare,file-total-size,$mb_psize,$mb_pt,$(awk -v s="$mb_psize" -v t="$mb_pt" 'BEGIN { printf "%.1f", s / 1048576 / t }'),MiB/s" >>"$mb_cal"
	echo "fileio,1,file-total-size,$mb_psize,$mb_probe_t,$mb_mibs,MiB/s" >>"$mb_cal"
	# Twice the data a full run moves, a power of two, within 256 MiB and half
	# the free space (--quick: 16 MiB).
	mb_free=$(df -Pk "$mb_native_dir" | awk 'NR == 2 { print $4 * 1024 }')
	mb_size=$(awk -v m="$mb_mibs" -v t="$mb_time" -v lo="$mb_psize" -v free="$mb_free" 'BEGIN {
		want = 2 * m * t * 1048576; s = lo
		while (s < want && s * 2 <= free / 2) s *= 2
		printf "%.0f\n", s }')
	[ "$mb_quick" = 0 ] || mb_size=$mb_psize
	echo "fileio,chosen,file-total-size,$mb_size,$mb_time,$mb_mibs,MiB/s" >>"$mb_cal"
	mb_set param.file_total_size "$mb_size"
	mb_set calibration.fileio "--file-total-size=$(mb_size_arg "$mb_size"): $mb_mode moved $mb_mibs MiB/s in a ${mb_probe_t} s probe, so a $mb_time s run touches about $(awk -v m="$mb_mibs" -v t="$mb_time" 'BEGIN { printf "%.0f", m * t }') MiB; the data set is at least twice that (was $(mb_size_arg "$mb_save_size") before calibrating)"
	mb_say "calibrated: --file-total-size=$(mb_size_arg "$mb_size")"
}

# ------------------------------------------------------------- the machine

mb_describe_machine() {
	mb_set mdbench.version "$MB_VERSION"
	mb_set date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	mb_set start_epoch "$(mb_now)"
	mb_set host "$(uname -n)"
	mb_set os "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
	mb_set kernel "$(uname -sr)"
	mb_set cpu.model "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	mb_set cpu.cores "$(nproc)"
	mb_set memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	mb_set memory_bytes "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)"
	if [ -n "$mb_native_disk" ]; then
		mb_d=/sys/block/$mb_native_disk
		mb_set disk "$mb_native_disk, $(awk '{ printf "%.1f GiB", $1 * 512 / 1073741824 }' "$mb_d/size" 2>/dev/null), $(if [ "$(cat "$mb_d/queue/rotational" 2>/dev/null)" = 1 ]; then echo rotational; else echo non-rotational; fi)$(sed 's/^/, /;s/ *$//' "$mb_d/device/model" 2>/dev/null)"
	fi
	mb_set version.sysbench "$(sysbench --version 2>/dev/null)"
	mb_set version.sysstat "$(iostat -V 2>&1 | awk 'NR == 1')"
	mb_set version.gnuplot "$(gnuplot --version 2>/dev/null)"
	mb_v=$(docker version --format '{{.Server.Version}}' 2>/dev/null) || mb_v="no daemon answers"
	mb_set version.docker "$(docker --version 2>/dev/null || echo 'not installed'); server: $mb_v"
	mb_set version.qemu "$(qemu-system-x86_64 --version 2>/dev/null | awk 'NR == 1' || true)"
	mb_set user "$(id -un) (uid $(id -u))"
}

mb_record_params() {
	mb_set param.tests "$mb_tests"
	mb_set param.runs "$mb_runs"
	mb_set param.cpu_max_prime "$mb_prime"
	mb_set param.cpu_events "$mb_events"
	mb_set param.time "$mb_time"
	mb_set param.file_total_size "$mb_size"
	mb_set param.file_num "$mb_filenum"
	mb_set param.file_test_mode "$mb_mode"
	mb_set param.cache "$mb_cache"
	mb_set param.cache_reason "$mb_cache_reason"
	mb_set param.quick "$mb_quick"
	mb_set param.calibrated "$mb_calibrate"
	mb_set param.limits "${mb_cpus:+cpus=$mb_cpus }${mb_memory:+memory=$mb_memory}"
}

# ------------------------------------------------------------------- report

# Everything below reads only DIR: results.csv, env.txt, calibration.csv,
# iostat/host.json. Nothing is remembered from the run.

# Per test and environment over the ok rows: n mean sd min max cv% of the
# test's main metric (cpu: events/s; fileio: read + written MiB/s).
mb_stats() {
	awk -F, -v test="$2" '
	NR == 1 || $2 != test || $6 != "ok" { next }
	{
		v = (test == "cpu") ? $8 : $16 + $17
		e = $1; if (!(e in n)) order[++ne] = e
		n[e]++; s[e] += v; ss[e] += v * v
		if (!(e in mn) || v < mn[e]) mn[e] = v
		if (!(e in mx) || v > mx[e]) mx[e] = v
	}
	END {
		for (i = 1; i <= ne; i++) {
			e = order[i]; m = s[e] / n[e]
			var = (n[e] > 1) ? (ss[e] - n[e] * m * m) / (n[e] - 1) : 0
			sd = (var > 0) ? sqrt(var) : 0
			printf "%s %d %.4f %.4f %.4f %.4f %.2f\n", e, n[e], m, sd, mn[e], mx[e], (m > 0) ? 100 * sd / m : 0
		}
	}' "$1/results.csv"
}

# iostat JSON (one sample a line group, as sysstat writes it) to columns:
# seconds-since-start user system iowait idle r/s w/s rkB/s wkB/s util.
mb_iostat_table() {
	[ -f "$1/iostat/host.json" ] || return 0
	awk -v dev="$(mb_get "$1" iostat.device)" -v t0="$(mb_get "$1" start_epoch)" '
	function field(line, key,   i, rest) {
		i = index(line, "\"" key "\": "); if (!i) return ""
		rest = substr(line, i + length(key) + 4); sub(/[,}].*/, "", rest)
		gsub(/"/, "", rest); return rest
	}
	# days from 1970-01-01 for a civil date (proleptic Gregorian).
	function days(y, m, d) {
		if (m <= 2) { y--; m += 12 }
		return 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d - 719469
	}
	function flush() { if (ts != "") printf "%.0f %s %s %s %s %s %s %s %s %s\n", ts - t0, u, sy, io, idl, r, w, rk, wk, ut }
	/"timestamp":/ {
		flush()
		s = field($0, "timestamp")
		ts = days(substr(s, 1, 4), substr(s, 6, 2) + 0, substr(s, 9, 2) + 0) * 86400 + substr(s, 12, 2) * 3600 + substr(s, 15, 2) * 60 + substr(s, 18, 2)
		r = w = rk = wk = ut = 0; seen = 0
	}
	/"avg-cpu":/ { u = field($0, "user"); sy = field($0, "system"); io = field($0, "iowait"); idl = field($0, "idle") }
	/"disk_device":/ {
		d = field($0, "disk_device")
		if (dev == "" ? !seen : d == dev) {
			r = field($0, "r/s"); w = field($0, "w/s"); rk = field($0, "rkB/s"); wk = field($0, "wkB/s"); ut = field($0, "util"); seen = 1
		}
	}
	END { flush() }' "$1/iostat/host.json"
}

# Mean iostat columns over the samples inside env $3's runs of test $2. A
# sample at t covers (t-1, t].
mb_iostat_during() {
	awk -F, -v test="$2" -v env="$3" -v t0="$(mb_get "$1" start_epoch)" '
	FNR == NR { if (FNR > 1 && $2 == test && $1 == env) { a[++n] = $4 - t0; b[n] = $5 - t0 } ; next }
	{
		split($0, f, " "); t = f[1]
		for (i = 1; i <= n; i++) if (t - 1 >= a[i] - 0.5 && t <= b[i] + 0.5) {
			k++; for (j = 2; j <= 10; j++) sum[j] += f[j]; break
		}
	}
	END {
		if (!k) { print "-"; exit }
		printf "%d", k; for (j = 2; j <= 10; j++) printf " %.1f", sum[j] / k; printf "\n"
	}' "$1/results.csv" "$1/plots/iostat.dat"
}

mb_gnuplot_term() {
	case $1 in
	png) echo "set terminal pngcairo size 1000,$2 font 'DejaVu Sans,11' noenhanced" ;;
	svg) echo "set terminal svg size 1000,$2 dynamic font 'DejaVu Sans,11' noenhanced" ;;
	esac
}

# A bar per environment, the mean, with the standard deviation as error bar.
mb_plot_bars() {
	mb_dir=$1 mb_t=$2 mb_ylabel=$3
	mb_stats "$mb_dir" "$mb_t" >"$mb_dir/plots/$mb_t.dat"
	[ -s "$mb_dir/plots/$mb_t.dat" ] || return 0
	for mb_fmt in png svg; do
		{
			mb_gnuplot_term "$mb_fmt" 600
			cat <<EOF
set output '$mb_dir/plots/$mb_t.$mb_fmt'
set title "sysbench $mb_t: mean of $(mb_get "$mb_dir" param.runs) runs per environment, error bars = 1 standard deviation"
set xlabel 'environment'
set ylabel '$mb_ylabel'
set yrange [0:*]
set xrange [-0.6:$(($(wc -l <"$mb_dir/plots/$mb_t.dat") - 1)).6]
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set key top right
plot '$mb_dir/plots/$mb_t.dat' using 0:3:4:xtic(1) with boxerrorbars lc rgb '#4472c4' title 'mean +/- 1 sd', \
     '' using 0:(\$3 / 2):(sprintf('%.1f +/- %.1f', \$3, \$4)) with labels notitle
EOF
		} | gnuplot 2>>"$mb_dir/plots/gnuplot.err" || md_warn "gnuplot failed for plots/$mb_t.$mb_fmt (see plots/gnuplot.err)"
	done
}

# CPU and disk over time during test $2, each run's window shaded and named.
mb_plot_iostat() {
	mb_dir=$1 mb_t=$2
	[ -s "$mb_dir/plots/iostat.dat" ] || return 0
	mb_marks=$(awk -F, -v test="$mb_t" -v t0="$(mb_get "$mb_dir" start_epoch)" '
		NR > 1 && $2 == test {
			e = $1; if (!(e in c)) c[e] = ++ne
			printf "set object %d rect from %.1f, graph 0 to %.1f, graph 1 fc rgb \"%s\" fs solid 0.15 noborder behind\n", NR, $4 - t0, $5 - t0, (c[e] == 1 ? "#2ca02c" : c[e] == 2 ? "#ff7f0e" : c[e] == 3 ? "#1f77b4" : "#d62728")
			printf "set label %d \"%s %s\" at %.1f, graph 0.97 rotate by 90 right offset 1,0 font \",8\"\n", NR, e, $3, $4 - t0
			if (lo == "" || $4 - t0 < lo) lo = $4 - t0
			if ($5 - t0 > hi) hi = $5 - t0
		}
		END { if (lo != "") printf "set xrange [%.0f:%.0f]\n", lo - 2, hi + 2 }' "$mb_dir/results.csv")
	[ -n "$mb_marks" ] || return 0
	mb_dev=$(mb_get "$mb_dir" iostat.device)
	for mb_fmt in png svg; do
		{
			mb_gnuplot_term "$mb_fmt" 900
			cat <<EOF
set output '$mb_dir/plots/iostat-$mb_t.$mb_fmt'
set multiplot layout 3,1 title "host iostat during the $mb_t test (shaded: each run, start to end)"
$mb_marks
set xlabel 'seconds since the benchmark started'
set lmargin 12
set rmargin 20
set grid
set key outside right
set ylabel 'CPU (%)'
set yrange [0:100]
set title 'CPU, all cores'
plot '$mb_dir/plots/iostat.dat' using 1:2 with lines lw 2 title '%user', '' using 1:3 with lines lw 2 title '%system', '' using 1:4 with lines lw 2 title '%iowait', '' using 1:5 with lines lw 2 title '%idle'
set yrange [0:*]
set title 'disk ${mb_dev:-?}: requests'
set ylabel 'requests/s'
plot '' using 1:6 with lines lw 2 title 'r/s', '' using 1:7 with lines lw 2 title 'w/s'
set title 'disk ${mb_dev:-?}: throughput and utilisation'
set ylabel 'kB/s'
set y2label '%util'
set y2range [0:100]
set y2tics
plot '' using 1:8 with lines lw 2 title 'rkB/s', '' using 1:9 with lines lw 2 title 'wkB/s', '' using 1:10 axes x1y2 with lines lw 1 dt 2 title '%util'
unset multiplot
EOF
		} | gnuplot 2>>"$mb_dir/plots/gnuplot.err" || md_warn "gnuplot failed for plots/iostat-$mb_t.$mb_fmt (see plots/gnuplot.err)"
	done
}

mb_is_outdir() { [ -f "$1/results.csv" ] && [ -f "$1/env.txt" ]; }

mb_report() {
	mb_dir=${1%/}
	mb_is_outdir "$mb_dir" ||
		mb_die "report: $mb_dir has no results.csv and env.txt (not an mdbench.sh output directory)"
	# A student's results, reported by root, would have root write through
	# the links that student may have left in them.
	mb_safe "report: $mb_dir" "$mb_dir" "run report as the directory's owner"
	[ ! -L "$mb_dir/plots" ] || mb_die "report: $mb_dir/plots is a symbolic link"
	mkdir -p "$mb_dir/plots"
	rm -f "$mb_dir/plots/gnuplot.err"
	mb_iostat_table "$mb_dir" >"$mb_dir/plots/iostat.dat"
	if command -v gnuplot >/dev/null 2>&1; then
		mb_plot_bars "$mb_dir" cpu 'events per second (higher is better)'
		mb_plot_bars "$mb_dir" fileio 'MiB/s read + written (higher is better)'
		mb_plot_iostat "$mb_dir" cpu
		mb_plot_iostat "$mb_dir" fileio
	else
		md_warn "report: gnuplot is not installed: no plots (sudo apt-get install gnuplot-nox)"
	fi
	mb_report_md "$mb_dir" >"$mb_dir/report.md"
	mb_md2html <"$mb_dir/report.md" >"$mb_dir/report.html"
	mb_say "report: $mb_dir/report.md, $mb_dir/report.html"
}

mb_kv() { printf -- '- **%s**: %s\n' "$1" "$(mb_get "$mb_dir" "$2")"; }

mb_report_md() {
	mb_dir=$1
	cat <<EOF
# sysbench: native, minidocker, Docker and a QEMU VM

Made by mdbench.sh $(mb_get "$mb_dir" mdbench.version) on $(mb_get "$mb_dir" date), from the data in this directory (\`mdbench.sh report DIR\` rebuilds it).

## The machine

EOF
	mb_kv host host; mb_kv OS os; mb_kv kernel kernel; mb_kv CPU cpu.model; mb_kv cores cpu.cores
	mb_kv memory memory; mb_kv disk disk; mb_kv sysbench version.sysbench; mb_kv iostat version.sysstat
	mb_kv docker version.docker; mb_kv QEMU version.qemu; mb_kv gnuplot version.gnuplot; mb_kv "run by" user
	printf '\n## Environments\n\n'
	for mb_e in $MB_ENVS_ALL; do
		mb_s=$(mb_get "$mb_dir" "env.$mb_e.status")
		[ -n "$mb_s" ] || continue
		if [ "$mb_s" = ok ]; then
			mb_cg=$(mb_get "$mb_dir" "env.$mb_e.cgroup")
			printf -- '- **%s**: %s. Test files: %s. sysbench %s.%s\n' "$mb_e" \
				"$(mb_get "$mb_dir" "env.$mb_e.setup")" "$(mb_get "$mb_dir" "env.$mb_e.files")" \
				"$(mb_get "$mb_dir" "env.$mb_e.sysbench")" "${mb_cg:+ CPU cgroup: $mb_cg.}"
		else
			printf -- '- **%s**: skipped: %s\n' "$mb_e" "$(mb_get "$mb_dir" "env.$mb_e.reason")"
		fi
	done
	mb_report_params
	for mb_t in cpu fileio; do
		grep -q "^[^,]*,$mb_t," "$mb_dir/results.csv" || continue
		mb_report_test "$mb_t"
	done
	mb_report_iostat
}

mb_report_params() {
	mb_tt=$(mb_get "$mb_dir" param.time)
	printf '\n## Parameters and why\n\n'
	printf 'Every environment runs the same sysbench command with one thread, %s runs each, the environments taking turns run by run (A B C A B C ...) so that drift in the machine favours none of them.\n\n' "$(mb_get "$mb_dir" param.runs)"
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf -- '- **cpu**: `sysbench cpu --threads=1 --cpu-max-prime=%s --events=%s --time=%s run`: a fixed amount of work, as in the sysbench 0.4 of the lab, so the run time itself is a result; the --time is only a cap (10 times the target).\n' \
		"$(mb_get "$mb_dir" param.cpu_max_prime)" "$(mb_get "$mb_dir" param.cpu_events)" "$((mb_tt * 10))"
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf -- '- **fileio**: `sysbench fileio --threads=1 --file-total-size=%s --file-num=%s --file-test-mode=%s --time=%s --events=0 run` after `prepare` in the same environment and directory, `cleanup` after.\n' \
		"$(mb_size_arg "$(mb_get "$mb_dir" param.file_total_size)")" "$(mb_get "$mb_dir" param.file_num)" \
		"$(mb_get "$mb_dir" param.file_test_mode)" "$mb_tt"
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	case $(mb_get "$mb_dir" param.cache) in
	dropped) printf -- '- **page cache**: run as root, so before every fileio run the host did `sync; echo 3 > /proc/sys/vm/drop_caches` (the VM does the same inside the guest): each run starts from the disk, not from memory.\n' ;;
	direct) printf -- '- **page cache**: fileio used `--file-extra-flags=direct` (O_DIRECT), bypassing the page cache: %s.\n' "$(mb_get "$mb_dir" param.cache_reason)" ;;
	*) printf -- '- **page cache**: NOT dropped and no direct I/O (%s): fileio numbers may come from memory.\n' "$(mb_get "$mb_dir" param.cache_reason)" ;;
	esac
	[ "$(mb_get "$mb_dir" param.quick)" != 1 ] ||
		printf -- '- **--quick**: tiny parameters to test the harness in seconds; these numbers say little about the machine.\n'
	mb_lim=$(mb_get "$mb_dir" param.limits)
	printf -- '- **limits**: %s\n' "${mb_lim:-none: every environment may use every CPU and all memory}"
	if [ "$(mb_get "$mb_dir" param.calibrated)" = 1 ] && [ -f "$mb_dir/calibration.csv" ]; then
		printf '\n### Calibration\n\n'
		[ -z "$(mb_get "$mb_dir" calibration.cpu)" ] || printf -- '- %s\n' "$(mb_get "$mb_dir" calibration.cpu)"
		[ -z "$(mb_get "$mb_dir" calibration.fileio)" ] || printf -- '- %s\n' "$(mb_get "$mb_dir" calibration.fileio)"
		printf '\n| test | probe | parameter | value | seconds | rate | unit |\n|---|---|---|---|---|---|---|\n'
		awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$mb_dir/calibration.csv"
	else
		# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
		printf -- '- **not calibrated**: `--calibrate` measures this machine and picks --cpu-max-prime and --file-total-size for 30-60 s runs.\n'
	fi
}

mb_report_test() {
	mb_t=$1
	if [ "$mb_t" = cpu ]; then mb_unit="events/s"; else mb_unit="MiB/s (read + written)"; fi
	printf '\n## %s\n\n### Every run\n\n' "$mb_t"
	if [ "$mb_t" = cpu ]; then
		printf '| environment | run | status | events/s | total time (s) | events | latency avg (ms) | p95 (ms) |\n|---|---|---|---|---|---|---|---|\n'
		awk -F, 'NR > 1 && $2 == "cpu" { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $6, $8, $9, $10, $11, $12 }' "$mb_dir/results.csv"
	else
		printf '| environment | run | status | read MiB/s | written MiB/s | reads/s | writes/s | fsyncs/s | cache | filesystem |\n|---|---|---|---|---|---|---|---|---|---|\n'
		awk -F, 'NR > 1 && $2 == "fileio" { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $6, $16, $17, $13, $14, $15, $18, $19 }' "$mb_dir/results.csv"
	fi
	printf '\n### Summary: %s\n\n' "$mb_unit"
	printf '| environment | runs | mean ± sd | min | max | CV | overhead vs native |\n|---|---|---|---|---|---|---|\n'
	mb_stats "$mb_dir" "$mb_t" | awk -v vmacc="$(mb_get "$mb_dir" env.vm.accel)" '
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
			print "Overhead: how much lower the mean is than native'"'"'s, in percent of native (positive: slower)."
			if (vmacc == "tcg" && ("vm" in seen)) print "\nThe vm ran under TCG, QEMU'"'"'s software emulation (no KVM for this user): its overhead is mostly the translation of every guest instruction, not the cost of virtualisation with KVM."
			if (vmacc == "kvm" && ("vm" in seen)) print "\nThe vm ran with KVM: its overhead is that of hardware virtualisation (and, for fileio, of its virtual disk)."
			if (hi != "") printf "\n**Flagged**: the coefficient of variation is above 5%% for%s: those means are not steady; look at the runs and the iostat plot for interference.\n", hi
			if (few != "") printf "\n**Fewer than 3 good runs** for%s: not enough for the report.\n", few
		}'
	if [ "$mb_t" = cpu ]; then
		awk -F, -v t="$(mb_get "$mb_dir" param.time)" 'NR > 1 && $1 == "native" && $2 == "cpu" && $6 == "ok" { s += $9; n++ }
			END { if (n && (s / n < 30 || s / n > 60)) printf "\nA native cpu run lasted %.2f s on average, outside the 30-60 s the lab asks for: use --calibrate for a full run.\n", s / n }' "$mb_dir/results.csv"
	fi
	mb_failed=$(awk -F, -v t="$mb_t" 'NR > 1 && $2 == t && $6 != "ok"' "$mb_dir/results.csv" | wc -l)
	[ "$mb_failed" = 0 ] || printf '\n%s run(s) failed: their sysbench output is in raw/.\n' "$mb_failed"
	[ ! -f "$mb_dir/plots/$mb_t.png" ] || printf '\n![%s: mean and standard deviation per environment](plots/%s.png)\n' "$mb_t" "$mb_t"
}

mb_report_iostat() {
	printf '\n## What iostat saw on the host\n\n'
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf 'Command: `%s`, on the host for the whole benchmark. Not in the containers: they share the host kernel, so iostat there would show the same host-wide counters (when the image has it at all); a VM would see only its virtual CPUs and disk. Only the host sees the real disk that every environment'"'"'s I/O lands on, and the host CPU that every environment uses.\n\n' \
		"$(mb_get "$mb_dir" iostat.command)"
	if [ ! -s "$mb_dir/plots/iostat.dat" ]; then
		printf 'No iostat samples were recorded.\n'
		return 0
	fi
	mb_cores=$(mb_get "$mb_dir" cpu.cores)
	printf 'Means over the samples inside each environment'"'"'s runs (disk %s):\n\n' "$(mb_get "$mb_dir" iostat.device)"
	printf '| test | environment | samples | %%user | %%system | %%iowait | %%idle | r/s | w/s | rkB/s | wkB/s | %%util |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n'
	for mb_t in cpu fileio; do
		for mb_e in $MB_ENVS_ALL; do
			grep -q "^$mb_e,$mb_t," "$mb_dir/results.csv" || continue
			mb_io=$(mb_iostat_during "$mb_dir" "$mb_t" "$mb_e")
			[ "$mb_io" != - ] || continue
			# shellcheck disable=SC2086 # $mb_io is a list of numbers
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$mb_t" "$mb_e" $mb_io
			echo "$mb_t $mb_e $mb_io" >>"$mb_dir/plots/iostat-means.tmp"
		done
	done
	printf '\n'
	if [ -f "$mb_dir/plots/iostat-means.tmp" ]; then
		awk -v cores="$mb_cores" -v results="$mb_dir/results.csv" '
		BEGIN { FS = ","; while ((getline l < results) > 0) { split(l, f, ","); if (f[2] == "fileio" && f[6] == "ok") { rd[f[1]] += f[16]; nr[f[1]]++ } } FS = " " }
		$1 == "cpu" {
			busy = $4 + $5
			printf "- **cpu, %s**: %%user + %%system = %.0f%%; one sysbench thread can keep one of %d cores busy, %.0f%% of the machine", $2, busy, cores, 100 / cores
			if (busy > 100 / cores + 10) printf ", so %.0f%% was other work (QEMU'"'"'s own threads for the vm, or other load on the machine)", busy - 100 / cores
			printf "; %%iowait %.1f%%: the cpu test does no I/O.\n", $6
		}
		$1 == "fileio" {
			sbr = nr[$2] ? rd[$2] / nr[$2] : 0; dr = $10 / 1024
			s = sprintf("- **fileio, %s**: %%iowait %.1f%% and %%util %.0f%%: ", $2, $6, $12)
			if ($6 >= 10) s = s "the CPU often sat waiting for the disk. "; else if ($6 >= 2) s = s "some waiting for the disk. "; else s = s "little waiting for the disk. "
			if (sbr > 0) {
				s = s sprintf("sysbench read %.1f MiB/s, the disk delivered %.1f MiB/s (%.0f%%)", sbr, dr, 100 * dr / sbr)
				if (dr < 0.2 * sbr) s = s ": most reads were served from memory (the files fit in a page cache: the guest'"'"'s, the host'"'"'s if not dropped, or a RAM-backed directory), not from the disk."
				else if (dr > 1.2 * sbr) s = s ": reads went to the disk, which also served readahead and any other process'"'"'s I/O."
				else s = s ": reads went to the disk."
			}
			print s
		}' "$mb_dir/plots/iostat-means.tmp"
		# A saturated host: the runs competed with other work for the CPU.
		awk '$1 == "cpu" && $7 < 5 { busy = busy " " $2 } END {
			if (busy != "") printf "\n**The host CPU was saturated** (under 5%% idle) during the cpu runs of%s: other work competed, so those numbers measure the competition as much as the environment. Under contention the kernel (CFS group scheduling) shares CPU time between cgroups first, so a process in a cgroup of its own (a container) can get more than one in a crowded cgroup (native, in the root group): see each environment'"'"'s CPU cgroup above. Measure on an idle machine.\n", busy
		}' "$mb_dir/plots/iostat-means.tmp"
		rm -f "$mb_dir/plots/iostat-means.tmp"
	fi
	for mb_t in cpu fileio; do
		[ ! -f "$mb_dir/plots/iostat-$mb_t.png" ] ||
			printf '\n![host CPU and disk during the %s test](plots/iostat-%s.png)\n' "$mb_t" "$mb_t"
	done
	# shellcheck disable=SC2016 # the backquotes are Markdown code, not a command
	printf '\nThe data: `results.csv` (one row per run, start and end as Unix time), `iostat/host.json`, `env.txt`, `raw/` (each sysbench output), `plots/*.dat` (what the plots show).\n'
}

# Markdown to HTML for exactly what mb_report_md writes: headings, lists,
# tables, images (the SVG in the browser), paragraphs, `code`, **bold**.
mb_md2html() {
	awk '
	function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
	function inline(s,   out, i) {
		s = esc(s)
		while (match(s, /`[^`]*`/)) s = substr(s, 1, RSTART - 1) "<code>" substr(s, RSTART + 1, RLENGTH - 2) "</code>" substr(s, RSTART + RLENGTH)
		while (match(s, /\*\*[^*]*\*\*/)) s = substr(s, 1, RSTART - 1) "<strong>" substr(s, RSTART + 2, RLENGTH - 4) "</strong>" substr(s, RSTART + RLENGTH)
		return s
	}
	function close_all() {
		if (inlist) print "</ul>"; if (intable) print "</tbody></table>"; if (inpara) print "</p>"
		inlist = intable = inpara = 0
	}
	BEGIN {
		print "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mdbench report</title>"
		print "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .5em;text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}code{background:#eee}</style>"
		print "</head><body>"
	}
	/^#+ / { close_all(); l = index($0, " ") - 1; printf "<h%d>%s</h%d>\n", l, inline(substr($0, l + 2)), l; next }
	/^!\[/ {
		close_all(); alt = $0; sub(/^!\[/, "", alt); sub(/\].*/, "", alt)
		src = $0; sub(/.*\(/, "", src); sub(/\).*/, "", src); sub(/\.png$/, ".svg", src)
		printf "<p><img src=\"%s\" alt=\"%s\"></p>\n", src, esc(alt); next
	}
	/^\|/ {
		if (inlist || inpara) close_all()
		if ($0 ~ /^\|(---\|)+$/) next
		n = split($0, c, "|")
		if (!intable) { print "<table><thead><tr>"; for (i = 2; i < n; i++) printf "<th>%s</th>", inline(c[i]); print "</tr></thead><tbody>"; intable = 1; next }
		printf "<tr>"; for (i = 2; i < n; i++) printf "<td>%s</td>", inline(c[i]); print "</tr>"; next
	}
	/^- / { if (intable || inpara) close_all(); if (!inlist) { print "<ul>"; inlist = 1 }; printf "<li>%s</li>\n", inline(substr($0, 3)); next }
	/^$/ { close_all(); next }
	{ if (intable || inlist) close_all(); if (!inpara) { printf "<p>"; inpara = 1 } else printf " "; printf "%s", inline($0); next }
	END { close_all(); print "</body></html>" }'
}

# ------------------------------------------------------------------ compare

# The same summary tables for several output directories (several machines).
mb_compare() {
	[ $# -ge 1 ] || md_usage_error "compare: name at least one output directory"
	for mb_d in "$@"; do
		mb_is_outdir "$mb_d" ||
			mb_die "compare: $mb_d has no results.csv and env.txt (not an mdbench.sh output directory)"
	done
	printf '# sysbench across machines\n\n| directory | host | CPU | cores | memory | kernel | date |\n|---|---|---|---|---|---|---|\n'
	for mb_d in "$@"; do
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$mb_d" "$(mb_get "$mb_d" host)" "$(mb_get "$mb_d" cpu.model)" \
			"$(mb_get "$mb_d" cpu.cores)" "$(mb_get "$mb_d" memory)" "$(mb_get "$mb_d" kernel)" "$(mb_get "$mb_d" date)"
	done
	for mb_t in cpu fileio; do
		if [ "$mb_t" = cpu ]; then mb_unit="events/s"; else mb_unit="MiB/s read + written"; fi
		printf '\n## %s: mean ± sd (%s), overhead vs native of the same machine\n\n| environment |' "$mb_t" "$mb_unit"
		for mb_d in "$@"; do printf ' %s (%s) |' "$mb_d" "$(mb_get "$mb_d" host)"; done
		printf '\n|---|'
		for mb_d in "$@"; do printf -- '---|'; done
		printf '\n'
		for mb_e in $MB_ENVS_ALL; do
			mb_row="| $mb_e |" mb_any=0
			for mb_d in "$@"; do
				mb_cell=$(mb_stats "$mb_d" "$mb_t" | awk -v e="$mb_e" '
					$1 == "native" { base = $3 } $1 == e { m = $3; sd = $4; n = $2 }
					END {
						if (m == "") { print "-"; exit }
						o = (e != "native" && base > 0) ? sprintf(" (%+.1f%%)", 100 * (base - m) / base) : ""
						printf "%.2f ± %.2f, n=%d%s\n", m, sd, n, o }')
				[ "$mb_cell" = - ] || mb_any=1
				mb_row="$mb_row $mb_cell |"
			done
			[ "$mb_any" = 0 ] || printf '%s\n' "$mb_row"
		done
	done
}

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
		-h | --help) md_help "$0"; exit 0 ;;
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

# ---------------------------------------------------------------------- main

# The output directory (SECURITY.md 50). The default name is one anybody
# can predict, in a directory anybody may share (sudo in a student's lab
# directory): it is made fresh, and an existing one, a link or a directory
# planted there is never written into. An existing --out is reused only
# when it is the caller's own real directory. As root, its path must be
# one no other user can change (md_root_safe_dir). Files are created with
# noclobber: a name taken in the new directory is an error, never followed.
mb_prepare_out() {
	if [ -z "$mb_out" ] && [ "$mb_calibrate_only" = 1 ]; then
		mb_out=$(mktemp -d "${TMPDIR:-/tmp}/mdbench-calibrate.XXXXXX") || mb_die "cannot create a temporary directory"
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
	{ mkdir -p "$mb_out/raw" && : >"$mb_out/env.txt" && echo "$MB_CSV_HEADER" >"$mb_out/results.csv"; } ||
		mb_die "cannot create the files of $mb_out (raw/, env.txt and results.csv must be new)"
	set +C
	mb_work=$(mktemp -d "$mb_out/.work.XXXXXX")
}

# The disks iostat watches: those under the test files of every environment.
# The native one comes first: the plots show it.
mb_watch_disks() {
	mb_disks=$mb_native_disk
	for mb_p in "$mb_md_dir" "$mb_dk_rootdir" "$mb_vm"; do
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
	mb_iostat_start
	if [ "$mb_calibrate" = 1 ]; then
		case " $mb_ready " in *" native "*) ;; *) mb_die "--calibrate measures the native environment, which is not running" ;; esac
		mb_calibrate
	fi
	mb_record_params
	if [ "$mb_calibrate_only" = 1 ]; then
		# The options to pass to the runs that follow.
		printf -- '--cpu-max-prime %s --file-total-size %s\n' "$mb_prime" "$(mb_size_arg "$mb_size")"
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
	mb_iostat_stop
	mb_report "$mb_out"
	printf '%s\n' "$mb_out/report.md"
	mb_failed=$(awk -F, 'NR > 1 && $6 != "ok" { printf "%s%s %s %s", n++ ? ", " : "", $1, $2, $3 }' "$mb_out/results.csv")
	[ -z "$mb_failed" ] || mb_die "runs failed: $mb_failed (their sysbench output is in $mb_out/raw)"
}

main() {
	case ${1-} in
	report)
		[ $# -eq 2 ] || md_usage_error "report: name one output directory"
		mb_report "$2"
		printf '%s\n' "${2%/}/report.md"
		;;
	compare) shift; mb_compare "$@" ;;
	*) mb_bench "$@" ;;
	esac
}

main "$@"
