/* run.c: a container's life, from clone to the exit status.
 *
 * Parent (the helper, root, never ptraceable)      Child (becomes PID 1)
 *   clone(NEWPID|NEWNS|NEWUTS|NEWIPC|NEWNET|PIDFD) -> waits for CONFIGURE
 *   cgroup join; open the child's netns;
 *   start mdnet.sh attach with it (fd 3)
 *   (the veth pair, eth1 in the child's ns)  CONFIGURE -> hostname, lo up,
 *                                                    ping, cgroup ns, mounts
 *   wait for attach                          NET_READY -> eth1 address, up,
 *                                                    route, unshare(NEWUSER)
 *   write uid/gid maps                   <- USERNS_MADE
 *                                        MAPPED ->   become ns root, caps
 *                                                    setsid, pty, workdir,
 *                                                    no_new_privs, pdeathsig
 *   (receive the pty master)             <- READY [fd]
 *   the caller's rlimits to the child    GO ->       exec (socket closes)
 *   relay, forward signals, wait, report (spawn/spawn.c)
 *
 * (NET_READY only on the bridge.)
 *
 * MUST: the namespaces other than the user namespace are created by host
 * root, so they belong to the host's user namespace and container root
 * cannot change its hostname, network or mounts (DESIGN.md); the child
 * drops to the caller's credentials before running anything of the
 * caller's; only fds 0-2 survive the exec (SECURITY.md 25); the child is
 * held by its pidfd and its namespace by an fd (41); a refused child is
 * reported in one line, never a second from the network script. */
#define _GNU_SOURCE
#include "run.h"
#include "spawn/spawn.h"
#include "spawn/affinity.h"
#include "spawn/detach.h"
#include "state/registry.h"
#include "spawn/exec.h"
#include "mount.h"
#include "spawn/netif.h"
#include "core/parse.h"
#include "spawn/pty.h"
#include "spawn/supervise.h"
#include "spawn/sync.h"
#include "state/lease.h"
#include "seccomp_filter.h"
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
static struct spawn *active_child;

static void abort_run(void)
{
	pty_restore_caller();
	if (active)
		net_attach_end(&active->net);
	if (active_child)
		spawn_abort(active_child);
	if (active) {
		cg_destroy(&active->cg);
		net_release(&active->net, active->id);
	}
	active = NULL;
	active_child = NULL;
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
	if (sync_send(sock, SYNC_USERNS_MADE, -1) < 0)
		_exit(MD_EXIT_REFUSED); /* the helper is gone; it said why */
	sync_expect(sock, SYNC_MAPPED);
	become_container_root(run->caller->subgid_count > 0);
	if (run->req->user)
		become_container_user(run->req->uid, run->req->gid,
				      run->caller->subgid_count > 0);
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

MD_NORETURN static void child_main(struct run *run, int sock)
{
	const struct request *req = run->req;

	/* This process owns nothing of the parent's: its failures must not
	 * remove the cgroup. Its cgroup fds stay only until /sys/fs/cgroup
	 * is built: this process is root's alone until then (SECURITY.md 24). */
	util_set_cleanup(NULL);
	cg_enter_self(&run->cg); /* v1; on v2 the parent puts us there */
	/* Root through and through until the drop: a real uid of the caller's
	 * would let them SIGSTOP this privileged process mid-setup. */
	if (setresuid(0, 0, 0) < 0)
		die_errno("setresuid");
	sync_expect(sock, SYNC_CONFIGURE);
	if (sethostname(req->hostname, strlen(req->hostname)) < 0)
		die_errno("sethostname");
	netif_loopback_up();
	netif_allow_ping();
	reopen_rootfs(run);
	/* In our group already (on v1 we entered it first thing; on v2 we were
	 * born or put there before CONFIGURE): the namespace is rooted there,
	 * and so is the cgroup2 mount made in it. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		die_errno("unshare(CLONE_NEWCGROUP)");
	mount_container(run->rootfs.fd, &run->layer, req, run->caller->uid, run->caller->gid,
			req->init, &run->cg);
	cg_release(&run->cg);
	if (run->layer.userns >= 0)
		close(run->layer.userns);
	close(run->rootfs.fd);
	if (run->net.enabled) {
		sync_expect(sock, SYNC_NET_READY); /* mdnet.sh made eth1 */
		netif_eth1_up(run->net.addr, run->net.prefix, run->net.gateway);
	}
	if (req->userns_host)
		restrict_host_root();
	else
		enter_user_namespace(run, sock);
	spawn_exec(sock, req, run->saved, run->use_pty, run->log);
}

