/* limits.c: turn a checked request into the limits written to the cgroup.
 *
 * MUST: a cap in the caller's rule holds even when the request names no
 * limit (a container without --memory still gets the rule's memory= cap);
 * a pids limit is always set; nothing is clipped silently (SECURITY.md 11:
 * policy.c has already refused what exceeds the rule). */
#include "core/limits.h"
#include "core/parse.h"
#include "util.h"

#include <string.h>

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
}
