#!/usr/bin/env bats
# What a student types: Docker's habits on mdrun.sh's command line, the man
# pages, bash completion. Through the installed scripts, as the student.

load helper

MDT_MAN=$MDT_ROOT/share/man
MDT_COMP=$MDT_ROOT/share/bash-completion/completions
[ -z "${MDT_INSTALLED:-}" ] || { MDT_MAN=/usr/local/share/man; MDT_COMP=/usr/local/share/bash-completion/completions; }
TOOLS=(mdrun.sh mdctl.sh mdrootfs.sh mdvm.sh mdbench.sh mdnet.sh)

setup() {
	default_conf
	mountinfo_before=$(cat /proc/self/mountinfo)
}

teardown() {
	stop_containers
	rm -rf /tmp/md-marker-* "/home/$MDT_USER/lab.env" "/home/$MDT_USER/.local/state/minidocker" \
		"${DEST:-/nonexistent}" "$MDT_TOP/build/usage"
}

md() {
	as_user mdrun.sh "$@"
}

# ---- Docker's habits ----

@test "-it, -ti, -i, -t, --interactive, --tty and --rm are accepted and change nothing" {
	for flags in "-it" "-ti" "-i -t" "--interactive --tty" "--rm" "-it --rm" "--rm=true"; do
		# shellcheck disable=SC2086 # each word of $flags is one option
		run as_user sh -c "echo hello | mdrun.sh $flags -- sh -c 'cat; hostname'"
		assert_status 0
		assert_output "$(printf 'hello\nadministrator')"
	done
	registry_empty
	mounts_unchanged
}

@test "-d with -i or -t is refused with what to do instead, and starts nothing" {
	local msg="mdrun.sh: -i and -t cannot be used with -d: a detached container's input is /dev/null; start a long-running command with -d, then enter it with mdctl.sh exec -it NAME"
	for flags in "-dit" "-itd" "-di" "-d -t" "-i --detach"; do
		# shellcheck disable=SC2086 # each word of $flags is one option
		run md $flags -n refused -- sh
		assert_status 2
		assert_output "$msg"
	done
	run as_user mdctl.sh ps
	[[ "$output" != *refused* ]]
}

@test "-d --rm runs in the background as -d does" {
	run md -d --rm -n bg -- /home/loop
	assert_status 0
	assert_output "bg"
	run as_user mdctl.sh ps
	assert_output_contains "bg "
	run as_user mdctl.sh stop -t 1 bg
	assert_status 0
}

@test "a bundle of other short options is an unknown option" {
	run md -itx -- true
	assert_status 2
	assert_output "$(printf "mdrun.sh: unknown option: -itx\nTry 'mdrun.sh --help' for more information.")"
}

@test "every common Docker option minidocker does not have says why, exit 2, never unknown option" {
	local bridge="a container's ports are open at its own address on the bridge (--ip, mdctl.sh ps)"
	local -A why=(
		[-p]="ports are not published on the host: $bridge"
		[--publish]="ports are not published on the host: $bridge"
		[-P]="ports are not published on the host: $bridge"
		[--publish-all]="ports are not published on the host: $bridge"
		[--expose]="ports are not published on the host: $bridge"
		[--link]="containers reach each other at their addresses on the bridge (--ip, mdctl.sh ps)"
		[--privileged]="a container never has more privilege than you (see mdctl.sh check)"
		[--cap-add]="a container has Docker's default capabilities, always"
		[--cap-drop]="a container has Docker's default capabilities, always"
		[--security-opt]="the seccomp filter and the confinement are the same for every container"
		[--device]="no device of the host is given to a container"
		[--gpus]="no GPU is given to a container"
		[--pid]="a container always has its own process tree: mdctl.sh exec runs a command in it"
		[--ipc]="a container always has its own IPC namespace"
		[--uts]="a container always has its own hostname: set it with -H"
		[--restart]="nothing restarts a container: start it again (mdrun.sh -d)"
		[--add-host]="put the line in /etc/hosts of a rootfs of yours (mdrootfs.sh cp FILE NAME:/etc/hosts)"
		[--dns]="the rootfs's /etc/resolv.conf is used: put yours in a rootfs of yours (mdrootfs.sh cp FILE NAME:/etc/resolv.conf)"
		[-a]="without -d, a container is attached to your input, output and errors"
		[--attach]="without -d, a container is attached to your input, output and errors"
		[--entrypoint]="give the command after --: mdrun.sh [OPTION]... -- COMMAND [ARG]..."
	)
	local opt
	for opt in "${!why[@]}"; do
		# With its value, without one (last on the line), and as --OPT=VALUE.
		run md "$opt" host -- true
		assert_status 2
		assert_output "mdrun.sh: $opt is not supported by minidocker: ${why[$opt]}"
		run md "$opt"
		assert_output "mdrun.sh: $opt is not supported by minidocker: ${why[$opt]}"
		case $opt in --*)
			run md "$opt=x" -- true
			assert_output "mdrun.sh: $opt is not supported by minidocker: ${why[$opt]}" ;;
		esac
	done
	# Every one of them is named in --help.
	run md --help
	for opt in "${!why[@]}"; do
		assert_output_contains "$opt"
	done
}

