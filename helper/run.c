/* run.c: a container's life, from clone to the exit status.
 *
 * Parent (the helper, root, never ptraceable)      Child (becomes PID 1)
 *   clone(NEWPID|NEWNS|NEWUTS|NEWIPC|NEWNET) ----->  waits for 'C'
 *   cgroup join, start mdnet.sh attach
 *   (the veth pair, eth1 in the child's ns)  'C' ->  hostname, lo up, ping,
 *                                                    mounts, cgroup ns
 *   wait for attach                          'N' ->  eth1 address, up, route
 *                                                    drop groups,
 *                                                    unshare(NEWUSER)
 *   write uid/gid maps                   <- 'U'
 *                                        'M' ->      become ns root, caps
 *                                                    setsid, pty, workdir,
 *                                                    no_new_privs, pdeathsig
 *   (receive the pty master)             <- 'X' [fd]
 *                                        'G' ->      exec (socket closes)
 *   relay, forward signals, wait, report
 *
 * ('N' only on the bridge.)
 *
 * MUST: the namespaces other than the user namespace are created by host
 * root, so they belong to the host's user namespace and container root
 * cannot change its hostname, network or mounts (DESIGN.md); the child
 * drops to the caller's credentials before running anything of the
 * caller's; only fds 0-2 survive the exec (SECURITY.md 25). */
#define _GNU_SOURCE
#include "run.h"
#include "affinity.h"
#include "detach.h"
#include "registry.h"
#include "exec.h"
#include "mount.h"
#include "netif.h"
#include "parse.h"
#include "pty.h"
#include "seccomp_filter.h"
#include "supervise.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

/* What to undo if the helper dies between cgroup creation and the end. */
static struct run *active;
static pid_t active_child;

static void abort_run(void)
{
	pty_restore_caller();
	if (active)
		net_attach_end(&active->net); /* before the child's pid is free */
	if (active_child > 0) {
		kill(active_child, SIGKILL);
		waitpid(active_child, NULL, 0);
	}
	if (active) {
		cg_destroy(&active->cg);
		net_release(&active->net, active->id);
	}
	active = NULL;
}

/* cd to the workdir without following symlinks or /proc magic, and check
 * where we landed (SECURITY.md 26, CVE-2024-21626). */
static void enter_workdir(const char *dir)
{
	char cwd[4096];
	int fd = open_dir_nofollow(AT_FDCWD, dir);

	if (fd < 0 || fchdir(fd) < 0)
		die("workdir %s: not a directory in the container (symlinks are refused)", dir);
	close(fd);
	if (!getcwd(cwd, sizeof cwd) || strcmp(cwd, dir) != 0)
		die("workdir %s: not reachable inside the container", dir);
}

static void set_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		die("cannot set no_new_privs");
}

static void enter_user_namespace(const struct run *run, int sock)
{
	/* Host groups go while we are still host root (SECURITY.md 19), but
	 * only where the caller could drop them too: without a subgid range
	 * setgroups stays "deny" and they are kept (SECURITY.md 48). */
	if ((run->caller->subgid_count > 0 || run->caller->uid == 0) &&
	    setgroups(0, NULL) < 0)
		die_errno("setgroups");
	if (unshare(CLONE_NEWUSER) < 0)
		die_errno("unshare(CLONE_NEWUSER)");
	sync_send(sock, 'U', -1);
	sync_expect(sock, 'M');
	become_container_root(run->caller->subgid_count > 0);
}

/* A bind mount's source must be in our own mount namespace, and the fd the
 * parent opened is in the host's: walk the path again, just as strictly,
 * and insist it is the very directory the parent checked. */
static void reopen_rootfs(struct run *run)
{
	struct rootfs again;
	struct stat a, b;

	rootfs_open(&again, run->req->rootfs, run->caller);
	if (fstat(again.fd, &a) < 0 || fstat(run->rootfs.fd, &b) < 0)
		die_errno("fstat of the rootfs");
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		die("rootfs %s changed while the container was starting", run->req->rootfs);
	close(run->rootfs.fd);
	run->rootfs = again;
}

static void unblock_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A detached container writes to its log. Until exec succeeds, the
 * caller's stderr stays reachable (close-on-exec) for "command not found";
 * returns it, or -1 when not detached. */
