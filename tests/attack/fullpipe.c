/* fullpipe: run PROG with its stderr on a pipe that is full and that
 * nobody reads, for SECONDS at most: the first line PROG writes there
 * blocks. The read end stays open here, unread, so the write neither
 * fails nor completes until SECONDS have passed (then it gets EPIPE).
 *
 * Usage: fullpipe SECONDS PROG [ARG]...
 * Exit: PROG's status (128+N if killed by signal N), or 124 if it was still
 * running after SECONDS and the pipe was closed under it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char junk[4096];
	int p[2], status, timed_out = 0;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	long ticks;
	pid_t pid;

	if (argc < 3)
		return 2;
	ticks = atol(argv[1]) * 100;
	if (pipe2(p, O_NONBLOCK) < 0)
		return perror("pipe"), 3;
	memset(junk, 'x', sizeof junk);
	while (write(p[1], junk, sizeof junk) > 0 || errno == EINTR)
		;
	while (write(p[1], junk, 1) > 0)
		;
	if (errno != EAGAIN)
		return perror("filling the pipe"), 3;
	if (fcntl(p[1], F_SETFL, 0) < 0)
		return perror("fcntl"), 3;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 3;
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	close(p[1]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (ticks-- <= 0 && !timed_out) {
			close(p[0]); /* the blocked write fails now */
			timed_out = 1;
		}
		nanosleep(&tick, NULL);
	}
	if (timed_out)
		return 124;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
