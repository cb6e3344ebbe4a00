/* cgroup.h: one cgroup per container, on cgroup v1 or v2, with memory, swap,
 * cpuset and pids limits, and on request a CPU quota and I/O limits; OOM
 * kills counted; removed when the container ends.
 *
 * Layout: a parent group MD_CGROUP_NAME (fixed at build time) holding one
 * child per container id.
 *   v1: /sys/fs/cgroup/{memory,cpuset,pids,cpuacct}/MD_CGROUP_NAME/ID, and
 *       cpu (or cpu,cpuacct) and blkio only for a container with a CPU
 *       quota or I/O limits
 *   v2: /sys/fs/cgroup/MD_CGROUP_NAME/ID, +memory +cpuset +pids enabled in
 *       the root's and MD_CGROUP_NAME's cgroup.subtree_control (+cpu, +io
 *       once a container asks for a quota or I/O limits); no process
 *       is ever placed in MD_CGROUP_NAME itself (no-internal-processes rule).
 * Every group and file stays root-owned: nothing is delegated. */
#ifndef MD_CGROUP_H
#define MD_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#ifndef MD_CGROUP_NAME
#error "MD_CGROUP_NAME must be defined at build time (the Makefile does)"
#endif

#define CG_IO_MAX 16 /* devices with I/O limits per container */
#define CG_QUOTA_PERIOD_US 100000 /* the CFS period a quota is a share of (the kernel's default) */
#define CG_QUOTA_MIN 10           /* 0.01 CPU: 1 ms per period, the kernel's least quota */
#define CG_QUOTA_MAX 1024000      /* 1024 CPUs */

enum cg_mode { CG_V1 = 1, CG_V2 = 2 }; /* hybrid hosts count as CG_V1: the controllers are on v1 */

struct cg_limits {
	unsigned long long memory;      /* bytes; 0 = no limit */
	unsigned long long memory_swap; /* memory+swap bytes (docker's --memory-swap); 0 = no swap beyond memory */
	char cpus[256];                 /* cpuset list e.g. "0-1,3"; "" = all the parent allows */
	unsigned long long pids;        /* 0 = no limit */
	unsigned cpu_quota;             /* CPU time in thousandths of a CPU (500 = half a CPU); 0 = no quota */
	struct cg_io {                  /* I/O limits of one block device (a whole disk) */
		unsigned major, minor;
		unsigned long long rbps, wbps; /* bytes per second; 0 = no limit */
	} io[CG_IO_MAX];
	int nio;
};

/* The hierarchies a container's group lives in: v1 has one per controller,
 * v2 uses slot CG_MEMORY for its single group. */
enum cg_ctl { CG_MEMORY, CG_CPUSET, CG_PIDS, CG_CPUACCT, CG_CPU, CG_BLKIO, CG_NCTL };
/* CG_CPUACCT is v1 only and optional (for mdctl.sh stats): skipped where
 * the machine has no cpuacct hierarchy; v2 counts CPU time in every group.
 * CG_CPU and CG_BLKIO (v1; v2's cpu and io controllers) are used only by a
 * container with a CPU quota or I/O limits. Where cpu and cpuacct share
 * one hierarchy ("cpu,cpuacct"), CG_CPU is CG_CPUACCT's group (slot_of). */

#define CG_ID_MAX 63

struct cg {
	enum cg_mode mode;
	int parent_fd[CG_NCTL]; /* MD_CGROUP_NAME in each hierarchy, O_PATH; -1 unused */
	int fd[CG_NCTL];        /* the container's group, O_PATH; -1 unused */
	int made[CG_NCTL];      /* 1 while we own a group there that must be removed */
	int slot_of[CG_NCTL];   /* v1: the slot whose group serves controller c (itself, or a co-mounted one) */
	char hier[CG_NCTL][16]; /* v1: the hierarchy's directory below /sys/fs/cgroup ("cpu,cpuacct"); "" unused */
	char id[CG_ID_MAX + 1];
};

