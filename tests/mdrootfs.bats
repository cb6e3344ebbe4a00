#!/usr/bin/env bats
# mdrootfs.sh: building, importing, listing and removing root filesystems,
# seen from a student (mdtest1) and from root (--system).
#
# MDT_QUICK=1 skips the one slow test (the Debian build from the mirror).

load helper

# MDT_RF_USER overrides the student (default mdtest1, who has subordinate
# ids) so this file can run beside another suite whose teardown kills
# mdtest1's processes.
MDT_USER=${MDT_RF_USER:-$MDT_USER}
NOSUB_USER=${MDT_RF_USER2:-mdtest2} # a student without subordinate ids
RF=mdrootfs.sh
# The fixtures are made with the system's python3, the one students run.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
UHOME=/home/$MDT_USER
UROOTFS=$UHOME/.local/share/minidocker/rootfs

setup() {
	[ -x "$MDT_BIN/$RF" ] || skip "$MDT_BIN/$RF is not installed (sudo make test-install)"
	# A system rootfs directory of our own, root-owned like the real one:
	# never under /tmp, whose mode the --system checks rightly refuse.
	SYSDIR=$MDT_ROOT/state/mdrootfs-bats
	rm -rf "$SYSDIR"
	mkdir -p "$SYSDIR"
	chmod 755 "$SYSDIR"
	export MD_SYSTEM_ROOTFS=$SYSDIR
	rm -rf "$UHOME/.local/share/minidocker"
	# Fixtures the student can read: bats's own temporary tree is root's.
	FIX=$UHOME/mdrootfs-fixtures
	rm -rf "$FIX" "$UHOME/mdrootfs-outside"
	mkdir -p "$FIX"
	chmod 755 "$FIX"
}

teardown() {
	# The apt-get tests: their containers, bridge and NAT, and the rootfs
	# of the student without subordinate ids.
	if [ -n "${apt_bridge:-}" ]; then
		stop_containers "$MDT_USER" || true
		stop_containers "$NOSUB_USER" || true
		"$MDT_BIN/mdnet.sh" down --config "$MDT_CONF" >/dev/null || true
	fi
	[ -z "${nosub_rootfs:-}" ] || rm -rf "${nosub_rootfs%/*}"/lab "${nosub_rootfs%/*}"/.lab.*
	[ -n "${SYSDIR:-}" ] && rm -rf "$SYSDIR"
	rm -rf "$UHOME/.local/share/minidocker" "$MDT_ROOT/state/mdrootfs-bats-gw" "$MDT_ROOT/state/mdrootfs-bats-secret" \
		"$UHOME/mdrootfs-fixtures" "$UHOME/mdrootfs-outside"
	return 0
}

# Run mdrootfs.sh as the test user with our system directory.
user_rf() {
	run as_user env MD_SYSTEM_ROOTFS="$SYSDIR" "$RF" "$@"
}

# Nothing but finished rootfs in directory $1: no temporary build left.
no_leftovers() {
	local left
	[ -d "$1" ] || return 0
	left=$(find "$1" -mindepth 1 -maxdepth 1 -name '.*' ! -name '.*.config')
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

# ---------------------------------------------------------------- general

@test "mdrootfs.sh --help prints the usage to stdout and exits 0" {
	run "$MDT_BIN/$RF" --help
	assert_status 0
	assert_output_contains "Usage: mdrootfs.sh [--system] COMMAND"
}

@test "mdrootfs.sh --help lists every command with its Summary line" {
	local f n
	run "$MDT_BIN/$RF" --help
	assert_status 0
	for f in "$MDT_ROOT"/libexec/minidocker/mdrootfs/*.sh; do
		n=${f##*/}
		n=${n%.sh}
		[ "$n" != common ] || continue
		printf '%s\n' "$output" | grep -qxF "$(printf '  %-14s %s' "$n" "$(sed -n 's/^# Summary: //p' "$f")")" ||
			{ echo "no summary line for $n"; return 1; }
	done
	assert_output_contains "  import-image   unpack a \`docker save\` archive"
}

@test "mdrootfs.sh COMMAND --help prints that command's own usage, options before or after it" {
	run "$MDT_BIN/$RF" import --help
	assert_status 0
	assert_output_contains "Usage: mdrootfs.sh [--system] import [--force]"
	assert_output_contains "--max-entries N"
	run "$MDT_BIN/$RF" --help debian
	assert_status 0
	assert_output_contains "Usage: mdrootfs.sh [--system] debian "
	run "$MDT_BIN/$RF" --system --max-size 1G rm --help
	assert_status 0
	assert_output_contains "Usage: mdrootfs.sh [--system] rm NAME"
}

@test "mdrootfs.sh without a command is a usage error" {
	run "$MDT_BIN/$RF"
	assert_status 2
	assert_output "$RF: no command given
Try '$RF --help' for more information."
}

@test "mdrootfs.sh refuses an unknown command" {
	run "$MDT_BIN/$RF" frobnicate
	assert_status 2
	assert_output "$RF: unknown command: frobnicate
Try '$RF --help' for more information."
	# Its shared code and its extractor are files beside the commands.
	run "$MDT_BIN/$RF" common
	assert_status 2
	assert_output "$RF: unknown command: common
Try '$RF --help' for more information."
	run "$MDT_BIN/$RF" extract
	assert_status 2
}

@test "mdrootfs.sh refuses an unknown option" {
	run "$MDT_BIN/$RF" busybox --bogus
	assert_status 2
	assert_output "$RF: unknown option: --bogus
Try '$RF --help' for more information."
}

