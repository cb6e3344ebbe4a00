/* privilege.c: the helper's own process, out of the caller's reach.
 *
 * A setuid program starts with everything its caller set before exec:
 * signal dispositions and mask, interval timers, scheduling policy, nice,
 * I/O priority, timer slack, CPU affinity, rlimits. Each of these let a
 * student of the first release slow, stop or break root's work at a moment
 * of their choosing, and reached the root-run network script too.
 *
 * MUST (SECURITY.md 38-40):
 * - right after the caller is identified, every uid is root
 *   (setresuid(0,0,0), as sudo does): kill(2), prlimit(2),
 *   sched_setaffinity(2) and setpriority(2) from the caller fail with EPERM;
 * - every inherited attribute is reset to a fixed state chosen here, and
 *   the caller's own rlimits and affinity are kept only for the container's
 *   command (never for mdnet.sh or mdmonitor);
 * - PR_SET_DUMPABLE is 0 again after every credential change (the kernel
 *   resets it to fs.suid_dumpable on each one) and verified;
 * - a cgroup the caller owns (a delegated one: systemd gives every user
 *   their user@UID.service subtree) could freeze us (cgroup.freeze), or
 *   cap our memory or pids mid-way: we leave it for the hierarchy's root
 *   group, which only root can move us out of;
 * - the signals a terminal or a user can send are blocked from the start:
 *   they wait, pending, until supervise() reads them from a signalfd once
 *   the container runs; nothing the caller sends interrupts a half-made
 *   state. */
#define _GNU_SOURCE
#include "core/privilege.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* The limits every root process of minidocker runs with, whatever the
 * caller had: nothing a student set can make root's `ip` fail to load,
 * cut a state file short or kill root's work with SIGXCPU. Where even
 * root cannot raise a hard limit (no CAP_SYS_RESOURCE, as in some
 * container sandboxes), the caller's hard limit stays if it is at least
 * the floor, and the helper refuses to start below it. */
#define INF RLIM_INFINITY
static const struct {
	int resource;
	const char *name;
	rlim_t value, floor;
} fixed_limits[] = {
	{ RLIMIT_CPU, "CPU", INF, INF },              { RLIMIT_FSIZE, "FSIZE", INF, INF },
	{ RLIMIT_DATA, "DATA", INF, INF },            { RLIMIT_STACK, "STACK", 8UL << 20, 8UL << 20 },
	{ RLIMIT_CORE, "CORE", 0, 0 },                { RLIMIT_RSS, "RSS", INF, 0 },
	{ RLIMIT_NPROC, "NPROC", INF, 4096 },         { RLIMIT_NOFILE, "NOFILE", 4096, 1024 },
	{ RLIMIT_MEMLOCK, "MEMLOCK", 8UL << 20, 64UL << 10 },
	{ RLIMIT_AS, "AS", INF, INF },                { RLIMIT_LOCKS, "LOCKS", INF, 1024 },
	{ RLIMIT_SIGPENDING, "SIGPENDING", 65536, 1024 },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", 819200, 0 },   { RLIMIT_NICE, "NICE", 0, 0 },
	{ RLIMIT_RTPRIO, "RTPRIO", 0, 0 },            { RLIMIT_RTTIME, "RTTIME", INF, INF },
};

/* The soft limit is ours; the hard one is only ever raised (to the soft),
 * never lowered: root's children may need more, and the container's
 * command gets the caller's back from it (privilege_give_rlimits). */
static void fix_limit(int i, struct rlimit have)
{
	rlim_t value = fixed_limits[i].value;
	struct rlimit want;

	want.rlim_cur = value;
	want.rlim_max = have.rlim_max >= value ? have.rlim_max : value;
	if (setrlimit(fixed_limits[i].resource, &want) == 0)
		return;
	if (errno != EPERM)
		die_errno("setrlimit(RLIMIT_%s)", fixed_limits[i].name);
	if (have.rlim_max < fixed_limits[i].floor)
		die("your hard limit RLIMIT_%s is too low for minidocker (ulimit -H): start it from a fresh login shell",
		    fixed_limits[i].name);
	want.rlim_max = have.rlim_max;
	want.rlim_cur = value < have.rlim_max ? value : have.rlim_max;
	if (setrlimit(fixed_limits[i].resource, &want) < 0)
		die_errno("setrlimit(RLIMIT_%s)", fixed_limits[i].name);
}