/* The end of every run: terminal back, the child reaped if it is still
 * there, the OOM killer named, the cgroup gone. */
static int finish(struct run *run, struct spawn *sp, int status)
{
	char limit[32];

	pty_restore_caller();
	net_attach_end(&run->net);
	spawn_abort(sp); /* nothing left to kill once supervise saw it out */
	active_child = NULL;
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

/* The child's network namespace, opened while it provably is our child
 * and alive (not reaped, so its pid is its own), for mdnet.sh attach. */
static int open_child_netns(const struct spawn *sp)
{
	char path[64];
	int fd;

	xsnprintf(path, sizeof path, "/proc/%d/ns/net", (int)sp->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !spawn_alive(sp))
		die("the container's process ended while it was starting");
	return fd;
}

/* Set-up, while the child sets itself up; the child's refusal (it
 * already said why) ends the run without a second line. */
static int set_up(struct run *run, struct spawn *sp)
{
	AUTOCLOSE int netns = -1;
	char why[256];

	/* In its cgroup before it runs anything (and before it makes its
	 * cgroup namespace, so the container sees its group as the root):
	 * on v1 the child entered itself first thing (cg_enter_self). */
	if (!sp->in_cgroup)
		cg_enter_child(&run->cg, sp->pid);
	if (run->net.enabled) {
		netns = open_child_netns(sp);
		net_attach(&run->net, run->id, netns);
	}
	if (sync_send(sp->sock, SYNC_CONFIGURE, -1) < 0)
		return -1;
	if (run->net.enabled) {
		if (!spawn_alive(sp))
			return -1;
		/* Attached while the child set up; a child that refused (it
		 * said why) is not reported on a second time. */
		if (net_attach_wait(&run->net, why, sizeof why) != 0) {
			if (!spawn_alive(sp))
				return -1;
			die("network setup failed: %s", why);
		}
		if (sync_send(sp->sock, SYNC_NET_READY, -1) < 0)
			return -1;
	}
	if (!run->req->userns_host) {
		if (sync_recv(sp->sock, NULL) != SYNC_USERNS_MADE)
			return -1;
		write_id_maps(sp->pid, run->caller);
		if (sync_send(sp->sock, SYNC_MAPPED, -1) < 0)
			return -1;
	}
	return 0;
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
	int status, report = -1, monitor = -1, sock, started;
	struct spawn sp;

	run->log = -1;
	if (run->req->log_dir) {
		monitor = detach_monitor_open();
		report = detach_begin();
	}
	active = run;
	util_set_cleanup(abort_run);
	net_reserve(&run->net, run->cfg, run->rule, run->caller, run->req, run->id);
	audit(1, "run %s rootfs=%s hostname=%s command=%s", run->id, run->req->rootfs,
	      run->req->hostname, run->req->argv[0]);
	if (report >= 0)
		run->log = detach_open_log(run->req->log_dir, run->id, run->caller);
	cg_create(&run->cg, run->id, &run->limits);
	layer_plan(&run->layer, run->req->layer, run->rootfs.read_only, run->req->userns_host,
		   run->limits.memory, run->caller);
	affinity_pin_within_list(run->limits.cpus);
	if (spawn_child(&sp, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
			CLONE_NEWNET, cg_clone_fd(&run->cg), &sock) == 0)
		child_main(run, sock);
	active_child = &sp;
	close(run->rootfs.fd);
	if (run->layer.userns >= 0)
		close(run->layer.userns);
	if (set_up(run, &sp) < 0 || spawn_ready(&sp) < 0)
		return finish(run, &sp, -1), MD_EXIT_REFUSED;
	started = spawn_go(&sp, run->saved);
	if (started)
		describe(run, sp.pid);
	if (report >= 0) {
		/* 126/127: the front exits with it once the child is seen out. */
		status = !started ? spawn_supervise(&sp, 0, 0) : -1;
		detach_started(report, run->log, run->id, status);
		close(run->log);
		if (status >= 0)
			return finish(run, &sp, status);
		detach_become_monitor(monitor, run->id, &sp, &run->net, run->limits.memory);
	}
	status = spawn_supervise(&sp, run->caller->uid, !run->req->log_dir);
	return finish(run, &sp, status);
}
