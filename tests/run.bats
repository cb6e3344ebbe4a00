#!/usr/bin/env bats
# mdrun.sh and `mdhelper run`, seen by a student (the unprivileged test
# user) and by an attacker: every behaviour of the foundation issue and
# every refusal of SECURITY.md that applies, with exact messages.

load helper

setup() {
	default_conf
	USER_ROOTFS=/home/$MDT_USER/.local/share/minidocker/rootfs
	mountinfo_before=$(cat /proc/self/mountinfo)
}

teardown() {
	stop_containers
	rm -rf "$USER_ROOTFS" /tmp/md-marker-* "/home/$MDT_USER/lab" "/home/$MDT_USER/mdhelper" "/home/$MDT_USER/out"
}

# mdrun.sh as the student.
md() {
	as_user mdrun.sh "$@"
}

# The helper itself, as the student.
mdh() {
	as_user "$MDT_HELPER" "$@"
}


# A rootfs of the student's own, built the way a student would.
user_rootfs() {
	as_user mdrootfs.sh busybox "${1:-mine}" >/dev/null
}

@test "ls / shows the rootfs, not the host" {
	run md -- ls /
	assert_status 0
	assert_output_contains "home"
	[[ "$output" != *work* ]]
	run md -- ls /home
	assert_output "$(printf 'loop\nmem')"
}

@test "hostname prints administrator by default" {
	run md -- hostname
	assert_status 0
	assert_output "administrator"
}

@test "--hostname sets another hostname" {
	run md --hostname lab1 -- hostname
	assert_output "lab1"
}

@test "the command is PID 1 and ps -ef lists only it and ps" {
	run md -- sh -c 'echo $$; ps -ef; true'
	assert_status 0
	[ "${lines[0]}" = 1 ]
	[ "${#lines[@]}" -eq 4 ] # $$, ps's header, sh, ps
	[[ "${lines[2]}" == *" 1 root "*"sh -c"* ]]
}

@test "id says root inside, while on the host the process is the caller's" {
	run md -- id
	assert_output "uid=0(root) gid=0(root)"
	md -- sleep 31 &
	# This test's sleep, by its whole command line: another of the user's
	# sleeps (an earlier test's) must not stand in for it.
	wait_for 30 pgrep -u "$MDT_USER" -f '^sleep 31$' >/dev/null
	pid=$(pgrep -n -u "$MDT_USER" -f '^sleep 31$')
	[ "$(stat -c %U /proc/"$pid")" = "$MDT_USER" ]
	grep -q "^Uid:.*$(id -u "$MDT_USER")" /proc/"$pid"/status
}

@test "mount shows only the container's mounts and the host's table is unchanged" {
	run md -- mount
	assert_status 0
	assert_output_contains "proc on /proc type proc (rw,nosuid,nodev,noexec"
	assert_output_contains "sysfs on /sys type sysfs (ro,"
	# Of cgroup mounts only the container's own groups, read-only, at
	# /sys/fs/cgroup (tests/cglimits.bats): none of the host's.
	refute grep -v ' on /sys/fs/cgroup[/a-z,]* type [a-z2]* (ro,' <<<"$(grep cgroup <<<"$output")"
	[[ "$output" != *"/sys/fs/cgroup/systemd"* && "$output" != *"/sys/fs/cgroup/devices"* ]]
	[[ "$output" != *"/work"* ]]
	mounts_unchanged
}

@test "the exit status is the command's own" {
	run md -- sh -c 'exit 3'
	assert_status 3
	assert_output ""
}

@test "a missing command exits 127 with one line" {
	run md -- nosuch
	assert_status 127
	assert_output "mdhelper: nosuch: command not found"
}

@test "a command that cannot be executed exits 126" {
	run md -- /etc/passwd
	assert_status 126
	assert_output "mdhelper: /etc/passwd: permission denied"
}

@test "a container killed by a signal exits 128+N" {
	md -- sleep 32 &
	bg=$!
	wait_for 30 pkill -KILL -u "$MDT_USER" -f '^sleep 32$' # this test's sleep only
	status=0
	wait "$bg" || status=$?
	assert_status 137
}

