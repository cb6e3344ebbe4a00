#!/usr/bin/env bats
# mdbench.sh: sysbench + iostat + gnuplot + report, with --quick parameters so
# that every environment takes seconds. One quick native run (setup_file) is
# inspected by several tests; docker, minidocker and vm get their own.

load helper

# The installed script when `make test-install` ran, else the source tree's;
# MDT_MDBENCH names another (a copy being edited).
mb_script() {
	if [ -n "${MDT_MDBENCH:-}" ]; then echo "$MDT_MDBENCH"
	elif [ -x "$MDT_BIN/mdbench.sh" ]; then echo "$MDT_BIN/mdbench.sh"
	else echo "$MDT_TOP/scripts/mdbench.sh"; fi
}

# A PATH without mdvm.sh, so the vm environment is skipped for a known reason:
# a directory that has one (minidocker installed on this machine) is left out.
MB_PLAIN_PATH=$(for d in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do [ -e "$d/mdvm.sh" ] || printf '%s:' "$d"; done)
MB_PLAIN_PATH=${MB_PLAIN_PATH%:}

setup_file() {
	export MB="$(mb_script)"
	export MB_OUT="$BATS_FILE_TMPDIR/native"
	command -v sysbench >/dev/null && command -v iostat >/dev/null && command -v gnuplot >/dev/null || return 0
	# cpu runs of ~0.7 s each: the cpu test spans a couple of iostat samples.
	env PATH="$MB_PLAIN_PATH" sh "$MB" --quick --cpu-events 20000 --env native,vm --out "$MB_OUT" \
		>"$BATS_FILE_TMPDIR/native.stdout" 2>"$BATS_FILE_TMPDIR/native.stderr" ||
		echo "$?" >"$BATS_FILE_TMPDIR/native.failed"
}

setup() {
	require sysbench iostat gnuplot
	# Outside bats's private (0700) directories: the test user writes here too.
	MB_TMP=$(mktemp -d /tmp/mdbench-test.XXXXXX)
	chmod 755 "$MB_TMP"
	MB_DOCKERD_PID=
}

teardown() {
	mb_stop_dockerd
	# A test that failed half way may have left an mdbench.sh running.
	if [ -n "${MB_PID:-}" ]; then kill -TERM "$MB_PID" 2>/dev/null || true; fi
	rm -rf "$MB_TMP"
}

# The quick native run of setup_file, or a failure that shows why.
need_native_run() {
	if [ -f "$BATS_FILE_TMPDIR/native.failed" ]; then
		echo "mdbench.sh --quick exited $(cat "$BATS_FILE_TMPDIR/native.failed"):"
		cat "$BATS_FILE_TMPDIR/native.stderr"
		return 1
	fi
	[ -f "$MB_OUT/results.csv" ]
}

# Is $1 a PNG (magic bytes) and $2 an SVG document?
assert_png() {
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "$1 is not a PNG"; return 1; }
}
assert_svg() {
	if command -v xmllint >/dev/null; then
		xmllint --noout "$1" || { echo "$1 is not well-formed XML"; return 1; }
	else
		python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" ||
			{ echo "$1 is not well-formed XML"; return 1; }
	fi
	grep -q '<svg' "$1" || { echo "$1 has no <svg> element"; return 1; }
}

# A private Docker daemon: its own data root, exec root, pid file and socket
# under the test's directory, so the machine's Docker (if any) is untouched.
mb_start_dockerd() {
	require dockerd docker
	MB_DOCKERD_DIR=$(mktemp -d /tmp/mbdockerd.XXXXXX)
	dockerd --data-root "$MB_DOCKERD_DIR/data" --exec-root "$MB_DOCKERD_DIR/exec" \
		--pidfile "$MB_DOCKERD_DIR/dockerd.pid" -H "unix://$MB_DOCKERD_DIR/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --ip-masq=false \
		>"$MB_DOCKERD_DIR/dockerd.log" 2>&1 &
	MB_DOCKERD_PID=$!
	export DOCKER_HOST="unix://$MB_DOCKERD_DIR/docker.sock"
	local i
	for i in $(seq 1 60); do
		docker version >/dev/null 2>&1 && return 0
		kill -0 "$MB_DOCKERD_PID" 2>/dev/null || break
		sleep 0.5
	done
	local why
	why=$(tail -n 3 "$MB_DOCKERD_DIR/dockerd.log")
	mb_stop_dockerd
	skip "dockerd does not start here: $why"
}

mb_stop_dockerd() {
	[ -n "${MB_DOCKERD_PID:-}" ] || return 0
	docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
	kill -TERM "$MB_DOCKERD_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 40); do
		kill -0 "$MB_DOCKERD_PID" 2>/dev/null || break
		sleep 0.25
	done
	kill -KILL "$MB_DOCKERD_PID" 2>/dev/null || true
	wait "$MB_DOCKERD_PID" 2>/dev/null || true
	MB_DOCKERD_PID=
	# Overlay mounts of a killed daemon would keep the data root busy.
	grep -o " $MB_DOCKERD_DIR/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
	rm -rf "$MB_DOCKERD_DIR"
	unset DOCKER_HOST
}

