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
#include <fcntl.h>
#include <stdio.h>
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

/* Does the process of pidfd (our child, not reaped: its pid is its own)
 * handle sig? Unknown reads as yes: then the signal goes as it came. */
static int handles(int pidfd, int sig)
{
	char path[64], text[4096], *line;
	unsigned long long caught;
	int fd, pid = 0;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (!(line = strstr(text, "\nPid:")) || sscanf(line, "\nPid: %d", &pid) != 1 || pid <= 0)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (!(line = strstr(text, "\nSigCgt:")) || sscanf(line, "\nSigCgt: %llx", &caught) != 1)
		return 1;
	return (caught >> (sig - 1)) & 1;
}

/* A container's PID 1 never gets a signal it has no handler for (the
 * kernel protects a namespace's init): TERM from `timeout`, INT from
 * `kill -INT`, HUP from a terminal that went away would reach nothing, and
 * the student could not end their container the way they end any other
 * program. Such a signal ends it with SIGKILL instead, as the signal's
 * default action would have (issue 14: `kill`, `timeout` and hang-up must
 * keep working). */
static int forwarded_as(int pidfd, int sig)
{
	if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !handles(pidfd, sig))
		return SIGKILL;
	return sig;
}

static void forward_signals(int sigfd, int pidfd, int master)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGWINCH)
			master >= 0 ? pty_resize(master) : (void)0;
		else
			syscall(SYS_pidfd_send_signal, pidfd, forwarded_as(pidfd, (int)si.ssi_signo),
				NULL, 0);
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