@test "mdrootfs.sh is shellcheck clean" {
	require shellcheck
	run shellcheck -s sh "$MDT_TOP/scripts/mdrootfs.sh" "$MDT_TOP"/scripts/mdrootfs/*.sh
	assert_status 0
}

# ---------------------------------------------------------------- busybox

@test "busybox builds the default rootfs for the student in under two seconds" {
	local t0 t1
	t0=$(date +%s%N)
	user_rf busybox
	t1=$(date +%s%N)
	assert_status 0
	assert_output ""
	echo "# built in $(((t1 - t0) / 1000000)) ms" >&3
	[ $(((t1 - t0) / 1000000)) -lt 2000 ]
	[ -d "$UROOTFS/default" ]
	[ "$(stat -c %U "$UROOTFS/default")" = "$MDT_USER" ]
	[ "$(stat -c %U "$UROOTFS/default/home/mem")" = "$MDT_USER" ]
	no_leftovers "$UROOTFS"
}

@test "busybox rootfs has the usual directories, applets and /etc files" {
	user_rf busybox lab
	assert_status 0
	local r=$UROOTFS/lab d a
	for d in bin sbin etc proc sys dev tmp root home usr/bin usr/sbin var/tmp; do
		[ -d "$r/$d" ] || { echo "no /$d"; return 1; }
	done
	for d in proc sys dev; do
		[ -z "$(ls -A "$r/$d")" ] || { echo "/$d is not empty"; return 1; }
	done
	[ "$(stat -c %a "$r/tmp")" = 1777 ]
	for a in bin/sh bin/ls bin/ps bin/hostname sbin/ifconfig sbin/ip bin/mount \
		usr/bin/id bin/cat bin/echo usr/bin/top; do
		[ -L "$r/$a" ] && [ -x "$r/$a" ] || { echo "no applet /$a"; return 1; }
	done
	grep -qx 'root:x:0:0:root:/root:/bin/sh' "$r/etc/passwd"
	grep -qx 'root:x:0:' "$r/etc/group"
	[ -s "$r/etc/hostname" ]
	cmp "$MDT_ROOT/libexec/minidocker/loop" "$r/home/loop"
	cmp "$MDT_ROOT/libexec/minidocker/mem" "$r/home/mem"
	# Our ping, not busybox's (rootfs/ping.c says why), also for `ping` run
	# by the shell (which prefers its applets): busybox has no ping applet.
	[ ! -L "$r/bin/ping" ]
	cmp "$MDT_ROOT/libexec/minidocker/ping" "$r/bin/ping"
	run "$r/bin/busybox" --list
	refute grep -qx ping <<<"$output"
	grep -qx ping6 <<<"$output"
}

@test "busybox rootfs runs its shell, applets and demo programs" {
	user_rf busybox
	assert_status 0
	run chroot "$UROOTFS/default" /bin/sh -c 'echo hi; ls /home; id -u; { timeout 1 /home/mem 2 | grep -c holding; } 2>/dev/null'
	assert_status 0
	assert_output "hi
loop
mem
0
3"
}

@test "busybox writes the host's nameservers, without loopback ones, to /etc/resolv.conf" {
	printf 'nameserver 127.0.0.53\nnameserver 10.1.2.3\nsearch lab\n' >"$FIX/host"
	run as_user env MD_SYSTEM_ROOTFS="$SYSDIR" MD_RESOLV_FILES="$FIX/host $FIX/upstream" "$RF" busybox lab
	assert_status 0
	assert_output ""
	[ "$(cat "$UROOTFS/lab/etc/resolv.conf")" = "nameserver 10.1.2.3
search lab" ]
}

@test "busybox falls back to systemd-resolved's upstream nameservers when the host's are loopback only" {
	printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\n' >"$FIX/host"
	printf 'nameserver 192.0.2.53\n' >"$FIX/upstream"
	run as_user env MD_SYSTEM_ROOTFS="$SYSDIR" MD_RESOLV_FILES="$FIX/host $FIX/upstream" "$RF" busybox lab
	assert_status 0
	[ "$(cat "$UROOTFS/lab/etc/resolv.conf")" = "nameserver 192.0.2.53" ]
}

@test "busybox says so when no host nameserver can be reached from a container" {
	printf 'nameserver 127.0.0.53\nnameserver ::1\n' >"$FIX/host"
	run as_user env MD_SYSTEM_ROOTFS="$SYSDIR" MD_RESOLV_FILES="$FIX/host $FIX/missing" "$RF" busybox lab
	assert_status 0
	assert_output "$RF: busybox: the host has no nameserver a container can reach (only loopback ones in $FIX/host $FIX/missing): names will not resolve inside until you write one into the rootfs's /etc/resolv.conf"
	[ ! -e "$UROOTFS/lab/etc/resolv.conf" ]
	[ -d "$UROOTFS/lab" ]
}

@test "busybox refuses to overwrite an existing rootfs without --force" {
	user_rf busybox lab
	assert_status 0
	user_rf busybox lab
	assert_status 125
	assert_output "$RF: rootfs 'lab' already exists in $UROOTFS (use --force to replace it)"
	touch "$UROOTFS/lab/marker"
	user_rf busybox --force lab
	assert_status 0
	[ ! -e "$UROOTFS/lab/marker" ]
	no_leftovers "$UROOTFS"
}

@test "busybox refuses a name that is not a plain name" {
	local n
	for n in ../evil Evil .hidden a/b "$(printf 'a%.0s' $(seq 64))"; do
		user_rf busybox "$n"
		assert_status 125
		assert_output "$RF: invalid rootfs name '$n': use [a-z0-9][a-z0-9_.-]*, at most 63 characters"
	done
	[ ! -e "$UHOME/.local/share/minidocker/evil" ]
}

@test "busybox fails naming loop, mem or ping when they are missing" {
	local lib=$MDT_ROOT/state/mdrootfs-bats-lib
	mkdir -p "$lib"
	cp "$MDT_ROOT/libexec/minidocker/mdlib.sh" "$lib/"
	run as_user env MD_LIBEXEC="$lib" "$RF" busybox
	rm -rf "$lib"
	assert_status 125
	assert_output "$RF: busybox: $lib/loop is missing (run make, or set MD_LIBEXEC to where loop, mem and ping are built)"
	[ ! -e "$UROOTFS/default" ]
}

@test "busybox --system is refused for a non-root user" {
	user_rf --system busybox default
	assert_status 125
	assert_output "$RF: --system needs root: run it with sudo, or drop --system to build a rootfs of your own"
	[ -z "$(ls -A "$SYSDIR")" ]
}

@test "busybox --system builds a root-owned rootfs nobody else can write" {
	run "$MDT_BIN/$RF" --system busybox default
	assert_status 0
	[ "$(stat -c %u "$SYSDIR/default")" = 0 ]
	[ "$(stat -c %a "$SYSDIR/default")" = 755 ]
	[ -z "$(find "$SYSDIR/default" ! -type l ! -user root)" ]
	[ -z "$(find "$SYSDIR/default" ! -type l -perm /022 ! -path "$SYSDIR/default/tmp" ! -path "$SYSDIR/default/var/tmp")" ]
	no_leftovers "$SYSDIR"
}

@test "busybox --system refuses a system directory writable by group or other" {
	chmod 775 "$SYSDIR"
	run "$MDT_BIN/$RF" --system busybox default
	assert_status 125
	assert_output "$RF: $SYSDIR is writable by group or other"
	[ ! -e "$SYSDIR/default" ]
}

@test "busybox --system refuses a system directory owned by another user" {
	chown "$MDT_USER" "$SYSDIR"
	run "$MDT_BIN/$RF" --system busybox default
	assert_status 125
	assert_output "$RF: $SYSDIR is not owned by root"
}

@test "busybox --system refuses a symlink in the system directory's path" {
	ln -s "$SYSDIR" "$MDT_ROOT/state/mdrootfs-bats-gw"
	run env MD_SYSTEM_ROOTFS="$MDT_ROOT/state/mdrootfs-bats-gw" "$MDT_BIN/$RF" --system busybox default
	assert_status 125
	assert_output "$RF: $MDT_ROOT/state/mdrootfs-bats-gw is a symbolic link: a system rootfs path must not contain one"
	[ ! -e "$SYSDIR/default" ]
}

# ------------------------------------------------------------------- list

@test "list shows the student's and the system's rootfs" {
	"$MDT_BIN/$RF" --system busybox shared
	user_rf busybox mine
	assert_status 0
	user_rf list
	assert_status 0
	[ "${lines[0]}" = "$(printf '%-20s %-7s %6s  %s' NAME WHERE SIZE PATH)" ]
	[[ "${lines[1]}" =~ ^mine\ +user\ +[0-9.]+[KM]\ +$UROOTFS/mine$ ]]
	[[ "${lines[2]}" =~ ^shared\ +system\ +[0-9.]+[KM]\ +$SYSDIR/shared$ ]]
	[ "${#lines[@]}" -eq 3 ]
}

# ----------------------------------------------------------------- import

# Make tarball $2 (in $FIX, which the student can read) of kind $1
# with python3's tarfile, which writes whatever names and links we ask for.
mktar() {
	"$PY" - "$1" "$FIX/$2" <<'PY'
import io, os, sys, tarfile
kind, out = sys.argv[1], sys.argv[2]
mode = "w:gz" if out.endswith(".gz") else "w"
t = tarfile.open(out, mode, format=tarfile.PAX_FORMAT)

def add(name, data=b"x\n", type=tarfile.REGTYPE, link="", m=0o644, size=None, fobj=None, **kw):
    i = tarfile.TarInfo(name)
    i.type, i.linkname, i.mode, i.mtime = type, link, m, 1700000000
    for k, v in kw.items():
        setattr(i, k, v)
    if type == tarfile.REGTYPE:
        i.size = len(data) if size is None else size
        t.addfile(i, fobj or io.BytesIO(data))
    else:
        t.addfile(i)

class Zeros(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, b):
        b[:] = bytes(len(b))
        return len(b)

def good():
    add("./", type=tarfile.DIRTYPE, m=0o755)
    for d in ("bin", "etc", "ro"):
        add(d, type=tarfile.DIRTYPE, m=0o755)
    add("bin/hello", b"#!/bin/sh\necho hello\n", m=0o755)
    add("bin/hi", type=tarfile.LNKTYPE, link="bin/hello")
    add("bin/sh", type=tarfile.SYMTYPE, link="/bin/busybox")
    add("etc/localtime", type=tarfile.SYMTYPE, link="/usr/share/zoneinfo/UTC")
    add("ro/file", b"read only\n", m=0o444)
    add("ro", type=tarfile.DIRTYPE, m=0o555)   # a read-only directory, set last
    add("suid", b"s", m=0o4755)
    add("fifo", type=tarfile.FIFOTYPE, m=0o600)

kinds = {
    "good": good,
    "absolute": lambda: add("/tmp/mdrootfs-evil"),
    "dotdot": lambda: add("a/../../mdrootfs-evil"),
    "symlink-write": lambda: (add("esc", type=tarfile.SYMTYPE, link=os.environ["MDT_OUTSIDE"]),
                              add("esc/planted", b"owned\n")),
    "symlink-replace": lambda: (add("esc", type=tarfile.SYMTYPE, link=os.environ["MDT_OUTSIDE"] + "/victim"),
                                add("esc", b"overwritten\n")),
    "symlink-out": lambda: add("etc-shadow", type=tarfile.SYMTYPE, link="/etc/shadow"),
    "hardlink-abs": lambda: add("hl", type=tarfile.LNKTYPE, link="/etc/passwd"),
    "hardlink-dotdot": lambda: add("hl", type=tarfile.LNKTYPE, link="../../../../etc/passwd"),
    "hardlink-via-symlink": lambda: (add("esc", type=tarfile.SYMTYPE, link=os.environ["MDT_OUTSIDE"]),
                                     add("hl", type=tarfile.LNKTYPE, link="esc/victim")),
    "device": lambda: (add("dev", type=tarfile.DIRTYPE, m=0o755),
                       add("dev/null", type=tarfile.CHRTYPE, m=0o666, devmajor=1, devminor=3),
                       add("dev/sda", type=tarfile.BLKTYPE, m=0o660, devmajor=8, devminor=0),
                       add("ok", b"ok\n")),
    "bomb": lambda: add("zeros", size=64 << 20, fobj=io.BufferedReader(Zeros())),
    "many": lambda: [add("f%d" % i, b"") for i in range(1500)],
    "big": lambda: [add("z%d" % i, size=8 << 20, fobj=io.BufferedReader(Zeros())) for i in range(64)],
}
kinds[kind]()
t.close()
PY
	chmod 644 "$FIX/$2"
}

# A directory outside every target, owned by the student, with a victim
# file: hostile archives aim at it, and it must not change.
outside() {
	export MDT_OUTSIDE=$UHOME/mdrootfs-outside
	rm -rf "$MDT_OUTSIDE"
	mkdir -p "$MDT_OUTSIDE"
	echo victim > "$MDT_OUTSIDE/victim"
	chown -R "$MDT_USER" "$MDT_OUTSIDE"
}
outside_unchanged() {
	[ "$(ls -A "$MDT_OUTSIDE")" = victim ] || { ls -la "$MDT_OUTSIDE"; return 1; }
	[ "$(cat "$MDT_OUTSIDE/victim")" = victim ]
	[ ! -e /tmp/mdrootfs-evil ]
	[ ! -e "$UHOME/.local/share/mdrootfs-evil" ]
}

@test "import unpacks a good tarball with links, modes and a read-only directory" {
	mktar good good.tar.gz
	user_rf import "$FIX/good.tar.gz" imp
	assert_status 0
	assert_output ""
	local r=$UROOTFS/imp
	[ "$(cat "$r/bin/hi")" = "$(cat "$r/bin/hello")" ]
	[ "$(stat -c %i "$r/bin/hi")" = "$(stat -c %i "$r/bin/hello")" ]
	[ "$(readlink "$r/bin/sh")" = /bin/busybox ]
	[ "$(readlink "$r/etc/localtime")" = /usr/share/zoneinfo/UTC ]
	[ "$(stat -c %a "$r/ro")" = 555 ]
	[ "$(stat -c %a "$r/ro/file")" = 444 ]
	[ "$(stat -c %a "$r/bin/hello")" = 755 ]
	[ "$(stat -c %a "$r/suid")" = 4755 ]
	[ -p "$r/fifo" ]
	[ "$(stat -c %a "$r")" = 755 ]
	no_leftovers "$UROOTFS"
}

@test "a tar of a container's files, without /proc /dev /sys /tmp, imports and runs" {
	require busybox
	[ -u "$MDT_HELPER" ] || skip "mdhelper is not installed (sudo make test-install)"
	default_conf
	# What a student does: tar up a tree that has no mount points.
	local t=$UHOME/mdrootfs-outside
	as_user sh -c "mkdir -p $t/tree/bin && cp $(command -v busybox) $t/tree/bin/busybox &&
		ln -s busybox $t/tree/bin/sh && tar -C $t/tree -czf $t/tree.tar.gz ."
	user_rf import "$t/tree.tar.gz" tarred
	assert_status 0
	assert_output ""
	[ "$(stat -c '%a %U' "$UROOTFS/tarred/proc" "$UROOTFS/tarred/dev" "$UROOTFS/tarred/sys" \
		"$UROOTFS/tarred/tmp")" = "$(printf '755 %s\n755 %s\n755 %s\n1777 %s' "$MDT_USER" \
		"$MDT_USER" "$MDT_USER" "$MDT_USER")" ]
	run as_user mdrun.sh -r tarred -- /bin/sh -c 'cat /proc/1/comm; /bin/busybox ls /sys/class/net'
	assert_status 0
	assert_output "$(printf 'sh\nlo')"
	no_leftovers "$UROOTFS"
}

@test "import keeps root's files the student's own and maps other owners into the subordinate range" {
	grep -q "^$MDT_USER:" /etc/subuid || skip "$MDT_USER has no subordinate ids"
	"$PY" - "$FIX/own.tar" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
for name, uid in (("rootfile", 0), ("aptfile", 42)):
    i = tarfile.TarInfo(name); i.size = 1; i.uid = i.gid = uid
    t.addfile(i, io.BytesIO(b"x"))
t.close()
PY
	chmod 644 "$FIX/own.tar"
	user_rf import "$FIX/own.tar" own
	assert_status 0
	local start
	start=$(awk -F: -v u="$MDT_USER" '$1 == u { print $2; exit }' /etc/subuid)
	[ "$(stat -c %U "$UROOTFS/own/rootfile")" = "$MDT_USER" ]
	[ "$(stat -c %u "$UROOTFS/own/aptfile")" = $((start + 41)) ]
	# ... and the student can remove what their subordinate ids own.
	user_rf rm own
	assert_status 0
	[ ! -e "$UROOTFS/own" ]
	no_leftovers "$UROOTFS"
}

@test "cp copies into an imported rootfs where plain cp cannot, owned by its root" {
	grep -q "^$MDT_USER:" /etc/subuid || skip "$MDT_USER has no subordinate ids"
	"$PY" - "$FIX/srv.tar" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("srv"); i.type = tarfile.DIRTYPE; i.mode = 0o755; i.uid = i.gid = 42
t.addfile(i)
t.close()
PY
	chmod 644 "$FIX/srv.tar"
	user_rf import "$FIX/srv.tar" srv
	assert_status 0
	local note=$UHOME/mdrootfs-outside/note
	as_user sh -c "mkdir -p ${note%/*} && echo hello > $note"
	# What a student tries first: their subordinate id owns /srv.
	run as_user cp "$note" "$UROOTFS/srv/srv/"
	[ "$status" -ne 0 ]
	user_rf cp "$note" srv:/srv/note
	assert_status 0
	assert_output ""
	[ "$(cat "$UROOTFS/srv/srv/note")" = hello ]
	[ "$(stat -c %U "$UROOTFS/srv/srv/note")" = "$MDT_USER" ]
	user_rf cp "$note" srv:/../x
	assert_status 125
	assert_output "mdrootfs.sh: cp: /../x leads out of the rootfs"
	user_rf cp "$note" srv
	assert_status 2
	assert_output_contains "mdrootfs.sh: cp: the destination is NAME:/PATH, a place inside rootfs NAME: srv"
	user_rf rm srv
	assert_status 0
	[ ! -e "$UROOTFS/srv" ]
}

@test "import reads gzip, xz, zstd and plain tarballs alike" {
	require xz zstd
	mktar good good.tar
	local c
	for c in "gzip -k" "xz -k -T1" "zstd -q"; do $c "$FIX/good.tar"; done
	chmod 644 "$FIX"/good.tar.*
	for c in tar tar.gz tar.xz tar.zst; do
		user_rf import "$FIX/good.$c" "imp-${c//./-}"
		assert_status 0
		[ "$(cat "$UROOTFS/imp-${c//./-}/bin/hello")" = "$(printf '#!/bin/sh\necho hello')" ]
	done
}

@test "import refuses a member with an absolute path and keeps nothing" {
	outside
	mktar absolute evil.tar
	user_rf import "$FIX/evil.tar" evil
	assert_status 125
	assert_output "$RF: member '/tmp/mdrootfs-evil' has an absolute path
$RF: import: unpacking $FIX/evil.tar failed; nothing was kept"
	[ ! -e "$UROOTFS/evil" ]
	no_leftovers "$UROOTFS"
	outside_unchanged
}

@test "import refuses a member with '..' and keeps nothing" {
	outside
	mktar dotdot evil.tar
	user_rf import "$FIX/evil.tar" evil
	assert_status 125
	assert_output "$RF: member 'a/../../mdrootfs-evil' contains '..'
$RF: import: unpacking $FIX/evil.tar failed; nothing was kept"
	[ ! -e "$UROOTFS/evil" ]
	no_leftovers "$UROOTFS"
	outside_unchanged
}

@test "import refuses a member written through a symlink it planted" {
	outside
	mktar symlink-write evil.tar
	user_rf import "$FIX/evil.tar" evil
	assert_status 125
	assert_output "$RF: member 'esc/planted' has a symbolic link or a file (esc) in its path
$RF: import: unpacking $FIX/evil.tar failed; nothing was kept"
	[ ! -e "$UROOTFS/evil" ]
	no_leftovers "$UROOTFS"
	outside_unchanged
}

@test "import replaces a planted symlink by a file instead of writing through it" {
	outside
	mktar symlink-replace evil.tar
	user_rf import "$FIX/evil.tar" evil
	assert_status 0
	[ ! -L "$UROOTFS/evil/esc" ]
	[ "$(cat "$UROOTFS/evil/esc")" = overwritten ]
	outside_unchanged
}

@test "import keeps a symlink pointing outside as a link inside the rootfs" {
	mktar symlink-out out.tar
	user_rf import "$FIX/out.tar" out
	assert_status 0
	[ "$(readlink "$UROOTFS/out/etc-shadow")" = /etc/shadow ]
}

@test "import refuses hard links leading outside the target" {
	outside
	local k
	mktar hardlink-abs abs.tar
	user_rf import "$FIX/abs.tar" evil
	assert_status 125
	assert_output "$RF: hard link target of 'hl': '/etc/passwd' has an absolute path
$RF: import: unpacking $FIX/abs.tar failed; nothing was kept"
	mktar hardlink-dotdot dotdot.tar
	user_rf import "$FIX/dotdot.tar" evil
	assert_status 125
	assert_output "$RF: hard link target of 'hl': '../../../../etc/passwd' contains '..'
$RF: import: unpacking $FIX/dotdot.tar failed; nothing was kept"
	mktar hardlink-via-symlink via.tar
	user_rf import "$FIX/via.tar" evil
	assert_status 125
	assert_output "$RF: member 'hl' has a symbolic link or a file (esc) in its path
$RF: import: unpacking $FIX/via.tar failed; nothing was kept"
	[ ! -e "$UROOTFS/evil" ]
	no_leftovers "$UROOTFS"
	outside_unchanged
}

@test "import skips device nodes for a student with one summary line" {
	mktar device dev.tar
	user_rf import "$FIX/dev.tar" dev
	assert_status 0
	assert_output "$RF: skipped 2 device nodes (creating them needs real root)"
	[ ! -e "$UROOTFS/dev/dev/null" ]
	[ ! -e "$UROOTFS/dev/dev/sda" ]
	[ "$(cat "$UROOTFS/dev/ok")" = ok ]
}

@test "import --system as root drops the device nodes: containers get a /dev of their own" {
	mktar device dev.tar
	run "$MDT_BIN/$RF" --system import "$FIX/dev.tar" dev
	assert_status 0
	assert_output "$RF: system rootfs: dropped 2 device nodes (containers get a /dev of their own)"
	[ ! -e "$SYSDIR/dev/dev/null" ]
	[ ! -e "$SYSDIR/dev/dev/sda" ]
	[ "$(cat "$SYSDIR/dev/ok")" = ok ]
}

@test "import refuses a tarball bomb over --max-size" {
	mktar bomb bomb.tar.gz
	user_rf import --max-size 16M "$FIX/bomb.tar.gz" bomb
	assert_status 125
	assert_output "$RF: more than 16777216 bytes of file data: refusing a tar bomb (raise --max-size)
$RF: import: unpacking $FIX/bomb.tar.gz failed; nothing was kept"
	[ ! -e "$UROOTFS/bomb" ]
	no_leftovers "$UROOTFS"
}

@test "import refuses a tarball with more entries than --max-entries" {
	mktar many many.tar
	user_rf import --max-entries 1000 "$FIX/many.tar" many
	assert_status 125
	assert_output "$RF: more than 1000 entries: refusing a tar bomb (raise --max-entries)
$RF: import: unpacking $FIX/many.tar failed; nothing was kept"
	[ ! -e "$UROOTFS/many" ]
	no_leftovers "$UROOTFS"
}

@test "import refuses a file that is not a tarball" {
	echo "not a tarball" > "$FIX/junk.tar"
	chmod 644 "$FIX/junk.tar"
	user_rf import "$FIX/junk.tar" junk
	assert_status 125
	assert_output_contains "$RF: not a valid tar archive"
	[ ! -e "$UROOTFS/junk" ]
	no_leftovers "$UROOTFS"
}

@test "import refuses a truncated compressed tarball" {
	mktar good good.tar.gz
	head -c 300 "$FIX/good.tar.gz" > "$FIX/cut.tar.gz"
	chmod 644 "$FIX/cut.tar.gz"
	user_rf import "$FIX/cut.tar.gz" cut
	assert_status 125
	assert_output_contains "$RF: import: unpacking $FIX/cut.tar.gz failed; nothing was kept"
	[ ! -e "$UROOTFS/cut" ]
	no_leftovers "$UROOTFS"
}

@test "an interrupted import leaves nothing behind" {
	mktar big big.tar.gz
	as_user env MD_SYSTEM_ROOTFS="$SYSDIR" "$RF" import "$FIX/big.tar.gz" big &
	local pid=$! i
	# Wait until the temporary tree is being filled, then interrupt.
	for i in $(seq 100); do
		compgen -G "$UROOTFS/.big.tmp.*/z1" >/dev/null && break
		sleep 0.1
	done
	compgen -G "$UROOTFS/.big.tmp.*/z1" >/dev/null || { wait "$pid"; skip "the import finished before it could be interrupted"; }
	# The temporary tree's name carries the pid of the mdrootfs.sh run.
	local tmp
	tmp=$(compgen -G "$UROOTFS/.big.tmp.*")
	tmp=${tmp%.*}
	kill -TERM "${tmp##*.}"
	status=0
	wait "$pid" || status=$?
	assert_status 130
	[ ! -e "$UROOTFS/big" ]
	no_leftovers "$UROOTFS"
	[ -z "$(pgrep -u "$MDT_USER" python3)" ]
}

