/* supervise.h: relay and wait for a container's PID 1. */
#ifndef MD_SUPERVISE_H
#define MD_SUPERVISE_H

#include <sys/types.h>

/* Block the signals we forward (and SIGCHLD, SIGWINCH); return them as a
 * signalfd. */
int supervise_block_signals(void);
/* Forward signals to child, relay the pty master (-1: none) with our
 * stdin and stdout, until child exits; returns its status for the caller:
 * the exit code, or 128+N when killed by signal N. */
int supervise(pid_t child, int sigfd, int master);

#endif
