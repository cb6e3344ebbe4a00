/* mount.c: the container's filesystem view.
 *
 * MUST:
 * - make the host's / rprivate before any mount, so nothing propagates back
 *   and the host's mountinfo is the same before and after (SECURITY.md 30);
 * - never look a name up again in the caller's tree as root: the caller
 *   owns the rootfs and can swap any directory for a symlink at any moment,
 *   and a symlink to /proc/self/fd/N reaches whatever the caller passed as
 *   fd N, even with the old root gone. So /dev and /proc are built in a
 *   staging tmpfs only root can see (over RUNDIR, in this private mount
 *   namespace), with *at() calls on fds of it, and moved whole onto the
 *   rootfs directories, which are reached by O_NOFOLLOW walks and used as
 *   fds (fchdir + "."): SECURITY.md 17, 31, 32, CVE-2019-19921,
 *   CVE-2025-31133;
 * - fresh /proc nosuid,nodev,noexec and /sys read-only, both staged and
 *   masked as runc does (masks.c) before they are moved in; /dev a fresh
 *   tmpfs with only null zero full random urandom tty and a new devpts
 *   instance; the rootfs itself nosuid,nodev (SECURITY.md 33, 46);
 * - pivot_root, then detach the old root, staging included (SECURITY.md 31);
 * - /sys/fs/cgroup shows the container's own groups, read-only, staged in
 *   the fresh sysfs before it is moved in (cgroup/view.c; issue 16). */
#define _GNU_SOURCE
#include "mount.h"
#include "binds.h"
#include "cgroup/view.h"
#include "masks.h"
#include "spawn/init.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define STAGE MD_RUNDIR
#define STAGED(name) STAGE "/" name

/* Keep the restrictions the rootfs's own mount already has (a home mounted
 * noexec stays noexec inside). */
static unsigned long inherited_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (fstatvfs(fd, &sv) < 0)
		die_errno("statvfs of the rootfs");
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

/* A tmpfs over RUNDIR that only this namespace sees, with the rootfs at
 * STAGE/root as the layer plan says (layer.c); returns an fd of it. */
static int stage_rootfs(int rootfd, struct layer *layer)
{
	int fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_errno("making / private");
	if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64k") < 0)
		die_errno("mounting the staging tmpfs");
	if (mkdir(STAGED("root"), 0700) < 0 || mkdir(STAGED("dev"), 0755) < 0 ||
	    mkdir(STAGED("proc"), 0555) < 0 || mkdir(STAGED("sys"), 0555) < 0)
		die_errno("mkdir in the staging tmpfs");
	layer_mount(layer, rootfd, STAGED("root"), STAGE, inherited_flags(rootfd));
	fd = open(STAGED("root"), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_errno("open(\"%s\")", STAGED("root"));
	return fd;
}

/* cwd := the rootfs's directory NAME, a real directory reached without
 * following any symlink. Returns 0 if it is absent and not required. */
static int enter_mountpoint(int root, const char *name, int required)
{
	AUTOCLOSE int fd = open_dir_nofollow(root, name);

	if (fd < 0 && !required && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ENOENT)
		die("the rootfs has no /%s directory", name);
	if (fd < 0)
		die("the rootfs's /%s is not a directory (a symlink is refused)", name);
	if (fchdir(fd) < 0)
		die_errno("chdir to /%s", name);
	return 1;
}

/* Mount onto the directory entered last, then leave it. */
static void mount_here(const char *what, const char *type, unsigned long flags,
		       const char *data, const char *name)
{
	if (mount(what, ".", type, flags, data) < 0)
		die_errno("mounting /%s", name);
	if (chdir("/") < 0)
		die_errno("chdir(\"/\")");
}

/* /proc/sys, sysrq-trigger and the rest: masks.c. */
static void stage_proc_sys(void)
{
	if (mount("proc", STAGED("proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_errno("mounting proc");
	if (mount("sysfs", STAGED("sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
		  MS_NOEXEC, NULL) < 0)
		die_errno("mounting sysfs");
}

/* ---- /sys/fs/cgroup: the container's limits, read-only ---- */

/* On the staged sysfs, which nobody else has seen: the caller's rootfs is
 * not involved. Must run in the container's cgroup namespace (v2 roots
 * the mount there). */
static void stage_cgroup(const struct cg *cg)
{
	AUTOCLOSE int target = open(STAGED("sys/fs/cgroup"), O_PATH | O_DIRECTORY | O_NOFOLLOW |
				    O_CLOEXEC);

	if (target < 0)
		die_errno("open(\"%s\")", STAGED("sys/fs/cgroup"));
	cg_view_mount(cg, target);
}

/* ---- */

static void stage_dev(void)
{
	static const struct { const char *name; unsigned maj, min; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const char *const links[][2] = {
		{ "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	AUTOCLOSE int dev = -1;
	mode_t old = umask(0);

	if (mount("tmpfs", STAGED("dev"), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=256k") < 0)
		die_errno("mounting tmpfs for /dev");
	dev = open(STAGED("dev"), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dev < 0)
		die_errno("open(\"%s\")", STAGED("dev"));
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		if (mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0)
			die_errno("mknod /dev/%s", nodes[i].name);
	if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0)
		die_errno("mkdir in /dev");
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0)
			die_errno("symlink /dev/%s", links[i][1]);
	umask(old);
	if (mount("devpts", STAGED("dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		die_errno("mounting devpts");
	if (mount("shm", STAGED("dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777") < 0)
		die_errno("mounting /dev/shm");
}

/* A shared read-only rootfs still needs somewhere to write. */
static void mount_scratch(int root, uid_t owner, gid_t group)
{
	static const struct { const char *path; const char *mode; } dirs[] = {
		{ "tmp", "1777" }, { "var/tmp", "1777" }, { "run", "0755" },
	};
	char opts[128];

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!enter_mountpoint(root, dirs[i].path, 0))
			continue;
		xsnprintf(opts, sizeof opts, "mode=%s,uid=%u,gid=%u,size=64m", dirs[i].mode,
			  (unsigned)owner, (unsigned)group);
		mount_here("tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, opts, dirs[i].path);
	}
}

static void pivot_into(int root)
{
	if (fchdir(root) < 0)
		die_errno("chdir to the rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno("pivot_root");
	/* The old root, staging tmpfs and all, is stacked under the new one. */
	if (umount2(".", MNT_DETACH) < 0)
		die_errno("detaching the host's root");
	if (chdir("/") < 0)
		die_errno("chdir(\"/\")");
}

void mount_container(int rootfd, struct layer *layer, const struct request *req,
		     uid_t owner, gid_t group, int with_init, const struct cg *cg)
{
	AUTOCLOSE int root = stage_rootfs(rootfd, layer);
	struct binds binds;

	binds_open(&binds, req, owner, group);
	stage_proc_sys();
	masks_apply(STAGED("proc"), STAGED("sys")); /* SECURITY.md 46 */
	stage_cgroup(cg);
	stage_dev();
	if (with_init)
		init_stage(STAGED("dev")); /* --init: spawn/init.c */
	enter_mountpoint(root, "proc", 1);
	mount_here(STAGED("proc"), NULL, MS_MOVE, NULL, "proc");
	enter_mountpoint(root, "dev", 1);
	mount_here(STAGED("dev"), NULL, MS_MOVE, NULL, "dev");
	enter_mountpoint(root, "sys", 1);
	mount_here(STAGED("sys"), NULL, MS_MOVE, NULL, "sys");
	if (layer->read_only)
		mount_scratch(root, owner, group);
	binds_attach(&binds, req, root, owner, group);
	pivot_into(root);
}
