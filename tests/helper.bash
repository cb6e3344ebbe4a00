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

# Kill what runs inside the test user's containers (their effective uid),
# never the helpers (effective uid root): each helper then sees its
# container end and removes its cgroup, as it would for a student.
stop_containers() {
	local user=${1:-$MDT_USER}
	kill_user "$user"
	for _ in $(seq 50); do
		pgrep -U "$user" -x "mdhelper|mdmonitor" >/dev/null || return 0
		sleep 0.1
	done
	echo "helpers of $user still running" >&2
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

# Is there a host port of a container (mdv and an address)?
any_port() {
	ip -o link show | grep -q ' mdv[0-9]'
}

# Nothing left of ended containers: no lease, no host veth once the kernel
# has removed their network namespaces (it does, moments after), and no
# registry entry of a helper that is still there. An ended container's
# entry may stay while its port goes (it keeps the address taken): the
# next start or gc collects it (net.bats checks that part).
registry_empty() {
	local e helper
	[ -z "$(ls -A "$MDT_RUN/leases" 2>/dev/null)" ] || return 1
	for _ in $(seq 300); do
		any_port || break
		sleep 0.01
	done
	! any_port || return 1
	for e in "$MDT_RUN"/containers/*; do
		[ -e "$e" ] || continue
		read -r _ helper start _ <"$e"
		# Alive: that pid, started then (field 22 of its stat).
		[ "$(cut -d')' -f2 "/proc/$helper/stat" 2>/dev/null | awk '{ print $20 }')" != "$start" ] ||
			return 1
	done
}

# Not even such an entry: the registry holds nothing at all.
registry_clean() {
	registry_empty && [ -z "$(ls -A "$MDT_RUN/containers" 2>/dev/null)" ]
}