@test "import refuses an existing name without --force and keeps the old rootfs" {
	mktar good good.tar
	user_rf import "$FIX/good.tar" imp
	touch "$UROOTFS/imp/marker"
	user_rf import "$FIX/good.tar" imp
	assert_status 125
	assert_output "$RF: rootfs 'imp' already exists in $UROOTFS (use --force to replace it)"
	[ -e "$UROOTFS/imp/marker" ]
	user_rf import --force "$FIX/good.tar" imp
	assert_status 0
	[ ! -e "$UROOTFS/imp/marker" ]
	[ -x "$UROOTFS/imp/bin/hello" ]
	no_leftovers "$UROOTFS"
}

@test "a failed import --force keeps the old rootfs" {
	mktar good good.tar
	mktar dotdot evil.tar
	user_rf import "$FIX/good.tar" imp
	touch "$UROOTFS/imp/marker"
	user_rf import --force "$FIX/evil.tar" imp
	assert_status 125
	[ -e "$UROOTFS/imp/marker" ]
	no_leftovers "$UROOTFS"
}

# ----------------------------------------------------------- import-image

# Make image $2 in $FIX of kind $1 by hand, no registry: two layers, the
# second deleting etc/a (.wh.a), hiding d/x and d/y (.wh..wh..opq) while
# adding d/z, and adding etc/c. Kinds: oci (a layout directory), oci-tar,
# docker (a `docker save` archive), oci-baddigest, oci-dotdot.
mkimage() {
	"$PY" - "$1" "$FIX/$2" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
kind, out = sys.argv[1], sys.argv[2]

def layer(entries, compress):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            i = tarfile.TarInfo(name)
            i.mtime = 1700000000
            if data is None:
                i.type, i.mode = tarfile.DIRTYPE, 0o755
                t.addfile(i)
            else:
                i.size, i.mode = len(data), 0o644
                t.addfile(i, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw

l1 = [("etc", None), ("etc/a", b"a\n"), ("etc/b", b"b\n"), ("d", None), ("d/x", b"x\n"),
      ("d/y", b"y\n"), ("keep", None), ("keep/k", b"k\n")]
l2 = [("etc", None), ("etc/.wh.a", b""), ("d", None), ("d/z", b"z\n"), ("d/.wh..wh..opq", b""),
      ("etc/c", b"c\n")]
if kind == "oci-dotdot":
    l2.append(("../../mdrootfs-evil", b"evil\n"))
layers = [layer(l1, True), layer(l2, kind != "docker")]

files = {}
def blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    files["blobs/sha256/" + d[7:]] = data
    return d

if kind == "docker":
    files["l1/layer.tar"], files["l2/layer.tar"] = gzip.decompress(layers[0]), layers[1]
    files["cfg.json"] = b"{}"
    files["manifest.json"] = json.dumps([{"Config": "cfg.json", "RepoTags": ["lab:1"],
                                          "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode()
else:
    ld = [blob(l) for l in layers]
    if kind == "oci-baddigest":
        files["blobs/sha256/" + ld[0][7:]] = layer(l1 + [("planted", b"p\n")], True)
    cfg = blob(b"{}")
    man = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d,
                    "size": len(l)} for d, l in zip(ld, layers)]}).encode())
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man, "size": 1}]}).encode()
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'

