/* control.h: the verbs that look at or signal running containers:
 * ps, kill (and stop), stats. Each sees only the caller's own containers
 * (root: all), found in the root-owned registry. */
#ifndef MD_CONTROL_H
#define MD_CONTROL_H

#include "ids.h"

int control_ps(const struct caller *c, int argc, char **argv);
int control_kill(const struct caller *c, int argc, char **argv);
int control_stats(const struct caller *c, int argc, char **argv);

#endif
