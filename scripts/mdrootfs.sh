#!/bin/sh
# Usage: mdrootfs.sh [--system] COMMAND [OPTIONS] [ARGS]
# Summary: build, import, list and remove minidocker root filesystems
#
# Commands:
#   busybox [--force] [NAME]     a tiny rootfs from the host's static busybox,
#                                with /home/loop and /home/mem, and a /bin/ping
#                                that works in a container (NAME: default)
#   debian [--suite S] [--include PKG,...] [--variant V] [--mirror URL]
#          [--force] [--dry-run] NAME
#                                a Debian/Ubuntu rootfs with mmdebstrap from
#                                the machine's apt mirror and suite (variant:
#                                apt); --dry-run prints how, builds nothing
#   import [--force] FILE NAME   unpack a rootfs tarball (.tar .gz .xz .zst .bz2)
#   import-image [--force] IMAGE NAME
#                                unpack a `docker save` archive or an OCI image
#                                layout (directory or tar), layers in order
#   list                         NAME, WHERE (user/system), SIZE, PATH
#   path NAME                    print the directory of rootfs NAME
#   rm NAME                      remove rootfs NAME (plain rm -rf cannot: an
#                                imported one's files belong to your
#                                subordinate ids)
#   cp SRC NAME:/PATH            copy a file or directory into rootfs NAME,
#                                owned by its root (plain cp cannot write
#                                where those ids own the directory)
#   du                           disk usage of every rootfs, and the total
#
# Options:
#   --system           work on the system rootfs directory shared by every
#                      user (/var/lib/minidocker/rootfs): root only
#   --force            replace an existing rootfs of the same name
#   --max-size SIZE    import: refuse archives unpacking to more (default 16G)
#   --max-entries N    import: refuse archives with more entries (default 1000000)
#   -h, --help         print this help
#
# Per-user rootfs live in ~/.local/share/minidocker/rootfs/NAME and belong to
# the user. When the user has a subordinate id range (/etc/subuid), debian
# and import keep the archive's owners by mapping them into that range, as
# the container will (apt-get works inside); without one, every file is the
# user's and apt-get inside installs only packages whose files all belong
# to root. A system rootfs is read-only in containers: apt-get there fails;
# it never holds set-id bits, device nodes, files or directories others may
# write, or owners other than root (each dropped class is counted).
# busybox and debian write /etc/resolv.conf with the host's nameservers
# (not loopback ones, which a container cannot reach): with the bridge's
# NAT (sudo mdnet.sh up --nat), `apt-get update` then works inside.
# import and import-image add the /proc, /dev, /sys and /tmp that an
# archive lacks (a `tar` of a container's files has none): the container's
# mounts go there.
# NAME is [a-z0-9][a-z0-9_.-]*, at most 63 characters.
set -eu

