#!/bin/sh
# Usage: cgroup2-run.sh QUICK FILTER CGTEST MEM
# Summary: the guest side of cgroup2-guest.sh: cgroup v2 alone, then tests/cgroup.bats
#
# Runs as root inside mdvm.sh's tiny VM (mdvm.sh run --script), whose /init
# mounted /proc, /sys and /dev. Mounts cgroup2 alone at /sys/fs/cgroup, gives
# the suite's fixtures what they expect of a Debian system (users, PAM for
# runuser, /run), runs the suite with TAP output and exits with
# its status. QUICK is 1 or empty; FILTER a bats -f regex or empty.
set -u

quick=$1 filter=$2 cgtest=$3 mem=$4

# The initramfs is already a writable tmpfs (its /tmp too, where CGTEST
# and MEM may sit at their host paths); /run is the fixtures' own.
mkdir -p /run
mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup || { echo "cgroup2-run: cannot mount cgroup2"; exit 125; }
ln -s /proc/self/fd /dev/fd 2>/dev/null
# sh -c in the tests: the same shell as on the host, not busybox's.
ln -sf dash /usr/bin/sh

# Users, PAM for runuser (root only, nothing else), login.defs came with --add.
mkdir -p /etc/pam.d /etc/skel /home /var/tmp
chmod 1777 /var/tmp
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >/etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' >/etc/group
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >/etc/shadow
printf 'root:*::\nnogroup:*::\n' >/etc/gshadow
chmod 600 /etc/shadow /etc/gshadow
printf 'passwd: files\ngroup: files\nshadow: files\n' >/etc/nsswitch.conf
printf 'auth sufficient pam_rootok.so\naccount sufficient pam_permit.so\nsession sufficient pam_permit.so\n' \
	>/etc/pam.d/runuser

# Timing tests judge only a real CPU: under TCG the kernel finds no
# hypervisor signature (KVM's says "Hypervisor detected: KVM").
accel=tcg
if dmesg | grep -q 'Hypervisor detected: KVM'; then accel=kvm; fi

cd /work || exit 125
set --
if [ -n "$filter" ]; then set -- -f "$filter"; fi
MDT_IN_GUEST=1 MDT_GUEST_ACCEL=$accel MDT_QUICK=$quick MDT_CGTEST=$cgtest MDT_MEM=$mem TERM=dumb \
	bats --tap --timing "$@" tests/cgroup.bats 2>&1
rc=$?
echo "# guest uptime $(cut -d' ' -f1 /proc/uptime) s"
exit "$rc"