# Processes holding a file under $1 open (sysbench's test files, iostat's JSON).
procs_using() {
	find /proc/[0-9]*/fd -lname "$1/*" 2>/dev/null | cut -d/ -f3 | sort -u
}

@test "mdbench.sh --help prints the usage to stdout and exits 0" {
	run sh "$MB" --help
	assert_status 0
	assert_output_contains "Usage: mdbench.sh [options]"
	assert_output_contains "mdbench.sh compare DIR1 DIR2..."
	assert_output_contains "--calibrate"
}

@test "mdbench.sh refuses an unknown option with exit 2" {
	run sh "$MB" --bogus
	assert_status 2
	assert_output "mdbench.sh: unknown option: --bogus
Try 'mdbench.sh --help' for more information."
}

@test "mdbench.sh refuses fewer than 3 runs" {
	run sh "$MB" --runs 2
	assert_status 2
	assert_output "mdbench.sh: --runs: at least 3 runs are needed for a mean and a deviation
Try 'mdbench.sh --help' for more information."
}

@test "mdbench.sh refuses an unknown environment" {
	run sh "$MB" --env native,kvm
	assert_status 2
	assert_output "mdbench.sh: --env: unknown value 'kvm' (one of: native minidocker docker vm)
Try 'mdbench.sh --help' for more information."
}

@test "mdbench.sh refuses a bad file size" {
	run sh "$MB" --file-total-size 12x
	assert_status 2
	assert_output "mdbench.sh: --file-total-size: not a size: 12x
Try 'mdbench.sh --help' for more information."
}

@test "mdbench.sh report refuses a directory without results" {
	run sh "$MB" report "$MB_TMP"
	assert_status 1
	assert_output "mdbench.sh: report: $MB_TMP has no results.csv and env.txt (not an mdbench.sh output directory)"
}

@test "a quick native run writes one CSV row per run, environments in turn" {
	need_native_run
	run cat "$MB_OUT/results.csv"
	[ "${lines[0]}" = "env,test,run,start,end,status,params,events_per_s,total_time_s,events,lat_avg_ms,lat_p95_ms,reads_per_s,writes_per_s,fsyncs_per_s,read_mib_s,written_mib_s,cache,fstype" ]
	[ "${#lines[@]}" -eq 7 ]
	run awk -F, 'NR > 1 { print $1, $2, $3, $6 }' "$MB_OUT/results.csv"
	assert_output "native cpu 1 ok
native cpu 2 ok
native cpu 3 ok
native fileio 1 ok
native fileio 2 ok
native fileio 3 ok"
	# Every run measured something, and its end follows its start.
	run awk -F, 'NR > 1 && !($8 > 0 && $5 > $4 && NF == 19) { print "bad row " NR ": " $0 }' "$MB_OUT/results.csv"
	assert_output ""
	# fileio: MiB/s read and written, the cache dropped (root), the filesystem named.
	run awk -F, 'NR > 1 && $2 == "fileio" && !($16 > 0 && $17 > 0 && $18 == "dropped" && $19 != "" && $19 != "unknown") { print "bad row " NR ": " $0 }' "$MB_OUT/results.csv"
	assert_output ""
}

@test "a quick native run leaves no test files, work directory or processes behind" {
	need_native_run
	run find "$MB_OUT" -name 'test_file.*' -o -name '.work.*'
	assert_output ""
	run procs_using "$MB_OUT"
	assert_output ""
}

@test "the iostat record is valid JSON with samples of CPU and the disk" {
	need_native_run
	if command -v jq >/dev/null; then
		run jq '.sysstat.hosts[0].statistics | length' "$MB_OUT/iostat/host.json"
	else
		run python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["sysstat"]["hosts"][0]["statistics"]))' "$MB_OUT/iostat/host.json"
	fi
	assert_status 0
	[ "$output" -ge 3 ]
	grep -q '"avg-cpu"' "$MB_OUT/iostat/host.json"
	grep -q '"disk_device"' "$MB_OUT/iostat/host.json"
	[ -s "$MB_OUT/plots/iostat.dat" ]
}

@test "fileio's file system is named as the kernel mounted it: ext4 is not ext2/ext3" {
	need_native_run
	local fs
	fs=$(findmnt -n -o FSTYPE -T "$MB_OUT")
	[ "$fs" != overlay ] || fs=overlayfs
	run awk -F, 'NR > 1 && $2 == "fileio" { print $19 }' "$MB_OUT/results.csv"
	assert_output "$fs
$fs
$fs"
	run cat "$MB_OUT/report.md"
	assert_output_contains "on the host's $fs ("
	assert_output_contains "| dropped | $fs |"
	if printf '%s\n' "$output" | grep -n 'ext2/ext3'; then return 1; fi
}