enum cg_mode cg_detect(void);         /* statfs once, cached (as crun does) */
int  cg_swap_supported(void);         /* v1: memory.memsw.* present; v2: memory.swap.max present */
void cg_parent_cpus(char *buf, size_t size); /* the CPUs a container may use here (parent's effective cpuset) */
int  cg_pick_cpus(unsigned n, const char *allowed, char *out, size_t size); /* first n CPUs of allowed ∩ parent's; -1 if fewer */
int  cg_cpulist_subset(const char *list, const char *allowed); /* 1 if every CPU of list is in allowed; -1 on a malformed list */
void cg_create(struct cg *cg, const char *id, const struct cg_limits *lim);  /* die()s on failure, leaving nothing */
void cg_enter_self(struct cg *cg);            /* v1: the calling (single-threaded) child enters every group */
void cg_enter_child(struct cg *cg, pid_t pid); /* v2: the parent puts its child in the group */
int  cg_clone_fd(const struct cg *cg);        /* v2: the group's fd for CLONE_INTO_CGROUP; v1: -1 */
unsigned long long cg_oom_kills(struct cg *cg); /* from memory.events oom_kill (v2) / memory.oom_control oom_kill (v1) */
void cg_destroy(struct cg *cg);               /* rmdir every group, retry on EBUSY for a bounded time (as runc), never dies */
int cg_destroy_by_id(const char *id);        /* for gc: remove a leftover group by its id; 1 once none is left */

/* Notes on the calls above:
 * - CPU lists are strict: "N" or "N-M" (N <= M < 4096) joined by ',', no
 *   spaces, no leading zeros, no trailing newline. allowed == NULL means no
 *   restriction; allowed == "" is the empty set (nothing is a subset of it).
 *   A list that is empty is malformed (-1).
 * - cg_parent_cpus and cg_pick_cpus read the machine's cpuset: they die()
 *   if /sys/fs/cgroup cannot be read; cg_pick_cpus returns 0 on success.
 * - cg_create refuses (die) a swap limit below the memory limit, a swap
 *   limit without a memory limit, a swap limit above memory when the kernel
 *   does not account swap (cg_swap_supported() == 0), a malformed CPU list,
 *   and CPUs outside cg_parent_cpus(). It must run with fsuid 0 (the groups
 *   must be root's). On v1 it copies the root's cpuset.cpus/mems into
 *   MD_CGROUP_NAME each time, so the parent follows the machine's CPUs;
 *   administrators restrict CPUs with cpus= in the config, not here.
 *   It refuses a CPU quota outside CG_QUOTA_MIN..CG_QUOTA_MAX, more than
 *   CG_IO_MAX I/O limits, and a quota or I/O limit where the machine has
 *   no cpu or blkio/io controller; the kernel refuses a device that is not
 *   a whole disk (the caller resolves and checks devices first).
 *   With no swap requested it sets v1 memsw = memory (or memory.swappiness
 *   = 0 when memsw is absent), v2 memory.swap.max = 0.
 * - cg_enter die()s if a write to cgroup.procs fails; it does not remove
 *   the group (the caller, which owns the child, cleans up).
 * - cg_destroy and cg_destroy_by_id warn (warnx_) on what they could not
 *   remove; ENOENT counts as removed. A zeroed struct cg is safe to destroy.
 * - Cgroup namespace: clone(CLONE_NEWCGROUP) roots the namespace at the
 *   cgroup of the process calling clone, i.e. the helper's own, not the
 *   container's group. To root it at the container's group, the child
 *   should unshare(CLONE_NEWCGROUP) after cg_enter put it there. */

/* Additions beyond the agreed interface. */

/* Highest memory use the kernel recorded for the group, in bytes
 * (v1 memory.max_usage_in_bytes, v2 memory.peak); 0 when unavailable. */
unsigned long long cg_memory_peak(struct cg *cg);
/* Close the group fds without removing anything: for a forked child that
 * must not carry privileged fds towards exec (SECURITY.md 25). */
void cg_release(struct cg *cg);
/* 1 if id is acceptable as a group name: [a-z0-9][a-z0-9_.-]{0,62}, not
 * "." or "..". */
int cg_id_valid(const char *id);

/* What `mdhelper stats` shows, read from the kernel's files; a value the
 * kernel does not offer is CG_NONE, "no limit" is CG_UNLIMITED. */
#define CG_NONE (~0ULL)
#define CG_UNLIMITED (~0ULL - 1)
struct cg_stats {
	unsigned long long mem_current, mem_limit, mem_peak;
	unsigned long long cpu_ns;      /* CPU time used since the start */
	unsigned long long pids_current, pids_max;
	unsigned long long oom_kills;
};
/* Open an existing container's groups by id (for exec and stats), making
 * nothing; returns 0, or -1 if it has no group. Destroy with cg_release. */
int cg_open_by_id(struct cg *cg, const char *id);
void cg_read_stats(struct cg *cg, struct cg_stats *st);

#endif