@test "SIGTERM sent to mdrun.sh reaches the container's PID 1" {
	out=/home/$MDT_USER/out
	as_user sh -c 'exec mdrun.sh -- sh -c "trap \"echo got TERM; exit 42\" TERM; echo ready; while :; do sleep 0.1; done" > '"$out" &
	bg=$!
	wait_for 30 grep -q ready "$out" 2>/dev/null
	# mdrun.sh exec'd the helper: it is the process the student signals.
	pkill -TERM -U "$MDT_USER" -x mdhelper
	status=0
	wait "$bg" || status=$?
	assert_status 42
	grep -q "got TERM" "$out"
}

@test "without a terminal, input and output pass straight through" {
	run bash -c "echo hello | runuser -u $MDT_USER -- env -i HOME=/home/$MDT_USER PATH=$MDT_BIN:/usr/bin:/bin MD_SYSTEM_ROOTFS=$MDT_SYSROOTFS mdrun.sh -- cat"
	assert_status 0
	assert_output "hello"
}

@test "mdrun.sh chains in a makefile: exit status and no output of its own" {
	dir=/home/$MDT_USER/lab
	as_user mkdir -p "$dir"
	printf 'all:\n\tmdrun.sh -r default -- sh -c "exit 3"\nok:\n\tmdrun.sh -r default -- true\n' |
		as_user tee "$dir/Makefile" >/dev/null
	run as_user make -s -C "$dir" ok
	assert_status 0
	assert_output ""
	run as_user make -s -C "$dir" all
	assert_status 2
	assert_output_contains "Error 3"
}

@test "on a terminal the container gets its own pty" {
	require script
	run as_user script -qec 'mdrun.sh -- sh -c "tty; exit 5"' /dev/null
	assert_status 5
	assert_output_contains "/dev/pts/0"
}

@test "TIOCSTI cannot inject into the caller's terminal" {
	require gcc script
	user_rootfs
	cat > "$BATS_TEST_TMPDIR/sti.c" <<'C'
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) { char c = 'x'; if (ioctl(0, TIOCSTI, &c) == 0) { puts("INJECTED"); return 1; } perror("TIOCSTI"); return 0; }
C
	gcc -static -o "$BATS_TEST_TMPDIR/sti" "$BATS_TEST_TMPDIR/sti.c"
	install -o "$MDT_USER" -m 755 "$BATS_TEST_TMPDIR/sti" "$USER_ROOTFS/mine/bin/sti"
	# stdin the caller's terminal, stdout not: no pty, the terminal passes through.
	run as_user script -qec "mdrun.sh -r mine -- /bin/sti | cat" /dev/null
	assert_output_contains "TIOCSTI: "
	[[ "$output" != *INJECTED* ]]
}

@test "only fds 0, 1 and 2 are open in the container" {
	run md -- sh -c 'ls /proc/1/fd; true'
	assert_output "$(printf '0\n1\n2')"
}

@test "container root cannot change its hostname, network or mounts" {
	run md -- hostname evil
	[ "$status" -ne 0 ]
	run md -- ip link set lo down
	[ "$status" -ne 0 ]
	run md -- umount /proc
	[ "$status" -ne 0 ]
	run md -- mount -t tmpfs none /mnt
	[ "$status" -ne 0 ]
	run md -- sh -c 'echo 1 > /proc/sys/kernel/printk'
	[ "$status" -ne 0 ]
}

@test "no_new_privs is set and the rootfs is nosuid,nodev" {
	run md -- grep NoNewPrivs /proc/self/status
	assert_output "$(printf 'NoNewPrivs:\t1')"
	run md -- sh -c 'mount | grep " on / "'
	assert_output_contains "nosuid,nodev"
}

@test "container root holds no capability beyond Docker's default set" {
	run md -- grep CapBnd /proc/self/status
	assert_output "$(printf 'CapBnd:\t00000000a80425fb')"
}

