/* limits.h: the cgroup limits a container gets, from its request and rule. */
#ifndef MD_LIMITS_H
#define MD_LIMITS_H

#include "cgroup/cgroup.h"
#include "config.h"
#include "core/request.h"

/* Fill lim: what was asked, else the rule's cap, and always a pids limit.
 * Dies naming the rule when the machine cannot honour the request (CPUs
 * not present, swap accounting off). */
void limits_compute(struct cg_limits *lim, const struct config *cfg,
		    const struct rule *r, const struct request *req);

#endif
