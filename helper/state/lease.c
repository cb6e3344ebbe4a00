/* state/lease.c: a container's name, address and place in its owner's
 * quota, taken and given back under the registry lock.
 *
 * MUST:
 * - the registry and leases live in RUNDIR (root-owned 0700, fixed at build
 *   time) and change only under its lock: 20 parallel starts get 20
 *   addresses (SECURITY.md 28); the lock is held for reads and writes of
 *   those files alone (42): gc, which waits and spawns, runs before it is
 *   taken (state/gc.c);
 * - an address is the caller's only if it is inside their rule's ip= range,
 *   is neither the network, the broadcast nor the gateway address, and no
 *   live container holds it, nor an ended one whose port is still there
 *   (SECURITY.md 11, 43). */
#define _GNU_SOURCE
#include "state/lease.h"
#include "net.h"
#include "core/parse.h"
#include "state/gc.h"
#include "state/lock.h"
#include "state/registry.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void fmt_ip(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static uint32_t mask_of(unsigned prefix)
{
	return prefix ? ~0U << (32 - prefix) : 0;
}

/* Is /sys/class/net/NAME there? Read-only and by fixed path. */
static int bridge_is_up(const char *name)
{
	char path[64];

	xsnprintf(path, sizeof path, "/sys/class/net/%s/bridge", name);
	return access(path, F_OK) == 0;
}

static int usable(uint32_t a, const struct config *cfg, const struct rule *r)
{
	uint32_t m = mask_of(cfg->gateway_prefix);

	return (a & mask_of(r->ip_prefix)) == (r->ip & mask_of(r->ip_prefix)) &&
	       (a & m) == (cfg->gateway & m) && a != cfg->gateway &&
	       (a & ~m) != 0 && (a & ~m) != ~m;
}

/* Decide whether this container goes on the bridge. */
static int wants_bridge(const struct config *cfg, const struct rule *r,
			const struct request *req)
{
	int usable_here = cfg->has_bridge && r->has_ip && bridge_is_up(cfg->bridge);

	if (req->net_none)
		return 0;
	if (req->ip || req->net_bridge) {
		if (!cfg->has_bridge || !bridge_is_up(cfg->bridge))
			die("no bridge is up: ask your administrator to run mdnet.sh up");
		if (!r->has_ip)
			die("your rule gives you no addresses (%s:%d)", cfg->file, r->line);
		if (r->bridge[0] && strcmp(r->bridge, cfg->bridge) != 0)
			die("your rule's bridge %s is not the configured bridge %s (%s:%d)",
			    r->bridge, cfg->bridge, cfg->file, r->line);
		return 1;
	}
	return usable_here && (!r->bridge[0] || strcmp(r->bridge, cfg->bridge) == 0);
}

static uint32_t pick_address(int cdir, const struct config *cfg, const struct rule *r,
			     const struct request *req, const char *id, uid_t uid, int *mine,
			     int full_is_final)
{
	uint32_t want = 0, first, last;
	int taken;
	char range[32];

	fmt_ip(r->ip, range, sizeof range);
	if (req->ip) {
		if (parse_ipv4(req->ip, &want) < 0)
			die("not an IPv4 address: %s", req->ip);
		if (!usable(want, cfg, r))
			die("%s is outside your range %s/%u (%s:%d)", req->ip, range,
			    r->ip_prefix, cfg->file, r->line);
		registry_scan(cdir, id, uid, want, mine, &taken);
		if (taken)
			die("%s is in use by another container", req->ip);
		return want;
	}
	first = r->ip & mask_of(r->ip_prefix);
	last = first | ~mask_of(r->ip_prefix);
	for (uint32_t a = first; a <= last && a >= first; a++) {
		if (!usable(a, cfg, r))
			continue;
		registry_scan(cdir, id, uid, a, mine, &taken);
		if (!taken)
			return a;
	}
	if (!full_is_final)
		return 0; /* the caller collects ended containers, then asks again */
	die("no free address left in your range %s/%u (%s:%d)", range, r->ip_prefix,
	    cfg->file, r->line);
}

/* Under the lock: the name, the address and the quota; 0 when the range
 * is full and full_is_final is not set (nothing taken then). */
static int reserve_locked(struct net *n, const struct config *cfg, const struct rule *r,
			  const struct caller *c, const struct request *req, char *id,
			  int full_is_final)
{
	AUTOCLOSE int dir = registry_rundir();
	AUTOCLOSE int cdir = registry_subdir(dir, "containers");
	AUTOCLOSE int ldir = registry_subdir(dir, "leases");
	AUTOUNLOCK int lock = state_lock(dir);
	int mine = 0, taken;
	uint32_t a = 0;

	memset(n, 0, sizeof *n);
	if (!id[0])
		registry_pick_name(cdir, c, id, RUN_ID_SIZE);
	n->enabled = wants_bridge(cfg, r, req);
	if (n->enabled && !(a = pick_address(cdir, cfg, r, req, id, c->uid, &mine, full_is_final)))
		return 0;
	if (!n->enabled)
		registry_scan(cdir, id, c->uid, 0, &mine, &taken);
	if (r->containers && (uint64_t)mine >= r->containers)
		die("you already run %d containers, your limit (%s:%d)", mine, cfg->file, r->line);
	if (n->enabled) {
		fmt_ip(a, n->addr, sizeof n->addr);
		fmt_ip(cfg->gateway, n->gateway, sizeof n->gateway);
		n->prefix = cfg->gateway_prefix;
		n->bridge = cfg->bridge;
		net_port_name(a, n->veth, sizeof n->veth);
	}
	registry_add(cdir, ldir, id, c->uid, n->enabled ? n->addr : NULL);
	n->reserved = 1;
	return 1;
}

void net_reserve(struct net *n, const struct config *cfg, const struct rule *r,
		 const struct caller *c, const struct request *req, char *id)
{
	/* What has gone already goes now; what is still going holds its name
	 * and address a moment longer, unless this start asks for them. */
	if (state_gc(0) > 0 && (id[0] || req->ip))
		state_gc(1);
	if (reserve_locked(n, cfg, r, c, req, id, 0))
		return;
	/* Full, perhaps of ended containers whose ports the kernel is still
	 * removing: collect those, then ask once more. */
	state_gc(1);
	reserve_locked(n, cfg, r, c, req, id, 1);
}

void net_release(struct net *n, const char *id)
{
	AUTOCLOSE int dir = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	AUTOCLOSE int cdir = -1;
	AUTOCLOSE int ldir = -1;
	AUTOUNLOCK int lock = -1;

	if (!n->reserved)
		return;
	n->reserved = 0;
	net_attach_end(n); /* the run failed while attach ran: let it end */
	if (dir < 0)
		return;
	cdir = openat(dir, "containers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ldir = openat(dir, "leases", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	lock = state_lock(dir);
	/* The lease (what mdnet.sh status lists) goes with the container. */
	if (n->enabled && ldir >= 0)
		unlinkat(ldir, n->addr, 0);
	/* The host port goes with the container's network namespace, which
	 * the kernel removes on its own a few milliseconds after the
	 * container ends (8-14 ms measured here). Rather than make every
	 * container's end wait for it, the entry stays while the port is there
	 * (SECURITY.md 43): it keeps the name and the address taken
	 * (registry_scan), and the next start or gc forgets it once the port
	 * has gone, or removes the port if a process still holds its
	 * namespace (state/gc.c). */
	if (n->enabled && n->attached && net_port_exists(n->addr))
		return;
	if (cdir >= 0)
		unlinkat(cdir, id, 0);
}
