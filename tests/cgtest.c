/* cgtest: drive helper/cgroup.c directly, as root, for tests/cgroup.bats.
 * Test-only: it runs CMD as root, so it is never installed.
 *
 * Usage: cgtest create ID MEM SWAP CPUS PIDS -- CMD [ARG...]
 *          Create the group (MEM, SWAP: bytes or NK/NM/NG, 0 = none; CPUS
 *          "" = all; PIDS 0 = none), run CMD in it, then print
 *          oom_kills=N, peak=BYTES, status=exit N | status=signal N,
 *          remove the group, and exit with CMD's status (128+N if killed).
 *        cgtest bench N
 *          N x (create + enter a waiting child + destroy); prints median
 *          microseconds of each phase and of the three together.
 *        cgtest info              mode=v1|v2 swap=0|1 parent_cpus=LIST
 *        cgtest pick N ALLOWED    cg_pick_cpus ("-" for ALLOWED = NULL)
 *        cgtest subset LIST ALLOWED   cg_cpulist_subset, prints 1, 0 or -1
 *        cgtest destroy-id ID     cg_destroy_by_id */
#define _GNU_SOURCE
#include "cgroup/cgroup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static MD_NORETURN void usage(void)
{
	fputs("usage: cgtest create ID MEM SWAP CPUS PIDS -- CMD... | bench N | info |\n"
	      "       pick N ALLOWED | subset LIST ALLOWED | destroy-id ID\n", stderr);
	exit(2);
}

static unsigned long long size_arg(const char *s)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		usage();
	if (*end == 'K')
		mult = 1ULL << 10;
	else if (*end == 'M')
		mult = 1ULL << 20;
	else if (*end == 'G')
		mult = 1ULL << 30;
	else if (*end)
		usage();
	if (*end && end[1])
		usage();
	return v * mult;
}

/* A child that waits until it is in the group, then execs argv (or exits 0
 * when argv is NULL). Returns the pid; *go is the pipe end that releases it. */
static pid_t spawn_waiting(struct cg *cg, char **argv, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		die_errno("pipe2");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		cg_enter_self(cg); /* v1: as the helper's child does */
		cg_release(cg);
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127); /* the parent died before placing us */
		if (!argv)
			_exit(0);
		execvp(argv[0], argv);
		fprintf(stderr, "cgtest: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	return st;
}

static int cmd_create(int argc, char **argv)
{
	struct cg_limits lim;
	struct cg cg;
	pid_t pid;
	int go, st;

	if (argc < 9 || strcmp(argv[7], "--"))
		usage();
	memset(&lim, 0, sizeof lim);
	lim.memory = size_arg(argv[3]);
	lim.memory_swap = size_arg(argv[4]);
	if (strlen(argv[5]) >= sizeof lim.cpus)
		usage();
	strcpy(lim.cpus, argv[5]);
	lim.pids = size_arg(argv[6]);
	cg_create(&cg, argv[2], &lim);
	pid = spawn_waiting(&cg, argv + 8, &go);
	cg_enter_child(&cg, pid);
	if (write(go, "g", 1) != 1)
		die_errno("write");
	close(go);
	st = wait_status(pid);
	printf("oom_kills=%llu\npeak=%llu\n", cg_oom_kills(&cg), cg_memory_peak(&cg));
	if (WIFSIGNALED(st))
		printf("status=signal %d\n", WTERMSIG(st));
	else
		printf("status=exit %d\n", WEXITSTATUS(st));
	fflush(stdout);
	cg_destroy(&cg);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The limits a typical student container gets. */
static void bench_one(int i, double *create, double *enter, double *destroy)
{
	struct cg_limits lim = { .memory = 64ULL << 20, .pids = 64 };
	struct cg cg;
	char id[32];
	double t0, t1;
	pid_t pid;
	int go;

	xsnprintf(id, sizeof id, "cgbats-bench-%d", i);
	t0 = now_us();
	cg_create(&cg, id, &lim);
	*create = now_us() - t0;
	pid = spawn_waiting(&cg, NULL, &go);
	t0 = now_us();
	cg_enter_child(&cg, pid);
	t1 = now_us();
	*enter = t1 - t0;
	if (write(go, "g", 1) != 1)
		die_errno("write");
	close(go);
	wait_status(pid);
	t0 = now_us();
	cg_destroy(&cg);
	*destroy = now_us() - t0;
}

static int cmd_bench(int argc, char **argv)
{
	int i, n;
	double *c, *e, *d, *t, start;

	if (argc != 3 || (n = atoi(argv[2])) <= 0 || n > 100000)
		usage();
	c = calloc((size_t)n, sizeof *c);
	e = calloc((size_t)n, sizeof *e);
	d = calloc((size_t)n, sizeof *d);
	t = calloc((size_t)n, sizeof *t);
	if (!c || !e || !d || !t)
		die("out of memory");
	start = now_us();
	for (i = 0; i < n; i++) {
		bench_one(i, &c[i], &e[i], &d[i]);
		t[i] = c[i] + e[i] + d[i];
	}
	printf("runs=%d wall_s=%.2f\n", n, (now_us() - start) / 1e6);
	printf("median_us total=%.0f create=%.0f enter=%.0f destroy=%.0f\n",
	       median(t, n), median(c, n), median(e, n), median(d, n));
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	printf("p90_us total=%.0f max_us total=%.0f\n", t[n * 9 / 10], t[n - 1]);
	free(c);
	free(e);
	free(d);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	char buf[256];

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "create"))
		return cmd_create(argc, argv);
	if (!strcmp(argv[1], "bench"))
		return cmd_bench(argc, argv);
	if (!strcmp(argv[1], "info") && argc == 2) {
		cg_parent_cpus(buf, sizeof buf);
		printf("mode=v%d swap=%d parent_cpus=%s\n", cg_detect() == CG_V2 ? 2 : 1,
		       cg_swap_supported(), buf);
		return 0;
	}
	if (!strcmp(argv[1], "pick") && argc == 4) {
		if (cg_pick_cpus((unsigned)atoi(argv[2]), strcmp(argv[3], "-") ? argv[3] : NULL,
				 buf, sizeof buf) < 0) {
			puts("-1");
			return 1;
		}
		puts(buf);
		return 0;
	}
	if (!strcmp(argv[1], "subset") && argc == 4) {
		printf("%d\n", cg_cpulist_subset(argv[2], strcmp(argv[3], "-") ? argv[3] : NULL));
		return 0;
	}
	if (!strcmp(argv[1], "destroy-id") && argc == 3) {
		cg_destroy_by_id(argv[2]);
		return 0;
	}
	usage();
}
