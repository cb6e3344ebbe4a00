/* state/gc.c: see gc.h.
 *
 * Why in three steps: removing a cgroup may wait a second for the kernel
 * (EBUSY while exiting tasks are counted) and removing a port runs root's
 * network script. Under the lock either would let one slow start hold
 * every other user's (the first release did both under it). The entry
 * stays while its cgroup and port are removed, so its name and address
 * stay taken: no start can create a namesake cgroup that the removal would
 * then take away. */
#define _GNU_SOURCE
#include "state/gc.h"
#include "state/lock.h"
#include "cgroup/cgroup.h"
#include "net.h"
#include "core/parse.h"
#include "state/registry.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct stale {
	char name[RUN_ID_SIZE];
	char addr[16];         /* "-" without one */
	long helper;
	unsigned long long helper_start;
	int gone;              /* cgroup and port removed */
};

static int lease_is(int ldir, const char *addr, const char *name)
{
	char holder[80];

	return ldir >= 0 && read_file_at(ldir, addr, holder, sizeof holder) >= 0 &&
	       strcmp(holder, name) == 0;
}

/* Under the lock: the entries whose helper is gone, however many. */
static size_t find_stale(int cdir, struct stale **out)
{
	DIR *d = fdopendir(dup(cdir));
	struct dirent *de;
	size_t n = 0, cap = 0;
	struct stale *list = NULL;

	if (!d)
		die_errno("reading %s/containers", MD_RUNDIR);
	rewinddir(d); /* a dup shares its offset with every earlier reader */
	while ((de = readdir(d))) {
		struct entry e;

		if (de->d_name[0] == '.' || !valid_name(de->d_name) ||
		    registry_read(cdir, de->d_name, &e) || e.helper <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			list = realloc(list, cap * sizeof *list);
			if (!list)
				die("out of memory");
		}
		memset(&list[n], 0, sizeof list[n]);
		memcpy(list[n].name, e.name, sizeof list[n].name);
		memcpy(list[n].addr, e.addr, sizeof list[n].addr);
		list[n].helper = e.helper;
		list[n].helper_start = e.helper_start;
		n++;
	}
	closedir(d);
	*out = list;
	return n;
}

/* Unlocked: its cgroups, then its port. 1 when both are gone. */
static int remove_what_it_held(const struct stale *s, int patient)
{
	int port = net_port_exists(s->addr);

	/* The kernel still taking the port away with the namespace (a few
	 * ms after the container's end, killed helper or not), or a process
	 * holding the namespace: not worth a wait at every start. */
	if (port && !patient)
		return 0;
	if (!cg_destroy_by_id(s->name))
		return 0; /* still busy: the entry stays, a later gc retries */
	if (port)
		net_detach_port(s->name, s->addr);
	return !net_port_exists(s->addr);
}

/* Under the lock: forget it, if the entry still is that stale one. */
static void forget(int cdir, int ldir, const struct stale *s)
{
	struct entry e;

	if (registry_read(cdir, s->name, &e) || e.helper != s->helper ||
	    e.helper_start != s->helper_start)
		return;
	if (lease_is(ldir, s->addr, s->name))
		unlinkat(ldir, s->addr, 0);
	unlinkat(cdir, s->name, 0);
}

int state_gc(int patient)
{
	AUTOCLOSE int dir = registry_rundir();
	AUTOCLOSE int cdir = registry_subdir(dir, "containers");
	AUTOCLOSE int ldir = registry_subdir(dir, "leases");
	AUTOUNLOCK int lock = state_lock(dir);
	struct stale *list = NULL;
	size_t n = find_stale(cdir, &list);
	int left = 0;

	state_unlock(&lock);
	for (size_t i = 0; i < n; i++)
		list[i].gone = remove_what_it_held(&list[i], patient);
	if (n) {
		lock = state_lock(dir);
		for (size_t i = 0; i < n; i++)
			if (list[i].gone)
				forget(cdir, ldir, &list[i]);
			else
				left++;
		state_unlock(&lock);
		/* Recorded once the lock is free: the log may make us wait. */
		for (size_t i = 0; i < n; i++)
			if (list[i].gone)
				audit(1, "gc %s", list[i].name);
	}
	free(list);
	return left;
}
