/* join.h: `mdhelper exec`: a command inside a running container. */
#ifndef MD_JOIN_H
#define MD_JOIN_H

#include "ids.h"
#include "core/sanitize.h"

extern const char join_usage[];
/* Returns the command's exit status (126/127/128+N as run); dies with 125
 * "no such container: NAME" for anything but the caller's own container. */
int join_container(const struct caller *c, const struct saved_state *saved, int argc,
		   char **argv);

#endif
