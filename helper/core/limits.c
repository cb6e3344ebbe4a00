/* limits.c: turn a checked request into the limits written to the cgroup.
 *
 * MUST: a cap in the caller's rule holds even when the request names no
 * limit (a container without --memory still gets the rule's memory= cap);
 * a pids limit is always set; nothing is clipped silently (SECURITY.md 11:
 * policy.c has already refused what exceeds the rule). */
#define _GNU_SOURCE
#include "core/limits.h"
#include "core/parse.h"
#include "core/privilege.h"
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Without pids= in the rule, a container still cannot fork-bomb the host. */
#define DEFAULT_PIDS 512

static void choose_cpus(struct cg_limits *lim, const struct config *cfg,
			const struct rule *r, const struct request *req)
{
	char allowed[256] = "";

	if (r->has_cpus && format_cpulist(r->cpus, allowed, sizeof allowed) < 0)
		die("the CPU list of %s:%d is too long", cfg->file, r->line);
	if (!allowed[0])
		cg_parent_cpus(allowed, sizeof allowed);
	if (req->cpuset) {
		if (cg_cpulist_subset(req->cpuset, allowed) != 1)
			die("cpuset %s is not within the CPUs you may use here (%s)",
			    req->cpuset, allowed);
		xsnprintf(lim->cpus, sizeof lim->cpus, "%s", req->cpuset);
	} else if (req->cpus) {
		if (cg_pick_cpus(req->cpus, allowed, lim->cpus, sizeof lim->cpus) < 0)
			die("cpus %u: only the CPUs %s may be used here", req->cpus, allowed);
	} else if (r->has_cpus) {
		/* No request: all the rule allows that this machine has. */
		uint64_t here[16];
		char parent[256];

		cg_parent_cpus(parent, sizeof parent);
		if (parse_cpulist(parent, here) < 0)
			die("cannot read this machine's CPUs (%s)", parent);
		for (int i = 0; i < 16; i++)
			here[i] &= r->cpus[i];
		if (!cpumask_count(here) || format_cpulist(here, lim->cpus, sizeof lim->cpus) < 0)
			die("none of the CPUs of %s:%d is available here", cfg->file, r->line);
	}
}

void limits_compute(struct cg_limits *lim, const struct config *cfg,
		    const struct rule *r, const struct request *req)
{
	memset(lim, 0, sizeof *lim);
	lim->memory = req->memory ? req->memory : r->memory;
	lim->pids = req->pids ? req->pids : r->pids ? r->pids : DEFAULT_PIDS;
	if (req->memory_swap) {
		if (!cg_swap_supported())
			die("--memory-swap: swap accounting is not enabled on this machine");
		if (!lim->memory)
			die("--memory-swap needs --memory");
		lim->memory_swap = req->memory_swap;
	}
	choose_cpus(lim, cfg, r, req);
	/* Like memory=: the rule's cap holds without a request. */
	lim->cpu_quota = req->cpu_quota ? req->cpu_quota : (unsigned)r->cpu_quota;
}

/* stat as the caller: the path is theirs to choose, so it is looked up with
 * their rights (SECURITY.md 16-17: no open, nothing they could not reach;
 * "not found" and "permission denied" read the same). A symlink is
 * followed as stat(1) would for them (/dev/disk/by-id/...): only the
 * numbers are used, and a limit binds nothing but their own container. */
static int stat_as_caller(const char *path, const struct caller *c, struct stat *st)
{
	int rc;

	setfsgid(c->gid);
	setfsuid(c->uid);
	rc = stat(path, st);
	setfsuid(0);
	setfsgid(0);
	if (setfsuid((uid_t)-1) != 0)
		die("cannot restore fsuid");
	privilege_dumpable_off(); /* reset by each fsuid change (SECURITY.md 40) */
	return rc;
}

/* The kernel takes I/O limits for whole disks only: a partition would be
 * refused at the write to the cgroup, with a less helpful message. */
static int is_partition(const struct stat *st)
{
	char path[96];
	struct stat p;

	xsnprintf(path, sizeof path, "/sys/dev/block/%u:%u/partition", major(st->st_rdev),
		  minor(st->st_rdev));
	return stat(path, &p) == 0;
}

static struct cg_io *io_entry(struct cg_limits *lim, const struct stat *st)
{
	int i;

	for (i = 0; i < lim->nio; i++)
		if (lim->io[i].major == major(st->st_rdev) && lim->io[i].minor == minor(st->st_rdev))
			return &lim->io[i];
	if (lim->nio == CG_IO_MAX)
		die("too many devices with I/O limits (at most %d)", CG_IO_MAX);
	lim->nio++;
	lim->io[i].major = major(st->st_rdev);
	lim->io[i].minor = minor(st->st_rdev);
	return &lim->io[i];
}

void limits_devices(struct cg_limits *lim, const struct request *req, const struct caller *c)
{
	for (int i = 0; i < req->nio; i++) {
		const struct req_io *io = &req->io[i];
		const char *opt = io->write ? "--device-write-bps" : "--device-read-bps";
		struct cg_io *e;
		struct stat st;

		if (stat_as_caller(io->path, c, &st) < 0)
			die("%s %s: not found or not accessible", opt, io->path);
		if (!S_ISBLK(st.st_mode))
			die("%s %s: not a block device", opt, io->path);
		if (is_partition(&st))
			die("%s %s: a partition; I/O limits apply to a whole disk (name its disk)",
			    opt, io->path);
		e = io_entry(lim, &st);
		*(io->write ? &e->wbps : &e->rbps) = io->bps;
	}
}
