/* pty.h: a terminal of the container's own, relayed by the helper. */
#ifndef MD_PTY_H
#define MD_PTY_H

/* Child, inside the container (after setsid): open a pty on the container's
 * own devpts, make its slave fds 0-2 and the controlling terminal; returns
 * the master fd for the parent. */
int pty_open_in_container(void);
/* Parent: put the caller's terminal in raw mode (restored at exit), copy its
 * window size to the master. */
void pty_prepare_caller(int master);
/* Parent: copy the caller's window size to the master (on SIGWINCH). */
void pty_resize(int master);
/* Parent: move bytes; returns 0 when the container side has closed. */
int pty_relay_in(int master);
int pty_relay_out(int master);
/* Restore the caller's terminal (idempotent). */
void pty_restore_caller(void);

#endif
