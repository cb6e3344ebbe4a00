/* cgroup.c: the container's cgroup on v1 or v2: create, limit, join, count
 * OOM kills, remove.
 *
 * MUST:
 * - Everything is reached by fd from /sys/fs/cgroup opened O_PATH|O_NOFOLLOW;
 *   every mkdirat/openat is relative to a checked dirfd, with O_NOFOLLOW.
 * - The hierarchies are checked to be cgroup file systems (fstatfs), and
 *   MD_CGROUP_NAME to be root-owned and not group/other-writable: the
 *   container's root (the student, through a user namespace) must never be
 *   able to write a limit (SECURITY.md 19, 28, CVE-2019-11328).
 * - Nothing is delegated: groups and files keep the kernel's root-owned modes.
 * - Nothing a container can write is read back and trusted; only
 *   kernel-written counters (memory.events, memory.oom_control) are read.
 * - Ids are checked again here: [a-z0-9][a-z0-9_.-]{0,62}.
 * - cg_create either finishes or dies having removed what it made.
 *
 * One code path for both hierarchies: the mode is detected once (statfs, as
 * crun does) and the writers pick their file names from a per-mode table. */
#define _GNU_SOURCE
#include "cgroup/cgroup.h"
#include "core/parse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
#define CG_DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define CG_MAX_CPUS 1024 /* as parse.c's CPU lists */
#define RMDIR_PATIENCE_MS 1000

static const char *const ctl_name[CG_NCTL] = { "memory", "cpuset", "pids", "cpuacct", "cpu",
						 "blkio" };
/* v2's controller of each slot, for cgroup.subtree_control: NULL where v2
 * needs none (CPU time is counted in every group). */
static const char *const v2_name[CG_NCTL] = { "memory", "cpuset", "pids", NULL, "cpu", "io" };
/* The slots every container uses; CG_CPU and CG_BLKIO only on request. */
#define CG_BASE ((1u << CG_MEMORY) | (1u << CG_CPUSET) | (1u << CG_PIDS) | (1u << CG_CPUACCT))

/* The files each mode keeps a value in. */
struct cg_files {
	const char *mem_limit, *swap_limit, *oom, *peak, *cpus_effective;
};
static const struct cg_files files_v1 = {
	"memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
	"memory.oom_control", "memory.max_usage_in_bytes", "cpuset.effective_cpus",
};
static const struct cg_files files_v2 = {
	"memory.max", "memory.swap.max",
	"memory.events", "memory.peak", "cpuset.cpus.effective",
};

static enum cg_mode detected;
static int swap_known = -1;
/* The group cg_create is building: removed if one of its steps fails. */
static struct cg *half_made;

struct cpus {
	uint64_t w[CG_MAX_CPUS / 64];
};

static int remove_groups(struct cg *cg);

/* ---- dying without leaving a half-made group ---- */

static MD_NORETURN __attribute__((format(printf, 2, 0))) void
vfail(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[768];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (half_made) {
		struct cg *cg = half_made;
		half_made = NULL;
		remove_groups(cg);
	}
	if (with_errno)
		die("%s: %s", msg, strerror(saved));
	die("%s", msg);
}

static MD_NORETURN MD_PRINTF(1, 2) void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(0, fmt, ap);
}

static MD_NORETURN MD_PRINTF(1, 2) void fail_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(1, fmt, ap);
}

/* ---- mode, paths, checked directories ---- */

enum cg_mode cg_detect(void)
{
	struct statfs sf;

	if (detected)
		return detected;
	if (statfs(CG_ROOT, &sf) < 0)
		fail_errno("cgroup: statfs(\"%s\")", CG_ROOT);
	if (sf.f_type == CGROUP2_SUPER_MAGIC)
		detected = CG_V2;
	else if (sf.f_type == TMPFS_MAGIC)
		detected = CG_V1; /* legacy, or hybrid with a controller-less unified/ */
	else
		fail("cgroup: %s is not a cgroup2 or cgroup v1 (tmpfs) mount", CG_ROOT);
	return detected;
}

static const struct cg_files *files(void)
{
	return cg_detect() == CG_V2 ? &files_v2 : &files_v1;
}

/* v1 keeps one group per controller; v2 one group for all, in slot 0. */
static int nslots(enum cg_mode mode)
{
	return mode == CG_V2 ? 1 : CG_NCTL;
}

static int slot(const struct cg *cg, enum cg_ctl c)
{
	return cg->mode == CG_V2 ? 0 : cg->slot_of[c];
}

