/* state/lock.c: one lock for the registry, leases and names.
 *
 * MUST (SECURITY.md 42, the first release's review): a student must not be
 * able to hold every other user's start, gc and cleanup hostage. flock()
 * without a deadline waited forever behind a helper that was stopped or
 * blocked writing to a full pipe; now the lock is taken with a deadline,
 * and while it is held the helper writes nothing to the caller (util.c
 * holds lines back) and spawns and waits for nothing (state/gc.c). */
#define _GNU_SOURCE
#include "state/lock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* How many times the lock was released, as the file says (a waiter's read
 * may race a holder's write: any change counts as progress). */
static unsigned long long generation(int fd)
{
	unsigned long long gen = 0;

	return pread(fd, &gen, sizeof gen, 0) == (ssize_t)sizeof gen ? gen : 0;
}

/* Busy is when nobody got the lock for STATE_LOCK_DEADLINE_MS: a holder
 * that stalls (the first release's hostile caller) is refused quickly,
 * while a queue of a hundred starts that each hold it for a moment is
 * waited for, up to STATE_LOCK_PATIENCE_MS in all. */
int state_lock(int dirfd)
{
	struct timespec start, progress, pause = { 0, 2 * 1000 * 1000 };
	int fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	unsigned long long seen;

	if (fd < 0)
		die_errno("opening %s/lock", MD_RUNDIR);
	clock_gettime(CLOCK_MONOTONIC, &start);
	progress = start;
	seen = generation(fd);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		unsigned long long now = generation(fd);

		if (errno != EWOULDBLOCK && errno != EINTR)
			die_errno("locking %s/lock", MD_RUNDIR);
		if (now != seen) {
			seen = now;
			clock_gettime(CLOCK_MONOTONIC, &progress);
		}
		if (elapsed_ms(&progress) >= STATE_LOCK_DEADLINE_MS ||
		    elapsed_ms(&start) >= STATE_LOCK_PATIENCE_MS) {
			close(fd);
			die("minidocker is busy (another start or clean-up holds %s/lock): try again",
			    MD_RUNDIR);
		}
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 20 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
	util_lock_held(fd);
	return fd;
}

void state_unlock(int *lock)
{
	unsigned long long gen;

	if (*lock < 0)
		return;
	gen = generation(*lock) + 1;
	(void)!pwrite(*lock, &gen, sizeof gen, 0); /* only a waiter's patience depends on it */
	close(*lock);
	*lock = -1;
	util_lock_released();
}
