#!/bin/sh
# Usage: mdrootfs.sh [--system] busybox [--force] [NAME]
# Summary: a tiny rootfs from the host's static busybox (NAME: default)
#
# Builds rootfs NAME (default: default) from the host's static busybox
# (/bin/busybox, Debian's busybox-static), with /home/loop and /home/mem
# (the demo programs) and a /bin/ping that works in a container; busybox's
# own ping applet is removed, so scripts reach /bin/ping too. Writes
# /etc/resolv.conf with the host's nameservers that a container can reach.
#
# Options:
#   --system           build it in the system rootfs directory shared by
#                      every user (/var/lib/minidocker/rootfs): root only
#   --force            replace an existing rootfs of the same name
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

# --------------------------------------------------------------- busybox

BB_DIRS='bin sbin etc proc sys dev tmp root home run var var/tmp var/log usr usr/bin usr/sbin mnt'

# The applet links. `busybox --install -s` would link to wherever the host's
# busybox lives (/usr/bin/busybox on merged-/usr hosts), and one `ln` per
# applet costs ~270 forks (seconds on a loaded lab VM), so one perl process
# (perl-base is Essential on Debian and Ubuntu) makes them all. Links are
# relative, so they resolve the same on the host and in the container.
bb_links() {
	"$MD_BUSYBOX" --list-full | perl -e '
		my $root = shift;
		while (my $a = <STDIN>) {
			chomp $a;
			next if $a eq "bin/busybox";
			my $to;
			if ($a =~ m{^bin/[^/]+$}) { $to = "busybox" }
			elsif ($a =~ m{^sbin/[^/]+$}) { $to = "../bin/busybox" }
			elsif ($a =~ m{^usr/s?bin/[^/]+$}) { $to = "../../bin/busybox" }
			else { next }    # linuxrc: we are not an initramfs
			symlink($to, "$root/$a") or die "$a: $!\n";
		}' "$1"
}

# busybox's shell runs its own applets before anything on PATH in every
# shell (sh -c, scripts, makefiles, mdctl.sh exec), not only interactive
# ones: the rootfs's copy of busybox loses its ping applet, so `ping` is
# /bin/ping however it is called. The applet's name, the one "\0ping\0" in
# busybox's sorted table of names, becomes "pin_" (same length, same place
# in the order the lookup relies on).
bb_drop_ping() {
	perl -e '
		my $f = shift;
		open(my $fh, "+<:raw", $f) or die "$f: $!\n";
		my $b = do { local $/; <$fh> };
		my $n = () = $b =~ /\0ping\0/g;
		exit 0 if $n == 0;
		die "$n places that could be its applet name ping\n" if $n != 1;
		my $i = index($b, "\0ping\0");
		my $s = rindex($b, "\0", $i - 1) + 1;
		my $e = index($b, "\0", $i + 6);
		my ($prev, $next) = (substr($b, $s, $i - $s), substr($b, $i + 6, $e - $i - 6));
		die "its applet names around ping ($prev, $next) are not in order\n"
			unless $prev lt "pin_" && "pin_" lt $next;
		seek($fh, $i + 1, 0) && print($fh "pin_") && close($fh) or die "$f: $!\n";
	' "$1/bin/busybox" || return 1
	! "$1/bin/busybox" --list | grep -qx ping
}

bb_etc() {
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$1/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
	printf 'administrator\n' >"$1/etc/hostname"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$1/etc/hosts"
	printf '/bin/sh\n' >"$1/etc/shells"
}

cmd_main() {
	[ $# -le 1 ] || md_usage_error "busybox takes at most one NAME"
	name=${1:-default}
	check_name "$name"
	[ -x "$MD_BUSYBOX" ] || md_die "busybox: $MD_BUSYBOX is missing (apt-get install busybox-static)"
	elf_is_static "$MD_BUSYBOX" ||
		md_die "busybox: $MD_BUSYBOX is not statically linked (apt-get install busybox-static)"
	for f in loop mem ping; do
		[ -f "$MD_LIBEXEC/$f" ] || md_die "busybox: $MD_LIBEXEC/$f is missing (run make, or set MD_LIBEXEC to where loop, mem and ping are built)"
	done
	pick_base create
	begin_build "$name"
	say "busybox: creating directories in $rf_tmp"
	# shellcheck disable=SC2086 # BB_DIRS is a list of words
	(cd "$rf_tmp" && mkdir -p $BB_DIRS) || md_die "busybox: cannot create the directories"
	# Scratch for everyone in a rootfs of one's own; a system rootfs is
	# read-only in containers, which get a tmpfs there instead, and no
	# directory of it may be writable by others on the host (SECURITY.md 51).
	if [ "$opt_system" = 0 ]; then chmod 1777 "$rf_tmp/tmp" "$rf_tmp/var/tmp"; fi
	chmod 700 "$rf_tmp/root"
	say "busybox: copying $MD_BUSYBOX and the applet links"
	cp -- "$MD_BUSYBOX" "$rf_tmp/bin/busybox" || md_die "busybox: cannot copy $MD_BUSYBOX"
	bb_links "$rf_tmp" || md_die "busybox: cannot create the applet links"
	say "busybox: writing /etc"
	bb_etc "$rf_tmp" || md_die "busybox: cannot write /etc"
	write_resolv_conf "$rf_tmp" busybox || md_die "busybox: cannot write /etc/resolv.conf"
	say "busybox: copying loop and mem to /home"
	cp -- "$MD_LIBEXEC/loop" "$MD_LIBEXEC/mem" "$rf_tmp/home/" || md_die "busybox: cannot copy loop and mem"
	chmod 755 "$rf_tmp/home/loop" "$rf_tmp/home/mem"
	# busybox's ping needs a raw socket, which container root may not open
	# in a network namespace the host owns; ours uses the ICMP datagram
	# socket that mdhelper allows every group there (rootfs/ping.c).
	say "busybox: replacing busybox's ping with one that works in a container"
	rm -f "$rf_tmp/bin/ping" || md_die "busybox: cannot remove busybox's ping link"
	cp -- "$MD_LIBEXEC/ping" "$rf_tmp/bin/ping" || md_die "busybox: cannot copy ping"
	chmod 755 "$rf_tmp/bin/ping"
	bb_drop_ping "$rf_tmp" || md_die "busybox: cannot remove busybox's ping applet, which its shell would run instead of /bin/ping"
	finish_build ''
	say "busybox: rootfs '$name' is ready in $rf_target"
}

# Is the ELF file $1 statically linked (no PT_INTERP program header)? Read
# the headers rather than run ldd: nothing of the file is executed. One od
# and one awk: the program headers sit in the first 4 KiB of any binary
# linked by a usual toolchain.
elf_is_static() {
	od -An -v -t u1 -N 4096 -- "$1" | awk '
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		function num(off, len,   v, k) {
			v = 0
			if (be) for (k = 0; k < len; k++) v = v * 256 + b[off + k]
			else for (k = len - 1; k >= 0; k--) v = v * 256 + b[off + k]
			return v
		}
		END {
			if (b[0] != 127 || b[1] != 69 || b[2] != 76 || b[3] != 70) exit 1
			be = b[5] == 2
			if (b[4] == 2) { off = num(32, 8); size = num(54, 2); cnt = num(56, 2) }
			else if (b[4] == 1) { off = num(28, 4); size = num(42, 2); cnt = num(44, 2) }
			else exit 1
			if (off + size * cnt > n) exit 1
			for (i = 0; i < cnt; i++) if (num(off + i * size, 4) == 3) exit 1
		}'
}

rf_main "$@"