if kind == "oci":
    for name, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
else:
    with tarfile.open(out, "w") as t:
        for name, data in files.items():
            i = tarfile.TarInfo(name)
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
PY
	chmod -R a+rX "$FIX"
}

# The tree the two layers must leave, with the mount points import-image
# adds.
image_applied() {
	local r=$UROOTFS/$1
	[ "$(cd "$r" && find . -mindepth 1 | sort | tr '\n' ' ')" = "./d ./d/z ./dev ./etc ./etc/b ./etc/c ./keep ./keep/k ./proc ./sys ./tmp " ] ||
		{ (cd "$r" && find . | sort); return 1; }
}

@test "import-image applies an OCI layout directory's layers in order with whiteouts" {
	mkimage oci img
	user_rf import-image "$FIX/img" oci
	assert_status 0
	assert_output ""
	image_applied oci
	no_leftovers "$UROOTFS"
}

@test "import-image applies an OCI layout tar" {
	mkimage oci-tar img.tar
	user_rf import-image "$FIX/img.tar" ocitar
	assert_status 0
	image_applied ocitar
}

@test "import-image applies a docker save archive" {
	mkimage docker img.tar
	user_rf import-image "$FIX/img.tar" dock
	assert_status 0
	image_applied dock
}

# A `docker save` archive $1 by hand, as `docker import --change 'CMD ...'
# --change 'ENV ...' ...` then `docker save` make it (no daemon, no
# registry): its one layer the tar $3, its config {"config": $2}.
mkimage_config() {
	as_user "$PY" - "$1" "$2" "$3" <<'PY'
import hashlib, io, json, sys, tarfile
out, conf, layer = sys.argv[1], json.loads(sys.argv[2]), open(sys.argv[3], "rb").read()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": conf,
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
files = {"blobs/sha256/" + hashlib.sha256(layer).hexdigest(): layer,
         "blobs/sha256/" + hashlib.sha256(cfg).hexdigest(): cfg}
names = list(files)
files["manifest.json"] = json.dumps([{"Config": names[1], "RepoTags": ["lab:cfg"], "Layers": [names[0]]}]).encode()
with tarfile.open(out, "w") as t:
    for name, data in files.items():
        i = tarfile.TarInfo(name)
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
PY
}

