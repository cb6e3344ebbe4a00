#!/usr/bin/env bats
# Confined like Docker's default (SECURITY.md 44-49), seen from inside a
# container as the unprivileged test user: the seccomp filter and what it
# refuses, nested user namespaces off unless the rule allows them, runc's
# masked and read-only /proc and /sys paths, empty inheritable and ambient
# capabilities with locked securebits, the caller's groups kept where they
# could not drop them, Ethernet anti-spoofing on the bridge, and an audit
# log that escapes what the caller chose. tests/sysprobe.c makes the calls.

load helper
bats_require_minimum_version 1.5.0

PROBE=$MDT_ROOT/tests/sysprobe
BRIDGE=mdtc0
NET=10.95.0
AUDITLOG=$MDT_ROOT/log/audit.log

setup() {
	default_conf
	[ -x "$PROBE" ] || skip "sysprobe is not built (make test-install)"
}

teardown() {
	# The host's user namespace setting, as it was (refuse_userns).
	[ -z "${USERNS_SAVED:-}" ] || echo "$USERNS_SAVED" >"$USERNS_PATH"
	[ -z "${NS_HOLDER:-}" ] || { kill "$NS_HOLDER"; wait "$NS_HOLDER"; } 2>/dev/null || true
	[ ! -s "$BATS_TEST_TMPDIR/listener" ] || kill "$(cat "$BATS_TEST_TMPDIR/listener")" 2>/dev/null || true
	stop_containers mdtest1
	stop_containers mdtest2
	"$MDT_HELPER" gc 2>/dev/null || true
	rm -rf /home/mdtest1/.local/share/minidocker/rootfs/probe \
		/home/mdtest2/.local/share/minidocker/rootfs/probe \
		/home/mdtest1/.local/state /home/mdtest2/.local/state "$MDT_SYSROOTFS/probe"
	if ip link show "$BRIDGE" >/dev/null 2>&1; then
		"$MDT_BIN/mdnet.sh" down --config "$MDT_CONF" >/dev/null || true
	fi
}

# USER's own busybox rootfs named probe, with sysprobe in /bin.
probe_rootfs() {
	local user=${1:-$MDT_USER} dir
	dir=/home/$user/.local/share/minidocker/rootfs/probe
	as "$user" mdrootfs.sh busybox probe >/dev/null
	install -m 755 -o "$user" -g "$user" "$PROBE" "$dir/bin/sysprobe"
}

md() {
	as_user mdrun.sh "$@"
}

@test "a container runs under a seccomp filter: Seccomp 2 in /proc/self/status" {
	run md -- grep -E '^Seccomp(_filters)?:' /proc/self/status
	assert_status 0
	assert_output "$(printf 'Seccomp:\t2\nSeccomp_filters:\t1')"
}

@test "the inheritable and ambient sets are empty and container root keeps Docker's 14 capabilities through exec" {
	run md -- grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
	assert_status 0
	assert_output "$(printf 'CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000')"
}

@test "the securebits NOROOT and NO_SETUID_FIXUP are locked off: container root cannot turn them on" {
	probe_rootfs
	run md -r probe -- sysprobe securebits
	assert_status 0
	# SECBIT_NOROOT_LOCKED (0x2) | SECBIT_NO_SETUID_FIXUP_LOCKED (0x8).
	assert_output "securebits=0xa set=EPERM"
}

# What Docker's default profile refuses, as the probe reports it: EPERM,
# and ENOSYS for clone3 so that the C library falls back to clone.
REFUSED="keyctl add_key request_key bpf perf_event_open userfaultfd kexec_load
kexec_file_load init_module finit_module delete_module fsopen fsconfig fsmount
move_mount open_tree fspick mount_setattr mount umount2 pivot_root unshare clone
setns acct swapon swapoff reboot settimeofday clock_settime personality
io_uring_setup socket kcmp pidfd_getfd open_by_handle_at iopl ioperm sethostname"

expected_refusals() {
	local s
	for s in $REFUSED; do echo "$s EPERM"; done
	echo "clone3 ENOSYS"
}

