#!/bin/busybox sh
# mdvm initramfs: load the few modules a virtio disk with ext4 needs, mount
# root= and hand over to init= (default /sbin/init). In place of
# initramfs-tools, whose udev alone takes seconds under TCG.
B=/bin/busybox
$B mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
root=/dev/vda init=/sbin/init mode=ro
for w in $($B cat /proc/cmdline); do
	case $w in
	root=*) root=${w#root=} ;;
	init=*) init=${w#init=} ;;
	rw | ro) mode=$w ;;
	esac
done
for m in /modules/*.ko; do
	$B insmod "$m" || echo "mdvm initramfs: insmod $m failed"
done
i=0
while [ ! -b "$root" ] && [ "$i" -lt 200 ]; do
	$B sleep 0.05
	i=$((i + 1))
done
$B mount -t ext4 -o "$mode" "$root" /newroot || {
	echo "mdvm initramfs: cannot mount $root"
	exit 1
}
$B umount /proc /sys
$B mount --move /dev /newroot/dev
exec $B switch_root /newroot "$init"
