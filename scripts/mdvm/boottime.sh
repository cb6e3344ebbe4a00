#!/bin/sh
# Usage: mdvm.sh boottime [IMAGE|DIR|tiny] [-n N] [OPTIONS] [--timeout S] [--out DIR] [--matrix]
# Summary: time N boots by phase: firmware, decompression, kernel, userspace
#
# Boots N times (default 5) headless and times each serial console line
# from QEMU's start: firmware, kernel decompression, kernel init,
# userspace, total; median/min/max; hung boots are counted, never averaged
# in. `tiny` (the default) is a tiny VM kept in the cache directory; an
# IMAGE must come from build (its kernel beside it, the marker unit).
#
# Options:
#   -n N                   boots per configuration (default 5)
#   --out DIR              write runs.csv, summary.csv, a gnuplot PNG and SVG
#                          and a Markdown report (boottime.md) to DIR
#   --matrix               compare machines and kernel formats (and KVM)
#   --timeout S            a boot that has not reached MDVM-READY after S
#                          seconds is hung (default 60)
#   --accel auto|kvm|tcg   auto (default) uses KVM only if a probe boot reaches
#                          the kernel within a few seconds, else TCG
#   --machine pc|q35|microvm  default: microvm for a tiny DIR, q35 for images
#   --memory MB            default 128 (tiny), 1536 (images)
#   --cpus N               default 1
#   --append ARGS          more kernel command line (last wins, e.g. loglevel=1)
#   -h, --help             print this help
set -eu
case $0 in */*) MDVM_DIR=${0%/*} ;; *) MDVM_DIR=. ;; esac
# shellcheck source=../mdlib.sh # the shared messages, cleanup and checks
. "$MDVM_DIR/../mdlib.sh"
# shellcheck source=common.sh # what the mdvm.sh commands share
. "$MDVM_DIR/common.sh"

# Phases of one boot from its stamped console log ($1), as a CSV tail:
# status,firmware,decompress,kernel,userspace,total (ms). The guest boots
# quiet (a verbose console backs up behind the slow emulated serial port and
# delays everything after it: measured 1.4 s of backlog at the marker) and,
# after the marker, prints the kernel log times of "Run /init" and of the
# MDVM-MARK it wrote just before the marker. The kernel log's clock
# (local_clock) stands still while the early kernel runs without a timer
# tick (until the local APIC timer is set up, it is held at the last tick
# + 4 ms): under TCG it falls 0.4-0.6 s behind the time since its zero,
# which is the raw TSC clock (sched_clock, zero at tsc_early_init). The
# guest prints both at one moment (MDVM-CLOCK sched_clk, cpu_clk, from
# debugfs sched/debug); their difference is what the log's clock lost,
# and it is added back: the kernel's zero is at host time (marker arrival
# - MDVM-MARK log time - lost), "Run /init" at (its log time + lost).
# Without those lines (an image built by an older mdvm.sh) nothing is
# added: the lost time then counts as firmware. Firmware: QEMU start to
# the last console line before the kernel's zero (SeaBIOS's "Booting from
# ROM"); decompress: from there to the zero (option ROM loading the
# kernel, the decompressor, early setup_arch before the TSC clock starts).
phases() {
	awk -F '\t' -v marker="$MARKER" '
		function kts(s) { match(s, /\[ *[0-9]+\.[0-9]+\]/); return substr(s, RSTART + 1, RLENGTH - 2) * 1000 }
		$2 == "#first-byte" { fb = $1 + 0; next }
		$2 ~ /^#end / { st = substr($2, 6); next }
		m == "" && index($2, marker) == 1 { m = $1 + 0; next }
		$2 ~ /^MDVM-CLOCK sched_clk / { split($2, w, " "); sc = w[3]; next }
		$2 ~ /^MDVM-CLOCK cpu_clk / { split($2, w, " "); cc = w[3]; next }
		$2 ~ /MDVM-DMESG .*MDVM-MARK/ { mk = kts(substr($2, index($2, "MDVM-DMESG"))); next }
		$2 ~ /MDVM-DMESG .*Run \/init as init process/ { ri = kts(substr($2, index($2, "MDVM-DMESG"))); next }
		m == "" && $2 != "" { pre[++np] = $1 + 0 }
		END {
			if (st != "ok" || m == "" || mk == "" || ri == "") {
				printf "%s,,,,,\n", (st == "ok" ? "incomplete" : st); exit
			}
			lost = (sc != "" && cc != "" && sc - cc > 0) ? sc - cc : 0
			k = m - mk - lost
			# The firmware ends with its last line before the kernel starts
			# (SeaBIOS: "Booting from ROM"); a PVH boot prints nothing, and
			# QEMU start up to the kernel counts as firmware.
			fw = k
			for (i = 1; i <= np; i++) if (pre[i] < k) lastfw = pre[i]
			if (lastfw != "") fw = lastfw
			if (fw < 0) fw = 0
			printf "ok,%.1f,%.1f,%.1f,%.1f,%.1f\n", fw, k - fw, ri + lost, mk - ri, m
		}' "$1"
}

# One configuration: boot_config NAME MACHINE KERNELFILE ACCEL INITRD N OUTDIR
# [IMAGE] appends NAME,RUN,phases to OUTDIR/runs.csv. IMAGE: a built disk
# image, the root filesystem of the guest.
boot_config() {
	if [ -n "${8:-}" ]; then
		set -- "$@" "root=/dev/vda rw quiet mdvm=times$vm_append" \
			-drive "file=$8,format=$(image_format "$8"),if=virtio,snapshot=on"
	else
		set -- "$@" "" "$TINY_APPEND quiet mdvm=times$vm_append"
	fi
	bc_i=1
	while [ "$bc_i" -le "$6" ]; do
		md_say "boottime: $1 boot $bc_i/$6"
		bc_log=$7/logs/$1-$bc_i.log
		# The last boot of a built image also prints systemd's own account
		# of the boot (guest-ready.sh --blame), after the marker: none of
		# the time measured, and the report explains the boot from it.
		bc_append=$9
		if [ -n "${8:-}" ] && [ "$bc_i" -eq "$6" ]; then bc_append="$9 mdvm.blame"; fi
		# In the background, so that the trap can stop it (it stops QEMU).
		python3 "$MDVM_DIR/timestamp.py" "${vm_timeout:-60}" "$MARKER" "$bc_log" \
			sh "$0" __qemu "$4" "$2" "$3" "$5" "${vm_memory:-$TINY_MEMORY}" "$bc_append" -serial stdio ${10:+"${10}"} ${11:+"${11}"} &
		md_pids=$!
		wait "$md_pids" || md_die "boottime: the timestamper failed on $1"
		md_pids=
		echo "$1,$bc_i,$(phases "$bc_log")" >>"$7/runs.csv"
		bc_i=$((bc_i + 1))
	done
}

# Median, min, max per configuration and phase; hung/failed boots counted.
summarize() {
	awk -F, '
		function med(c, j,   i, a, b, t, m) {
			m = ok[c]
			for (i = 1; i <= m; i++) a[i] = v[c, j, i]
			for (i = 2; i <= m; i++) { t = a[i]; for (b = i - 1; b >= 1 && a[b] > t; b--) a[b + 1] = a[b]; a[b + 1] = t }
			lo = a[1]; hi = a[m]
			return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		BEGIN { print "config,ok,hung,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms,total_min_ms,total_max_ms" }
		NR == 1 { next }
		!($1 in seen) { seen[$1] = 1; order[++nc] = $1 }
		$3 != "ok" { bad[$1]++; next }
		{ ok[$1]++; for (j = 4; j <= 8; j++) v[$1, j, ok[$1]] = $j }
		END {
			for (i = 1; i <= nc; i++) {
				c = order[i]
				if (!ok[c]) { printf "%s,0,%d,,,,,,,\n", c, bad[c] + 0; continue }
				printf "%s,%d,%d", c, ok[c], bad[c] + 0
				for (j = 4; j <= 8; j++) printf ",%.1f", med(c, j)
				printf ",%.1f,%.1f\n", lo, hi
			}
		}' "$1"
}

# The terminal table from the summary CSV.
print_table() {
	awk -F, '{ printf "%-22s %3s %4s %9s %10s %8s %9s %8s %8s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$1" |
		sed '1s/_min_ms/_min/; 1s/_max_ms/_max/'
	echo "(ms, medians over the boots that reached $MARKER; hung: boots that did not, left out)"
}

# The median boot of each configuration, by total (of an even number, the
# lower of the two middle ones): "NAME FIRMWARE DECOMPRESS KERNEL USERSPACE
# RUN". Its phases add up to its total; the medians of each phase on its
# own (summary.csv) come from different boots and need not.
median_runs() {
	awk -F, '
		NR == 1 || $3 != "ok" { next }
		!($1 in n) { order[++nc] = $1 }
		{ n[$1]++; t[$1, n[$1]] = $8 + 0; row[$1, n[$1]] = $0 }
		END {
			for (i = 1; i <= nc; i++) {
				c = order[i]; m = n[c]
				for (j = 1; j <= m; j++) ix[j] = j
				for (j = 2; j <= m; j++) {
					x = ix[j]
					for (k = j - 1; k >= 1 && t[c, ix[k]] > t[c, x]; k--) ix[k + 1] = ix[k]
					ix[k + 1] = x
				}
				split(row[c, ix[int((m + 1) / 2)]], f, ",")
				print c, f[4], f[5], f[6], f[7], f[2]
			}
		}' "$1"
}

# gnuplot (boottime.gp): each configuration's median boot as a bar stacked
# by phase, PNG and SVG.
plot_summary() {
	median_runs "$1/runs.csv" >"$md_tmp/plot.dat"
	[ -s "$md_tmp/plot.dat" ] || return 0
	for pl_t in png svg; do
		gnuplot -c "$MDVM_DIR/boottime.gp" "$pl_t" "$1/boottime.$pl_t" "$md_tmp/plot.dat" "$MARKER" ||
			md_die "boottime: gnuplot failed on $1/boottime.$pl_t"
	done
}

# Host decompression of the same kernel payload: "MS TOOL", the yardstick
# for the guest's decompression phase.
host_decompress_ms() {
	cut_payload "$1" "$md_tmp/payload" || return 1
	hd_codec=$(payload_codec "$md_tmp/payload") || return 1
	hd_s=$(date +%s%N)
	# shellcheck disable=SC2086 # the codec is a command and its flags
	$hd_codec <"$md_tmp/payload" >/dev/null 2>&1 || true
	hd_e=$(date +%s%N)
	echo "$(((hd_e - hd_s) / 1000000)) ${hd_codec%% *}"
}

# The Markdown report, every number from this run's files.
# write_report OUT TINYDIR ACCEL [IMAGE]
write_report() {
	wr_out=$1 wr_dir=$2 wr_accel=$3
	wr_why=$(accel_reason "$wr_accel")
	wr_host=$(host_decompress_ms "$wr_dir/vmlinuz" || echo "")
	{
		echo "# Boot time under QEMU ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		echo "Each boot was timed from the moment QEMU was started to the line"
		echo "\`$MARKER\` that the guest prints on its serial console."
		echo "Host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; accelerator: $wr_accel."
		echo
		echo "| config | ok | hung | firmware | decompress | kernel init | userspace | total (median) | min | max |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$wr_out/summary.csv"
		echo
		echo "Milliseconds; medians over the boots that reached the marker. A boot"
		echo "that did not within the timeout is counted as hung and left out of"
		echo "every median. The guest boots with \`quiet\` (a verbose console backs"
		echo "up behind the emulated serial port and delays the boot it is reporting)"
		echo "and prints, after the marker, the kernel-log times of \"Run /init\" and"
		echo "of a line it logged just before the marker; the host time of the"
		echo "kernel clock's zero is the marker's arrival minus that time, less the"
		echo "time the log's clock stood still while the early kernel had no timer"
		echo "tick (the guest prints the raw sched_clock and the log's clock at one"
		echo "moment from debugfs; 0.4-0.6 s under TCG). Phases:"
		echo "*firmware* = QEMU start to the firmware's last console line (SeaBIOS"
		echo "\"Booting from ROM\"), or to the kernel clock's zero when the firmware"
		echo "prints nothing (PVH on microvm, qboot): there it also holds QEMU's"
		echo "start-up and the kernel load; *decompress* = from there to the kernel"
		echo "clock's zero (option ROM loading the kernel, the decompressor, early"
		echo "setup); *kernel init* = to \"Run /init\"; *userspace* = to the marker."
		echo "The four add up to each boot's total. Each column of the table is"
		echo "that column's own median over the boots, taken from different boots,"
		echo "so the phase medians need not add up to the median total; the plot"
		echo "(boottime.png, .svg) shows each configuration's median boot by total"
		echo "(of an even number, the lower of the two middle ones), whose phases do."
		echo
		awk -F, -v host="$wr_host" -v accel="$wr_accel" -v why="$wr_why" '
			NR == 1 { next }
			$2 > 0 && $1 ~ /bzImage/ && (dz == "" || $5 + 0 > dz + 0) { dz = $5; dc = $1 }
			$2 > 0 && (best == "" || $8 + 0 < best + 0) { best = $8; bc = $1 }
			$2 > 0 && (worst == "" || $8 + 0 > worst + 0) { worst = $8; wc = $1 }
			$2 > 0 && $1 ~ /^microvm-vmlinux-tcg/ { toinit = $4 + $5 + $6 }
			$2 > 0 { nok++ }
			END {
				split(host, h, " ")
				printf "**Why so slow.** The accelerator was %s: %s. ", accel, why
				if (dz != "" && h[1] > 0)
					printf "In %s the guest spent %.0f ms loading and decompressing its own kernel up to its clock start; `%s -d` of the same payload took %d ms on the host, %.1fx less. ", dc, dz, h[2], h[1], dz / h[1]
				if (accel == "kvm")
					print "Under KVM the guest runs on the host CPU itself; what is slow is what still leaves it for QEMU: the firmware, loading the kernel, and every device access (serial port, timers, disk)."
				else
					print "Under TCG every guest code block is translated to host code the first time it runs, and a booting kernel runs mostly new code, so translation dominates; every guest memory access goes through a software MMU/TLB; every device access (serial port, timers, interrupt controllers) leaves the translated code for an emulated device in QEMU."
				print ""
				if (nok > 1 && best > 0)
					printf "**What helps.** Fastest: %s, %.0f ms; slowest: %s, %.0f ms (%.1fx). An uncompressed vmlinux booted through PVH skips the firmware (SeaBIOS) and the guest-side decompression; microvm has fewer devices for the kernel to probe.\n", bc, best, wc, worst, worst / best
				if (toinit != "")
					printf "\n**To init.** The tiny VM reached its init (Run /init) under TCG on microvm with the vmlinux in %.0f ms (median here; the load average above says how idle this host was).\n", toinit
			}' "$wr_out/summary.csv"
		echo
		if [ -n "${4:-}" ]; then guest_account "$wr_out" "$wr_accel"; echo; fi
		echo "Files: runs.csv (every boot), summary.csv, boottime.png and .svg, logs/ (the stamped consoles)."
	} >"$wr_out/boottime.md"
}

# Why this accelerator, in words (pick_accel said it on the terminal).
accel_reason() {
	case $vm_accel in tcg | kvm) echo "asked for with --accel $vm_accel"; return 0 ;; esac
	if [ "$1" = kvm ]; then
		echo "a probe boot under KVM reached the kernel"
	elif [ ! -e "$KVM_DEV" ]; then
		echo "this host has no $KVM_DEV, so QEMU emulated the CPU in software (TCG)"
	elif ! kvm_usable; then
		echo "$KVM_DEV is not open to this user, so QEMU emulated the CPU in software (TCG)"
	else
		echo "a probe boot under KVM did not reach the kernel in ${KVM_PROBE_TIMEOUT}s (KVM does not work here, e.g. nested), so QEMU emulated the CPU in software (TCG)"
	fi
}

# The built guest's boot explained from its own data: the phases of its
# median boot, and what systemd-analyze (time, blame, critical-chain) said
# on the boot that reported it (guest-ready.sh --blame, the last one).
# guest_account OUT ACCEL, Markdown on stdout.
guest_account() {
	echo "## The Debian guest's boot, from the guest's own data"
	echo
	median_runs "$1/runs.csv" | awk -v m="$MARKER" '$1 ~ /^debian-/ {
		printf "Its median boot (%s, boot %s): *firmware* %.0f ms (QEMU'"'"'s start, the firmware, loading the kernel), *decompress* %.0f ms (from the firmware'"'"'s last line to the kernel clock'"'"'s start: a PVH boot of the uncompressed vmlinux has no decompressor, so this is loading and early setup), *kernel init* %.0f ms (the kernel'"'"'s own log: from its clock'"'"'s zero to running the initramfs'"'"'s /init), *userspace* %.0f ms: the initramfs (initrd-init.sh) loads the virtio and ext4 modules and mounts /dev/vda, then systemd starts what multi-user.target wants, and its marker unit prints %s.\n\n", $1, $6, $2, $3, $4, $5, m
		exit }'
	ga_log=$(grep -l 'MDVM-BLAME-END' "$1"/logs/debian-*.log 2>/dev/null | head -n 1) || true
	if [ -z "$ga_log" ]; then
		echo "The guest did not report systemd's account of its boot (systemd-analyze):"
		echo "an image built by an older mdvm.sh. \`mdvm.sh build\` a new one to see it here."
		return 0
	fi
	ga_name=${ga_log##*/}
	awk -F '\t' -v name="${ga_name%.log}" -v accel="$2" '
		index($2, "MDVM-BLAME ") != 1 { next }
		{ l = substr($2, 12) }
		l ~ /^Startup finished|reached after/ { tm[++nt] = l; next }
		l ~ /^The time / { sec = "chain"; next }
		sec == "" && l ~ /^ *[0-9.]+(min|s|ms) / {
			if (++nb <= 8) bl[nb] = l
			split(l, w, " "); unit[nb] = w[2]; took[w[2]] = w[1]
			next
		}
		sec == "chain" && l ~ /[^ ]/ {
			ch[++nc] = l
			u = l; sub(/^[^a-zA-Z0-9-]*/, "", u); sub(/ .*/, "", u); onchain[u] = 1
			# The largest "+": the slowest start on the chain.
			if (match(l, /\+[0-9.]+(min|s|ms)/)) {
				v = substr(l, RSTART + 1, RLENGTH - 1); s = v + 0
				if (v ~ /ms$/) s /= 1000; else if (v ~ /min$/) s *= 60
				if (s > slow) { slow = s; sv = v; su = u }
			}
		}
		END {
			printf "On its last boot (%s) the guest reported systemd'"'"'s own account (`systemd-analyze`); systemd'"'"'s *kernel* is the kernel and the initramfs up to systemd'"'"'s start, its *userspace* ends when the last start job of the boot is done:\n\n", name
			for (i = 1; i <= nt; i++) print "    " tm[i]
			print "\nThe slowest units (`systemd-analyze blame`; units start in parallel, so these times overlap and do not add up):\n"
			for (i = 1; i <= nb && i <= 8; i++) print "    " bl[i]
			print "\nWhat multi-user.target waited for (`systemd-analyze critical-chain`: @ when a unit became active, + how long it took to start):\n"
			for (i = 1; i <= nc; i++) print "    " ch[i]
			print ""
			if (su != "") printf "The slowest start on that chain: %s, %s.\n\n", su, sv
			for (u in took) if (u ~ /^dev-.*\.device$/ && !dev) {
				dev = u
				printf "**%s** (%s) is how long systemd waited for udev to announce the disk: a device unit becomes active only once systemd-udevd has processed the disk'"'"'s event, which comes with udev'"'"'s coldplug; the initramfs had mounted the disk before systemd started. ", u, took[u]
				print (u in onchain) ? "It is on the critical chain: the marker waited for it.\n" : "It is not on the critical chain: the marker did not wait for it.\n"
			}
			if ("systemd-udev-trigger.service" in took)
				printf "**systemd-udev-trigger.service** (%s) is udev'"'"'s coldplug: it replays an add event for every device the kernel found, and systemd-udevd runs its rules (small programs, database lookups) on each.\n\n", took["systemd-udev-trigger.service"]
			if (accel != "kvm")
				print "Under TCG every program systemd and udev start is new code for QEMU to translate before it runs: that, not the work itself, is where most of these seconds go; under KVM the same units run on the host CPU."
		}' "$ga_log"
}

