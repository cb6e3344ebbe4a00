#!/usr/bin/env bats
# make install and make uninstall as an administrator runs them, into a
# prefix of their own with a group, a bridge and a cgroup name of their own:
# nothing of the test suite's, or of a minidocker installed here, is touched.

load helper

UN=/var/lib/minidocker-uninst
UNFLAGS=(PREFIX=$UN SYSCONFDIR=$UN/etc RUNDIR=$UN/run STATEDIR=$UN/state
	CGROUP_NAME=minidocker-uninst GROUP=mduninst SYSTEMDDIR=$UN/systemd BUILDDIR=build/uninst)
UNCONF=$UN/etc/minidocker/minidocker.conf

setup() {
	require nft
	[ ! -e /sys/class/net/mdun0 ] || skip "a bridge mdun0 is already there"
	! getent group mduninst >/dev/null || skip "a group mduninst is already there"
	cd "$MDT_TOP"
}

teardown() {
	[ ! -x "$UN/bin/mdnet.sh" ] || [ ! -f "$UNCONF" ] ||
		"$UN/bin/mdnet.sh" down --config "$UNCONF" >/dev/null 2>&1 || true
	if getent group mduninst >/dev/null; then groupdel mduninst; fi
	rm -rf "$UN" "$MDT_TOP/build/uninst" "${DEST:-/nonexistent}"
}

@test "make uninstall takes the bridge, its nft tables and NAT down before removing mdnet.sh, and the group" {
	run make -s install "${UNFLAGS[@]}"
	assert_status 0
	getent group mduninst >/dev/null
	echo "bridge mdun0 10.97.0.254/24" >"$UNCONF"
	"$UN/bin/mdnet.sh" up --nat --config "$UNCONF" >/dev/null
	[ -d /sys/class/net/mdun0/bridge ]
	nft list table bridge minidocker-spoof-mdun0 >/dev/null
	nft list table ip minidocker-nat-mdun0 >/dev/null
	run make -s uninstall "${UNFLAGS[@]}"
	assert_status 0
	assert_output_contains "kept $UNCONF and $UN/state: remove them by hand if you want them gone"
	[ ! -e /sys/class/net/mdun0 ]
	refute nft list table bridge minidocker-spoof-mdun0 2>/dev/null
	refute nft list table ip minidocker-nat-mdun0 2>/dev/null
	refute getent group mduninst
	[ -z "$(ls -A "$UN/bin")" ]
	[ ! -e "$UN/libexec/minidocker" ]
}

@test "make install and uninstall with DESTDIR stage the unit inside it and make no group" {
	DEST=$(mktemp -d /var/tmp/mddest.XXXXXX)
	run make -s install DESTDIR="$DEST" "${UNFLAGS[@]}"
	assert_status 0
	grep -qx "ExecStart=$UN/bin/mdnet.sh up" "$DEST$UN/systemd/mdnet.service"
	refute getent group mduninst
	run make -s uninstall DESTDIR="$DEST" "${UNFLAGS[@]}"
	assert_status 0
	[ ! -e "$DEST$UN/systemd/mdnet.service" ]
	[ ! -e "$DEST$UN/libexec/minidocker/mdhelper" ]
}
