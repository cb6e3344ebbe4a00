/* detach.c: a container that runs in the background (mdrun.sh -d).
 *
 * The fork comes first, before any name, lease or cgroup is taken, so the
 * monitor owns everything it makes and the front owns nothing. The front
 * keeps the caller's terminal only until the monitor reports; the monitor
 * drops it (setsid, its output moved to the log) before it reports, so
 * `name=$(mdrun.sh -d …)` returns as soon as the container runs. */
#define _GNU_SOURCE
#include "spawn/detach.h"
#include "core/parse.h"
#include "core/privilege.h"
#include "core/privilege.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The front: "0 NAME" or "STATUS" from the monitor; EOF means the monitor
 * died refusing or failing, and said why on the caller's stderr. */
MD_NORETURN static void front(int from_monitor)
{
	char msg[128];
	ssize_t n, got = 0;
	int status = MD_EXIT_REFUSED;

	while (got < (ssize_t)sizeof msg - 1 &&
	       (n = read(from_monitor, msg + got, sizeof msg - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
	}
	msg[got] = '\0';
	if (got > 0 && msg[got - 1] == '\n') {
		char name[80];
		if (sscanf(msg, "0 %79s", name) == 1) {
			printf("%s\n", name);
			status = fflush(stdout) == 0 ? 0 : MD_EXIT_REFUSED;
		} else if (sscanf(msg, "%d", &status) != 1) {
			status = MD_EXIT_REFUSED;
		}
	}
	_exit(status);
}

int detach_begin(void)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		die_errno("pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid > 0) {
		close(p[1]);
		util_set_cleanup(NULL);
		front(p[0]);
	}
	close(p[0]);
	/* Out of the caller's session: their Ctrl-C, hangup or logout does not
	 * reach the monitor, which has no terminal to read. */
	if (setsid() < 0)
		die_errno("setsid");
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0)
		die_errno("/dev/null");
	close(null);
	return p[1];
}

int detach_open_log(const char *dir, const char *id, const struct caller *c)
{
	char name[80];
	struct stat st;
	int dirfd, fd;

	xsnprintf(name, sizeof name, "%s.log", id);
	setfsgid(c->gid);
	setfsuid(c->uid);
	dirfd = open_dir_nofollow(AT_FDCWD, dir);
	/* The directory is the caller's own, as the refusal below says: in a
	 * directory another user can write (/tmp, theirs), that user could
	 * plant NAME.log first (SECURITY.md 34). No O_TRUNC: a file is emptied
	 * only once it is known to be the caller's (a hardlink to another
	 * user's writable file in the caller's directory is refused intact). */
	fd = dirfd < 0 || fstat(dirfd, &st) < 0 || st.st_uid != c->uid
		     ? -1
		     : openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
						   O_NOCTTY | O_CLOEXEC, 0600);
	setfsuid(0);
	setfsgid(0);
	if (setfsuid((uid_t)-1) != 0)
		die("cannot restore fsuid");
	privilege_dumpable_off(); /* reset by each fsuid change (SECURITY.md 40) */
	if (dirfd >= 0)
		close(dirfd);
	if (fd < 0)
		die("log %s/%s: cannot create it (the directory must exist, be yours and have no symbolic link on the way)", dir, name);
	/* Never a fifo or a device the caller could make us block on or
	 * write to; never someone else's file. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != c->uid)
		die("log %s/%s: not a regular file of yours", dir, name);
	if (ftruncate(fd, 0) < 0 || fcntl(fd, F_SETFL, O_APPEND) < 0)
		die_errno("log %s/%s", dir, name);
	return fd;
}

void detach_started(int report, int log, const char *id, int status)
{
	char msg[96];

	if (dup2(log, 1) < 0 || dup2(log, 2) < 0)
		die_errno("log");
	if (status < 0)
		xsnprintf(msg, sizeof msg, "0 %s\n", id);
	else
		xsnprintf(msg, sizeof msg, "%d\n", status);
	write_all(report, msg, strlen(msg));
	close(report);
}

int detach_monitor_open(void)
{
	return open_trusted(MD_MONITOR, O_PATH, "cannot find the container monitor");
}

/* A monitor waits as long as its container runs: mdmonitor, static and
 * small, does that instead of this process with all of mdhelper mapped.
 * It gets the child's pidfd on fd 3 (SECURITY.md 41) and is exec'd
 * through the fd that was checked, with fds 0-2 (/dev/null and the log),
 * nothing else. */
void detach_become_monitor(int monitor, const char *id, struct spawn *sp, const struct net *n,
			   unsigned long long memory)
{
	char pid[16], mem[24], addr[16];
	char *argv[] = { "mdmonitor", (char *)id, pid, addr, n->attached ? "1" : "0", mem, NULL };
	char *envp[] = { NULL };
	sigset_t blocked;
	int exe = fcntl(monitor, F_DUPFD_CLOEXEC, 10), pidfd = fcntl(sp->pidfd, F_DUPFD_CLOEXEC, 10);

	xsnprintf(pid, sizeof pid, "%d", (int)sp->pid);
	xsnprintf(mem, sizeof mem, "%llu", memory);
	xsnprintf(addr, sizeof addr, "%s", n->enabled ? n->addr : "-");
	if (exe < 0 || pidfd < 0 || syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0 ||
	    dup3(pidfd, 3, 0) < 0) {
		warnx_("%s: %s: monitoring from mdhelper instead", MD_MONITOR, strerror(errno));
		return;
	}
	privilege_exec_signals();
	syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
	warnx_("%s: %s: monitoring from mdhelper instead", MD_MONITOR, strerror(errno));
	/* Our signals blocked again: the signalfd (close-on-exec, still
	 * open) reads them while we monitor ourselves. */
	privilege_block_signals(&blocked);
}
