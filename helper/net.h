/* net.h: a container's place on the administrator's bridge, and its host
 * port (the lease and the name: state/lease.h). */
#ifndef MD_NET_H
#define MD_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ids.h"
#include "core/request.h"

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

/* The host port of address a: mdv and its octets in 3 digits each. */
void net_port_name(uint32_t a, char *buf, size_t size);
/* Start mdnet.sh attach (the veth pair, eth1 born in the network namespace
 * netns, an fd); it runs while the child sets itself up. */
void net_attach(struct net *n, const char *id, int netns);
/* Wait for that attach: 0, or its status with its first line in why.
 * Call before the container runs anything of the caller's. */
int net_attach_wait(struct net *n, char *why, size_t size);
/* On a failed run: let a running attach end, whatever its outcome, before
 * anything it made is removed. */
void net_attach_end(struct net *n);
/* Is the host port of ADDR there (or cannot we tell)? */
int net_port_exists(const char *addr);
/* mdnet.sh detach of the host port of ADDR (named after it), unless it
 * has gone with its namespace already (warns, never dies). */
void net_detach_port(const char *id, const char *addr);
#endif