@test "--net host, --network host and --network=host say why; --network is --net" {
	local msg="is not supported by minidocker: a container always has its own network: use --net bridge or --net none"
	run md --net host -- true
	assert_status 2
	assert_output "mdrun.sh: --net host $msg"
	run md --network host -- true
	assert_output "mdrun.sh: --network host $msg"
	run md --network=host -- true
	assert_status 2
	assert_output "mdrun.sh: --network host $msg"
	run md --network none -- ls /sys/class/net
	assert_status 0
	assert_output "lo"
	run md --network=none -- ls /sys/class/net
	assert_output "lo"
	run md --network container:web -- true
	assert_status 2
	assert_output "$(printf "mdrun.sh: --network must be bridge or none: container:web\nTry 'mdrun.sh --help' for more information.")"
}

@test "--name=VALUE and the other --OPTION=VALUE forms still work" {
	run md --hostname=lab2 --memory=20M -- hostname
	assert_status 0
	assert_output "lab2"
	run md -d --name=eqname -- /home/loop
	assert_output "eqname"
	as_user mdctl.sh stop -t 1 eqname
}

# ---- --env-file ----

@test "--env-file sets Docker's KEY=VALUE lines, skips comments and blanks, takes a bare KEY from the caller" {
	# Written by the student, with a CRLF line, leading blanks, a value
	# with blanks, = and #, an empty value, and two bare KEYs.
	as_user sh -c "printf '%s\n' '# the lab' '' '  A=1' 'B= two  words # not a comment' 'C=x=y' 'EMPTY=' 'FROMME' 'NOTSET' 'lower_case=ok' > ~/lab.env; printf 'CR=dos\r\n' >> ~/lab.env"
	run as_user env FROMME='caller value' sh -c 'cd && mdrun.sh --env-file lab.env -e A=2 -- env'
	assert_status 0
	local want
	for want in "B= two  words # not a comment" "C=x=y" "EMPTY=" "FROMME=caller value" \
		"lower_case=ok" "CR=dos" "A=2"; do
		grep -qxF -- "$want" <<<"$output" || { echo "no line '$want' in: $output"; return 1; }
	done
	# What comes later on the command line wins, as with two -e.
	refute grep -qx 'A=1' <<<"$output"
	as_user sh -c 'cd && mdrun.sh -e A=0 --env-file lab.env -- env' | grep -qx 'A=1'
	refute grep -q '^NOTSET' <<<"$output"
	refute grep -q 'the lab' <<<"$output"
	# The =FILE form too, and a last line without a newline.
	as_user sh -c "printf 'LAST=no-newline' > ~/lab.env"
	run as_user sh -c 'cd && mdrun.sh --env-file=lab.env -- sh -c "echo \$LAST"'
	assert_output "no-newline"
}

@test "--env-file refuses a bad line with file:line, and a file the caller cannot read" {
	as_user sh -c "printf 'A=1\n\n1BAD=x\n' > ~/lab.env"
	run as_user sh -c 'cd && mdrun.sh --env-file lab.env -- true'
	assert_status 2
	assert_output "mdrun.sh: lab.env:3: not KEY=VALUE or KEY (KEY: letters, digits and _, not first a digit): 1BAD=x"
	as_user sh -c "printf 'A B=1\n' > ~/lab.env"
	run as_user sh -c 'cd && mdrun.sh --env-file lab.env -- true'
	assert_output "mdrun.sh: lab.env:1: not KEY=VALUE or KEY (KEY: letters, digits and _, not first a digit): A B=1"
	as_user sh -c "printf '=1\n' > ~/lab.env"
	run as_user sh -c 'cd && mdrun.sh --env-file lab.env -- true'
	assert_output "mdrun.sh: lab.env:1: not KEY=VALUE or KEY (KEY: letters, digits and _, not first a digit): =1"
	# Read as the caller: root's secret stays root's.
	echo 'SECRET=root-only' > /tmp/md-marker-secret.env
	chmod 600 /tmp/md-marker-secret.env
	run md --env-file /tmp/md-marker-secret.env -- env
	assert_status 2
	assert_output "$(printf "mdrun.sh: --env-file /tmp/md-marker-secret.env: no such readable file\nTry 'mdrun.sh --help' for more information.")"
	run md --env-file /nonexistent/lab.env -- true
	assert_status 2
	run md --env-file /tmp -- true
	assert_status 2
}