@test "a system rootfs is read-only with --read-only, with writable /tmp, /run and /var/tmp" {
	run md --read-only -- sh -c 'touch /etc/x; echo $?; touch /tmp/x /run/x /var/tmp/x && echo ok'
	assert_output_contains "/etc/x: Read-only file system"
	[ "${lines[-1]}" = ok ]
	[ ! -e "$MDT_SYSROOTFS/default/tmp/x" ]
}

@test "a rootfs of the student's own is writable by container root" {
	user_rootfs
	run md -r mine -- sh -c 'echo hi > /root/note && cat /root/note'
	assert_output "hi"
	[ "$(stat -c %U "$USER_ROOTFS/mine/root/note")" = "$MDT_USER" ]
}

@test "the student's subordinate ids are mapped, and only those" {
	run md -- cat /proc/self/uid_map
	[ "$(echo "$output" | awk '{print $1, $2, $3}' | tr '\n' ' ')" = "0 $(id -u mdtest1) 1 1 3000000 65536 " ]
	run as mdtest2 mdrun.sh -- cat /proc/self/uid_map /proc/self/setgroups
	[ "$(echo "${lines[0]}" | awk '{print $1, $2, $3}')" = "0 $(id -u mdtest2) 1" ]
	[ "${lines[1]}" = deny ]
}

