/* catch: run by root beside an attack, it waits for a process that runs
 * NAME (runs.h) and one of whose arguments is WORD, and prints what that
 * process inherited: root's children (mdnet.sh, mdmonitor) live for a few
 * milliseconds, too briefly for ps. The kernel's process connector reports
 * every exec at once; the process is held (SIGSTOP) while it is read, then
 * let go (SIGCONT).
 *
 * Usage: catch SECONDS NAME [WORD]
 *        catch -p PID      (the same report for a process that runs already)
 * Prints, for the first such process:
 *   pid N
 *   Uid:/SigBlk:/SigIgn:/Cpus_allowed_list: lines of /proc/N/status
 *   policy P nice N        (fields 41 and 19 of /proc/N/stat)
 *   limit NAME SOFT HARD   (each line of /proc/N/limits, NAME without spaces)
 *   fd0 TARGET, fd1 TARGET, fd2 TARGET
 * Exit: 0 caught, 1 none within SECONDS, 3 on an error. */
#define _GNU_SOURCE
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runs.h"

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

static void print_limits(char *limits)
{
	/* "Max open files            1024                 1048576              files" */
	char *line = strtok(limits, "\n");

	for (line = strtok(NULL, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64] = "", soft[32] = "", hard[32] = "";
		size_t n = 0;
		char *v = line;

		while (*v && !(v[0] == ' ' && v[1] == ' ') && n < sizeof name - 1)
			name[n++] = *v == ' ' ? '_' : *v, v++;
		name[n] = '\0';
		sscanf(v, "%31s %31s", soft, hard);
		printf("limit %s %s %s\n", name, soft, hard);
	}
}

static int report(int pid)
{
	char status[4096], stat[1024], limits[4096], fd[3][256], path[64];
	char *f[64] = { 0 }, *p;
	int field = 2;

	if (proc_read(pid, "status", status, sizeof status) < 0 ||
	    proc_read(pid, "stat", stat, sizeof stat) < 0 ||
	    proc_read(pid, "limits", limits, sizeof limits) < 0 || !(p = strrchr(stat, ')')))
		return 0;
	for (int i = 0; i < 3; i++) {
		ssize_t n;
		snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, i);
		n = readlink(path, fd[i], sizeof fd[i] - 1);
		fd[i][n < 0 ? 0 : n] = '\0';
		if (n < 0)
			strcpy(fd[i], "(closed)");
	}
	printf("pid %d\n", pid);
	for (char *line = strtok(status, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "SigBlk:", 7) ||
		    !strncmp(line, "SigIgn:", 7) || !strncmp(line, "Cpus_allowed_list:", 18))
			printf("%s\n", line);
	for (char *t = strtok(p + 1, " "); t && field < 63; t = strtok(NULL, " "))
		f[++field] = t;
	printf("policy %s nice %s\n", f[41] ? f[41] : "?", f[19] ? f[19] : "?");
	print_limits(limits);
	for (int i = 0; i < 3; i++)
		printf("fd%d %s\n", i, fd[i]);
	return 1;
}

/* Hold pid still while it is read: stopped, or gone. */
static int hold(int pid)
{
	char stat[1024], *p;
	struct timespec tick = { 0, 100 * 1000 };

	if (kill(pid, SIGSTOP) < 0)
		return 0;
	for (int i = 0; i < 10000; i++) {
		if (proc_read(pid, "stat", stat, sizeof stat) < 0 || !(p = strrchr(stat, ')')))
			return 0;
		if (p[2] == 'T')
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

static int listen_to_execs(void)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	struct __attribute__((packed)) {
		struct nlmsghdr h;
		struct cn_msg c;
		enum proc_cn_mcast_op op;
	} m;
	int s = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);

	a.nl_pid = (unsigned)getpid();
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	memset(&m, 0, sizeof m);
	m.h.nlmsg_len = sizeof m;
	m.h.nlmsg_pid = (unsigned)getpid();
	m.h.nlmsg_type = NLMSG_DONE;
	m.c.id.idx = CN_IDX_PROC;
	m.c.id.val = CN_VAL_PROC;
	m.c.len = sizeof m.op;
	m.op = PROC_CN_MCAST_LISTEN;
	return send(s, &m, sizeof m, 0) < 0 ? -1 : s;
}

int main(int argc, char **argv)
{
	const char *name, *word;
	char buf[8192];
	time_t end;
	int s;

	if (argc == 3 && !strcmp(argv[1], "-p"))
		return report(atoi(argv[2])) ? 0 : 1;
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: catch SECONDS NAME [WORD] | catch -p PID\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[1]);
	name = argv[2];
	word = argc > 3 ? argv[3] : NULL;
	s = listen_to_execs();
	if (s < 0)
		return perror("catch: process connector"), 3;
	while (time(NULL) < end) {
		struct pollfd p = { s, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(s, buf, sizeof buf, 0);
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct proc_event *e = (struct proc_event *)((struct cn_msg *)NLMSG_DATA(h))->data;
			int pid, caught;

			if (e->what != PROC_EVENT_EXEC)
				continue;
			pid = e->event_data.exec.process_pid;
			if (!matches(pid, name, word) || !hold(pid))
				continue;
			caught = matches(pid, name, word) && report(pid);
			kill(pid, SIGCONT);
			if (caught)
				return 0;
		}
	}
	return 1;
}
