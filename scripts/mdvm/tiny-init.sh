#!/bin/sh
# mdvm tiny init: mount the API filesystems, say we are up, then do what
# mdvm=MODE on the kernel command line says (ready, shell, run).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mode=ready
read -r cmdline </proc/cmdline
for w in $cmdline; do
	case $w in mdvm=*) mode=${w#mdvm=} ;; esac
done
# The same moment in the kernel log (microseconds) and on the console: the
# host's boottime ties its clock to the guest's with it.
echo "mdvm: MDVM-MARK" >/dev/kmsg
# A newline first: SeaBIOS leaves its last line open.
printf '\nMDVM-READY\n'
case $mode in
run)
	echo MDVM-BEGIN
	if [ -x /mdvm/payload ]; then
		(cd /root && exec /mdvm/payload) </dev/null 2>&1
		rc=$?
	else
		echo "mdvm: no /mdvm/payload in the initramfs"
		rc=127
	fi
	echo "MDVM-EXIT $rc"
	;;
shell)
	echo "mdvm: busybox shell; 'poweroff' or exit to stop the VM"
	setsid cttyhack sh -l
	;;
times)
	# Both kernel clocks at one moment, for boottime: the log's clock
	# (cpu_clk) stood still while the early kernel ran without a timer
	# tick; sched_clk (raw TSC time since the log's zero) did not.
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	awk '$1 == "sched_clk" || $1 == "cpu_clk" { print "MDVM-CLOCK", $1, $3 }' /sys/kernel/debug/sched/debug 2>/dev/null
	dmesg | grep -e 'Run /init' -e 'MDVM-MARK' | sed 's/^/MDVM-DMESG /'
	;;
esac
sync
poweroff -f
