# Shared by every bats file: `load helper`.
#
# MDT_ROOT is the root-owned prefix that `make test-install` filled with a
# helper built for the tests (config, registry and cgroup names of its own).
# Scripts are run from there, as an installed student would run them.

MDT_TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
MDT_ROOT=${MDT_ROOT:-/var/lib/minidocker-test}
MDT_BIN=$MDT_ROOT/bin
MDT_LIBEXEC=$MDT_ROOT/libexec/minidocker
MDT_CONF=$MDT_ROOT/etc/minidocker/minidocker.conf
MDT_SYSROOTFS=$MDT_ROOT/state/rootfs
MDT_RUN=$MDT_ROOT/run
MDT_CGNAME=minidocker-test
# MDT_INSTALLED=1: the minidocker a plain `make install` put in place (its
# default paths and names) instead of the test root, as in the systemd
# guest of tests/vm/v2-guest.sh, which has nothing else to break.
if [ -n "${MDT_INSTALLED:-}" ]; then
	MDT_BIN=/usr/local/bin
	MDT_LIBEXEC=/usr/local/libexec/minidocker
	MDT_CONF=/etc/minidocker/minidocker.conf
	MDT_SYSROOTFS=/var/lib/minidocker/rootfs
	MDT_RUN=/run/minidocker
	MDT_CGNAME=minidocker
fi
MDT_HELPER=$MDT_LIBEXEC/mdhelper
MDT_USER=mdtest1
export MD_SYSTEM_ROOTFS=$MDT_SYSROOTFS

# Run a command as the unprivileged test user, with a clean login-like
# environment, from a directory that user can read.
as_user() {
	as "$MDT_USER" "$@"
}

as() {
	local user=$1
	shift
	if [ -n "${MDT_LOGIN:-}" ]; then
		as_login "$user" "$@"
		return
	fi
	(cd / && runuser -u "$user" -- env -i HOME="/home/$user" USER="$user" \
		LOGNAME="$user" PATH="$MDT_BIN:/usr/local/bin:/usr/bin:/bin" \
		MD_SYSTEM_ROOTFS="$MDT_SYSROOTFS" "$@")
}

# MDT_LOGIN=1: every command logs in first, through PAM (runuser -l: the
# runuser-l stack with pam_systemd), as a student's shell does: a logind
# session, its scope in the user's slice, XDG_RUNTIME_DIR. The environment
# is then the one `as` gives, plus XDG_RUNTIME_DIR. The command's words go
# to the login shell as its arguments, each as it is (one -c string would
# meet the kernel's 128 KiB limit on one argument before the helper's own).
as_login() {
	local user=$1 cmd="cd / && exec env -i" w
	shift
	for w in HOME="/home/$user" USER="$user" LOGNAME="$user" \
		PATH="$MDT_BIN:/usr/local/bin:/usr/bin:/bin" MD_SYSTEM_ROOTFS="$MDT_SYSROOTFS"; do
		cmd="$cmd $(sh_quote "$w")"
	done
	cmd="$cmd \${XDG_RUNTIME_DIR:+XDG_RUNTIME_DIR=\"\$XDG_RUNTIME_DIR\"} \"\$@\""
	runuser -l -c "$cmd" -- "$user" as_login "$@"
}

# One word quoted for any POSIX shell (the user's login shell reads it).
sh_quote() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# The host's mount table is what it was in setup ($mountinfo_before); if
# not, say what changed. Under systemd, logind mounts /run/user/UID at a
# user's first login and unmounts it after the last (teardown's pkill -u
# ends the user's systemd too): those come and go with logins, not with
# containers, and are left out.
mounts_unchanged() {
	local before now
	before=$(echo "$mountinfo_before" | awk '$5 !~ "^/run/user/"')
	now=$(awk '$5 !~ "^/run/user/"' /proc/self/mountinfo)
	[ "$now" = "$before" ] && return 0
	echo "the host's mount table changed:"
	diff <(echo "$before") <(echo "$now")
	return 1
}

# Skip, saying why, unless every named command exists.
require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (sudo make deps)"
	done
}

# Write the test config (root-owned, 0644) from stdin.
write_conf() {
	mkdir -p "${MDT_CONF%/*}"
	cat > "$MDT_CONF"
	chown root:root "$MDT_CONF"
	chmod 644 "$MDT_CONF"
}

