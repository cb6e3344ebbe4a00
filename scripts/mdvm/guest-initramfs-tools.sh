#!/bin/sh
# mdvm build: run in the guest's root by mmdebstrap's essential hook,
# before the kernel is installed: the initrd Debian's kernel package makes
# holds only the modules a virtio disk with ext4 needs (the default,
# MODULES=most, is ~10x bigger and slower to build and to boot).
set -eu
mkdir -p /etc/initramfs-tools/conf.d /usr/share/initramfs-tools/modules.d
echo MODULES=list >/etc/initramfs-tools/conf.d/mdvm
printf 'virtio_pci\nvirtio_blk\next4\n' >/usr/share/initramfs-tools/modules.d/mdvm
rm -f /tmp/mdvm-initrd
