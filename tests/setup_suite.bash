# Runs once per `bats` invocation: the unprivileged test users and group.
# CI runs as root with no terminal; a student is never root, so every
# container test runs as one of these users through runuser.
#
#   mdtest1  in mdtestgrp, with a /etc/subuid and /etc/subgid range
#   mdtest2  in mdtestgrp, without a subordinate range
#   mdtest3  in no group the test configs permit

setup_suite() {
	[ "$(id -u)" = 0 ] || { echo "# the suite needs root (sudo make check)" >&3; return 1; }
	getent group mdtestgrp >/dev/null || groupadd --system mdtestgrp
	# Users that already exist (another run in progress) are left to it.
	MDT_CREATED_USERS=
	for u in mdtest1 mdtest2 mdtest3; do
		id "$u" >/dev/null 2>&1 && continue
		useradd --create-home --shell /bin/sh "$u"
		MDT_CREATED_USERS="$MDT_CREATED_USERS $u"
	done
	usermod -a -G mdtestgrp mdtest1
	usermod -a -G mdtestgrp mdtest2
	touch /etc/subuid /etc/subgid
	sed -i '/^mdtest[0-9]:/d' /etc/subuid /etc/subgid
	echo "mdtest1:3000000:65536" >> /etc/subuid
	echo "mdtest1:3000000:65536" >> /etc/subgid
}

# bats runs this with errexit: every step goes on past a failure, so that
# one user that cannot be removed does not leave the group and the
# subordinate ranges behind too.
teardown_suite() {
	[ -n "${MDT_CREATED_USERS:-}" ] || return 0
	for u in $MDT_CREATED_USERS; do
		pkill -KILL -u "$u" 2>/dev/null || true
		if id "$u" >/dev/null 2>&1; then userdel --remove "$u" 2>/dev/null || true; fi
	done
	if getent group mdtestgrp >/dev/null; then groupdel mdtestgrp || true; fi
	sed -i '/^mdtest[0-9]:/d' /etc/subuid /etc/subgid || true
	return 0
}
