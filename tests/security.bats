#!/usr/bin/env bats
# mdhelper under attack: the SECURITY.md items that tests/run.bats and
# tests/limits.bats do not already exercise. Each test is one attack a
# student could mount from their own account; it asserts the exact refusal
# or the safe outcome. Races run as mdtest2 (a permitted user without a
# subordinate range) so that another file's `pkill -u mdtest1` cannot stop
# the attacker half-way and make a test pass by accident.

load helper

ATTACKER=mdtest2

setup_file() {
	command -v gcc >/dev/null 2>&1 || return 0
	# Swap two names forever with RENAME_EXCHANGE: the attacker's side of
	# every race below. Both names exist at every instant.
	cat > "$BATS_FILE_TMPDIR/xchg.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv)
{
	time_t end;
	if (argc != 4)
		return 2;
	end = time(NULL) + atoi(argv[3]);
	while (time(NULL) < end)
		for (int i = 0; i < 10000; i++)
			syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2);
	return 0;
}
C
	gcc -O2 -o "$BATS_FILE_TMPDIR/xchg" "$BATS_FILE_TMPDIR/xchg.c"
	# Print the real and effective uid, then exec the rest of argv after
	# becoming uid $1 (0 = stay): the setuid probe.
	cat > "$BATS_FILE_TMPDIR/ids.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	uid_t r, e, s;
	if (argc > 2) {
		uid_t u = (uid_t)atoi(argv[1]);
		if (setresgid(u, u, u) < 0 || setresuid(u, u, u) < 0) { perror("setresuid"); return 3; }
		execv(argv[2], argv + 2);
		perror("execv");
		return 4;
	}
	getresuid(&r, &e, &s);
	printf("ruid=%u euid=%u suid=%u\n", r, e, s);
	return 0;
}
C
	gcc -static -O2 -o "$BATS_FILE_TMPDIR/ids" "$BATS_FILE_TMPDIR/ids.c"
	chmod 755 "$BATS_FILE_TMPDIR" "$BATS_FILE_TMPDIR/xchg" "$BATS_FILE_TMPDIR/ids"
}

setup() {
	default_conf
	SEC=$(mktemp -d "/home/$ATTACKER/sec-XXXXXX")
	chown "$ATTACKER:" "$SEC"
	TARGET=
	mountinfo_before=$(cat /proc/self/mountinfo)
}

teardown() {
	chown root "$MDT_LIBEXEC/mdmonitor"
	kill_mine
	kill_named
	[ -z "$TARGET" ] || rm -rf "$TARGET"
	rm -rf "$SEC" "/home/$MDT_USER"/sec-* "$MDT_ROOT/state/sec-planted"
	for g in /sys/fs/cgroup/*/"$MDT_CGNAME"/sec-* /sys/fs/cgroup/"$MDT_CGNAME"/sec-*; do
		[ -d "$g" ] && rmdir "$g" 2>/dev/null
	done
	[ -z "${LOGGER_PID:-}" ] || { kill "$LOGGER_PID" 2>/dev/null; wait "$LOGGER_PID" 2>/dev/null; rm -f /dev/log; }
	default_conf
	return 0
}

# Stop only what this file started: the containers under our own rootfs
# directories (their helpers then clean up), then anything still running.
kill_mine() {
	local h c
	for h in $(pgrep -f -- "--rootfs (/home/$ATTACKER/sec-|/home/$MDT_USER/sec-)"); do
		for c in $(pgrep -P "$h"); do kill -KILL "$c" 2>/dev/null; done
	done
	pkill -KILL -f "$SEC/xchg" 2>/dev/null || true
	wait_for 30 refute pgrep -f -- "--rootfs (/home/$ATTACKER/sec-|/home/$MDT_USER/sec-)" >/dev/null || true
}

# The attacker's renamer, somewhere the attacker may execute it.
attacker_xchg() {
	install -o "$ATTACKER" -m 755 "$BATS_FILE_TMPDIR/xchg" "$SEC/xchg"
	as "$ATTACKER" sh -c "cd '$1' && exec '$SEC/xchg' '$2' '$3' '$4'" &
}

# A busybox rootfs of USER's own at DIR: bin/ with a few applets, and the
# directories the helper mounts on.
busybox_rootfs() {
	local dir=$1 user=$2 c
	require busybox
	mkdir -p "$dir"/bin "$dir"/proc "$dir"/dev "$dir"/sys "$dir"/tmp "$dir"/etc "$dir"/root
	cp "$(command -v busybox)" "$dir/bin/busybox"
	for c in sh cat ls true echo stat id sleep readlink; do ln -sf busybox "$dir/bin/$c"; done
	chown -R "$user:" "$dir"
}

# The detached containers this file started by name (all called sec-*),
# ended through the helper as root would, and the logs they wrote.
kill_named() {
	local n
	for n in $("$MDT_HELPER" ps --json 2>/dev/null | sed -n 's/^{"name":"\(sec-[^"]*\)".*/\1/p'); do
		"$MDT_HELPER" kill --timeout 5 "$n" >/dev/null 2>&1 || true
	done
	rm -rf /home/mdtest1/.local/state /home/mdtest2/.local/state
	# Their monitors clean up after them: let them finish.
	wait_for 30 no_test_helpers || true
}

# The pid of container NAME's monitor, from its registry entry.
monitor_of() {
	local m
	read -r _ m _ <"$MDT_RUN/containers/$1" && echo "$m"
}

mdh_as() {
	local user=$1
	shift
	as "$user" "$MDT_HELPER" "$@"
}