@test "the iostat samples of the last run are kept: one covers its end" {
	need_native_run
	# Times in seconds since the start; a sample at t covers (t-c, t], c its
	# 11th column.
	local t0 end
	t0=$(sed -n 's/^start_epoch=//p' "$MB_OUT/env.txt")
	end=$(awk -F, -v t0="$t0" 'END { printf "%.2f", $5 - t0 }' "$MB_OUT/results.csv")
	run awk -v e="$end" '$1 - $11 < e && e <= $1 + 0.01 { print "covered" }' "$MB_OUT/plots/iostat.dat"
	[ "$output" = covered ] || { echo "no sample covers the last run's end at $end s:"; cat "$MB_OUT/plots/iostat.dat"; return 1; }
	# The last fileio run is counted in the report's means.
	run awk -F, -v t0="$t0" 'NR > 1 && $2 == "fileio" { s = $4 - t0 } END { print s }' "$MB_OUT/results.csv"
	local start=$output
	run awk -v s="$start" -v e="$end" '$1 - $11 / 2 >= s && $1 - $11 / 2 <= e { n++ } END { print n + 0 }' "$MB_OUT/plots/iostat.dat"
	[ "$output" -ge 1 ]
}

@test "the cpu test's iostat plot shows only samples of the cpu period, the fileio plot only the fileio period" {
	need_native_run
	local t0 t
	t0=$(sed -n 's/^start_epoch=//p' "$MB_OUT/env.txt")
	for t in cpu fileio; do
		[ -s "$MB_OUT/plots/iostat-$t.dat" ] || { echo "no samples in plots/iostat-$t.dat"; cat "$MB_OUT/plots/iostat.dat"; return 1; }
		# The middle of each sample's time lies between the test's first
		# start and last end.
		run awk -F, -v test="$t" -v t0="$t0" '
			FNR == NR { if (FNR > 1 && $2 == test) { if (lo == "" || $4 - t0 < lo) lo = $4 - t0; if ($5 - t0 > hi) hi = $5 - t0 } next }
			{ split($0, f, " "); m = f[1] - f[11] / 2; if (m < lo || m > hi) print "sample at " f[1] " is outside " lo "-" hi }' \
			"$MB_OUT/results.csv" "$MB_OUT/plots/iostat-$t.dat"
		assert_output ""
		assert_svg "$MB_OUT/plots/iostat-$t.svg"
	done
}

# A copy of the native run's data, as a vm run would have left it beside
# native: the vm rows at a fifth of native's rate, env.vm.* as env-vm.sh
# writes them with accelerator $2, in directory $1.
fake_vm_results() {
	local dir=$1 acc=$2
	cp -a "$MB_OUT" "$dir"
	rm -rf "$dir/plots" "$dir/report.md" "$dir/report.html"
	awk -F, -v OFS=, 'NR > 1 && $1 == "native" { $1 = "vm"; $8 = $8 / 5; $16 = $16 / 5; $17 = $17 / 5; print }' \
		"$MB_OUT/results.csv" >>"$dir/results.csv"
	cat >>"$dir/env.txt" <<EOF
env.vm.status=ok
env.vm.accel=$acc
env.vm.setup=accelerator ${acc^^}; mdvm.sh run IMG.qcow2 --cpus 2 --memory 1024 --disk-cache none --accel $acc: QEMU 7.2.11 -smp 2 -m 1024
env.vm.files=/mdbench-fileio in the guest, on ext4 on its virtual disk
env.vm.sysbench=1.0.20
EOF
}

@test "the report names the VM's accelerator and what the VM's slowdown is due to" {
	need_native_run
	fake_vm_results "$MB_TMP/tcg" tcg
	run sh "$MB" report "$MB_TMP/tcg"
	assert_status 0
	run cat "$MB_TMP/tcg/report.md"
	assert_output_contains "- **vm**: accelerator TCG; mdvm.sh run IMG.qcow2"
	assert_output_contains "The vm ran under TCG, QEMU's software emulation (no KVM for this user): its overhead is mostly the translation of every guest instruction, not the cost of virtualisation with KVM."
	[ "$(printf '%s\n' "$output" | grep -c 'The vm ran under TCG')" -eq 2 ]
	assert_output_contains "| vm | 3 |"
	fake_vm_results "$MB_TMP/kvm" kvm
	run sh "$MB" report "$MB_TMP/kvm"
	run cat "$MB_TMP/kvm/report.md"
	assert_output_contains "- **vm**: accelerator KVM;"
	assert_output_contains "The vm ran with KVM: its overhead is that of hardware virtualisation (and, for fileio, of its virtual disk)."
	if printf '%s\n' "$output" | grep -n TCG; then return 1; fi
}

@test "the report states %iowait as measured, and a small one is not called waiting for the disk" {
	need_native_run
	local dir=$MB_TMP/iowait
	cp -a "$MB_OUT" "$dir"
	sed -i 's/"iowait": [0-9.]*/"iowait": 1.20/' "$dir/iostat/host.json"
	run sh "$MB" report "$dir"
	assert_status 0
	run cat "$dir/report.md"
	assert_output_contains "- **fileio, native**: %iowait 1.2%: the CPUs sat idle with disk I/O outstanding 1.2% of the time; %util "
	if printf '%s\n' "$output" | grep -n -i 'wait.* for the disk'; then return 1; fi
}