void privilege_block_signals(sigset_t *blocked)
{
	sigfillset(blocked);
	/* Faults stay deliverable: a crash must not become a hang. */
	sigdelset(blocked, SIGSEGV);
	sigdelset(blocked, SIGBUS);
	sigdelset(blocked, SIGFPE);
	sigdelset(blocked, SIGILL);
	sigdelset(blocked, SIGTRAP);
	sigdelset(blocked, SIGABRT);
	if (sigprocmask(SIG_SETMASK, blocked, NULL) < 0)
		die_errno("sigprocmask");
}

/* The signals the caller left ignored (SIG_IGN is the one disposition
 * that survives exec: handlers are reset by it), from procfs's SigIgn;
 * all of them when it cannot be read. */
static unsigned long long ignored_signals(void)
{
	char text[4096], *line;
	unsigned long long mask;
	struct statfs fs;
	ssize_t n = -1;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC)
		n = read(fd, text, sizeof text - 1);
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (!(line = strstr(text, "\nSigIgn:")) || sscanf(line, "\nSigIgn: %llx", &mask) != 1)
		return ~0ULL;
	return mask;
}

/* The kernel's struct sigaction on x86-64 and the other 64-bit ports:
 * glibc's sigaction() refuses the two real-time signals it reserves (32
 * and 33), which a caller can leave ignored all the same. */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long long mask;
};

static void reset_signals(void)
{
	unsigned long long ignored;
	struct kernel_sigaction dfl;
	sigset_t blocked;

	/* Blocked first: no signal lands between a disposition reset and
	 * the mask. Then every disposition the caller may have set back to
	 * default, so that, e.g., an ignored SIGCHLD cannot make the kernel
	 * reap our children. */
	privilege_block_signals(&blocked);
	ignored = ignored_signals();
	memset(&dfl, 0, sizeof dfl);
	dfl.handler = SIG_DFL;
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && ((ignored >> (sig - 1)) & 1))
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

static void reset_timers(void)
{
	static const struct itimerval off;

	if (setitimer(ITIMER_REAL, &off, NULL) < 0 || setitimer(ITIMER_VIRTUAL, &off, NULL) < 0 ||
	    setitimer(ITIMER_PROF, &off, NULL) < 0)
		die_errno("setitimer");
}