# shellcheck disable=SC2034 # PROG is read by mdlib.sh's messages
PROG=${0##*/}
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
md_here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
MD_LIBEXEC=${MD_LIBEXEC:-$md_here/../libexec/minidocker}
# shellcheck disable=SC1091 # mdlib.sh is linted on its own
if [ -f "$MD_LIBEXEC/mdlib.sh" ]; then . "$MD_LIBEXEC/mdlib.sh"; else . "$md_here/mdlib.sh"; fi

# Files and directories we create are readable by everyone, writable only by
# their owner: the helper refuses a rootfs another user could write to.
umask 022

# The host's busybox; it must be static, since the rootfs has no libraries.
MD_BUSYBOX=/bin/busybox

# Import caps: a tarball bomb fails with a clear message instead of filling
# the disk.
MD_MAX_SIZE=16G
MD_MAX_ENTRIES=1000000

# Where the host's resolver configuration may be, in order of preference.
# A container has a network namespace of its own: a nameserver on the
# host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq) cannot
# be reached from it, so systemd-resolved's list of upstream servers is the
# second choice, as in Docker. The tests point MD_RESOLV_FILES at fixtures.
MD_RESOLV_FILES=${MD_RESOLV_FILES:-/etc/resolv.conf /run/systemd/resolve/resolv.conf}

# ---------------------------------------------------------------- helpers

# A phase line on a terminal, nothing otherwise (makefiles, CI, pipes).
say() {
	if [ -t 2 ]; then md_warn "$*"; fi
}

# What the trap must undo: the temporary build tree, a replaced rootfs moved
# aside, mmdebstrap's work directory, and the background job we wait for.
rf_tmp='' rf_old='' rf_work='' rf_jobs=''
cleanup() {
	for d in "$rf_tmp" "$rf_old" "$rf_work"; do
		if [ -n "$d" ] && [ -d "$d" ]; then remove_tree "$d" || md_warn "could not remove $d"; fi
	done
	rf_tmp='' rf_old='' rf_work=''
}
on_signal() {
	trap '' INT TERM HUP
	if [ -n "$rf_jobs" ]; then
		# shellcheck disable=SC2086 # a list of our own background pids
		kill $rf_jobs 2>/dev/null || true
		wait || true
	fi
	rf_jobs=''
	cleanup
	trap - EXIT
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# Fail unless $1 is a plain rootfs name.
check_name() {
	md_is_name "$1" || md_die "invalid rootfs name '$1': use [a-z0-9][a-z0-9_.-]*, at most 63 characters"
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

# A system rootfs is shared by every user: the helper refuses one that
# another user could write to or that has a symlink in its path, so check
# $1 and every parent up to / now and say which one is wrong. One stat for
# the whole path: forks are dear on a loaded lab VM.
check_root_owned_path() {
	p=$1
	set --
	while :; do
		p=${p%"${p##*[!/]}"} # no trailing slashes
		[ -n "$p" ] || p=/
		[ ! -L "$p" ] || md_die "$p is a symbolic link: a system rootfs path must not contain one"
		set -- "$@" "$p"
		[ "$p" != / ] || break
		p=${p%/*}
	done
	stat -c '%u %a' -- "$@" | {
		for p in "$@"; do
			read -r uid mode
			[ "$uid" -eq 0 ] || md_die "$p is not owned by root"
			case $mode in
			*[2367]? | *[2367]) md_die "$p is writable by group or other" ;;
			esac
		done
	} || exit
}

# Where rootfs of this invocation live (sets rf_base); with $1 = create,
# make the directory if needed.
pick_base() {
	if [ "$opt_system" = 1 ]; then
		[ "$rf_uid" -eq 0 ] || md_die "--system needs root: run it with sudo, or drop --system to build a rootfs of your own"
		rf_base=$(md_system_rootfs_dir)
		case $rf_base in /*) ;; *) md_die "system rootfs directory '$rf_base' is not an absolute path" ;; esac
	else
		rf_base=$(md_user_rootfs_dir)
		# Root's own rootfs go under root's HOME; one that `sudo -E` or
		# `su` left pointing into a student's tree is refused, or root
		# would build, rename and remove through the student's links.
		md_root_safe_dir "rootfs directory $rf_base" "$rf_base" "sudo -H, or --system"
	fi
	if [ "${1:-}" = create ]; then
		mkdir -p -- "$rf_base" || md_die "cannot create $rf_base"
		[ "$opt_system" = 1 ] || md_root_safe_dir "rootfs directory $rf_base" "$rf_base" "sudo -H, or --system"
	fi
	if [ "$opt_system" = 1 ] && [ -e "$rf_base" ]; then check_root_owned_path "$rf_base"; fi
	if [ -d "$rf_base" ]; then remove_stale; fi
}

# Temporary trees carry the pid of the run that made them
# (.NAME.tmp.PID.XXXXXX): the trap removes them, but not after SIGKILL or a
# crash, so the next run removes those whose process is gone.
remove_stale() {
	for d in "$rf_base"/.*.tmp.*.* "$rf_base"/.*.old.*.* "$rf_base"/.*.work.*.* "$rf_base"/.*.rm.*.*; do
		if [ -L "$d" ] || [ ! -d "$d" ]; then continue; fi
		pid=${d%.*}
		pid=${pid##*.}
		case $pid in '' | *[!0-9]*) continue ;; esac
		if [ -d "/proc/$pid" ]; then continue; fi
		remove_tree "$d" || true
	done
}

# The caller's first subordinate uid and gid ranges, as newuidmap reads them
# (by name or by uid): sets sub_u sub_un sub_g sub_gn, or fails.
read_subids() {
	me=$(id -un) myid=$rf_uid
	sub_u=$(awk -F: -v n="$me" -v i="$myid" '($1 == n || $1 == i) && $3 > 0 { print $2 ":" $3; exit }' /etc/subuid 2>/dev/null) || true
	sub_g=$(awk -F: -v n="$me" -v i="$myid" '($1 == n || $1 == i) && $3 > 0 { print $2 ":" $3; exit }' /etc/subgid 2>/dev/null) || true
	[ -n "$sub_u" ] && [ -n "$sub_g" ] || return 1
	sub_un=${sub_u#*:} sub_u=${sub_u%:*} sub_gn=${sub_g#*:} sub_g=${sub_g%:*}
}

# How a non-root user runs a command as "root" over their own files and
# subordinate ids: the container's own mapping (0 = the caller, 1.. = the
# subordinate range), so owners written here are the owners seen inside.
# Sets rf_userns (words to put before the command), empty when unavailable.
pick_userns() {
	rf_userns=''
	[ "$rf_uid" -ne 0 ] || return 0
	read_subids || return 0
	command -v newuidmap >/dev/null 2>&1 || return 0
	set -- unshare --user --map-root-user --map-users="$sub_u,1,$sub_un" --map-groups="$sub_g,1,$sub_gn"
	"$@" true 2>/dev/null || return 0
	rf_userns="$*"
}

# Remove a tree we made, never following symlinks (rm -rf does not). A
# non-root user first makes their own directories writable (an archive may
# carry read-only ones); files owned by their subordinate ids are removed
# from inside the user namespace that can own them.
remove_tree() {
	[ -e "$1" ] || [ -L "$1" ] || return 0
	if [ "$rf_uid" -eq 0 ]; then rm -rf -- "$1"; return; fi
	find "$1" -type d -user "$rf_uid" ! -perm -u=rwx -exec chmod u+rwx {} + 2>/dev/null || true
	rm -rf -- "$1" 2>/dev/null && return 0
	pick_userns
	[ -n "$rf_userns" ] || { md_warn "cannot remove $1: it holds files you do not own"; return 1; }
	# shellcheck disable=SC2086 # rf_userns is a list of words we built
	$rf_userns rm -rf -- "$1"
}

# Start a build of rootfs $1: refuse an existing one unless --force, and
# make the temporary directory beside the target (same filesystem, so the
# final rename is atomic; never in /tmp). Sets rf_target and rf_tmp.
begin_build() {
	rf_target=$rf_base/$1
	if [ -e "$rf_target" ] || [ -L "$rf_target" ]; then
		[ "$opt_force" = 1 ] || md_die "rootfs '$1' already exists in $rf_base (use --force to replace it)"
		if [ -L "$rf_target" ] || [ ! -d "$rf_target" ]; then md_die "$rf_target is not a directory: remove it by hand"; fi
	fi
	# A leading dot keeps half-built trees out of `list`; mktemp makes it
	# 0700, so nobody else can reach into it while it is being filled.
	rf_tmp=$(mktemp -d -- "$rf_base/.$1.tmp.$$.XXXXXX") || md_die "cannot create a temporary directory in $rf_base"
}

# Put the finished tree in place; an existing one (--force) is moved aside
# first and removed only once the new one is in. mv -T renames exactly:
# never into a directory that appeared meanwhile.
finish_build() {
	chmod 755 -- "$rf_tmp"
	if [ -d "$rf_target" ]; then
		rf_old=$(mktemp -d -- "$rf_base/.${rf_target##*/}.old.$$.XXXXXX") ||
			md_die "cannot create a temporary directory in $rf_base"
		mv -T -- "$rf_target" "$rf_old/old" || md_die "cannot move the old $rf_target aside"
	fi
	mv -T -- "$rf_tmp" "$rf_target" || md_die "cannot rename $rf_tmp to $rf_target"
	rf_tmp=''
	cleanup
}

# Run a command in the background and wait for it, so that a signal reaches
# the trap at once (sh runs traps only between foreground commands) and the
# trap can stop it. Returns its status.
run_job() {
	"$@" &
	rf_jobs=$!
	rc=0
	wait "$rf_jobs" || rc=$?
	rf_jobs=''
	return "$rc"
}

# ------------------------------------------------ inside the rootfs: DNS

# Write $1/etc/resolv.conf from the first host file that names a nameserver
# a container can reach, without its loopback nameservers; containers on
# the bridge reach it through the bridge's NAT (mdnet.sh up --nat), as
# Docker's do. With none, say so ($2 names the command): names will not
# resolve inside. mmdebstrap copies the host's file verbatim, loopback and
# all, so a Debian rootfs gets this one instead.
write_resolv_conf() {
	for f in $MD_RESOLV_FILES; do
		[ -r "$f" ] || continue
		conf=$(awk '
			$1 == "nameserver" && ($2 ~ /^127\./ || $2 == "::1") { next }
			$1 == "nameserver" { ns = 1 }
			{ print }
			END { if (!ns) exit 1 }' "$f") || continue
		# rm first: never write through a link the tree may hold.
		rm -f -- "$1/etc/resolv.conf" || return 1
		printf '%s\n' "$conf" >"$1/etc/resolv.conf" || return 1
		return 0
	done
	md_warn "$2: the host has no nameserver a container can reach (only loopback ones in $MD_RESOLV_FILES): names will not resolve inside until you write one into the rootfs's /etc/resolv.conf"
}

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

cmd_busybox() {
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
	finish_build
	say "busybox: rootfs '$name' is ready in $rf_target"
}

# ---------------------------------------------------------------- unpack
#
# Why python3 (on every Debian and Ubuntu) and not tar: GNU tar run by a user
# follows a symlink that an earlier member planted when a later member is
# written beneath it unless it happens to delay that link, resolves hard
# links by name, and cannot say "no" to a whole archive; checking its `-tv`
# listing first means parsing text meant for humans and reading the archive
# twice. The extractor below decides member by member with every path
# walked through directory fds opened O_NOFOLLOW, so what it writes cannot
# leave the target whatever the archive holds: absolute names and '..' are
# refused, links are created but never followed, a member under a link is
# refused, hard links resolve inside the target only, device nodes are
# skipped unless we are real root (one summary line), and size and entry
# caps stop a tarball bomb. Decompression runs in gzip/xz/zstd/bzip2 as a
# separate process, in parallel with the extraction.
#
# A system rootfs (--system, root) is on a host mount with suid and dev and
# reachable by every user, while containers mount it nosuid,nodev and
# read-only, with a /dev of their own: it gains nothing from set-id bits,
# device nodes, write permission for group or other, or owners other than
# root, and each would hand the host to a student whose archive root
# imported (SECURITY.md 51). So the extractor, told "system", never creates
# them, whatever the archive says, and prints one line per class with a
# count; `sweep` does the same to a tree mmdebstrap built as root. Nothing
# here sets extended attributes, so no file capability comes from an
# archive. A user's own rootfs needs none of this: it is theirs, so what it
# holds gives them no right they lack (as "root" of their user namespace
# they own their subordinate ids already), device nodes need real root,
# and the helper mounts it nosuid,nodev.
unpack_py() {
	cat <<'PY'
import errno, hashlib, io, json, os, re, stat, subprocess, sys, tarfile, threading, time

PROG = os.environ.get("MD_PROG", "mdrootfs.sh")
NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


class Refused(Exception):
    """The input is bad or hostile: say why, unpack nothing more."""


def split_name(name, what="member"):
    """A member name as a tuple of components, inside the target by
    construction: absolute names and ".." are refused, never rewritten."""
    if name.startswith("/"):
        raise Refused("%s '%s' has an absolute path" % (what, name))
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise Refused("%s '%s' contains '..'" % (what, name))
    return parts


class Tree:
    """Writes into one directory, opened once. Every path is walked one
    component at a time with O_NOFOLLOW relative to the previous
    directory's fd, so no symlink, whoever made it, is ever followed: a
    member cannot be written through a link, and a link cannot lead out."""

    def __init__(self, root, max_bytes, max_entries, progress, system=False):
        self.root = os.open(root, NOFOLLOW_DIR)
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.bytes = self.entries = 0
        self.devices = self.owners_lost = 0
        # A system rootfs: what was dropped or changed, by class.
        self.system = system
        self.setid = self.writable = self.owners_root = self.caps = 0
        self.dirs = {}  # parts -> (mode, mtime, uid, gid): applied at the end
        self.cache = {}  # parts -> fd of a directory we walked to
        self.root_mode = os.geteuid() == 0
        self.progress = progress
        self.last = 0.0
        self.layer = None  # paths made by the current image layer
        self.quiet_devices = False

    # ---- walking
    def dirfd(self, parts, create=True, name=None):
        if not parts:
            return self.root
        fd = self.cache.get(parts)
        if fd is not None:
            return fd
        parent = self.dirfd(parts[:-1], create, name)
        leaf = parts[-1]
        try:
            fd = os.open(leaf, NOFOLLOW_DIR, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise Refused("member '%s': '%s' does not exist" % (name, "/".join(parts)))
            os.mkdir(leaf, 0o700, dir_fd=parent)
            fd = os.open(leaf, NOFOLLOW_DIR, dir_fd=parent)
            self.dirs.setdefault(parts, (0o755, None, None, None))
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Refused("member '%s' has a symbolic link or a file (%s) in its path"
                              % (name, "/".join(parts)))
            raise
        if len(self.cache) > 256:
            self.forget(())
        self.cache[parts] = fd
        return fd

    def forget(self, prefix):
        """Close cached fds at or under prefix (it is being removed)."""
        n = len(prefix)
        for p in [p for p in self.cache if p[:n] == prefix]:
            os.close(self.cache.pop(p))

    def lstat(self, fd, leaf):
        try:
            return os.stat(leaf, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def remove(self, parts, fd, leaf, st):
        """Remove what is at parts (a tree too), never following links."""
        if st is None:
            return
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(leaf, dir_fd=fd)
            return
        self.forget(parts)
        sub = os.open(leaf, NOFOLLOW_DIR, dir_fd=fd)
        try:
            os.chmod(sub, 0o700)
            for child in os.listdir(sub):
                self.remove(parts + (child,), sub, child, self.lstat(sub, child))
        finally:
            os.close(sub)
        os.rmdir(leaf, dir_fd=fd)

    # ---- counting
    def count(self, size):
        self.entries += 1
        if self.entries > self.max_entries:
            raise Refused("more than %d entries: refusing a tar bomb (raise --max-entries)" % self.max_entries)
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise Refused("more than %d bytes of file data: refusing a tar bomb (raise --max-size)" % self.max_bytes)
        if self.progress and time.monotonic() - self.last > 0.5:
            self.last = time.monotonic()
            sys.stderr.write("\r%s: %s: %d MiB, %d entries " % (PROG, self.progress, self.bytes >> 20, self.entries))

    # ---- metadata
    def owner(self, chown, m):
        if not self.root_mode:
            return
        uid = m.uid
        if self.system and uid != 0:
            uid = 0
            self.owners_root += 1
        try:
            chown(uid, m.gid)
        except OSError as e:
            # EINVAL: the id is not mapped in our user namespace.
            if e.errno not in (errno.EINVAL, errno.EPERM):
                raise
            self.owners_lost += 1

    def safe_mode(self, mode):
        """A system rootfs keeps no set-id bit and no write permission
        for group or other (SECURITY.md 51); sticky bits are harmless."""
        if not self.system:
            return mode
        if mode & 0o6000:
            self.setid += 1
        if mode & 0o022:
            self.writable += 1
        return mode & ~0o6022

    # ---- one member
    def add(self, tar, m):
        parts = split_name(m.name)
        if not parts:
            return  # "./": the target itself keeps its own mode
        self.count(m.size if m.isreg() else 0)
        base = parts[-1]
        if self.layer is not None:
            if base.startswith(".wh."):
                return self.whiteout(parts)
            self.layer.add(parts)
        fd = self.dirfd(parts[:-1], True, m.name)
        if m.isdir():
            try:
                os.mkdir(base, 0o700, dir_fd=fd)
            except FileExistsError:
                st = self.lstat(fd, base)
                if not stat.S_ISDIR(st.st_mode):
                    self.remove(parts, fd, base, st)
                    os.mkdir(base, 0o700, dir_fd=fd)
            self.dirs[parts] = (self.safe_mode(stat.S_IMODE(m.mode)), m.mtime, m.uid, m.gid)
            return
        # Create first, and only when the name is taken (a later member
        # replaces an earlier one, or a layer a lower one) remove what is
        # there - never following it - and create again: one stat saved on
        # nearly every member.
        try:
            self.create(tar, m, fd, base)
        except FileExistsError:
            self.remove(parts, fd, base, self.lstat(fd, base))
            self.create(tar, m, fd, base)

    def create(self, tar, m, fd, base):
        if m.isreg():
            self.regular(tar, m, fd, base)
        elif m.issym():
            os.symlink(m.linkname, base, dir_fd=fd)
            self.owner(lambda u, g: os.chown(base, u, g, dir_fd=fd, follow_symlinks=False), m)
            os.utime(base, (m.mtime, m.mtime), dir_fd=fd, follow_symlinks=False)
        elif m.islnk():
            tparts = split_name(m.linkname, "hard link target of '%s':" % m.name)
            if not tparts:
                raise Refused("member '%s' is a hard link to the top directory" % m.name)
            tfd = self.dirfd(tparts[:-1], False, m.name)
            try:
                os.link(tparts[-1], base, src_dir_fd=tfd, dst_dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                raise Refused("member '%s' is a hard link to '%s', which is not in the archive"
                              % (m.name, m.linkname))
        elif m.ischr() or m.isblk():
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            try:
                if not self.root_mode or self.system:
                    raise PermissionError
                os.mknod(base, kind | stat.S_IMODE(m.mode), os.makedev(m.devmajor, m.devminor), dir_fd=fd)
                self.owner(lambda u, g: os.chown(base, u, g, dir_fd=fd, follow_symlinks=False), m)
            except PermissionError:
                self.devices += 1
        elif m.isfifo():
            os.mkfifo(base, self.safe_mode(stat.S_IMODE(m.mode)), dir_fd=fd)
            self.owner(lambda u, g: os.chown(base, u, g, dir_fd=fd, follow_symlinks=False), m)
        else:
            raise Refused("member '%s' has an unsupported type %r" % (m.name, m.type))

    def regular(self, tar, m, fd, base):
        # Created with its final permissions (umask is 0): writing goes
        # through this fd, whatever the mode says.
        mode = self.safe_mode(stat.S_IMODE(m.mode))
        out = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      mode & 0o777, dir_fd=fd)
        try:
            left = m.size
            if not m.sparse and getattr(tar.fileobj, "fd", None) is not None:
                left = self.copy_range(tar.fileobj.fd, out, m)
            src = tar.extractfile(m)
            while left > 0:
                buf = src.read(min(CHUNK, left))
                if not buf:
                    raise Refused("member '%s' is truncated" % m.name)
                left -= len(buf)
                view = memoryview(buf)
                while view:
                    view = view[os.write(out, view):]
            self.owner(lambda u, g: os.fchown(out, u, g), m)
            if mode & 0o7000:
                os.fchmod(out, mode)  # set-id bits: after chown, which clears them
            os.utime(out, (m.mtime, m.mtime))
        finally:
            os.close(out)

    def copy_range(self, src, out, m):
        """Copy a member's data file to file in the kernel; returns what is
        left to copy the usual way (all of it if the kernel cannot)."""
        done = 0
        try:
            while done < m.size:
                n = os.copy_file_range(src, out, m.size - done, m.offset_data + done)
                if n == 0:
                    raise Refused("member '%s' is truncated" % m.name)
                done += n
        except OSError as e:
            if done or e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            return m.size
        return 0

    def whiteout(self, parts):
        """OCI whiteouts: .wh.NAME hides NAME of the layers below;
        .wh..wh..opq hides every entry of its directory that this layer
        did not itself add."""
        base, dparts = parts[-1], parts[:-1]
        fd = self.dirfd(dparts, True, "/".join(parts))
        if base == ".wh..wh..opq":
            for child in os.listdir(fd):
                if dparts + (child,) not in self.layer:
                    self.remove(dparts + (child,), fd, child, self.lstat(fd, child))
        elif base.startswith(".wh..wh."):
            return  # aufs bookkeeping (.wh..wh.plnk): nothing to apply
        else:
            name = base[4:]
            if name in ("", ".", ".."):
                raise Refused("member '%s' is a whiteout of nothing" % "/".join(parts))
            self.remove(dparts + (name,), fd, name, self.lstat(fd, name))
            self.dirs.pop(dparts + (name,), None)

    # ---- the end
    def finish(self):
        """Directory modes and times last, deepest first: a read-only
        directory must not stop its own members being written."""
        self.forget(())
        for parts in sorted(self.dirs, key=len, reverse=True):
            mode, mtime, uid, gid = self.dirs[parts]
            try:
                fd = self.dirfd(parts, False, "/".join(parts))
            except (Refused, OSError):
                continue  # removed by a later whiteout
            if uid is not None:
                self.owner(lambda u, g: os.fchown(fd, u, g), _Ids(uid, gid))
            os.fchmod(fd, mode)
            if mtime is not None:
                os.utime(fd, (mtime, mtime))
            self.forget(parts)
        if self.progress:
            sys.stderr.write("\r%s: %s: %d MiB, %d entries, done\n"
                             % (PROG, self.progress, self.bytes >> 20, self.entries))
        self.report()

    def report(self):
        # mmdebstrap's stream (mode stdin) carries /dev nodes that the
        # helper makes itself in every container: not news.
        if self.devices and self.system:
            say("system rootfs: dropped %d device node%s (containers get a /dev of their own)"
                % (self.devices, plural(self.devices)))
        elif self.devices and not self.quiet_devices:
            say("skipped %d device node%s (creating them needs real root)"
                % (self.devices, plural(self.devices)))
        if self.setid:
            say("system rootfs: cleared the set-id bits of %d entr%s"
                % (self.setid, plural(self.setid, "y", "ies")))
        if self.writable:
            say("system rootfs: removed group and other write permission from %d entr%s"
                % (self.writable, plural(self.writable, "y", "ies")))
        if self.owners_root:
            say("system rootfs: gave %d entr%s of other users to root"
                % (self.owners_root, plural(self.owners_root, "y", "ies")))
        if self.caps:
            say("system rootfs: removed the file capabilities of %d file%s"
                % (self.caps, plural(self.caps)))
        if self.owners_lost:
            sys.stderr.write("%s: %d entr%s kept your own ids: their owner is outside your subordinate range\n"
                             % (PROG, self.owners_lost, "y" if self.owners_lost == 1 else "ies"))


def say(line):
    sys.stderr.write("%s: %s\n" % (PROG, line))


def plural(n, one="", many="s"):
    return one if n == 1 else many


class _Ids:
    def __init__(self, uid, gid):
        self.uid, self.gid = uid, gid


class Forward:
    """A pipe or file read front to back, with the tell() and forward
    seek() that tarfile's random-access reader asks for. tarfile's own
    stream mode ("r|") copies every block through a join of small reads:
    several times slower than this."""

    def __init__(self, f):
        self.f, self.pos = f, 0
        # A plain file can really seek, and its members' data can be
        # copied by the kernel (copy_file_range) without passing through
        # python at all: regular() uses self.fd when it is set.
        self.fd = None
        try:
            if f.seekable() and stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                self.fd = f.fileno()
                self.pos = f.tell()
        except (AttributeError, OSError, ValueError):
            pass

    def read(self, n=-1):
        b = self.f.read(n)
        self.pos += len(b)
        return b

    def tell(self):
        return self.pos

    def seek(self, pos, whence=0):
        if self.fd is not None:
            self.pos = self.f.seek(pos, whence)
            return self.pos
        if whence != 0 or pos < self.pos:
            raise OSError(errno.ESPIPE, "cannot seek back in a stream")
        while self.pos < pos:
            if not self.read(min(CHUNK, pos - self.pos)):
                break
        return self.pos


def apply_stream(tree, fileobj):
    """One tar stream, member by member, in archive order."""
    if isinstance(fileobj, io.RawIOBase):
        fileobj = io.BufferedReader(fileobj, CHUNK)
    try:
        with tarfile.open(fileobj=Forward(fileobj), mode="r:") as tar:
            for m in tar:
                tree.add(tar, m)
                # Hard links are resolved in the target, never through
                # tarfile's list: keep it from growing with the archive.
                tar.members.clear()
    except tarfile.TarError as e:
        raise Refused("not a valid tar archive: %s" % e)
    except EOFError:
        raise Refused("the archive is truncated")


# ---- decompression: a separate process, so it runs on another core
MAGIC = [(b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"BZh", "bzip2")]


def sniff(head):
    for magic, tool in MAGIC:
        if head.startswith(magic):
            return tool
    return None


class Feeder(threading.Thread):
    """Copies a python file object into a decompressor's stdin."""

    def __init__(self, src, dst):
        super().__init__(daemon=True)
        self.src, self.dst, self.error = src, dst, None

    def run(self):
        try:
            while True:
                buf = self.src.read(CHUNK)
                if not buf:
                    break
                self.dst.write(buf)
        except BrokenPipeError:
            pass
        except Exception as e:  # reported by the caller
            self.error = e
        finally:
            try:
                self.dst.close()
            except BrokenPipeError:
                pass


def apply_compressed(tree, src, head, what):
    """src: a file object positioned at head (re-read by the tool)."""
    tool = sniff(head)
    if tool is None:
        return apply_stream(tree, src)
    try:
        real = src.fileno()
    except (AttributeError, OSError):
        real = None
    if real is not None:
        os.lseek(real, 0, os.SEEK_SET)  # the buffered peek read ahead
        p = subprocess.Popen([tool, "-dc"], stdin=real, stdout=subprocess.PIPE)
        feeder = None
    else:
        p = subprocess.Popen([tool, "-dc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        feeder = Feeder(src, p.stdin)
        feeder.start()
    try:
        apply_stream(tree, p.stdout)
        while p.stdout.read(CHUNK):
            pass  # let the tool check its trailer
    finally:
        p.stdout.close()
        rc = p.wait()
    if feeder:
        feeder.join()
    if rc != 0:
        raise Refused("%s: %s -dc failed (exit %d): the data is corrupt" % (what, tool, rc))


# ---- images
class Hashing:
    """Reads through, hashing, so a blob is checked against its digest."""

    def __init__(self, f):
        self.f, self.h = f, hashlib.sha256()

    def read(self, n=-1):
        b = self.f.read(n)
        self.h.update(b)
        return b

    def drain(self):
        while self.read(CHUNK):
            pass
        return "sha256:" + self.h.hexdigest()


class ImageDir:
    def __init__(self, path):
        self.fd = os.open(path, NOFOLLOW_DIR)

    def open(self, name):
        parts = split_name(name, "image file")
        fd = self.fd
        for p in parts[:-1]:
            fd = os.open(p, NOFOLLOW_DIR, dir_fd=fd)
        return os.fdopen(os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd), "rb")

    def exists(self, name):
        try:
            self.open(name).close()
            return True
        except OSError:
            return False


class ImageTar:
    def __init__(self, path):
        try:
            self.tar = tarfile.open(path, "r:*")
        except tarfile.TarError:
            raise Refused("%s is neither an image layout directory nor a tar archive" % path)
        self.members = {}
        for m in self.tar.getmembers():
            self.members["/".join(split_name(m.name, "image file"))] = m

    def open(self, name):
        key = "/".join(split_name(name, "image file"))
        if key not in self.members:
            raise Refused("the image has no %s" % key)
        f = self.tar.extractfile(self.members[key])
        if f is None:
            raise Refused("%s in the image is not a file" % key)
        return f

    def exists(self, name):
        return "/".join(split_name(name, "image file")) in self.members


def load_json(img, name):
    try:
        with img.open(name) as f:
            return json.loads(f.read(16 << 20))
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused("%s is not valid JSON: %s" % (name, e))


DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
        "s390x": "s390x", "riscv64": "riscv64"}.get(os.uname().machine, os.uname().machine)


def blob(digest):
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise Refused("bad digest %r in the image" % (digest,))
    return "blobs/sha256/" + digest[7:]


def oci_manifest(img, index):
    """Follow index.json (and nested indexes) to one image manifest for
    this machine's architecture."""
    for _ in range(4):
        ms = index.get("manifests") or []
        if not ms:
            raise Refused("the image index lists no manifest")
        mine = [m for m in ms if (m.get("platform") or {}).get("architecture") in (None, ARCH)]
        if not mine:
            raise Refused("the image has no manifest for %s" % ARCH)
        d = mine[0]
        doc = load_json(img, blob(d.get("digest")))
        if d.get("mediaType") in INDEX_TYPES or doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            index = doc
            continue
        return [(blob(l.get("digest")), l.get("digest")) for l in doc.get("layers") or []]
    raise Refused("image indexes nest too deep")


def image_layers(img):
    if img.exists("manifest.json"):
        man = load_json(img, "manifest.json")
        if not isinstance(man, list) or not man or not isinstance(man[0], dict):
            raise Refused("manifest.json lists no image")
        if len(man) > 1:
            sys.stderr.write("%s: the archive holds %d images: using the first (%s)\n"
                             % (PROG, len(man), ",".join(man[0].get("RepoTags") or ["untagged"])))
        layers = []
        for l in man[0].get("Layers") or []:
            if not isinstance(l, str):
                raise Refused("manifest.json names a layer by %r" % (l,))
            # docker >= 25 names layers by blob (checkable); older saves by
            # a layer id that is not the file's digest.
            d = "sha256:" + l[len("blobs/sha256/"):]
            layers.append((l, d if l.startswith("blobs/sha256/") and DIGEST.match(d) else None))
        return layers
    if img.exists("index.json"):
        return oci_manifest(img, load_json(img, "index.json"))
    raise Refused("neither a docker save archive (manifest.json) nor an OCI image layout (index.json)")


def apply_image(tree, path):
    img = ImageDir(path) if os.path.isdir(path) else ImageTar(path)
    layers = image_layers(img)
    if not layers:
        raise Refused("the image has no layers")
    for i, (name, digest) in enumerate(layers, 1):
        tree.layer = set()
        what = "layer %d/%d" % (i, len(layers))
        if tree.progress:
            tree.progress = "import-image: " + what
        with img.open(name) as raw:
            src = Hashing(raw)
            head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
            if not head:
                head = raw.read(8)
                raw.seek(0)
            apply_compressed(tree, src, head, what)
            got = src.drain()
        if digest and got != digest:
            raise Refused("%s: digest mismatch (%s, expected %s)" % (what, got, digest))
    tree.layer = None


def sweep(tree, top):
    """The system rootfs rules (Tree.safe_mode) applied to a tree another
    program built as root (mmdebstrap --mode=root, whose maintainer scripts
    make set-id files, device nodes and a 1777 /tmp, and may set file
    capabilities), counted in the same classes. The tree is still in our
    0700 temporary directory, so nobody else can change it meanwhile; links
    are never followed all the same."""
    for dirpath, dirnames, filenames, dfd in os.fwalk(top, follow_symlinks=False):
        for name in dirnames + filenames:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                os.unlink(name, dir_fd=dfd)
                tree.devices += 1
                continue
            if st.st_uid != 0:
                os.chown(name, 0, -1, dir_fd=dfd, follow_symlinks=False)
                tree.owners_root += 1
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = stat.S_IMODE(st.st_mode)
            new = tree.safe_mode(mode)
            if new != mode:
                os.chmod(name, new, dir_fd=dfd)  # not a link: checked above
            if stat.S_ISREG(st.st_mode):
                try:
                    os.removexattr(os.path.join(dirpath, name), "security.capability",
                                   follow_symlinks=False)
                    tree.caps += 1
                except OSError as e:
                    if e.errno not in (errno.ENODATA, errno.ENOTSUP):
                        raise
    tree.report()


def main(argv):
    mode, src, dest, max_bytes, max_entries, tty, system = argv[1:8]
    progress = {"tar": "import", "image": "import-image", "stdin": "unpacking",
                "sweep": None}[mode] if tty == "1" else None
    os.umask(0)  # modes come from the archive, exactly
    nl = "\n" if progress else ""  # end a progress line before an error
    try:
        tree = Tree(dest, int(max_bytes), int(max_entries), progress, system == "1")
        tree.quiet_devices = mode == "stdin"
        if mode == "sweep":
            sweep(tree, dest)
            return 0
        if mode == "image":
            apply_image(tree, src)
        elif mode == "stdin":
            if not sys.stdin.buffer.peek(1):
                return 3  # the producer failed before writing: it says why
            apply_stream(tree, sys.stdin.buffer)
        else:
            with open(src, "rb") as f:
                apply_compressed(tree, f, f.peek(8)[:8], src)
        tree.finish()
    except Refused as e:
        sys.stderr.write("%s%s: %s\n" % (nl, PROG, e))
        return 1
    except (tarfile.TarError, EOFError) as e:
        sys.stderr.write("%s%s: not a valid tar archive: %s\n" % (nl, PROG, e or "truncated"))
        return 1
    except OSError as e:
        sys.stderr.write("%s%s: unpacking failed: %s\n" % (nl, PROG, e))
        return 1
    return 0


sys.exit(main(sys.argv))
PY
}

# Unpack into $rf_tmp: $1 = tar (a file), image (docker save / OCI layout),
# stdin (a tar stream). The extractor runs as "root" of the caller's user
# namespace when they have subordinate ids, so owners are kept.
unpack() {
	# The system's python3 before any on PATH (a pyenv shim, a venv), run
	# isolated (-I: no PYTHON* variables, no user site) and without site
	# (-S): the extractor needs the standard library only, and may run as
	# root.
	py=/usr/bin/python3
	if [ ! -x "$py" ]; then py=$(command -v python3) || md_die "$1: python3 is needed to unpack safely (apt-get install python3)"; fi
	tty=0
	if [ -t 2 ]; then tty=1; fi
	pick_userns
	MD_PROG=$PROG
	export MD_PROG
	# exec: this runs as a background job, and the trap must be able to
	# stop the extractor itself by the job's pid.
	# shellcheck disable=SC2086 # rf_userns is a list of words we built
	exec $rf_userns "$py" -I -S -c "$(unpack_py)" "$@" "$rf_tmp" "$max_bytes" "$opt_max_entries" "$tty" "$opt_system"
}

# The import caps, checked once: sets max_bytes.
check_caps() {
	max_bytes=$(md_parse_size "$opt_max_size") || md_usage_error "--max-size: not a size: $opt_max_size"
	case $opt_max_entries in '' | *[!0-9]*) md_usage_error "--max-entries: not a number: $opt_max_entries" ;; esac
	[ ${#opt_max_entries} -le 12 ] || md_usage_error "--max-entries: too large: $opt_max_entries"
}

# ---------------------------------------------------------------- import

# A `tar` of a container's files, or an image made by `docker import`, has
# no /proc, /dev or /sys: Docker and podman make them at run time, mdhelper
# only mounts on them. Add those missing, and /tmp, to the tree $1, as the
# unpack made it (in the same user namespace: the tree's top may belong to
# a subordinate id). A name that is there, even as a file or a symlink,
# is left for mdhelper to refuse.
add_mount_points() {
	pick_userns
	# shellcheck disable=SC2086,SC2016 # rf_userns is a list of words we built; $1 is the inner sh's
	$rf_userns sh -c '
		for d in proc dev sys; do
			[ -e "$1/$d" ] || [ -L "$1/$d" ] || mkdir -m 755 -- "$1/$d" || exit 1
		done
		[ -e "$1/tmp" ] || [ -L "$1/tmp" ] || mkdir -m 1777 -- "$1/tmp"' sh "$1"
}

cmd_import() {
	[ $# -eq 2 ] || md_usage_error "import needs FILE and NAME"
	check_name "$2"
	check_caps
	if [ ! -f "$1" ] || [ ! -r "$1" ]; then md_die "import: cannot read $1"; fi
	pick_base create
	begin_build "$2"
	say "import: unpacking $1 into $rf_tmp"
	run_job unpack tar "$1" || md_die "import: unpacking $1 failed; nothing was kept"
	add_mount_points "$rf_tmp" || md_die "import: cannot create /proc, /dev, /sys and /tmp in $rf_tmp"
	finish_build
	say "import: rootfs '$2' is ready in $rf_target"
}

cmd_import_image() {
	[ $# -eq 2 ] || md_usage_error "import-image needs IMAGE and NAME"
	check_name "$2"
	check_caps
	if [ ! -r "$1" ] || { [ ! -f "$1" ] && [ ! -d "$1" ]; }; then md_die "import-image: cannot read $1"; fi
	pick_base create
	begin_build "$2"
	say "import-image: applying the layers of $1 into $rf_tmp"
	run_job unpack image "$1" || md_die "import-image: unpacking $1 failed; nothing was kept"
	add_mount_points "$rf_tmp" || md_die "import-image: cannot create /proc, /dev, /sys and /tmp in $rf_tmp"
	finish_build
	say "import-image: rootfs '$2' is ready in $rf_target"
}

# ---------------------------------------------------------------- debian

# The machine's own archive: the first `deb` source that is not a security
# or updates suite, from sources.list (one-line) or sources.list.d (*.list
# one-line, *.sources deb822). Prints the URI, or nothing.
host_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in
		*.sources) awk '
			function flush() {
				if (deb && uri != "" && suite != "") { print uri; found = 1; exit }
				deb = 0; uri = ""; suite = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-(security|updates|backports)$|\/updates$/) { suite = $i; break } }
			tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0; uri = "" }
			END { if (!found) flush() }' "$f" ;;
		*) awk '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++
				if ($i ~ /\]$/) i++
				if ($(i + 1) !~ /-(security|updates|backports)$|\/updates$/) { print $i; exit }
			}' "$f" ;;
		esac
	done | sed -n '1p'
}

# The suite this machine runs, the default for `debian`.
host_suite() {
	# shellcheck disable=SC1091 # os-release is data, read for its codename
	(. /etc/os-release 2>/dev/null && printf '%s\n' "${VERSION_CODENAME:-}")
}

cmd_debian() {
	[ $# -eq 1 ] || md_usage_error "debian needs exactly one NAME"
	check_name "$1"
	rf_name=$1
	check_caps
	command -v mmdebstrap >/dev/null 2>&1 || md_die "debian: mmdebstrap is not installed (apt-get install mmdebstrap)"
	suite=${opt_suite:-$(host_suite)}
	[ -n "$suite" ] || md_die "debian: cannot tell this machine's suite from /etc/os-release: give --suite"
	mirror=${opt_mirror:-$(host_mirror)}
	[ -n "$mirror" ] || md_die "debian: no mirror in /etc/apt/sources.list or /etc/apt/sources.list.d: give --mirror URL"
	check_debian_args
	set -- --variant="$opt_variant"
	if [ -n "$opt_include" ]; then set -- "$@" --include="$opt_include"; fi
	if [ ! -t 2 ]; then set -- "$@" --quiet; fi
	if [ "$opt_dry_run" = 1 ]; then debian_dry_run "$@"; return; fi
	pick_base create
	begin_build "$rf_name"
	if [ "$rf_uid" -eq 0 ]; then
		say "debian: mmdebstrap (root mode) $suite from $mirror"
		run_job mmdebstrap --mode=root "$@" "$suite" "$rf_tmp" "$mirror" ||
			md_die "debian: mmdebstrap failed building $suite from $mirror; nothing was kept"
		if [ "$opt_system" = 1 ]; then
			say "debian: dropping what a system rootfs must not hold"
			run_job unpack sweep - || md_die "debian: cannot make $rf_tmp safe to share; nothing was kept"
		fi
	else
		pick_userns
		if [ -n "$rf_userns" ]; then debian_unshare "$@"; else debian_fakechroot "$@"; fi
	fi
	say "debian: writing /etc/resolv.conf"
	write_resolv_conf "$rf_tmp" debian || md_die "debian: cannot write /etc/resolv.conf in $rf_tmp"
	finish_build
	say "debian: rootfs '$rf_name' is ready in $rf_target"
	# mdhelper mounts a root-owned rootfs read-only (and its files belong to
	# nobody in a student's user namespace): apt-get cannot change it there.
	if [ "$rf_uid" -eq 0 ]; then
		say "debian: containers get '$rf_name' read-only: to add packages, build it again with --force --include PKG,..."
	elif [ -z "$rf_userns" ]; then
		md_warn "debian: you have no subordinate ids (/etc/subuid), so root is the only user inside '$rf_name': apt-get there installs only packages whose files all belong to root, others fail with \"Invalid argument\"; ask your administrator for a range (see INSTALL) and build it again"
	fi
}

# --dry-run: say how the rootfs would be built, build nothing.
debian_dry_run() {
	pick_base
	if [ "$rf_uid" -eq 0 ]; then
		echo "mmdebstrap --mode=root $* $suite $rf_base/$rf_name $mirror"
		return
	fi
	pick_userns
	if [ -n "$rf_userns" ]; then
		echo "mmdebstrap --mode=unshare --format=tar $* $suite - $mirror | $rf_userns (unpack into $rf_base/$rf_name)"
	else
		echo "mmdebstrap --mode=fakechroot $* $suite $rf_base/$rf_name $mirror"
	fi
}

check_debian_args() {
	case $suite in *[!a-z0-9.-]*) md_usage_error "--suite: not a suite name: $suite" ;; esac
	case $opt_include in *[!a-z0-9+.,:-]*) md_usage_error "--include: not a package list: $opt_include" ;; esac
	case $mirror in
	http://?* | https://?* | file:///?*) ;;
	*) md_usage_error "--mirror: not an http, https or file URL: $mirror" ;;
	esac
	case $mirror in *[!A-Za-z0-9:/._~%+@-]*) md_usage_error "--mirror: unexpected characters in $mirror" ;; esac
	case $opt_variant in
	extract | custom | essential | apt | required | minbase | buildd | important | debootstrap | standard) ;;
	*) md_usage_error "--variant: unknown variant: $opt_variant" ;;
	esac
}

