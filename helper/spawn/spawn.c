/* spawn/spawn.c: the child of `run` and `exec`, from its birth with a
 * pidfd to its exit status.
 *
 * MUST:
 * - the child is named by its pidfd from birth: signals go through
 *   pidfd_send_signal, the end is seen with waitid(P_PIDFD), never by a
 *   pid a reaped child could hand to another process (SECURITY.md 41);
 * - only fds 0-2 survive the exec (SECURITY.md 25, CVE-2024-21626);
 *   no_new_privs is set and verified (21); a new session, so that
 *   TIOCSTI cannot reach the caller's terminal (23, CVE-2017-5226);
 * - the caller's rlimits and affinity reach the command only, set from
 *   here as host root after the child dropped everything else (39);
 * - while the command runs the caller may signal us (their real uid), and
 *   before anything is cleaned up every uid is root's again (38). */
#define _GNU_SOURCE
#include "spawn/spawn.h"
#include "spawn/affinity.h"
#include "spawn/exec.h"
#include "spawn/pty.h"
#include "seccomp_filter.h"
#include "spawn/supervise.h"
#include "spawn/sync.h"

#include <errno.h>
#include <linux/sched.h>
#include <stdint.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Born in its cgroup v2 group: moving a process there afterwards takes
 * the kernel's global cgroup_threadgroup_rwsem for writing, an RCU grace
 * period (milliseconds) per start; CLONE_INTO_CGROUP takes none. -1 with
 * errno ENOSYS, E2BIG or EINVAL where clone3 or the flag is unknown. */
static long clone_into_cgroup(unsigned long ns_flags, int cgroup_fd, int *pidfd)
{
	struct clone_args a;

	memset(&a, 0, sizeof a);
	a.flags = ns_flags | CLONE_PIDFD | CLONE_INTO_CGROUP;
	a.pidfd = (uint64_t)(uintptr_t)pidfd;
	a.exit_signal = SIGCHLD;
	a.cgroup = (uint64_t)cgroup_fd;
	return syscall(SYS_clone3, &a, sizeof a);
}

pid_t spawn_child(struct spawn *sp, unsigned long ns_flags, int cgroup_fd, int *sock)
{
	int sv[2], pidfd = -1;
	long pid = -1;

	memset(sp, 0, sizeof *sp);
	sp->master = -1;
	sync_pair(sv);
	sp->sigfd = supervise_block_signals();
	if (cgroup_fd >= 0) {
		pid = clone_into_cgroup(ns_flags, cgroup_fd, &pidfd);
		sp->in_cgroup = pid >= 0;
		if (pid < 0 && errno != ENOSYS && errno != E2BIG && errno != EINVAL)
			die_errno("clone3");
	}
	if (pid < 0)
		pid = syscall(SYS_clone, ns_flags | CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
	if (pid < 0)
		die_errno("clone");
	if (pid == 0) {
		close(sv[0]);
		close(sp->sigfd);
		*sock = sv[1];
		return 0;
	}
	close(sv[1]);
	sp->pid = (pid_t)pid;
	sp->pidfd = pidfd;
	sp->sock = sv[0];
	return sp->pid;
}

static void reap(struct spawn *sp)
{
	siginfo_t si;

	while (waitid((idtype_t)P_PIDFD, (id_t)sp->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(sp->pidfd);
	sp->pidfd = -1;
}

void spawn_abort(struct spawn *sp)
{
	if (sp->pidfd < 0 || sp->pid <= 0)
		return;
	syscall(SYS_pidfd_send_signal, sp->pidfd, SIGKILL, NULL, 0);
	reap(sp);
}

int spawn_alive(const struct spawn *sp)
{
	return sp->pidfd >= 0 && syscall(SYS_pidfd_send_signal, sp->pidfd, 0, NULL, 0) == 0;
}

/* The caller's terminal in raw mode for the relay. A background job that
 * wants the terminal stops here on SIGTTOU, as any program does (and `fg`
 * continues it): the one moment the caller may stop us, since nothing
 * shared is half-made and no lock is held; the child waits for GO, not
 * dumpable, its fds closed to the caller (SECURITY.md 24, 38). */
static void prepare_terminal(int master)
{
	sigset_t ttou;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_UNBLOCK, &ttou, NULL);
	pty_prepare_caller(master);
	sigprocmask(SIG_BLOCK, &ttou, NULL);
}

int spawn_ready(struct spawn *sp)
{
	return sync_recv(sp->sock, &sp->master) == SYNC_READY ? 0 : -1;
}

int spawn_go(struct spawn *sp, const struct saved_state *saved)
{
	enum sync_msg started;

	privilege_give_rlimits(sp->pid, saved); /* our child, not reaped: its pid is its own */
	if (sp->master >= 0)
		prepare_terminal(sp->master);
	if (sync_send(sp->sock, SYNC_GO, -1) < 0) {
		close(sp->sock);
		sp->sock = -1;
		return 0; /* it said why, and its status tells */
	}
	/* EOF: the command runs (the socket is close-on-exec); EXEC_FAILED:
	 * it could not be run, and the child exits 126 or 127 after saying
	 * why. */
	started = sync_recv(sp->sock, NULL);
	close(sp->sock);
	sp->sock = -1;
	return started != SYNC_EXEC_FAILED;
}

int spawn_supervise(struct spawn *sp, uid_t caller, int caller_may_signal)
{
	int status;

	if (caller_may_signal)
		privilege_caller_may_signal(caller);
	status = supervise(sp->pidfd, sp->sigfd, sp->master);
	privilege_all_root();
	close(sp->pidfd);
	sp->pidfd = -1;
	close(sp->sigfd);
	sp->sigfd = -1;
	return status;
}

/* ---- in the child ---- */

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

/* The caller's CPUs within the container's (the kernel intersects them
 * with the cpuset); ours from before the pin when none of theirs is left. */
static void caller_affinity(const struct saved_state *saved)
{
	if (CPU_COUNT(&saved->affinity) == 0 ||
	    sched_setaffinity(0, sizeof saved->affinity, &saved->affinity) < 0)
		affinity_restore();
}

MD_NORETURN void spawn_exec(int sock, const struct request *req,
			    const struct saved_state *saved, int use_pty, int log)
{
	int master = -1, status;

	/* The drop to the container's credentials reset dumpability to
	 * fs.suid_dumpable: until exec nothing of ours may be ptraced or read
	 * through /proc (SECURITY.md 40, 24). */
	privilege_dumpable_off();
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
	if (sync_send(sock, SYNC_READY, master) < 0)
		_exit(MD_EXIT_REFUSED); /* the helper is gone; it said why */
	if (master >= 0)
		close(master);
	sync_expect(sock, SYNC_GO);
	caller_affinity(saved);
	privilege_exec_signals();
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
		for (int fd = 3; fd < 4096; fd++) /* our RLIMIT_NOFILE, privilege.c */
			if (fd != sock)
				close(fd);
	seccomp_apply(seccomp_nested); /* last before exec: SECURITY.md 45 */
	status = exec_command(req, use_pty ? saved->term : NULL, log_output(log));
	(void)sync_send(sock, SYNC_EXEC_FAILED, -1); /* the status says it anyway */
	_exit(status);
}
