/* hostile: a student's launcher that sets, before exec, every process
 * attribute the kernel passes through a setuid exec, then runs the rest of
 * argv (mdrun.sh, mdctl.sh or mdhelper). What it sets must reach neither
 * mdhelper's decisions nor root's children, mdnet.sh and mdmonitor
 * (SECURITY.md 38-39); the container's command gets the rlimits back.
 *
 * Usage: hostile [-s] [-c CPU] [-l] [-a BYTES] [-f N] [-u N] [-i] [-b] [-t MS] [-p MS] [-n] -- PROG [ARG]...
 *   -s       SCHED_IDLE and nice 19
 *   -c CPU   CPU affinity: that CPU alone
 *   -l       small soft limits: STACK 256k, CPU 2 s, NOFILE 24, NPROC 64,
 *            NICE none, MEMLOCK 0, MSGQUEUE 0, SIGPENDING 64
 *   -a BYTES a soft RLIMIT_AS of BYTES
 *   -f N     a soft RLIMIT_NOFILE of N (an open beyond fd N-1 fails:
 *            EMFILE, e.g. the group file's, mid-way through a lookup)
 *   -u N     a soft RLIMIT_NPROC of N (a set*uid to a user who runs more
 *            than N processes used to fail with EAGAIN)
 * Soft limits only: a hard limit the caller lowered, mdhelper cannot raise
 * where root lacks CAP_SYS_RESOURCE (as in this CI's container); it refuses
 * such a caller in one line instead.
 *   -i       SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGALRM ignored
 *   -b       every signal blocked
 *   -t MS    ITIMER_REAL armed to fire in MS milliseconds, then every MS
 *   -p MS    ITIMER_VIRTUAL and ITIMER_PROF armed to fire after MS
 *            milliseconds of CPU time, then every MS (the timers' signals
 *            are left at default: they end the process they fire in)
 *   -n       SIGCHLD ignored only (the kernel reaps children at once)
 * Exit: PROG's (exec); 3 when an attribute cannot be set; 4 when exec fails. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

static void fail(const char *what)
{
	perror(what);
	exit(3);
}

static void limit(int resource, rlim_t value)
{
	struct rlimit r;

	if (getrlimit(resource, &r) < 0)
		fail("getrlimit");
	r.rlim_cur = value;
	if (setrlimit(resource, &r) < 0)
		fail("setrlimit");
}

static void small_limits(void)
{
	limit(RLIMIT_STACK, 256 * 1024);
	limit(RLIMIT_CPU, 2);
	limit(RLIMIT_NOFILE, 24);
	limit(RLIMIT_NPROC, 64);
	limit(RLIMIT_NICE, 0);
	limit(RLIMIT_MEMLOCK, 0);
	limit(RLIMIT_MSGQUEUE, 0);
	limit(RLIMIT_SIGPENDING, 64);
}

static void ignore(int sig)
{
	if (signal(sig, SIG_IGN) == SIG_ERR)
		fail("signal");
}

static void arm(int which, long ms)
{
	struct itimerval t = { { ms / 1000, (ms % 1000) * 1000 }, { ms / 1000, (ms % 1000) * 1000 } };

	if (setitimer(which, &t, NULL) < 0)
		fail("setitimer");
}

int main(int argc, char **argv)
{
	struct sched_param idle = { 0 };
	cpu_set_t one;
	sigset_t all;
	int opt;

	while ((opt = getopt(argc, argv, "sc:la:f:u:ibt:p:n")) != -1) {
		switch (opt) {
		case 's':
			if (setpriority(PRIO_PROCESS, 0, 19) < 0)
				fail("setpriority");
			if (sched_setscheduler(0, SCHED_IDLE, &idle) < 0)
				fail("sched_setscheduler");
			break;
		case 'c':
			CPU_ZERO(&one);
			CPU_SET(atoi(optarg), &one);
			if (sched_setaffinity(0, sizeof one, &one) < 0)
				fail("sched_setaffinity");
			break;
		case 'l':
			small_limits();
			break;
		case 'a':
			limit(RLIMIT_AS, (rlim_t)strtoull(optarg, NULL, 10));
			break;
		case 'f':
			limit(RLIMIT_NOFILE, (rlim_t)strtoull(optarg, NULL, 10));
			break;
		case 'u':
			limit(RLIMIT_NPROC, (rlim_t)strtoull(optarg, NULL, 10));
			break;
		case 'i':
			ignore(SIGCHLD), ignore(SIGTERM), ignore(SIGINT), ignore(SIGHUP), ignore(SIGALRM);
			break;
		case 'b':
			sigfillset(&all);
			if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
				fail("sigprocmask");
			break;
		case 't':
			arm(ITIMER_REAL, atol(optarg));
			break;
		case 'p':
			arm(ITIMER_VIRTUAL, atol(optarg));
			arm(ITIMER_PROF, atol(optarg));
			break;
		case 'n':
			ignore(SIGCHLD);
			break;
		default:
			fprintf(stderr, "usage: hostile [-s] [-c CPU] [-l] [-a BYTES] [-f N] [-u N] [-i] [-b] [-t MS] [-p MS] [-n] -- PROG [ARG]...\n");
			return 2;
		}
	}
	if (optind >= argc)
		return 2;
	execvp(argv[optind], argv + optind);
	perror(argv[optind]);
	return 4;
}
