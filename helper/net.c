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
#include "cgroup.h"
#include "parse.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int rundir_fd(void)
{
	int fd = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die_errno("open(\"%s\")", MD_RUNDIR);
	return fd;
}

/* The registry lock: held while counting, choosing and writing. */
static int lock_registry(int dirfd)
{
	int fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		die_errno("locking %s/lock", MD_RUNDIR);
	return fd;
}

static int subdir(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		die_errno("mkdir %s/%s", MD_RUNDIR, name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_errno("open %s/%s", MD_RUNDIR, name);
	return fd;
}

/* When a process started, in clock ticks since boot (0 if it is gone):
 * with the pid, it names one process for good, pid reuse or not. */
static unsigned long long start_time(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	AUTOCLOSE int fd = -1;

	xsnprintf(path, sizeof path, "/proc/%ld", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || read_file_at(fd, "stat", buf, sizeof buf) < 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* Field 22 is starttime; p is at the end of field 2. */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

/* A registry entry: "uid pid starttime addr\n", written by us alone.
 * Returns 1 and fills the fields when the helper that wrote it is still
 * alive, 0 when it is gone (a killed helper's leftovers: see gc). */
static int live_entry(int dirfd, const char *name, unsigned long *uid, long *pid, char *addr)
{
	char buf[128];
	unsigned long long started;

	if (read_file_at(dirfd, name, buf, sizeof buf) < 0 ||
	    sscanf(buf, "%lu %ld %llu %15s", uid, pid, &started, addr) != 4)
		return 0;
	return *pid > 0 && start_time(*pid) == started;
}

static void detach_port(const char *id, const char *veth, const char *addr);

/* What a helper killed with SIGKILL left: its container died with it
 * (PR_SET_PDEATHSIG), but its cgroup, host veth, lease and entry remain.
 * Called under the registry lock at every start, and by `mdhelper gc`. */
static void collect(int cdir, int ldir, const char *name)
{
	unsigned long uid;
	long pid = 0;
	char addr[16] = "-", veth[16];
	uint32_t a;

	if (!valid_name(name) || live_entry(cdir, name, &uid, &pid, addr))
		return;
	cg_destroy_by_id(name);
	if (parse_ipv4(addr, &a) == 0 && pid > 0) {
		xsnprintf(veth, sizeof veth, "mdv%ld", pid);
		detach_port(name, veth, addr);
		if (ldir >= 0)
			unlinkat(ldir, addr, 0);
	}
	unlinkat(cdir, name, 0);
	audit(1, "gc %s", name);
}

static int gc_dir(int cdir, int ldir)
{
	DIR *d = fdopendir(dup(cdir));
	struct dirent *e;
	char names[256][64];
	int n = 0;

	if (!d)
		die_errno("reading %s/containers", MD_RUNDIR);
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof names[0])
			strcpy(names[n++], e->d_name);
	closedir(d);
	for (int i = 0; i < n; i++)
		collect(cdir, ldir, names[i]);
	return n;
}

/* Count the caller's live containers, check the name is free and whether
 * addr (if any) is taken. */
static void scan(int cdir, const char *id, uid_t uid, uint32_t want, int *mine, int *taken)
{
	DIR *d = fdopendir(dup(cdir));
	struct dirent *e;

	if (!d)
		die_errno("reading %s/containers", MD_RUNDIR);
	*mine = *taken = 0;
	while ((e = readdir(d))) {
		unsigned long owner;
		long pid;
		char addr[16] = "";
		uint32_t a;

		if (e->d_name[0] == '.' || !live_entry(cdir, e->d_name, &owner, &pid, addr))
			continue;
		if (strcmp(e->d_name, id) == 0)
			die("the name %s is in use by another container", id);
		if (owner == uid)
			(*mine)++;
		if (want && parse_ipv4(addr, &a) == 0 && a == want)
			*taken = 1;
	}
	closedir(d);
}

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
		scan(cdir, id, uid, want, mine, &taken);
		if (taken)
			die("%s is in use by another container", req->ip);
		return want;
	}
	first = r->ip & mask_of(r->ip_prefix);
	last = first | ~mask_of(r->ip_prefix);
	for (uint32_t a = first; a <= last && a >= first; a++) {
		if (!usable(a, cfg, r))
			continue;
		scan(cdir, id, uid, a, mine, &taken);
		if (!taken)
			return a;
	}
	die("no free address left in your range %s/%u (%s:%d)", range, r->ip_prefix,
	    cfg->file, r->line);
}