@test "a /dev swapped for a symlink while the container starts makes nothing outside the rootfs" {
	require gcc
	busybox_rootfs "$SEC/r" "$ATTACKER"
	# The attacker's stdin is a root-owned directory they may only read;
	# /dev flips between a real directory and a link to that stdin.
	TARGET=$(mktemp -d /var/tmp/sec-target.XXXXXX)
	chmod 755 "$TARGET"
	ln -s /proc/self/fd/0 "$SEC/r/devlink"
	chown -h "$ATTACKER:" "$SEC/r/devlink"
	# Usually won within a few runs (it is a race: on a loaded machine it
	# may take longer); give up after 25 seconds.
	local end=$((SECONDS + 25))
	while [ "$SECONDS" -lt "$end" ]; do
		pgrep -f "$SEC/xchg" >/dev/null || attacker_xchg "$SEC/r" dev devlink 30
		# At nice 19 the helper is preempted by the renamer mid-window.
		as "$ATTACKER" nice -n 19 "$MDT_HELPER" run --rootfs "$SEC/r" -- /bin/true < "$TARGET" >/dev/null 2>&1 || true
		[ -z "$(ls -A "$TARGET")" ] || break
	done
	kill_mine
	run ls -A "$TARGET"
	assert_output ""
}

@test "a rootfs component swapped for a symlink while the helper starts never yields another tree" {
	require gcc
	mkdir -p "$SEC/a"
	busybox_rootfs "$SEC/a/r" "$ATTACKER"
	echo MINE > "$SEC/a/r/marker"
	# A tree the attacker may not use: root's, outside every rule.
	TARGET=$(mktemp -d /var/tmp/sec-victim.XXXXXX)
	chmod 755 "$TARGET"
	busybox_rootfs "$TARGET/r" root
	echo VICTIM > "$TARGET/r/marker"
	ln -s "$TARGET" "$SEC/b"
	chown -h "$ATTACKER:" "$SEC/b" "$SEC/a"
	attacker_xchg "$SEC" a b 15
	for _ in $(seq 25); do
		as "$ATTACKER" nice -n 19 "$MDT_HELPER" run --rootfs "$SEC/a/r" -- /bin/cat /marker 2>&1 || true
	done > "$SEC/out"
	kill_mine
	run grep -c VICTIM "$SEC/out"
	assert_output 0
	# Every line is the container's own marker or one of the refusals.
	run grep -v -e '^MINE$' -e "^mdhelper: rootfs $SEC/a/r: $SEC/a is a symbolic link$" \
		-e "^mdhelper: rootfs $SEC/a/r: not found or not accessible$" \
		-e "^mdhelper: rootfs $SEC/a/r changed while the container was starting$" "$SEC/out"
	assert_output ""
}

@test "SIGKILL of the helper at any moment of the start leaves no cgroup behind a gc" {
	busybox_rootfs "$SEC/r" "$ATTACKER"
	# The caller can kill the helper only once the command runs (it has
	# their real uid then); before, the kill fails (SECURITY.md 38).
	# Either way nothing may be left behind a gc.
	for d in 0.005 0.02 0.05 0.5; do
		as "$ATTACKER" sh -c "'$MDT_HELPER' run --name sec-kill-${d#0.} --rootfs '$SEC/r' -- /bin/sleep 2 >/dev/null 2>&1 & sleep $d; kill -KILL \$! 2>/dev/null; true" || true
	done
	sleep 2.5
	# The student cannot stop SIGKILL; what it leaves is collected by the
	# next start or by `mdhelper gc`, which anyone permitted may run.
	run as "$ATTACKER" "$MDT_HELPER" gc
	assert_status 0
	run sh -c "find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path '*/$MDT_CGNAME/sec-kill-*'"
	assert_output ""
}

@test "the caller can read nothing of a stopped helper or of its child before exec" {
	busybox_rootfs "$SEC/r" "$ATTACKER"
	cat > "$SEC/peek.sh" <<'S'
# Stop the helper at a moment of its start, then try every /proc door into
# the helper and its children that still run with root's effective uid.
H=$1 R=$2 d=$3
"$H" run --rootfs "$R" -- /bin/sleep 2 >/dev/null 2>&1 &
p=$!
sleep "$d"
kill -STOP "$p"
for q in $p $(pgrep -P "$p"); do
	[ "$(awk '/^Uid/{print $3}' "/proc/$q/status")" = 0 ] || continue
	echo "peeked $q"
	for f in root cwd exe; do readlink "/proc/$q/$f" >/dev/null 2>&1 && echo "LEAK $q $f"; done
	ls "/proc/$q/fd" >/dev/null 2>&1 && echo "LEAK $q fd"
	for f in environ mem auxv; do head -c1 "/proc/$q/$f" >/dev/null 2>&1 && echo "LEAK $q $f"; done
done
kill -CONT "$p"
kill -KILL $(pgrep -P "$p" -x sleep) 2>/dev/null
wait "$p"
exit 0
S
	chown "$ATTACKER" "$SEC/peek.sh"
	for d in 0.005 0.02 0.05 0.2; do
		# Another suite's `pkill -u` may cut a round short: count what ran.
		as "$ATTACKER" sh "$SEC/peek.sh" "$MDT_HELPER" "$SEC/r" "$d" || true
	done > "$SEC/out" 2>&1
	run grep -c peeked "$SEC/out"
	[ "$output" -ge 2 ]
	run grep LEAK "$SEC/out"
	assert_output ""
}

@test "too many, too long or too large arguments and environments are refused with one line" {
	local big
	big=$(head -c 65537 /dev/zero | tr '\0' a)
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- echo "$big"
	assert_status 125
	assert_output "mdhelper: argument 6 is too long"
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- $(seq 1100)
	assert_status 125
	assert_output "mdhelper: too many arguments"
	big=$(head -c 60000 /dev/zero | tr '\0' a)
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- echo $big $big $big $big $big $big $big $big $big
	assert_status 125
	assert_output "mdhelper: arguments are too long altogether"
	run as "$MDT_USER" env $(seq -f 'V%g=1' 4100) "$MDT_HELPER" check
	assert_status 125
	assert_output "mdhelper: the environment is too large"
}