# A student with subordinate ids: mmdebstrap's unshare mode, whose tar
# stream we unpack in the container's own id mapping (mmdebstrap's maps
# root to the first subordinate id, the container maps it to the student).
# The stream goes through a FIFO in a work directory beside the target;
# mmdebstrap's own temporary tree goes there too (TMPDIR), not in /tmp.
debian_unshare() {
	rf_work=$(mktemp -d -- "$rf_base/.$rf_name.work.$$.XXXXXX") || md_die "debian: cannot create a work directory in $rf_base"
	# mmdebstrap's subordinate root must be able to reach its tree inside.
	chmod 755 -- "$rf_work"
	mkfifo -- "$rf_work/tar" || md_die "debian: cannot create a FIFO in $rf_work"
	say "debian: mmdebstrap (unshare mode, your subordinate ids) $suite from $mirror"
	TMPDIR=$rf_work mmdebstrap --mode=unshare --format=tar "$@" "$suite" - "$mirror" >"$rf_work/tar" &
	rf_jobs=$!
	unpack stdin - <"$rf_work/tar" &
	rf_jobs="$rf_jobs $!"
	rc_unpack=0 rc_mm=0 killed=0
	wait "${rf_jobs#* }" || rc_unpack=$?
	# A failed unpack stops mmdebstrap now rather than after its download;
	# but when mmdebstrap failed first (no mirror...), that is the news.
	if [ "$rc_unpack" -ne 0 ] && kill -0 "${rf_jobs%% *}" 2>/dev/null; then
		kill "${rf_jobs%% *}" 2>/dev/null && killed=1
	fi
	wait "${rf_jobs%% *}" || rc_mm=$?
	rf_jobs=''
	if [ "$rc_mm" -ne 0 ] && [ "$killed" -eq 0 ]; then
		md_die "debian: mmdebstrap failed building $suite from $mirror; nothing was kept"
	fi
	[ "$rc_unpack" -ne 3 ] || md_die "debian: mmdebstrap wrote no rootfs; nothing was kept"
	[ "$rc_unpack" -eq 0 ] || md_die "debian: unpacking mmdebstrap's output failed; nothing was kept"
}

