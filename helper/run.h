/* run.h: start a container and see it to its end. */
#ifndef MD_RUN_H
#define MD_RUN_H

#include "cgroup/cgroup.h"
#include "ids.h"
#include "net.h"
#include "config.h"
#include "core/request.h"
#include "rootfs.h"
#include "layer.h"
#include "state/registry.h"
#include "core/privilege.h"
#include "util.h"

struct run {
	const struct request *req;
	const struct caller *caller;
	const struct saved_state *saved;
	struct rootfs rootfs;
	struct layer layer;  /* planned by the parent, mounted by the child */
	char id[RUN_ID_SIZE]; /* the container's id: its name or md-<user>-<n> */
	int log;            /* detached: the log the container writes to */
	int use_pty;        /* stdin and stdout are terminals */
	struct cg_limits limits; /* written to the container's cgroup */
	struct cg cg;
	struct net net;
	const struct config *cfg;  /* for the network reservation */
	const struct rule *rule;
};

/* Returns the exit status for the caller: the command's own, 126/127 when
 * it cannot be run, 128+N when killed by signal N. Dies (125) on failure
 * before the command runs, leaving nothing behind. */
int run_container(struct run *run);

#endif