void net_reserve(struct net *n, const struct config *cfg, const struct rule *r,
		 const struct caller *c, const struct request *req, const char *id)
{
	AUTOCLOSE int dir = rundir_fd();
	AUTOCLOSE int lock = lock_registry(dir);
	AUTOCLOSE int cdir = subdir(dir, "containers");
	AUTOCLOSE int ldir = subdir(dir, "leases");
	char entry[128];
	int mine = 0, taken;
	uint32_t a = 0;

	memset(n, 0, sizeof *n);
	gc_dir(cdir, ldir);
	n->enabled = wants_bridge(cfg, r, req);
	if (n->enabled)
		a = pick_address(cdir, cfg, r, req, id, c->uid, &mine);
	else
		scan(cdir, id, c->uid, 0, &mine, &taken);
	if (r->containers && (uint64_t)mine >= r->containers)
		die("you already run %d containers, your limit (%s:%d)", mine, cfg->file, r->line);
	if (n->enabled) {
		fmt_ip(a, n->addr, sizeof n->addr);
		fmt_ip(cfg->gateway, n->gateway, sizeof n->gateway);
		n->prefix = cfg->gateway_prefix;
		n->bridge = cfg->bridge;
		xsnprintf(n->veth, sizeof n->veth, "mdv%d", (int)getpid());
	}
	xsnprintf(entry, sizeof entry, "%u %d %llu %s\n", (unsigned)c->uid, (int)getpid(),
		  start_time(getpid()), n->enabled ? n->addr : "-");
	if (write_new_file(cdir, id, entry) < 0)
		die_errno("writing %s/containers/%s", MD_RUNDIR, id);
	n->reserved = 1;
	if (n->enabled && write_new_file(ldir, n->addr, id) < 0)
		die_errno("writing %s/leases/%s", MD_RUNDIR, n->addr);
}

/* Run the network script as full root with nothing of the caller's. */
static int run_script(char *const argv[])
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	AUTOCLOSE int check = open_trusted(MD_NETSCRIPT, O_PATH, "cannot find the network script");
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (devnull < 0 || dup2(devnull, 0) < 0 || setgroups(0, NULL) < 0 ||
		    setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || chdir("/") < 0)
			_exit(126);
		execve(MD_NETSCRIPT, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void net_attach(struct net *n, const char *id, pid_t child)
{
	char pid[16], cidr[24], bridge[16], veth[16], gw[16], name[64];
	char *argv[] = { "mdnet.sh", "attach", name, pid, veth, bridge, cidr, gw, NULL };

	if (!n->enabled)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	xsnprintf(pid, sizeof pid, "%d", (int)child);
	xsnprintf(veth, sizeof veth, "%s", n->veth);
	xsnprintf(bridge, sizeof bridge, "%s", n->bridge);
	xsnprintf(cidr, sizeof cidr, "%s/%u", n->addr, n->prefix);
	xsnprintf(gw, sizeof gw, "%s", n->gateway);
	n->attached = 1; /* a failed attach undoes itself; detach is harmless */
	if (run_script(argv) != 0)
		die("network setup failed (%s attach)", MD_NETSCRIPT);
}

static void detach_port(const char *id, const char *veth, const char *addr)
{
	char name[64], v[16], a[16];
	char *argv[] = { "mdnet.sh", "detach", name, v, a, NULL };

	xsnprintf(name, sizeof name, "%s", id);
	xsnprintf(v, sizeof v, "%s", veth);
	xsnprintf(a, sizeof a, "%s", addr);
	if (run_script(argv) != 0)
		warnx_("network cleanup failed (%s detach %s)", MD_NETSCRIPT, veth);
}

void net_gc(void)
{
	AUTOCLOSE int dir = rundir_fd();
	AUTOCLOSE int lock = lock_registry(dir);
	AUTOCLOSE int cdir = subdir(dir, "containers");
	AUTOCLOSE int ldir = subdir(dir, "leases");

	gc_dir(cdir, ldir);
}

void net_release(const struct net *n, const char *id)
{
	AUTOCLOSE int dir = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	AUTOCLOSE int lock = -1;

	if (!n->reserved)
		return;
	if (n->enabled && n->attached)
		detach_port(id, n->veth, n->addr);
	if (dir < 0)
		return;
	lock = lock_registry(dir);
	{
		AUTOCLOSE int cdir = openat(dir, "containers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		AUTOCLOSE int ldir = openat(dir, "leases", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (n->enabled && ldir >= 0)
			unlinkat(ldir, n->addr, 0);
		if (cdir >= 0)
			unlinkat(cdir, id, 0);
	}
}
