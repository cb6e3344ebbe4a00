/* policy.c: match the caller to a rule and hold every request to it.
 *
 * MUST:
 * - the last matching rule wins; no match denies; a deny denies;
 * - an unknown user or group in a rule matches nobody, least of all uid 0
 *   (SECURITY.md 7);
 * - a request above a cap is refused naming the rule's line, never clipped
 *   (SECURITY.md 11);
 * - rootfs directories compare by whole components (SECURITY.md 8). */
#define _GNU_SOURCE
#include "policy.h"
#include "core/parse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "No such group" from NSS can also mean "could not look": glibc reports
 * the last source's answer, and with `group: files systemd` an unreadable
 * /etc/group ends as systemd's "not found" (errno 0). So a group found
 * nowhere counts as absent only if the files source could be read. */
static int group_database_unreadable(void)
{
	int fd = open("/etc/group", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

/* A group that does not exist matches nobody (SECURITY.md 7); a lookup
 * that fails (NSS down, out of fds) refuses everybody: a `deny :GROUP`
 * must not silently stop denying. */
static int rule_matches(const struct config *cfg, const struct rule *r, const struct caller *c)
{
	struct group *g;

	if (!r->is_group)
		return strcmp(r->subject, c->name) == 0;
	errno = 0;
	g = getgrnam(r->subject);
	if (!g && errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF &&
	    errno != EPERM)
		die_errno("cannot look up group %s (%s:%d)", r->subject, cfg->file, r->line);
	if (!g && group_database_unreadable())
		die_errno("cannot look up group %s (%s:%d)", r->subject, cfg->file, r->line);
	return g && caller_in_group(c, g->gr_gid);
}

const struct rule *policy_rule(const struct config *cfg, const struct caller *c)
{
	const struct rule *match = NULL;

	for (int i = 0; i < cfg->nrules; i++)
		if (rule_matches(cfg, &cfg->rules[i], c))
			match = &cfg->rules[i];
	if (!match)
		die("%s is not permitted to run containers (%s)", c->name, cfg->file);
	if (!match->permit)
		die("%s is denied by %s:%d", c->name, cfg->file, match->line);
	return match;
}

int policy_rootfs_allowed(const struct rule *r, const struct caller *c, const char *path)
{
	for (int i = 0; i < r->nrootfs; i++) {
		const char *dir = strcmp(r->rootfs[i], "~") ? r->rootfs[i] : c->home;

		/* Strictly below: the directory itself is where rootfs live. */
		if (valid_abs_path(dir) && strcmp(path, dir) != 0 && path_within(path, dir))
			return 1;
	}
	return 0;
}

/* A --volume source must lie in (or be) one of the rule's bind= trees, a
 * read-only-only tree only for read-only binds (issue 16). Compared by
 * whole components, as rootfs paths are (SECURITY.md 8); binds.c then
 * walks it without following any symlink, so the string is the tree. */
static void check_binds(const struct config *cfg, const struct rule *r,
			const struct caller *c, const struct request *req)
{
	for (int b = 0; b < req->nbinds; b++) {
		const struct bind_request *want = &req->binds[b];
		int inside = 0, writable = 0;

		if (r->nbinds == 0)
			die("--volume is not allowed by your rule (%s:%d has no bind=)", cfg->file, r->line);
		for (int i = 0; i < r->nbinds; i++) {
			const char *dir = strcmp(r->binds[i], "~") ? r->binds[i] : c->home;

			if (!valid_abs_path(dir) || !path_within(want->src, dir))
				continue;
			inside = 1;
			writable |= !r->binds_ro[i];
		}
		if (!inside)
			die("--volume source %s is not in a directory you may bind from (%s:%d)",
			    want->src, cfg->file, r->line);
		if (!want->read_only && !writable)
			die("--volume source %s may only be bound read-only (add :ro; %s:%d)",
			    want->src, cfg->file, r->line);
	}
}

static void check_size(const char *what, uint64_t asked, uint64_t cap,
		       const struct config *cfg, const struct rule *r)
{
	char a[32], b[32];

	if (!asked || asked <= cap)
		return;
	format_size(asked, a, sizeof a);
	format_size(cap, b, sizeof b);
	die("%s %s exceeds your limit %s (%s:%d)", what, a, b, cfg->file, r->line);
}

static void check_cpus(const struct config *cfg, const struct rule *r,
		       const struct request *req)
{
	uint64_t want[16];

	if (!r->has_cpus)
		return;
	if (req->cpus && req->cpus > cpumask_count(r->cpus))
		die("cpus %u exceeds your limit of %u CPUs (%s:%d)", req->cpus,
		    cpumask_count(r->cpus), cfg->file, r->line);
	if (req->cpuset && parse_cpulist(req->cpuset, want) == 0)
		for (int i = 0; i < 16; i++)
			if (want[i] & ~r->cpus[i])
				die("cpuset %s is not within your CPUs (%s:%d)",
				    req->cpuset, cfg->file, r->line);
}

/* cpu-quota= caps --cpu-quota; io=yes allows I/O limits at all. */
static void check_cpu_quota_io(const struct config *cfg, const struct rule *r,
			       const struct request *req)
{
	char a[32], b[32];

	if (r->cpu_quota && req->cpu_quota > r->cpu_quota) {
		format_milli(req->cpu_quota, a, sizeof a);
		format_milli(r->cpu_quota, b, sizeof b);
		die("--cpu-quota %s exceeds your limit cpu-quota=%s (%s:%d)", a, b, cfg->file,
		    r->line);
	}
	if (req->nio && !r->io)
		die("%s is not allowed for you: your rule has no io=yes (%s:%d)",
		    req->io[0].write ? "--device-write-bps" : "--device-read-bps", cfg->file,
		    r->line);
}

void policy_check(const struct config *cfg, const struct rule *r,
		  const struct caller *c, const struct request *req)
{
	if (req->userns_host && (c->uid != 0 || !r->userns_host))
		die("--userns host is only for root with userns=host (%s:%d)",
		    cfg->file, r->line);
	if (r->memory)
		check_size("memory", req->memory, r->memory, cfg, r);
	if (req->memory_swap && !r->swap)
		die("swap is not allowed for you (%s:%d)", cfg->file, r->line);
	check_size("memory-swap", req->memory_swap, r->swap, cfg, r);
	if (r->pids && req->pids > r->pids)
		die("pids limit %llu exceeds your limit %llu (%s:%d)",
		    (unsigned long long)req->pids, (unsigned long long)r->pids,
		    cfg->file, r->line);
	check_cpus(cfg, r, req);
	check_cpu_quota_io(cfg, r, req);
	if (!policy_rootfs_allowed(r, c, req->rootfs))
		die("rootfs %s is not in a directory you may use (%s:%d)",
		    req->rootfs, cfg->file, r->line);
	check_binds(cfg, r, c, req);
}

/* The sysctl by which this host refuses unprivileged user namespaces (as
 * "name=value"), or NULL if it allows them. */
static const char *host_refuses_userns(void)
{
	static const struct { const char *path, *refused, *setting; } knobs[] = {
		{ "/proc/sys/kernel/unprivileged_userns_clone", "0",
		  "kernel.unprivileged_userns_clone=0" },
		{ "/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=0" },
		{ "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
		  "kernel.apparmor_restrict_unprivileged_userns=1" },
	};
	char v[32];

	for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++)
		if (read_file_at(AT_FDCWD, knobs[i].path, v, sizeof v) > 0 &&
		    strtok(v, " \n") && strcmp(v, knobs[i].refused) == 0)
			return knobs[i].setting;
	return NULL;
}

/* Nested user namespaces: only if the rule says so, and where the host
 * refuses them to unprivileged users, only if the administrator insists
 * (nested=force): otherwise every container would hand its user the very
 * kernel surface the host turned off (SECURITY.md 45). */
int policy_nested(const struct rule *r)
{
	return r->nested == NESTED_FORCE || (r->nested == NESTED_YES && !host_refuses_userns());
}

static void print_nested(const struct rule *r)
{
	const char *refused = host_refuses_userns();

	/* max_user_namespaces=0 refuses root too: no container can start
	 * (INSTALL); the other knobs spare root, who makes the namespace. */
	if (refused && strncmp(refused, "user.max_user_namespaces", 24) == 0)
		printf("%-12s refuses unprivileged user namespaces (%s): nobody, root "
		       "included, can make one, so no container starts until it is raised\n",
		       "host", refused);
	else if (refused)
		printf("%-12s refuses unprivileged user namespaces (%s): containers still start "
		       "(mdhelper makes their user namespace as root), but none can be made "
		       "inside them unless a rule says nested=force\n", "host", refused);
	if (policy_nested(r))
		printf("%-12s allowed: user namespaces inside the container (and with them "
		       "mount, network and nftables namespaces)%s\n", "nested",
		       refused ? ", forced by the rule" : "");
	else
		printf("%-12s refused: no user namespace inside the container (%s)\n", "nested",
		       r->nested == NESTED_YES ? "the rule's nested=yes is overruled by the host" :
		       "a rule's nested=yes allows them");
}

static void print_size(const char *what, uint64_t v)
{
	char buf[32];

	if (!v) {
		printf("%-12s no limit\n", what);
		return;
	}
	format_size(v, buf, sizeof buf);
	printf("%-12s %s\n", what, buf);
}

/* A CPU set as ranges (0-63, not 0,1,...,63). */
static void print_cpu_ranges(const uint64_t *set)
{
	const char *sep = "";

	for (int i = 0; i < 1024; i++) {
		int j = i;

		if (!(set[i / 64] & (1ULL << (i % 64))))
			continue;
		while (j + 1 < 1024 && (set[(j + 1) / 64] & (1ULL << ((j + 1) % 64))))
			j++;
		if (j > i)
			printf("%s%d-%d", sep, i, j);
		else
			printf("%s%d", sep, i);
		sep = ",";
		i = j;
	}
}

/* The rule's CPUs, and this machine's beside them: `0-63` alone reads as
 * 64 CPUs on a machine that has 2. */
static void print_cpus(const struct rule *r)
{
	char online[128];
	AUTOCLOSE int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, online, sizeof online - 1);

	printf("%-12s ", "cpus");
	if (r->has_cpus)
		print_cpu_ranges(r->cpus);
	else
		printf("all");
	if (n > 0) {
		online[n] = '\0';
		online[strcspn(online, "\n")] = '\0';
		printf(" (this machine has %s)", online);
	}
	printf("\n");
}

