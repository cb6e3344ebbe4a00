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
#include "privilege.h"
#include "state/gc.h"
#include "state/lock.h"
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
		port_name(a, n->veth, sizeof n->veth);
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

/* Start the network script as full root with nothing of the caller's
 * (SECURITY.md 18, 39): executed through the fd that was checked, not by
 * its path again; fixed environment, limits, scheduling and signal state
 * (privilege.c: ours, never the caller's); stdin and stdout /dev/null;
 * stderr a pipe whose first line we report (out); netns, when not -1,
 * on fd 3. vfork: on this kind of (virtual) machine, copying the helper's
 * page tables for a fork costs milliseconds, on every container's start.
 * The child only makes raw system calls (no libc state is changed in the
 * memory it shares with us) until execve or _exit. */
/* A copy of fd at 5 or above (close-on-exec). The child dup3()s its fds
 * onto 0-4: dup3 fails (EINVAL) on an fd already in its place, and one
 * placed first could be overwritten by the next. A caller with only 0-2
 * open has the netns on fd 3: every bridge start failed with exit 126. */
static int above_four(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 5);

	if (copy < 0)
		die_errno("fcntl(F_DUPFD_CLOEXEC)");
	return copy;
}

static pid_t spawn_script(char *const argv[], int netns_fd, int *out)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	AUTOCLOSE int opened = open_trusted(MD_NETSCRIPT, O_PATH, "cannot find the network script");
	AUTOCLOSE int script = above_four(opened);
	AUTOCLOSE int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	AUTOCLOSE int devnull = -1;
	AUTOCLOSE int netns = netns_fd >= 0 ? above_four(netns_fd) : -1;
	AUTOCLOSE int err_w = -1;
	int err[2];
	pid_t pid;

	if (null < 0)
		die_errno("open(\"/dev/null\")");
	devnull = above_four(null);
	if (pipe2(err, O_CLOEXEC) < 0)
		die_errno("pipe");
	err_w = above_four(err[1]);
	close(err[1]);
	pid = vfork();
	if (pid < 0)
		die_errno("vfork");
	if (pid == 0) {
		/* fd 4: the script, for the kernel to hand its interpreter as
		 * /dev/fd/4 (so not close-on-exec). */
		if (syscall(SYS_dup3, devnull, 0, 0) < 0 || syscall(SYS_dup3, devnull, 1, 0) < 0 ||
		    syscall(SYS_dup3, err_w, 2, 0) < 0 ||
		    (netns >= 0 && syscall(SYS_dup3, netns, 3, 0) < 0) ||
		    syscall(SYS_dup3, script, 4, 0) < 0 || syscall(SYS_setgroups, 0, NULL) < 0 ||
		    syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0 ||
		    syscall(SYS_chdir, "/") < 0)
			_exit(126);
		affinity_restore(); /* ours from before the pin: every CPU */
		privilege_exec_signals();
		syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	*out = err[0];
	return pid;
}

/* Its exit status; its first line of stderr in why (may be empty). */
static int wait_script(pid_t pid, int out, char *why, size_t size)
{
	int status;
	ssize_t n;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	/* It has exited: what it wrote is all in the pipe, or lost. */
	n = read(out, why, size - 1);
	close(out);
	why[n > 0 ? n : 0] = '\0';
	why[strcspn(why, "\n")] = '\0';
	for (char *p = why; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Started before the child sets itself up, waited for (net_attach_wait)
 * before it runs anything of the caller's: the two overlap. The script
 * gets the child's network namespace as an fd (SECURITY.md 41): never a
 * pid, which a killed or slow helper's child could hand to another
 * process by the time the script used it. */
void net_attach(struct net *n, const char *id, int netns)
{
	char bridge[16], veth[16], name[64];
	char *argv[] = { "mdnet.sh", "attach", name, veth, bridge, NULL };

	if (!n->enabled)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	xsnprintf(veth, sizeof veth, "%s", n->veth);
	xsnprintf(bridge, sizeof bridge, "%s", n->bridge);
	n->attached = 1; /* a failed attach undoes itself; detach is harmless */
	n->script = spawn_script(argv, netns, &n->script_out);
}

void net_attach_end(struct net *n)
{
	char why[256];

	if (n->script > 0)
		wait_script(n->script, n->script_out, why, sizeof why);
	n->script = 0;
}

void net_attach_wait(struct net *n)
{
	char why[256];
	pid_t pid = n->script;

	if (pid <= 0)
		return;
	n->script = 0;
	if (wait_script(pid, n->script_out, why, sizeof why) != 0)
		die("network setup failed: %s", why[0] ? why : MD_NETSCRIPT " attach failed");
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
	char why[256];
	uint32_t ip;
	pid_t pid;
	int out;

	if (parse_ipv4(addr, &ip) < 0)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	port_name(ip, v, sizeof v);
	xsnprintf(a, sizeof a, "%s", addr);
	if (veth_gone(v))
		return;
	pid = spawn_script(argv, -1, &out);
	if (wait_script(pid, out, why, sizeof why) != 0)
		warnx_("network cleanup failed: %s", why[0] ? why : v);
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
	/* The host port goes with the container's network namespace, which
	 * the kernel removes on its own a few milliseconds after the
	 * container ends (8-14 ms measured here). Rather than make every
	 * container's end wait for it, the entry and lease stay while the port
	 * is there (SECURITY.md 43): they keep the name and the address
	 * taken, and the next start or gc collects them once the port has
	 * gone, or removes the port if a process still holds its namespace
	 * (state/gc.c). */
	if (dir < 0 || (n->enabled && n->attached && net_port_exists(n->addr)))
		return;
	cdir = openat(dir, "containers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ldir = openat(dir, "leases", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	lock = state_lock(dir);
	if (n->enabled && ldir >= 0)
		unlinkat(ldir, n->addr, 0);
	if (cdir >= 0)
		unlinkat(cdir, id, 0);
}
