/* peek: a student's watcher at every /proc door of their own helper while
 * it starts a container (SECURITY.md 24, 40). It runs PROG (mdhelper) as
 * its child and, until PROG has ended, tries each door of that process and
 * of its children (a detached start's monitor, the container's first
 * process) while they run the helper with root's effective uid: environ,
 * mem, auxv, maps, stack, syscall, io, exe, cwd, root, fd/ and
 * pidfd_getfd of fd 0. The helper sets itself undumpable again after each
 * credential change, the setfsuid to the caller's ids and back around the
 * rootfs walk and the log's creation included. A door counts as open when
 * it yields something (a read, a link, an fd listed; mem: opened while the
 * memory is there) and the process is still the helper, root, afterwards:
 * before its setuid exec PROG is the caller's own, and after its drop the
 * container's process is theirs too.
 *
 * Usage: peek [-a] PROG [ARG]...
 *   -a  watch PROG whatever it runs, as whom (to see that the doors of a
 *       process of the caller's own do open)
 * Prints, after PROG has ended: "peeks N" (rounds over the doors, N > 0
 * once it watched at all), "watched M" (the processes watched), then
 * "LEAK PID DOOR" for each door that opened. Exit: PROG's status. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runs.h"

#define MAX_WATCHED 8
#define MAX_LEAKS 64

static int any; /* -a */
static char leaks[MAX_LEAKS][64];
static int nleaks;

static void leak(pid_t pid, const char *door)
{
	char line[64];

	snprintf(line, sizeof line, "LEAK %d %s", (int)pid, door);
	for (int i = 0; i < nleaks; i++)
		if (!strcmp(leaks[i], line))
			return;
	if (nleaks < MAX_LEAKS)
		snprintf(leaks[nleaks++], sizeof leaks[0], "%s", line);
}

/* Has pid exec'd the helper, and with root's effective uid (the setuid
 * exec's credentials committed: the helper never gives euid 0 up)? */
static int helper_now(pid_t pid)
{
	char buf[2048], *uid;
	unsigned r, e;

	if (any)
		return 1;
	if (proc_read(pid, "comm", buf, sizeof buf) <= 0 || strcmp(buf, "mdhelper\n") != 0)
		return 0;
	if (proc_read(pid, "status", buf, sizeof buf) <= 0 || !(uid = strstr(buf, "\nUid:")))
		return 0;
	return sscanf(uid, "\nUid: %u %u", &r, &e) == 2 && e == 0;
}

/* Does pid still have its memory (field 23 of /proc/PID/stat, vsize,
 * shown to anyone)? The mm doors of a process that is exiting or a zombie
 * open with nothing behind them: no door, no leak. */
static int has_mm(pid_t pid)
{
	char buf[1024], *close_;
	unsigned long vsize = 0;

	if (proc_read(pid, "stat", buf, sizeof buf) <= 0 || !(close_ = strrchr(buf, ')')))
		return 0;
	/* after ") ": state is field 3, vsize field 23 */
	if (sscanf(close_ + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %*u %lu",
		   &vsize) != 1)
		return 0;
	return vsize > 0;
}

/* Did a door of pid open onto something: a file read, a link read, an fd
 * listed (mem: opened, the memory still there; a read needs an address)?
 * Opening alone is not enough: stack, syscall, io and fd/ check the caller's
 * rights only when read, and a process with no memory left opens onto
 * nothing. */
static int file_opens(pid_t pid, const char *name)
{
	char path[64], buf[64];
	int fd, got;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	got = !strcmp(name, "mem") ? has_mm(pid) : read(fd, buf, sizeof buf) > 0;
	close(fd);
	return got;
}

static int fds_listed(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int got = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!got && (e = readdir(d)))
		got = e->d_name[0] != '.';
	closedir(d);
	return got;
}

static int fd_taken(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), got = -1;

	if (fd >= 0) {
		got = (int)syscall(SYS_pidfd_getfd, fd, 0, 0);
		close(fd);
	}
	if (got >= 0)
		close(got);
	return got >= 0;
}

/* Each door of pid; one that opened counts only if pid is still the
 * helper, root (it may have exec'd mdmonitor, or, the container's first
 * process, dropped to the caller's ids in between: then it is theirs). */
static void try_doors(pid_t pid)
{
	static const char *files[] = { "environ", "mem", "auxv", "maps", "stack", "syscall", "io" };
	static const char *links[] = { "exe", "cwd", "root" };
	const char *opened[16];
	char path[64], target[256];
	int n = 0;

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (file_opens(pid, files[i]))
			opened[n++] = files[i];
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, links[i]);
		if (readlink(path, target, sizeof target) >= 0)
			opened[n++] = links[i];
	}
	if (fds_listed(pid))
		opened[n++] = "fd";
	if (fd_taken(pid))
		opened[n++] = "pidfd_getfd";
	if (n && helper_now(pid))
		for (int i = 0; i < n; i++)
			leak(pid, opened[i]);
}

/* The helper and its children that still run its program (a detached
 * start's monitor), from its children file (anyone may read it). */
static int watched(pid_t helper, pid_t out[MAX_WATCHED])
{
	char path[64], list[1024];
	int n = 0;

	if (!helper_now(helper))
		return 0;
	out[n++] = helper;
	snprintf(path, sizeof path, "task/%d/children", (int)helper);
	if (proc_read(helper, path, list, sizeof list) <= 0)
		return n;
	for (char *w = strtok(list, " \n"); w && n < MAX_WATCHED; w = strtok(NULL, " \n")) {
		pid_t p = (pid_t)atoi(w);
		if (p > 0 && helper_now(p))
			out[n++] = p;
	}
	return n;
}

int main(int argc, char **argv)
{
	pid_t helper, seen[MAX_WATCHED * 4] = { 0 }, now[MAX_WATCHED];
	long peeks = 0;
	int status, nseen = 0;

	if (argc > 1 && !strcmp(argv[1], "-a"))
		any = 1, argv++, argc--;
	if (argc < 2)
		return 2;
	helper = fork();
	if (helper == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (helper < 0)
		return perror("peek: fork"), 3;
	while (waitpid(helper, &status, WNOHANG) == 0) {
		int n = watched(helper, now);

		for (int i = 0; i < n; i++) {
			int known = 0;
			try_doors(now[i]);
			for (int j = 0; j < nseen; j++)
				known |= seen[j] == now[i];
			if (!known && nseen < (int)(sizeof seen / sizeof seen[0]))
				seen[nseen++] = now[i];
		}
		peeks += n > 0;
	}
	printf("peeks %ld\nwatched %d\n", peeks, nseen);
	for (int i = 0; i < nleaks; i++)
		puts(leaks[i]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
