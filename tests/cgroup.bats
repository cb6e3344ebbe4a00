#!/usr/bin/env bats
# helper/cgroup/cgroup.c on the host's hierarchy (v1 on the CI machines; v2 is
# covered by tests/vm/cgroup2-guest.sh), driven by tests/cgtest.c as root.
#
# The driver is built here with the Makefile's hardening flags and a parent
# group name of its own (minidocker-cgtest): these tests chown and narrow the
# parent group, which must not disturb the helper's tests (minidocker-test)
# if both run at once. No installed helper is needed.
# MDT_QUICK=1 runs 50 create/destroy cycles instead of 500 and skips the v2
# guest (under a minute under TCG: guest uptime 30 s at load 2).

load helper

CGNAME=minidocker-cgtest
ID=cgbats

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	local top
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	# In the v2 guest (tests/vm/cgroup2-guest.sh) there is no compiler: the
	# host built both programs.
	if [ -n "${MDT_CGTEST:-}" ]; then
		export CGTEST=$MDT_CGTEST MEM=$MDT_MEM
		host_facts
		return 0
	fi
	export CGTEST=$BATS_FILE_TMPDIR/cgtest MEM=$BATS_FILE_TMPDIR/mem
	cc -std=c11 -Wall -Wextra -Werror -Wformat=2 -Wshadow -D_FORTIFY_SOURCE=2 \
		-O2 -fPIE -fstack-protector-strong -DMD_CGROUP_NAME="\"$CGNAME\"" -DMD_AUDITLOG="\"$BATS_FILE_TMPDIR/log/audit.log\"" \
		-I"$top/helper" -pie -o "$CGTEST" \
		"$top/tests/cgtest.c" "$top/helper/cgroup/cgroup.c" "$top/helper/core/parse.c" "$top/helper/util.c" "$top/helper/audit.c"
	cc -static -O2 -Wall -Wextra -Werror -o "$MEM" "$top/rootfs/mem.c"
	chmod 755 "$BATS_FILE_TMPDIR"
	host_facts
}

# The parent groups are shared infrastructure, but ours to remove when
# empty (the test helper's containers may still use them: rmdir fails then).
teardown_file() {
	rmdir /sys/fs/cgroup/{memory,cpuset,pids,cpuacct}/$CGNAME /sys/fs/cgroup/$CGNAME 2>/dev/null
	return 0
}

# What every test needs to know of this host, found once: MODE (1 or 2),
# SWAP (1 if the kernel accounts swap), PARENT_CPUS.
host_facts() {
	export CGINFO MODE= SWAP= PARENT_CPUS=
	CGINFO=$("$CGTEST" info 2>&1) || return 0
	case $CGINFO in
	mode=v1*) MODE=1 ;;
	*) MODE=2 ;;
	esac
	SWAP=${CGINFO#*swap=}; SWAP=${SWAP%% *}
	PARENT_CPUS=${CGINFO#*parent_cpus=}
}

# Tests of the list parsers and id checks do not depend on the hierarchy:
# the v2 guest, where every test costs seconds of emulation, leaves them to
# the host.
host_only() {
	[ -z "${MDT_IN_GUEST:-}" ] || skip "hierarchy-independent: checked on the host"
}

setup() {
	[ -x "${CGTEST:-}" ] || skip "the cgtest driver was not built"
	[ -n "${MODE:-}" ] || skip "no usable cgroup hierarchy here: $CGINFO"
}

teardown() {
	local d left
	# Anything a failed test left: its processes first, then the groups.
	left=$(groups_of "$ID*")
	for d in $left; do
		[ -f "$d/cgroup.procs" ] && xargs -r kill -KILL < "$d/cgroup.procs" 2>/dev/null
	done
	for d in $left; do
		"$CGTEST" destroy-id "${d##*/}" 2>/dev/null || true
	done
	[ -n "${RESTORE_OWNER:-}" ] && chown root "$RESTORE_OWNER"
	return 0
}

# The directories of groups named $1 (a glob) in every hierarchy we use.
groups_of() {
	local d
	if [ "${MODE:-1}" = 1 ]; then
		for d in /sys/fs/cgroup/{memory,cpuset,pids,cpuacct}/$CGNAME/$1; do
			[ -d "$d" ] && echo "$d"
		done
	else
		for d in /sys/fs/cgroup/$CGNAME/$1; do
			[ -d "$d" ] && echo "$d"
		done
	fi
	return 0
}

# The directory of controller $1's group for id $2.
gdir() {
	if [ "$MODE" = 1 ]; then echo "/sys/fs/cgroup/$1/$CGNAME/$2"; else echo "/sys/fs/cgroup/$CGNAME/$2"; fi
}

limit_file() {
	if [ "$MODE" = 1 ]; then echo memory.limit_in_bytes; else echo memory.max; fi
}

# Number of groups of controller $1 the kernel still holds (dying included).
kernel_groups() {
	awk -v c="$1" '$1 == c { print $3 }' /proc/cgroups
}

@test "a 10M memory limit gets the growing program OOM-killed and the kill is counted" {
	run "$CGTEST" create $ID 10M 0 "" 0 -- "$MEM" 100 4 10
	assert_status 137
	assert_output_contains "status=signal 9"
	local kills peak
	kills=$(echo "$output" | sed -n 's/^oom_kills=//p')
	peak=$(echo "$output" | sed -n 's/^peak=//p')
	[ "$kills" -ge 1 ] || { echo "oom_kills=$kills"; return 1; }
	[ "$peak" -le $((10 << 20)) ] || { echo "peak $peak above the limit"; return 1; }
	case $output in *"holding 100 MiB"*) echo "mem was never stopped"; return 1 ;; esac
}

