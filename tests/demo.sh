#!/bin/sh
# demo.sh BINDIR GROUP: the seed's Figure 1, run as a non-root member of
# GROUP through the installed mdrun.sh (make demo, as root).
#
# The student is $SUDO_USER when make demo runs under sudo (added to GROUP,
# said so), else a temporary user `mddemo` that is removed afterwards.
set -eu

bindir=${1:?usage: demo.sh BINDIR GROUP}
group=${2:?usage: demo.sh BINDIR GROUP}
made_user=

say() { printf '%s\n' "$*"; }

cleanup() {
	if [ -n "$made_user" ]; then
		pkill -KILL -u "$made_user" 2>/dev/null || :
		userdel --remove "$made_user" 2>/dev/null || :
	fi
}
trap cleanup EXIT INT TERM

pick_student() {
	if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
		student=$SUDO_USER
		if ! id -nG "$student" | tr ' ' '\n' | grep -qx "$group"; then
			usermod -a -G "$group" "$student"
			say "demo: added $student to the $group group (log in again to use it outside this demo)"
		fi
	else
		student=mddemo
		if ! id "$student" >/dev/null 2>&1; then
			useradd --create-home --shell /bin/sh --groups "$group" "$student"
			made_user=$student
		fi
	fi
}

# The tour in one container, as if typed at its shell: each command is
# shown after the prompt, then run by that same shell (PID 1).
tour() {
	# shellcheck disable=SC2016 # expanded by the container's shell, not here
	runuser -u "$student" -- env -i HOME="$(getent passwd "$student" | cut -d: -f6)" \
		PATH="$bindir:/usr/bin:/bin" ${MD_SYSTEM_ROOTFS:+MD_SYSTEM_ROOTFS="$MD_SYSTEM_ROOTFS"} \
		"$bindir/mdrun.sh" -- sh -c '
		for c in "ls /" "hostname" "ifconfig -a" "echo \$\$" "ps -ef" "id" "ls -l /home"; do
			echo "administrator:/# $c"
			eval "$c"
		done' </dev/null
}

pick_student
say "minidocker demo: a container started by $student (uid $(id -u "$student")), not root"
say ""
tour
say ""
say "On the host, all of that ran as $student. Try it yourself:"
say "  $bindir/mdrun.sh            # a shell in the default rootfs"
say "  $bindir/mdrun.sh --help"