@test "options after -- are the command's, and a value that looks like an option is only a value" {
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- echo --rootfs / --userns host
	assert_status 0
	assert_output "--rootfs / --userns host"
	run mdh_as "$MDT_USER" run --hostname --rootfs / -- true
	assert_status 125
	assert_output "mdhelper: invalid hostname: --rootfs (a-z, 0-9 and -, at most 63 characters)"
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" --workdir
	assert_status 125
	assert_output "mdhelper: --workdir needs a value"
}

@test "with fds 0, 1 and 2 closed at start the container gets only the null devices there" {
	run as "$MDT_USER" sh -c "'$MDT_HELPER' run --rootfs '$MDT_SYSROOTFS/default' -- ls -l /proc/self/fd/0 /proc/self/fd/2 0<&- 2>&-"
	# glibc gives a setuid program /dev/full (write-only) for a closed
	# stdin, and /dev/null for a closed stdout or stderr.
	assert_status 0
	[[ "${lines[0]}" = *"/0 -> /dev/full" || "${lines[0]}" = *"/0 -> /dev/null" ]]
	[[ "${lines[1]}" = *"/2 -> /dev/null" ]]
	run as "$MDT_USER" sh -c "'$MDT_HELPER' check 0<&- 1>&- 2>&-; echo \$?"
	assert_output 0
}

@test "a device node planted in a user's rootfs cannot be opened (nodev)" {
	busybox_rootfs "$SEC/r" "$ATTACKER"
	# A user cannot mknod; root plants one as a tar unpacked by root might.
	mknod -m 666 "$SEC/r/null" c 1 3
	chown "$ATTACKER:" "$SEC/r/null"
	run mdh_as "$ATTACKER" run --rootfs "$SEC/r" -- /bin/sh -c 'echo x > /null && echo opened'
	assert_status 1
	assert_output_contains "Permission denied"
	[[ "$output" != *opened* ]]
}

@test "a setuid binary in the rootfs does not raise a container user's ids" {
	require gcc
	local r=/home/$MDT_USER/sec-suid
	busybox_rootfs "$r" "$MDT_USER"
	install -o "$MDT_USER" -m 4755 "$BATS_FILE_TMPDIR/ids" "$r/bin/ids"
	# Container uid 1000 (a subordinate id of mdtest1) runs the container
	# root's setuid binary: with nosuid and no_new_privs it stays 1000.
	run mdh_as "$MDT_USER" run --rootfs "$r" -- /bin/ids 1000 /bin/ids
	assert_status 0
	assert_output "ruid=1000 euid=1000 suid=1000"
}

@test "a rootfs below a directory writable by another group is refused" {
	local r=/home/$MDT_USER/sec-grp/r
	busybox_rootfs "$r" "$MDT_USER"
	chgrp mdtestgrp "/home/$MDT_USER/sec-grp"
	chmod 775 "/home/$MDT_USER/sec-grp"
	run mdh_as "$MDT_USER" run --rootfs "$r" -- /bin/true
	assert_status 125
	assert_output "mdhelper: rootfs $r: /home/$MDT_USER/sec-grp is writable by its group"
}

@test "a container name in use by another user is refused and that container is untouched" {
	busybox_rootfs "$SEC/r" "$ATTACKER"
	mdh_as "$ATTACKER" run --name sec-shared --rootfs "$SEC/r" -- /bin/sleep 5 >/dev/null 2>&1 &
	wait_for 30 test -e "$MDT_RUN/containers/sec-shared"
	run mdh_as "$MDT_USER" run --name sec-shared --rootfs "$MDT_SYSROOTFS/default" -- true
	assert_status 125
	assert_output "mdhelper: the name sec-shared is in use by another container"
	pgrep -f -- "--name sec-shared --rootfs $SEC/r" >/dev/null
}

@test "TERM is passed to the container only when it is a plain terminal name" {
	require script
	run as "$MDT_USER" env 'TERM=xterm;$(id)' script -qec "'$MDT_HELPER' run --rootfs '$MDT_SYSROOTFS/default' -- sh -c 'echo \"TERM=\${TERM-unset}\"'" /dev/null
	assert_status 0
	assert_output_contains "TERM=unset"
	run as "$MDT_USER" env TERM=xterm-256color script -qec "'$MDT_HELPER' run --rootfs '$MDT_SYSROOTFS/default' -- sh -c 'echo \"TERM=\${TERM-unset}\"'" /dev/null
	assert_output_contains "TERM=xterm-256color"
}

@test "container root cannot write through /proc/self/exe and cannot see the helper" {
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- sh -c 'echo x >> /proc/self/exe && echo wrote'
	[ "$status" -ne 0 ]
	[[ "$output" != *wrote* ]]
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- cat /proc/self/mountinfo
	assert_status 0
	[[ "$output" != *libexec* ]]
	[[ "$output" != *" /home"* ]]
}

@test "config junk is refused with file:line: NUL byte, long line, too many rules, bad numbers" {
	printf 'permit :mdtestgrp rootfs=~\0\n' | write_conf
	run mdh_as "$MDT_USER" check
	assert_status 125
	assert_output "mdhelper: $MDT_CONF:1: NUL byte"
	{ echo "# $(head -c 5000 /dev/zero | tr '\0' x)"; } | write_conf
	run mdh_as "$MDT_USER" check
	assert_output "mdhelper: $MDT_CONF:1: line too long"
	seq -f 'permit u%g' 10001 | write_conf
	run mdh_as "$MDT_USER" check
	assert_output "mdhelper: $MDT_CONF:10001: too many rules (at most 10000)"
	for n in 12abc -1 '' 99999999999999999999 18446744073709551616K; do
		echo "permit :mdtestgrp memory=$n rootfs=~" | write_conf
		run mdh_as "$MDT_USER" check
		assert_status 125
		assert_output "mdhelper: $MDT_CONF:1: bad memory: $n"
	done
	head -c 1100000 /dev/zero | tr '\0' '\n' | write_conf
	run mdh_as "$MDT_USER" check
	assert_output "mdhelper: $MDT_CONF: file too large"
}