@test "a 50M memory limit lets a 20 MiB program reach its goal and hold" {
	run "$CGTEST" create $ID 50M 0 "" 0 -- timeout 2 "$MEM" 20 4 10
	assert_status 124
	assert_output_contains "mem: reached 20 MiB, holding"
	assert_output_contains "oom_kills=0"
	local peak
	peak=$(echo "$output" | sed -n 's/^peak=//p')
	[ "$peak" -ge $((20 << 20)) ] && [ "$peak" -le $((50 << 20)) ] || {
		echo "peak $peak not between 20M and 50M"; return 1; }
}

@test "without a swap request memory+swap is held at the memory limit" {
	[ "$MODE" = 1 ] && [ "$SWAP" = 1 ] || skip "checks v1 memory.memsw, absent here"
	run "$CGTEST" create $ID 10M 0 "" 0 -- cat "$(gdir memory $ID)/memory.memsw.limit_in_bytes"
	assert_status 0
	assert_output_contains $'10485760\noom_kills=0'
}

@test "a swap request sets memory+swap when the kernel accounts swap" {
	[ "$SWAP" = 1 ] || skip "this kernel does not account swap"
	local f=memory.memsw.limit_in_bytes want=$((30 << 20))
	[ "$MODE" = 2 ] && f=memory.swap.max && want=$((20 << 20))
	run "$CGTEST" create $ID 10M 30M "" 0 -- cat "$(gdir memory $ID)/$f"
	assert_status 0
	assert_output_contains "$want"$'\noom_kills=0'
}

@test "a swap request is refused cleanly when the kernel does not account swap" {
	[ "$SWAP" = 0 ] || skip "this kernel accounts swap (memory.memsw.* or memory.swap.max present)"
	local f=memory.memsw.limit_in_bytes
	[ "$MODE" = 2 ] && f=memory.swap.max
	run "$CGTEST" create $ID 10M 30M "" 0 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: this kernel does not account swap (no $f): a swap limit cannot be set"
	[ -z "$(groups_of "$ID")" ]
}

@test "swap limits below the memory limit or without one are refused" {
	host_only
	run "$CGTEST" create $ID 20M 10M "" 0 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: memory+swap limit 10485760 is below the memory limit 20971520"
	run "$CGTEST" create $ID 0 10M "" 0 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: a memory+swap limit needs a memory limit"
}

@test "a cpuset pins the command to the CPUs named" {
	[ "$PARENT_CPUS" != 0 ] || skip "needs two CPUs"
	run "$CGTEST" create $ID 0 0 1 0 -- grep Cpus_allowed_list /proc/self/status
	assert_status 0
	assert_output_contains $'Cpus_allowed_list:\t1\n'
}

@test "no cpuset means every CPU the parent allows" {
	run "$CGTEST" create $ID 0 0 "" 0 -- grep Cpus_allowed_list /proc/self/status
	assert_status 0
	assert_output_contains $'Cpus_allowed_list:\t'"$PARENT_CPUS"$'\n'
}

@test "the parent group follows the machine's CPUs on v1" {
	[ "$MODE" = 1 ] || skip "v1 only: on v2 the parent inherits its CPUs"
	[ "$PARENT_CPUS" != 0 ] || skip "needs two CPUs"
	local p
	p=/sys/fs/cgroup/cpuset/$CGNAME
	"$CGTEST" create $ID 0 0 "" 0 -- true >/dev/null # make sure it exists
	echo 0 > "$p/cpuset.cpus" # as it stays when the machine had one CPU then
	run "$CGTEST" info
	assert_output "mode=v1 swap=$SWAP parent_cpus=$PARENT_CPUS"
	run "$CGTEST" create $ID 0 0 1 0 -- grep Cpus_allowed_list /proc/self/status
	assert_status 0
	assert_output_contains $'Cpus_allowed_list:\t1\n'
	[ "$(cat "$p/cpuset.cpus")" = "$PARENT_CPUS" ]
}

