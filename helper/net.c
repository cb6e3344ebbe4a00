/* net.c: leases, the per-user quota, and the one program run as root.
 *
 * MUST:
 * - the registry and leases live in RUNDIR (root-owned 0700, fixed at build
 *   time) and are changed only under its lock: 20 parallel starts get 20
 *   addresses (SECURITY.md 28);
 * - an address is the caller's only if it is inside their rule's ip= range,
 *   is neither the network, the broadcast nor the gateway address, and no
 *   live container holds it (SECURITY.md 11);
 * - the network script is the one at the compiled-in path, root-owned with
 *   root-owned, non-writable parents, run with execve as uid 0 with an empty
 *   environment plus a fixed PATH, stdin /dev/null and an argv of values
 *   this file generated or validated (SECURITY.md 18, CVE-2017-5207). */
#define _GNU_SOURCE
#include "net.h"
#include "affinity.h"
#include "registry.h"
#include "parse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static void fmt_ip(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* A container's host port: mdv and its address as four 3-digit octets
 * (15 bytes), the name mdnet.sh's anti-spoofing table pairs with that
 * address alone. */
static void port_name(uint32_t a, char *buf, size_t size)
{
	xsnprintf(buf, size, "mdv%03u%03u%03u%03u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
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

static uint32_t pick_address(int cdir, int ldir, const struct config *cfg, const struct rule *r,
			     const struct request *req, const char *id, uid_t uid, int *mine)
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
	for (int round = 0; round < 2; round++) {
		for (uint32_t a = first; a <= last && a >= first; a++) {
			if (!usable(a, cfg, r))
				continue;
			registry_scan(cdir, id, uid, a, mine, &taken);
			if (!taken)
				return a;
		}
		/* Full, perhaps of ended containers whose ports the kernel
		 * is still removing: wait for those, once. */
		if (round == 0)
			registry_gc(cdir, ldir, 1);
	}
	die("no free address left in your range %s/%u (%s:%d)", range, r->ip_prefix,
	    cfg->file, r->line);
}

void net_reserve(struct net *n, const struct config *cfg, const struct rule *r,
		 const struct caller *c, const struct request *req, char *id)
{
	AUTOCLOSE int dir = registry_rundir();
	AUTOCLOSE int lock = registry_lock(dir);
	AUTOCLOSE int cdir = registry_subdir(dir, "containers");
	AUTOCLOSE int ldir = registry_subdir(dir, "leases");
	int mine = 0, taken;
	uint32_t a = 0;

	memset(n, 0, sizeof *n);
	/* What has gone already; what is still going holds its name and
	 * address a moment longer, unless this start asks for them. */
	if (registry_gc(cdir, ldir, 0) > 0 && (id[0] || req->ip))
		registry_gc(cdir, ldir, 1);
	if (!id[0])
		registry_pick_name(cdir, c, id, RUN_ID_SIZE);
	n->enabled = wants_bridge(cfg, r, req);
	if (n->enabled)
		a = pick_address(cdir, ldir, cfg, r, req, id, c->uid, &mine);
	else
		registry_scan(cdir, id, c->uid, 0, &mine, &taken);
	if (r->containers && (uint64_t)mine >= r->containers)
		die("you already run %d containers, your limit (%s:%d)", mine, cfg->file, r->line);
	if (n->enabled) {
		fmt_ip(a, n->addr, sizeof n->addr);
		fmt_ip(cfg->gateway, n->gateway, sizeof n->gateway);
		n->prefix = cfg->gateway_prefix;
		n->bridge = cfg->bridge;
		port_name(a, n->veth, sizeof n->veth);
	}
	registry_add(cdir, ldir, id, c->uid, n->enabled ? n->addr : NULL);
	n->reserved = 1;
}

/* Start the network script as full root with nothing of the caller's.
 * vfork: on this kind of (virtual) machine, copying the helper's page
 * tables for a fork costs milliseconds, on every container's start. The
 * child only makes raw system calls (no libc state is changed in the
 * memory it shares with us) until execve or _exit. */
static pid_t spawn_script(char *const argv[])
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	AUTOCLOSE int check = open_trusted(MD_NETSCRIPT, O_PATH, "cannot find the network script");
	AUTOCLOSE int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid;

	if (devnull < 0)
		die_errno("open(\"/dev/null\")");
	pid = vfork();
	if (pid < 0)
		die_errno("vfork");
	if (pid == 0) {
		if (syscall(SYS_dup3, devnull, 0, 0) < 0 || syscall(SYS_setgroups, 0, NULL) < 0 ||
		    syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0 ||
		    syscall(SYS_chdir, "/") < 0)
			_exit(126);
		affinity_restore(); /* it runs beside the container's start */
		syscall(SYS_execve, MD_NETSCRIPT, argv, envp);
		_exit(127);
	}
	return pid;
}

