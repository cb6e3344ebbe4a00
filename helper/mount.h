/* mount.h: the container's mount namespace, built in the child. */
#ifndef MD_MOUNT_H
#define MD_MOUNT_H

#include "core/request.h"
#include "layer.h"
#include "cgroup/cgroup.h"

#include <sys/types.h>

/* In the child, in its new mount namespace, still host root: make the
 * host's mounts private, mount the rootfs (by fd) at the helper's own
 * root-owned run directory as the layer plan says, mount /proc, /dev,
 * /sys and, for a read-only rootfs, tmpfs on /tmp, /run, /var/tmp owned by
 * the caller, attach the request's binds, pivot_root into it and detach
 * the old root; with_init: our init at /dev/mdinit (spawn/init.h). Dies on
 * any failure.
 * cg: the container's groups, for /sys/fs/cgroup; the caller is already in
 * them and in its own cgroup namespace. */
void mount_container(int rootfd, struct layer *layer, const struct request *req,
		     uid_t owner, gid_t group, int with_init,
		     const struct cg *cg);

#endif