@test "each system call Docker's default profile refuses fails with EPERM inside, clone3 with ENOSYS" {
	probe_rootfs
	run md -r probe -- sysprobe syscalls
	assert_status 0
	assert_output "$(expected_refusals)"
}

@test "without the filter the same calls are not refused: the probe tells the filter's EPERM apart" {
	# On the host, as the same user: what the kernel alone answers.
	run as_user "$PROBE" syscalls
	assert_status 0
	for s in "keyctl ok" "add_key EFAULT" "bpf EINVAL" "userfaultfd ok" "fsconfig EINVAL" \
		"umount2 ENOENT" "unshare ok" "setns EBADF" "clock_settime EINVAL" "personality ok" \
		"io_uring_setup EFAULT" "pidfd_getfd EBADF" "clone3 EINVAL"; do
		assert_output_contains "$s"
	done
}

@test "an i386 or x32 system call kills the process with SIGSYS; on the host it is answered" {
	probe_rootfs
	run as_user "$PROBE" i386
	assert_status 0
	assert_output_contains "survived"
	for abi in i386 x32; do
		run md -r probe -- sysprobe $abi
		assert_status 159 # 128 + SIGSYS
		assert_output ""
	done
}

@test "exec into a running container goes through the same filter and capability sets" {
	as_user mdrun.sh -d -n cf1 -- sleep 60 >/dev/null
	run ctl exec cf1 -- grep -E '^(Seccomp|CapInh|CapAmb):' /proc/self/status
	assert_status 0
	assert_output "$(printf 'CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\nSeccomp:\t2')"
}

@test "unshare -U is refused inside a container by default" {
	run md -- unshare -U true
	[ "$status" -ne 0 ]
	assert_output_contains "Operation not permitted"
}

@test "nested=yes lets a container make a user namespace, and check says so" {
	write_conf <<CONF
permit :mdtestgrp memory=512M pids=256 nested=yes rootfs=$MDT_SYSROOTFS rootfs=~
CONF
	run md -- unshare -U -r sh -c 'id -u; grep ^Seccomp: /proc/self/status'
	assert_status 0
	assert_output "$(printf '0\nSeccomp:\t2')"
	run as_user "$MDT_HELPER" check
	assert_output_contains "nested       allowed: user namespaces inside the container (and with them mount, network and nftables namespaces)"
}

@test "check says nested user namespaces are refused by default" {
	run as_user "$MDT_HELPER" check
	assert_status 0
	assert_output_contains "nested       refused: no user namespace inside the container (a rule's nested=yes allows them)"
}

@test "a bad nested= value refuses everybody naming the line" {
	write_conf <<CONF
permit :mdtestgrp nested=maybe rootfs=$MDT_SYSROOTFS
CONF
	run as_user "$MDT_HELPER" check
	assert_status 125
	assert_output "mdhelper: $MDT_CONF:1: bad nested: maybe"
}

# The host refuses unprivileged user namespaces for the rest of the test:
# kernel.unprivileged_userns_clone=0 where the kernel has it, else
# user.max_user_namespaces=0, each put back by teardown. Where root may not
# write the latter (it takes CAP_SYS_RESOURCE, which this CI's root lacks),
# the helper is shown the same setting instead: a private mount namespace,
# held by a process of ours, where a file holding 0 covers
# /proc/sys/user/max_user_namespaces; there what the helper says and
# decides is tested, not the kernel's refusal. Sets KNOB (the setting) and
# EMULATED (1 in that case).
refuse_userns() {
	local zero
	EMULATED=
	USERNS_PATH=/proc/sys/kernel/unprivileged_userns_clone KNOB=kernel.unprivileged_userns_clone=0
	[ -e "$USERNS_PATH" ] ||
		USERNS_PATH=/proc/sys/user/max_user_namespaces KNOB=user.max_user_namespaces=0
	USERNS_SAVED=$(cat "$USERNS_PATH")
	echo 0 2>/dev/null >"$USERNS_PATH" && return 0
	USERNS_SAVED=
	EMULATED=1
	zero=$BATS_TEST_TMPDIR/max_user_namespaces
	echo 0 >"$zero"
	unshare -m --propagation private sh -c \
		'mount --bind "$1" /proc/sys/user/max_user_namespaces && echo ready && exec sleep 600' \
		sh "$zero" >"$BATS_TEST_TMPDIR/holder" &
	NS_HOLDER=$!
	wait_for 10 grep -q ready "$BATS_TEST_TMPDIR/holder"
}

