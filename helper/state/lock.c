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

int state_lock(int dirfd)
{
	struct timespec start, pause = { 0, 2 * 1000 * 1000 };
	int fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		die_errno("opening %s/lock", MD_RUNDIR);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			die_errno("locking %s/lock", MD_RUNDIR);
		if (elapsed_ms(&start) >= STATE_LOCK_DEADLINE_MS) {
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
	if (*lock < 0)
		return;
	close(*lock);
	*lock = -1;
	util_lock_released();
}
