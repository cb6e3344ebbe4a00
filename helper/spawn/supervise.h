/* supervise.h: relay and wait for a container's PID 1. */
#ifndef MD_SUPERVISE_H
#define MD_SUPERVISE_H

/* Block the signals we forward (and SIGWINCH); return them as a
 * signalfd. */
int supervise_block_signals(void);
/* Forward signals to the child named by pidfd, relay the pty master (-1:
 * none) with our stdin and stdout, until it exits; returns its status for
 * the caller: the exit code, or 128+N when killed by signal N. pidfd must
 * be our own child's: its end is seen, and it is reaped, through it. */
int supervise(int pidfd, int sigfd, int master);

#endif
