/* view.h: the container's own cgroups, read-only, at its /sys/fs/cgroup. */
#ifndef MD_CGROUP_VIEW_H
#define MD_CGROUP_VIEW_H

#include "cgroup/cgroup.h"

/* In the container's child, as host root, in its new mount namespace and
 * after unshare(CLONE_NEWCGROUP) in its group; target is an O_PATH fd of
 * fs/cgroup in the staged sysfs. v2: a cgroup2 mount there, rooted at the
 * cgroup namespace (the container's group). v1: a tmpfs there with one
 * bind of the container's group per hierarchy it uses (memory, cpuset,
 * pids, cpuacct; cpu and blkio when it has a quota or I/O limits), named
 * as on the host. Everything read-only, nosuid, nodev, noexec. cg holds
 * the groups cg_create made (its fds still open). Dies on any failure. */
void cg_view_mount(const struct cg *cg, int target);

#endif