@test "the plots are valid PNG and SVG files" {
	need_native_run
	local p
	for p in cpu fileio iostat-cpu iostat-fileio; do
		assert_png "$MB_OUT/plots/$p.png"
		assert_svg "$MB_OUT/plots/$p.svg"
	done
	# Titles and axis labels with units are there to read.
	grep -q 'events per second' "$MB_OUT/plots/cpu.svg"
	grep -q 'seconds since the benchmark started' "$MB_OUT/plots/iostat-fileio.svg"
}

@test "the report has the machine, the tables, the plots and the iostat reading" {
	need_native_run
	run cat "$MB_OUT/report.md"
	assert_output_contains "## The machine"
	assert_output_contains "- **cores**: $(nproc)"
	assert_output_contains "| environment | run | status | events/s | total time (s) | events | latency avg (ms) | p95 (ms) |"
	assert_output_contains "| environment | runs | mean ± sd | min | max | CV | overhead vs native |"
	assert_output_contains "| native | 3 |"
	assert_output_contains "(baseline)"
	assert_output_contains "![cpu: mean and standard deviation per environment](plots/cpu.png)"
	assert_output_contains "![host CPU and disk during the fileio test](plots/iostat-fileio.png)"
	assert_output_contains "## What iostat saw on the host"
	assert_output_contains "- **page cache**: run as root, so before every fileio run the host did"
	grep -q '<table>' "$MB_OUT/report.html"
	grep -q '<img src="plots/cpu.svg"' "$MB_OUT/report.html"
}

@test "the report names a skipped environment and why, and so does stderr" {
	need_native_run
	run cat "$BATS_FILE_TMPDIR/native.stderr"
	assert_output_contains "mdbench.sh: skipping vm: mdvm.sh is not on PATH (install minidocker: make install)"
	run cat "$MB_OUT/report.md"
	assert_output_contains "- **vm**: skipped: mdvm.sh is not on PATH (install minidocker: make install)"
}

@test "mdbench.sh report rebuilds the same report and plots from the saved data" {
	need_native_run
	local copy=$MB_TMP/copy
	cp -a "$MB_OUT" "$copy"
	rm -rf "$copy/plots" "$copy/report.md" "$copy/report.html"
	run sh "$MB" report "$copy"
	assert_status 0
	assert_output "$copy/report.md"
	diff "$MB_OUT/report.md" "$copy/report.md"
	assert_png "$copy/plots/cpu.png"
	[ -s "$copy/report.html" ]
}

@test "mdbench.sh compare puts several result directories side by side" {
	need_native_run
	cp -a "$MB_OUT" "$MB_TMP/second"
	run sh "$MB" compare "$MB_OUT" "$MB_TMP/second"
	assert_status 0
	assert_output_contains "# sysbench across machines"
	assert_output_contains "| environment | $MB_OUT ($(uname -n)) | $MB_TMP/second ($(uname -n)) |"
	[ "$(printf '%s\n' "$output" | grep -c '^| native | .* n=3 .* n=3')" -eq 2 ]
}

@test "mdbench.sh refuses to mix new results into an old directory" {
	need_native_run
	run sh "$MB" --quick --env native --out "$MB_OUT"
	assert_status 1
	assert_output "mdbench.sh: $MB_OUT already holds results: choose another --out"
}

@test "--calibrate-only without --out leaves nothing behind and prints every option the runs need" {
	mkdir "$MB_TMP/cwd" "$MB_TMP/tmp"
	run env TMPDIR="$MB_TMP/tmp" sh -c 'cd "$1" && shift && exec sh "$@"' sh "$MB_TMP/cwd" "$MB" --calibrate-only --time 30
	assert_status 0
	# The size was picked for 30 s runs: --time 30 goes with it.
	[[ "${lines[-1]}" =~ ^--cpu-max-prime\ [0-9]+\ --file-total-size\ [0-9]+[KMG]?\ --time\ 30$ ]] || { echo "$output"; return 1; }
	[ -z "$(ls -A "$MB_TMP/cwd")" ]
	[ -z "$(ls -A "$MB_TMP/tmp")" ]
	# Only what was calibrated: cpu alone prints no file size.
	run sh -c 'cd "$1" && shift && exec sh "$@"' sh "$MB_TMP/cwd" "$MB" --calibrate-only --test cpu
	assert_status 0
	[[ "${lines[-1]}" =~ ^--cpu-max-prime\ [0-9]+$ ]] || { echo "$output"; return 1; }
	[ -z "$(ls -A "$MB_TMP/cwd")" ]
}