@test "a rootfs= with a trailing slash is a config error, not a wider prefix" {
	write_conf <<CONF
permit :mdtestgrp rootfs=/home/$MDT_USER/sec-allowed/
CONF
	run mdh_as "$MDT_USER" check
	assert_status 125
	assert_output "mdhelper: $MDT_CONF:1: bad rootfs: /home/$MDT_USER/sec-allowed/"
}

@test "every allow and deny is logged to syslog authpriv" {
	[ ! -e /dev/log ] || skip "a syslog daemon owns /dev/log"
	require python3
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "wb", buffering=0)
while True:
    out.write(s.recv(4096) + b"\n")
' "$BATS_TEST_TMPDIR/syslog" &
	LOGGER_PID=$!
	for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
	mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- true
	mdh_as "$MDT_USER" run --hostname 'a b' --rootfs "$MDT_SYSROOTFS/default" -- true || true
	sleep 0.3
	# authpriv is facility 10: <86> is info (allow), <85> notice (deny).
	run grep -c "^<86>.*mdhelper\[[0-9]*\]: allow user=$MDT_USER uid=$(id -u "$MDT_USER"): run " "$BATS_TEST_TMPDIR/syslog"
	[ "$output" -ge 1 ]
	run grep -c "^<85>.*mdhelper\[[0-9]*\]: deny user=$MDT_USER uid=$(id -u "$MDT_USER"): invalid hostname: a b" "$BATS_TEST_TMPDIR/syslog"
	[ "$output" -ge 1 ]
}

@test "the container's /dev is minimal and /proc, /dev, /sys are mounted without suid, devices or exec" {
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- sh -c 'echo $(ls /dev); echo $(ls /dev/pts); cat /proc/self/mountinfo'
	assert_status 0
	assert_output_contains "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"
	[ "${lines[1]}" = ptmx ]
	echo "$output" | grep -q ' /proc rw,nosuid,nodev,noexec[, ].* - proc '
	echo "$output" | grep -q ' /proc/sys ro,nosuid,nodev,noexec[, ]'
	# This kernel may have no magic SysRq: guard it only where it exists.
	[ ! -e /proc/sysrq-trigger ] || echo "$output" | grep -q ' /proc/sysrq-trigger ro,nosuid,nodev,noexec[, ]'
	echo "$output" | grep -q ' /dev rw,nosuid,noexec[, ].* - tmpfs '
	echo "$output" | grep -q ' /dev/pts rw,nosuid,noexec[, ].* - devpts .*ptmxmode=666'
	echo "$output" | grep -q ' /sys ro,nosuid,nodev,noexec[, ].* - sysfs '
}

@test "a rootfs whose /dev or /sys is a symlink is refused" {
	busybox_rootfs "$SEC/r" "$ATTACKER"
	rmdir "$SEC/r/dev"
	ln -s /etc "$SEC/r/dev"
	run mdh_as "$ATTACKER" run --rootfs "$SEC/r" -- /bin/true
	assert_status 125
	assert_output "mdhelper: the rootfs's /dev is not a directory (a symlink is refused)"
	rm "$SEC/r/dev"
	mkdir "$SEC/r/dev"
	rmdir "$SEC/r/sys"
	ln -s /etc "$SEC/r/sys"
	run mdh_as "$ATTACKER" run --rootfs "$SEC/r" -- /bin/true
	assert_status 125
	assert_output "mdhelper: the rootfs's /sys is not a directory (a symlink is refused)"
	mounts_unchanged
}

@test "a /dev/null symlink planted in the rootfs is hidden by the fresh /dev" {
	busybox_rootfs "$SEC/r" "$ATTACKER"
	echo secret > "$SEC/r/etc/victim"
	ln -s /etc/victim "$SEC/r/dev/null"
	chown -R "$ATTACKER:" "$SEC/r"
	run mdh_as "$ATTACKER" run --rootfs "$SEC/r" -- /bin/sh -c 'echo overwritten > /dev/null; cat /dev/null; ls -l /dev/null'
	assert_status 0
	assert_output_contains "1,   3"
	[ "$(cat "$SEC/r/etc/victim")" = secret ]
}

@test "container root's capabilities buy nothing over host root's files and /dev" {
	# Read-only, without the writable layer: through it (its idmapped lower
	# layer) a system rootfs's files are container root's (tests/binds.bats).
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" --layer read-only -- ls /root
	assert_status 1
	assert_output "ls: can't open '/root': Permission denied"
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- touch /dev/x
	assert_output "touch: /dev/x: Permission denied"
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- chmod 600 /dev/null
	assert_output "chmod: /dev/null: Operation not permitted"
	run mdh_as "$MDT_USER" run --rootfs "$MDT_SYSROOTFS/default" -- mknod /tmp/mem c 1 1
	assert_status 1
	assert_output_contains "Operation not permitted"
}

# ---- mdctl.sh exec, kill, ps and mdrun.sh -d (issue 5) ----

