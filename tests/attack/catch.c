/* catch: run by root beside an attack, it waits for a process that runs
 * NAME (runs.h) and one of whose arguments is WORD, and prints what that
 * process inherited while it still runs: root's children (mdnet.sh,
 * mdmonitor) live for milliseconds, too briefly for ps.
 *
 * Usage: catch SECONDS NAME [WORD]   (NAME: see runs.h)
 * Prints, for the first such process:
 *   pid N
 *   Uid:/SigBlk:/SigIgn:/Cpus_allowed_list: lines of /proc/N/status
 *   policy P nice N        (fields 41 and 19 of /proc/N/stat)
 *   limit NAME SOFT HARD   (each line of /proc/N/limits, NAME without spaces)
 *   fd0 TARGET, fd1 TARGET, fd2 TARGET
 * Exit: 0 caught, 1 none within SECONDS.
 *
 * New pids are found by watching /proc/sys/kernel/ns_last_pid and probing
 * the pids just below it, again on every pass: a vfork'd child is still
 * mdhelper for a moment before it execs the script. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runs.h"

#define WINDOW 96

static int read_at(const char *fmt, int pid, const char *name, char *buf, size_t size)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, fmt, pid, name);
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

static int matches(int pid, const char *name, const char *word)
{
	char buf[4096];
	int n;

	if (!runs(pid, name))
		return 0;
	if (!word)
		return 1;
	n = cmdline_of(pid, buf, sizeof buf);
	for (int i = 0; i < n; i += (int)strlen(buf + i) + 1)
		if (strcmp(buf + i, word) == 0)
			return 1;
	return 0;
}

/* Everything is read first, printed after: the process may end any time. */
static int report(int pid, const char *name)
{
	char status[4096], stat[1024], limits[4096], fd[3][256], path[64];
	char *p, *line;
	int field;

	if (read_at("/proc/%d/%s", pid, "status", status, sizeof status) < 0 ||
	    read_at("/proc/%d/%s", pid, "stat", stat, sizeof stat) < 0 ||
	    read_at("/proc/%d/%s", pid, "limits", limits, sizeof limits) < 0)
		return 0;
	for (int i = 0; i < 3; i++) {
		ssize_t n;
		snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, i);
		n = readlink(path, fd[i], sizeof fd[i] - 1);
		fd[i][n < 0 ? 0 : n] = '\0';
		if (n < 0)
			strcpy(fd[i], "(closed)");
	}
	/* Still the process we matched, not a pid reused meanwhile. */
	if (!runs(pid, name))
		return 0;
	printf("pid %d\n", pid);
	for (line = strtok(status, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "SigBlk:", 7) ||
		    !strncmp(line, "SigIgn:", 7) || !strncmp(line, "Cpus_allowed_list:", 18))
			printf("%s\n", line);
	p = strrchr(stat, ')');
	{
		char *f[64] = { 0 };
		field = 2;
		for (char *t = strtok(p + 1, " "); t && field < 63; t = strtok(NULL, " "))
			f[++field] = t;
		printf("policy %s nice %s\n", f[41] ? f[41] : "?", f[19] ? f[19] : "?");
	}
	/* "Max open files            1024                 1048576              files" */
	line = strtok(limits, "\n");
	for (line = strtok(NULL, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64] = "";
		size_t n = 0;
		char *v = line;
		while (*v && !(v[0] == ' ' && v[1] == ' ') && n < sizeof name - 1)
			name[n++] = *v == ' ' ? '_' : *v, v++;
		name[n] = '\0';
		{
			char soft[32] = "", hard[32] = "";
			sscanf(v, "%31s %31s", soft, hard);
			printf("limit %s %s %s\n", name, soft, hard);
		}
	}
	for (int i = 0; i < 3; i++)
		printf("fd%d %s\n", i, fd[i]);
	return 1;
}

static int last_pid(void)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

int main(int argc, char **argv)
{
	const char *comm, *word;
	time_t end;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: catch SECONDS NAME [WORD]\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[1]);
	comm = argv[2];
	word = argc > 3 ? argv[3] : NULL;
	while (time(NULL) < end) {
		int top = last_pid();
		for (int pid = top; pid > top - WINDOW && pid > 1; pid--)
			if (matches(pid, comm, word) && report(pid, comm))
				return 0;
	}
	return 1;
}