# No subordinate ids: every file belongs to the student, so apt-get inside
# cannot give packages their own users; fakechroot is mmdebstrap's mode
# for that.
debian_fakechroot() {
	if ! command -v fakechroot >/dev/null 2>&1 || ! command -v fakeroot >/dev/null 2>&1; then
		md_die "debian: without subordinate ids (/etc/subuid) mmdebstrap needs fakechroot and fakeroot (apt-get install fakechroot fakeroot)"
	fi
	say "debian: mmdebstrap (fakechroot mode: you have no subordinate ids) $suite from $mirror"
	run_job mmdebstrap --mode=fakechroot "$@" "$suite" "$rf_tmp" "$mirror" ||
		md_die "debian: mmdebstrap failed building $suite from $mirror; nothing was kept"
	say "debian: making fakechroot's absolute symlinks absolute inside the rootfs"
	fix_fakechroot_links "$rf_tmp" || md_die "debian: cannot rewrite the symlinks fakechroot left in $rf_tmp"
	say "debian: telling apt to download as root (no _apt user inside)"
	apt_without_subids "$rf_tmp" || md_die "debian: cannot write $APT_NOSUBIDS_CONF in $rf_tmp"
}

# Without subordinate ids the container maps one id, root, which is the
# student on the host. apt downloads as its sandbox user _apt (uid 42), who
# cannot exist inside: every download would fail with "setgroups 65534
# failed - setgroups (1: Operation not permitted)" and "seteuid 42 failed".
# Downloading as root costs nothing here: root inside owns nothing the
# student does not. dpkg still cannot give a file another owner.
APT_NOSUBIDS_CONF=/etc/apt/apt.conf.d/00minidocker-no-subids
apt_without_subids() {
	rm -f -- "$1$APT_NOSUBIDS_CONF" || return 1
	cat >"$1$APT_NOSUBIDS_CONF" <<'EOF'
// Written by mdrootfs.sh: this rootfs was built without subordinate ids
// (/etc/subuid), so in a minidocker container root (you, on the host) is
// the only user. apt's download sandbox user _apt cannot exist: download as
// root. Packages with files owned by any other user or group cannot be
// installed (chown fails with "Invalid argument"); once your administrator
// has given you a subordinate id range, build the rootfs again.
APT::Sandbox::User "root";
EOF
}