static int log_output(int log)
{
	int err;

	if (log < 0)
		return -1;
	err = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (err < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		die_errno("log");
	return err;
}

MD_NORETURN void run_exec_in_container(int sock, const struct request *req,
				   const struct saved_state *saved, int use_pty, int log)
{
	int master = -1, status;

	if (setsid() < 0)
		die_errno("setsid");
	if (use_pty)
		master = pty_open_in_container();
	enter_workdir(req->workdir);
	set_no_new_privs();
	/* Credentials changed before this, which cleared the death signal:
	 * set it now, then make sure the helper is still there to deliver
	 * it (the send fails if it is gone). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_PDEATHSIG)");
	sync_send(sock, 'X', master);
	if (master >= 0)
		close(master);
	sync_expect(sock, 'G');
	restore_rlimits(saved);
	affinity_restore();
	unblock_signals();
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sock)
				close(fd);
	seccomp_apply(seccomp_nested); /* last: SECURITY.md 45 */
	status = exec_command(req, use_pty ? saved->term : NULL, log_output(log));
	sync_send(sock, 'E', -1);
	_exit(status);
}

MD_NORETURN static void child_main(struct run *run, int sock)
{
	const struct request *req = run->req;

	/* This process owns nothing of the parent's: its failures must not
	 * remove the cgroup, and its cgroup fds go now. */
	util_set_cleanup(NULL);
	cg_release(&run->cg);
	/* Root through and through until the drop: a real uid of the caller's
	 * would let them SIGSTOP this privileged process mid-setup. */
	if (setresuid(0, 0, 0) < 0)
		die_errno("setresuid");
	sync_expect(sock, 'C');
	if (sethostname(req->hostname, strlen(req->hostname)) < 0)
		die_errno("sethostname");
	netif_loopback_up();
	netif_allow_ping();
	reopen_rootfs(run);
	mount_container(run->rootfs.fd, run->rootfs.read_only, run->caller->uid,
			run->caller->gid);
	close(run->rootfs.fd);
	if (unshare(CLONE_NEWCGROUP) < 0)
		die_errno("unshare(CLONE_NEWCGROUP)");
	if (run->net.enabled) {
		sync_expect(sock, 'N'); /* mdnet.sh made eth1 */
		netif_eth1_up(run->net.addr, run->net.prefix, run->net.gateway);
	}
	if (req->userns_host)
		restrict_host_root();
	else
		enter_user_namespace(run, sock);
	run_exec_in_container(sock, req, run->saved, run->use_pty, run->log);
}

static pid_t clone_child(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
			   CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, 0);

	if (pid < 0)
		die_errno("clone");
	return (pid_t)pid;
}

/* The end of every run: terminal back, the child reaped if it is still
 * there, the OOM killer named, the cgroup gone. */
static int finish(struct run *run, pid_t unreaped, int status)
{
	char limit[32];

	pty_restore_caller();
	net_attach_end(&run->net); /* before the child's pid is free */
	if (unreaped > 0)
		waitpid(unreaped, NULL, 0);
	active_child = 0;
	/* The status stays the command's own: a shell whose child the OOM
	 * killer took may go on, but the student is told either way. */
	if (status >= 0 && cg_oom_kills(&run->cg) > 0) {
		format_size(run->limits.memory, limit, sizeof limit);
		warnx_("container killed: out of memory (limit %s)", limit);
	}
	cg_destroy(&run->cg);
	net_release(&run->net, run->id);
	active = NULL;
	util_set_cleanup(NULL);
	return status;
}

/* The command runs: the registry shows it to ps and exec from now on. */
static void describe(const struct run *run, pid_t child)
{
	struct entry e;

	memset(&e, 0, sizeof e);
	e.pid = child;
	e.pid_start = registry_start_time(child);
	e.created = (long long)time(NULL);
	e.detached = run->req->log_dir != NULL;
	e.memory = run->limits.memory;
	e.pids = run->limits.pids;
	xsnprintf(e.cpus, sizeof e.cpus, "%s", run->limits.cpus);
	xsnprintf(e.hostname, sizeof e.hostname, "%s", run->req->hostname);
	registry_command_line(&e, run->req->argv);
	registry_describe(run->id, &e);
}

int run_container(struct run *run)
{
	int sv[2], sigfd, master = -1, status, report = -1, monitor = -1;
	pid_t child;
	char started;

	run->log = -1;
	if (run->req->log_dir) {
		monitor = detach_monitor_open();
		report = detach_begin();
	}
	sync_pair(sv);
	sigfd = supervise_block_signals();
	active = run;
	util_set_cleanup(abort_run);
	net_reserve(&run->net, run->cfg, run->rule, run->caller, run->req, run->id);
	audit(1, "run %s rootfs=%s hostname=%s command=%s", run->id, run->req->rootfs,
	      run->req->hostname, run->req->argv[0]);
	if (report >= 0)
		run->log = detach_open_log(run->req->log_dir, run->id, run->caller);
	cg_create(&run->cg, run->id, &run->limits);
	affinity_pin_within_list(run->limits.cpus);
	child = clone_child();
	if (child == 0) {
		close(sv[0]);
		close(sigfd);
		child_main(run, sv[1]);
	}
	close(sv[1]);
	active_child = child;
	close(run->rootfs.fd);
	/* In its cgroup before it runs anything (and before it makes its
	 * cgroup namespace, so the container sees its group as the root). */
	cg_enter(&run->cg, child);
	net_attach(&run->net, run->id, child);
	sync_send(sv[0], 'C', -1);
	if (run->net.enabled) {
		net_attach_wait(&run->net); /* attached while the child set up */
		sync_send(sv[0], 'N', -1);
	}
	if (!run->req->userns_host) {
		if (sync_recv(sv[0], NULL) != 'U')
			return finish(run, child, -1), MD_EXIT_REFUSED;
		write_id_maps(child, run->caller);
		sync_send(sv[0], 'M', -1);
	}
	if (sync_recv(sv[0], &master) != 'X')
		return finish(run, child, -1), MD_EXIT_REFUSED;
	if (master >= 0)
		pty_prepare_caller(master);
	sync_send(sv[0], 'G', -1);
	/* EOF: the command is running; 'E': it could not be run, and the
	 * child exits 126 or 127 after saying why. Either way, see it out. */
	started = sync_recv(sv[0], NULL);
	close(sv[0]);
	if (started != 'E')
		describe(run, child);
	if (report >= 0) {
		/* 126/127: the front exits with it once the child is seen out. */
		status = started == 'E' ? supervise(child, sigfd, master) : -1;
		detach_started(report, run->log, run->id, status);
		close(run->log);
		if (status >= 0)
			return finish(run, 0, status);
		detach_become_monitor(monitor, run->id, child, &run->net, run->limits.memory);
	}
	status = supervise(child, sigfd, master);
	return finish(run, 0, status);
}
