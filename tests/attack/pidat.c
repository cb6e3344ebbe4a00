/* pidat: make the kernel give pid PID to PROG, by forking (and reaping at
 * once) until the last pid handed out is PID - 1 (runs.h: recycle_pid).
 * This is how a student recycles the pid of a process that root still
 * names by its number.
 *
 * Usage: pidat [-u] SECONDS PID PROG [ARG]...
 *   -u  PROG runs in a new user and network namespace of its own (the
 *       student is root there and owns the network namespace)
 * Prints "pid PID" once PROG runs with it (on /dev/null: a caller waiting
 * for this program's output does not wait for PROG's). Exit: 0 then (PROG goes on as an
 * orphan); 1 if PID was not had within SECONDS; 3 on an error. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runs.h"

/* The child that took PID: its namespaces, then PROG, on /dev/null. */
static void become(char **argv, int userns)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(3);
	if (userns && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
		perror("unshare");
		_exit(3);
	}
	execvp(argv[0], argv);
	perror(argv[0]);
	_exit(127);
}

struct prog {
	char **argv;
	int userns;
};

/* recycle_pid's take: the next pid is PID, unless another process takes
 * it first. */
static pid_t take(pid_t target, void *arg)
{
	const struct prog *p = arg;
	pid_t pid = fork();

	if (pid == 0) {
		if (getpid() == target)
			become(p->argv, p->userns);
		_exit(0);
	}
	if (pid > 0 && pid != target)
		waitpid(pid, NULL, 0);
	return pid;
}

int main(int argc, char **argv)
{
	struct prog prog = { NULL, 0 };
	int fd, target;
	time_t end;

	if (argc > 1 && strcmp(argv[1], "-u") == 0)
		prog.userns = 1, argv++, argc--;
	if (argc < 4)
		return 2;
	prog.argv = argv + 3;
	end = time(NULL) + atoi(argv[1]);
	target = atoi(argv[2]);
	fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || target < 2)
		return perror("ns_last_pid"), 3;
	if (!recycle_pid(fd, target, end, take, &prog))
		return 1;
	printf("pid %d\n", target);
	return 0;
}
