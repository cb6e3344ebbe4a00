/* control.c: ps, kill/stop and stats over the registry.
 *
 * Everything shown comes from what helpers wrote in the root-owned
 * registry and from the kernel (cgroup files, /proc of the host); nothing a
 * container or a user can write is read (SECURITY.md 27-28). Signals go
 * through a pidfd opened on the pinned PID 1, never a bare pid. */
#define _GNU_SOURCE
#include "control.h"
#include "cgroup/cgroup.h"
#include "core/parse.h"
#include "state/registry.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- ps ---- */

struct ps_opts {
	int json, all;
	long long now;
};

static void owner_name(unsigned long uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	if (pw && strlen(pw->pw_name) < size)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%lu", uid);
}

static void uptime(long long secs, char *buf, size_t size)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(buf, size, "%llds", secs);
	else if (secs < 3600)
		snprintf(buf, size, "%lldm%02llds", secs / 60, secs % 60);
	else if (secs < 86400)
		snprintf(buf, size, "%lldh%02lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%02lldh", secs / 86400, secs % 86400 / 3600);
}

/* A JSON string: the registry keeps printable ASCII only, so escaping
 * the quote and the backslash is all there is to do. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void ps_json(const struct entry *e, const struct ps_opts *o)
{
	char owner[64];

	owner_name(e->uid, owner, sizeof owner);
	printf("{\"name\":\"%s\",\"owner\":", e->name);
	json_string(owner);
	printf(",\"uid\":%lu,\"pid\":%ld,\"hostname\":\"%s\",\"ip\":", e->uid, e->pid, e->hostname);
	if (strcmp(e->addr, "-"))
		printf("\"%s\"", e->addr);
	else
		printf("null");
	printf(",\"memory\":");
	e->memory ? printf("%llu", e->memory) : printf("null");
	printf(",\"cpus\":");
	strcmp(e->cpus, "-") ? printf("\"%s\"", e->cpus) : printf("null");
	printf(",\"pids_limit\":");
	e->pids ? printf("%llu", e->pids) : printf("null");
	printf(",\"created\":%lld,\"uptime\":%lld,\"detached\":%s,\"command\":", e->created,
	       o->now - e->created, e->detached ? "true" : "false");
	json_string(e->command);
	printf("}\n");
}

static void ps_row(const struct entry *e, void *arg)
{
	const struct ps_opts *o = arg;
	char mem[32] = "-", up[32], owner[64];

	if (o->json) {
		ps_json(e, o);
		return;
	}
	if (e->memory)
		format_size(e->memory, mem, sizeof mem);
	uptime(o->now - e->created, up, sizeof up);
	if (o->all) {
		owner_name(e->uid, owner, sizeof owner);
		printf("%-12s ", owner);
	}
	printf("%-20s %-7ld %-16s %-15s %-7s %-7s %-8s %s\n", e->name, e->pid, e->hostname,
	       e->addr, mem, strcmp(e->cpus, "-") ? e->cpus : "all", up, e->command);
}

int control_ps(const struct caller *c, int argc, char **argv)
{
	struct ps_opts o = { .all = c->uid == 0, .now = (long long)time(NULL) };

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			o.json = 1;
		else
			die("usage: mdhelper ps [--json]");
	}
	if (!o.json) {
		if (o.all)
			printf("%-12s ", "OWNER");
		printf("%-20s %-7s %-16s %-15s %-7s %-7s %-8s %s\n", "NAME", "PID", "HOSTNAME",
		       "IP", "MEMORY", "CPUSET", "UPTIME", "COMMAND");
	}
	registry_each(c, ps_row, &o);
	return fflush(stdout) == 0 ? 0 : MD_EXIT_REFUSED;
}

/* ---- kill, stop ---- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "WINCH", SIGWINCH },
};

static int signal_number(const char *s)
{
	uint64_t n;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (!strcmp(s, signals[i].name))
			return signals[i].sig;
	if (parse_u64(s, 64, &n) == 0 && n > 0)
		return (int)n;
	die("unknown signal: %s (a name such as TERM or KILL, or a number 1-64)", s);
}

/* Wait up to ms for a pidfd's process to end; 1 if it did. */
static int wait_gone(int pidfd, int ms)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0;
}

static int send_signal(int pidfd, int sig, const char *name)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH)
			return 0; /* ended meanwhile: what stop wanted */
		die_errno("signal to %s", name);
	}
	return 1;
}

/* Stop and kill wait for the helper too, and then for the container's host
 * port, which the kernel removes with its network namespace moments after
 * (see net_release): when they return, the name and the address are free
 * for the next start. */
static void wait_monitor(const struct entry *e)
{
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)e->helper, 0);
	struct timespec tick = { 0, 10000000 };

	if (fd >= 0) {
		if (registry_start_time(e->helper) == e->helper_start && !wait_gone(fd, 10000))
			warnx_("%s: its helper is still cleaning up", e->name);
		close(fd);
	}
	for (int i = 0; i < 1000 && strcmp(e->addr, "-") && net_port_exists(e->addr); i++)
		nanosleep(&tick, NULL);
}

