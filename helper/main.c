/* mdhelper: the only privileged part of minidocker.
 *
 * main() reads as the life of a request: make the process safe, learn who
 * is calling, read the administrator's whitelist, find the caller's rule,
 * check the request against it, then do exactly that. Every refusal is one
 * line on stderr and exit 125. See SECURITY.md for each MUST. */
#define _GNU_SOURCE
#include "audit.h"
#include "config.h"
#include "control.h"
#include "ids.h"
#include "join.h"
#include "core/limits.h"
#include "net.h"
#include "policy.h"
#include "core/request.h"
#include "rootfs.h"
#include "run.h"
#include "core/privilege.h"
#include "core/sanitize.h"
#include "state/gc.h"
#include "core/sanitize.h"
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
	"  --cpu-quota CPUS      CPU time, in CPUs (0.5: half of one)\n"
	"  --device-read-bps DEV:RATE, --device-write-bps DEV:RATE\n"
	"                        I/O limit on a disk, bytes/s (e.g. /dev/vda:10M)\n"
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

/* Each verb gets the whitelist, the caller's rule (a permit: policy_rule
 * refused everyone else), the caller, and its own arguments. */
struct verb_ctx {
	const struct config *cfg;
	const struct rule *rule;
	struct caller *caller;
	const struct saved_state *saved;
	int argc;
	char **argv;
};

static int verb_check(struct verb_ctx *v)
{
	caller_subids(v->caller);
	policy_print(v->cfg, v->rule, v->caller);
	return 0;
}

static int verb_gc(struct verb_ctx *v)
{
	(void)v;
	ensure_rundir();
	state_gc(1);
	return 0;
}

static int verb_exec(struct verb_ctx *v)
{
	/* No caller_subids: the container's own user namespace says whether
	 * it allows setgroups (/proc/PID/setgroups). */
	return join_container(v->caller, v->saved, v->argc, v->argv);
}

static int verb_ps(struct verb_ctx *v)
{
	return control_ps(v->caller, v->argc, v->argv);
}

static int verb_kill(struct verb_ctx *v)
{
	return control_kill(v->caller, v->argc, v->argv);
}

static int verb_stats(struct verb_ctx *v)
{
	return control_stats(v->caller, v->argc, v->argv);
}

static int verb_run(struct verb_ctx *v)
{
	struct request req;
	struct run run = { .req = &req, .caller = v->caller, .saved = v->saved,
			   .cfg = v->cfg, .rule = v->rule };

	request_parse(&req, v->argc, v->argv);
	policy_check(v->cfg, v->rule, v->caller, &req);
	limits_compute(&run.limits, v->cfg, v->rule, &req);
	limits_devices(&run.limits, &req, v->caller);
	caller_subids(v->caller);
	if (req.user)
		check_user_mapped(v->caller, req.user, req.uid, req.gid);
	ensure_rundir();
	rootfs_open(&run.rootfs, req.rootfs, v->caller);
	if (req.name)
		xsnprintf(run.id, sizeof run.id, "%s", req.name);
	/* else net_reserve gives it the first free md-<user>-<n> */
	run.use_pty = !req.log_dir && isatty(0) && isatty(1);
	return run_container(&run);
}

static const struct {
	const char *name;
	int (*fn)(struct verb_ctx *);
} verbs[] = {
	{ "run", verb_run },   { "exec", verb_exec }, { "ps", verb_ps },       { "kill", verb_kill },
	{ "stats", verb_stats }, { "check", verb_check }, { "gc", verb_gc },
};

int main(int argc, char **argv, char **envp)
{
	struct saved_state saved;
	struct verb_ctx v = { .saved = &saved, .argc = argc - 2, .argv = argv + 2 };
	struct config cfg;
	struct caller caller;
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
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(verb, verbs[i].name))
			continue;
		caller_identify(&caller);
		/* From here on the caller can neither signal, renice nor
		 * limit us (SECURITY.md 38). */
		privilege_all_root();
		audit_open();
		config_load(&cfg, MD_CONFIG);
		v.cfg = &cfg;
		v.caller = &caller;
		v.rule = policy_rule(&cfg, &caller);
		seccomp_nested = policy_nested(v.rule); /* run and exec (SECURITY.md 45) */
		status = verbs[i].fn(&v);
		config_free(&cfg);
		return status;
	}
	die("unknown command: %s (mdhelper --help)", *verb ? verb : "(none)");
}
