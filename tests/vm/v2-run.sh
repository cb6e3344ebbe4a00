#!/bin/sh
# Usage: v2-run.sh
# Summary: the guest side of v2-guest.sh: make install, log in through PAM, run the suites
#
# Runs as root from mdci.service, which v2-guest.sh put into a copy of a
# Debian 12 image built by `mdvm.sh build`, once systemd (PID 1, cgroup v2
# unified) has reached multi-user.target. The tree is in /work (built on the
# host); /work/mdci.conf says which suites to run (SUITES), for how long at
# most (BUDGET, seconds of guest time for all of them) and with what bats -f
# filter (FILTER). Then:
#   1. `make install` from /work, as an administrator installs minidocker;
#   2. the test users, and mdtest1 and mdtest2 logged in for good (linger:
#      their systemd user manager runs, as on a student's machine);
#   3. a check that `runuser -l` (PAM, pam_systemd) puts a command in a
#      logind session scope of the user's slice on cgroup2;
#   4. each suite with MDT_INSTALLED=1 MDT_LOGIN=1 MDT_QUICK=1, its TAP in
#      /mdci/results/NAME.tap, until BUDGET is spent (suites not started,
#      or cut short, are listed in /mdci/results/not-run).
# Every line also goes to the serial console between MDCI-BEGIN and
# MDCI-END; /mdci/results/status holds the overall status (0 all passed,
# 1 a test failed, 125 the setup failed). The guest then powers off.
set -u

R=/mdci/results
mkdir -p "$R"
exec >"$R/console.log" 2>&1

say() {
	echo "$*"
	echo "$*" >/dev/ttyS0
}

finish() {
	echo "$1" >"$R/status"
	say "# guest uptime $(cut -d' ' -f1 /proc/uptime) s"
	say "MDCI-END $1"
	sync
	systemctl --no-block poweroff
	exit 0
}

say ""
say MDCI-BEGIN
say "# $(uname -r), $(nproc) CPUs, init $(cat /proc/1/comm), /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
say "# booted to this unit in $(cut -d' ' -f1 /proc/uptime) s (guest uptime)"
SUITES='' BUDGET=900 FILTER=''
# shellcheck disable=SC1091 # written by v2-guest.sh
. /work/mdci.conf
start=$(cut -d. -f1 /proc/uptime)
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
	say "# /sys/fs/cgroup is not cgroup v2 alone: $(stat -fc %T /sys/fs/cgroup)"
	finish 125
fi

cd /work || finish 125
if ! make install >"$R/install.log" 2>&1; then
	say "# make install failed:"
	tail -n 20 "$R/install.log" | sed 's/^/# /' >/dev/ttyS0
	finish 125
fi
say "# make install: $(grep -c . "$R/install.log") lines, mdhelper $(stat -c '%U %a' /usr/local/libexec/minidocker/mdhelper)"

# The suites' users, made here (setup_suite leaves existing ones alone)
# so that they can be logged in for good before the first test.
groupadd --system mdtestgrp
for u in mdtest1 mdtest2 mdtest3; do useradd --create-home --shell /bin/sh "$u"; done
usermod -a -G mdtestgrp mdtest1
usermod -a -G mdtestgrp mdtest2
loginctl enable-linger mdtest1 mdtest2

# The login path must be the real one, or the run proves nothing.
# shellcheck disable=SC2016 # expanded by the user's login shell
cg=$(runuser -l mdtest1 -c 'cat /proc/self/cgroup; echo "rt=$XDG_RUNTIME_DIR"')
uid=$(id -u mdtest1)
case $cg in
"0::/user.slice/user-$uid.slice/session-"*".scope
rt=/run/user/$uid") say "# runuser -l mdtest1: $(echo "$cg" | tr '\n' ' ')" ;;
*)
	say "# runuser -l mdtest1 is not in a logind session scope on cgroup2: $cg"
	finish 125
	;;
esac
say "# user manager: $(systemctl is-active "user@$uid.service")"

status=0
: >"$R/not-run"
for s in $SUITES; do
	left=$((BUDGET - ($(cut -d. -f1 /proc/uptime) - start)))
	if [ "$left" -le 60 ]; then
		echo "$s" >>"$R/not-run"
		say "# $s: not run, the time budget (${BUDGET}s) is spent"
		continue
	fi
	say "# $s (at most ${left}s)"
	set --
	if [ -n "$FILTER" ]; then set -- -f "$FILTER"; fi
	t0=$(cut -d' ' -f1 /proc/uptime)
	# The TAP lines on the console as they come; the file is the record.
	MDT_INSTALLED=1 MDT_LOGIN=1 MDT_QUICK=1 TERM=dumb timeout -k 10 "$left" \
		bats --tap --timing "$@" "tests/$s.bats" 2>&1 | tee "$R/$s.tap" >/dev/ttyS0
	rc=$(grep -c '^not ok ' "$R/$s.tap")
	if [ "$rc" -gt 0 ] || ! grep -q '^1\.\.[0-9]' "$R/$s.tap"; then status=1; fi
	# Cut short by the budget: not a failure (the tests it ran count), but
	# named with where it stopped, as the suites not started are.
	plan=$(sed -n 's/^1\.\.//p' "$R/$s.tap")
	ran=$(grep -c '^\(not \)\?ok ' "$R/$s.tap")
	if [ -n "$plan" ] && [ "$ran" -lt "$plan" ]; then
		echo "$s (cut after $ran of $plan tests)" >>"$R/not-run"
		say "# $s: cut short by the time budget (${BUDGET}s) after $ran of $plan tests"
	fi
	say "# $s: $(awk -v t0="$t0" '{ printf "%d s", $1 - t0 }' /proc/uptime)"
done
finish "$status"
