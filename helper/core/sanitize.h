/* sanitize.h: make the process safe before it looks at anything. */
#ifndef MD_SANITIZE_H
#define MD_SANITIZE_H

#include "core/privilege.h"

/* SECURITY.md 12-15 and 38-39: refuse unless really setuid root, bound argv
 * and the environment, fds 0-2 only, empty environment, fixed umask, every
 * inherited attribute reset (privilege_reset), not dumpable. */
void sanitize_process(int argc, char **argv, char **envp, struct saved_state *s);

#endif
