/* net.h: a container's place on the administrator's bridge. */
#ifndef MD_NET_H
#define MD_NET_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ids.h"
#include "request.h"

struct net {
	int enabled;           /* 0: loopback only */
	char veth[16];         /* host end, mdv<address, 3 digits an octet> */
	char addr[16];         /* the leased address, dotted */
	unsigned prefix;       /* the bridge's prefix length */
	char gateway[16];
	const char *bridge;
	int reserved;          /* the registry entry (and lease) are ours */
	int attached;          /* mdnet.sh attach ran */
	pid_t script;          /* mdnet.sh attach still running, or 0 */
	int script_out;        /* its stderr, a pipe */
};

/* Decide loopback-only or bridge for this request, and take the lease and
 * the name under the registry lock: registry entry RUNDIR/containers/ID,
 * lease RUNDIR/leases/ADDR. An empty id (RUN_ID_SIZE bytes) is given a
 * fresh name, md-<user>-<n>. Dies naming the rule on any refusal (range,
 * lease in use, quota, no bridge). */
void net_reserve(struct net *n, const struct config *cfg, const struct rule *r,
		 const struct caller *c, const struct request *req, char *id);
/* Start mdnet.sh attach (the veth pair, eth1 born in the network namespace
 * netns, an fd); it runs while the child sets itself up. */
void net_attach(struct net *n, const char *id, int netns);
/* Wait for that attach; dies on failure. Call before the container runs
 * anything of the caller's. */
void net_attach_wait(struct net *n);
/* On a failed run: let a running attach end, whatever its outcome, before
 * anything it made is removed. */
void net_attach_end(struct net *n);
/* Is the host port of ADDR there (or cannot we tell)? */
int net_port_exists(const char *addr);
/* mdnet.sh detach of the host port of ADDR (named after it), unless it
 * has gone with its namespace already (warns, never dies). */
void net_detach_port(const char *id, const char *addr);
/* Undo: the lease and the registry entry, unless the host port is still
 * there (left to gc then, see net.c and state/gc.c). */
void net_release(struct net *n, const char *id);

#endif
