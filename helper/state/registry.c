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
#include "state/registry.h"
#include "cgroup/cgroup.h"
#include "net.h"
#include "core/parse.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int registry_rundir(void)
{
	int fd = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die_errno("open(\"%s\")", MD_RUNDIR);
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

/* When a process started, in clock ticks since boot (0 if it is gone, or
 * a zombie: a helper that has exited holds nothing any more, whether or
 * not its parent has reaped it): with the pid, it names one process for
 * good, pid reuse or not. */
unsigned long long registry_start_time(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	AUTOCLOSE int fd = -1;

	xsnprintf(path, sizeof path, "/proc/%ld", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || read_file_at(fd, "stat", buf, sizeof buf) < 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* Field 3 is the state, 22 starttime; p is at the end of field 2. */
	if (p[1] != ' ' || p[2] == 'Z' || p[2] == 'X' || p[2] == 'x')
		return 0;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

/* The second and third lines of an entry: the running container. */
static void parse_running(const char *text, struct entry *e)
{
	const char *line2 = strchr(text, '\n'), *line3;
	size_t n;

	if (!line2 || !(line3 = strchr(line2 + 1, '\n')))
		return;
	if (sscanf(line2 + 1, "%ld %llu %lld %d %llu %llu %255s %63s", &e->pid, &e->pid_start,
		   &e->created, &e->detached, &e->memory, &e->pids, e->cpus, e->hostname) != 8)
		return;
	n = strcspn(line3 + 1, "\n");
	if (line3[1 + n] != '\n' || n >= sizeof e->command)
		return; /* not all there yet */
	memcpy(e->command, line3 + 1, n);
	e->command[n] = '\0';
	e->running = e->pid > 0;
}

/* An entry: "uid helper starttime addr\n", then, once the command runs,
 * "pid pidstart created detached memory pids cpus hostname\ncommand\n";
 * written by helpers alone. Returns 1 and fills e when the helper that
 * wrote it is still alive, 0 when it is gone (see gc). */
int registry_read(int cdir, const char *name, struct entry *e)
{
	char buf[1024];

	memset(e, 0, sizeof *e);
	if (!valid_name(name) || strlen(name) >= sizeof e->name ||
	    read_file_at(cdir, name, buf, sizeof buf) < 0 ||
	    sscanf(buf, "%lu %ld %llu %15s", &e->uid, &e->helper, &e->helper_start, e->addr) != 4)
		return 0;
	strcpy(e->name, name);
	parse_running(buf, e);
	return e->helper > 0 && registry_start_time(e->helper) == e->helper_start;
}

static int live_entry(int dirfd, const char *name, unsigned long *uid, long *pid, char *addr)
{
	struct entry e;
	int live = registry_read(dirfd, name, &e);

	*uid = e.uid;
	*pid = e.helper;
	memcpy(addr, e.addr, sizeof e.addr);
	return live;
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

		if (e->d_name[0] == '.')
			continue;
		if (!live_entry(cdir, e->d_name, &owner, &pid, addr)) {
			/* Ended, its port still going: the address waits for it,
			 * and the name for gc (SECURITY.md 43). */
			if (want && pid > 0 && parse_ipv4(addr, &a) == 0 && a == want &&
			    net_port_exists(addr))
				*taken = 1;
			if (id && strcmp(e->d_name, id) == 0)
				die("the name %s is still being cleaned up: try again in a moment", id);
			continue;
		}
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
		  registry_start_time(getpid()), addr ? addr : "-");
	if (write_new_file(cdir, id, entry) < 0)
		die_errno("writing %s/containers/%s", MD_RUNDIR, id);
	if (addr && write_new_file(ldir, addr, id) < 0) {
		unlinkat(cdir, id, 0);
		die_errno("writing %s/leases/%s", MD_RUNDIR, addr);
	}
}

/* The user part of a generated name: the login name where it is already
 * a valid name part, else the uid. */
static void name_part(const struct caller *c, char *out, size_t size)
{
	size_t i, n = strlen(c->name);
	int ok = n > 0 && n <= 32;

	for (i = 0; ok && i < n; i++) {
		char ch = c->name[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		     ch == '.' || ch == '-';
	}
	if (ok)
		xsnprintf(out, size, "%s", c->name);
	else
		xsnprintf(out, size, "%u", (unsigned)c->uid);
}

void registry_pick_name(int cdir, const struct caller *c, char *id, size_t size)
{
	char user[40];
	struct stat st;

	name_part(c, user, sizeof user);
	for (int n = 1; n < 100000; n++) {
		xsnprintf(id, size, "md-%s-%d", user, n);
		if (fstatat(cdir, id, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			return;
	}
	die("no free container name left for %s", user);
}

/* The command as ps shows it: printable ASCII, spaces between words. */
static void command_line(char *const *argv, char *out, size_t size)
{
	size_t n = 0;

	for (; *argv && n + 1 < size; argv++) {
		if (n)
			out[n++] = ' ';
		for (const char *p = *argv; *p && n + 1 < size; p++)
			out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	}
	out[n] = '\0';
}

void registry_describe(const char *id, const struct entry *e)
{
	AUTOCLOSE int dir = registry_rundir();
	AUTOCLOSE int cdir = registry_subdir(dir, "containers");
	AUTOCLOSE int fd = openat(cdir, id, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	char text[1024];
	int n;

	n = snprintf(text, sizeof text, "%ld %llu %lld %d %llu %llu %s %s\n%s\n", e->pid,
		     e->pid_start, e->created, e->detached, e->memory, e->pids,
		     e->cpus[0] ? e->cpus : "-", e->hostname, e->command);
	/* One write: a reader sees the running part whole or not at all. */
	if (fd < 0 || n < 0 || (size_t)n >= sizeof text || write_all(fd, text, (size_t)n) < 0)
		die_errno("writing %s/containers/%s", MD_RUNDIR, id);
}

void registry_command_line(struct entry *e, char *const *argv)
{
	command_line(argv, e->command, sizeof e->command);
}

/* The registry for reading: -1 when there is none yet (no container ever
 * ran), never created by a reader. */
static int open_containers(void)
{
	AUTOCLOSE int dir = open(MD_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dir < 0)
		return -1;
	return openat(dir, "containers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void registry_find(const char *name, const struct caller *c, struct entry *e, int *pidfd)
{
	AUTOCLOSE int cdir = open_containers();
	int fd;

	*pidfd = -1;
	if (cdir < 0 || !registry_read(cdir, name, e) || !e->running ||
	    (c->uid != 0 && e->uid != c->uid))
		die("no such container: %s", name);
	/* Pin PID 1: the pidfd names this process for good, and the start
	 * time read after opening it proves the pid was not reused between
	 * the registry and here. */
	fd = (int)syscall(SYS_pidfd_open, (pid_t)e->pid, 0);
	if (fd < 0 || registry_start_time(e->pid) != e->pid_start) {
		if (fd >= 0)
			close(fd);
		die("no such container: %s", name);
	}
	*pidfd = fd;
}

void registry_each(const struct caller *c, void (*fn)(const struct entry *, void *), void *arg)
{
	AUTOCLOSE int cdir = open_containers();
	DIR *d;
	struct dirent *ent;

	if (cdir < 0 || !(d = fdopendir(dup(cdir))))
		return;
	while ((ent = readdir(d))) {
		struct entry e;
		if (ent->d_name[0] == '.' || !registry_read(cdir, ent->d_name, &e) || !e.running)
			continue;
		/* PID 1 gone, its monitor still cleaning up: not running. */
		if (registry_start_time(e.pid) != e.pid_start)
			continue;
		if (c->uid == 0 || e.uid == c->uid)
			fn(&e, arg);
	}
	closedir(d);
}