@test "a joining process stopped before exec shows its owner nothing through /proc or ptrace" {
	require script bash
	as_user mdrun.sh -d -n sec-web -- /home/loop
	# A background job that wants the terminal stops on SIGTTOU in
	# tcsetattr: the helper then holds its child, already the caller's
	# uid, between READY and GO, just before exec (runc's CVE-2016-9962:
	# container root ptraced runc exec's process). The helper itself is
	# root's through and through: found by session, not by the caller's uid.
	mine=$(mktemp -d /home/mdtest1/sec-XXXXXX)
	cat > "$mine/peek.sh" <<'S'
set -m
mdctl.sh exec -it sec-web -- true &
for _ in $(seq 50); do
	h=$(pgrep -o -s 0 -f "mdhelper exec")
	[ -n "$h" ] && [ "$(awk '/^State/{print $2}' "/proc/$h/status")" = T ] && break
	sleep 0.1
done
c=$(pgrep -P "$h")
echo "child uid $(awk '/^Uid/{print $2, $3}' "/proc/$c/status")"
for f in root cwd exe; do readlink "/proc/$c/$f" >/dev/null 2>&1 && echo "LEAK $f"; done
ls "/proc/$c/fd" >/dev/null 2>&1 && echo "LEAK fd"
for f in environ mem auxv syscall stack; do head -c1 "/proc/$c/$f" >/dev/null 2>&1 && echo "LEAK $f"; done
if command -v strace >/dev/null; then
	timeout 2 strace -p "$c" -o /dev/null 2>&1 | grep -q 'Operation not permitted' || echo "LEAK ptrace"
fi
exec 2>/dev/null # not bash's note of the job it ends
kill -KILL "$h" && echo "LEAK kill"
kill -KILL "$c"
S
	chmod 755 "$mine"
	chmod 644 "$mine/peek.sh"
	run as_user script -qec "bash $mine/peek.sh" /dev/null
	output=${output//$'\r'/}
	assert_output "child uid $(id -u mdtest1) $(id -u mdtest1)"
}

@test "container root cannot reach a joining process stopped before exec" {
	require script bash
	as_user mdrun.sh -d -n sec-web -- /home/loop
	mine=$(mktemp -d /home/mdtest1/sec-XXXXXX)
	cat > "$mine/hold.sh" <<'S'
set -m
mdctl.sh exec -it sec-web -- true &
sleep 30
S
	chmod 755 "$mine"
	chmod 644 "$mine/hold.sh"
	as_user script -qec "bash $mine/hold.sh" /dev/null >/dev/null &
	for _ in $(seq 50); do
		[ "$(pgrep -o -f "$MDT_ROOT/.*mdhelper exec" | xargs -r -I{} awk '/^State/{print $2}' /proc/{}/status)" = T ] && break
		sleep 0.1
	done
	# From a second exec, as the container's root (CAP_SYS_PTRACE in its
	# user namespace), every door into the first one, which is still the
	# helper's process until its exec.
	cat > "$mine/probe.sh" <<'S'
for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = mdhelper ] && break; done
echo "found $(cat $p/comm)"
for f in root cwd exe; do readlink $p/$f >/dev/null 2>&1 && echo LEAK $f || echo shut $f; done
ls $p/fd >/dev/null 2>&1 && echo LEAK fd || echo shut fd
for f in environ mem; do head -c1 $p/$f >/dev/null 2>&1 && echo LEAK $f || echo shut $f; done
S
	chmod 644 "$mine/probe.sh"
	run ctl exec sec-web -- sh < "$mine/probe.sh"
	assert_output "$(printf 'found mdhelper\nshut root\nshut cwd\nshut exe\nshut fd\nshut environ\nshut mem')"
	pkill -KILL -f "$MDT_ROOT/.*mdhelper exec" || true
	pkill -KILL -u mdtest1 -f "$mine/hold.sh" || true
}

@test "an exec'd command gets only fds 0-2 and none of the caller's environment" {
	as_user mdrun.sh -d -n sec-web -H lab1 -- /home/loop
	# ls's own directory fd is 3: anything else would be the helper's.
	run ctl exec sec-web -- sh -c 'ls /proc/self/fd | tr "\n" " "'
	assert_output "0 1 2 3 "
	run as_user env SECRET=1 LD_PRELOAD=/nonexistent.so TERM=vt100 "$MDT_HELPER" exec sec-web -- env
	assert_output "$(printf 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOME=/root\ncontainer=minidocker\nHOSTNAME=lab1')"
}