@test "import-image keeps the image's Cmd, Entrypoint, Env, WorkingDir and User beside the rootfs, and rm removes them" {
	chown "$MDT_USER" "$FIX"
	as_user sh -c "mkdir -p $FIX/t/etc && echo x > $FIX/t/etc/x && tar -C $FIX/t -cf $FIX/layer.tar ."
	mkimage_config "$FIX/img.tar" '{"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi", ""],
		"Env": ["PATH=/bin", "A=b c", "1BAD=x"], "WorkingDir": "/srv", "User": "nobody",
		"Labels": {"x": "y"}, "ExposedPorts": {"80/tcp": {}}}' "$FIX/layer.tar"
	user_rf import-image "$FIX/img.tar" cfg
	assert_status 0
	assert_output "$RF: image config: Env 1BAD is not NAME=VALUE: not kept"
	[ "$(cat "$UROOTFS/.cfg.config")" = "Entrypoint /bin/sh
Entrypoint -c
Cmd echo hi
Cmd 
Env PATH=/bin
Env A=b c
WorkingDir /srv
User nobody" ]
	user_rf list
	[ "$(echo "$output" | grep -c cfg)" = 1 ]
	# A value a line cannot hold is dropped, with one line.
	mkimage_config "$FIX/nl.tar" '{"Cmd": ["sh", "-c", "echo a\necho b"], "WorkingDir": "/w"}' "$FIX/layer.tar"
	user_rf import-image --force "$FIX/nl.tar" cfg
	assert_status 0
	assert_output "$RF: image config: Cmd has a newline or NUL in it: not kept"
	[ "$(cat "$UROOTFS/.cfg.config")" = "WorkingDir /w" ]
	# A plain import in its place has no image config; rm takes it too.
	user_rf import-image --force "$FIX/img.tar" cfg
	user_rf import --force "$FIX/layer.tar" cfg
	assert_status 0
	[ ! -e "$UROOTFS/.cfg.config" ]
	user_rf import-image --force "$FIX/img.tar" cfg
	[ -f "$UROOTFS/.cfg.config" ]
	user_rf rm cfg
	assert_status 0
	[ ! -e "$UROOTFS/.cfg.config" ] && [ ! -e "$UROOTFS/cfg" ]
	no_leftovers "$UROOTFS"
}

@test "mdrun.sh -r runs an imported image's Entrypoint and Cmd in its WorkingDir with its Env, unless told otherwise" {
	require busybox
	[ -u "$MDT_HELPER" ] || skip "mdhelper is not installed (sudo make test-install)"
	default_conf
	chown "$MDT_USER" "$FIX"
	as_user sh -c "mkdir -p $FIX/t/bin $FIX/t/srv && cp $(command -v busybox) $FIX/t/bin/busybox &&
		ln -s busybox $FIX/t/bin/sh && tar -C $FIX/t -cf $FIX/layer.tar ."
	mkimage_config "$FIX/img.tar" '{"Entrypoint": ["/bin/sh", "-c", "echo \"$0 $* in $PWD A=$A B=$B\"", "ep"],
		"Cmd": ["default", "cmd"], "Env": ["A=img", "B=img"], "WorkingDir": "/work/dir", "User": "nobody"}' "$FIX/layer.tar"
	user_rf import-image "$FIX/img.tar" ep
	assert_status 0
	run as_user mdrun.sh -r ep
	assert_status 0
	assert_output "mdrun.sh: image user nobody ignored: not supported yet
ep default cmd in /work/dir A=img B=img"
	# The WorkingDir the layers lack is made, as Docker makes it.
	[ "$(stat -c '%a %U' "$UROOTFS/ep/work" "$UROOTFS/ep/work/dir")" = "$(printf '755 %s\n755 %s' "$MDT_USER" "$MDT_USER")" ]
	# A command replaces Cmd after the Entrypoint; -e and -w win.
	run as_user mdrun.sh -r ep -e A=mine -w / -- given words
	assert_status 0
	assert_output "mdrun.sh: image user nobody ignored: not supported yet
ep given words in / A=mine B=img"
	# Without an Entrypoint, a command replaces Cmd; root is no news.
	mkimage_config "$FIX/cmd.tar" '{"Cmd": ["/bin/sh", "-c", "echo cmd in $PWD"], "WorkingDir": "/srv", "User": "0"}' "$FIX/layer.tar"
	user_rf import-image "$FIX/cmd.tar" cmd
	assert_status 0
	run as_user mdrun.sh -r cmd
	assert_status 0
	assert_output "cmd in /srv"
	run as_user mdrun.sh -r cmd -- /bin/sh -c 'echo mine'
	assert_status 0
	assert_output "mine"
	no_leftovers "$UROOTFS"
}

@test "import-image refuses a layer whose digest does not match and keeps nothing" {
	mkimage oci-baddigest img.tar
	user_rf import-image "$FIX/img.tar" bad
	assert_status 125
	assert_output_contains "$RF: layer 1/2: digest mismatch"
	[ ! -e "$UROOTFS/bad" ]
	no_leftovers "$UROOTFS"
}

@test "import-image refuses a layer with a '..' member" {
	outside
	mkimage oci-dotdot img.tar
	user_rf import-image "$FIX/img.tar" evil
	assert_status 125
	assert_output "$RF: member '../../mdrootfs-evil' contains '..'
$RF: import-image: unpacking $FIX/img.tar failed; nothing was kept"
	[ ! -e "$UROOTFS/evil" ]
	no_leftovers "$UROOTFS"
	outside_unchanged
}

@test "import-image refuses what is not an image" {
	mktar good good.tar
	user_rf import-image "$FIX/good.tar" notimg
	assert_status 125
	assert_output "$RF: neither a docker save archive (manifest.json) nor an OCI image layout (index.json)
$RF: import-image: unpacking $FIX/good.tar failed; nothing was kept"
	head -c 4096 /dev/urandom > "$FIX/junk"
	chmod 644 "$FIX/junk"
	user_rf import-image "$FIX/junk" notimg
	assert_status 125
	assert_output "$RF: $FIX/junk is neither an image layout directory nor a tar archive
$RF: import-image: unpacking $FIX/junk failed; nothing was kept"
	[ ! -e "$UROOTFS/notimg" ]
	no_leftovers "$UROOTFS"
}

# ---------------------------------------------------------- rm, path, du

@test "rm removes a student's rootfs, read-only directories and all" {
	mktar good good.tar
	user_rf import "$FIX/good.tar" imp
	assert_status 0
	user_rf rm imp
	assert_status 0
	assert_output ""
	[ ! -e "$UROOTFS/imp" ]
	no_leftovers "$UROOTFS"
}

