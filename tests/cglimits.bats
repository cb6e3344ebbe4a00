#!/usr/bin/env bats
# Limits a student can see and set (issue 16): the container's own cgroups,
# read-only, at its /sys/fs/cgroup; --cpu-quota under the rule's cpu-quota=
# cap; --device-read-bps/--device-write-bps under io=yes. Through mdrun.sh,
# as mdtest1, on the host's hierarchy (v1 here, v2 in tests/vm/v2-guest.sh).
# Every container is short: the v2 guest runs this suite under TCG.

load helper

setup() {
	default_conf
	cgmode=1
	[ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || cgmode=2
	privdir=''
}

teardown() {
	stop_containers
	[ -z "$privdir" ] || rm -rf "$privdir"
}

md() {
	as_user mdrun.sh "$@"
}

# The file holding limit $1 (memory, cpus, pids, quota, period, wbps,
# usage) inside the container, for this host's cgroup version.
limit_file() {
	if [ "$cgmode" = 2 ]; then
		case $1 in
		memory) echo /sys/fs/cgroup/memory.max ;;
		cpus) echo /sys/fs/cgroup/cpuset.cpus ;;
		pids) echo /sys/fs/cgroup/pids.max ;;
		quota) echo /sys/fs/cgroup/cpu.max ;;
		io) echo /sys/fs/cgroup/io.max ;;
		usage) echo /sys/fs/cgroup/cpu.stat ;;
		esac
		return
	fi
	case $1 in
	memory) echo /sys/fs/cgroup/memory/memory.limit_in_bytes ;;
	cpus) echo /sys/fs/cgroup/cpuset/cpuset.cpus ;;
	pids) echo /sys/fs/cgroup/pids/pids.max ;;
	quota) echo /sys/fs/cgroup/cpu/cpu.cfs_quota_us ;;
	io) echo /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ;;
	usage) echo /sys/fs/cgroup/cpuacct/cpuacct.usage ;;
	esac
}

# A whole disk of this machine (I/O limits take no partition), or skip.
whole_disk() {
	local d
	for d in /sys/block/*; do
		case ${d##*/} in loop* | ram* | zram* | sr* | md*) continue ;; esac
		[ -b "/dev/${d##*/}" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	return 1
}