@test "a container that puts a file over /dev/pts/ptmx in its own namespaces gets no pty from exec" {
	require script
	# Container root may make a user and mount namespace of its own as
	# PID 1 and mount anything over its /dev: the helper then receives
	# whatever exec's process opened there as the pty master. Nested user
	# namespaces need a rule that allows them (SECURITY.md 45).
	write_conf <<CONF
permit :mdtestgrp memory=512M cpus=0-63 pids=256 containers=3 nested=yes rootfs=$MDT_SYSROOTFS rootfs=~
CONF
	as_user mdrun.sh -d -n sec-swap -- /bin/busybox unshare -U -r -m /bin/sh -c \
		'mount -t tmpfs t /mnt && echo FAKE > /mnt/fake && mount --bind /mnt/fake /dev/pts/ptmx && exec /home/loop'
	for _ in $(seq 50); do ctl exec sec-swap -- cat /dev/pts/ptmx 2>/dev/null | grep -q FAKE && break; sleep 0.1; done
	run as_user script -qec "mdctl.sh exec -it sec-swap -- cat /dev/pts/ptmx" /dev/null
	output=${output//$'\r'/}
	assert_output "mdhelper: unlocking the pty: Inappropriate ioctl for device"
	# A devpts of its own is a real pty: harmless, and it works.
	as_user mdrun.sh -d -n sec-pts -- /bin/busybox unshare -U -r -m /bin/sh -c \
		'mount -t devpts -o newinstance,ptmxmode=666 d /dev/pts && exec /home/loop'
	sleep 0.3
	run as_user script -qec "mdctl.sh exec -it sec-pts -- tty" /dev/null
	output=${output//$'\r'/}
	assert_output "/dev/pts/0"
}

@test "kill takes only signals 1-64 or a name, and sends them to PID 1 alone" {
	as_user mdrun.sh -d -n sec-web -- /home/loop
	for s in 0 65 -1 99999999999 FOO 1x ''; do
		run as_user "$MDT_HELPER" kill --signal "$s" sec-web
		assert_status 125
		assert_output "mdhelper: unknown signal: $s (a name such as TERM or KILL, or a number 1-64)"
	done
	helper=$(monitor_of sec-web)
	# PID 1 has no handler for these: they change nothing, the monitor
	# least of all.
	for s in 34 64 USR1 HUP; do
		run ctl kill -s "$s" sec-web
		assert_status 0
	done
	[ "$(monitor_of sec-web)" = "$helper" ]
	[ -e "/proc/$helper" ]
	pgrep -u mdtest1 -x loop >/dev/null
}

@test "another student can signal neither a container's monitor nor its processes" {
	as_user mdrun.sh -d -n sec-web -- /home/loop
	helper=$(monitor_of sec-web)
	run as mdtest2 kill -KILL "$helper"
	assert_output_contains "Operation not permitted"
	run as mdtest2 kill -KILL "$(pgrep -u mdtest1 -x loop)"
	assert_output_contains "Operation not permitted"
	run as mdtest2 mdctl.sh stop -t 0 sec-web
	assert_status 125
	assert_output "mdhelper: no such container: sec-web"
	[ "$(monitor_of sec-web)" = "$helper" ]
	[ -e "/proc/$helper" ]
}

@test "mdmonitor run by a student has nothing to use: not their container, not root's files" {
	local monitor pid
	as mdtest2 mdrun.sh -d -n sec-theirs -- /home/loop
	monitor=$(monitor_of sec-theirs)
	pid=$(pgrep -u mdtest2 -x loop)
	# Another user's container: not this process's child, and no pidfd
	# of it on fd 3 (SECURITY.md 41).
	run as_user "$MDT_LIBEXEC/mdmonitor" sec-theirs "$pid" - 0 0
	assert_status 125
	assert_output "mdhelper: mdmonitor: fd 3 is not the pidfd of a child of ours"
	# Its own child under that container's name: it waits, then can
	# remove nothing of root's.
	run as_user sh -c "sleep 0.2 & exec $MDT_LIBEXEC/mdmonitor sec-theirs \$! 10.0.0.1 1 0"
	[ "$(monitor_of sec-theirs)" = "$monitor" ]
	[ -e "/proc/$monitor" ]
	[ -e "$MDT_RUN/containers/sec-theirs" ]
	pgrep -u mdtest2 -x loop >/dev/null
	[ -n "$(find /sys/fs/cgroup -path "*/$MDT_CGNAME/sec-theirs" -type d)" ]
	for bad in "../x 1 - 0 0" "sec-theirs 0 - 0 0" "sec-theirs 1 10.0.0.300 0 0" "sec-theirs 1 - 2 0" "sec-theirs 1 - 0 x" "a b"; do
		# shellcheck disable=SC2086 # the words are the arguments
		run as_user "$MDT_LIBEXEC/mdmonitor" $bad
		assert_status 125
	done
	pkill -KILL -u mdtest2 -x loop
}

@test "a detached start is refused, leaving nothing, when mdmonitor is not root's" {
	local m=$MDT_LIBEXEC/mdmonitor
	chown mdtest1 "$m"
	run as_user mdrun.sh -d -n sec-mon -- /home/loop
	chown root "$m"
	assert_status 125
	assert_output "mdhelper: $m is not owned by root"
	[ ! -e "$MDT_RUN/containers/sec-mon" ]
	registry_empty
	refute pgrep -u mdtest1 -x loop
}

@test "a command's newlines and escape sequences reach ps as ? and forge no entry" {
	# Line 2 of an entry is "pid start created detached memory pids cpus
	# hostname": a newline in argv could otherwise plant another pid.
	as_user mdrun.sh -d -n sec-inj -- /bin/sh -c 'exec /home/loop' \
		"$(printf '\033[2J\033]0;owned\a\n1 1 0 1 0 0 - x\nX"\\')"
	run ctl ps
	assert_output_contains "$(printf '/bin/sh -c exec /home/loop ?[2J?]0;owned??1 1 0 1 0 0 - x?X"\\')"
	run ctl ps --format json
	assert_output_contains '"command":"/bin/sh -c exec /home/loop ?[2J?]0;owned??1 1 0 1 0 0 - x?X\"\\"}'
	[ "$(wc -l < "$MDT_RUN/containers/sec-inj")" -eq 3 ]
	run as_user mdrun.sh -d -n sec-h -H 'a 1' -- /home/loop
	assert_status 125
	assert_output "mdhelper: invalid hostname: a 1 (a-z, 0-9 and -, at most 63 characters)"
}

@test "a log that is a fifo, another user's file or in another user's directory is refused and left intact" {
	logs=/home/mdtest1/.local/state/minidocker/logs
	as_user mkdir -p "$logs"
	as_user mkfifo "$logs/sec-f.log"
	run as_user mdrun.sh -d -n sec-f -- /home/loop
	assert_status 125
	assert_output "mdhelper: log $logs/sec-f.log: cannot create it (the directory must exist, be yours and have no symbolic link on the way)"
	# A hardlink to another student's file that the caller may write.
	echo secret > /home/mdtest2/victim
	chown mdtest2: /home/mdtest2/victim
	chmod 666 /home/mdtest2/victim
	as_user ln /home/mdtest2/victim "$logs/sec-h.log"
	run as_user mdrun.sh -d -n sec-h -- /home/loop
	assert_status 125
	assert_output "mdhelper: log $logs/sec-h.log: not a regular file of yours"
	[ "$(cat /home/mdtest2/victim)" = secret ]
	# A directory another student may write (and plant NAME.log in).
	install -d -o mdtest2 -m 1777 /home/mdtest2/shared
	run as_user "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" --name sec-o --detach /home/mdtest2/shared -- /home/loop
	assert_status 125
	assert_output "mdhelper: log /home/mdtest2/shared/sec-o.log: cannot create it (the directory must exist, be yours and have no symbolic link on the way)"
	[ -z "$(ls -A /home/mdtest2/shared)" ]
	run as_user "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" --name sec-d --detach /dev -- /home/loop
	assert_status 125
	assert_output "mdhelper: log /dev/sec-d.log: cannot create it (the directory must exist, be yours and have no symbolic link on the way)"
	rm -rf /home/mdtest2/victim /home/mdtest2/shared
	registry_empty
}

@test "a /proc forged in a user's own namespaces does not pass for the host's" {
	require unshare
	# Root of a user namespace the user made is "real root" to the
	# setuid check; the uid_map check must not read a file of theirs.
	cat > "$SEC/forge.sh" <<'S'
mount -t tmpfs none /proc && mkdir /proc/self && echo '0 0 4294967295' > /proc/self/uid_map && exec "$1" ps
S
	chmod 644 "$SEC/forge.sh"
	run as "$ATTACKER" unshare -Urm sh "$SEC/forge.sh" "$MDT_HELPER"
	assert_status 125
	assert_output "mdhelper: must run in the host's user namespace, not under unshare or in a container"
	# A real procfs file there, init's own map, reads relative to the
	# reader's namespace, where host root has no uid.
	cat > "$SEC/bind.sh" <<'S'
touch "$2/m" && mount --bind /proc/1/uid_map "$2/m" && mount -t tmpfs none /proc && mkdir /proc/self &&
	touch /proc/self/uid_map && mount --bind "$2/m" /proc/self/uid_map && cat /proc/self/uid_map && exec "$1" ps
S
	chmod 644 "$SEC/bind.sh"
	run as "$ATTACKER" unshare -Urm sh "$SEC/bind.sh" "$MDT_HELPER" "$SEC"
	assert_status 125
	assert_output "$(printf '         0 4294967295 4294967295\nmdhelper: must run in the host'"'"'s user namespace, not under unshare or in a container')"
}

@test "root's terminal is never handed to another user's container" {
	require script
	as_user mdrun.sh -d -n sec-web -- /home/loop
	# Input from the terminal, output to a pipe: no pty, and a process left
	# in there could keep root's terminal to read what root types next.
	run script -qec "$MDT_HELPER exec sec-web -- true | cat" /dev/null
	output=${output//$'\r'/}
	assert_output "mdhelper: exec into another user's container: fd 0 is your terminal (use a terminal for both input and output, or redirect fd 0)"
	run script -qec "$MDT_HELPER exec sec-web -- ls /proc/self/fd </dev/null 2>/dev/null | tr '\n' ' '" /dev/null
	output=${output//$'\r'/}
	assert_output "0 1 2 3 "
	# The owner's own terminal stays theirs to pass.
	run as_user script -qec "mdctl.sh exec sec-web -- true | cat" /dev/null
	assert_status 0
	assert_output ""
}

@test "an entry whose PID 1 is gone and whose pid another user's process took is no container" {
	# Root forges what pid reuse would leave: a live helper of mdtest1's,
	# and a pid that now names mdtest2's process, started at another time.
	as_user sleep 60 &
	as mdtest2 sleep 60 &
	for _ in $(seq 50); do pgrep -u mdtest2 -x sleep >/dev/null && pgrep -u mdtest1 -x sleep >/dev/null && break; sleep 0.1; done
	mine=$(pgrep -u mdtest1 -x sleep)
	theirs=$(pgrep -u mdtest2 -x sleep)
	start() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }
	mkdir -p "$MDT_RUN/containers"
	printf '%s %s %s -\n%s %s %s 1 0 0 - x\nsleep 60\n' "$(id -u mdtest1)" "$mine" "$(start "$mine")" \
		"$theirs" "$(($(start "$theirs") + 1))" "$(date +%s)" > "$MDT_RUN/containers/sec-reuse"
	for cmd in "kill sec-reuse" "stop sec-reuse" "exec sec-reuse -- true" "stats sec-reuse"; do
		# shellcheck disable=SC2086 # the words of cmd are meant to split
		run ctl $cmd
		assert_status 125
		assert_output "mdhelper: no such container: sec-reuse"
	done
	kill -0 "$theirs"
	rm -f "$MDT_RUN/containers/sec-reuse"
	pkill -KILL -u mdtest1 -x sleep || true
	pkill -KILL -u mdtest2 -x sleep || true
}

@test "TIOCSTI from an exec'd command cannot inject into the caller's terminal" {
	require gcc script
	busybox_rootfs "$SEC/r" "$ATTACKER"
	cat > "$BATS_TEST_TMPDIR/sti.c" <<'C'
#include <stdio.h>
#include <sys/ioctl.h>
int main(void) { char c = 'x'; if (ioctl(0, TIOCSTI, &c) == 0) { puts("INJECTED"); return 1; } perror("TIOCSTI"); return 0; }
C
	gcc -static -o "$BATS_TEST_TMPDIR/sti" "$BATS_TEST_TMPDIR/sti.c"
	install -o "$ATTACKER" -m 755 "$BATS_TEST_TMPDIR/sti" "$SEC/r/bin/sti"
	mdh_as "$ATTACKER" run --rootfs "$SEC/r" --name sec-sti --detach "$SEC" -- /bin/sleep 60
	# stdin the caller's terminal, stdout not: no pty, the terminal passes
	# through to a process in a session of its own (CVE-2017-5226).
	run as "$ATTACKER" script -qec "$MDT_HELPER exec sec-sti -- /bin/sti | cat" /dev/null
	output=${output//$'\r'/}
	assert_output "TIOCSTI: Operation not permitted"
}

# ---- SECURITY.md 7: a group lookup that fails refuses everybody ----------

# The caller's rule is their own; a later `deny :mdtestgrp` names them.
deny_group_conf() {
	write_conf <<CONF
permit $MDT_USER memory=512M pids=256 rootfs=$MDT_SYSROOTFS
deny :mdtestgrp
permit root userns=host rootfs=$MDT_SYSROOTFS rootfs=/
CONF
}

@test "a student out of file descriptors at the group lookup is still denied by deny :GROUP" {
	local n denied=0
	deny_group_conf
	# RLIMIT_NOFILE of N: with too few fds, the group file's open would
	# fail with EMFILE and the deny would match nobody. The helper sets
	# its own limits first: every N gives the deny, never the command.
	# (fd 3, bats' own, closed: fds 0-2 are all the helper inherits.)
	for n in 4 5 6 7 8 10 12 16; do
		run as_user "$MDT_ROOT/libexec/minidocker/test/hostile" -f "$n" -- \
			"$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" -- /bin/echo ran 3>&-
		# Too few for the dynamic loader to open the helper's libraries
		# (a sanitized build opens more): it never ran, nothing to attack.
		[[ $status -ne 127 || $output != *"error while loading shared libraries"* ]] || continue
		assert_status 125
		assert_output "mdhelper: $MDT_USER is denied by $MDT_CONF:2"
		denied=$((denied + 1))
	done
	[ "$denied" -ge 6 ]
	assert_nothing_left
}

# Run the rest as USER (numeric ids: no group lookup of its own) in a
# private mount namespace where /etc/group cannot be read, not even by root:
# the group lookup fails (NSS down) as it could on a lab machine whose
# groups come from a directory service that is unreachable.
without_group_file() {
	local user=$1 uid gid groups
	shift
	uid=$(id -u "$user") gid=$(id -g "$user") groups=$(id -G "$user" | tr ' ' ,)
	# /proc/sys/vm/compact_memory is write-only, for root too (EACCES).
	unshare -m --propagation private sh -c '
		u=$1 g=$2 gs=$3
		shift 3
		mount --bind /proc/sys/vm/compact_memory /etc/group || exit 99
		cat /etc/group >/dev/null 2>&1 && exit 98
		exec setpriv --reuid="$u" --regid="$g" --groups="$gs" "$@"' \
		sh "$uid" "$gid" "$groups" env -i HOME="/home/$user" PATH=/usr/bin:/bin "$@"
}

@test "a group lookup that fails refuses everybody, root included, however the rules would match" {
	deny_group_conf
	# The lookup works: the deny denies, root is permitted.
	run as_user "$MDT_HELPER" check
	assert_status 125
	assert_output "mdhelper: $MDT_USER is denied by $MDT_CONF:2"
	run "$MDT_HELPER" check
	assert_status 0
	# It fails: "no such group" would let the student through line 1 and
	# run their command; a failure must refuse them, and root, instead.
	run without_group_file "$MDT_USER" "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" -- /bin/echo ran
	assert_status 125
	assert_output_contains "mdhelper: cannot look up group mdtestgrp ($MDT_CONF:2)"
	run without_group_file root "$MDT_HELPER" check
	assert_status 125
	assert_output_contains "mdhelper: cannot look up group mdtestgrp ($MDT_CONF:2)"
	assert_nothing_left
}

# ---- SECURITY.md 50: mdrun.sh -d run by root in a student's tree ----------

@test "root's mdrun.sh -d with a student's HOME or XDG_STATE_HOME writes nothing through the student's links" {
	# The links lead to a directory of root's: had mdrun.sh made its log
	# directory there, or the helper written the log, it could as well
	# have been /etc.
	local roots=$MDT_ROOT/state/sec-planted h=/home/$MDT_USER
	mkdir -p "$roots"
	as_user mkdir -p "$h/.local"
	as_user ln -s "$roots" "$h/.local/state"
	as_user ln -s "$roots" "$h/sec-state"
	# sudo -E: root keeps the student's HOME.
	run env HOME="$h" "$MDT_BIN/mdrun.sh" -d -n sec-root -- true
	assert_status 125
	assert_output "mdrun.sh: log directory $h/.local/state/minidocker/logs: $h belongs to another user: as root, mdrun.sh writes only where no other user can change the path (sudo -H, or XDG_STATE_HOME=DIR)"
	run env HOME=/root XDG_STATE_HOME="$h/sec-state" "$MDT_BIN/mdrun.sh" -d -n sec-root -- true
	assert_status 125
	assert_output "mdrun.sh: log directory $h/sec-state/minidocker/logs: $h belongs to another user: as root, mdrun.sh writes only where no other user can change the path (sudo -H, or XDG_STATE_HOME=DIR)"
	# A relative XDG_STATE_HOME would be the working directory's, which
	# may be the student's.
	run sh -c "cd '$h' && HOME=/root XDG_STATE_HOME=sec-state exec '$MDT_BIN/mdrun.sh' -d -n sec-root -- true"
	assert_status 125
	assert_output "mdrun.sh: XDG_STATE_HOME must be an absolute path: sec-state/minidocker/logs"
	run ls -A "$roots"
	assert_output ""
	rm -rf "$roots"
	[ ! -e "$MDT_RUN/containers/sec-root" ]
	assert_nothing_left
}
