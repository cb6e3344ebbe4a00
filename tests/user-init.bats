#!/usr/bin/env bats
# --user and --init, as the student runs them through mdrun.sh.
#
# --user UID[:GID]: the command runs as an id of the container's user
# namespace, which maps 0 to the caller and 1..count to their /etc/subuid
# and /etc/subgid range (mdtest1 has 65536, mdtest2 none: setup_suite);
# a non-zero uid holds no capability.
# --init: our static init (helper/init/mdinit.c) is PID 1, bound read-only
# and nosuid at /dev/mdinit from the installed file; the command is its
# child, gets the signals it receives, and its status is the container's.

load helper
bats_require_minimum_version 1.5.0

setup() {
	default_conf
}

teardown() {
	as_user tmux -L ui kill-server 2>/dev/null || true
	stop_containers mdtest1
	stop_containers mdtest2
	chmod 755 "$MDT_LIBEXEC/mdinit" 2>/dev/null || true
	rm -rf /home/mdtest1/.local/state
}

md() {
	as_user mdrun.sh "$@"
}

# ---- --user ----

@test "-u 1000:1000 runs the command as uid 1000 and gid 1000, with no supplementary group" {
	run md -u 1000:1000 -- sh -c 'id -u; id -g; id -G; echo "HOME=$HOME"'
	assert_status 0
	assert_output "$(printf '1000\n1000\n1000\nHOME=/')"
}

@test "-u 1000 is subordinate uid 999 of the caller's range on the host" {
	md -d -n ui-host -u 1000 -- sleep 100
	local p
	wait_for 10 pgrep -u 3000999 -x sleep
	p=$(pgrep -u 3000999 -x sleep)
	[ "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$p/status")" = "3000999 3000999 3000999 3000999" ]
	[ "$(awk '/^Gid:/ { print $2 }' "/proc/$p/status")" = "$(id -g mdtest1)" ]
}

@test "-u 1000 holds no capability: effective, permitted, inheritable and ambient are empty" {
	run md -u 1000 -- grep -E '^Cap(Inh|Prm|Eff|Amb):' /proc/self/status
	assert_status 0
	assert_output "$(printf 'CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000')"
}

@test "-u 1000 cannot do what container root can: write a root-owned file, chown" {
	run md -u 1000 -- sh -c 'echo x >/etc/passwd || echo refused; touch /tmp/f && chown 0 /tmp/f || echo refused'
	assert_status 0
	assert_output_contains "refused
"
	[ "$(echo "$output" | grep -c '^refused$')" = 2 ]
}

@test "-u 0 and -u 0:0 keep container root's capabilities" {
	run md -u 0:0 -- sh -c 'id -u; grep ^CapEff: /proc/self/status'
	assert_status 0
	assert_output "$(printf '0\nCapEff:\t00000000a80425fb')"
}

@test "a uid outside the caller's subordinate range is refused naming what is mapped" {
	run md -u 65537 -- id
	assert_status 125
	assert_output "mdhelper: --user 65537: uid 65537 is not mapped in the container: its uids are 0-65536 (0 is you, 1-65536 your range in /etc/subuid)"
	run md -u 1000:70000 -- id
	assert_status 125
	assert_output "mdhelper: --user 1000:70000: gid 70000 is not mapped in the container: its gids are 0-65536 (0 is you, 1-65536 your range in /etc/subgid)"
}

@test "--user without a subordinate range is refused; uid 0 still runs" {
	run as mdtest2 mdrun.sh -u 1000 -- id
	assert_status 125
	assert_output "mdhelper: --user 1000: you have no subordinate uids in /etc/subuid, so only uid 0 (you) is mapped in the container; ask your administrator for a range (see INSTALL)"
	run as mdtest2 mdrun.sh -u 0 -- id -u
	assert_status 0
	assert_output "0"
}

@test "--user takes numbers only" {
	for bad in root 1000: :1000 -1 1e3 1000:1000:1 4294967295 ''; do
		run md -u "$bad" -- id
		assert_status 125
		assert_output "mdhelper: --user: not a uid[:gid] of numbers: $bad"
	done
}

# ---- --init ----

@test "--init: PID 1 is mdinit, the command is PID 2, and both hold only fds 0-2" {
	run md --init -- sh -c 'echo $$; tr "\0" " " </proc/1/cmdline; echo; ls /proc/1/fd; ls /proc/self/fd'
	assert_status 0
	assert_output "$(printf '2\n/dev/mdinit -- sh -c echo $$; tr "\\0" " " </proc/1/cmdline; echo; ls /proc/1/fd; ls /proc/self/fd \n0\n1\n2\n0\n1\n2\n3')"
}

@test "without --init there is no /dev/mdinit" {
	run md -- sh -c 'echo $$; ls /dev/mdinit'
	assert_status 1
	assert_output_contains "1
"
}

@test "--init passes the command's exit status, 128+N for a signal, 127 for a missing command" {
	run md --init -- sh -c 'exit 7'
	assert_status 7
	run md --init -- sh -c 'kill -USR1 $$'
	assert_status 138
	run -127 md --init -- nosuch
	assert_output "mdinit: nosuch: command not found"
}