# The config most tests start from: the test group may run containers on the
# system rootfs directory and in their homes.
default_conf() {
	write_conf <<CONF
permit :mdtestgrp memory=512M cpus=0-63 pids=256 containers=3 rootfs=$MDT_SYSROOTFS rootfs=~
permit root userns=host rootfs=$MDT_SYSROOTFS rootfs=/
CONF
}

# Assert helpers, so a failure prints what was expected and what came.
assert_status() {
	[ "$status" -eq "$1" ] || {
		echo "expected status $1, got $status; output:"
		echo "$output"
		return 1
	}
}
assert_output() {
	[ "$output" = "$1" ] || {
		echo "expected output: $1"
		echo "got output:      $output"
		return 1
	}
}
assert_output_contains() {
	case "$output" in
	*"$1"*) ;;
	*) echo "expected output to contain: $1"; echo "got: $output"; return 1 ;;
	esac
}

# mdctl.sh as the test user.
ctl() {
	as_user mdctl.sh "$@"
}

# Poll until COMMAND succeeds, for at most SECONDS: for what the kernel or
# a helper finishes moments after (a network namespace's teardown, a port's
# removal, a process's exit), however loaded the machine. Never a fixed
# sleep: a slow machine needs longer, a fast one should not wait.
wait_for() {
	local limit=$1 deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "still not so after $limit s: $*" >&2; return 1; }
		sleep 0.05
	done
}

# Fail, saying so, when COMMAND succeeds: `! COMMAND` in the middle of a
# test never fails it (bash's errexit ignores negated commands).
refute() {
	if "$@"; then
		echo "expected to fail: $*"
		return 1
	fi
}

# The pids of the test build's helpers and monitors, of USER's when one is
# named. By their executable, not by name: an installed minidocker runs
# processes of the same names on a lab machine.
test_helpers() {
	local p exe want=
	[ -z "${1:-}" ] || want=$(id -u "$1")
	for p in $(pgrep -x mdhelper; pgrep -x mdmonitor); do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
		case ${exe% (deleted)} in
		"$MDT_LIBEXEC/mdhelper" | "$MDT_LIBEXEC/mdmonitor") ;;
		*) continue ;;
		esac
		[ -z "$want" ] || [ "$(helper_owner "$p")" = "$want" ] || continue
		echo "$p"
	done
}