@test "picking N CPUs takes the first N allowed ones and refuses more than exist" {
	[ "$PARENT_CPUS" = 0-1 ] || skip "written for a 2-CPU machine, this one allows $PARENT_CPUS"
	run "$CGTEST" pick 1 -
	assert_output 0
	run "$CGTEST" pick 2 0-63
	assert_output 0-1
	run "$CGTEST" pick 1 1,5
	assert_output 1
	run "$CGTEST" pick 3 -
	assert_status 1
	run "$CGTEST" pick 2 1-7
	assert_status 1
}

@test "CPU list subsets are checked and malformed lists recognised" {
	host_only
	run "$CGTEST" subset 1,3-4 0-7
	assert_output 1
	run "$CGTEST" subset 1,8 0-7
	assert_output 0
	run "$CGTEST" subset 1 ""
	assert_output 0
	local bad
	for bad in "" 0- 1,,2 3-1 -1 " 1" 01 1, a 4096 $'1\n'; do
		run "$CGTEST" subset "$bad" 0-7
		[ "$output" = -1 ] || { echo "'$bad' accepted: $output"; return 1; }
	done
}

@test "malformed CPU lists are refused and leave nothing behind" {
	local bad
	for bad in 0- 1,,2 3-1 -1 01 1, 99999; do
		run "$CGTEST" create $ID 0 0 "$bad" 0 -- true
		assert_status 125
		assert_output "mdhelper: cgroup: malformed CPU list \"$bad\""
	done
	for bad in " 1" "1;2" $'0-1\n'; do
		run "$CGTEST" create $ID 0 0 "$bad" 0 -- true
		assert_status 125
		assert_output "mdhelper: cgroup: malformed CPU list (only digits, ',' and '-' are allowed)"
	done
	[ -z "$(groups_of "$ID")" ]
}

@test "CPUs the machine does not offer are refused" {
	run "$CGTEST" create $ID 0 0 1023 0 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: CPUs 1023 are not available here (this machine allows $PARENT_CPUS)"
	run "$CGTEST" create $ID 0 0 0,1000-1002,1023 0 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: CPUs 1000-1002,1023 are not available here (this machine allows $PARENT_CPUS)"
	[ -z "$(groups_of "$ID")" ]
}

@test "a pids limit makes fork fail inside" {
	run "$CGTEST" create $ID 0 0 "" 5 -- sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait'
	assert_status 2
	assert_output_contains "Cannot fork"
	# The host is unaffected: the same loop works outside.
	run sh -c 'for i in 1 2 3 4 5 6 7 8; do true & done; wait'
	assert_status 0
}

@test "group and limit files are root-owned and a user cannot write them" {
	local d f
	d=$(gdir memory $ID)
	f=$d/$(limit_file)
	run "$CGTEST" create $ID 10M 0 "" 0 -- sh -c "
		stat -c '%U:%G %a' '$d' '$f' '$d/cgroup.procs'
		runuser -u $MDT_USER -- sh -c 'echo 999999999 > $f' 2>&1 | sed 's/.*: //'
		runuser -u $MDT_USER -- sh -c 'echo \$\$ > $d/cgroup.procs' 2>&1 | sed 's/.*: //'
		cat '$f'"
	assert_status 0
	assert_output_contains $'root:root 755\nroot:root 644\nroot:root 644\n'
	assert_output_contains $'Permission denied\nPermission denied\n10485760\n'
}

@test "root in a user namespace of the user cannot raise the limit either" {
	local d f
	d=$(gdir memory $ID)
	f=$d/$(limit_file)
	as_user unshare -r true 2>/dev/null || skip "unprivileged user namespaces are disabled here"
	run "$CGTEST" create $ID 10M 0 "" 0 -- runuser -u $MDT_USER -- unshare -r sh -c "
		id -u; echo 999999999 > $f; mkdir $d/sub; cat $f"
	assert_output_contains $'\n10485760\n'
	[ "${lines[0]}" = 0 ]
	assert_output_contains "$f: Permission denied"
	assert_output_contains "Permission denied"
	[ ! -e "$d/sub" ]
}

@test "the group is gone when the command has ended" {
	run "$CGTEST" create $ID 10M 0 1 5 -- sh -c "ls -d $(gdir memory $ID) $(gdir cpuset $ID) $(gdir pids $ID)"
	assert_status 0
	[ -z "$(groups_of "$ID")" ] || { echo "left: $(groups_of "$ID")"; return 1; }
}