int control_kill(const struct caller *c, int argc, char **argv)
{
	static const char usage[] = "usage: mdhelper kill [--signal SIG] [--timeout SECONDS] NAME";
	int sig = SIGKILL, timeout = -1, i = 0, pidfd;
	struct entry e;
	uint64_t n;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--signal"))
			sig = signal_number(argv[i + 1]);
		else if (!strcmp(argv[i], "--timeout") && parse_u64(argv[i + 1], 86400, &n) == 0)
			timeout = (int)n;
		else
			die("%s", usage);
	}
	if (i + 1 != argc || !valid_name(argv[i]))
		die("%s", usage);
	registry_find(argv[i], c, &e, &pidfd);
	audit(1, "kill %s signal=%d timeout=%d", e.name, sig, timeout);
	if (send_signal(pidfd, sig, e.name) && timeout >= 0 && !wait_gone(pidfd, timeout * 1000)) {
		/* PID 1 ignores signals it has no handler for: stop's last word. */
		send_signal(pidfd, SIGKILL, e.name);
		wait_gone(pidfd, 10000);
	}
	close(pidfd);
	/* SIGKILL always ends it; another signal may be handled (HUP, USR1). */
	if (timeout >= 0 || sig == SIGKILL)
		wait_monitor(&e);
	return 0;
}

/* ---- stats ---- */

/* 10M when exact, else 2.4M: one decimal is enough to read a use. */
static void human_size(unsigned long long v, char *buf, size_t size)
{
	static const char units[] = "KMG";
	double x = (double)v;
	int u = -1;

	if (v < 1024 || (v % 1024 == 0 && (v < (1ULL << 20) || v % (1ULL << 20) == 0))) {
		format_size(v, buf, size);
		return;
	}
	while (x >= 1024 && u < 2)
		x /= 1024, u++;
	snprintf(buf, size, "%.1f%c", x, units[u]);
}

static void size_text(unsigned long long v, char *buf, size_t size)
{
	if (v == CG_NONE || v == CG_UNLIMITED)
		snprintf(buf, size, "%s", v == CG_NONE ? "-" : "max");
	else
		human_size(v, buf, size);
}

#define STATS_ROW "%-20s %-9s %-9s %-7s %-9s %-7s %-11s "

static void json_number(const char *key, unsigned long long v)
{
	if (v == CG_NONE || v == CG_UNLIMITED)
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%llu", key, v);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void stats_one(const struct caller *c, const char *name, int json)
{
	struct entry e;
	struct cg cg;
	struct cg_stats a, b;
	double t0, t1, cpu = -1;
	char mem[32], limit[32], peak[32], share[16] = "-", cpu_text[16] = "-", pids[48] = "-";
	int pidfd;

	registry_find(name, c, &e, &pidfd);
	/* PID 1 still there after the cgroup is open: the cgroup is this
	 * container's, not that of a namesake started since, perhaps by
	 * another user (the names of ended containers are free again). */
	if (cg_open_by_id(&cg, name) < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		die("no such container: %s", name);
	close(pidfd);
	/* CPU % is use over a short interval, as docker stats measures it. */
	cg_read_stats(&cg, &a);
	t0 = now_ns();
	usleep(500000);
	cg_read_stats(&cg, &b);
	t1 = now_ns();
	cg_release(&cg);
	if (a.cpu_ns != CG_NONE && b.cpu_ns != CG_NONE && b.cpu_ns >= a.cpu_ns)
		cpu = 100.0 * (double)(b.cpu_ns - a.cpu_ns) / (t1 - t0);
	if (json) {
		printf("{\"name\":\"%s\"", e.name);
		json_number("memory_bytes", b.mem_current);
		json_number("memory_limit_bytes", b.mem_limit);
		json_number("memory_peak_bytes", b.mem_peak);
		cpu >= 0 ? printf(",\"cpu_percent\":%.1f", cpu) : printf(",\"cpu_percent\":null");
		json_number("cpu_ns", b.cpu_ns);
		json_number("pids", b.pids_current);
		json_number("pids_limit", b.pids_max);
		printf(",\"oom_kills\":%llu}\n", b.oom_kills);
		return;
	}
	size_text(b.mem_current, mem, sizeof mem);
	size_text(b.mem_limit, limit, sizeof limit);
	size_text(b.mem_peak, peak, sizeof peak);
	if (b.mem_limit != CG_NONE && b.mem_limit != CG_UNLIMITED && b.mem_limit &&
	    b.mem_current != CG_NONE)
		snprintf(share, sizeof share, "%.1f%%", 100.0 * (double)b.mem_current / (double)b.mem_limit);
	if (cpu >= 0)
		snprintf(cpu_text, sizeof cpu_text, "%.1f%%", cpu);
	if (b.pids_current != CG_NONE && (b.pids_max == CG_NONE || b.pids_max == CG_UNLIMITED))
		snprintf(pids, sizeof pids, "%llu", b.pids_current);
	else if (b.pids_current != CG_NONE)
		snprintf(pids, sizeof pids, "%llu/%llu", b.pids_current, b.pids_max);
	printf(STATS_ROW, e.name, mem, limit, share, peak, cpu_text, pids);
	printf("%llu\n", b.oom_kills);
}

int control_stats(const struct caller *c, int argc, char **argv)
{
	int json = 0, i = 0;

	if (i < argc && !strcmp(argv[i], "--json"))
		json = 1, i++;
	if (i >= argc)
		die("usage: mdhelper stats [--json] NAME...");
	for (int j = i; j < argc; j++)
		if (!valid_name(argv[j]))
			die("no such container: %s", argv[j]);
	if (!json)
		printf(STATS_ROW "%s\n", "NAME", "MEMORY", "LIMIT", "MEM %", "PEAK", "CPU %",
		       "PIDS", "OOM KILLS");
	for (; i < argc; i++)
		stats_one(c, argv[i], json);
	return fflush(stdout) == 0 ? 0 : MD_EXIT_REFUSED;
}