# Run as the test user, in the namespace refuse_userns made, if it made one.
hv_user() {
	local pre=()
	[ -z "$EMULATED" ] || pre=(nsenter -t "$NS_HOLDER" -m --)
	(cd / && "${pre[@]}" runuser -u "$MDT_USER" -- env -i HOME="/home/$MDT_USER" USER="$MDT_USER" \
		LOGNAME="$MDT_USER" PATH="$MDT_BIN:/usr/local/bin:/usr/bin:/bin" \
		MD_SYSTEM_ROOTFS="$MDT_SYSROOTFS" "$@")
}

@test "where the host refuses unprivileged user namespaces, check says what that means and nested=yes is overruled" {
	write_conf <<CONF
permit :mdtestgrp memory=512M pids=256 nested=yes rootfs=$MDT_SYSROOTFS rootfs=~
CONF
	refuse_userns
	# The student can make none on the host (the setting holds)...
	[ -n "$EMULATED" ] || refute as_user unshare -U true
	[ -z "$EMULATED" ] || hv_user cat /proc/sys/user/max_user_namespaces | grep -qx 0
	# ...and check says so, and what follows from it.
	run hv_user "$MDT_HELPER" check
	assert_status 0
	assert_output_contains "host         refuses unprivileged user namespaces ($KNOB)"
	assert_output_contains "nested       refused: no user namespace inside the container (the rule's nested=yes is overruled by the host)"
	local said=$output
	if [ "$KNOB" = user.max_user_namespaces=0 ] && [ -z "$EMULATED" ]; then
		# No container at all: refused in one line that names the setting.
		run as_user mdrun.sh -- true
		assert_status 125
		assert_output_contains "user.max_user_namespaces"
		[ "$(echo "$output" | wc -l)" -eq 1 ]
	else
		# Containers start; inside, the rule's nested=yes counts for nothing.
		run hv_user mdrun.sh -- unshare -U true
		[ "$status" -ne 0 ]
		assert_output_contains "Operation not permitted"
	fi
	# Only the administrator's nested=force undoes the host's choice.
	write_conf <<CONF
permit :mdtestgrp memory=512M pids=256 nested=force rootfs=$MDT_SYSROOTFS rootfs=~
CONF
	run hv_user "$MDT_HELPER" check
	assert_status 0
	assert_output_contains "nested       allowed: user namespaces inside the container (and with them mount, network and nftables namespaces), forced by the rule"
	if [ "$KNOB" = user.max_user_namespaces=0 ]; then
		# There nobody can make one, mdhelper included (INSTALL): check
		# must not promise that containers still start.
		refute grep -q "containers still start" <<<"$said"
	fi
}

# /proc and /sys paths runc masks that this kernel has.
masked_files() {
	local f
	for f in kcore keys latency_stats timer_list timer_stats sched_debug interrupts \
		iomem ioports kallsyms config.gz; do
		[ ! -f "/proc/$f" ] || echo "/proc/$f"
	done
}
masked_dirs() {
	local d
	for d in /proc/acpi /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
		[ ! -d "$d" ] || echo "$d"
	done
}

@test "each masked /proc file reads empty and each masked directory is empty" {
	local files dirs
	files=$(masked_files)
	dirs=$(masked_dirs)
	# The host has them (else this test could not fail).
	[[ "$files" == */proc/keys* && "$files" == */proc/iomem* && "$files" == */proc/interrupts* ]]
	[[ "$dirs" == */sys/firmware* ]]
	run md -- sh -c 'for f in $1; do printf "%s %s\n" "$f" "$(cat "$f" | wc -c)"; done
		for d in $2; do printf "%s [%s]\n" "$d" "$(ls -A "$d")"; done' sh "$files" "$dirs"
	assert_status 0
	assert_output "$(for f in $files; do echo "$f 0"; done; for d in $dirs; do echo "$d []"; done)"
}

