/* supervise.c: a container's PID 1 seen to its end by the process that
 * started it (run, exec) or took it over (mdmonitor): signals forwarded to
 * it, its terminal relayed, its exit status returned.
 *
 * MUST (SECURITY.md 41): the child is named by its pidfd alone. A pid
 * could be another process's by the time we signal it: a child reaped
 * behind our back (SIGCHLD ignored by the caller before exec) once left a
 * supervisor forwarding root's signals to whatever took the pid next. */
#define _GNU_SOURCE
#include "spawn/supervise.h"
#include "spawn/pty.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

int supervise_block_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&set, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die_errno("sigprocmask");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		die_errno("signalfd");
	return fd;
}

static void forward_signals(int sigfd, int pidfd, int master)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGWINCH)
			master >= 0 ? pty_resize(master) : (void)0;
		else
			syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
	}
}

static int exit_status(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			die_errno("waitid");
	if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
		return 128 + si.si_status;
	return si.si_status;
}

/* Relay and wait until the container's PID 1 exits. */
int supervise(int pidfd, int sigfd, int master)
{
	struct pollfd p[4] = { { sigfd, POLLIN, 0 }, { pidfd, POLLIN, 0 },
			       { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
	nfds_t nfds = master >= 0 ? 4 : 2;

	for (;;) {
		if (poll(p, nfds, -1) < 0 && errno != EINTR)
			die_errno("poll");
		if (p[0].revents & POLLIN)
			forward_signals(sigfd, pidfd, master);
		if (p[1].revents & (POLLIN | POLLHUP))
			break;
		if (nfds > 2 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pty_relay_out(master))
			p[2].fd = -1; /* the container closed its terminal */
		if (nfds > 3 && (p[3].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pty_relay_in(master))
			p[3].fd = -1;
	}
	/* Drain what the container wrote just before it exited. */
	while (master >= 0 && p[2].fd >= 0 && poll(&p[2], 1, 0) > 0 && pty_relay_out(master))
		;
	return exit_status(pidfd);
}
