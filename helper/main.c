/* mdhelper: the only privileged part of minidocker.
 *
 * main() reads as the life of a request: make the process safe, learn who
 * is calling, read the administrator's whitelist, find the caller's rule,
 * check the request against it, then do exactly that. Every refusal is one
 * line on stderr and exit 125. See SECURITY.md for each MUST. */
#define _GNU_SOURCE
#include "config.h"
#include "control.h"
#include "ids.h"
#include "join.h"
#include "limits.h"
#include "net.h"
#include "policy.h"
#include "request.h"
#include "rootfs.h"
#include "run.h"
#include "sanitize.h"
#include "seccomp_filter.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
	"Usage: mdhelper run [OPTION]... -- COMMAND [ARG]...\n"
	"       mdhelper exec [--env KEY=VALUE]... [--workdir DIR] NAME [-- COMMAND [ARG]...]\n"
	"       mdhelper ps [--json]\n"
	"       mdhelper kill [--signal SIG] [--timeout SECONDS] NAME\n"
	"       mdhelper stats [--json] NAME...\n"
	"       mdhelper check\n"
	"       mdhelper gc\n"
	"       mdhelper --help | --version\n"
	"\n"
	"The setuid-root helper of minidocker. People use mdrun.sh; mdhelper\n"
	"takes exact values and checks each one against " MD_CONFIG ".\n"
	"\n"
	"run options:\n"
	"  --rootfs DIR          the container's root directory (absolute, required)\n"
	"  --hostname NAME       default administrator\n"
	"  --name NAME           the container's name\n"
	"  --workdir DIR         directory to start in, inside the container (default /)\n"
	"  --env KEY=VALUE       set an environment variable (repeatable)\n"
	"  --userns private|host private (default): a user namespace maps root to you\n"
	"  --net none|bridge     loopback only, or on the administrator's bridge\n"
	"  --ip ADDR             this address on the bridge (default: the first free)\n"
	"  --memory BYTES, --memory-swap BYTES, --cpus N, --cpuset-cpus LIST,\n"
	"  --pids-limit N        resource limits (cgroups)\n"
	"  --detach LOGDIR       run in the background: print the container's name,\n"
	"                        write its output to LOGDIR/NAME.log (yours)\n"
	"\n"
	"exec: run a command (default /bin/sh) in one of your running containers:\n"
	"      its namespaces, its cgroup, its root, as its root user.\n"
	"ps: your running containers (root: everybody's), as a table or JSON lines.\n"
	"kill: send SIG (default KILL) to a container's PID 1; with --timeout, wait\n"
	"      that long for it to end, then KILL it, and wait for the cleanup.\n"
	"stats: memory use and limit, peak, CPU % over half a second, pids, OOM kills.\n"
	"check: print what the configuration allows you.\n"
	"gc: remove what killed helpers left behind (cgroups, veths, leases).\n"
	"\n"
	"Exit status: the command's own; 125 refused or failed; 126 command not\n"
	"executable; 127 command not found; 128+N killed by signal N.\n";

/* The registry directory: root-owned, 0700, at a path fixed at build time.
 * The container's rootfs is bind-mounted over it in the child's private
 * mount namespace, so it also serves as the pivot_root staging point. */
static void ensure_rundir(void)
{
	struct stat st;
	AUTOCLOSE int fd = -1;

	if (mkdir(MD_RUNDIR, 0700) < 0 && errno != EEXIST)
		die_errno("mkdir(\"%s\")", MD_RUNDIR);
	fd = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die_errno("open(\"%s\")", MD_RUNDIR);
	if (st.st_uid != 0 || (st.st_mode & 077))
		die("%s must be owned by root with mode 0700", MD_RUNDIR);
	if (st.st_gid != 0 && fchownat(fd, "", 0, 0, AT_EMPTY_PATH) < 0)
		die_errno("chown(\"%s\")", MD_RUNDIR);
}

static int verb_check(const struct config *cfg, const struct rule *r, struct caller *c)
{
	caller_subids(c);
	policy_print(cfg, r, c);
	return 0;
}

static int verb_exec(struct caller *c, const struct saved_state *saved, int argc, char **argv)
{
	/* No caller_subids: the container's own user namespace says whether
	 * it allows setgroups (/proc/PID/setgroups). */
	return join_container(c, saved, argc, argv);
}

static int verb_run(const struct config *cfg, const struct rule *r,
		    struct caller *c, const struct saved_state *saved,
		    int argc, char **argv)
{
	struct request req;
	struct run run = { .req = &req, .caller = c, .saved = saved, .cfg = cfg, .rule = r };

	request_parse(&req, argc, argv);
	policy_check(cfg, r, c, &req);
	limits_compute(&run.limits, cfg, r, &req);
	caller_subids(c);
	ensure_rundir();
	rootfs_open(&run.rootfs, req.rootfs, c);
	if (req.name)
		xsnprintf(run.id, sizeof run.id, "%s", req.name);
	/* else net_reserve gives it the first free md-<user>-<n> */
	run.use_pty = !req.log_dir && isatty(0) && isatty(1);
	return run_container(&run);
}

int main(int argc, char **argv, char **envp)
{
	struct saved_state saved;
	struct config cfg;
	struct caller caller;
	const struct rule *rule;
	const char *verb;
	int status;

	sanitize_process(argc, argv, envp, &saved);
	verb = argc > 1 ? argv[1] : "";
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		fputs(help, stdout);
		return 0;
	}
	if (!strcmp(verb, "--version")) {
		puts("mdhelper " MD_VERSION);
		return 0;
	}
	if (strcmp(verb, "run") && strcmp(verb, "check") && strcmp(verb, "gc") &&
	    strcmp(verb, "exec") && strcmp(verb, "ps") && strcmp(verb, "kill") &&
	    strcmp(verb, "stats"))
		die("unknown command: %s (mdhelper --help)", *verb ? verb : "(none)");
	caller_identify(&caller);
	config_load(&cfg, MD_CONFIG);
	rule = policy_rule(&cfg, &caller);
	seccomp_nested = policy_nested(rule); /* run and exec (SECURITY.md 45) */
	if (!strcmp(verb, "check"))
		status = verb_check(&cfg, rule, &caller);
	else if (!strcmp(verb, "gc"))
		ensure_rundir(), net_gc(), status = 0;
	else if (!strcmp(verb, "exec"))
		status = verb_exec(&caller, &saved, argc - 2, argv + 2);
	else if (!strcmp(verb, "ps"))
		status = control_ps(&caller, argc - 2, argv + 2);
	else if (!strcmp(verb, "kill"))
		status = control_kill(&caller, argc - 2, argv + 2);
	else if (!strcmp(verb, "stats"))
		status = control_stats(&caller, argc - 2, argv + 2);
	else
		status = verb_run(&cfg, rule, &caller, &saved, argc - 2, argv + 2);
	config_free(&cfg);
	return status;
}
