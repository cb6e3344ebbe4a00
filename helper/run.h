/* run.h: start a container and see it to its end. */
#ifndef MD_RUN_H
#define MD_RUN_H

#include "cgroup.h"
#include "ids.h"
#include "net.h"
#include "config.h"
#include "request.h"
#include "rootfs.h"
#include "registry.h"
#include "sanitize.h"
#include "util.h"

struct run {
	const struct request *req;
	const struct caller *caller;
	const struct saved_state *saved;
	struct rootfs rootfs;
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

/* Shared with exec (join.c). In a container process that already has the
 * container's credentials: a session (and a terminal of the container's
 * own when use_pty), the workdir, no_new_privs, death with the helper;
 * hand the pty master over sock ('X'), wait for 'G', exec with fds 0-2
 * only (output to log when it is not -1). Never returns. */
MD_NORETURN void run_exec_in_container(int sock, const struct request *req,
				       const struct saved_state *saved, int use_pty, int log);

#endif
