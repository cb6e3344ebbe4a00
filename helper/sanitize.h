/* sanitize.h: make the process safe before it looks at anything. */
#ifndef MD_SANITIZE_H
#define MD_SANITIZE_H

#include <sys/resource.h>

#define SAVED_RLIMITS 16

struct saved_state {
	struct rlimit limits[SAVED_RLIMITS]; /* the caller's, for the container */
	char term[64];                       /* the caller's TERM, if sane */
};

/* SECURITY.md 12-15: refuse unless really setuid root, bound argv and the
 * environment, fds 0-2 only, empty environment, fixed umask, rlimits the
 * caller cannot use against us, not dumpable. */
void sanitize_process(int argc, char **argv, char **envp, struct saved_state *s);
/* In the container's process, just before exec: the caller's limits back. */
void restore_rlimits(const struct saved_state *s);

#endif
