/* lockfreeze: a student freezes their own helper while it holds the
 * registry lock. PROG (mdrun.sh, which execs mdhelper in the same process)
 * runs in the freezer cgroup DIR, which the student may write; this
 * process stays outside it, reads /proc/locks (world-readable) until PROG's
 * pid holds an flock, and freezes DIR at that moment, for SECONDS.
 *
 * Usage: lockfreeze DIR SECONDS PROG [ARG]...
 * Prints "frozen" once PROG is frozen and still holds the lock (frozen a
 * moment too late, it is thawed and watched again), "escaped" if PROG
 * holds the lock outside DIR (it left the student's group: nothing of
 * theirs can freeze it), "missed" when PROG ended first. Exit: PROG's status (128+N if killed by signal N). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int write_to(const char *dir, const char *file, const char *text)
{
	char path[512];
	int fd, ok;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/* Does pid hold an flock? "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5 0 EOF";
 * "1: -> FLOCK ..." is a process waiting for it. */
static int holds_flock(int locks, pid_t pid)
{
	static char buf[65536];
	char want[32];
	ssize_t n = pread(locks, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	snprintf(want, sizeof want, " %d ", (int)pid);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!strstr(line, "->") && strstr(line, " FLOCK ") && strstr(line, " WRITE ") &&
		    strstr(line, want))
			return 1;
	return 0;
}

/* Is pid in the freezer group dir? */
static int member(const char *dir, pid_t pid)
{
	char path[512];
	static char buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (atoi(line) == (int)pid)
			return 1;
	return 0;
}

/* Wait (up to a second) until the freezer says FROZEN, not FREEZING. */
static int frozen(const char *dir)
{
	char path[512], state[32];
	struct timespec tick = { 0, 1000 * 1000 };

	snprintf(path, sizeof path, "%s/freezer.state", dir);
	for (int i = 0; i < 1000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, state, sizeof state - 1);

		if (fd >= 0)
			close(fd);
		if (n > 0 && !strncmp(state, "FROZEN", 6))
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int status, locks, seconds;
	char self[32];
	pid_t pid;

	if (argc < 4)
		return 2;
	seconds = atoi(argv[2]);
	locks = open("/proc/locks", O_RDONLY | O_CLOEXEC);
	if (locks < 0)
		return perror("/proc/locks"), 3;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 3;
	if (pid == 0) {
		snprintf(self, sizeof self, "%d\n", (int)getpid());
		if (write_to(argv[1], "cgroup.procs", self) < 0)
			perror("joining the freezer cgroup"), _exit(3);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			puts("missed");
			break;
		}
		if (!holds_flock(locks, pid))
			continue;
		if (write_to(argv[1], "freezer.state", "FROZEN\n") < 0)
			return perror("freezing"), 3;
		/* A helper that left the student's cgroup cannot be frozen. */
		if (!member(argv[1], pid)) {
			write_to(argv[1], "freezer.state", "THAWED\n");
			puts("escaped");
			fflush(stdout);
			waitpid(pid, &status, 0);
			break;
		}
		/* Frozen still holding it, or let go and watched again. */
		if (!frozen(argv[1]) || !holds_flock(locks, pid)) {
			if (write_to(argv[1], "freezer.state", "THAWED\n") < 0)
				return perror("thawing"), 3;
			continue;
		}
		puts("frozen");
		fflush(stdout);
		sleep((unsigned)seconds);
		if (write_to(argv[1], "freezer.state", "THAWED\n") < 0)
			return perror("thawing"), 3;
		waitpid(pid, &status, 0);
		break;
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
