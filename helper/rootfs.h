/* rootfs.h: open the caller's root filesystem once, safely. */
#ifndef MD_ROOTFS_H
#define MD_ROOTFS_H

#include "ids.h"

struct rootfs {
	int fd;          /* O_PATH fd of the directory; used from here on */
	int read_only;   /* root-owned (a system rootfs): shared read-only */
};

/* Walk path one component at a time with the caller's fsuid, refusing
 * symlinks, "/" and anything another user could change (SECURITY.md 9, 16,
 * 17). Dies with one line on refusal. */
void rootfs_open(struct rootfs *r, const char *path, const struct caller *c);

#endif