@test "rm never follows a symlink inside the rootfs" {
	outside
	user_rf busybox lab
	ln -s "$MDT_OUTSIDE" "$UROOTFS/lab/home/out"
	user_rf rm lab
	assert_status 0
	[ ! -e "$UROOTFS/lab" ]
	outside_unchanged
}

@test "rm refuses a name that is a symlink and leaves its target alone" {
	outside
	user_rf busybox lab
	ln -s "$MDT_OUTSIDE" "$UROOTFS/link"
	user_rf rm link
	assert_status 125
	assert_output "$RF: rm: no rootfs 'link' in $UROOTFS"
	[ -L "$UROOTFS/link" ]
	outside_unchanged
}

@test "rm refuses names that are not plain names" {
	local n
	for n in ../rootfs . .. a/b /etc "-rf"; do
		user_rf rm -- "$n"
		assert_status 125
		assert_output "$RF: invalid rootfs name '$n': use [a-z0-9][a-z0-9_.-]*, at most 63 characters"
	done
}

@test "rm refuses what list does not show" {
	user_rf busybox lab
	mkdir "$UROOTFS/.hidden"
	user_rf rm nothere
	assert_status 125
	assert_output "$RF: rm: no rootfs 'nothere' in $UROOTFS"
	[ -d "$UROOTFS/.hidden" ]
	[ -d "$UROOTFS/lab" ]
	rmdir "$UROOTFS/.hidden"
}

@test "rm points a student at --system for a system rootfs and removes nothing" {
	"$MDT_BIN/$RF" --system busybox shared
	user_rf rm shared
	assert_status 125
	assert_output "$RF: rm: 'shared' is a system rootfs: remove it with sudo $RF --system rm shared"
	[ -d "$SYSDIR/shared" ]
	user_rf --system rm shared
	assert_status 125
	assert_output "$RF: --system needs root: run it with sudo, or drop --system to build a rootfs of your own"
	run "$MDT_BIN/$RF" --system rm shared
	assert_status 0
	[ ! -e "$SYSDIR/shared" ]
	no_leftovers "$SYSDIR"
}

@test "path prints the student's rootfs before the system's" {
	"$MDT_BIN/$RF" --system busybox both
	user_rf path both
	assert_status 0
	assert_output "$SYSDIR/both"
	user_rf busybox both
	user_rf path both
	assert_output "$UROOTFS/both"
	user_rf --system path both
	assert_output "$SYSDIR/both"
	user_rf path nothere
	assert_status 125
	assert_output "$RF: path: no rootfs 'nothere'"
}

@test "du prints each rootfs, largest first, and the total" {
	"$MDT_BIN/$RF" --system busybox shared
	mktar good good.tar
	user_rf import "$FIX/good.tar" small
	user_rf du
	assert_status 0
	[[ "${lines[0]}" =~ ^\ *[0-9.]+[KMG]\ +system\ +shared$ ]]
	[[ "${lines[1]}" =~ ^\ *[0-9.]+[KMG]\ +user\ +small$ ]]
	[[ "${lines[2]}" =~ ^\ *[0-9.]+[KMG]\ +total$ ]]
	[ "${#lines[@]}" -eq 3 ]
}

# ----------------------------------------------------------------- debian

@test "debian --dry-run reads the mirror and suite from the machine's apt sources" {
	require mmdebstrap
	. /etc/os-release
	user_rf debian --dry-run --include procps lab
	assert_status 0
	assert_output_contains "--variant=apt --include=procps --quiet ${VERSION_CODENAME} "
	[ ! -e "$UROOTFS/lab" ]
	user_rf debian --dry-run --suite trixie --mirror http://mirror.example/debian lab
	assert_output_contains " trixie "
	assert_output_contains " http://mirror.example/debian"
}

@test "debian picks unshare mode with subordinate ids, fakechroot without, root mode for root" {
	require mmdebstrap
	grep -q "^$MDT_USER:" /etc/subuid || skip "$MDT_USER has no subordinate ids"
	! grep -q "^$NOSUB_USER:" /etc/subuid || skip "$NOSUB_USER has subordinate ids"
	user_rf debian --dry-run lab
	assert_status 0
	assert_output_contains "mmdebstrap --mode=unshare --format=tar "
	assert_output_contains "| unshare --user --map-root-user --map-users="
	run as "$NOSUB_USER" "$RF" debian --dry-run lab
	assert_status 0
	assert_output_contains "mmdebstrap --mode=fakechroot "
	run "$MDT_BIN/$RF" --system debian --dry-run lab
	assert_status 0
	assert_output_contains "mmdebstrap --mode=root "
	assert_output_contains " $SYSDIR/lab "
}

@test "debian prints a line per phase without a terminal" {
	require mmdebstrap
	# A mirror that is not there: mmdebstrap fails at once, after its phase
	# line (bats has no terminal).
	user_rf debian --mirror file:///nonexistent/debian lab
	assert_status 125
	assert_output_contains "$RF: debian: mmdebstrap (unshare mode, your subordinate ids) "
	[ "${lines[-1]}" = "$RF: debian: mmdebstrap failed building $(. /etc/os-release && echo "$VERSION_CODENAME") from file:///nonexistent/debian; nothing was kept" ]
	run "$MDT_BIN/$RF" --system debian --mirror file:///nonexistent/debian lab
	assert_status 125
	assert_output_contains "$RF: debian: mmdebstrap (root mode) "
	no_leftovers "$SYSDIR"
	no_leftovers "$UROOTFS"
}

@test "debian refuses a bad suite, package list, variant or mirror" {
	user_rf debian --suite 'x;y' lab
	assert_status 2
	assert_output "$RF: --suite: not a suite name: x;y
Try '$RF --help' for more information."
	user_rf debian --include 'a b' lab
	assert_status 2
	assert_output "$RF: --include: not a package list: a b
Try '$RF --help' for more information."
	user_rf debian --variant huge lab
	assert_status 2
	assert_output "$RF: --variant: unknown variant: huge
Try '$RF --help' for more information."
	user_rf debian --mirror ftp://x/debian lab
	assert_status 2
	assert_output "$RF: --mirror: not an http, https or file URL: ftp://x/debian
Try '$RF --help' for more information."
}

@test "debian fails clearly when mmdebstrap cannot reach the mirror and keeps nothing" {
	require mmdebstrap
	user_rf debian --variant essential --mirror file:///nonexistent/debian lab
	assert_status 125
	assert_output_contains "$RF: debian: mmdebstrap failed building "
	[ ! -e "$UROOTFS/lab" ]
	no_leftovers "$UROOTFS"
}

