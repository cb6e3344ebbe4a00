#!/bin/sh
# Usage: mdrootfs.sh du
# Summary: disk usage of every rootfs, and the total
#
# Largest first; files of your subordinate ids that you cannot read are
# counted as far as du can.
#
# Options:
#   -h, --help         print this help
set -eu

case $0 in */*) rf_dir=${0%/*} ;; *) rf_dir=. ;; esac
# shellcheck source=../mdlib.sh # mdlib.sh is one directory up, installed or in the tree
. "$rf_dir/../mdlib.sh"
# shellcheck source=common.sh
. "$rf_dir/common.sh"

# Disk use of every rootfs, largest first, and the total.
cmd_main() {
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

rf_main "$@"