@test "calibration picks a cpu-max-prime for a 30-60 s run and a file size in range" {
	run sh "$MB" --calibrate-only --time 45 --out "$MB_TMP/cal"
	assert_status 0
	# The options to pass on, as they are spelled.
	[[ "${lines[-1]}" =~ ^--cpu-max-prime\ [0-9]+\ --file-total-size\ [0-9]+[KMG]?$ ]] || { echo "$output"; return 1; }
	local cal=$MB_TMP/cal/calibration.csv
	# The chosen prime's measured rate puts 10000 events within 30-60 s.
	run awk -F, '$1 == "cpu" && $2 == "chosen" { print $4, $5 }' "$cal"
	set -- $output
	[ "$1" -ge 1000 ] && [ "$1" -le 10000000 ] || { echo "prime $1 out of range"; cat "$cal"; return 1; }
	awk -v s="$2" 'BEGIN { exit !(s >= 30 && s <= 60) }' || { echo "predicted $2 s"; cat "$cal"; return 1; }
	# The data set: a power of two from 256 MiB, at least twice what a run moves.
	run awk -F, '$1 == "fileio" && $2 == "chosen" { print $4, $6, $5 }' "$cal"
	set -- $output
	awk -v s="$1" -v m="$2" -v t="$3" 'BEGIN {
		p = 268435456; while (p < s) p *= 2
		exit !(p == s && (s >= 2 * m * t * 1048576 || s == 268435456)) }' || { cat "$cal"; return 1; }
	grep -q "^param.cpu_max_prime=" "$MB_TMP/cal/env.txt"
	# A record of the calibration, not a results directory.
	run ls -A "$MB_TMP/cal"
	assert_output "calibration.csv
env.txt"
	# The work directory and its test files are gone.
	run find "$MB_TMP/cal" -name 'test_file.*' -o -name '.work.*'
	assert_output ""
}

@test "Ctrl-C stops mdbench.sh cleanly and keeps the data so far" {
	local out=$MB_TMP/int
	# A shell started in the background ignores SIGINT; give it the default
	# back, as a terminal's Ctrl-C would find it.
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' sh "$MB" --env native --test cpu,fileio \
		--cpu-max-prime 2000 --cpu-events 200 --time 20 --file-total-size 24M --file-num 7 \
		--out "$out" 2>"$MB_TMP/int.err" &
	MB_PID=$!
	# Wait until the second test's files exist: the cpu runs are done by then.
	local i
	for i in $(seq 1 100); do
		[ -n "$(find "$out" -name 'test_file.*' 2>/dev/null)" ] && pgrep -f 'file-total-size=24M --file-num=7' >/dev/null && break
		sleep 0.1
	done
	sleep 1
	kill -INT "$MB_PID"
	local rc=0
	wait "$MB_PID" || rc=$?
	MB_PID=
	[ "$rc" -eq 130 ] || { echo "exit $rc"; cat "$MB_TMP/int.err"; return 1; }
	run cat "$MB_TMP/int.err"
	assert_output_contains "mdbench.sh: interrupted: the data so far is in $out (\`mdbench.sh report $out\` builds its report)"
	run pgrep -f 'file-total-size=24M --file-num=7'
	assert_output ""
	run procs_using "$out"
	assert_output ""
	run find "$out" -name 'test_file.*' -o -name '.work.*' -o -name '*.prepare'
	assert_output ""
	# The three cpu runs were kept, and the iostat record was closed.
	[ "$(grep -c '^native,cpu,.*,ok,' "$out/results.csv")" -eq 3 ]
	tail -n 1 "$out/iostat/host.json" | grep -q '^}}'
	run sh "$MB" report "$out"
	assert_status 0
}

@test "as a student (not root) fileio uses O_DIRECT and the report says so" {
	chown "$MDT_USER" "$MB_TMP"
	run as_user env PATH="$MB_PLAIN_PATH" sh "$MB" --quick --env native --test fileio --out "$MB_TMP/user"
	assert_status 0
	[ "$(stat -c %U "$MB_TMP/user/results.csv")" = "$MDT_USER" ]
	run awk -F, 'NR > 1 { print $6, $18 }' "$MB_TMP/user/results.csv"
	assert_output "ok direct
ok direct
ok direct"
	grep -q -- "--file-extra-flags=direct" "$MB_TMP/user/raw/native-fileio-1.txt" ||
		grep -q "Extra file open flags: directio" "$MB_TMP/user/raw/native-fileio-1.txt"
	run cat "$MB_TMP/user/report.md"
	assert_output_contains "- **page cache**: fileio used \`--file-extra-flags=direct\` (O_DIRECT), bypassing the page cache: not root, so the page cache could not be dropped."
}

@test "a quick run with Docker measures both and removes its container" {
	mb_start_dockerd
	run env PATH="$MB_PLAIN_PATH" sh "$MB" --quick --env native,docker --out "$MB_TMP/docker"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	run awk -F, 'NR > 1 && $6 == "ok" { print $1, $2 }' "$MB_TMP/docker/results.csv"
	assert_output "native cpu
docker cpu
native cpu
docker cpu
native cpu
docker cpu
native fileio
docker fileio
native fileio
docker fileio
native fileio
docker fileio"
	# The container's files sat on overlayfs (Docker's default storage).
	run awk -F, 'NR > 1 && $1 == "docker" && $2 == "fileio" { print $19 }' "$MB_TMP/docker/results.csv"
	assert_output "overlayfs
overlayfs
overlayfs"
	run cat "$MB_TMP/docker/report.md"
	assert_output_contains "| docker | 3 |"
	assert_output_contains "- **docker**: Docker Engine"
	run docker ps -aq
	assert_output ""
}

