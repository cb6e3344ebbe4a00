# envs.sh: what every environment of mdbench.sh shares, and the rootfs and
# images they run sysbench from. Sourced by bench.sh; each environment is in
# env-NAME.sh.
#
# Each environment has setup (sets mb_reason and returns 1 when it cannot
# run), exec (runs "$@" inside it with the fileio directory as working
# directory, via mb_spawn), a host path for its test files when the host can
# see them, and teardown. The vm runs a whole fileio sequence per boot.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

mb_env_setup() {
	mb_reason=
	mb_env_setup_"$1"
}

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
