/* exec.h: the last step in the container: environment and exec. */
#ifndef MD_EXEC_H
#define MD_EXEC_H

#include "core/request.h"

/* Build the container's environment from nothing plus --env, look the
 * command up in the container's PATH (no execvp: we search ourselves) and
 * exec it. Returns only on failure, with 126 or 127 for the caller; the
 * message is already printed (on err_fd, when not -1: the caller's stderr
 * of a detached container, whose own stderr is its log). */
int exec_command(const struct request *req, const char *term, int err_fd);

#endif