# fakechroot makes some absolute symlinks (the dynamic loader's among them)
# with the build directory's host path in them: /home/u/.../.NAME.tmp.../lib/x
# must be /lib/x once the tree is a container's root. One perl process
# (Essential, like for busybox's links) walks the tree without following
# links and rewrites only those that start with the build directory.
fix_fakechroot_links() {
	perl -MFile::Find -e '
		my $root = shift;
		my $n = length $root;
		find({ no_chdir => 1, wanted => sub {
			return unless -l $_;
			my $to = readlink $_;
			return unless defined $to && substr($to, 0, $n + 1) eq "$root/";
			unlink $_ or die "$_: $!\n";
			symlink(substr($to, $n), $_) or die "$_: $!\n";
		} }, $root);' "$1"
}

# ------------------------------------------------------- list, path, rm, du

# The rootfs in directory $1, one path a line: real directories with plain
# names. Dot entries are builds in progress or removals, not rootfs.
rootfs_in() {
	[ -d "$1" ] || return 0
	for d in "$1"/*; do
		if [ -L "$d" ] || [ ! -d "$d" ]; then continue; fi
		if md_is_name "${d##*/}"; then printf '%s\n' "$d"; fi
	done
}

# Every rootfs the caller can see: "WHERE PATH" lines, theirs first.
all_rootfs() {
	if [ -n "${HOME:-}" ]; then rootfs_in "$(md_user_rootfs_dir)" | sed 's/^/user /'; fi
	rootfs_in "$(md_system_rootfs_dir)" | sed 's/^/system /'
}

