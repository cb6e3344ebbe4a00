/* mount.h: the container's mount namespace, built in the child. */
#ifndef MD_MOUNT_H
#define MD_MOUNT_H

#include "cgroup/cgroup.h"

#include <sys/types.h>

/* In the child, in its new mount namespace, still host root: make the
 * host's mounts private, bind the rootfs (by fd) at the helper's own
 * root-owned run directory, pivot_root into it and detach the old root;
 * then mount /proc, /dev, /sys and, for a read-only rootfs, tmpfs on /tmp,
 * /run, /var/tmp owned by the caller. Dies on any failure.
 * cg: the container's groups, for /sys/fs/cgroup; the caller is already in
 * them and in its own cgroup namespace. */
void mount_container(int rootfd, int read_only, uid_t owner, gid_t group, const struct cg *cg);

#endif