@test "hostile LD_PRELOAD, PATH, IFS, ENV and BASH_ENV change nothing run as root" {
	require gcc
	cat > "$BATS_TEST_TMPDIR/evil.c" <<'C'
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{ if (geteuid() == 0) { FILE *f = fopen("/tmp/md-marker-root", "w"); if (f) fclose(f); } }
C
	gcc -shared -fPIC -o /tmp/md-marker-evil.so "$BATS_TEST_TMPDIR/evil.c"
	chmod 755 /tmp/md-marker-evil.so
	run as_user env LD_PRELOAD=/tmp/md-marker-evil.so LD_LIBRARY_PATH=/tmp IFS=/ \
		ENV=/tmp/x BASH_ENV=/tmp/x GCONV_PATH=/tmp PATH="/tmp:$MDT_BIN:/usr/bin:/bin" \
		mdrun.sh -- env
	assert_status 0
	[ ! -e /tmp/md-marker-root ]
	[[ "$output" != *LD_PRELOAD* ]]
	[[ "$output" != *BASH_ENV* ]]
	[[ "$output" != *IFS* ]]
	assert_output_contains "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

@test "--env sets variables and refuses malformed ones" {
	run md -e GREETING='hello world' -- sh -c 'echo "$GREETING"'
	assert_output "hello world"
	run md -e '1BAD=x' -- true
	assert_status 125
	assert_output "mdhelper: invalid environment variable: 1BAD=x (KEY=VALUE)"
}

@test "--workdir starts the command there" {
	run md -w /home -- pwd
	assert_output "/home"
}

@test "--workdir through /proc/self/fd or a symlink is refused" {
	run md -w /proc/self/fd/0 -- pwd
	assert_status 125
	assert_output "mdhelper: workdir /proc/self/fd/0: not a directory in the container (symlinks are refused)"
	user_rootfs
	as_user ln -s /etc "$USER_ROOTFS/mine/etclink"
	run md -r mine -w /etclink -- pwd
	assert_status 125
	assert_output "mdhelper: workdir /etclink: not a directory in the container (symlinks are refused)"
}

# --- refusals -------------------------------------------------------------

@test "an unknown option is a usage error of mdrun.sh" {
	run md --bogus
	assert_status 2
	assert_output "$(printf "mdrun.sh: unknown option: --bogus\nTry 'mdrun.sh --help' for more information.")"
}

@test "--help prints the usage to stdout and exits 0" {
	run md --help
	assert_status 0
	assert_output_contains "Usage: mdrun.sh [OPTION]... [--] [COMMAND [ARG]...]"
	assert_output_contains "Exit status:"
}

@test "a missing rootfs is refused" {
	run md -r nosuch -- true
	assert_status 125
	assert_output "mdrun.sh: rootfs nosuch: not found (build it with: mdrootfs.sh busybox nosuch)"
}

@test "a rootfs whose path has long components runs, and a symlink deep in it is named" {
	# The first release kept each component's prefix in 128 bytes and died
	# with an internal error past that (issue 14).
	local long
	long=/home/$MDT_USER/$(printf 'd%.0s' $(seq 150))/$(printf 'e%.0s' $(seq 150))
	as_user sh -c "mkdir -p '$long/r/bin' '$long/r/proc' '$long/r/dev' '$long/r/sys' &&
		cp \"\$(command -v busybox)\" '$long/r/bin/busybox' && ln -s r '$long/link'"
	run md -r "$long/r" -- /bin/busybox echo ran
	assert_status 0
	assert_output "ran"
	run md -r "$long/link" -- /bin/busybox echo ran
	assert_status 125
	assert_output "mdhelper: rootfs $long/link: $long/link is a symbolic link"
	rm -rf "/home/$MDT_USER/$(printf 'd%.0s' $(seq 150))"
}

@test "a bad size is a usage error" {
	run md --memory 12abc -- true
	assert_status 2
	assert_output_contains "mdrun.sh: --memory: not a size: 12abc (e.g. 10M, 512k, 1G)"
}

@test "the helper parses numbers strictly" {
	for n in 12abc -1 "" 1e9 99999999999999999999999 " 5"; do
		run mdh run --rootfs "$MDT_SYSROOTFS/default" --memory "$n" -- true
		assert_status 125
		assert_output "mdhelper: --memory: not a valid number: $n"
	done
}

@test "a hostname with a space or of 64 characters is refused" {
	run md --hostname "a b" -- true
	assert_status 125
	assert_output "mdhelper: invalid hostname: a b (a-z, 0-9 and -, at most 63 characters)"
	long=$(printf 'a%.0s' $(seq 64))
	run md --hostname "$long" -- true
	assert_status 125
	assert_output "mdhelper: invalid hostname: $long (a-z, 0-9 and -, at most 63 characters)"
}

@test "a rootfs outside the rule's directories is refused" {
	run mdh run --rootfs /usr -- true
	assert_status 125
	assert_output "mdhelper: rootfs /usr is not in a directory you may use ($MDT_CONF:1)"
}

@test "rootfs directories compare by whole components" {
	mkdir -p "${MDT_SYSROOTFS}2/x"
	run mdh run --rootfs "${MDT_SYSROOTFS}2/x" -- true
	rmdir "${MDT_SYSROOTFS}2/x" "${MDT_SYSROOTFS}2"
	assert_status 125
	assert_output "mdhelper: rootfs ${MDT_SYSROOTFS}2/x is not in a directory you may use ($MDT_CONF:1)"
	run mdh run --rootfs "$MDT_SYSROOTFS/../../etc" -- true
	assert_status 125
	assert_output "mdhelper: rootfs must be an absolute path without . or .. components: $MDT_SYSROOTFS/../../etc"
}

@test "the host's / is never a rootfs" {
	write_conf <<CONF
permit :mdtestgrp rootfs=/
CONF
	run mdh run --rootfs / -- true
	assert_status 125
	assert_output "mdhelper: rootfs /: the host's root cannot be a container's root"
}

@test "a rootfs reached through a symlink is refused" {
	user_rootfs
	as_user ln -s mine "$USER_ROOTFS/link"
	run md -r link -- true
	assert_status 125
	assert_output "mdhelper: rootfs $USER_ROOTFS/link: $USER_ROOTFS/link is a symbolic link"
}

@test "a rootfs writable by other users is refused" {
	user_rootfs
	chmod o+w "$USER_ROOTFS/mine"
	run md -r mine -- true
	assert_status 125
	assert_output "mdhelper: rootfs $USER_ROOTFS/mine: $USER_ROOTFS/mine is writable by other users"
}

@test "another user's rootfs is refused" {
	user_rootfs
	write_conf <<CONF
permit :mdtestgrp rootfs=/home
CONF
	run as mdtest2 "$MDT_HELPER" run --rootfs "$USER_ROOTFS/mine" -- true
	assert_status 125
	assert_output "mdhelper: rootfs $USER_ROOTFS/mine: /home/mdtest1 belongs to another user"
}

@test "a rootfs the caller cannot reach reads the same as a missing one" {
	user_rootfs
	chmod 700 "/home/$MDT_USER"
	write_conf <<CONF
permit :mdtestgrp rootfs=/home
CONF
	run as mdtest2 "$MDT_HELPER" run --rootfs "$USER_ROOTFS/mine" -- true
	chmod 755 "/home/$MDT_USER"
	assert_status 125
	assert_output "mdhelper: rootfs $USER_ROOTFS/mine: not found or not accessible"
	run as mdtest2 "$MDT_HELPER" run --rootfs "/home/mdtest2/nothing" -- true
	assert_output "mdhelper: rootfs /home/mdtest2/nothing: not found or not accessible"
}

@test "a rootfs whose /proc is a symlink is refused" {
	user_rootfs
	as_user rmdir "$USER_ROOTFS/mine/proc"
	as_user ln -s /etc "$USER_ROOTFS/mine/proc"
	run md -r mine -- true
	assert_status 125
	assert_output "mdhelper: the rootfs's /proc is not a directory (a symlink is refused)"
	mounts_unchanged
}

@test "a user no rule matches is refused" {
	run as mdtest3 "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" -- true
	assert_status 125
	assert_output "mdhelper: mdtest3 is not permitted to run containers ($MDT_CONF)"
}

@test "the last matching rule wins, and a deny denies" {
	write_conf <<CONF
permit :mdtestgrp rootfs=$MDT_SYSROOTFS
deny mdtest2
CONF
	run as mdtest2 mdrun.sh -- true
	assert_status 125
	assert_output "mdhelper: mdtest2 is denied by $MDT_CONF:2"
	run md -- true
	assert_status 0
}

@test "an unknown user or group in a rule matches nobody, not even root" {
	write_conf <<CONF
permit :nosuchgroup rootfs=$MDT_SYSROOTFS
permit nosuchuser rootfs=$MDT_SYSROOTFS
CONF
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_USER is not permitted to run containers ($MDT_CONF)"
	run "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" -- true
	assert_output "mdhelper: root is not permitted to run containers ($MDT_CONF)"
}

@test "a missing config refuses everything" {
	rm -f "$MDT_CONF"
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_CONF: cannot open the configuration (everything is refused): No such file or directory"
}

@test "a config not owned by root is refused" {
	chown "$MDT_USER" "$MDT_CONF"
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_CONF is not owned by root"
}

@test "a config writable by group or other is refused" {
	chmod 664 "$MDT_CONF"
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_CONF is writable by group or other"
}

@test "a config directory writable by group or other is refused" {
	chmod 775 "${MDT_CONF%/*}"
	run md -- true
	chmod 755 "${MDT_CONF%/*}"
	assert_status 125
	assert_output "mdhelper: ${MDT_CONF%/*} is writable by group or other"
}

@test "a config that is a symlink is refused" {
	mv "$MDT_CONF" "$MDT_CONF.real"
	ln -s "$MDT_CONF.real" "$MDT_CONF"
	run md -- true
	rm "$MDT_CONF"; mv "$MDT_CONF.real" "$MDT_CONF"
	assert_status 125
	assert_output "mdhelper: $MDT_CONF: cannot open the configuration (everything is refused): Too many levels of symbolic links"
}

@test "any parse error refuses everybody with file:line" {
	write_conf <<CONF
permit :mdtestgrp rootfs=$MDT_SYSROOTFS
permit root colour=blue
CONF
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_CONF:2: unknown option: colour"
	write_conf <<CONF
permit :mdtestgrp pids=1e9 rootfs=$MDT_SYSROOTFS
CONF
	run md -- true
	assert_output "mdhelper: $MDT_CONF:1: bad pids: 1e9"
}

@test "--userns host is refused to a non-root caller" {
	run md --userns host -- true
	assert_status 125
	assert_output "mdhelper: --userns host is only for root with userns=host ($MDT_CONF:1)"
}

@test "root may run without a user namespace where the config allows it" {
	run env MD_SYSTEM_ROOTFS="$MDT_SYSROOTFS" "$MDT_BIN/mdrun.sh" --userns host -- sh -c 'cat /proc/self/uid_map; grep CapBnd /proc/self/status'
	assert_status 0
	[ "$(echo "${lines[0]}" | awk '{print $1, $2, $3}')" = "0 0 4294967295" ]
	assert_output_contains "$(printf 'CapBnd:\t00000000a80425fb')"
}

@test "a limit above the caller's cap is refused naming the rule" {
	run md --memory 2G -- true
	assert_status 125
	assert_output "mdhelper: memory 2G exceeds your limit 512M ($MDT_CONF:1)"
}

@test "the helper refuses to run unless it is setuid root" {
	install -m 755 "$MDT_HELPER" "/home/$MDT_USER/mdhelper"
	run as_user "/home/$MDT_USER/mdhelper" check
	assert_status 125
	assert_output "mdhelper: not installed setuid root (ask your administrator to run make install)"
}

@test "the helper refuses an empty argv" {
	require perl
	run as_user perl -e 'exec { $ARGV[0] } () or exit 99' "$MDT_HELPER"
	assert_status 125
}

@test "mdhelper check prints what the config allows" {
	run mdh check
	assert_status 0
	assert_output_contains "rule         $MDT_CONF:1"
	assert_output_contains "memory       512M"
	assert_output_contains "rootfs       /home/$MDT_USER"
	assert_output_contains "cpus         0-63 (this machine has $(cat /sys/devices/system/cpu/online))"
	assert_output_contains "containers   3 at a time"
	assert_output_contains "ip           none (loopback only)"
	assert_output_contains "uid map      uid 0 -> $(id -u "$MDT_USER"), 1-65536 -> 3000000-3065535"
}

@test "refusals leave nothing behind" {
	run md --hostname "a b" -- true
	run md -r nosuch -- true
	run as mdtest3 mdrun.sh -- true
	mounts_unchanged
	refute user_runs "$MDT_USER"
	registry_empty
}

@test "500 container runs leave no mount, process or state behind" {
	# One student shell running them back to back, as a makefile would.
	local n=500
	# MDT_QUICK (the v2 guest, under TCG): 50.
	[ -z "${MDT_QUICK:-}" ] || n=50
	as_user sh -c "i=0; while [ \$i -lt $n ]; do mdrun.sh -- true || exit 1; i=\$((i + 1)); done"
	run "$MDT_HELPER" ps
	[ "${#lines[@]}" -eq 1 ]
	mounts_unchanged
	refute user_runs "$MDT_USER"
	registry_empty
}

@test "every allow and deny is logged to syslog authpriv" {
	[ ! -e /dev/log ] || skip "/dev/log belongs to this machine's syslog daemon"
	require python3
	log=$BATS_TEST_TMPDIR/syslog
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(5)
with open(sys.argv[1], "w") as out:
    try:
        while True:
            out.write(s.recv(4096).decode(errors="replace") + "\n")
            out.flush()
    except socket.timeout:
        pass
' "$log" &
	listener=$!
	for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
	md -- true
	md --hostname 'bad name' -- true || true
	kill "$listener"; wait "$listener" || true
	rm -f /dev/log
	# <86>/<85>: facility authpriv (10 * 8) with info (6) / notice (5).
	grep -q '^<86>.*mdhelper\[[0-9]*\]: allow user=mdtest1 uid=[0-9]*: run ' "$log"
	grep -q '^<85>.*mdhelper\[[0-9]*\]: deny user=mdtest1 uid=[0-9]*: invalid hostname: bad name' "$log"
}
