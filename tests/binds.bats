#!/usr/bin/env bats
# Bind mounts (-v, --mount) within the rule's bind= trees, and the
# throw-away writable layer (--read-only, --ephemeral), seen by a student
# and tried by an attacker (issue 16). Every refusal with its exact message.

load helper

LAB=/home/mdtest1/lab
OTHER=/home/mdtest2/private
# A shared read-only tree (bind=DIR:ro), where students can reach it.
RO=$MDT_ROOT/bind-ro

setup() {
	write_conf <<CONF
permit :mdtestgrp memory=512M cpus=0-63 pids=256 containers=3 rootfs=$MDT_SYSROOTFS rootfs=~ bind=~ bind=/home bind=$RO:ro
permit root userns=host rootfs=$MDT_SYSROOTFS rootfs=/
CONF
	USER_ROOTFS=/home/$MDT_USER/.local/share/minidocker/rootfs
	as_user mkdir -p "$LAB"
	as_user sh -c "echo hello > $LAB/f"
	mkdir -p "$RO"
	echo shared > "$RO/data"
	chmod 755 "$RO"
	mountinfo_before=$(cat /proc/self/mountinfo)
}

teardown() {
	stop_containers
	rm -rf "$LAB" "$USER_ROOTFS" "$OTHER" "/home/$MDT_USER/link" "$RO"
}

md() {
	as_user mdrun.sh --net none "$@"
}

user_rootfs() {
	as_user mdrootfs.sh busybox mine >/dev/null
}

@test "-v binds a directory of the student's read-write, -w starts there, and the host sees what was written" {
	run as_user sh -c "cd ~ && mdrun.sh --net none -v ./lab:/work -w /work -- sh -c 'pwd; cat f; echo made > new'"
	assert_status 0
	assert_output "$(printf '/work\nhello')"
	[ "$(cat "$LAB/new")" = made ]
	[ "$(stat -c %U "$LAB/new")" = "$MDT_USER" ]
	mounts_unchanged
}

@test "a read-only bind cannot be written or remounted by container root" {
	run md -v "$LAB:/data:ro" -- sh -c 'cat /data/f; echo x > /data/y; mount -o remount,rw /data; touch /data/z; echo end'
	assert_output_contains "hello"
	assert_output_contains "/data/y: Read-only file system"
	assert_output_contains "/data/z: Read-only file system"
	[ ! -e "$LAB/y" ] && [ ! -e "$LAB/z" ]
}

@test "--mount type=bind,source=,target=,readonly is -v SRC:DST:ro" {
	run md --mount "type=bind,source=$LAB,target=/data,readonly" -- sh -c 'cat /data/f; touch /data/z'
	assert_output_contains "hello"
	assert_output_contains "/data/z: Read-only file system"
	run md --mount "type=volume,source=x,target=/data" -- true
	assert_status 2
	assert_output_contains "mdrun.sh: --mount type=volume,source=x,target=/data: only type=bind is supported by minidocker"
}

@test "binds are nosuid and nodev, and a file can be bound too" {
	run md -v "$LAB:/data" -v "$LAB/f:/etc/greeting:ro" -- sh -c 'cat /etc/greeting; grep -E " /data | /etc/greeting " /proc/self/mountinfo'
	assert_status 0
	[ "${lines[0]}" = hello ]
	[[ "${lines[1]}" == *" /data "*nosuid*nodev* || "${lines[1]}" == *" /data "*nodev*nosuid* ]]
	[[ "${lines[2]}" == *" /etc/greeting "*ro,* ]]
}

@test "a source outside every bind= tree is refused naming the rule" {
	run md -v /etc:/data:ro -- true
	assert_status 125
	assert_output "mdhelper: --volume source /etc is not in a directory you may bind from ($MDT_CONF:1)"
	# By whole components: /home2 is not below /home.
	run md -v /homeX/a:/data -- true
	assert_output "mdhelper: --volume source /homeX/a is not in a directory you may bind from ($MDT_CONF:1)"
}

@test "a bind= tree with :ro allows read-only binds only" {
	run md -v "$RO:/data" -- true
	assert_status 125
	assert_output "mdhelper: --volume source $RO may only be bound read-only (add :ro; $MDT_CONF:1)"
	run md -v "$RO:/data:ro" -- cat /data/data
	assert_status 0
	assert_output "shared"
}

@test "a rule without bind= allows no binds" {
	default_conf
	run md -v "$LAB:/data" -- true
	assert_status 125
	assert_output "mdhelper: --volume is not allowed by your rule ($MDT_CONF:1 has no bind=)"
}

@test "a symbolic link anywhere in the source is refused" {
	as_user ln -s lab "/home/$MDT_USER/link"
	run md -v "/home/$MDT_USER/link:/data" -- true
	assert_status 125
	assert_output "mdhelper: --volume source /home/$MDT_USER/link: /home/$MDT_USER/link is a symbolic link"
	run md -v "/home/$MDT_USER/link/f:/data" -- true
	assert_output "mdhelper: --volume source /home/$MDT_USER/link/f: /home/$MDT_USER/link is a symbolic link"
}

