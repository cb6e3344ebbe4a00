/* registry.h: running containers and their leases, under one lock. */
#ifndef MD_REGISTRY_H
#define MD_REGISTRY_H

#include <stdint.h>
#include <sys/types.h>

/* fds of RUNDIR, of its lock (held while open), and of a subdirectory. */
int registry_rundir(void);
int registry_lock(int dirfd);
int registry_subdir(int dirfd, const char *name);
/* Collect the entries whose helper is gone (cgroup, veth, lease, entry). */
int registry_gc(int cdir, int ldir);
/* Count uid's live containers into *mine, set *taken if a live one holds
 * address want, and die if a live one is called id. */
void registry_scan(int cdir, const char *id, uid_t uid, uint32_t want, int *mine, int *taken);

/* Record this helper's container id (and its lease, addr may be NULL). */
void registry_add(int cdir, int ldir, const char *id, uid_t uid, const char *addr);

#endif
