/* supervise.c: a container's PID 1 seen to its end by the process that
 * started it (run, exec) or took it over (mdmonitor): signals forwarded to
 * it, its terminal relayed, its exit status returned. */
#define _GNU_SOURCE
#include "supervise.h"
#include "pty.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

int supervise_block_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
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

/* A signal arrived: returns 1 once the child has exited. */
static int on_signal(int sigfd, pid_t child, int master, int *wstatus)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGWINCH && master >= 0)
			pty_resize(master);
		else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
			kill(child, (int)si.ssi_signo);
	}
	return waitpid(child, wstatus, WNOHANG) == child;
}

/* Relay and wait until the container's PID 1 exits. */
int supervise(pid_t child, int sigfd, int master)
{
	struct pollfd p[3] = { { sigfd, POLLIN, 0 }, { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
	int wstatus = 0, nfds = master >= 0 ? 3 : 1;

	for (;;) {
		if (poll(p, (nfds_t)nfds, -1) < 0 && errno != EINTR)
			die_errno("poll");
		if ((p[0].revents & POLLIN) && on_signal(sigfd, child, master, &wstatus))
			break;
		if (nfds > 1 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pty_relay_out(master))
			p[1].fd = -1; /* the container closed its terminal */
		if (nfds > 2 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pty_relay_in(master))
			p[2].fd = -1;
	}
	/* Drain what the container wrote just before it exited. */
	while (master >= 0 && p[1].fd >= 0 && poll(&p[1], 1, 0) > 0 && pty_relay_out(master))
		;
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