@test "a quick run with minidocker measures it beside native" {
	[ -x "$MDT_BIN/mdrun.sh" ] && [ -u "$MDT_HELPER" ] || skip "minidocker is not installed in $MDT_ROOT (make test-install)"
	default_conf
	chown "$MDT_USER" "$MB_TMP"
	run as_user sh "$MB" --quick --env native,minidocker --out "$MB_TMP/md"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	run awk -F, 'NR > 1 && $1 == "minidocker" && $6 == "ok" { n++ } END { print n + 0 }' "$MB_TMP/md/results.csv"
	[ "$output" -eq 6 ] || { grep 'env.minidocker' "$MB_TMP/md/env.txt"; return 1; }
	run cat "$MB_TMP/md/report.md"
	assert_output_contains "| minidocker | 3 |"
	run find "/home/$MDT_USER/.local/share/minidocker/rootfs/mdbench/mdbench-fileio" -name 'test_file.*'
	assert_output ""
	# One place chooses minidocker's fileio directory; the report says where.
	grep -q "^env.minidocker.files=/home/$MDT_USER/.local/share/minidocker/rootfs/mdbench/mdbench-fileio, /mdbench-fileio inside: a directory of the rootfs, bind-mounted by the helper (" "$MB_TMP/md/env.txt" ||
		{ grep 'env.minidocker' "$MB_TMP/md/env.txt"; return 1; }
	# Inside, the files are on the rootfs's own file system, named as mounted.
	local fs
	fs=$(findmnt -n -o FSTYPE -T "/home/$MDT_USER/.local/share/minidocker/rootfs/mdbench")
	run awk -F, 'NR > 1 && $1 == "minidocker" && $2 == "fileio" { print $19 }' "$MB_TMP/md/results.csv"
	assert_output "$fs
$fs
$fs"
}

@test "with sudo, minidocker's fileio runs as the user who ran sudo, in their rootfs, and works" {
	[ -x "$MDT_BIN/mdrun.sh" ] && [ -u "$MDT_HELPER" ] || skip "minidocker is not installed in $MDT_ROOT (make test-install)"
	default_conf
	run env SUDO_USER="$MDT_USER" PATH="$MDT_BIN:$MB_PLAIN_PATH" sh "$MB" --quick --env native,minidocker --test fileio --out "$MB_TMP/sudo"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	run awk -F, 'NR > 1 && $1 == "minidocker" && $6 == "ok" { n++ } END { print n + 0 }' "$MB_TMP/sudo/results.csv"
	assert_output 3
	grep -q "run as $MDT_USER, who ran sudo (root's rootfs would be read-only)" "$MB_TMP/sudo/env.txt"
	[ "$(stat -c %U "/home/$MDT_USER/.local/share/minidocker/rootfs/mdbench/usr/bin/sysbench")" = "$MDT_USER" ]
	# Root alone has no rootfs fileio could write in: skipped, saying why.
	run env -u SUDO_USER PATH="$MDT_BIN:$MB_PLAIN_PATH" sh "$MB" --quick --env native,minidocker --test fileio --out "$MB_TMP/root"
	assert_status 0
	assert_output_contains "mdbench.sh: skipping minidocker: as root every rootfs is root's, which mdhelper mounts read-only: fileio cannot write there (run mdbench.sh with sudo as a member of the minidocker group: that user's containers are used)"
}

@test "a run that fails makes mdbench.sh exit 1 and names it on the terminal" {
	[ -x "$MDT_BIN/mdrun.sh" ] && [ -u "$MDT_HELPER" ] || skip "minidocker is not installed in $MDT_ROOT (make test-install)"
	default_conf
	# A rootfs with sysbench that is root's, so read-only in containers:
	# every fileio run fails there (EROFS).
	local ro=$MDT_SYSROOTFS/mdbench-ro
	run env SUDO_USER="$MDT_USER" PATH="$MDT_BIN:$MB_PLAIN_PATH" sh "$MB" --quick --env native,minidocker --test cpu --out "$MB_TMP/build"
	rm -rf "$ro"
	cp -a "/home/$MDT_USER/.local/share/minidocker/rootfs/mdbench" "$ro"
	chown -R root:root "$ro"
	run env SUDO_USER="$MDT_USER" PATH="$MDT_BIN:$MB_PLAIN_PATH" sh "$MB" --quick --env native,minidocker --test fileio \
		--rootfs "$ro" --out "$MB_TMP/fail"
	rm -rf "$ro"
	assert_status 1
	for i in 1 2 3; do
		assert_output_contains "mdbench.sh: minidocker fileio run $i failed(exit "
	done
	assert_output_contains "(raw/minidocker-fileio-3.txt)"
	assert_output_contains "mdbench.sh: runs failed: minidocker fileio 1, minidocker fileio 2, minidocker fileio 3 (their sysbench output is in $MB_TMP/fail/raw)"
	[ -f "$MB_TMP/fail/report.md" ]
}