@test "another user's directory the student cannot read is refused like a missing one" {
	as mdtest2 mkdir -m 700 "$OTHER"
	as mdtest2 sh -c "echo secret > $OTHER/s"
	run md -v "$OTHER:/data:ro" -- cat /data/s
	assert_status 125
	assert_output "mdhelper: --volume source $OTHER: not found or not accessible"
	run md -v "/home/$MDT_USER/nothing:/data:ro" -- true
	assert_output "mdhelper: --volume source /home/$MDT_USER/nothing: not found or not accessible"
}

@test "a directory the student may read but not write is bound read-only only" {
	as mdtest2 mkdir -m 755 "$OTHER"
	run md -v "$OTHER:/data" -- true
	assert_status 125
	assert_output "mdhelper: --volume source $OTHER: not writable by you (add :ro to bind it read-only)"
	run md -v "$OTHER:/data:ro" -- ls -d /data
	assert_status 0
}

@test "a destination through a symlink planted in the student's rootfs is refused" {
	user_rootfs
	ln -s /etc "$USER_ROOTFS/mine/escape"
	run md -r mine -v "$LAB:/escape/x" -- true
	assert_status 125
	assert_output "mdhelper: --volume destination /escape/x: escape is a symbolic link in the rootfs"
	[ ! -e /etc/x ]
	ln -s /proc/self/fd/3 "$USER_ROOTFS/mine/fdlink"
	run md -r mine -v "$LAB:/fdlink" -- true
	assert_output "mdhelper: --volume destination /fdlink: fdlink is a symbolic link in the rootfs"
	mounts_unchanged
}

@test "/, /proc, /sys and /dev cannot be destinations" {
	for dst in / /proc /proc/sys /sys/fs/cgroup /dev /dev/pts; do
		run md -v "$LAB:$dst" -- true
		assert_status 125
		assert_output "mdhelper: --volume $LAB:$dst: $dst cannot be a destination (/, /proc, /sys and /dev are minidocker's)"
	done
	run as_user "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" --net none --volume "$LAB:/a/../proc" -- true
	assert_output "mdhelper: --volume $LAB:/a/../proc: the destination must be an absolute path without . or .. components"
}

@test "a named volume and a source with .. are usage errors of mdrun.sh" {
	run md -v lab:/data -- true
	assert_status 2
	assert_output_contains "mdrun.sh: -v lab:/data: named volumes are not supported by minidocker: give a path (./lab for one here)"
	run md -v "$LAB/../lab:/data" -- true
	assert_status 2
	assert_output_contains "the source may not contain . or .. components"
}

@test "writes to the system rootfs go to a throw-away layer" {
	run md -- sh -c 'echo hi > /etc/motd && cat /etc/motd && touch /root/x && ls -ld / | cut -c1-10'
	assert_status 0
	assert_output "$(printf 'hi\ndrwxr-xr-x')"
	[ ! -e "$MDT_SYSROOTFS/default/etc/motd" ] && [ ! -e "$MDT_SYSROOTFS/default/root/x" ]
	run md -- cat /etc/motd
	assert_status 1
	mounts_unchanged
}

@test "the layer is counted in the memory limit" {
	run md -m 32M -- sh -c 'dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; echo dd=$?'
	[[ "$output" == *"dd=1"* || "$status" = 137 ]]
	[ ! -e "$MDT_SYSROOTFS/default/big" ]
}

@test "--read-only leaves only the tmpfs scratch directories writable" {
	run md --read-only -- sh -c 'touch /etc/x; touch /tmp/x /run/x /var/tmp/x && echo ok'
	assert_output_contains "/etc/x: Read-only file system"
	[ "${lines[-1]}" = ok ]
	[ ! -e "$MDT_SYSROOTFS/default/tmp/x" ]
}

@test "the student's own rootfs is written directly, and not with --ephemeral" {
	user_rootfs
	run md -r mine -- sh -c 'echo direct > /root/note'
	assert_status 0
	[ "$(cat "$USER_ROOTFS/mine/root/note")" = direct ]
	run md -r mine --ephemeral -- sh -c 'echo gone > /root/note2; cat /root/note2'
	assert_output "gone"
	[ ! -e "$USER_ROOTFS/mine/root/note2" ]
}

@test "mdctl.sh check shows the bind= trees" {
	run as_user mdctl.sh check
	assert_output_contains "bind         /home/$MDT_USER"
	assert_output_contains "bind         $RO (read-only)"
}

@test "200 runs with a bind and the layer leave nothing behind" {
	local n=200
	# MDT_QUICK (the v2 guest, under TCG): 20.
	[ -z "${MDT_QUICK:-}" ] || n=20
	for i in $(seq "$n"); do
		as_user mdrun.sh --net none -v "$LAB:/work" -- sh -c 'echo x > /etc/x' ||
			{ echo "run $i failed"; return 1; }
	done
	mounts_unchanged
	assert_nothing_left
	[ -z "$(ls -A "$MDT_RUN" | grep -v -x -e containers -e leases -e lock)" ]
}
