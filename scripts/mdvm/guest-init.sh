#!/bin/sh
# mdvm-init, in a guest made by `mdvm.sh build` (/usr/local/sbin): `mdvm.sh
# run IMAGE` boots with init=/usr/local/sbin/mdvm-init: no systemd, PID 1
# is this script. The command comes on a second disk (/dev/vdb) that holds
# a tar archive (mdvm/payload and what --add put in), since nothing else
# reaches a guest without a network. The console protocol is the tiny VM's
# (tiny-init.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
# The initramfs moved /proc, /sys, /dev and /run here; mount what is not.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs tmpfs /dev/shm
mount -o remount,rw / || echo "mdvm: cannot remount / read-write"
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname mdvm
echo "mdvm: MDVM-MARK" >/dev/kmsg
printf '\nMDVM-READY\n'
echo MDVM-BEGIN
# At / as in the tiny VM (--add SRC:DEST); run boots the image with
# snapshot=on, so nothing of it stays in the image.
# Existing directories keep their owner and mode, and /bin stays a link.
if tar -xf /dev/vdb -C / --no-overwrite-dir --keep-directory-symlink && [ -x /mdvm/payload ]; then
	(cd /root && exec /mdvm/payload) </dev/null 2>&1
	rc=$?
else
	echo "mdvm: no payload on /dev/vdb"
	rc=127
fi
echo "MDVM-EXIT $rc"
sync
mount -o remount,ro / 2>/dev/null
# PID 1 must not exit (a panic); sysrq o powers off at once, and there is
# no systemd to ask.
echo o >/proc/sysrq-trigger
sleep 60
