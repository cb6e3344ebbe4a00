#!/bin/sh
# mdvm-ready, in a guest made by `mdvm.sh build` (/usr/local/sbin), run by
# mdvm-ready.service once multi-user.target is up: say so on the serial
# console, with the same contract as the tiny VM's /init (MDVM-MARK in the
# kernel log, MDVM-READY on the console); with mdvm=times on the kernel
# command line, the kernel log's times boottime reads, then power off;
# with mdvm.blame too, systemd's own account of the boot first (--blame).
read -r cmdline </proc/cmdline
case ${1:-} in
--blame)
	# The transient unit mdvm-blame, started below: the boot is finished
	# only once mdvm-ready.service (part of it) has ended, and
	# systemd-analyze refuses to report on a boot that is not. Each line
	# goes out with MDVM-BLAME before it, for boottime's report.
	systemctl is-system-running --wait >/dev/null 2>&1
	{
		systemd-analyze time
		systemd-analyze blame | head -n 12
		systemd-analyze critical-chain multi-user.target
	} </dev/null 2>&1 | sed 's/^/MDVM-BLAME /' >/dev/ttyS0
	echo MDVM-BLAME-END >/dev/ttyS0
	systemctl --no-block poweroff
	exit 0
	;;
esac
echo "mdvm: MDVM-MARK" >/dev/kmsg
printf '\nMDVM-READY\n' >/dev/ttyS0
case " $cmdline " in
*" mdvm=times "*)
	# agetty (Type=idle: started up to 5 s late) resets the port when it
	# starts, and the lines boottime reads were lost (1 boot in 3 here).
	# Not Before=serial-getty: multi-user.target is After= getty.target.
	systemctl stop serial-getty@ttyS0.service 2>/dev/null
	# Both kernel clocks at one moment (see the tiny VM's /init).
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	awk '$1 == "sched_clk" || $1 == "cpu_clk" { print "MDVM-CLOCK", $1, $3 }' /sys/kernel/debug/sched/debug >/dev/ttyS0 2>/dev/null
	dmesg | grep -e 'Run /init' -e 'MDVM-MARK' | sed 's/^/MDVM-DMESG /' >/dev/ttyS0
	case " $cmdline " in
	*" mdvm.blame "*)
		systemd-run --no-block --quiet --unit=mdvm-blame /usr/local/sbin/mdvm-ready --blame ||
			systemctl --no-block poweroff
		;;
	*) systemctl --no-block poweroff ;;
	esac
	;;
esac
