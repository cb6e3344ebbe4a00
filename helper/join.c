/* join.c: run a command inside a running container (mdctl.sh exec).
 *
 * Helper (host root, never ptraceable)        Child
 *   find NAME in the registry, pin PID 1
 *   by pidfd, open its namespaces, check
 *   the pidfd still names it
 *   setns(pid) for children, clone with
 *   a pidfd (spawn/spawn.c) --------------->  setns net, uts, ipc, cgroup,
 *                                             mnt, then user; become
 *                                             container root, setsid, pty,
 *                                             workdir, no_new_privs
 *   put it in the container's cgroup  <- READY [pty master]
 *                                     GO ->   exec (socket closes)
 *   relay, forward signals, wait, report
 *
 * MUST (SECURITY.md 24-29): the target comes from the root-owned registry
 * only, never from anything the container or the caller can write; another
 * user's container reads exactly like a missing one (CVE-2022-31214:
 * firejail --join trusted state the user could forge); every namespace fd
 * is opened from the pinned process and checked against the pidfd, so a
 * reused pid cannot redirect us; nothing in the container's file system is
 * touched before the drop to container root; the joining process is not
 * dumpable until exec and keeps no fd but 0-2 (CVE-2019-5736,
 * CVE-2024-21626). */
#define _GNU_SOURCE
#include "join.h"
#include "spawn/spawn.h"
#include "spawn/affinity.h"
#include "cgroup/cgroup.h"
#include "spawn/exec.h"
#include "core/parse.h"
#include "spawn/pty.h"
#include "state/registry.h"
#include "core/request.h"
#include "run.h"
#include "spawn/supervise.h"
#include "spawn/sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

const char join_usage[] =
	"usage: mdhelper exec [--env KEY=VALUE]... [--workdir DIR] [--user UID[:GID]] NAME [-- COMMAND [ARG]...]";

/* The namespaces, in the order the child joins them: user last, since
 * once in it we hold no capability over the host-owned others. */
enum { NS_NET, NS_UTS, NS_IPC, NS_CGROUP, NS_MNT, NS_USER, NS_PID, NS_COUNT };
static const struct {
	const char *name;
	int flag;
} ns_info[NS_COUNT] = {
	{ "net", CLONE_NEWNET },       { "uts", CLONE_NEWUTS },   { "ipc", CLONE_NEWIPC },
	{ "cgroup", CLONE_NEWCGROUP }, { "mnt", CLONE_NEWNS },    { "user", CLONE_NEWUSER },
	{ "pid", CLONE_NEWPID },
};

struct target {
	struct entry e;
	int pidfd;
	int ns[NS_COUNT];      /* -1: shared with us, nothing to join */
	int setgroups_allowed; /* its user namespace allows setgroups */
	int keep_groups;       /* the caller could not drop theirs (SECURITY.md 48) */
	struct cg cg;
};

static void parse(struct request *req, const char **name, int argc, char **argv)
{
	static char *const shell[] = { "/bin/sh", NULL };
	int i = 0;

	memset(req, 0, sizeof *req);
	req->workdir = "/";
	req->argv = shell;
	for (; i + 1 < argc && !strncmp(argv[i], "--", 2) && strcmp(argv[i], "--"); i += 2) {
		const char *v = argv[i + 1];
		if (!strcmp(argv[i], "--workdir") && valid_abs_path(v))
			req->workdir = v;
		else if (!strcmp(argv[i], "--env") && req->nenv < REQ_MAX_ENV &&
			 request_valid_env(v))
			req->env[req->nenv++] = v;
		else if (!strcmp(argv[i], "--user"))
			request_user(req, v);
		else
			die("%s %s: not accepted (%s)", argv[i], v, join_usage);
	}
	if (i >= argc || !valid_name(argv[i]))
		die("%s", join_usage);
	*name = argv[i++];
	if (i < argc) {
		if (strcmp(argv[i], "--") || i + 1 >= argc)
			die("%s", join_usage);
		req->argv = &argv[i + 1];
	}
}

/* Same namespace as ours (e.g. --userns host): nothing to join. */
static int same_as_ours(int fd, const char *ns)
{
	char self[64];
	struct stat a, b;

	xsnprintf(self, sizeof self, "/proc/self/ns/%s", ns);
	return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/* Everything about the target, opened while it is pinned. */
static void open_target(struct target *t, const char *name, const struct caller *c)
{
	char path[64], allow[16] = "";
	AUTOCLOSE int proc = -1;

	registry_find(name, c, &t->e, &t->pidfd);
	xsnprintf(path, sizeof path, "/proc/%ld", t->e.pid);
	proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < NS_COUNT; i++) {
		xsnprintf(path, sizeof path, "ns/%s", ns_info[i].name);
		t->ns[i] = proc < 0 ? -1 : openat(proc, path, O_RDONLY | O_CLOEXEC);
		if (t->ns[i] < 0)
			die("no such container: %s", name);
		if (same_as_ours(t->ns[i], ns_info[i].name)) {
			close(t->ns[i]);
			t->ns[i] = -1;
		}
	}
	if (read_file_at(proc, "setgroups", allow, sizeof allow) < 0)
		die("no such container: %s", name);
	t->setgroups_allowed = !strncmp(allow, "allow", 5);
	/* The cgroup goes by name, and a name is free again once the monitor
	 * has seen PID 1 out: open it first, so that the check below also
	 * proves it is this container's and not a newer namesake's, perhaps
	 * another user's (the caller may SIGSTOP us at any point). */
	if (cg_open_by_id(&t->cg, name) < 0)
		die("no such container: %s", name);
	/* Still the same process: the fds above are its namespaces. */
	if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
		die("no such container: %s", name);
}

