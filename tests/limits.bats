#!/usr/bin/env bats
# cgroup limits through mdrun.sh, as the student sees them: the seed's two
# experiments (cpuset and memory), pids, the caps of the caller's rule, and
# that nothing is left behind. The hierarchy in use is the host's (v1 here;
# v2 runs in a guest: tests/cgroup.bats).

load helper

setup() {
	default_conf
}

teardown() {
	stop_containers
}

md() {
	as_user mdrun.sh "$@"
}

# The container groups of the test build, on whichever hierarchy is in use.
leftover_groups() {
	find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$MDT_CGNAME/*" 2>/dev/null
}

two_loops() {
	[ "$(pgrep -c -U "$MDT_USER" -x loop)" -eq 2 ]
}

# CPU time (ticks) a process has used so far.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# Start two loops in a container with the given options and print the CPU
# share (percent of one CPU) of each over two seconds, then the CPUs each
# may run on.
loop_shares() {
	md "$@" -- sh -c '/home/loop & /home/loop & wait' >/dev/null 2>&1 &
	local pids=
	wait_for 30 two_loops
	pids=$(pgrep -U "$MDT_USER" -x loop | tr '\n' ' ')
	set -- $pids
	local a0 b0 a1 b1 hz t0 t1 ms
	hz=$(getconf CLK_TCK)
	# Over the time that really went by: on a loaded machine, or in a
	# guest under TCG, `sleep 2` may take longer than 2 s.
	t0=$(date +%s%N); a0=$(cpu_ticks "$1"); b0=$(cpu_ticks "$2")
	sleep 2
	a1=$(cpu_ticks "$1"); b1=$(cpu_ticks "$2"); t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	echo $(( (a1 - a0) * 100000 / (ms * hz) )) $(( (b1 - b0) * 100000 / (ms * hz) ))
	grep Cpus_allowed_list "/proc/$1/status" | cut -f2
	grep Cpus_allowed_list "/proc/$2/status" | cut -f2
}

@test "the default is one CPU and 10M of memory" {
	run md -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t0')"
	run md -- /home/mem 100 1 10
	assert_status 137
	[ "${lines[-1]}" = "mdhelper: container killed: out of memory (limit 10M)" ]
}

@test "two loops in a one-CPU container share that CPU (~50% each)" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	run loop_shares --cpus 1
	echo "shares and CPUs: $output"
	read -r a b <<<"${lines[0]}"
	# One CPU between them: together at most one CPU's worth (plus a tick
	# of rounding), shared fairly, whatever else the machine is doing.
	[ $((a + b)) -le 105 ]
	[ "$a" -gt 0 ]
	[ "$b" -gt 0 ]
	[ $((a * 3)) -ge "$b" ]
	[ $((b * 3)) -ge "$a" ]
	[ "${lines[1]}" = "${lines[2]}" ]
	[ "${lines[1]}" = 0 ]
}

@test "--cpus all runs on every CPU the rule allows here" {
	run md --cpus all -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t0-%d' $(( $(nproc) - 1 )))"
	write_conf <<CONF
permit :mdtestgrp cpus=0 rootfs=$MDT_SYSROOTFS
CONF
	run md --cpus all -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t0')"
}

@test "--cpuset-cpus 1 pins the container to CPU 1" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	run md --cpuset-cpus 1 -- grep Cpus_allowed_list /proc/self/status
	assert_output "$(printf 'Cpus_allowed_list:\t1')"
}

@test "with --cpus 2 the loops may use both CPUs" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	run loop_shares --cpus 2
	echo "shares and CPUs: $output"
	# Their share depends on the machine's load: the cpuset is the promise.
	[ "${lines[1]}" = 0-1 ]
	[ "${lines[2]}" = 0-1 ]
}

@test "mem is OOM-killed at the memory limit, with one line and status 137" {
	run md --memory 10M -- /home/mem 100 1 10
	assert_status 137
	[ "${lines[-1]}" = "mdhelper: container killed: out of memory (limit 10M)" ]
	[[ "${lines[-2]}" == "mem: holding "* ]]
	held=${lines[-2]#mem: holding }; held=${held% MiB}
	[ "$held" -lt 10 ]
}

@test "below the limit, mem runs to its cap and keeps running" {
	run md --memory 50M -- sh -c '/home/mem 20 4 10 & sleep 1; kill $!; echo alive'
	assert_status 0
	assert_output_contains "mem: reached 20 MiB, holding"
	assert_output_contains "alive"
}

@test "with --memory-swap, mem keeps running past the memory limit" {
	[ -n "$(tail -n +2 /proc/swaps)" ] || skip "this machine has no swap"
	write_conf <<CONF
permit :mdtestgrp memory=512M swap=1G rootfs=$MDT_SYSROOTFS
CONF
	run md --memory 10M --memory-swap 50M -- sh -c '/home/mem 30 2 10 & sleep 2; kill $!; echo alive'
	assert_output_contains "alive"
}

@test "--memory-swap is refused when the rule allows no swap" {
	run md --memory 10M --memory-swap 50M -- true
	assert_status 125
	assert_output "mdhelper: swap is not allowed for you ($MDT_CONF:1)"
}

@test "--pids-limit makes fork fail inside while the host is unaffected" {
	run md --pids-limit 20 -- sh -c 'i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; echo done'
	assert_output_contains "can't fork"
	run md -- true
	assert_status 0
}

@test "CPUs and pids beyond the rule are refused naming it" {
	write_conf <<CONF
permit :mdtestgrp cpus=0 pids=256 rootfs=$MDT_SYSROOTFS
CONF
	run md --cpus 2 -- true
	assert_status 125
	assert_output "mdhelper: cpus 2 exceeds your limit of 1 CPUs ($MDT_CONF:1)"
	run md --cpuset-cpus 1 -- true
	assert_status 125
	assert_output "mdhelper: cpuset 1 is not within your CPUs ($MDT_CONF:1)"
	run md --pids-limit 1000 -- true
	assert_status 125
	assert_output "mdhelper: pids limit 1000 exceeds your limit 256 ($MDT_CONF:1)"
}

@test "a CPU the machine does not have is refused" {
	run md --cpuset-cpus 63 -- true
	assert_status 125
	assert_output "mdhelper: cgroup: CPUs 63 are not available here (this machine allows 0-$(( $(nproc) - 1 )))"
}

@test "the rule's memory cap holds even when no limit is asked for" {
	write_conf <<CONF
permit :mdtestgrp memory=8M rootfs=$MDT_SYSROOTFS
CONF
	run md --memory max -- /home/mem 100 1 10
	assert_status 137
	[ "${lines[-1]}" = "mdhelper: container killed: out of memory (limit 8M)" ]
}

@test "container root cannot reach or raise its limits" {
	run md -- sh -c 'mount -t cgroup2 none /mnt || mount -t cgroup -o memory none /mnt'
	[ "$status" -ne 0 ]
	md -- sleep 30 >/dev/null 2>&1 &
	wait_for 30 pgrep -U "$MDT_USER" -x sleep >/dev/null
	# v1: the group in the memory hierarchy; v2: the one group.
	group=$(leftover_groups | grep -m1 -e '/memory/' -e "^/sys/fs/cgroup/$MDT_CGNAME/")
	[ -n "$group" ]
	limit=$group/memory.limit_in_bytes
	[ -e "$limit" ] || limit=$group/memory.max
	[ "$(stat -c %U "$limit")" = root ]
	run as_user sh -c "echo 1G > $limit"
	[ "$status" -ne 0 ]
}

@test "the cgroup is gone when the container ends, and after a refusal" {
	md -- true
	md --memory 10M -- /home/mem 100 1 10 || true
	md --hostname 'bad name' -- true || true
	[ -z "$(leftover_groups)" ]
}

@test "500 runs leave no cgroup behind" {
	local n=500
	# MDT_QUICK (the v2 guest, under TCG): 50.
	[ -z "${MDT_QUICK:-}" ] || n=50
	as_user sh -c "i=0; while [ \$i -lt $n ]; do mdrun.sh -- true || exit 1; i=\$((i + 1)); done"
	[ -z "$(leftover_groups)" ]
}
