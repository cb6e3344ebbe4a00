#!/bin/sh
# summary.sh UNIT_LOG TAP...: one closing line for `make check`, counting the
# C unit checks and every bats test (skips counted apart, their reasons
# listed so that nothing is skipped silently, then every failure by name).
set -eu

unit_log=$1
shift
passed=0 failed=0 skipped=0
if [ -f "$unit_log" ]; then
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$unit_log" | tail -n 1)
	passed=${line%% passed*}
	failed=${line#*passed, }; failed=${failed%% failed*}
fi
for tap in "$@"; do
	[ -f "$tap" ] || continue
	s=$(grep -c '^ok .* # skip' "$tap" || :)
	p=$(grep -c '^ok ' "$tap" || :)
	f=$(grep -c '^not ok ' "$tap" || :)
	passed=$((passed + p - s))
	failed=$((failed + f))
	skipped=$((skipped + s))
	grep '^ok .* # skip' "$tap" | sed 's/^ok [0-9]* /skipped: /' || :
done
# The failures last, just above the count: a log read from its tail names them.
for tap in "$@"; do
	[ -f "$tap" ] || continue
	suite=${tap%/report.tap}
	grep '^not ok ' "$tap" | sed "s|^not ok [0-9]* |failed (${suite##*/}): |" || :
done
echo "check: $passed passed, $failed failed, $skipped skipped"