@test "a leftover empty group of the same id is replaced" {
	local d
	for d in $(gdir memory $ID) $(gdir cpuset $ID) $(gdir pids $ID); do mkdir -p "$d"; done
	run "$CGTEST" create $ID 10M 0 "" 0 -- true
	assert_status 0
	[ -z "$(groups_of "$ID")" ]
}

@test "destroy by id removes a leftover group in every hierarchy" {
	local d
	for d in $(gdir memory $ID) $(gdir cpuset $ID) $(gdir pids $ID); do mkdir -p "$d"; done
	run "$CGTEST" destroy-id $ID
	assert_status 0
	assert_output ""
	[ -z "$(groups_of "$ID")" ]
	run "$CGTEST" destroy-id ../etc
	assert_output "mdhelper: cgroup: invalid container id"
}

@test "removal gives up after about a second while a process is still inside" {
	local start end
	start=$(date +%s%N)
	run "$CGTEST" create $ID 0 0 "" 0 -- sh -c 'sleep 30 >/dev/null 2>&1 &'
	end=$(date +%s%N)
	assert_output_contains "mdhelper: cgroup: cannot remove $(gdir memory $ID): Device or resource busy"
	[ $(((end - start) / 1000000)) -ge 900 ] && [ $(((end - start) / 1000000)) -lt 5000 ] || {
		echo "took $(((end - start) / 1000000)) ms"; return 1; }
}

@test "a parent group not owned by root is refused" {
	local p
	p=$(dirname "$(gdir memory $ID)")
	"$CGTEST" create $ID 0 0 "" 0 -- true >/dev/null # make sure it exists
	RESTORE_OWNER=$p
	chown 65534 "$p"
	run "$CGTEST" create $ID 0 0 "" 0 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: $p is not owned by root"
}

@test "invalid ids are refused" {
	host_only
	local bad
	for bad in ../x a/b .x -x A "" "$(printf 'a%.0s' $(seq 64))"; do
		run "$CGTEST" create "$bad" 0 0 "" 0 -- true
		assert_status 125
		assert_output "mdhelper: cgroup: invalid container id"
	done
}

# Timing under TCG emulation (the v2 guest here) says nothing about a real
# machine: those runs check the behaviour and print the figures only.
emulated() {
	[ "${MDT_GUEST_ACCEL:-}" = tcg ]
}

@test "create, enter and destroy cost well under 5 ms (median of 200)" {
	local n=200 med
	emulated && n=20
	run "$CGTEST" bench $n
	assert_status 0
	echo "# $output" | sed '2,$s/^/# /' >&3
	emulated && skip "timed under TCG emulation: figures printed, not judged"
	med=$(echo "$output" | sed -n 's/^median_us total=\([0-9]*\).*/\1/p')
	[ "$med" -lt 5000 ] || { echo "median $med us"; return 1; }
}

@test "500 create/destroy cycles are quick and leave nothing behind" {
	local n=500 c p left start
	[ -n "${MDT_QUICK:-}" ] && n=50
	c=$(kernel_groups cpuset); p=$(kernel_groups pids)
	start=$(date +%s)
	run "$CGTEST" bench $n
	assert_status 0
	emulated || [ $(($(date +%s) - start)) -lt 30 ] || { echo "$n cycles took over 30 s"; return 1; }
	[ -z "$(groups_of 'cgbats-bench-*')" ] || { echo "left: $(groups_of 'cgbats-bench-*')"; return 1; }
	# Removed groups are freed by the kernel a little later: wait for it.
	for left in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ "$(kernel_groups cpuset)" -le "$c" ] && [ "$(kernel_groups pids)" -le "$p" ] && return 0
		sleep 0.5
	done
	echo "the kernel still holds groups: cpuset $(kernel_groups cpuset) (was $c), pids $(kernel_groups pids) (was $p)"
	return 1
}

@test "the same checks pass in a guest whose only hierarchy is cgroup v2" {
	[ -z "${MDT_IN_GUEST:-}" ] || skip "already inside the guest"
	[ -z "${MDT_QUICK:-}" ] || skip "MDT_QUICK: the v2 guest takes about a minute under TCG"
	require qemu-system-x86_64 apt-get dpkg-deb cpio
	run "$BATS_TEST_DIRNAME/vm/cgroup2-guest.sh" --quick "$CGTEST" "$MEM"
	echo "$output" | sed 's/^/# guest: /' >&3
	[ "$status" -ne 4 ] || skip "no kernel for the guest: $output"
	assert_status 0
	assert_output_contains "ok 1 a 10M memory limit"
	case $output in *"not ok"*) return 1 ;; esac
}
