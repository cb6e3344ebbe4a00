/* layer.h: the rootfs as the container sees it: written directly,
 * read-only, or under a throw-away writable layer (--layer). */
#ifndef MD_LAYER_H
#define MD_LAYER_H

#include "core/request.h"
#include "ids.h"

#include <stdint.h>

struct layer {
	int overlay;      /* a throw-away overlayfs layer over the rootfs */
	int read_only;    /* no layer, and the rootfs mounted read-only */
	int userns;       /* for an overlay on a system rootfs: a user namespace
			   * with the container's id maps, which idmaps the lower
			   * layer so root's files are container root's; else -1 */
	uint64_t size;    /* the layer's tmpfs size in bytes (the memory limit); 0: default */
};

/* Parent, before the child is made: what --layer asks for here. A system
 * rootfs (root's, read_only) gets a layer by default, one's own is written
 * directly; --layer read-only and ephemeral say otherwise. */
void layer_plan(struct layer *l, enum layer_mode mode, int rootfs_read_only, int userns_host,
		uint64_t memory, const struct caller *c);
/* Child: mount the rootfs (rootfd) at target as planned, nosuid,nodev plus
 * the flags the rootfs's own mount has. Where the kernel cannot make the
 * layer, say so in one line and mount it read-only: l->read_only tells
 * the caller which it got. */
void layer_mount(struct layer *l, int rootfd, const char *target, const char *stage,
		 unsigned long inherited);

#endif