static int wait_script(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Started before the child sets itself up, waited for (net_attach_wait)
 * before it runs anything of the caller's: the two overlap. */
void net_attach(struct net *n, const char *id, pid_t child)
{
	char pid[16], bridge[16], veth[16], name[64];
	char *argv[] = { "mdnet.sh", "attach", name, pid, veth, bridge, NULL };

	if (!n->enabled)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	xsnprintf(pid, sizeof pid, "%d", (int)child);
	xsnprintf(veth, sizeof veth, "%s", n->veth);
	xsnprintf(bridge, sizeof bridge, "%s", n->bridge);
	n->attached = 1; /* a failed attach undoes itself; detach is harmless */
	n->script = spawn_script(argv);
}

void net_attach_end(struct net *n)
{
	if (n->script > 0)
		wait_script(n->script);
	n->script = 0;
}

void net_attach_wait(struct net *n)
{
	pid_t pid = n->script;

	if (pid <= 0)
		return;
	n->script = 0;
	if (wait_script(pid) != 0)
		die("network setup failed (%s attach)", MD_NETSCRIPT);
}

/* The container's namespace takes its veth with it a moment after the
 * container ends (the kernel's namespace cleanup runs on its own). Look
 * for it by its fixed /sys path, as bridge_is_up does: gone within
 * ~100 ms, there is nothing to detach and no process to start. */
static int veth_gone(const char *veth)
{
	char path[64];
	struct timespec tick = { 0, 1000000 };

	xsnprintf(path, sizeof path, "/sys/class/net/%s", veth);
	for (int i = 0; i < 100; i++) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

int net_port_exists(const char *addr)
{
	char v[16], path[64];
	uint32_t ip;

	if (parse_ipv4(addr, &ip) < 0)
		return 0;
	port_name(ip, v, sizeof v);
	xsnprintf(path, sizeof path, "/sys/class/net/%s", v);
	return access(path, F_OK) == 0 || errno != ENOENT;
}

void net_detach_port(const char *id, const char *addr)
{
	char name[64], v[16], a[16];
	char *argv[] = { "mdnet.sh", "detach", name, v, a, NULL };
	uint32_t ip;

	if (parse_ipv4(addr, &ip) < 0)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	port_name(ip, v, sizeof v);
	xsnprintf(a, sizeof a, "%s", addr);
	if (veth_gone(v))
		return;
	if (wait_script(spawn_script(argv)) != 0)
		warnx_("network cleanup failed (%s detach %s)", MD_NETSCRIPT, v);
}

void net_gc(void)
{
	AUTOCLOSE int dir = registry_rundir();
	AUTOCLOSE int lock = registry_lock(dir);
	AUTOCLOSE int cdir = registry_subdir(dir, "containers");
	AUTOCLOSE int ldir = registry_subdir(dir, "leases");

	registry_gc(cdir, ldir, 1);
}

void net_release(struct net *n, const char *id)
{
	AUTOCLOSE int dir = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	AUTOCLOSE int lock = -1;
	AUTOCLOSE int cdir = -1;
	AUTOCLOSE int ldir = -1;

	if (!n->reserved)
		return;
	n->reserved = 0;
	net_attach_end(n); /* the run failed while attach ran: let it end */
	if (dir < 0)
		return;
	lock = registry_lock(dir);
	cdir = openat(dir, "containers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ldir = openat(dir, "leases", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (n->enabled && ldir >= 0)
		unlinkat(ldir, n->addr, 0);
	/* The host port goes with the container's network namespace, which
	 * the kernel removes on its own a few milliseconds after the
	 * container ends (8-14 ms measured here). Rather than make every
	 * container's end wait for it, the entry stays behind while the port
	 * is there: an entry whose helper is gone keeps its address taken
	 * while its port exists (registry_scan), and the next start or gc
	 * collects it once the port has gone (registry_gc). */
	if (n->enabled && n->attached && net_port_exists(n->addr))
		return;
	if (cdir >= 0)
		unlinkat(cdir, id, 0);
}
