/* limits.h: the cgroup limits a container gets, from its request and rule. */
#ifndef MD_LIMITS_H
#define MD_LIMITS_H

#include "cgroup/cgroup.h"
#include "config.h"
#include "core/request.h"
#include "ids.h"

/* Fill lim: what was asked, else the rule's cap, and always a pids limit.
 * Dies naming the rule when the machine cannot honour the request (CPUs
 * not present, swap accounting off). */
void limits_compute(struct cg_limits *lim, const struct config *cfg,
		    const struct rule *r, const struct request *req);
/* The devices of --device-read-bps/--device-write-bps into lim->io, each
 * looked up as the caller (stat, their fsuid) and refused in one line
 * unless it is a whole disk's block device. After policy_check. */
void limits_devices(struct cg_limits *lim, const struct request *req, const struct caller *c);

#endif
