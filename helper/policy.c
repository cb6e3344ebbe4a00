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
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	if (!policy_rootfs_allowed(r, c, req->rootfs))
		die("rootfs %s is not in a directory you may use (%s:%d)",
		    req->rootfs, cfg->file, r->line);
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

void policy_print(const struct config *cfg, const struct rule *r, const struct caller *c)
{
	printf("user         %s (uid %u)\n", c->name, (unsigned)c->uid);
	printf("rule         %s:%d\n", cfg->file, r->line);
	print_size("memory", r->memory);
	if (r->swap)
		print_size("memory-swap", r->swap);
	else
		printf("%-12s not allowed\n", "memory-swap");
	printf("%-12s ", "cpus");
	if (r->has_cpus)
		for (int i = 0, first = 1; i < 1024; i++)
			if (r->cpus[i / 64] & (1ULL << (i % 64))) {
				printf("%s%d", first ? "" : ",", i);
				first = 0;
			}
	printf("%s\n", r->has_cpus ? "" : "all");
	if (r->pids)
		printf("%-12s %llu\n", "pids", (unsigned long long)r->pids);
	else
		printf("%-12s no limit\n", "pids");
	for (int i = 0; i < r->nrootfs; i++)
		printf("%-12s %s\n", "rootfs", strcmp(r->rootfs[i], "~") ? r->rootfs[i] : c->home);
	printf("%-12s %s\n", "userns", r->userns_host && c->uid == 0 ? "private or host" : "private");
	printf("%-12s uid 0 -> %u", "uid map", (unsigned)c->uid);
	if (c->subuid_count)
		printf(", 1-%lu -> %lu-%lu", c->subuid_count, c->subuid_start,
		       c->subuid_start + c->subuid_count - 1);
	printf("\n");
}