# ---- man pages ----

# The options named in a text on stdin: every -x and --word, as the man
# page's roff source writes them (\-, fonts, \&) or as --help prints them.
options_in() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e '/^\.\\"/d' |
		grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[^-]*//' | sort -u
}

# The installed man page of TOOL.
man_page() {
	local f
	for f in "$MDT_MAN"/man[158]/"$1".[158]; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
	echo "no man page for $1 under $MDT_MAN" >&2
	return 1
}

@test "each tool's man page names exactly the options its --help names" {
	local tool page help c
	for tool in "${TOOLS[@]}"; do
		page=$(man_page "$tool")
		help=$(as_user "$tool" --help)
		[ -n "$help" ]
		# mdctl.sh's, mdrootfs.sh's and mdvm.sh's commands each have their own --help.
		if [ "$tool" = mdctl.sh ]; then
			for c in ps exec stats stop kill logs gc check; do
				help+=$'\n'$(as_user mdctl.sh "$c" --help)
			done
		fi
		if [ "$tool" = mdrootfs.sh ]; then
			for c in busybox cp debian du import import-image list path rm; do
				help+=$'\n'$(as_user mdrootfs.sh "$c" --help)
			done
		fi
		if [ "$tool" = mdvm.sh ]; then
			for c in tiny run boot boottime create install build; do
				help+=$'\n'$(as_user mdvm.sh "$c" --help)
			done
		fi
		diff -u --label "$tool --help" --label "$page" \
			<(options_in <<<"$help") <(options_in <"$page") ||
			{ echo "$tool: the options of --help (-) and of its man page (+) differ"; return 1; }
	done
}

@test "the comparison of man page and --help catches an option missing from either" {
	local page
	page=$(man_page mdrun.sh)
	# One option less in the page, and one the tool does not have.
	run diff <(as_user mdrun.sh --help | options_in) <(sed '/^\.BI \\-\\-pids\\-limit/d' "$page" | options_in)
	assert_status 1
	assert_output_contains "< --pids-limit"
	run diff <(as_user mdrun.sh --help | options_in) <(printf '.B \\-\\-frobnicate\n' | cat "$page" - | options_in)
	assert_output_contains "> --frobnicate"
}

