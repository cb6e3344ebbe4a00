#!/bin/sh
# Usage: mdrootfs.sh [--system] debian [--suite S] [--include PKG,...] [--variant V] [--mirror URL] [--force] [--dry-run] NAME
# Summary: a Debian/Ubuntu rootfs with mmdebstrap from the machine's apt mirror
#
# Builds rootfs NAME with mmdebstrap, by default from this machine's apt
# mirror and suite. With subordinate ids (/etc/subuid) in mmdebstrap's
# unshare mode, the files keeping their owners in your range (apt-get
# works inside); without, in fakechroot mode, every file yours; as root,
# in root mode. Writes /etc/resolv.conf with the host's nameservers that a
# container can reach: with the bridge's NAT (sudo mdnet.sh up --nat),
# `apt-get update` then works inside. A system rootfs is read-only in
# containers: to add packages, build it again with --force --include.
#
# Options:
#   --system           work on the system rootfs directory shared by every
#                      user (/var/lib/minidocker/rootfs): root only
#   --suite S          the suite (default: this machine's)
#   --include PKG,...  more packages
#   --variant V        mmdebstrap's variant (default: apt)
#   --mirror URL       an http, https or file URL (default: this machine's)
#   --force            replace an existing rootfs of the same name
#   --dry-run          print how it would be built, build nothing
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

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

cmd_main() {
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
		phase "debian: mmdebstrap (root mode) $suite from $mirror"
		run_job mmdebstrap --mode=root "$@" "$suite" "$rf_tmp" "$mirror" ||
			md_die "debian: mmdebstrap failed building $suite from $mirror; nothing was kept"
		if [ "$opt_system" = 1 ]; then
			phase "debian: dropping what a system rootfs must not hold"
			run_job unpack sweep - || md_die "debian: cannot make $rf_tmp safe to share; nothing was kept"
		fi
	else
		pick_userns
		if [ -n "$rf_userns" ]; then debian_unshare "$@"; else debian_fakechroot "$@"; fi
	fi
	phase "debian: writing /etc/resolv.conf"
	write_resolv_conf "$rf_tmp" debian || md_die "debian: cannot write /etc/resolv.conf in $rf_tmp"
	finish_build ''
	phase "debian: rootfs '$rf_name' is ready in $rf_target"
	# mdhelper mounts a root-owned rootfs read-only (and its files belong to
	# nobody in a student's user namespace): apt-get cannot change it there.
	if [ "$rf_uid" -eq 0 ]; then
		phase "debian: containers get '$rf_name' read-only: to add packages, build it again with --force --include PKG,..."
	elif [ -z "$rf_userns" ]; then
		md_warn "debian: you have no subordinate ids (/etc/subuid), so root is the only user inside '$rf_name': apt-get there installs only packages whose files all belong to root, others fail with \"Invalid argument\"; ask your administrator for a range (see INSTALL) and build it again"
	fi
}

# A build takes minutes: each phase is a line on stderr, with a terminal
# or without one (a makefile, CI, a log), so a wait has a reason.
phase() {
	md_warn "$*"
}

# --dry-run: say how the rootfs would be built, build nothing.
debian_dry_run() {
	pick_base existing
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
	phase "debian: mmdebstrap (unshare mode, your subordinate ids) $suite from $mirror"
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
	phase "debian: mmdebstrap (fakechroot mode: you have no subordinate ids) $suite from $mirror"
	run_job mmdebstrap --mode=fakechroot "$@" "$suite" "$rf_tmp" "$mirror" ||
		md_die "debian: mmdebstrap failed building $suite from $mirror; nothing was kept"
	phase "debian: making fakechroot's absolute symlinks absolute inside the rootfs"
	fix_fakechroot_links "$rf_tmp" || md_die "debian: cannot rewrite the symlinks fakechroot left in $rf_tmp"
	phase "debian: telling apt to download as root (no _apt user inside)"
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

rf_main "$@"
