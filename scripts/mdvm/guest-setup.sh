#!/bin/sh
# mdvm build: the guest's setup, run in its root by mmdebstrap's customize
# hook (chroot, as root of the build namespace), after build uploaded the
# files beside this one to /tmp/mdvm-*: the marker unit (guest-ready.sh,
# mdvm-ready.service), the minimal init `mdvm.sh run` boots
# (guest-init.sh); then fstab, hostname, and root without a password (a
# lab guest on a serial console, reachable from this host only).
set -eu
install -m 755 /tmp/mdvm-ready /usr/local/sbin/mdvm-ready
install -m 755 /tmp/mdvm-init /usr/local/sbin/mdvm-init
install -m 644 /tmp/mdvm-ready.service /etc/systemd/system/mdvm-ready.service
rm -f /tmp/mdvm-ready /tmp/mdvm-init /tmp/mdvm-ready.service
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf ../mdvm-ready.service /etc/systemd/system/multi-user.target.wants/mdvm-ready.service
echo mdvm >/etc/hostname
# Pass 0: no fsck unit at every boot (the image is made fresh by mke2fs).
echo '/dev/vda / ext4 defaults 0 0' >/etc/fstab
# A machine id of its own (without one every boot is a first boot),
# multi-user.target (there is no display), and no e2scrub_reap (LVM
# snapshots) or getty-static (gettys on virtual consoles no one sees).
od -An -tx1 -N 16 /dev/urandom | tr -d ' \n' >/etc/machine-id
echo >>/etc/machine-id
ln -sf /lib/systemd/system/multi-user.target /etc/systemd/system/default.target
ln -sf /dev/null /etc/systemd/system/e2scrub_reap.service
ln -sf /dev/null /etc/systemd/system/getty-static.service
passwd -d root >/dev/null
rm -f /tmp/mdvm-setup