static void print_cpu_quota_io(const struct rule *r)
{
	char q[32];

	if (r->cpu_quota) {
		format_milli(r->cpu_quota, q, sizeof q);
		printf("%-12s %s CPUs at most (also the default)\n", "cpu-quota", q);
	} else {
		printf("%-12s no limit\n", "cpu-quota");
	}
	printf("%-12s %s\n", "io", r->io ? "allowed (--device-read-bps, --device-write-bps)"
					 : "not allowed (a rule's io=yes allows them)");
}

static void print_ip(uint32_t a)
{
	printf("%u.%u.%u.%u", a >> 24 & 255, a >> 16 & 255, a >> 8 & 255, a & 255);
}

void policy_print(const struct config *cfg, const struct rule *r, const struct caller *c)
{
	printf("user         %s (uid %u)\n", c->name, (unsigned)c->uid);
	printf("rule         %s:%d\n", cfg->file, r->line);
	print_size("memory", r->memory);
	if (r->swap)
		print_size("memory-swap", r->swap);
	else
		printf("%-12s not allowed\n", "memory-swap");
	print_cpus(r);
	print_cpu_quota_io(r);
	if (r->pids)
		printf("%-12s %llu\n", "pids", (unsigned long long)r->pids);
	else
		printf("%-12s no limit\n", "pids");
	if (r->containers)
		printf("%-12s %llu at a time\n", "containers", (unsigned long long)r->containers);
	else
		printf("%-12s no limit\n", "containers");
	printf("%-12s ", "ip");
	if (r->has_ip) {
		print_ip(r->ip);
		printf("/%u on bridge %s\n", r->ip_prefix,
		       r->bridge[0] ? r->bridge : cfg->has_bridge ? cfg->bridge : "(none configured)");
	} else {
		printf("none (loopback only)\n");
	}
	for (int i = 0; i < r->nrootfs; i++)
		printf("%-12s %s\n", "rootfs", strcmp(r->rootfs[i], "~") ? r->rootfs[i] : c->home);
	for (int i = 0; i < r->nbinds; i++)
		printf("%-12s %s%s\n", "bind", strcmp(r->binds[i], "~") ? r->binds[i] : c->home,
		       r->binds_ro[i] ? " (read-only)" : "");
	if (!r->nbinds)
		printf("%-12s not allowed\n", "bind");
	printf("%-12s %s\n", "userns", r->userns_host && c->uid == 0 ? "private or host" : "private");
	print_nested(r);
	printf("%-12s uid 0 -> %u", "uid map", (unsigned)c->uid);
	if (c->subuid_count)
		printf(", 1-%lu -> %lu-%lu", c->subuid_count, c->subuid_start,
		       c->subuid_start + c->subuid_count - 1);
	printf("\n");
}
