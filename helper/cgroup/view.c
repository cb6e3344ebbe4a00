/* view.c: what a container sees at /sys/fs/cgroup: its own limits, so that
 * `cat memory.max`, JVMs and nproc-like tools find them (issue 16).
 *
 * MUST:
 * - the container sees its own groups and nothing above or beside them: on
 *   v2 the cgroup2 mount is made inside the container's cgroup namespace,
 *   whose root is its group; on v1 each bind's source is the container's
 *   group directory, and ".." of a bind's root stays at the bind's root;
 * - container root can write no limit and create no group: every mount is
 *   read-only (and the files stay host root's, which it is not), and the
 *   mount namespace belongs to the host's user namespace, so it can neither
 *   remount nor unmount them (SECURITY.md 19, 28);
 * - every source and target is reached by fd, never by a path the caller
 *   can influence: the groups below the root-owned MD_CGROUP_NAME, the
 *   staged sysfs nobody else has seen (SECURITY.md 17, 31);
 * - nosuid, nodev, noexec everywhere (SECURITY.md 33). */
#define _GNU_SOURCE
#include "cgroup/view.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define VIEW_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static void attach(int mnt, int target, const char *what)
{
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_errno("mounting %s at /sys/fs/cgroup", what);
}

/* v2: fsopen reads the cgroup namespace now: the container's own, so the
 * mount's root is its group. (In the host's namespace a cgroup2 mount
 * without options would also reset nsdelegate for the whole machine.) */
static void view_v2(int target)
{
	AUTOCLOSE int fs = fsopen("cgroup2", FSOPEN_CLOEXEC);
	AUTOCLOSE int mnt = -1;

	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die_errno("cgroup: creating the container's cgroup2 mount");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, VIEW_ATTRS);
	if (mnt < 0)
		die_errno("cgroup: creating the container's cgroup2 mount");
	attach(mnt, target, "cgroup2");
}

/* The group of slot s again, in this (the child's) mount namespace, where
 * open_tree can clone it: the fd cg_create opened is in the host's. The
 * path is root's all the way (MD_CGROUP_NAME is checked root-owned when
 * made) and the result must be the very group cg_create made. */
static int reopen_group(const struct cg *cg, int s)
{
	AUTOCLOSE int root = open("/sys/fs/cgroup", DIR_FLAGS);
	AUTOCLOSE int hier = root < 0 ? -1 : openat(root, cg->hier[s], DIR_FLAGS);
	AUTOCLOSE int parent = hier < 0 ? -1 : openat(hier, MD_CGROUP_NAME, DIR_FLAGS);
	int fd = parent < 0 ? -1 : openat(parent, cg->id, DIR_FLAGS);
	struct stat a, b;
	struct statfs sf;

	if (fd < 0 || fstat(fd, &a) < 0 || fstat(cg->fd[s], &b) < 0 || fstatfs(fd, &sf) < 0)
		die_errno("cgroup: reopening the container's group in /sys/fs/cgroup/%s", cg->hier[s]);
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino || (long)sf.f_type != CGROUP_SUPER_MAGIC)
		die("cgroup: /sys/fs/cgroup/%s/%s/%s is not the container's group", cg->hier[s],
		    MD_CGROUP_NAME, cg->id);
	return fd;
}

/* A read-only bind of slot s's group onto dir/name of the view. */
static void bind_group(const struct cg *cg, int s, int dir)
{
	struct mount_attr attr = { .attr_set = VIEW_ATTRS };
	AUTOCLOSE int group = reopen_group(cg, s);
	AUTOCLOSE int at = openat(dir, cg->hier[s], DIR_FLAGS);
	AUTOCLOSE int copy = -1;

	if (at < 0)
		die_errno("cgroup: open(\"/sys/fs/cgroup/%s\") in the view", cg->hier[s]);
	copy = open_tree(group, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | OPEN_TREE_CLOEXEC);
	if (copy < 0 || mount_setattr(copy, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		die_errno("cgroup: binding the container's %s group", cg->hier[s]);
	attach(copy, at, cg->hier[s]);
}

/* "cpu,cpuacct" also answers to "cpu" and "cpuacct", as on the host. */
static void make_entry(int fs, const char *name)
{
	char part[sizeof ((struct cg *)0)->hier[0]];
	const char *p = name;

	if (mkdirat(fs, name, 0555) < 0)
		die_errno("cgroup: mkdir /sys/fs/cgroup/%s in the view", name);
	while (strchr(name, ',') && *p) {
		size_t n = strcspn(p, ",");
		xsnprintf(part, sizeof part, "%.*s", (int)n, p);
		if (symlinkat(name, fs, part) < 0 && errno != EEXIST)
			die_errno("cgroup: symlink /sys/fs/cgroup/%s in the view", part);
		p += n + (p[n] == ',');
	}
}

/* v1: a tmpfs holding one directory per hierarchy, made read-only before
 * it is attached; then the groups are bound onto its directories. */
static void view_v1(const struct cg *cg, int target)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	AUTOCLOSE int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	AUTOCLOSE int mnt = -1;
	mode_t old;

	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mnt = fsmount(fs, FSMOUNT_CLOEXEC, VIEW_ATTRS & ~MOUNT_ATTR_RDONLY)) < 0)
		die_errno("cgroup: creating the tmpfs of /sys/fs/cgroup");
	old = umask(022);
	for (int s = 0; s < CG_NCTL; s++)
		if (cg->fd[s] >= 0)
			make_entry(mnt, cg->hier[s]);
	umask(old);
	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
		die_errno("cgroup: making the tmpfs of /sys/fs/cgroup read-only");
	attach(mnt, target, "a tmpfs");
	for (int s = 0; s < CG_NCTL; s++)
		if (cg->fd[s] >= 0)
			bind_group(cg, s, mnt);
}

void cg_view_mount(const struct cg *cg, int target)
{
	if (cg->mode == CG_V2)
		view_v2(target);
	else
		view_v1(cg, target);
}
