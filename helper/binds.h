/* binds.h: the caller's files inside the container (--volume). */
#ifndef MD_BINDS_H
#define MD_BINDS_H

#include "core/request.h"

#include <sys/types.h>

struct binds {
	int n;
	int tree[REQ_MAX_BINDS];   /* detached mount of each source, flags set */
	int is_dir[REQ_MAX_BINDS];
};

/* Child, in its own mount namespace made private: resolve each source as
 * the caller (their fsuid, no symlink in any component), check they may
 * read it (and write it, for a read-write bind), and clone it into a
 * detached mount already nosuid,nodev (and read-only). Dies with one line. */
void binds_open(struct binds *b, const struct request *req, uid_t uid, gid_t gid);
/* Attach each clone at its destination below root (an fd of the staged
 * rootfs), creating what is missing as the caller, never through a
 * symlink in the rootfs. */
void binds_attach(struct binds *b, const struct request *req, int root, uid_t uid, gid_t gid);

#endif