# The read-only /proc paths this kernel has.
read_only_paths() {
	local p
	for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
		[ ! -e "$p" ] || echo "$p"
	done
}

@test "the read-only /proc paths are read-only mounts inside" {
	local paths
	paths=$(read_only_paths)
	[[ "$paths" == */proc/sys* && "$paths" == */proc/irq* ]]
	run md -- sh -c 'while read -r _ _ _ _ at opts _; do
		case " $1 " in *" $at "*) echo "$at ${opts%%,*}" ;; esac
	done </proc/self/mountinfo' sh "$(echo $paths)"
	assert_status 0
	assert_output "$(for p in $paths; do echo "$p ro"; done)"
}

@test "root's --userns host container cannot write /proc/sys, /proc/irq or sysrq-trigger" {
	local f targets=
	for f in /proc/sys/kernel/hostname /proc/irq/default_smp_affinity /proc/sysrq-trigger; do
		[ ! -e "$f" ] || targets="$targets $f"
	done
	run "$MDT_BIN/mdrun.sh" --userns host -- sh -c 'for f; do echo 1 >"$f"; done' sh $targets
	[ "$status" -ne 0 ]
	for f in $targets; do
		assert_output_contains "$f: Read-only file system"
	done
}

# A file in mdtest2's rootfs (mdtest2 has no subgid range: setgroups stays
# "deny") that every user may read except the members of mdtestgrp.
group_denied_file() {
	local dir=/home/mdtest2/.local/share/minidocker/rootfs/probe
	as mdtest2 mdrootfs.sh busybox probe >/dev/null
	echo secret > "$dir/denied"
	chown root:mdtestgrp "$dir/denied"
	chmod 0604 "$dir/denied"
}

@test "a file that denies one of the caller's groups stays unreadable inside the container" {
	group_denied_file
	# Outside, as mdtest2: denied by the group. As mdtest3 (not in it): readable.
	run as mdtest2 cat /home/mdtest2/.local/share/minidocker/rootfs/probe/denied
	[ "$status" -ne 0 ]
	run as mdtest2 mdrun.sh -r probe -- cat /denied
	[ "$status" -ne 0 ]
	assert_output "cat: can't open '/denied': Permission denied"
}

@test "exec into the container keeps the caller's groups too" {
	group_denied_file
	as mdtest2 mdrun.sh -d -n cf2 -r probe -- sleep 60 >/dev/null
	run as mdtest2 mdctl.sh exec cf2 -- cat /denied
	[ "$status" -ne 0 ]
	assert_output "cat: can't open '/denied': Permission denied"
}

# The bridge with root allowed on it with --userns host.
bridge_conf() {
	write_conf <<CONF
bridge $BRIDGE $NET.254/24
permit :mdtestgrp memory=512M pids=256 ip=$NET.0/24 bridge=$BRIDGE rootfs=$MDT_SYSROOTFS rootfs=~
permit root userns=host ip=$NET.0/24 bridge=$BRIDGE rootfs=$MDT_SYSROOTFS
CONF
	"$MDT_BIN/mdnet.sh" up --config "$MDT_CONF" >/dev/null
}

# A system rootfs with the probe: root's container may not use a rootfs
# another user can write.
system_probe_rootfs() {
	cp -a "$MDT_SYSROOTFS/default" "$MDT_SYSROOTFS/probe"
	install -m 755 "$PROBE" "$MDT_SYSROOTFS/probe/bin/sysprobe"
}

@test "eth1 has the MAC Docker would give its address" {
	require nft
	bridge_conf
	run md --ip "$NET.5" -- cat /sys/class/net/eth1/address
	assert_status 0
	assert_output "02:42:0a:5f:00:05"
}

