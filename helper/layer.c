/* layer.c: the container's root: a bind of the rootfs, or an overlayfs
 * whose upper layer is a tmpfs that goes with the container (issue 16).
 *
 * MUST:
 * - the rootfs (the lower layer) is never written through the layer: it is
 *   mounted read-only under it, from the fd rootfs.c checked;
 * - the upper layer is a tmpfs in the container's own mount namespace,
 *   sized by the memory limit; its pages are charged to the container's
 *   memory cgroup, and it is gone when the namespace is (nothing to clean
 *   up, nothing another user can reach);
 * - a system rootfs's files are root's on the host, which no id of the
 *   container's user namespace maps to: the lower layer is an idmapped
 *   mount with the container's own maps (host root's files become
 *   container root's), so container root can change them in its layer and
 *   never on the host; the user namespace is made by host root, with the
 *   maps write_id_maps writes for the container (SECURITY.md 36);
 * - nosuid,nodev on every layer (SECURITY.md 33). */
#define _GNU_SOURCE
#include "layer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* A user namespace with the container's maps, held by an fd: made by a
 * child of ours that waits on a pipe until we have the fd, so its pid
 * (unreaped, ours) cannot be anyone else's while the maps are written. */
static int userns_with_maps(const struct caller *c)
{
	int pipefd[2], pidfd = -1, ns;
	char path[64];
	siginfo_t si;
	long pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
	if (pid < 0)
		die_errno("clone(CLONE_NEWUSER) for the writable layer");
	if (pid == 0) {
		char b;
		close(pipefd[1]);
		while (read(pipefd[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	write_id_maps((pid_t)pid, c);
	xsnprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	close(pipefd[1]);
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (ns < 0)
		die_errno("open(\"%s\")", path);
	return ns;
}

void layer_plan(struct layer *l, enum layer_mode mode, int rootfs_read_only, int userns_host,
		uint64_t memory, const struct caller *c)
{
	memset(l, 0, sizeof *l);
	l->userns = -1;
	l->size = memory;
	if (mode == LAYER_READ_ONLY)
		l->read_only = 1;
	else if (mode == LAYER_EPHEMERAL || rootfs_read_only)
		l->overlay = 1;
	/* --userns host is root's: root's files are its own already. */
	if (l->overlay && rootfs_read_only && !userns_host)
		l->userns = userns_with_maps(c);
}

/* The rootfs, read-only (idmapped for a system rootfs), at dir. */
static int mount_lower(const struct layer *l, int rootfd, const char *dir)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					       MOUNT_ATTR_NODEV };
	AUTOCLOSE int tree = open_tree(rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
						       AT_EMPTY_PATH);

	if (l->userns >= 0) {
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (unsigned)l->userns;
	}
	if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 ||
	    move_mount(tree, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -1;
	return 0;
}

/* The upper layer's root: a directory owned and moded as the lower's root
 * looks (through the idmap), so / inside is container root's. */
static int make_upper(const struct layer *l, const char *lower, const char *upper,
		      const char *upper_root, const char *work)
{
	char opts[64] = "mode=0700";
	struct stat st;

	if (l->size)
		xsnprintf(opts, sizeof opts, "mode=0700,size=%llu", (unsigned long long)l->size);
	if (stat(lower, &st) < 0 ||
	    mount("tmpfs", upper, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0 ||
	    mkdir(upper_root, st.st_mode & 07777) < 0 || mkdir(work, 0700) < 0 ||
	    chown(upper_root, st.st_uid, st.st_gid) < 0 || chmod(upper_root, st.st_mode & 07777) < 0)
		return -1;
	return 0;
}

static int mount_overlay(struct layer *l, int rootfd, const char *target, const char *stage,
			 unsigned long inherited)
{
	char lower[256], upper[256], upper_root[256], work[256], opts[1024];

	xsnprintf(lower, sizeof lower, "%s/lower", stage);
	xsnprintf(upper, sizeof upper, "%s/upper", stage);
	xsnprintf(upper_root, sizeof upper_root, "%s/upper/root", stage);
	xsnprintf(work, sizeof work, "%s/upper/scratch", stage);
	xsnprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper_root, work);
	if (mkdir(lower, 0700) < 0 || mkdir(upper, 0700) < 0)
		return -1;
	if (mount_lower(l, rootfd, lower) < 0 || make_upper(l, lower, upper, upper_root, work) < 0)
		return -1;
	return mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV |
		     (inherited & ~(unsigned long)MS_RDONLY), opts);
}

static void mount_bind(int rootfd, const char *target, unsigned long flags)
{
	char src[64];

	/* The source is the fd we checked: the path is never looked up again. */
	xsnprintf(src, sizeof src, "/proc/self/fd/%d", rootfd);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		die_errno("bind-mounting the rootfs");
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		die_errno("remounting the rootfs nosuid,nodev");
}

void layer_mount(struct layer *l, int rootfd, const char *target, const char *stage,
		 unsigned long inherited)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | inherited;

	if (l->overlay) {
		if (mount_overlay(l, rootfd, target, stage, inherited) == 0)
			return;
		warnx_("no writable layer here (overlayfs: %s): the rootfs is read-only",
		       strerror(errno));
		l->overlay = 0;
		l->read_only = 1;
	}
	if (l->read_only)
		flags |= MS_RDONLY;
	mount_bind(rootfd, target, flags);
}