/* "/sys/fs/cgroup[/hierarchy]/MD_CGROUP_NAME[/id]", for messages. */
static void group_path(char *buf, size_t size, const struct cg *cg, int s, const char *id)
{
	const char *hier = cg->hier[s][0] ? cg->hier[s] : ctl_name[s];

	snprintf(buf, size, "%s%s%s/%s%s%s", CG_ROOT, cg->mode == CG_V2 ? "" : "/",
		 cg->mode == CG_V2 ? "" : hier, MD_CGROUP_NAME,
		 id ? "/" : "", id ? id : "");
}

int cg_id_valid(const char *id)
{
	size_t i, n = strnlen(id, CG_ID_MAX + 1);

	if (n == 0 || n > CG_ID_MAX)
		return 0;
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1; /* no '/', and ".." cannot start with [a-z0-9] */
}

static int open_root(void)
{
	int fd = open(CG_ROOT, CG_DIR_FLAGS);

	if (fd < 0)
		fail_errno("cgroup: open(\"%s\")", CG_ROOT);
	return fd;
}

/* The top of the hierarchy holding controller c: v1 /sys/fs/cgroup/<c>, v2
 * the root itself. Checked to be a cgroup file system, so that a plain
 * directory under the tmpfs is never mistaken for one. */
static int open_hier(int root, enum cg_mode mode, enum cg_ctl c)
{
	long magic = mode == CG_V2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
	const char *name = mode == CG_V2 ? "." : ctl_name[c];
	struct statfs sf;
	int fd = openat(root, name, CG_DIR_FLAGS);

	if (fd < 0)
		fail_errno("cgroup: the %s controller is not mounted at %s/%s", ctl_name[c],
			   CG_ROOT, name);
	if (fstatfs(fd, &sf) < 0 || (long)sf.f_type != magic) {
		close(fd);
		fail("cgroup: %s/%s is not a cgroup%s hierarchy", CG_ROOT, name,
		     mode == CG_V2 ? "2" : " v1");
	}
	return fd;
}

/* v1's optional hierarchies: cpuacct and cpu have one each on some hosts
 * (this CI machine), share "cpu,cpuacct" on Debian and Ubuntu (where "cpu"
 * and "cpuacct" are symlinks: never followed). Returns -1 when the machine
 * has none; *name is the directory found. */
