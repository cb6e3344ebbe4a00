/* state/lock.h: the registry lock, RUNDIR/lock (SECURITY.md 42). */
#ifndef MD_STATE_LOCK_H
#define MD_STATE_LOCK_H

/* A helper refuses, "busy", when the lock has not changed hands for
 * STATE_LOCK_DEADLINE_MS, or after STATE_LOCK_PATIENCE_MS in all. */
#define STATE_LOCK_DEADLINE_MS 5000
#define STATE_LOCK_PATIENCE_MS 60000

/* Take the lock in RUNDIR (dirfd) within the deadlines, or die
 * "busy, try again". While it is held, die() releases it first and lines
 * for the caller wait (util.h). Hold it only around reads and writes of
 * root-owned files: never across a write to a caller's fd, a spawn or a
 * wait. */
int state_lock(int dirfd);
/* Release it (lock is then -1); lines held back reach the caller now. */
void state_unlock(int *lock);

/* A lock variable released when it goes out of scope. */
#define AUTOUNLOCK __attribute__((cleanup(state_unlock)))

#endif