# The one slow test: a real build from the mirror, as the student, with
# their subordinate ids (mmdebstrap's unshare mode).
@test "debian builds a rootfs for the student that keeps package owners in their subordinate range" {
	[ -z "${MDT_QUICK:-}" ] || skip "MDT_QUICK is set: no Debian build"
	require mmdebstrap python3
	grep -q "^$MDT_USER:" /etc/subuid || skip "$MDT_USER has no subordinate ids"
	local mirror suite
	user_rf debian --dry-run --variant essential deb
	mirror=${output##* - }
	mirror=${mirror%% *}
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	"$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=15)' \
		"$mirror/dists/$suite/Release" 2>/dev/null || skip "the package mirror $mirror cannot be reached"
	user_rf debian --variant essential deb
	assert_status 0
	# A line per phase, without a terminal too.
	assert_output "$RF: debian: mmdebstrap (unshare mode, your subordinate ids) $suite from $mirror
$RF: debian: writing /etc/resolv.conf
$RF: debian: rootfs 'deb' is ready in $UROOTFS/deb"
	local r=$UROOTFS/deb subgid
	[ -s "$r/etc/debian_version" ]
	[ "$(stat -c %U "$r/usr/bin/dpkg")" = "$MDT_USER" ]
	# /var/log/btmp is root:utmp (gid 43) in Debian: container gid 43 is
	# the 43rd id of the student's range.
	subgid=$(awk -F: -v u="$MDT_USER" '$1 == u { print $2; exit }' /etc/subgid)
	[ "$(stat -c %g "$r/var/log/btmp")" = $((subgid + 42)) ]
	no_leftovers "$UROOTFS"
	if [ -u "$MDT_HELPER" ] && [ -x "$MDT_BIN/mdrun.sh" ]; then
		default_conf
		run as_user mdrun.sh -r deb -- /bin/sh -c 'id -u; stat -c %G /var/log/btmp; cat /etc/debian_version'
		assert_status 0
		[ "${lines[0]}" = 0 ]
		[ "${lines[1]}" = utmp ]
	fi
	user_rf rm deb
	assert_status 0
	[ ! -e "$r" ]
}

# ------------------------------------------------ apt-get inside a container
#
# Slow too: a Debian rootfs from the mirror, then apt-get in a container on
# a test bridge of our own with NAT (mdnet.sh up --nat), as an administrator
# sets it up for a lab that installs packages. The container reaches the
# mirror and the host's nameserver through that NAT, like a Docker one.

APT_BRIDGE=mdtrf0
APT_NET=10.91.0 # not 10.96-10.99: other suites' and benchmarks' bridges
APT_PKG=hello # 53 kB, no dependencies, only root's files

apt_conf() {
	write_conf <<CONF
bridge $APT_BRIDGE $APT_NET.254/24
permit :mdtestgrp memory=512M pids=256 containers=3 ip=$APT_NET.0/24 bridge=$APT_BRIDGE rootfs=$SYSDIR rootfs=~
CONF
}

# Skip unless a real Debian build can run here: not MDT_QUICK, mmdebstrap,
# the installed helper, and a mirror that answers. Sets mirror.
debian_or_skip() {
	[ -z "${MDT_QUICK:-}" ] || skip "MDT_QUICK is set: no Debian build"
	require mmdebstrap python3
	[ -u "$MDT_HELPER" ] && [ -x "$MDT_BIN/mdrun.sh" ] ||
		skip "mdhelper and mdrun.sh are not installed (sudo make test-install)"
	local suite
	run "$MDT_BIN/$RF" --system debian --dry-run probe
	assert_status 0
	mirror=${output##* }
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	"$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=15)' \
		"$mirror/dists/$suite/Release" 2>/dev/null || skip "the package mirror $mirror cannot be reached"
}

# Bring the test bridge up with NAT (teardown takes it down), then skip
# unless a container of user $1 on rootfs $2 reaches the mirror's address:
# one TCP connection from bash's /dev/tcp, by address, so that only the NAT
# is tested here and name resolution is left to apt-get.
nat_or_skip() {
	local user=$1 rootfs=$2 host port addr
	case $mirror in file:*) skip "the mirror $mirror is a local directory, which a container cannot reach" ;; esac
	# Replies would go to another interface with the same subnet.
	[ -z "$(ip route show "$APT_NET.0/24")" ] ||
		skip "the test subnet $APT_NET.0/24 is already routed: $(ip route show "$APT_NET.0/24")"
	apt_conf
	apt_bridge=1
	"$MDT_BIN/mdnet.sh" up --nat --config "$MDT_CONF"
	host=${mirror#*://}
	host=${host%%/*}
	case $mirror in https:*) port=443 ;; *) port=80 ;; esac
	case $host in *:*) port=${host##*:} host=${host%:*} ;; esac
	addr=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }')
	[ -n "$addr" ] || skip "the host cannot resolve the mirror's name $host"
	run as "$user" mdrun.sh -r "$rootfs" -- timeout 15 bash -c "exec 3<>/dev/tcp/$addr/$port"
	# 1: refused or unreachable, 124: no answer; anything else is ours.
	case $status in
	0) ;;
	1 | 124) skip "NAT: a container on $APT_BRIDGE cannot reach the mirror at $addr:$port" ;;
	*) echo "$output"; return 1 ;;
	esac
}

@test "apt-get installs a package in a container on the student's Debian rootfs" {
	debian_or_skip
	grep -q "^$MDT_USER:" /etc/subuid || skip "$MDT_USER has no subordinate ids"
	user_rf debian lab
	assert_status 0
	assert_output_contains "$RF: debian: rootfs 'lab' is ready in $UROOTFS/lab"
	[ "${#lines[@]}" -eq 3 ]
	nat_or_skip "$MDT_USER" lab
	local t0 t1
	t0=$(date +%s%N)
	run as_user mdrun.sh -r lab -m max -- sh -c "apt-get update -q && apt-get install -y -q $APT_PKG && $APT_PKG"
	t1=$(date +%s%N)
	echo "# apt-get update and install took $(((t1 - t0) / 1000000)) ms" >&3
	assert_status 0
	[ "${lines[-1]}" = "Hello, world!" ]
	# apt downloaded as its sandbox user _apt (uid 42, mapped into the
	# student's range), with no warning or error on the way.
	if grep -E '^(W|E): ' <<<"$output"; then return 1; fi
}

@test "apt-get in a container on a system Debian rootfs with --read-only fails: it is shared and read-only" {
	debian_or_skip
	run "$MDT_BIN/$RF" --system debian sysdeb
	assert_status 0
	apt_conf
	# apt opens its lock files for writing first; they belong to the real
	# root, who is nobody in the student's user namespace.
	run as_user env MD_SYSTEM_ROOTFS="$SYSDIR" mdrun.sh -r sysdeb --read-only -m max -- apt-get install -y $APT_PKG
	assert_status 100
	assert_output "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)
E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?"
	run as_user env MD_SYSTEM_ROOTFS="$SYSDIR" mdrun.sh -r sysdeb --read-only -- touch /usr/bin/x
	assert_output "touch: cannot touch '/usr/bin/x': Read-only file system"
}

@test "debian without subordinate ids says apt-get inside installs only root's packages, and it does" {
	debian_or_skip
	require fakechroot fakeroot
	! grep -q "^$NOSUB_USER:" /etc/subuid || skip "$NOSUB_USER has subordinate ids"
	nosub_rootfs=/home/$NOSUB_USER/.local/share/minidocker/rootfs/lab
	run as "$NOSUB_USER" env MD_SYSTEM_ROOTFS="$SYSDIR" "$RF" debian lab
	assert_status 0
	assert_output_contains "$RF: debian: mmdebstrap (fakechroot mode: you have no subordinate ids) "
	assert_output_contains "$RF: debian: rootfs 'lab' is ready in $nosub_rootfs"
	[ "${lines[-1]}" = "$RF: debian: you have no subordinate ids (/etc/subuid), so root is the only user inside 'lab': apt-get there installs only packages whose files all belong to root, others fail with \"Invalid argument\"; ask your administrator for a range (see INSTALL) and build it again" ]
	grep -qx 'APT::Sandbox::User "root";' "$nosub_rootfs/etc/apt/apt.conf.d/00minidocker-no-subids"
	nat_or_skip "$NOSUB_USER" lab
	run as "$NOSUB_USER" mdrun.sh -r lab -m max -- sh -c "apt-get update -q && apt-get install -y -q $APT_PKG && $APT_PKG"
	assert_status 0
	[ "${lines[-1]}" = "Hello, world!" ]
}

# ------------------------------------- root on what a student prepared
#
# Issue 18: an administrator runs mdrootfs.sh as root on something a
# student made: their archive, or (sudo -E, su without -) their HOME. A
# system rootfs holds no set-id file, device node, group/other-writable
# entry or entry of another user (SECURITY.md 51); root writes nowhere a
# student can redirect (SECURITY.md 50).

# The student's hostile archive $FIX/$2, made by the student ($1: tar, or
# docker, a `docker save` archive with it as its one layer): the host's
# `id` as a setuid-root bin/rootshell (it prints uid 0 if the bit
# survives), a setgid file, a block and a character device open to all, a
# 0777 and a 1777 directory, a 2775 directory, a 0666 file and FIFO, and a
# directory, a file and a link of the student's own uid.
student_archive() {
	chown "$MDT_USER" "$FIX"
	as_user "$PY" - "$1" "$FIX/$2" "$(id -u "$MDT_USER")" <<'PY'
import io, json, sys, tarfile
kind, out, me = sys.argv[1], sys.argv[2], int(sys.argv[3])
buf = io.BytesIO()
t = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
def add(name, type=tarfile.REGTYPE, m=0o644, data=b"x\n", uid=0, gid=0, **kw):
    i = tarfile.TarInfo(name)
    i.type, i.mode, i.uid, i.gid, i.mtime = type, m, uid, gid, 1700000000
    for k, v in kw.items():
        setattr(i, k, v)
    if type == tarfile.REGTYPE:
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
    else:
        t.addfile(i)
D = tarfile.DIRTYPE
add("bin", D, 0o755)
add("bin/rootshell", m=0o4755, data=open("/usr/bin/id", "rb").read())
add("bin/sg", m=0o2755)
add("dev", D, 0o755)
add("dev/sda", tarfile.BLKTYPE, 0o666, devmajor=8, devminor=0)
add("dev/mem", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=1)
add("drop", D, 0o777)
add("tmp", D, 0o1777)
add("shared", D, 0o2775, gid=me)
add("etc", D, 0o755)
add("etc/passwd", m=0o666, data=b"root:x:0:0::/root:/bin/sh\n")
add("fifo", tarfile.FIFOTYPE, 0o666)
add("home", D, 0o755, uid=me, gid=me)
add("home/mine", uid=me, gid=me)
add("home/link", tarfile.SYMTYPE, 0o777, uid=me, gid=me, linkname="/etc/shadow")
t.close()
data = buf.getvalue()
with open(out, "wb") as f:
    if kind == "tar":
        f.write(data)
    else:
        with tarfile.open(fileobj=f, mode="w") as img:
            for name, blob in (("l1/layer.tar", data), ("manifest.json", json.dumps(
                    [{"Config": "cfg.json", "RepoTags": ["evil:1"], "Layers": ["l1/layer.tar"]}]).encode()),
                    ("cfg.json", b"{}")):
                i = tarfile.TarInfo(name)
                i.size = len(blob)
                img.addfile(i, io.BytesIO(blob))
PY
}

# What a system import of student_archive must say and leave in $1.
STUDENT_REPORT="$RF: system rootfs: dropped 2 device nodes (containers get a /dev of their own)
$RF: system rootfs: cleared the set-id bits of 3 entries
$RF: system rootfs: removed group and other write permission from 5 entries
$RF: system rootfs: gave 3 entries of other users to root"
system_rootfs_inert() {
	local r=$1 found
	found=$(find "$r" -perm /6000 -o -type b -o -type c -o ! -type l -perm /022 -o ! -user root)
	[ -z "$found" ] || { echo "left: $found"; ls -la "$r" "$r"/*; return 1; }
	[ "$(stat -c %a "$r/tmp")" = 1755 ] && [ "$(stat -c %a "$r/shared")" = 755 ]
	[ "$(stat -c %a "$r/bin/rootshell")" = 755 ] && [ "$(stat -c %a "$r/etc/passwd")" = 644 ]
	# The student, on the host: the setuid file runs as them, nothing of
	# the tree takes their writes.
	run as_user "$r/bin/rootshell" -u
	assert_output "$(id -u "$MDT_USER")"
	run as_user sh -c "echo planted > '$r/drop/planted' || echo planted > '$r/tmp/planted' || echo planted > '$r/etc/passwd' || echo planted > '$r/home/mine' || echo planted > '$r/fifo'"
	assert_status 2
	[ ! -e "$r/drop/planted" ] && [ ! -e "$r/tmp/planted" ]
	[ "$(cat "$r/etc/passwd")" = "root:x:0:0::/root:/bin/sh" ] && [ "$(cat "$r/home/mine")" = x ]
}

@test "root importing a student's archive with --system creates no set-id file, device node or writable entry, and says what it dropped" {
	student_archive tar evil.tar
	run "$MDT_BIN/$RF" --system import "$FIX/evil.tar" evil
	assert_status 0
	assert_output "$STUDENT_REPORT"
	system_rootfs_inert "$SYSDIR/evil"
	no_leftovers "$SYSDIR"
}

@test "root importing a student's image with --system import-image creates no set-id file, device node or writable entry" {
	student_archive docker evil-image.tar
	run "$MDT_BIN/$RF" --system import-image "$FIX/evil-image.tar" evil
	assert_status 0
	assert_output "$STUDENT_REPORT"
	system_rootfs_inert "$SYSDIR/evil"
}

# Root importing an archive path a student controls (SECURITY.md 50): the
# path is opened once, as named, and only a file root may show to all.
# The student prepares $FIX; each refusal is one line and leaves nothing.
student_fix() {
	chown "$MDT_USER" "$FIX"
	SECRET=$MDT_ROOT/state/mdrootfs-bats-secret
	rm -rf "$SECRET"
	mkdir -p "$SECRET/etc"
	echo 'root:$6$secret' >"$SECRET/etc/shadow"
	tar -C "$SECRET" -cf "$SECRET/secret.tar" etc
	chmod 700 "$SECRET"
	chmod 600 "$SECRET/secret.tar"
}

# Root's import of $1 (import or import-image) of $2 is refused with line $3.
root_refuses() {
	run timeout 60 "$MDT_BIN/$RF" --system "$1" "$2" stolen
	rm -rf "$SECRET"
	assert_status 125
	assert_output "$3"
	[ ! -e "$SYSDIR/stolen" ]
	no_leftovers "$SYSDIR"
}

@test "root's --system import of a student's fifo is refused at once, not a wait forever" {
	student_fix
	as_user mkfifo "$FIX/f.tar"
	root_refuses import "$FIX/f.tar" "$RF: $FIX/f.tar is a fifo, not a regular file"
}

@test "root's --system import follows no student's symlink to a root-only file or to /dev/zero" {
	student_fix
	as_user ln -s "$SECRET/secret.tar" "$FIX/s.tar"
	root_refuses import "$FIX/s.tar" "$RF: $FIX/s.tar is a symbolic link: as root, give the archive's real path"
	student_fix
	as_user ln -s /dev/zero "$FIX/z.tar"
	root_refuses import "$FIX/z.tar" "$RF: $FIX/z.tar is a symbolic link: as root, give the archive's real path"
	student_fix
	as_user ln -s "$SECRET/secret.tar" "$FIX/i.tar"
	root_refuses import-image "$FIX/i.tar" "$RF: $FIX/i.tar is a symbolic link: as root, give the archive's real path"
}

@test "root's --system import follows no symlink a student planted in the archive's path" {
	student_fix
	as_user ln -s "$SECRET" "$FIX/d"
	root_refuses import "$FIX/d/secret.tar" "$RF: $FIX/d/secret.tar has a symbolic link in its path ($FIX/d): as root, give the archive's real path"
}

@test "root's --system import refuses another user's unreadable file in a student's directory (a hard link)" {
	student_fix
	# What a hard link to a root-only file would be where links are not
	# protected (fs.protected_hardlinks=0).
	cp "$SECRET/secret.tar" "$FIX/h.tar"
	chmod 600 "$FIX/h.tar"
	root_refuses import "$FIX/h.tar" "$RF: $FIX/h.tar belongs to uid 0 and others may not read it, in a directory of uid $(id -u "$MDT_USER"): root does not copy it into a rootfs everyone can read"
}

@test "root's --system import of a student's own archive still works" {
	student_fix
	rm -rf "$SECRET"
	as_user tar -C /etc -cf "$FIX/own.tar" hostname
	as_user chmod 600 "$FIX/own.tar"
	run "$MDT_BIN/$RF" --system import "$FIX/own.tar" own
	assert_status 0
	[ -f "$SYSDIR/own/hostname" ]
}

@test "a student's own import keeps set-id bits and modes: the tree is theirs and containers mount it nosuid" {
	student_archive tar evil.tar
	user_rf import "$FIX/evil.tar" mine
	assert_status 0
	assert_output "$RF: skipped 2 device nodes (creating them needs real root)"
	[ "$(stat -c %a "$UROOTFS/mine/drop")" = 777 ]
	# Set-id to "root" of the student's own user namespace: the student.
	[ "$(stat -c '%a %u' "$UROOTFS/mine/bin/rootshell")" = "4755 $(id -u "$MDT_USER")" ]
}

@test "root refuses to build a rootfs under a HOME in a student's tree (sudo -E)" {
	# The link leads to a directory of root's (the old script built the
	# rootfs there: it could as well have been /etc).
	local roots=$MDT_ROOT/state/mdrootfs-bats-gw
	mkdir -p "$roots"
	as_user mkdir -p "$UHOME/.local/share/minidocker"
	as_user ln -s "$roots" "$UHOME/.local/share/minidocker/rootfs"
	run env HOME="$UHOME" "$MDT_BIN/$RF" busybox planted
	assert_status 125
	assert_output "$RF: rootfs directory $UROOTFS: $UHOME belongs to another user: as root, $RF writes only where no other user can change the path (sudo -H, or --system)"
	[ -z "$(ls -A "$roots")" ]
}

@test "root refuses to remove a rootfs under a HOME in a student's tree" {
	user_rf busybox mine
	assert_status 0
	run env HOME="$UHOME" "$MDT_BIN/$RF" rm mine
	assert_status 125
	assert_output "$RF: rootfs directory $UROOTFS: $UHOME belongs to another user: as root, $RF writes only where no other user can change the path (sudo -H, or --system)"
	[ -d "$UROOTFS/mine" ]
}

@test "debian --system leaves no set-id file, device node, writable entry or file capability, and says what it dropped" {
	debian_or_skip
	run "$MDT_BIN/$RF" --system debian sysdeb
	assert_status 0
	# su and mount are setuid in every Debian, and mmdebstrap makes /dev.
	assert_output_contains "$RF: system rootfs: cleared the set-id bits of "
	assert_output_contains "$RF: system rootfs: dropped "
	local r=$SYSDIR/sysdeb found
	found=$(find "$r" -perm /6000 -o -type b -o -type c -o ! -type l -perm /022 -o ! -user root)
	[ -z "$found" ] || { echo "left: $found"; return 1; }
}