static int open_optional(int root, enum cg_ctl c, const char **name)
{
	static const char *const names[CG_NCTL][2] = {
		[CG_CPUACCT] = { "cpuacct", "cpu,cpuacct" },
		[CG_CPU] = { "cpu", "cpu,cpuacct" },
		[CG_BLKIO] = { "blkio", NULL },
	};

	for (size_t i = 0; i < 2 && names[c][i]; i++) {
		struct statfs sf;
		int fd = openat(root, names[c][i], CG_DIR_FLAGS);

		if (fd >= 0 && fstatfs(fd, &sf) == 0 && (long)sf.f_type == CGROUP_SUPER_MAGIC) {
			*name = names[c][i];
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/* The hierarchy of slot s, its directory name kept in cg->hier[s]; -1
 * where the machine has no such optional hierarchy, or where s shares an
 * earlier slot's ("cpu,cpuacct": cg->slot_of[s] then names that slot, so
 * that one group is made, written and removed once). */
static int open_slot(int root, struct cg *cg, int s)
{
	const char *name = ctl_name[s];
	int fd;

	if (cg->mode == CG_V2)
		return s == 0 ? open_hier(root, CG_V2, CG_MEMORY) : -1;
	if (s < CG_CPUACCT)
		fd = open_hier(root, CG_V1, (enum cg_ctl)s);
	else
		fd = open_optional(root, (enum cg_ctl)s, &name);
	if (fd < 0)
		return -1;
	for (int t = 0; t < s; t++) {
		if (strcmp(cg->hier[t], name) == 0) {
			cg->slot_of[s] = t;
			close(fd);
			return -1;
		}
	}
	xsnprintf(cg->hier[s], sizeof cg->hier[s], "%s", name);
	return fd;
}

/* SECURITY.md 28: a parent group someone else owns or may write could hand
 * the container a writable limit file. */
static void check_root_owned(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		fail_errno("cgroup: fstat(\"%s\")", path);
	if (st.st_uid != 0)
		fail("cgroup: %s is not owned by root", path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		fail("cgroup: %s is writable by group or other", path);
}

/* ---- CPU lists: parse.c's strict parser and printer, on struct cpus ---- */

/* "" is the empty set. One trailing newline is accepted only in what the
 * kernel wrote (from_kernel), never in a request. */
static int cpus_parse(const char *s, struct cpus *set, int from_kernel)
{
	char buf[4096];
	size_t n = strlen(s);

	memset(set, 0, sizeof *set);
	if (from_kernel && n > 0 && s[n - 1] == '\n')
		n--;
	if (n == 0)
		return 0;
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return parse_cpulist(buf, set->w);
}

static int cpu_isset(const struct cpus *set, unsigned cpu)
{
	return (set->w[cpu / 64] >> (cpu % 64)) & 1;
}

static int cpus_empty(const struct cpus *set)
{
	return cpumask_count(set->w) == 0;
}

/* Canonical form, "0-2,5"; -1 if it does not fit. */
static int cpus_format(const struct cpus *set, char *out, size_t size)
{
	return format_cpulist(set->w, out, size);
}

/* Read a kernel cpu list file; -1 if absent, unreadable, malformed or empty. */
static int read_cpus(int dirfd, const char *name, struct cpus *set)
{
	char text[4096];

	if (read_file_at(dirfd, name, text, sizeof text) < 0 || cpus_parse(text, set, 1) < 0)
		return -1;
	return cpus_empty(set) ? -1 : 0;
}

/* Where containers may run. v1: the hierarchy root's effective set, which
 * cg_create copies into MD_CGROUP_NAME each time (so that it follows CPUs
 * the machine gained). v2: MD_CGROUP_NAME's effective set once it exists
 * (inherited from the root), else the root's; without the cpuset controller,
 * every online CPU. */
static void parent_cpus(struct cpus *set)
{
	AUTOCLOSE int root = open_root();
	AUTOCLOSE int hier = open_hier(root, cg_detect(), CG_CPUSET);
	const char *eff = files()->cpus_effective;
	char name[128];

	xsnprintf(name, sizeof name, "%s/%s", MD_CGROUP_NAME, eff);
	if ((cg_detect() == CG_V2 && read_cpus(hier, name, set) == 0) ||
	    read_cpus(hier, eff, set) == 0 ||
	    read_cpus(AT_FDCWD, "/sys/devices/system/cpu/online", set) == 0)
		return;
	fail("cgroup: cannot read the CPUs available here (%s/%s)", CG_ROOT, eff);
}

void cg_parent_cpus(char *buf, size_t size)
{
	struct cpus set;

	parent_cpus(&set);
	if (cpus_format(&set, buf, size) < 0)
		fail("cgroup: the list of available CPUs is too long");
}

/* allowed NULL: no restriction; "" the empty set. */
static int allowed_set(const char *allowed, struct cpus *set)
{
	if (!allowed) {
		memset(set->w, 0xff, sizeof set->w);
		return 0;
	}
	return cpus_parse(allowed, set, 0);
}

int cg_pick_cpus(unsigned n, const char *allowed, char *out, size_t size)
{
	struct cpus ok, parent, pick;
	unsigned cpu, got = 0;

	if (n == 0 || allowed_set(allowed, &ok) < 0)
		return -1;
	parent_cpus(&parent);
	memset(&pick, 0, sizeof pick);
	for (cpu = 0; cpu < CG_MAX_CPUS && got < n; cpu++) {
		if (cpu_isset(&ok, cpu) && cpu_isset(&parent, cpu)) {
			pick.w[cpu / 64] |= (uint64_t)1 << (cpu % 64);
			got++;
		}
	}
	if (got < n)
		return -1;
	return cpus_format(&pick, out, size);
}

int cg_cpulist_subset(const char *list, const char *allowed)
{
	struct cpus want, ok;
	size_t i;

	if (!list || cpus_parse(list, &want, 0) < 0 || cpus_empty(&want) ||
	    allowed_set(allowed, &ok) < 0)
		return -1;
	for (i = 0; i < sizeof want.w / sizeof want.w[0]; i++)
		if (want.w[i] & ~ok.w[i])
			return 0;
	return 1;
}

/* ---- small file helpers ---- */

static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* "key N" line of a kernel-written flat-keyed file; -1 if absent. */
static int read_key(int dirfd, const char *file, const char *key, unsigned long long *out)
{
	char text[2048], *line, *save = NULL;
	size_t n = strlen(key);

	if (dirfd < 0 || read_file_at(dirfd, file, text, sizeof text) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, key, n) && line[n] == ' ') {
			char *end;
			errno = 0;
			*out = strtoull(line + n + 1, &end, 10);
			return (errno || end == line + n + 1) ? -1 : 0;
		}
	}
	return -1;
}

static void put(struct cg *cg, enum cg_ctl c, const char *file, const char *value)
{
	int s = slot(cg, c);

	if (write_file_at(cg->fd[s], file, value) < 0) {
		char path[256];
		group_path(path, sizeof path, cg, s, cg->id);
		fail_errno("cgroup: write %s to %s/%s", value, path, file);
	}
}

static void put_ull(struct cg *cg, enum cg_ctl c, const char *file, unsigned long long v)
{
	char value[32];

	xsnprintf(value, sizeof value, "%llu", v);
	put(cg, c, file, value);
}

/* ---- swap ---- */

/* v2 has no memory.* files in the root: look in MD_CGROUP_NAME, which
 * cg_create sets up the same way; on v1 the hierarchy root has them. */
static void setup_parents(struct cg *cg, int root, unsigned want);

/* fstatat, not faccessat: access checks use the real uid of a setuid
 * program, and only existence matters here. */
static int exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int cg_swap_supported(void)
{
	AUTOCLOSE int root = -1;
	AUTOCLOSE int hier = -1;

	if (swap_known >= 0)
		return swap_known;
	root = open_root();
	hier = open_hier(root, cg_detect(), CG_MEMORY);
	if (cg_detect() == CG_V1) {
		swap_known = exists_at(hier, files_v1.swap_limit);
	} else {
		struct cg probe = { .mode = CG_V2 };
		char name[128];
		setup_parents(&probe, root, CG_BASE);
		close(probe.parent_fd[0]);
		xsnprintf(name, sizeof name, "%s/%s", MD_CGROUP_NAME, files_v2.swap_limit);
		swap_known = exists_at(hier, name);
	}
	return swap_known;
}

/* ---- creating ---- */

static void check_limits(const struct cg_limits *lim)
{
	const char *s;

	if (lim->memory_swap && !lim->memory)
		fail("cgroup: a memory+swap limit needs a memory limit");
	if (lim->memory_swap && lim->memory_swap < lim->memory)
		fail("cgroup: memory+swap limit %llu is below the memory limit %llu",
		     lim->memory_swap, lim->memory);
	if (!memchr(lim->cpus, '\0', sizeof lim->cpus))
		fail("cgroup: CPU list too long");
	if (lim->cpus[0] && cg_cpulist_subset(lim->cpus, NULL) < 0) {
		for (s = lim->cpus; *s && strchr("0123456789,-", *s); s++)
			;
		if (*s)
			fail("cgroup: malformed CPU list (only digits, ',' and '-' are allowed)");
		fail("cgroup: malformed CPU list \"%s\"", lim->cpus);
	}
	if (lim->cpu_quota && (lim->cpu_quota < CG_QUOTA_MIN || lim->cpu_quota > CG_QUOTA_MAX))
		fail("cgroup: a CPU quota must be between 0.01 and 1024 CPUs");
	if (lim->nio < 0 || lim->nio > CG_IO_MAX)
		fail("cgroup: too many I/O limits (at most %d devices)", CG_IO_MAX);
	if (lim->memory_swap > lim->memory && !cg_swap_supported())
		fail("cgroup: this kernel does not account swap (no %s): a swap limit cannot be set",
		     cg_detect() == CG_V2 ? files_v2.swap_limit : files_v1.swap_limit);
}

/* v2: controllers are enabled top-down; writes only what is missing. A
 * controller the machine lacks is named before any write fails on it. */
static void enable_controllers(int dirfd, const char *path, unsigned want)
{
	char have[512], exists[512];
	int c;

	if (read_file_at(dirfd, "cgroup.subtree_control", have, sizeof have) < 0 ||
	    read_file_at(dirfd, "cgroup.controllers", exists, sizeof exists) < 0)
		fail_errno("cgroup: read %s/cgroup.subtree_control", path);
	for (c = 0; c < CG_NCTL; c++) {
		char op[16];
		if (!v2_name[c] || !(want & (1u << c)) || has_word(have, v2_name[c]))
			continue;
		if (!has_word(exists, v2_name[c]))
			fail("cgroup: this machine's cgroup2 at %s has no %s controller", path,
			     v2_name[c]);
		xsnprintf(op, sizeof op, "+%s", v2_name[c]);
		if (write_file_at(dirfd, "cgroup.subtree_control", op) < 0)
			fail_errno("cgroup: enable the %s controller in %s/cgroup.subtree_control",
				   v2_name[c], path);
	}
}

/* What each optional slot is wanted for, for the message when the machine
 * lacks its hierarchy. */
static void require_optional(int s)
{
	if (s == CG_CPU)
		fail("cgroup: a CPU quota needs the cpu controller, and %s has no cpu hierarchy",
		     CG_ROOT);
	if (s == CG_BLKIO)
		fail("cgroup: I/O limits need the blkio controller, and %s has no blkio hierarchy",
		     CG_ROOT);
}

/* v1: a new cpuset group starts with no CPUs and no memory nodes, and no
 * task can join it until both are set: copy them from the group above.
 * always: also when already set, so that MD_CGROUP_NAME follows CPUs the
 * machine gained since it was made (widening is always allowed). */
static void copy_from(int from, int to, const char *file, const char *path, int always)
{
	char have[4096], value[4096];

	if (read_file_at(to, file, have, sizeof have) < 0)
		fail_errno("cgroup: read %s/%s", path, file);
	if (!always && strcmp(have, "\n") && have[0])
		return;
	if (read_file_at(from, file, value, sizeof value) < 0)
		fail_errno("cgroup: read the parent's %s of %s", file, path);
	if (!strcmp(have, value))
		return;
	if (write_file_at(to, file, value) < 0)
		fail_errno("cgroup: write %s/%s", path, file);
}

/* MD_CGROUP_NAME in every hierarchy it wants: made if missing, opened,
 * checked. */
static void setup_parents(struct cg *cg, int root, unsigned want)
{
	int s;

	for (s = 0; s < nslots(cg->mode); s++) {
		AUTOCLOSE int hier = (want & (1u << s)) ? open_slot(root, cg, s) : -1;
		char path[256];

		if (hier < 0 && (want & (1u << s)) && cg->slot_of[s] == s)
			require_optional(s); /* no cpuacct is fine: stats show no CPU time */
		if (hier < 0)
			continue;

		group_path(path, sizeof path, cg, s, NULL);
		if (cg->mode == CG_V2)
			enable_controllers(hier, CG_ROOT, want);
		if (mkdirat(hier, MD_CGROUP_NAME, 0755) < 0 && errno != EEXIST)
			fail_errno("cgroup: mkdir(\"%s\")", path);
		cg->parent_fd[s] = openat(hier, MD_CGROUP_NAME, CG_DIR_FLAGS);
		if (cg->parent_fd[s] < 0)
			fail_errno("cgroup: open(\"%s\")", path);
		check_root_owned(cg->parent_fd[s], path);
		if (cg->mode == CG_V2)
			enable_controllers(cg->parent_fd[s], path, want);
		if (cg->mode == CG_V1 && s == CG_CPUSET) {
			copy_from(hier, cg->parent_fd[s], "cpuset.mems", path, 1);
			copy_from(hier, cg->parent_fd[s], "cpuset.cpus", path, 1);
		}
	}
}

/* The container's own group in every hierarchy. A leftover of the same id
 * (a helper killed before it cleaned up) is removed if it is empty. */
static void make_groups(struct cg *cg)
{
	int s;

	for (s = 0; s < nslots(cg->mode); s++) {
		char path[256];

		if (cg->parent_fd[s] < 0)
			continue;
		group_path(path, sizeof path, cg, s, cg->id);
		if (mkdirat(cg->parent_fd[s], cg->id, 0755) < 0) {
			if (errno != EEXIST)
				fail_errno("cgroup: mkdir(\"%s\")", path);
			if (unlinkat(cg->parent_fd[s], cg->id, AT_REMOVEDIR) < 0)
				fail_errno("cgroup: %s already exists and cannot be removed", path);
			if (mkdirat(cg->parent_fd[s], cg->id, 0755) < 0)
				fail_errno("cgroup: mkdir(\"%s\")", path);
		}
		cg->made[s] = 1;
		cg->fd[s] = openat(cg->parent_fd[s], cg->id, CG_DIR_FLAGS);
		if (cg->fd[s] < 0)
			fail_errno("cgroup: open(\"%s\")", path);
	}
}

/* Name the requested CPUs the parent does not have, if any, and die. */
static void refuse_missing(const struct cpus *want, const struct cpus *parent)
{
	struct cpus missing;
	char list[256], here[256];
	size_t i;
	int any = 0;

	for (i = 0; i < sizeof missing.w / sizeof missing.w[0]; i++) {
		missing.w[i] = want->w[i] & ~parent->w[i];
		any |= missing.w[i] != 0;
	}
	if (!any)
		return;
	if (cpus_format(&missing, list, sizeof list) < 0)
		xsnprintf(list, sizeof list, "in the list");
	if (cpus_format(parent, here, sizeof here) < 0)
		xsnprintf(here, sizeof here, "fewer CPUs");
	fail("cgroup: CPUs %s are not available here (this machine allows %s)", list, here);
}

static void write_cpuset(struct cg *cg, const struct cg_limits *lim)
{
	int s = slot(cg, CG_CPUSET);
	char path[256] = "", want[256];
	struct cpus set, parent;

	if (cg->mode == CG_V1) {
		group_path(path, sizeof path, cg, s, cg->id);
		copy_from(cg->parent_fd[s], cg->fd[s], "cpuset.mems", path, 0);
	}
	if (!lim->cpus[0]) {
		if (cg->mode == CG_V1)
			copy_from(cg->parent_fd[s], cg->fd[s], "cpuset.cpus", path, 0);
		return;
	}
	cpus_parse(lim->cpus, &set, 0); /* checked in check_limits */
	parent_cpus(&parent);
	refuse_missing(&set, &parent);
	if (cpus_format(&set, want, sizeof want) < 0)
		fail("cgroup: CPU list too long");
	put(cg, CG_CPUSET, "cpuset.cpus", want);
}

/* v1 keeps memory+swap >= memory at every moment: a fresh group has both at
 * "max", so memory first, then memory+swap. v2 counts swap on its own. */
static void write_memory(struct cg *cg, const struct cg_limits *lim)
{
	unsigned long long total = lim->memory_swap ? lim->memory_swap : lim->memory;

	if (!lim->memory)
		return;
	put_ull(cg, CG_MEMORY, files()->mem_limit, lim->memory);
	if (cg->mode == CG_V2) {
		if (cg_swap_supported())
			put_ull(cg, CG_MEMORY, files_v2.swap_limit, total - lim->memory);
	} else if (cg_swap_supported()) {
		put_ull(cg, CG_MEMORY, files_v1.swap_limit, total);
	} else {
		/* No swap accounting: the closest v1 has to "no swap". */
		put(cg, CG_MEMORY, "memory.swappiness", "0");
	}
}

/* v1: the period first, so that the quota is a share of a known one. */
static void write_cpu_quota(struct cg *cg, const struct cg_limits *lim)
{
	unsigned long long quota_us = (unsigned long long)lim->cpu_quota *
				      (CG_QUOTA_PERIOD_US / 1000);
	char value[64];

	if (!lim->cpu_quota)
		return;
	if (cg->mode == CG_V2) {
		xsnprintf(value, sizeof value, "%llu %u", quota_us, CG_QUOTA_PERIOD_US);
		put(cg, CG_CPU, "cpu.max", value);
		return;
	}
	put_ull(cg, CG_CPU, "cpu.cfs_period_us", CG_QUOTA_PERIOD_US);
	put_ull(cg, CG_CPU, "cpu.cfs_quota_us", quota_us);
}

/* v1: one "MAJ:MIN BYTES" line per device and direction; v2: one io.max
 * line per device with the directions it limits. */
static void write_io(struct cg *cg, const struct cg_limits *lim)
{
	char value[128];

	for (int i = 0; i < lim->nio; i++) {
		const struct cg_io *d = &lim->io[i];
		char r[40] = "", w[40] = "";

		if (cg->mode == CG_V2) {
			if (d->rbps)
				xsnprintf(r, sizeof r, " rbps=%llu", d->rbps);
			if (d->wbps)
				xsnprintf(w, sizeof w, " wbps=%llu", d->wbps);
			xsnprintf(value, sizeof value, "%u:%u%s%s", d->major, d->minor, r, w);
			put(cg, CG_BLKIO, "io.max", value);
			continue;
		}
		if (d->rbps) {
			xsnprintf(value, sizeof value, "%u:%u %llu", d->major, d->minor, d->rbps);
			put(cg, CG_BLKIO, "blkio.throttle.read_bps_device", value);
		}
		if (d->wbps) {
			xsnprintf(value, sizeof value, "%u:%u %llu", d->major, d->minor, d->wbps);
			put(cg, CG_BLKIO, "blkio.throttle.write_bps_device", value);
		}
	}
}

static void init_cg(struct cg *cg, enum cg_mode mode, const char *id)
{
	int s;

	memset(cg, 0, sizeof *cg);
	cg->mode = mode;
	for (s = 0; s < CG_NCTL; s++) {
		cg->parent_fd[s] = cg->fd[s] = -1;
		cg->slot_of[s] = s;
	}
	snprintf(cg->id, sizeof cg->id, "%s", id);
}

void cg_create(struct cg *cg, const char *id, const struct cg_limits *lim)
{
	AUTOCLOSE int root = -1;

	if (!cg_id_valid(id))
		fail("cgroup: invalid container id");
	init_cg(cg, cg_detect(), id);
	check_limits(lim);
	root = open_root();
	setup_parents(cg, root, CG_BASE | (lim->cpu_quota ? 1u << CG_CPU : 0) |
				(lim->nio ? 1u << CG_BLKIO : 0));
	half_made = cg;
	make_groups(cg);
	write_cpuset(cg, lim);
	write_memory(cg, lim);
	if (lim->pids)
		put_ull(cg, CG_PIDS, "pids.max", lim->pids);
	write_cpu_quota(cg, lim);
	write_io(cg, lim);
	half_made = NULL;
}

/* ---- using ---- */

/* Moving a whole process (cgroup.procs) takes the kernel's global
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
 * period: 5-15 ms a start on this 2-CPU v1 host, more than the rest of the
 * start. A single-threaded process moving itself through v1's `tasks`
 * with "0" skips that lock (kernel/cgroup/cgroup.c,
 * cgroup_procs_write_start), so on v1 the child enters its groups itself,
 * before it does anything else. v2 has no such file: the parent moves it. */
void cg_enter_self(struct cg *cg)
{
	if (cg->mode != CG_V1)
		return;
	for (int s = 0; s < nslots(cg->mode); s++) {
		if (cg->fd[s] < 0)
			continue;
		if (write_file_at(cg->fd[s], "tasks", "0") < 0) {
			char path[256];
			group_path(path, sizeof path, cg, s, cg->id);
			die_errno("cgroup: entering %s/tasks", path);
		}
	}
}

int cg_clone_fd(const struct cg *cg)
{
	return cg->mode == CG_V2 ? cg->fd[0] : -1;
}

void cg_enter_child(struct cg *cg, pid_t pid)
{
	char value[32];

	if (cg->mode != CG_V2)
		return;
	xsnprintf(value, sizeof value, "%ld", (long)pid);
	if (cg->fd[0] >= 0 && write_file_at(cg->fd[0], "cgroup.procs", value) < 0) {
		char path[256];
		group_path(path, sizeof path, cg, 0, cg->id);
		die_errno("cgroup: add process %ld to %s/cgroup.procs", (long)pid, path);
	}
}

unsigned long long cg_oom_kills(struct cg *cg)
{
	unsigned long long n = 0;

	if (read_key(cg->fd[slot(cg, CG_MEMORY)], files()->oom, "oom_kill", &n) < 0)
		return 0;
	return n;
}

unsigned long long cg_memory_peak(struct cg *cg)
{
	char text[64], *end;
	unsigned long long v;
	int fd = cg->fd[slot(cg, CG_MEMORY)];

	if (fd < 0 || read_file_at(fd, files()->peak, text, sizeof text) <= 0)
		return 0;
	errno = 0;
	v = strtoull(text, &end, 10);
	return (errno || end == text) ? 0 : v;
}

/* ---- removing ---- */

/* rmdir, retrying while the kernel still counts exiting tasks (EBUSY) for
 * up to about a second, as runc does. ENOENT counts as removed. */
static int rmdir_retry(int dirfd, const char *name)
{
	long delay_ms = 1, waited_ms = 0;

	for (;;) {
		struct timespec ts;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || waited_ms >= RMDIR_PATIENCE_MS)
			return -1;
		ts.tv_sec = 0;
		ts.tv_nsec = delay_ms * 1000000L;
		nanosleep(&ts, NULL);
		waited_ms += delay_ms;
		delay_ms = delay_ms * 2 > 200 ? 200 : delay_ms * 2;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* 1 when every group is gone (or never was). */
static int remove_groups(struct cg *cg)
{
	int s, all = 1;

	for (s = 0; s < CG_NCTL; s++) {
		close_fd(&cg->fd[s]);
		if (cg->made[s] && cg->parent_fd[s] >= 0 &&
		    rmdir_retry(cg->parent_fd[s], cg->id) < 0) {
			char path[256];
			int saved = errno;
			group_path(path, sizeof path, cg, s, cg->id);
			warnx_("cgroup: cannot remove %s: %s", path, strerror(saved));
			all = 0;
		}
		cg->made[s] = 0;
		close_fd(&cg->parent_fd[s]);
	}
	return all;
}

void cg_destroy(struct cg *cg)
{
	if (cg->mode != CG_V1 && cg->mode != CG_V2)
		return; /* never created */
	remove_groups(cg);
}

void cg_release(struct cg *cg)
{
	int s;

	if (cg->mode != CG_V1 && cg->mode != CG_V2)
		return;
	for (s = 0; s < CG_NCTL; s++) {
		close_fd(&cg->fd[s]);
		close_fd(&cg->parent_fd[s]);
		cg->made[s] = 0;
	}
}

/* open_slot for what must not die (gc, the monitor, exec, stats): a
 * missing hierarchy is simply skipped. */
static int open_slot_quietly(int root, struct cg *cg, int s)
{
	const char *name = cg->mode == CG_V2 ? "." : ctl_name[s];

	if (cg->mode == CG_V2 || s < CG_CPUACCT) {
		if (cg->mode == CG_V2 && s > 0)
			return -1;
		xsnprintf(cg->hier[s], sizeof cg->hier[s], "%s", cg->mode == CG_V2 ? "" : name);
		return openat(root, name, CG_DIR_FLAGS);
	}
	return open_slot(root, cg, s); /* dies on nothing: the optional ones only look */
}

int cg_destroy_by_id(const char *id)
{
	AUTOCLOSE int root = -1;
	struct cg cg;
	int s;

	if (!cg_id_valid(id)) {
		warnx_("cgroup: invalid container id");
		return 0;
	}
	init_cg(&cg, cg_detect(), id);
	root = open(CG_ROOT, CG_DIR_FLAGS);
	if (root < 0) {
		warnx_("cgroup: open(\"%s\"): %s", CG_ROOT, strerror(errno));
		return 0;
	}
	for (s = 0; s < nslots(cg.mode); s++) {
		AUTOCLOSE int hier = open_slot_quietly(root, &cg, s);
		if (hier < 0)
			continue;
		cg.parent_fd[s] = openat(hier, MD_CGROUP_NAME, CG_DIR_FLAGS);
		cg.made[s] = cg.parent_fd[s] >= 0;
	}
	return remove_groups(&cg);
}

/* ---- an existing container's groups (exec, stats) ---- */

int cg_open_by_id(struct cg *cg, const char *id)
{
	AUTOCLOSE int root = -1;
	int s, found = 0;

	if (!cg_id_valid(id))
		return -1;
	init_cg(cg, cg_detect(), id);
	root = open(CG_ROOT, CG_DIR_FLAGS);
	if (root < 0)
		return -1;
	for (s = 0; s < nslots(cg->mode); s++) {
		AUTOCLOSE int hier = open_slot_quietly(root, cg, s);
		AUTOCLOSE int parent = -1;
		if (hier < 0 || (parent = openat(hier, MD_CGROUP_NAME, CG_DIR_FLAGS)) < 0)
			continue;
		cg->fd[s] = openat(parent, id, CG_DIR_FLAGS);
		found |= s == 0 && cg->fd[s] >= 0;
	}
	if (!found)
		cg_release(cg);
	return found ? 0 : -1;
}

/* One number (or "max") from a kernel file; CG_NONE if unreadable. */
static unsigned long long read_number(int dirfd, const char *file)
{
	char text[64], *end;
	unsigned long long v;

	if (dirfd < 0 || read_file_at(dirfd, file, text, sizeof text) <= 0)
		return CG_NONE;
	if (!strncmp(text, "max", 3))
		return CG_UNLIMITED;
	errno = 0;
	v = strtoull(text, &end, 10);
	return (errno || end == text) ? CG_NONE : v;
}

void cg_read_stats(struct cg *cg, struct cg_stats *st)
{
	int mem = cg->fd[slot(cg, CG_MEMORY)], pids = cg->fd[slot(cg, CG_PIDS)];
	unsigned long long usec;

	st->mem_current = read_number(mem, cg->mode == CG_V2 ? "memory.current"
							       : "memory.usage_in_bytes");
	st->mem_limit = read_number(mem, files()->mem_limit);
	/* v1 writes "no limit" as a huge page-rounded number. */
	if (st->mem_limit != CG_NONE && st->mem_limit >= (1ULL << 62))
		st->mem_limit = CG_UNLIMITED;
	st->mem_peak = read_number(mem, files()->peak);
	st->pids_current = read_number(pids, "pids.current");
	st->pids_max = read_number(pids, "pids.max");
	st->oom_kills = cg_oom_kills(cg);
	if (cg->mode == CG_V2)
		st->cpu_ns = read_key(cg->fd[0], "cpu.stat", "usage_usec", &usec) < 0
				     ? CG_NONE : usec * 1000;
	else
		st->cpu_ns = read_number(cg->fd[CG_CPUACCT], "cpuacct.usage");
}
