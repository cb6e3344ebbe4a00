#!/bin/sh
# Usage: mdbench.sh compare DIR1 DIR2...
# Summary: the summary tables of several benchmark directories (several
#          machines) side by side, in Markdown on stdout

set -eu
# shellcheck disable=SC1007 # CDPATH= is an empty assignment for cd alone
MB_LIB=${MB_LIB:-$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)}
# shellcheck source=scripts/mdbench/common.sh disable=SC1091 # linted on its own
. "$MB_LIB/common.sh"

mb_compare() {
	[ $# -ge 1 ] || md_usage_error "compare: name at least one output directory"
	for mb_d in "$@"; do
		mb_is_outdir "$mb_d" ||
			mb_die "compare: $mb_d has no results.csv and env.txt (not an mdbench.sh output directory)"
	done
	printf '# sysbench across machines\n\n| directory | host | CPU | cores | memory | kernel | date |\n|---|---|---|---|---|---|---|\n'
	for mb_d in "$@"; do
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$mb_d" "$(mb_get "$mb_d" host)" "$(mb_get "$mb_d" cpu.model)" \
			"$(mb_get "$mb_d" cpu.cores)" "$(mb_get "$mb_d" memory)" "$(mb_get "$mb_d" kernel)" "$(mb_get "$mb_d" date)"
	done
	for mb_t in cpu fileio; do
		if [ "$mb_t" = cpu ]; then mb_unit="events/s"; else mb_unit="MiB/s read + written"; fi
		printf '\n## %s: mean ± sd (%s), overhead vs native of the same machine\n\n| environment |' "$mb_t" "$mb_unit"
		for mb_d in "$@"; do printf ' %s (%s) |' "$mb_d" "$(mb_get "$mb_d" host)"; done
		printf '\n|---|'
		for mb_d in "$@"; do printf -- '---|'; done
		printf '\n'
		for mb_e in $MB_ENVS_ALL; do
			mb_row="| $mb_e |" mb_any=0
			for mb_d in "$@"; do
				mb_cell=$(mb_stats "$mb_d" "$mb_t" | awk -v e="$mb_e" -f "$MB_LIB/compare-cell.awk")
				[ "$mb_cell" = - ] || mb_any=1
				mb_row="$mb_row $mb_cell |"
			done
			[ "$mb_any" = 0 ] || printf '%s\n' "$mb_row"
		done
	done
}

case ${1-} in -h | --help) md_help "$0"; exit 0 ;; esac
mb_compare "$@"
