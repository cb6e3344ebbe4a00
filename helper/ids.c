/* ids.c: caller identity, subordinate ids, id maps, dropping privilege.
 *
 * MUST:
 * - identity comes from the kernel (real uid, real gid, getgroups), never
 *   from the environment;
 * - maps hold only the caller's uid/gid and their own /etc/sub[ug]id range;
 *   setgroups is "deny" unless a subgid range is mapped (CVE-2018-7169);
 * - after the drop every id is verified with getresuid/getresgid
 *   (CVE-2020-5291, CVE-2019-15900), host supplementary groups are gone, and
 *   only Docker's default capabilities remain, all of them in the
 *   container's own user namespace (SECURITY.md 19-22). */
#define _GNU_SOURCE
#include "ids.h"
#include "core/parse.h"
#include "util.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void caller_identify(struct caller *c)
{
	struct passwd *pw;
	int n;

	memset(c, 0, sizeof *c);
	c->uid = getuid();
	c->gid = getgid();
	errno = 0;
	pw = getpwuid(c->uid);
	if (!pw)
		die("uid %u has no passwd entry", (unsigned)c->uid);
	xsnprintf(c->name, sizeof c->name, "%s", pw->pw_name);
	xsnprintf(c->home, sizeof c->home, "%s", pw->pw_dir);
	n = getgroups(IDS_MAX_GROUPS, c->groups);
	if (n < 0)
		die_errno("getgroups");
	c->ngroups = n;
	util_set_caller(c->name, c->uid);
}

int caller_in_group(const struct caller *c, gid_t gid)
{
	if (c->gid == gid)
		return 1;
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

/* One "name:start:count" line for this caller (by name or by uid). */
static int subid_line(const struct caller *c, char *line, unsigned long *start,
		      unsigned long *count)
{
	char *who = strtok(line, ":"), *s = strtok(NULL, ":"), *n = strtok(NULL, ":\n");
	char uidbuf[16];
	uint64_t a, b;

	if (!who || !s || !n || strtok(NULL, "\n"))
		return 0;
	snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned)c->uid);
	if (strcmp(who, c->name) && strcmp(who, uidbuf))
		return 0;
	if (parse_u64(s, 0xfffffffeUL, &a) < 0 || parse_u64(n, 0xfffffffeUL, &b) < 0 ||
	    b == 0 || a + b > 0xffffffffUL || a == 0)
		return 0;
	*start = (unsigned long)a;
	*count = (unsigned long)b;
	return 1;
}

static void read_subid_file(const struct caller *c, const char *path,
			    unsigned long *start, unsigned long *count)
{
	char line[512];
	FILE *f = fopen(path, "re");

	*count = 0;
	if (!f)
		return; /* no file: nobody has a range */
	while (fgets(line, sizeof line, f))
		if (subid_line(c, line, start, count))
			break;
	fclose(f);
}

void caller_subids(struct caller *c)
{
	read_subid_file(c, "/etc/subuid", &c->subuid_start, &c->subuid_count);
	read_subid_file(c, "/etc/subgid", &c->subgid_start, &c->subgid_count);
}

static void write_map(int procfd, const char *file, unsigned long id,
		      unsigned long start, unsigned long count)
{
	char map[128];

	if (count)
		xsnprintf(map, sizeof map, "0 %lu 1\n1 %lu %lu\n", id, start, count);
	else
		xsnprintf(map, sizeof map, "0 %lu 1\n", id);
	if (write_file_at(procfd, file, map) < 0)
		die_errno("writing %s of the container", file);
}

void write_id_maps(pid_t child, const struct caller *c)
{
	char path[64];
	AUTOCLOSE int procfd = -1;

	xsnprintf(path, sizeof path, "/proc/%d", (int)child);
	procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		die_errno("open(\"%s\")", path);
	write_map(procfd, "uid_map", c->uid, c->subuid_start, c->subuid_count);
	/* Without a subgid range, setgroups() inside could only drop the
	 * caller's groups to evade a negative group permission: deny it. */
	if (write_file_at(procfd, "setgroups", c->subgid_count ? "allow" : "deny") < 0)
		die_errno("writing setgroups of the container");
	write_map(procfd, "gid_map", c->gid, c->subgid_start, c->subgid_count);
}

/* Docker's default set: enough for apt-get and a package's maintainer
 * scripts, and in a private user namespace good for nothing host-owned. */
static void keep_default_caps(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
			  CAPNG_INHERITABLE | CAPNG_BOUNDING_SET,
			  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER,
			  CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID,
			  CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
			  CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE, -1) < 0)
		die("capng_updatev failed");
	if (capng_apply(CAPNG_SELECT_BOTH) < 0)
		die("capng_apply failed: cannot drop capabilities");
	/* Verify from the kernel, not from libcap-ng's copy. */
	capng_get_caps_process();
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) ||
	    capng_have_capability(CAPNG_BOUNDING_SET, CAP_SYS_ADMIN) ||
	    capng_have_capability(CAPNG_PERMITTED, CAP_SYS_MODULE))
		die("capabilities are still held after the drop");
}

static void verify_ids(uid_t want_uid, gid_t want_gid)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		die_errno("getresuid");
	if (r != want_uid || e != want_uid || s != want_uid ||
	    rg != want_gid || eg != want_gid || sg != want_gid)
		die("credentials are not what they must be after the drop");
	if (getgroups(0, NULL) != 0)
		die("supplementary groups are still held after the drop");
}

void become_container_root(int setgroups_allowed)
{
	/* Host supplementary groups were dropped before the user namespace
	 * was made; with a subgid range we may set an empty list again here. */
	if (setgroups_allowed && setgroups(0, NULL) < 0)
		die_errno("setgroups");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("cannot become root of the container's user namespace");
	verify_ids(0, 0);
	keep_default_caps();
}

void restrict_host_root(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("cannot set the container's credentials");
	verify_ids(0, 0);
	keep_default_caps();
}
