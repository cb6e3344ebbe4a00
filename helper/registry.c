/* registry.c: the running containers, as root alone records them.
 *
 * RUNDIR/containers/ID holds "uid pid starttime addr" of the helper that
 * runs container ID; RUNDIR/leases/ADDR names the container holding ADDR
 * (for mdnet.sh status). Both change only under RUNDIR/lock.
 *
 * MUST: RUNDIR is root-owned 0700 at a path fixed at build time, so nothing
 * a user can write steers the helper (SECURITY.md 27-28, CVE-2019-11328,
 * CVE-2022-31214); an entry counts only while the helper that wrote it is
 * alive, by pid and start time, so pid reuse cannot forge one. */
#define _GNU_SOURCE
#include "registry.h"
#include "cgroup.h"
#include "net.h"
#include "parse.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int registry_rundir(void)
{
	int fd = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die_errno("open(\"%s\")", MD_RUNDIR);
	return fd;
}

/* The registry lock: held while counting, choosing and writing. */
int registry_lock(int dirfd)
{
	int fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		die_errno("locking %s/lock", MD_RUNDIR);
	return fd;
}

int registry_subdir(int dirfd, const char *name)
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
		net_detach_port(name, veth, addr);
		if (ldir >= 0)
			unlinkat(ldir, addr, 0);
	}
	unlinkat(cdir, name, 0);
	audit(1, "gc %s", name);
}

int registry_gc(int cdir, int ldir)
{
	DIR *d = fdopendir(dup(cdir));
	struct dirent *e;
	char names[256][64];
	int n = 0;

	if (!d)
		die_errno("reading %s/containers", MD_RUNDIR);
	rewinddir(d); /* a dup shares its offset with every earlier reader */
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
void registry_scan(int cdir, const char *id, uid_t uid, uint32_t want, int *mine, int *taken)
{
	DIR *d = fdopendir(dup(cdir));
	struct dirent *e;

	if (!d)
		die_errno("reading %s/containers", MD_RUNDIR);
	rewinddir(d); /* a dup shares its offset with every earlier reader */
	*mine = *taken = 0;
	while ((e = readdir(d))) {
		unsigned long owner;
		long pid;
		char addr[16] = "";
		uint32_t a;

		if (e->d_name[0] == '.' || !live_entry(cdir, e->d_name, &owner, &pid, addr))
			continue;
		if (id && strcmp(e->d_name, id) == 0)
			die("the name %s is in use by another container", id);
		if (owner == uid)
			(*mine)++;
		if (want && parse_ipv4(addr, &a) == 0 && a == want)
			*taken = 1;
	}
	closedir(d);
}

void registry_add(int cdir, int ldir, const char *id, uid_t uid, const char *addr)
{
	char entry[128];

	xsnprintf(entry, sizeof entry, "%u %d %llu %s\n", (unsigned)uid, (int)getpid(),
		  start_time(getpid()), addr ? addr : "-");
	if (write_new_file(cdir, id, entry) < 0)
		die_errno("writing %s/containers/%s", MD_RUNDIR, id);
	if (addr && write_new_file(ldir, addr, id) < 0) {
		unlinkat(cdir, id, 0);
		die_errno("writing %s/leases/%s", MD_RUNDIR, addr);
	}
}