@test "a frame with a spoofed source MAC from container root is dropped; the port's own MAC passes" {
	require nft python3
	bridge_conf
	system_probe_rootfs
	# A bridge without an address of its own takes its lowest port's MAC
	# when the container's port joins: give it one, to send to.
	local bmac=02:42:0a:5f:00:fe
	ip link set "$BRIDGE" address $bmac
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5555))
s.settimeout(5)
try:
    while True:
        print(s.recv(100).decode(), flush=True)
except socket.timeout:
    pass
' "$NET.254" >"$BATS_TEST_TMPDIR/got" &
	echo $! >"$BATS_TEST_TMPDIR/listener"
	sleep 0.3
	# A new bridge port forwards only once the kernel has seen its carrier
	# (linkwatch, up to a second): wait, then send each frame twice.
	run "$MDT_BIN/mdrun.sh" --userns host --ip "$NET.5" -r probe -- sh -c "
		sleep 1.5
		for i in 1 2; do
			sysprobe udp eth1 02:42:0a:5f:00:06 $bmac $NET.5 $NET.254 5555 spoofed-neighbour &&
			sysprobe udp eth1 02:00:00:00:00:01 $bmac $NET.5 $NET.254 5555 spoofed-random &&
			sysprobe udp eth1 02:42:0a:5f:00:05 $bmac $NET.5 $NET.254 5555 own || exit
			sleep 0.2
		done"
	assert_status 0
	wait "$(cat "$BATS_TEST_TMPDIR/listener")"
	run sort -u "$BATS_TEST_TMPDIR/got"
	assert_output "own"
	run sh -c "nft list set bridge minidocker-spoof-$BRIDGE dropped | grep -o '\"mdv010095000005\" counter packets [0-9]*'"
	[ "${output##* }" -ge 4 ]
}

# Run as the test user with no journal and no /dev/log (each covered in a
# private mount namespace): the records go to the file, as on this machine
# when no syslog daemon runs (a test elsewhere may have left a listener).
nolog() {
	unshare -m --propagation private sh -c 'cd /
		for s in /dev/log /run/systemd/journal/socket; do
			[ ! -S "$s" ] || mount --bind /dev/null "$s" || exit 125
		done
		user=$0 path=$1 sysrootfs=$2
		shift 2
		exec runuser -u "$user" -- env -i HOME="/home/$user" PATH="$path" MD_SYSTEM_ROOTFS="$sysrootfs" "$@"
	' "$MDT_USER" "$MDT_BIN:/usr/bin:/bin" "$MDT_SYSROOTFS" "$@"
}

@test "the audit log records an allow and a deny with the caller's control bytes escaped" {
	local evil
	evil=$(printf 'x\nallow user=root uid=0: run forged\033[2J')
	run -127 nolog mdrun.sh -- "$evil"
	run -125 nolog "$MDT_HELPER" run --rootfs "$MDT_SYSROOTFS/default" --name "$evil" -- true
	run tail -n 2 "$AUDITLOG"
	[[ "${lines[0]}" == *" mdhelper["*"]: allow user=mdtest1 uid=$(id -u mdtest1): run md-mdtest1-"*" rootfs=$MDT_SYSROOTFS/default hostname=administrator command=x\\nallow user=root uid=0: run forged\\x1b[2J" ]]
	[[ "${lines[1]}" == *" mdhelper["*"]: deny user=mdtest1 uid=$(id -u mdtest1): invalid name: x\\nallow user=root uid=0: run forged\\x1b[2J (a-z, 0-9, _ . -, at most 63 characters)" ]]
	# No record begins where the caller's newline was.
	run grep -c '^allow user=root' "$AUDITLOG"
	assert_output 0
	run grep -c $'\033' "$AUDITLOG"
	assert_output 0
}

@test "the audit log is root's alone: directory 0700, file 0600" {
	nolog mdrun.sh -- true
	run stat -c '%U %a' "${AUDITLOG%/*}" "$AUDITLOG"
	assert_output "$(printf 'root 700\nroot 600')"
}