void privilege_reset_scheduling(void)
{
	struct sched_param normal = { .sched_priority = 0 };
	cpu_set_t all;

	/* SCHED_IDLE or SCHED_BATCH would let the caller starve root's work;
	 * a reset-on-fork flag would not hold for our children. */
	if (sched_setscheduler(0, SCHED_OTHER, &normal) < 0)
		die_errno("sched_setscheduler");
	if (setpriority(PRIO_PROCESS, 0, 0) < 0)
		die_errno("setpriority");
	/* IOPRIO_WHO_PROCESS, class none: the default best-effort priority. */
	if (syscall(SYS_ioprio_set, 1, 0, 0) < 0)
		die_errno("ioprio_set");
	/* A huge timer slack would stretch every sleep and poll deadline. */
	if (prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_TIMERSLACK)");
	CPU_ZERO(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	/* The kernel keeps the CPUs our cpuset allows: all of them. */
	if (sched_setaffinity(0, sizeof all, &all) < 0)
		die_errno("sched_setaffinity");
}

static void reset_rlimits(struct rlimit saved[PRIVILEGE_RLIMITS])
{
	for (int r = 0; r < PRIVILEGE_RLIMITS; r++)
		if (getrlimit(r, &saved[r]) < 0)
			die_errno("getrlimit");
	for (size_t i = 0; i < sizeof fixed_limits / sizeof fixed_limits[0]; i++)
		fix_limit((int)i, saved[fixed_limits[i].resource]);
}

void privilege_dumpable_off(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		die("cannot make the helper undumpable");
}

void privilege_all_root(void)
{
	uid_t r, e, s;

	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("setresuid");
	if (getresuid(&r, &e, &s) < 0 || r != 0 || e != 0 || s != 0)
		die("cannot take every uid of root");
	privilege_dumpable_off();
	/* While the caller owned our real uid they could renice us, move us
	 * to SCHED_IDLE or pin us (setpriority and sched_setaffinity check
	 * only the real uid), or move us into a v1 group of theirs: whatever
	 * they did goes now. */
	privilege_reset_scheduling();
	privilege_leave_caller_cgroups();
}

/* The directory of hierarchy line "ID:CONTROLLERS:PATH" of
 * /proc/self/cgroup, below /sys/fs/cgroup; 0 if it is not one we know. */
static int hierarchy_dir(char *line, char *dir, size_t size, char *root, size_t rsize)
{
	char *ctl = strchr(line, ':'), *path;
	const char *mount;

	if (!ctl || !(path = strchr(++ctl, ':')))
		return 0;
	*path++ = '\0';
	path[strcspn(path, "\n")] = '\0';
	/* A hierarchy's root group is root's: nothing to look at. (The path is
	 * the host's: a setuid exec does not happen in a namespace the caller
	 * made, and so in a cgroup namespace of theirs.) */
	if (strcmp(path, "/") == 0)
		return 0;
	if (*ctl == '\0') /* the unified hierarchy: alone, or beside v1 */
		mount = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ? "unified" : ".";
	else if (!strcmp(ctl, "name=systemd"))
		mount = "systemd";
	else if (!strncmp(ctl, "name=", 5))
		return 0;
	else
		mount = ctl;
	return snprintf(dir, size, "/sys/fs/cgroup/%s%s", mount, path) < (int)size &&
	       snprintf(root, rsize, "/sys/fs/cgroup/%s/cgroup.procs", mount) < (int)rsize;
}

/* Is the group at dir (or its cgroup.procs) someone's but root's? */
static int caller_may_own(const char *dir)
{
	struct stat st;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), owned = 0;

	if (fd < 0)
		return 0;
	owned = (fstat(fd, &st) == 0 && st.st_uid != 0) ||
		(fstatat(fd, "cgroup.procs", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid != 0);
	close(fd);
	return owned;
}

void privilege_leave_caller_cgroups(void)
{
	char line[4096], dir[4096], root[256];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		die_errno("open(\"/proc/self/cgroup\")");
	while (fgets(line, sizeof line, f)) {
		int fd;

		if (!hierarchy_dir(line, dir, sizeof dir, root, sizeof root) || !caller_may_own(dir))
			continue;
		/* "0": the writer itself, on v1 and v2. */
		fd = open(root, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			die_errno("cannot leave the cgroup %s (yours: it could freeze or starve us)", dir);
		close(fd);
	}
	fclose(f);
}

void privilege_caller_may_signal(uid_t caller)
{
	uid_t r, e, s;

	if (setresuid(caller, 0, 0) < 0)
		die_errno("setresuid");
	if (getresuid(&r, &e, &s) < 0 || r != caller || e != 0 || s != 0)
		die("cannot give the real uid back");
	privilege_dumpable_off();
}

void privilege_reset(struct saved_state *s)
{
	reset_signals();
	reset_timers();
	if (sched_getaffinity(0, sizeof s->affinity, &s->affinity) < 0)
		CPU_ZERO(&s->affinity);
	privilege_reset_scheduling();
	reset_rlimits(s->limits);
}

void privilege_exec_signals(void)
{
	sigset_t none;

	/* SIG_DFL everywhere already (privilege_reset): only the mask is
	 * ours. Raw system call: vfork children call this. */
	sigemptyset(&none);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
}

void privilege_give_rlimits(pid_t pid, const struct saved_state *s)
{
	for (int r = 0; r < PRIVILEGE_RLIMITS; r++)
		prlimit(pid, r, &s->limits[r], NULL); /* the caller's own: best effort */
}