cmd_list() {
	[ $# -eq 0 ] || md_usage_error "list takes no arguments"
	printf '%-20s %-7s %6s  %s\n' NAME WHERE SIZE PATH
	all_rootfs | while read -r where d; do
		# Files of subordinate ids may be unreadable: du counts what it can.
		size=$(du -sh -- "$d" 2>/dev/null | cut -f1) || true
		printf '%-20s %-7s %6s  %s\n' "${d##*/}" "$where" "${size:-?}" "$d"
	done
}

# Where rootfs NAME is: the caller's own first, then the system's, as
# mdrun.sh resolves it; --system looks at the system's only.
cmd_path() {
	[ $# -eq 1 ] || md_usage_error "path needs exactly one NAME"
	check_name "$1"
	if [ "$opt_system" = 0 ] && [ -n "${HOME:-}" ]; then
		set -- "$1" "$(md_user_rootfs_dir)/$1"
		if [ -d "$2" ] && [ ! -L "$2" ]; then printf '%s\n' "$2"; return; fi
	fi
	set -- "$1" "$(md_system_rootfs_dir)/$1"
	if [ -d "$2" ] && [ ! -L "$2" ]; then printf '%s\n' "$2"; return; fi
	md_die "path: no rootfs '$1'"
}

# Remove NAME from the caller's directory (or, with --system, the
# system's): only what `list` shows. It is first renamed to a dot name
# beside it - rename(2) moves a symlink, never what it points to - and
# then removed without following links.
cmd_rm() {
	[ $# -eq 1 ] || md_usage_error "rm needs exactly one NAME"
	check_name "$1"
	pick_base
	rm_target=$rf_base/$1
	if [ -L "$rm_target" ] || [ ! -d "$rm_target" ]; then
		if [ "$opt_system" = 0 ] && [ -d "$(md_system_rootfs_dir)/$1" ]; then
			md_die "rm: '$1' is a system rootfs: remove it with sudo $PROG --system rm $1"
		fi
		md_die "rm: no rootfs '$1' in $rf_base"
	fi
	rf_old=$(mktemp -d -- "$rf_base/.$1.rm.$$.XXXXXX") || md_die "rm: cannot create a temporary directory in $rf_base"
	mv -T -- "$rm_target" "$rf_old/old" || md_die "rm: cannot move $rm_target aside"
	say "rm: removing $rm_target"
	run_job remove_tree "$rf_old" || md_die "rm: cannot remove $rm_target (left in $rf_old)"
	rf_old=''
}

# Disk use of every rootfs, largest first, and the total.
cmd_du() {
	[ $# -eq 0 ] || md_usage_error "du takes no arguments"
	all_rootfs | while read -r where d; do
		kib=$(du -sk -- "$d" 2>/dev/null | cut -f1) || true
		printf '%s %s %s\n' "${kib:-0}" "$where" "$d"
	done | sort -rn | awk '
		function human(k) {
			if (k >= 1048576) return sprintf("%.1fG", k / 1048576)
			if (k >= 1024) return sprintf("%.1fM", k / 1024)
			return k "K"
		}
		{ n = $3; sub(/.*\//, "", n); printf "%8s  %-7s %s\n", human($1), $2, n; t += $1 }
		END { printf "%8s  total\n", human(t + 0) }'
}

# ------------------------------------------------------------------ main

# Options may come before or after the command; at most two operands.
# Copy SRC into the student's rootfs at PATH, as the container's root:
# in the user namespace of the rootfs's ids (an imported tree's files
# belong to the student's subordinate ids, which the student cannot write
# on the host; mdrootfs.sh rm removes such trees the same way).
cmd_cp() {
	[ $# -eq 2 ] || md_usage_error "cp needs SRC and NAME:/PATH"
	case $2 in
	*:/*) ;;
	*) md_usage_error "cp: the destination is NAME:/PATH, a place inside rootfs NAME: $2" ;;
	esac
	cp_name=${2%%:*} cp_path=${2#*:}
	check_name "$cp_name"
	case /$cp_path/ in */../*) md_die "cp: $cp_path leads out of the rootfs" ;; esac
	[ "$opt_system" = 0 ] || md_die "cp: a system rootfs is root's: copy into it as root with cp"
	[ -e "$1" ] || md_die "cp: cannot read $1"
	pick_base
	if [ -L "$rf_base/$cp_name" ] || [ ! -d "$rf_base/$cp_name" ]; then md_die "cp: no rootfs '$cp_name' in $rf_base"; fi
	pick_userns
	# shellcheck disable=SC2086 # rf_userns is a list of words we built
	$rf_userns cp -R -- "$1" "$rf_base/$cp_name$cp_path" || md_die "cp: copying $1 to $cp_name:$cp_path failed"
}

main() {
	rf_uid=$(id -u)
	opt_system=0 opt_force=0 opt_suite='' opt_include='' opt_mirror='' opt_variant=apt opt_dry_run=0
	opt_max_size=$MD_MAX_SIZE opt_max_entries=$MD_MAX_ENTRIES
	cmd='' arg1='' arg2='' nargs=0
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) md_help "$0"; exit 0 ;;
		--system) opt_system=1 ;;
		--force) opt_force=1 ;;
		--dry-run) opt_dry_run=1 ;;
		--suite | --include | --mirror | --variant | --max-size | --max-entries)
			[ $# -ge 2 ] || md_usage_error "$1 needs a value"
			set_opt "$1" "$2"
			shift
			;;
		--suite=* | --include=* | --mirror=* | --variant=* | --max-size=* | --max-entries=*)
			set_opt "${1%%=*}" "${1#*=}" ;;
		--) shift; break ;;
		-?*) md_usage_error "unknown option: $1" ;;
		*) add_operand "$1" ;;
		esac
		shift
	done
	for a in "$@"; do add_operand "$a"; done
	set --
	[ "$nargs" -lt 1 ] || set -- "$arg1"
	[ "$nargs" -lt 2 ] || set -- "$arg1" "$arg2"
	case $cmd in
	'') md_usage_error "no command given" ;;
	busybox) [ $# -le 1 ] || md_usage_error "busybox takes at most one NAME"; cmd_busybox "$@" ;;
	debian) cmd_debian "$@" ;;
	import) cmd_import "$@" ;;
	import-image) cmd_import_image "$@" ;;
	list) cmd_list "$@" ;;
	path) cmd_path "$@" ;;
	rm) cmd_rm "$@" ;;
	cp) cmd_cp "$@" ;;
	du) cmd_du "$@" ;;
	*) md_usage_error "unknown command: $cmd" ;;
	esac
}

set_opt() {
	case $1 in
	--suite) opt_suite=$2 ;;
	--include) opt_include=$2 ;;
	--mirror) opt_mirror=$2 ;;
	--variant) opt_variant=$2 ;;
	--max-size) opt_max_size=$2 ;;
	--max-entries) opt_max_entries=$2 ;;
	esac
}

# The command word, then up to two operands (FILE NAME).
add_operand() {
	if [ -z "$cmd" ]; then cmd=$1; return; fi
	nargs=$((nargs + 1))
	case $nargs in
	1) arg1=$1 ;;
	2) arg2=$1 ;;
	*) md_usage_error "too many arguments: $1" ;;
	esac
}

main "$@"