@test "--init: TERM to mdrun.sh reaches a command with no handler, which ends with 143" {
	SECONDS=0
	run as_user timeout --preserve-status -k 10 -s TERM 2 mdrun.sh --init -- /home/loop
	assert_status 143
	[ "$SECONDS" -lt 8 ]
	assert_nothing_left
}

@test "--init: timeout 2 ends /home/loop in about 2 s with 124" {
	SECONDS=0
	run as_user timeout -k 10 2 mdrun.sh --init -- /home/loop
	assert_status 124
	[ "$SECONDS" -lt 8 ]
	assert_nothing_left
}

@test "--init reaps an orphan: a child that double-forks and exits leaves no zombie" {
	# The grandchild is handed to PID 1 when its parent exits; once it has
	# exited too, only its new parent, the init, can make its /proc entry
	# go (the shell, PID 2, is not its parent and cannot reap it).
	run md --init -- sh -c '
		[ $$ = 2 ] || echo "not under the init"
		sh -c "sleep 0.3 & echo \$! >/tmp/orphan"
		o=$(cat /tmp/orphan)
		[ "$(awk "/^PPid:/ { print \$2 }" /proc/$o/status)" = 1 ] || echo "not an orphan"
		for i in $(seq 100); do [ -e /proc/$o ] || { echo reaped; exit 0; }; sleep 0.1; done
		grep ^State: /proc/$o/status'
	assert_status 0
	assert_output "reaped"
}

@test "the init is a read-only, nosuid, nodev bind of the installed file" {
	run md --init -- sh -c 'grep " /dev/mdinit " /proc/self/mountinfo; md5sum </dev/mdinit'
	assert_status 0
	echo "$output" | grep -q '^[0-9]* [0-9]* [0-9:]* [^ ]* /dev/mdinit ro,nosuid,nodev[, ]'
	[ "$(echo "$output" | tail -1 | cut -d' ' -f1)" = "$(md5sum <"$MDT_LIBEXEC/mdinit" | cut -d' ' -f1)" ]
}

@test "container root cannot replace, write, remove or unmount the init" {
	run md --init -- sh -c '
		exec 2>/dev/null
		echo x >/dev/mdinit && echo wrote
		echo x >/proc/1/exe && echo wrote-exe
		cp /bin/sh /dev/mdinit 2>/dev/null && echo copied
		rm -f /dev/mdinit 2>/dev/null; [ -e /dev/mdinit ] || echo removed
		mv /dev/mdinit /dev/x 2>/dev/null && echo moved
		umount /dev/mdinit 2>/dev/null && echo unmounted
		mount -o remount,rw,bind /dev/mdinit 2>/dev/null && echo remounted
		md5sum </dev/mdinit'
	assert_status 0
	assert_output "$(md5sum <"$MDT_LIBEXEC/mdinit")"
}

@test "--init is refused in one line when the installed init is writable by group" {
	chmod 775 "$MDT_LIBEXEC/mdinit"
	run md --init -- true
	assert_status 125
	assert_output "mdhelper: $MDT_LIBEXEC/mdinit is writable by group or other"
	assert_nothing_left
}

@test "-d --init: stop sends TERM through the init to the command, and exec (-u too) joins the container" {
	md -d -n ui-stop --init -- sh -c 'trap "echo got-term; exit 3" TERM; while :; do sleep 0.1; done'
	run ctl exec ui-stop -- sh -c 'tr "\0" " " </proc/1/cmdline'
	assert_status 0
	assert_output_contains "/dev/mdinit -- sh -c"
	run ctl exec -u 1000:1000 ui-stop -- sh -c 'id -u; id -g; grep ^CapEff: /proc/self/status'
	assert_status 0
	assert_output "$(printf '1000\n1000\nCapEff:\t0000000000000000')"
	run ctl exec -u 65537 ui-stop -- id
	assert_status 125
	assert_output "mdhelper: --user 65537: uid 65537 is not mapped in the container: its uids are 0-65536 (0 is you, 1-65536 your range in /etc/subuid)"
	SECONDS=0
	run ctl stop -t 30 ui-stop
	assert_status 0
	[ "$SECONDS" -lt 20 ]
	wait_for 10 grep -q got-term /home/mdtest1/.local/state/minidocker/logs/ui-stop.log
	assert_nothing_left
}

@test "--init -u 1000: the init and the command both run as uid 1000 without capabilities" {
	run md --init -u 1000 -- sh -c 'for p in 1 $$; do grep -E "^(Uid|CapEff):" /proc/$p/status; done'
	assert_status 0
	assert_output "$(printf 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000')"
}

@test "--init: Ctrl-C on the terminal ends /home/loop" {
	require tmux
	as_user tmux -L ui new-session -d -s ui -x 80 -y 24 "mdrun.sh --init -- /home/loop; echo status=\$?; sleep 30"
	wait_for 10 pgrep -u mdtest1 -x loop
	as_user tmux -L ui send-keys -t ui C-c
	wait_for 10 sh -c 'runuser -u mdtest1 -- tmux -L ui capture-pane -p -t ui | grep -q status='
	run as_user tmux -L ui capture-pane -p -t ui
	assert_output_contains "status=130"
	as_user tmux -L ui kill-server || true
	assert_nothing_left
}