# mdvm.sh on PATH: the installed one, else the source tree's (not
# executable there).
mb_vm_path() {
	mkdir -p "$MB_TMP/bin"
	local real=$MDT_BIN/mdvm.sh
	[ -x "$real" ] || real=$MDT_TOP/scripts/mdvm.sh
	[ -f "$real" ] || skip "mdvm.sh is not there yet"
	printf '#!/bin/sh\nexec sh %s "$@"\n' "$real" >"$MB_TMP/bin/mdvm.sh"
	chmod 755 "$MB_TMP/bin/mdvm.sh"
}

@test "without a built guest the vm environment is skipped with how to build one" {
	mb_vm_path
	run env -u XDG_CACHE_HOME HOME="$MB_TMP" PATH="$MB_TMP/bin:$MB_PLAIN_PATH" sh "$MB" --quick --env native,vm --test cpu --out "$MB_TMP/novm"
	assert_status 0
	local img=$MB_TMP/.cache/minidocker/mdbench-vm.qcow2
	assert_output_contains "mdbench.sh: skipping vm: no guest image $img: build it once with \`mdvm.sh build $img --include sysbench\` (a few minutes), or run with --vm-build, or name one with --vm-image"
	run cat "$MB_TMP/novm/report.md"
	assert_output_contains "- **vm**: skipped: no guest image $img"
}

@test "a quick run in a built Debian guest measures cpu and fileio on its virtual disk beside native, with the limits" {
	require qemu-system-x86_64
	[ -n "${MDT_VM_IMAGE:-}" ] || skip "no built guest: set MDT_VM_IMAGE=IMG.qcow2 (mdvm.sh build IMG.qcow2 --include sysbench, minutes)"
	mb_vm_path
	# Each run boots the guest under TCG: about 15 s apiece.
	run env PATH="$MB_TMP/bin:$MB_PLAIN_PATH" sh "$MB" --quick --env native,vm --cpus 1 --memory 512M \
		--vm-image "$MDT_VM_IMAGE" --out "$MB_TMP/vm"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	grep -q '^env.vm.status=ok' "$MB_TMP/vm/env.txt" || { grep 'env.vm' "$MB_TMP/vm/env.txt"; return 1; }
	grep -qx 'env.vm.limits=-smp 1 -m 512' "$MB_TMP/vm/env.txt"
	# The guest's file system as its kernel mounted it; the host's is the host's.
	run awk -F, 'NR > 1 && $6 == "ok" { print $1, $2, $3, ($1 == "vm" || $2 == "cpu") ? $19 : "host" }' "$MB_TMP/vm/results.csv"
	assert_output "native cpu 1 -
vm cpu 1 -
native cpu 2 -
vm cpu 2 -
native cpu 3 -
vm cpu 3 -
native fileio 1 host
vm fileio 1 ext4
native fileio 2 host
vm fileio 2 ext4
native fileio 3 host
vm fileio 3 ext4"
	run cat "$MB_TMP/vm/report.md"
	assert_output_contains "| vm | 3 |"
	acc=$(sed -n 's/^env.vm.accel=//p' "$MB_TMP/vm/env.txt")
	assert_output_contains "- **vm**: accelerator ${acc^^}; mdvm.sh run $MDT_VM_IMAGE --cpus 1 --memory 512 --disk-cache none --accel $acc: QEMU"
	if [ "$acc" = tcg ]; then
		assert_output_contains "The vm ran under TCG, QEMU's software emulation (no KVM for this user): its overhead is mostly the translation of every guest instruction, not the cost of virtualisation with KVM."
	else
		assert_output_contains "The vm ran with KVM: its overhead is that of hardware virtualisation (and, for fileio, of its virtual disk)."
	fi
	assert_output_contains "on its virtual disk"
	run pgrep -f "qemu-system-x86_64.*$MB_TMP"
	assert_output ""
}

@test "mdbench.sh and its parts pass shellcheck" {
	require shellcheck
	run shellcheck -s sh "$MDT_TOP/scripts/mdbench.sh" "$MDT_TOP"/scripts/mdbench/*.sh
	assert_status 0
	assert_output ""
}

@test "mdbench.sh report and compare print their own usage with --help" {
	run sh "$MB" report --help
	assert_status 0
	assert_output_contains "Usage: mdbench.sh report DIR"
	run sh "$MB" compare --help
	assert_status 0
	assert_output_contains "Usage: mdbench.sh compare DIR1 DIR2..."
}

@test "the installed mdbench.sh runs its parts from LIBEXECDIR, not from a source tree" {
	[ -x "$MDT_BIN/mdbench.sh" ] || skip "minidocker is not installed in $MDT_ROOT (make test-install)"
	local f
	for f in "$MDT_TOP"/scripts/mdbench/*; do
		cmp "$f" "$MDT_LIBEXEC/mdbench/${f##*/}" || return 1
	done
	# A copy of the command alone finds nothing beside it: the parts come from
	# MD_LIBEXEC, as the installed one finds them.
	mkdir "$MB_TMP/bin"
	cp "$MDT_BIN/mdbench.sh" "$MB_TMP/bin/"
	run env MD_LIBEXEC="$MDT_LIBEXEC" sh "$MB_TMP/bin/mdbench.sh" --bogus
	assert_status 2
	assert_output "mdbench.sh: unknown option: --bogus
