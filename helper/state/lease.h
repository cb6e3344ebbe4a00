/* state/lease.h: a container's name, address and quota, under the lock. */
#ifndef MD_STATE_LEASE_H
#define MD_STATE_LEASE_H

#include "config.h"
#include "ids.h"
#include "net.h"
#include "core/request.h"

/* Decide loopback-only or bridge for this request, and take the lease and
 * the name under the registry lock: registry entry RUNDIR/containers/ID,
 * lease RUNDIR/leases/ADDR. An empty id (RUN_ID_SIZE bytes) is given a
 * fresh name, md-<user>-<n>. Collects ended containers first (state/gc.h,
 * outside the lock). Dies naming the rule on any refusal (range, lease in
 * use, quota, no bridge). */
void net_reserve(struct net *n, const struct config *cfg, const struct rule *r,
		 const struct caller *c, const struct request *req, char *id);
/* Undo: the lease and the registry entry, unless the host port is still
 * there (left to gc then, SECURITY.md 43). */
void net_release(struct net *n, const char *id);

#endif
