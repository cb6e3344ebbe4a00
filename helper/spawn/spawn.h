/* spawn/spawn.h: what `run` and `exec` share: the child born with a
 * pidfd, the hand-over to the command, the abort, and the supervision. */
#ifndef MD_SPAWN_H
#define MD_SPAWN_H

#include "core/privilege.h"
#include "core/request.h"
#include "util.h"

#include <sys/types.h>

struct spawn {
	pid_t pid;   /* on the host; only for messages and /proc, never to signal */
	int pidfd;   /* the child, for good (SECURITY.md 41) */
	int sock;    /* our end of the handshake (sync.h) */
	int sigfd;   /* the signals supervise forwards */
	int master;  /* the container's pty master, or -1 */
	int in_cgroup; /* born in the cgroup given to spawn_child */
};

/* Create the child with clone(ns_flags | CLONE_PIDFD), born in the cgroup
 * v2 directory cgroup_fd when it is not -1 and the kernel can
 * (CLONE_INTO_CGROUP: sp->in_cgroup). In the parent, returns its pid with
 * sp filled; in the child, returns 0 with *sock its end of the handshake
 * (and nothing of sp's but that). */
pid_t spawn_child(struct spawn *sp, unsigned long ns_flags, int cgroup_fd, int *sock);
/* On failure: SIGKILL through the pidfd, then reap. Safe to call twice. */
void spawn_abort(struct spawn *sp);
/* Is it still there (not exited)? Through the pidfd. */
int spawn_alive(const struct spawn *sp);
/* The parent's side of the last steps. spawn_ready: receive READY (and
 * the pty master); -1 when the child died before (it said why).
 * spawn_go: give the command the caller's rlimits, GO, and see whether it
 * started: 1 when it runs, 0 when it could not be run (the child said why
 * and exits 126/127: supervise it for that status). */
int spawn_ready(struct spawn *sp);
int spawn_go(struct spawn *sp, const struct saved_state *saved);
/* Relay the terminal, forward signals, wait for the child's end, and
 * return its status for the caller (exit code, or 128+N). With
 * caller_may_signal, the caller gets our real uid while we only wait
 * (kill/timeout on mdrun.sh reach the container); all uids are root's
 * again before this returns (SECURITY.md 38). */
int spawn_supervise(struct spawn *sp, uid_t caller, int caller_may_signal);

/* The child's last steps, in a process that has the container's
 * credentials: a session (and a terminal of its own when use_pty), the
 * workdir, no_new_privs, death with the helper; READY with the pty
 * master, wait for GO; the caller's affinity back; exec with fds 0-2 only
 * (output to log when it is not -1). Never returns. */
MD_NORETURN void spawn_exec(int sock, const struct request *req,
			    const struct saved_state *saved, int use_pty, int log);

#endif