# The configurations: "NAME MACHINE KERNELFORMAT ACCEL" lines.
boot_configs() {
	if [ -n "$4" ]; then
		for bf_a in $3; do
			echo "pc-bzImage-$bf_a pc vmlinuz $bf_a"
			echo "q35-bzImage-$bf_a q35 vmlinuz $bf_a"
			echo "microvm-bzImage-$bf_a microvm vmlinuz $bf_a"
			if [ -f "$1/vmlinux" ]; then
				echo "pc-vmlinux-$bf_a pc vmlinux $bf_a"
				echo "microvm-vmlinux-$bf_a microvm vmlinux $bf_a"
			fi
		done
	else
		bf_m=${2:-microvm} bf_f=vmlinuz bf_n=bzImage
		if [ -f "$1/vmlinux" ]; then bf_f=vmlinux bf_n=vmlinux; fi
		echo "$bf_m-$bf_n-$3 $bf_m $bf_f $3"
	fi
}

cmd_boottime() {
	bt_target='' bt_n=5 bt_out='' bt_matrix=''
	while [ $# -gt 0 ]; do
		parse_vm_opt "$@"
		if [ "$vm_n" -gt 0 ]; then shift "$vm_n"; continue; fi
		case $1 in
		-n)
			[ $# -ge 2 ] || md_usage_error "-n needs a number"
			case $2 in '' | *[!0-9]* | 0) md_usage_error "-n: a number of boots, not '$2'" ;; esac
			bt_n=$2
			shift
			;;
		--out)
			[ $# -ge 2 ] || md_usage_error "--out needs a directory"
			bt_out=$2
			shift
			;;
		--matrix) bt_matrix=1 ;;
		-h | --help) md_help "$0"; exit 0 ;;
		-*) md_usage_error "boottime: unknown option: $1" ;;
		*)
			[ -z "$bt_target" ] || md_usage_error "boottime: one IMAGE, DIR or tiny"
			bt_target=$1
			;;
		esac
		shift
	done
	need "$QEMU" boottime
	need python3 "boottime (the console timestamper)"
	md_mktemp mdvm
	bt_image=''
	case ${bt_target:-tiny} in
	tiny) bt_dir=$(default_tiny) ;;
	*)
		if [ -f "$bt_target" ] && [ -f "$(built_kernel "$bt_target")" ]; then
			bt_image=$bt_target
			root_boot_check boottime "$bt_image" "$(built_kernel "$bt_image")" "${bt_image%.qcow2}.vmlinux" \
				"$(built_initrd "$bt_image")"
			bt_dir=$(default_tiny)
		else
			is_tiny "$bt_target" || md_die "boottime: $bt_target is neither a tiny VM directory (mdvm.sh tiny DIR) nor an image made by build"
			root_boot_check boottime "$bt_target/vmlinuz" "$bt_target/vmlinux" "$bt_target/initrd.cpio"
			bt_dir=$bt_target
		fi
		;;
	esac
	bt_accel=$(pick_accel "$vm_accel" "$bt_dir/vmlinuz")
	bt_accels=$bt_accel
	if [ -n "$bt_matrix" ] && [ "$bt_accel" = kvm ]; then bt_accels="kvm tcg"; fi
	bt_res=${bt_out:-$md_tmp/out}
	md_root_safe_dir "boottime: --out $bt_res" "$bt_res"
	mkdir -p "$bt_res/logs" || md_die "boottime: cannot create $bt_res"
	md_root_safe_dir "boottime: --out $bt_res" "$bt_res/logs"
	rm -f "$bt_res/logs/"*.log
	echo "config,run,status,firmware_ms,decompress_ms,kernel_ms,userspace_ms,total_ms" >"$bt_res/runs.csv"
	if [ -n "$bt_image" ]; then
		[ -n "${vm_memory:-}" ] || vm_memory=1536
		for bt_a in $bt_accels; do
			for bt_m in ${vm_machine:-q35} ${bt_matrix:+pc}; do
				boot_config "debian-$bt_m-$bt_a" "$bt_m" "$(image_kernel "$bt_image")" "$bt_a" \
					"$(built_initrd "$bt_image")" "$bt_n" "$bt_res" "$bt_image" </dev/null
			done
		done
	else
		boot_configs "$bt_dir" "$vm_machine" "$bt_accels" "$bt_matrix" >"$md_tmp/configs"
	fi
	touch "$md_tmp/configs"
	while read -r bt_name bt_m bt_f bt_a; do
		boot_config "$bt_name" "$bt_m" "$(tiny_kernel "$bt_dir" "$bt_m" "$bt_f")" "$bt_a" \
			"$bt_dir/initrd.cpio" "$bt_n" "$bt_res" </dev/null
	done <"$md_tmp/configs"
	summarize "$bt_res/runs.csv" >"$bt_res/summary.csv"
	print_table "$bt_res/summary.csv"
	[ -n "$bt_out" ] || return 0
	need gnuplot "boottime --out (the plot)"
	plot_summary "$bt_res"
	write_report "$bt_res" "$bt_dir" "$bt_accel" "$bt_image"
	md_say "boottime: wrote $bt_res/boottime.md, summary.csv, runs.csv, boottime.png, boottime.svg"
}

# Internal (boottime.sh __qemu ...): the timestamper runs QEMU through
# this, so the QEMU arguments live in one place (tiny_qemu).
cmd_qemu() {
	vm_exec=1
	tiny_qemu "$@" </dev/null
}


case ${1:-} in
__qemu) shift; cmd_qemu "$@" ;;
*) cmd_boottime "$@" ;;
esac