# Whose helper or monitor pid $1 is. Its real uid is the caller's only while
# a foreground container runs (all root otherwise, SECURITY.md 38): else the
# uid of the registry entry that names it (a monitor), else its parent's
# real uid (the caller's shell, while it sets up or cleans up).
helper_owner() {
	local uid e owner helper ppid
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	if [ -n "$uid" ] && [ "$uid" != 0 ]; then echo "$uid"; return; fi
	for e in "$MDT_RUN"/containers/*; do
		[ -e "$e" ] || continue
		read -r owner helper _ <"$e" 2>/dev/null || continue
		[ "$helper" != "$1" ] || { echo "$owner"; return; }
	done
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	if [ -z "$ppid" ] || [ "$ppid" -le 1 ]; then echo 0; return; fi
	awk '/^Uid:/ { print $2 }' "/proc/$ppid/status" 2>/dev/null
}

no_test_helpers() {
	[ -z "$(test_helpers "$@")" ]
}

# Kill what runs inside the test user's containers (their effective uid),
# never the helpers (effective uid root): each helper then sees its
# container end and removes its cgroup, as it would for a student.
stop_containers() {
	local user=${1:-$MDT_USER}
	kill_user "$user"
	wait_for 30 no_test_helpers "$user" || { echo "helpers of $user still running" >&2; return 1; }
}

# Is there a host port (mdv and an address) of the test's own containers:
# one named for an address in the subnet of the bridge the test config
# names? Another minidocker's ports (an installed one's, on md0) are not.
any_port() {
	local kw cidr net len p a b c d
	[ -r "$MDT_CONF" ] || return 1
	while read -r kw _ cidr _; do
		[ "$kw" = bridge ] || continue
		IFS=. read -r a b c d <<<"${cidr%/*}"
		net=$((a << 24 | b << 16 | c << 8 | d)) len=${cidr#*/}
		for p in $(ip -o link show | sed -n 's/^[0-9]*: \(mdv[0-9]\{12\}\)[@:].*/\1/p'); do
			a=$((10#${p:3:3} << 24 | 10#${p:6:3} << 16 | 10#${p:9:3} << 8 | 10#${p:12:3}))
			[ $(((a ^ net) >> (32 - len))) -ne 0 ] || return 0
		done
	done <"$MDT_CONF"
	return 1
}

# SIGKILL every process of user $1 (effective uid). Under MDT_LOGIN, not
# the user's systemd manager (user@UID.service): it belongs to the login,
# as on a student's machine, and each new start of it cost every next
# login a second under TCG.
kill_user() {
	local p
	if [ -z "${MDT_LOGIN:-}" ]; then
		pkill -KILL -u "$1" 2>/dev/null || true
		return 0
	fi
	for p in $(pgrep -u "$1"); do
		grep -q '/user@[0-9]*\.service/' "/proc/$p/cgroup" 2>/dev/null ||
			kill -KILL "$p" 2>/dev/null || true
	done
}

# The processes of user $1 (effective uid), but under MDT_LOGIN not those
# of their systemd manager (user@UID.service), which their login keeps
# running as on a student's machine: what a container or helper left.
user_procs() {
	local p
	for p in $(pgrep -u "$1"); do
		[ -n "${MDT_LOGIN:-}" ] && grep -q '/user@[0-9]*\.service/' "/proc/$p/cgroup" 2>/dev/null &&
			continue
		echo "$p"
	done
	return 0
}

# Does user $1 run anything (user_procs)?
user_runs() {
	[ -n "$(user_procs "$1")" ]
}

no_port() {
	! any_port
}

# Nothing left of ended containers: no lease, no host veth once the kernel
# has removed their network namespaces (it does, moments after), and no
# registry entry of a helper that is still there. An ended container's
# entry may stay while its port goes (it keeps the address taken): the
# next start or gc collects it (net.bats checks that part).
registry_empty() {
	local e helper
	[ -z "$(ls -A "$MDT_RUN/leases" 2>/dev/null)" ] || return 1
	wait_for 30 no_port || return 1
	for e in "$MDT_RUN"/containers/*; do
		[ -e "$e" ] || continue
		read -r _ helper start _ <"$e"
		# Alive: that pid, started then (field 22 of its stat), not a
		# zombie (field 3), as mdhelper counts it.
		[ "$(cut -d')' -f2 "/proc/$helper/stat" 2>/dev/null | awk '$1 != "Z" { print $20 }')" != "$start" ] ||
			return 1
	done
}

# Not even such an entry: the registry holds nothing at all.
registry_clean() {
	registry_empty && [ -z "$(ls -A "$MDT_RUN/containers" 2>/dev/null)" ]
}

# Nothing left of any container (SECURITY.md 43): no registry entry or lease
# of a live helper, no container port (${MDT_PORTS:-mdv}...), no cgroup
# under minidocker-test in any hierarchy, no process of the test users or of
# the test helper. An ended container's entry and lease may stay once all
# that has gone (the next start or gc forgets them: registry_empty). Waits
# up to 5 s for what ends on its own; says what is left.
assert_nothing_left() {
	local left p e start
	for _ in $(seq 50); do
		left=$(for e in "$MDT_RUN"/containers/*; do
				[ -e "$e" ] || continue
				read -r _ p start _ <"$e"
				[ "$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null | awk '{ print $20 }')" != "$start" ] ||
					echo "$e (live)"
			done
			for e in "$MDT_RUN"/leases/*; do
				[ ! -e "$e" ] || [ -e "$MDT_RUN/containers/$(cat "$e")" ] || echo "$e"
			done
			ip -o link show | grep -o " ${MDT_PORTS:-mdv}[0-9]*"
			find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path '*/minidocker-test/*'
			pgrep -a -u mdtest1,mdtest2,mdtest3 2>/dev/null
			for p in /proc/[0-9]*; do
				case $(readlink "$p/exe" 2>/dev/null) in
				"$MDT_LIBEXEC"/md*) echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")" ;;
				esac
			done)
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	echo "left behind:"
	echo "$left"
	return 1
}