Try 'mdbench.sh --help' for more information."
	run sh "$MB_TMP/bin/mdbench.sh" --quick
	assert_status 1
	assert_output "mdbench.sh: its parts are not in $MB_TMP/bin/mdbench (install minidocker: make install)"
}

# ------------------------------------- root on what a student prepared
#
# Issue 18 (SECURITY.md 50): `sudo mdbench.sh` where a student can write,
# or on a student's results. The student plants the output directory
# names of the coming seconds, each with env.txt and results.csv links to
# a file of root's: nothing of root's may change, nothing of root's appear.

# Plant the default names of the next 15 seconds in directory $1, linked
# to $2.
plant_outdirs() {
	as_user sh -c 'cd "$1" && for i in $(seq 0 14); do
		d=mdbench-$(date -d "+$i sec" +%Y%m%d-%H%M%S)
		mkdir "$d" && ln -s "$2" "$d/env.txt" && ln -s "$2" "$d/results.csv"
	done' sh "$1" "$2"
}

# Run mdbench.sh as root from directory $1.
mb_root_in() {
	local dir=$1
	shift
	run sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" env PATH="$MB_PLAIN_PATH" sh "$MB" "$@"
}

@test "root running mdbench.sh in a student's directory refuses and writes nothing through the student's links" {
	local victim=$BATS_TEST_TMPDIR/victim
	echo precious >"$victim"
	chown "$MDT_USER" "$MB_TMP"
	plant_outdirs "$MB_TMP" "$victim"
	mb_root_in "$MB_TMP" --quick --env native --test cpu
	assert_status 1
	[ "$(printf '%s\n' "$output" | sed -E 's/mdbench-[0-9]{8}-[0-9]{6}/mdbench-DATE/')" = \
		"mdbench.sh: output directory ./mdbench-DATE: $MB_TMP belongs to another user: as root, mdbench.sh writes only where no other user can change the path (run it in a directory of root's, or give --out)" ]
	[ "$(cat "$victim")" = precious ]
	[ -z "$(find "$MB_TMP" -user root)" ]
}

@test "root running mdbench.sh in a shared sticky directory never reuses a default name a student planted" {
	local victim=$BATS_TEST_TMPDIR/victim
	echo precious >"$victim"
	chmod 1777 "$MB_TMP"
	plant_outdirs "$MB_TMP" "$victim"
	mb_root_in "$MB_TMP" --quick --env native --test cpu
	assert_status 1
	[ "$(printf '%s\n' "$output" | sed -E 's/mdbench-[0-9]{8}-[0-9]{6}/mdbench-DATE/')" = \
		"mdbench.sh: ./mdbench-DATE already exists: choose another --out" ]
	[ "$(cat "$victim")" = precious ]
	[ -z "$(find "$MB_TMP" -user root ! -path "$MB_TMP")" ]
}

@test "root refuses an --out that belongs to a student" {
	local victim=$BATS_TEST_TMPDIR/victim
	echo precious >"$victim"
	mkdir "$MB_TMP/theirs"
	chown "$MDT_USER" "$MB_TMP/theirs"
	as_user ln -s "$victim" "$MB_TMP/theirs/env.txt"
	run env PATH="$MB_PLAIN_PATH" sh "$MB" --quick --env native --test cpu --out "$MB_TMP/theirs"
	assert_status 1
	assert_output "mdbench.sh: --out $MB_TMP/theirs: $MB_TMP/theirs belongs to another user: as root, mdbench.sh writes only where no other user can change the path"
	[ "$(cat "$victim")" = precious ]
}

@test "a student's mdbench.sh refuses an --out of another user" {
	run as_user env PATH="$MB_PLAIN_PATH" sh "$MB" --quick --env native --test cpu --out "$MB_TMP"
	assert_status 1
	assert_output "mdbench.sh: --out $MB_TMP belongs to another user: choose a directory of your own"
}

@test "root running mdbench.sh report on a student's results refuses and writes nothing through their links" {
	need_native_run
	local victim=$BATS_TEST_TMPDIR/victim
	echo precious >"$victim"
	chown "$MDT_USER" "$MB_TMP"
	cp -r "$MB_OUT" "$MB_TMP/theirs"
	chown -R "$MDT_USER" "$MB_TMP/theirs"
	as_user rm -f "$MB_TMP/theirs/report.md"
	as_user ln -s "$victim" "$MB_TMP/theirs/report.md"
	run sh "$MB" report "$MB_TMP/theirs"
	assert_status 1
	assert_output "mdbench.sh: report: $MB_TMP/theirs: $MB_TMP belongs to another user: as root, mdbench.sh writes only where no other user can change the path (run report as the directory's owner)"
	[ "$(cat "$victim")" = precious ]
}