static void join_namespaces(struct target *t)
{
	for (int i = 0; i < NS_COUNT; i++) {
		if (i == NS_PID || t->ns[i] < 0)
			continue;
		if (i == NS_USER && !t->keep_groups && setgroups(0, NULL) < 0) /* host groups go first */
			die_errno("setgroups");
		if (setns(t->ns[i], ns_info[i].flag) < 0)
			die_errno("joining the container's %s namespace", ns_info[i].name);
		close(t->ns[i]);
		t->ns[i] = -1;
	}
}

MD_NORETURN static void child_main(struct target *t, const struct request *req,
				   const struct saved_state *saved, int use_pty, int sock)
{
	int userns = t->ns[NS_USER] >= 0;

	util_set_cleanup(NULL);
	cg_enter_self(&t->cg); /* v1; on v2 the parent puts us there */
	cg_release(&t->cg);
	close(t->pidfd);
	join_namespaces(t);
	if (userns)
		become_container_root(t->setgroups_allowed);
	else
		restrict_host_root();
	if (req->user) /* the kernel refuses an id its maps do not hold */
		become_container_user(req->uid, req->gid, t->setgroups_allowed);
	spawn_exec(sock, req, saved, use_pty, -1);
}

/* --user: not into a --userns host container (its uid 0 is host root);
 * into one's own, the message run gives for an id the maps do not hold
 * (their ranges now: the container's maps are checked by the kernel at
 * the drop anyway, and another user's by nothing else). */
static void check_exec_user(const struct request *req, const struct target *t,
			    const struct caller *c)
{
	struct caller now = *c;

	if (!req->user)
		return;
	if (t->ns[NS_USER] < 0)
		die("--user cannot be used with a --userns host container");
	if (t->e.uid == c->uid) {
		caller_subids(&now);
		check_user_mapped(&now, req->user, req->uid, req->gid);
	}
}

/* On a CPU the container's PID 1 may use (affinity.h). */
static void pin_near_target(pid_t pid)
{
	cpu_set_t allowed;

	if (sched_getaffinity(pid, sizeof allowed, &allowed) == 0)
		affinity_pin_within(&allowed);
}

static struct spawn *active_child;

static void abort_join(void)
{
	pty_restore_caller();
	if (active_child)
		spawn_abort(active_child);
}

int join_container(const struct caller *c, const struct saved_state *saved, int argc,
		   char **argv)
{
	struct target t;
	struct request req;
	struct spawn sp;
	const char *name;
	int sock, status, use_pty = isatty(0) && isatty(1);
	AUTOCLOSE int own_pidns = -1;

	parse(&req, &name, argc, argv);
	memset(&t, 0, sizeof t);
	open_target(&t, name, c);
	t.keep_groups = !t.setgroups_allowed && c->uid != 0;
	check_exec_user(&req, &t, c);
	req.hostname = t.e.hostname; /* HOSTNAME= of the command's environment */
	/* Root joining another user's container without a pty would hand it
	 * its terminal: a process left behind in there could read the
	 * keystrokes root types afterwards, or write to them (SECURITY.md
	 * 23-24; the class of CVE-2016-9962 and CVE-2017-5226). */
	for (int fd = 0; fd < 3 && !use_pty && t.e.uid != c->uid; fd++)
		if (isatty(fd))
			die("exec into another user's container: fd %d is your terminal (use a terminal for both input and output, or redirect fd %d)",
			    fd, fd);
	audit(1, "exec %s command=%s", name, req.argv[0]);
	/* Our next child is born in the container's PID namespace; only that
	 * one: any later child of ours (the sanitizer's leak checker, in the
	 * ASan build) would find no parent it could see. */
	own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own_pidns < 0 || setns(t.ns[NS_PID], CLONE_NEWPID) < 0)
		die_errno("joining the container's pid namespace");
	util_set_cleanup(abort_join);
	pin_near_target((pid_t)t.e.pid);
	if (spawn_child(&sp, 0, cg_clone_fd(&t.cg), &sock) == 0)
		child_main(&t, &req, saved, use_pty, sock);
	active_child = &sp;
	if (setns(own_pidns, CLONE_NEWPID) < 0)
		die_errno("leaving the container's pid namespace");
	for (int i = 0; i < NS_COUNT; i++)
		if (t.ns[i] >= 0)
			close(t.ns[i]);
	if (spawn_ready(&sp) < 0) {
		spawn_abort(&sp);
		active_child = NULL;
		return MD_EXIT_REFUSED;
	}
	/* Limits and accounting of the container apply to what runs here. */
	if (!sp.in_cgroup)
		cg_enter_child(&t.cg, sp.pid);
	cg_release(&t.cg);
	spawn_go(&sp, saved);
	status = spawn_supervise(&sp, c->uid, 1);
	pty_restore_caller();
	active_child = NULL;
	util_set_cleanup(NULL);
	close(t.pidfd);
	return status;
}
