# env-minidocker.sh: sysbench in a minidocker container. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# minidocker: mdrun.sh with no network; limits only when asked for, so that by
# default every environment runs on every CPU with all the memory it may
# have (mdrun.sh's own defaults, the seed's 10M and one CPU, would not be
# a fair comparison).
# Where minidocker's fileio runs: the one place that chooses it. Sets the
# directory as the host sees it (mb_md_hostdir) and as the container does
# (mb_md_ctrdir), the mdrun.sh options that put it there (mb_md_mount) and
# the report's words for it (mb_md_files_how).
# Today: a directory of the rootfs, which the helper mounts with it as /.
# Issue 16 makes a bind mount of a host directory the default once mdrun.sh
# has -v SRC:DST[:ro]; then the line below becomes
#   mb_md_hostdir=$mb_work/minidocker-fileio mb_md_ctrdir=/bench mb_md_mount="-v $mb_md_hostdir:/bench" mb_md_files_how="a host directory bind-mounted with mdrun.sh -v"
# (under sudo the directory must also be one $SUDO_USER owns and can reach:
# the helper resolves a bind's source as the caller, and mb_work is root's).
mb_md_fileio_place() {
	mb_md_hostdir=$mb_md_dir$MB_FILEIO_DIR mb_md_ctrdir=$MB_FILEIO_DIR mb_md_mount='' mb_md_files_how="a directory of the rootfs, bind-mounted by the helper"
}

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
	mb_md_fileio_place
	# Root removes the test files from the host too.
	if ! mb_why=$(md_root_safe_dir "fileio directory $mb_md_hostdir" "$mb_md_hostdir" 2>&1) || [ -L "$mb_md_hostdir" ]; then
		mb_reason=${mb_why:-$mb_md_hostdir is a symbolic link}
		mb_reason=${mb_reason#"$PROG: "}
		mb_md_dir='' mb_md_hostdir=''
		return 1
	fi
	# Not guaranteed a writable tmpfs inside: the files go in a directory
	# the user owns.
	mkdir -p "$mb_md_hostdir" 2>/dev/null || true
	if [ ! -w "$mb_md_hostdir" ]; then
		mb_reason="cannot write $mb_md_hostdir (use a rootfs you own, --rootfs)"
		mb_md_dir='' mb_md_hostdir=''
		return 1
	fi
	mb_md_disk=$(mb_disk_of "$mb_md_hostdir")
	[ -z "$mb_md_as" ] || mb_md_how="$mb_md_how; run as $SUDO_USER, who ran sudo (root's rootfs would be read-only)"
	mb_md_ver=
	# shellcheck disable=SC2086 # $mb_md_as, $mb_md_limits and $mb_md_mount hold separate words
	if ! mb_md_ver=$($mb_md_as mdrun.sh -r "$mb_md_root" --net none $mb_md_limits $mb_md_mount -- sysbench --version 2>&1); then
		mb_reason="mdrun.sh failed: $(printf '%s\n' "$mb_md_ver" | tail -n 1)"
		return 1
	fi
	mb_set env.minidocker.setup "mdrun.sh -r $mb_md_root --net none${mb_md_limits:+ $mb_md_limits}${mb_md_mount:+ $mb_md_mount}; $mb_md_how"
	mb_set env.minidocker.files "$mb_md_hostdir, $mb_md_ctrdir inside: $mb_md_files_how ($(mb_fs_of "$mb_md_hostdir") on ${mb_md_disk:-no block device})"
	mb_set env.minidocker.sysbench "$(printf '%s\n' "$mb_md_ver" | awk '/^sysbench/ { print $2; exit }')"
}

mb_env_exec_minidocker() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	# shellcheck disable=SC2086,SC2016 # $mb_md_as, $mb_md_limits and $mb_md_mount hold separate words; $1 and $@ are the inner shell's
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		$mb_md_as mdrun.sh -r "$mb_md_root" --net none $mb_md_limits $mb_md_mount -- \
		/bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$mb_md_ctrdir" "$@"
}

mb_env_hostdir_minidocker() { echo "$mb_md_hostdir"; }

mb_env_teardown_minidocker() {
	[ -z "$mb_md_hostdir" ] || rm -f "$mb_md_hostdir"/test_file.*
}