@test "every man page renders without a warning, and man finds it by name and section" {
	require man groff
	local f n
	n=0
	for f in "$MDT_MAN"/man[158]/*; do
		n=$((n + 1))
		run groff -ww -z -man "$f"
		[ -z "$output" ] || { echo "$f: $output"; return 1; }
		run env MANWIDTH=80 man --warnings -l "$f"
		assert_status 0
		[[ "$output" != *warning* ]] || { echo "$f: $output"; return 1; }
	done
	[ "$n" -eq 7 ]
	run as_user env MANPATH="$MDT_MAN" man -w 1 mdrun.sh
	assert_output "$MDT_MAN/man1/mdrun.sh.1"
	run as_user env MANPATH="$MDT_MAN" man -w 8 mdnet.sh
	assert_output "$MDT_MAN/man8/mdnet.sh.8"
	run as_user env MANPATH="$MDT_MAN" man -w 5 minidocker.conf
	assert_output "$MDT_MAN/man5/minidocker.conf.5"
	run as_user env MANPATH="$MDT_MAN" MANWIDTH=80 man 1 mdrun.sh
	assert_status 0
	assert_output_contains "mdrun.sh - run a command in a minidocker container"
}

@test "minidocker.conf(5) describes every rule option and keyword the helper's parser knows" {
	local page keys k
	page=$(man_page minidocker.conf)
	keys=$(sed -n '/static const char \*const keys\[\]/,/};/p' "$MDT_TOP/helper/config.c" | grep -o '"[a-z-]*"' | tr -d '"')
	[ -n "$keys" ]
	for k in $keys; do
		grep -q "^\.B[IR]* $k=" "$page" || { echo "minidocker.conf(5) does not describe $k="; return 1; }
	done
	for k in permit deny bridge; do
		grep -q "$k" "$page"
	done
}

# ---- bash completion ----

# Candidates bash completion offers as USER for LINE (a trailing space
# starts a new word), one a line, sorted.
complete_as() {
	as "$1" bash -c '
		. "$1"
		line=$2
		read -ra COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		fn=$(complete -p "${COMP_WORDS[0]}") || exit 1
		fn=${fn#*-F } fn=${fn%% *}
		COMPREPLY=()
		"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort -u' complete "$MDT_COMP/${2%% *}" "$2"
}

complete_as_user() {
	complete_as "$MDT_USER" "$1"
}

@test "bash completion is installed for the six commands and offers their commands and options" {
	local tool
	for tool in "${TOOLS[@]}"; do
		[ -L "$MDT_COMP/$tool" ] && [ -f "$MDT_COMP/$tool" ]
	done
	run complete_as_user "mdctl.sh "
	assert_output "$(printf '%s\n' --help check exec gc kill logs ps stats stop)"
	run complete_as_user "mdrun.sh --net"
	assert_output "$(printf '%s\n' --net --network)"
	run complete_as_user "mdrun.sh --network "
	assert_output "$(printf '%s\n' bridge none)"
	run complete_as_user "mdrun.sh --env-"
	assert_output "--env-file"
	# Not the Docker options it refuses.
	run complete_as_user "mdrun.sh --pri"
	assert_output ""
	run complete_as_user "mdrootfs.sh im"
	assert_output "$(printf '%s\n' import import-image)"
	run complete_as_user "mdvm.sh run tiny --acc"
	assert_output "--accel"
	run complete_as_user "mdbench.sh --file-t"
	assert_output "$(printf '%s\n' --file-test-mode --file-total-size)"
	run complete_as_user "mdnet.sh st"
	assert_output "status"
	run complete_as_user "mdctl.sh kill -s TE"
	assert_output "TERM"
	# After --, the command: the host's names.
	run complete_as_user "mdrun.sh -it -- mdct"
	assert_output "mdctl.sh"
}

@test "bash completion offers your running containers and the rootfs you may run" {
	run md -d -n tabme -- /home/loop
	assert_output "tabme"
	run complete_as_user "mdctl.sh stop tab"
	assert_output "tabme"
	run complete_as_user "mdctl.sh exec -it tab"
	assert_output "tabme"
	run complete_as_user "mdrun.sh -r def"
	assert_output "default"
	run complete_as_user "mdrootfs.sh path def"
	assert_output "default"
	# Another user's containers are not theirs to complete.
	run complete_as mdtest2 "mdctl.sh stop tab"
	assert_output ""
	as_user mdctl.sh stop -t 1 tabme
}

# ---- make install ----

@test "make install puts the man pages and completion under PREFIX and DESTDIR; uninstall removes them" {
	cd "$MDT_TOP"
	DEST=$(mktemp -d /var/tmp/mdusage.XXXXXX)
	run make -s install DESTDIR="$DEST" PREFIX=/opt/mdusage GROUP=mdusage BUILDDIR=build/usage
	assert_status 0
	local f
	for f in man1/mdrun.sh.1 man1/mdctl.sh.1 man1/mdrootfs.sh.1 man1/mdvm.sh.1 man1/mdbench.sh.1 \
		man8/mdnet.sh.8 man5/minidocker.conf.5; do
		cmp "$DEST/opt/mdusage/share/man/$f" "man/${f#*/}"
	done
	cmp "$DEST/opt/mdusage/share/bash-completion/completions/minidocker" etc/minidocker.bash-completion
	for f in "${TOOLS[@]}"; do
		[ "$(readlink "$DEST/opt/mdusage/share/bash-completion/completions/$f")" = minidocker ]
	done
	[ ! -e /opt/mdusage ]
	run make -s uninstall DESTDIR="$DEST" PREFIX=/opt/mdusage GROUP=mdusage BUILDDIR=build/usage
	assert_status 0
	[ -z "$(find "$DEST/opt/mdusage/share" ! -type d)" ]
}
