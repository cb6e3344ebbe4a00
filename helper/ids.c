/* ids.c: caller identity, subordinate ids, id maps, dropping privilege.
 *
 * MUST:
 * - identity comes from the kernel (real uid, real gid, getgroups), never
 *   from the environment;
 * - maps hold only the caller's uid/gid and their own /etc/sub[ug]id range;
 *   setgroups is "deny" unless a subgid range is mapped (CVE-2018-7169);
 * - after the drop every id is verified with getresuid/getresgid
 *   (CVE-2020-5291, CVE-2019-15900), host supplementary groups are gone
 *   where the caller could drop them too, and kept where setgroups must
 *   stay "deny" (SECURITY.md 48), and only Docker's default capabilities
 *   remain, all of them in the container's own user namespace (SECURITY.md
 *   19-22);
 * - the inheritable and ambient sets are empty (CVE-2022-24769: a
 *   non-empty inheritable set hands capabilities to a file with inheritable
 *   file caps run by a non-root user), and the securebits that decide how
 *   root and uid changes treat capabilities are locked (SECURITY.md 47). */
#define _GNU_SOURCE
#include "ids.h"
#include "core/parse.h"
#include "util.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/securebits.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

/* Nothing for exec to pass on: the kernel's own sets, read back. */
static void empty_inheritable_and_ambient(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die_errno("clearing the ambient capabilities");
	if (syscall(SYS_capget, &h, d) < 0)
		die_errno("capget");
	if (d[0].inheritable || d[1].inheritable)
		die("the inheritable capabilities are not empty after the drop");
	/* With the inheritable set empty the ambient one is too: the kernel
	 * keeps no capability ambient that is not also inheritable
	 * (capabilities(7)), so no prctl per capability to prove it. */
}

/* Lock NOROOT and NO_SETUID_FIXUP, both off, as they are under Docker and
 * crun (neither sets securebits). Turned on they would break what a
 * container is: NOROOT takes container root's capabilities away at its
 * next exec (root keeps them through exec only by the root-exec rule), and
 * NO_SETUID_FIXUP lets a process keep its capabilities when it drops to a
 * non-root uid (a daemon switching to `nobody` would stay privileged).
 * Locked, nothing in the container can turn the second on for itself and
 * its children. KEEP_CAPS is left unlocked: programs that drop to a user
 * and keep one capability (ntpd, ping helpers) set it. Needs CAP_SETPCAP,
 * which container root holds in its own user namespace. */
static void lock_securebits(void)
{
	int want = SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED;

	if (prctl(PR_SET_SECUREBITS, want, 0, 0, 0) < 0)
		die_errno("locking the securebits");
	if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != want)
		die("the securebits are not what they must be after the drop");
}

/* Docker's default set: enough for apt-get and a package's maintainer
 * scripts, and in a private user namespace good for nothing host-owned. */
static void keep_default_caps(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	/* Inheritable stays empty, as Docker's since CVE-2022-24769. */
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
			  CAPNG_BOUNDING_SET,
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
	empty_inheritable_and_ambient();
	lock_securebits();
}

static void verify_ids(uid_t want_uid, gid_t want_gid, int groups_dropped)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		die_errno("getresuid");
	if (r != want_uid || e != want_uid || s != want_uid ||
	    rg != want_gid || eg != want_gid || sg != want_gid)
		die("credentials are not what they must be after the drop");
	if (groups_dropped && getgroups(0, NULL) != 0)
		die("supplementary groups are still held after the drop");
}

void become_container_root(int setgroups_allowed)
{
	/* With a subgid range the host groups went before the user namespace
	 * was made, and we may set an empty list again here. Without one,
	 * setgroups is "deny" and the caller's groups stay: dropping them
	 * would lift a permission that denies one of them (SECURITY.md 48). */
	if (setgroups_allowed && setgroups(0, NULL) < 0)
		die_errno("setgroups");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("cannot become root of the container's user namespace");
	verify_ids(0, 0, setgroups_allowed);
	keep_default_caps();
}

void restrict_host_root(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("cannot set the container's credentials");
	verify_ids(0, 0, 1);
	keep_default_caps();
}

/* One kind of id (uid or gid) against its map: 0 is the caller, 1..count
 * their subordinate range (write_map). */
static void check_mapped(const char *opt, unsigned long id, unsigned long count,
			 const char *kind, const char *file)
{
	if (id == 0 || (count && id <= count))
		return;
	if (!count)
		die("--user %s: you have no subordinate %ss in %s, so only %s 0 (you) is "
		    "mapped in the container; ask your administrator for a range (see INSTALL)",
		    opt, kind, file, kind);
	die("--user %s: %s %lu is not mapped in the container: its %ss are 0-%lu "
	    "(0 is you, 1-%lu your range in %s)", opt, kind, id, kind, count, count, file);
}

void check_user_mapped(const struct caller *c, const char *opt, uid_t uid, gid_t gid)
{
	check_mapped(opt, uid, c->subuid_count, "uid", "/etc/subuid");
	check_mapped(opt, gid, c->subgid_count, "gid", "/etc/subgid");
}

/* After a drop to a non-zero uid the kernel has cleared the permitted,
 * effective and ambient sets (no KEEP_CAPS, NO_SETUID_FIXUP locked off by
 * lock_securebits): verify it rather than believe it. */
static void verify_no_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		die_errno("capget");
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			die("capabilities are still held after the drop to --user");
	/* Ambient is a subset of permitted and inheritable: empty too. */
}

void become_container_user(uid_t uid, gid_t gid, int groups_dropped)
{
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		die_errno("cannot become uid %u gid %u of the container", (unsigned)uid,
			  (unsigned)gid);
	verify_ids(uid, gid, groups_dropped);
	if (uid != 0)
		verify_no_caps();
}