# No group of the test build's containers is left in any hierarchy (cpu
# and blkio included).
no_groups() {
	[ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$MDT_CGNAME/*" 2>/dev/null)" ]
}

conf_with() {
	write_conf <<CONF
permit :mdtestgrp memory=512M cpus=0-63 pids=256 containers=3 rootfs=$MDT_SYSROOTFS rootfs=~ $*
CONF
}

@test "-m 64M: the container reads its memory, cpuset and pids limits at /sys/fs/cgroup" {
	# shellcheck disable=SC2016 # expanded inside the container
	run md -m 64M --cpuset-cpus 0 --pids-limit 42 -- sh -c 'cat "$1"; cat "$2"; cat "$3"' sh \
		"$(limit_file memory)" "$(limit_file cpus)" "$(limit_file pids)"
	assert_status 0
	assert_output "$(printf '67108864\n0\n42')"
}

@test "the container's cgroup namespace is rooted at its own group, and it sees no other group" {
	md -d -n cglimits-other -- sleep 30
	run md -- sh -c 'cat /proc/self/cgroup; echo ---; find /sys/fs/cgroup -mindepth 1 -type d; echo ---; ls /sys/fs/cgroup'
	assert_status 0
	echo "$output"
	# Every hierarchy the container is in shows it at its root.
	if [ "$cgmode" = 2 ]; then
		assert_output_contains "0::/
---"
		# No directory at all: no group below, above or beside it.
		assert_output_contains "---
---"
	else
		assert_output_contains ":memory:/
"
		assert_output_contains ":pids:/
"
		# One directory per hierarchy, and none below them.
		[ "$(echo "$output" | sed -n '/^---$/,/^---$/p' | grep -c /)" -eq 4 ]
		assert_output_contains "cpuacct
cpuset
memory
pids"
	fi
	refute grep -q cglimits-other <<<"$output"
}

@test "container root can write no limit, make no group, and cannot remount or unmount /sys/fs/cgroup" {
	local mem dir
	mem=$(limit_file memory)
	dir=${mem%/*}
	# shellcheck disable=SC2016 # expanded inside the container
	run md -m 64M -- sh -c '
		id -u
		echo 1073741824 > "$1" && echo WROTE-LIMIT
		echo 1 > "$2/cgroup.procs" && echo WROTE-PROCS
		mkdir "$2/escape" && echo MADE-GROUP
		mount -o remount,rw /sys/fs/cgroup && echo REMOUNTED
		mount -o remount,rw "$2" && echo REMOUNTED-GROUP
		umount "$2" && echo UNMOUNTED-GROUP
		umount -l /sys/fs/cgroup && echo UNMOUNTED
		mount -t cgroup2 none /tmp && echo MOUNTED-CGROUP2
		mount -t tmpfs none /sys/fs/cgroup && echo MOUNTED-OVER
		cat "$1"
		awk "\$5 ~ /^\/sys\/fs\/cgroup/ { print \"mount\", \$5, \$6 }" /proc/self/mountinfo' sh "$mem" "$dir"
	echo "$output"
	assert_status 0
	[ "${lines[0]}" = 0 ]
	refute grep -qE 'WROTE|MADE|REMOUNTED|UNMOUNTED|MOUNTED' <<<"$output"
	assert_output_contains "67108864"
	# Every mount there is read-only, nosuid, nodev, noexec.
	local n=0 l
	while read -r l; do
		n=$((n + 1))
		[[ "$l" == *" ro,nosuid,nodev,noexec"* ]] || { echo "not ro,nosuid,nodev,noexec: $l"; return 1; }
	done < <(grep "^mount /sys/fs/cgroup" <<<"$output")
	[ "$n" -ge 1 ]
}

@test "--cpu-quota 0.5 writes the quota and holds a busy loop to about half a CPU" {
	local out u0 u1 t0 t1 share
	# shellcheck disable=SC2016 # expanded inside the container
	run md --cpus all --cpu-quota 0.5 -- sh -c '
		cat "$1"
		/home/loop & l=$!
		sleep 0.2
		u0=$(cat "$2") t0=$(cut -d" " -f1 /proc/uptime)
		sleep 1
		u1=$(cat "$2") t1=$(cut -d" " -f1 /proc/uptime)
		kill $l
		echo "$u0"; echo "$t0"; echo "$u1"; echo "$t1"' sh "$(limit_file quota)" "$(limit_file usage)"
	echo "$output"
	assert_status 0
	if [ "$cgmode" = 2 ]; then
		[ "${lines[0]}" = "50000 100000" ]
	else
		[ "${lines[0]}" = 50000 ]
	fi
	out=$(printf '%s\n' "${lines[@]:1}" | awk '$1 == "usage_usec" { print $2; next } /^[0-9.]+$/')
	read -r u0 t0 u1 t1 <<<"$(echo $out)"
	# CPU time used over the time that went by, in percent of one CPU
	# (v1 counts nanoseconds, v2 microseconds; uptime is in seconds).
	[ "$cgmode" = 2 ] || { u0=$((u0 / 1000)); u1=$((u1 / 1000)); }
	share=$(awk -v u="$((u1 - u0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", u / ((b - a) * 10000) }')
	echo "share: $share% of one CPU"
	[ "$share" -gt 20 ]
	[ "$share" -lt 75 ]
	wait_for 10 no_groups
}

@test "the rule's cpu-quota= is the default quota, and a request above it is refused naming it" {
	conf_with cpu-quota=1.5
	run md -- cat "$(limit_file quota)"
	assert_status 0
	if [ "$cgmode" = 2 ]; then assert_output "150000 100000"; else assert_output 150000; fi
	run md --cpu-quota 0.25 -- cat "$(limit_file quota)"
	if [ "$cgmode" = 2 ]; then assert_output "25000 100000"; else assert_output 25000; fi
	run md --cpu-quota 2 -- true
	assert_status 125
	assert_output "mdhelper: --cpu-quota 2 exceeds your limit cpu-quota=1.5 ($MDT_CONF:1)"
	run md --cpu-quota 1.501 -- true
	assert_status 125
	assert_output "mdhelper: --cpu-quota 1.501 exceeds your limit cpu-quota=1.5 ($MDT_CONF:1)"
}

@test "a bad --cpu-quota is refused in one line" {
	local q
	for q in 0 0.001 -1 1e3 .5 0.5000 1025 2x ''; do
		run md --cpu-quota "$q" -- true
		assert_status 125
		assert_output "mdhelper: --cpu-quota: not a number of CPUs from 0.01 to 1024: $q (e.g. 0.5 or 2)"
	done
}

@test "--device-write-bps and --device-read-bps write the container's I/O limits" {
	local disk dev
	disk=$(whole_disk) || skip "no whole disk on this machine"
	dev=$(stat -c '%t %T' "$disk" | { read -r a b; echo "$((16#$a)):$((16#$b))"; })
	conf_with io=yes
	run md --device-write-bps "$disk:10M" --device-read-bps "$disk:1mb" -- \
		sh -c 'cat "$1"; [ ! -e "$2" ] || cat "$2"' sh "$(limit_file io)" \
		/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device
	echo "$output"
	assert_status 0
	if [ "$cgmode" = 2 ]; then
		assert_output "$dev rbps=1048576 wbps=10485760 riops=max wiops=max"
	else
		assert_output "$(printf '%s 10485760\n%s 1048576' "$dev" "$dev")"
	fi
	wait_for 10 no_groups
}

@test "I/O limits without io=yes are refused naming the rule" {
	run md --device-write-bps /dev/null:10M -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps is not allowed for you: your rule has no io=yes ($MDT_CONF:1)"
	conf_with io=no
	run md --device-read-bps /dev/null:10M -- true
	assert_status 125
	assert_output "mdhelper: --device-read-bps is not allowed for you: your rule has no io=yes ($MDT_CONF:1)"
}

@test "an I/O limit on anything but a disk the student can reach is refused in one line" {
	local disk
	conf_with io=yes
	run md --device-write-bps /dev/null:10M -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps /dev/null: not a block device"
	run md --device-read-bps /dev/nosuch:10M -- true
	assert_status 125
	assert_output "mdhelper: --device-read-bps /dev/nosuch: not found or not accessible"
	run md --device-write-bps /home/mdtest1/disk:10M -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps: the device must be a path under /dev without . or .. components: /home/mdtest1/disk"
	run md --device-write-bps /dev/../etc/passwd:10M -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps: the device must be a path under /dev without . or .. components: /dev/../etc/passwd"
	run md --device-write-bps 10M -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps: expected DEVICE:RATE, e.g. /dev/vda:10M: 10M"
	# Looked up as the student: a disk's node in a directory only root
	# may enter is "not found", as a missing one is (SECURITY.md 16).
	disk=$(whole_disk) || skip "no whole disk on this machine"
	privdir=$(mktemp -d /dev/mdt-cglimits.XXXXXX)
	chmod 700 "$privdir"
	mknod "$privdir/disk" b "$((16#$(stat -c %t "$disk")))" "$((16#$(stat -c %T "$disk")))"
	run md --device-write-bps "$privdir/disk:10M" -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps $privdir/disk: not found or not accessible"
}

@test "a bad rate is refused in one line" {
	local r
	conf_with io=yes
	for r in 10X 0 -1 1e6 10MM 10b ''; do
		run md --device-write-bps "/dev/null:$r" -- true
		assert_status 125
		assert_output "mdhelper: --device-write-bps: not a rate: $r (bytes per second with an optional k, M or G, e.g. 10M)"
	done
}

@test "a partition is refused: I/O limits apply to whole disks" {
	local part
	part=$(for p in /sys/class/block/*/partition; do
		[ ! -e "$p" ] || { d=${p%/partition}; echo "/dev/${d##*/}"; break; }
	done)
	[ -b "${part:-}" ] || skip "no partition on this machine"
	conf_with io=yes
	run md --device-write-bps "$part:10M" -- true
	assert_status 125
	assert_output "mdhelper: --device-write-bps $part: a partition; I/O limits apply to a whole disk (name its disk)"
}

@test "a bad cpu-quota= or io= refuses everybody naming the line" {
	conf_with cpu-quota=0.001
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_CONF:1: bad cpu-quota: 0.001"
	conf_with io=maybe
	run md -- true
	assert_status 125
	assert_output "mdhelper: $MDT_CONF:1: bad io: maybe"
}

@test "mdctl.sh check shows the CPU quota cap and whether I/O limits are allowed" {
	run ctl check
	assert_status 0
	assert_output_contains "cpu-quota    no limit"
	assert_output_contains "io           not allowed (a rule's io=yes allows them)"
	conf_with cpu-quota=2 io=yes
	run ctl check
	assert_status 0
	assert_output_contains "cpu-quota    2 CPUs at most (also the default)"
	assert_output_contains "io           allowed (--device-read-bps, --device-write-bps)"
}
