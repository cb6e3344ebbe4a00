/* mdinit: the container's PID 1 with `mdrun.sh --init`.
 *
 * Usage (by mdhelper only): mdinit -- COMMAND [ARG]...
 *
 * A namespace's PID 1 gets no signal it has no handler for, and orphans
 * are handed to it to reap. A command that was never written to be an
 * init (a shell script, /home/loop, a JVM) neither ends on TERM or Ctrl-C
 * nor reaps the orphans of its double-forked children. mdinit does both
 * for it, as Docker's tini does:
 *
 * - COMMAND runs as our child, in a process group of its own, which is
 *   made the terminal's foreground group when there is one: the terminal's
 *   INT, QUIT, TSTP and WINCH reach the command as on any terminal, not us;
 * - every catchable signal we receive (TERM from `mdctl.sh stop` or from
 *   mdhelper forwarding what mdrun.sh got, HUP, INT, QUIT, USR1, USR2,
 *   WINCH, CONT, TSTP, TTIN, TTOU, ALRM, the real-time ones...) is sent on
 *   to the command's process group, as a terminal would (tini -g): a shell
 *   script and what it started get it alike. SIGCHLD is ours alone;
 * - every child that ends is reaped, ours or an orphan;
 * - when COMMAND ends we exit with its status, 128+N when signal N killed
 *   it (the kernel then ends whatever is left in the namespace).
 *
 * MUST: mdinit runs with the command's credentials and confinement (the
 * helper made them before exec); it opens nothing and holds only fds 0-2,
 * so COMMAND gets exactly what it would have got without it (SECURITY.md
 * 25). It is static: it runs in any rootfs, which is never trusted for
 * anything (no loader, no libc of the rootfs's). The helper puts it in the
 * container read-only and nosuid (helper/spawn/init.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void on_signal(int sig)
{
	(void)sig; /* never runs: every signal stays blocked and is taken by sigwaitinfo */
}

/* A handler for every catchable signal, all of them blocked: the kernel
 * delivers to a PID 1 only signals it handles (and mdhelper reads our
 * SigCgt to decide whether TERM, INT or HUP would reach us at all), and
 * blocked they wait for sigwaitinfo instead of interrupting anything. */
static void catch_all(sigset_t *all)
{
	struct sigaction sa;

	sigfillset(all);
	sigprocmask(SIG_SETMASK, all, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* KILL, STOP and libc's own refuse: fine */
}

/* As mdhelper's exec_command: the container's PATH inside the container,
 * 127 when not found, 126 when found but not executable. */
static int run_command(char **argv)
{
	const char *cmd = argv[0], *path = getenv("PATH");
	char full[4096];
	int denied = 0;

	if (strchr(cmd, '/')) {
		execv(cmd, argv);
		denied = errno != ENOENT && errno != ENOTDIR;
	} else {
		for (path = path ? path : DEFAULT_PATH; *path;) {
			size_t len = strcspn(path, ":");

			if (len && len + strlen(cmd) + 2 <= sizeof full) {
				snprintf(full, sizeof full, "%.*s/%s", (int)len, path, cmd);
				execv(full, argv);
				if (errno != ENOENT && errno != ENOTDIR)
					denied = 1;
			}
			path += len + (path[len] == ':');
		}
	}
	fprintf(stderr, "mdinit: %s: %s\n", cmd, denied ? "permission denied" : "command not found");
	return denied ? 126 : 127;
}

/* In the child: its own process group, the terminal's foreground one
 * (SIGTTOU is still blocked, so a background tcsetpgrp does not stop
 * us), default dispositions, nothing blocked, then the command. */
static void child(char **argv)
{
	sigset_t none;
	struct sigaction dfl;

	setpgid(0, 0);
	if (isatty(0))
		(void)tcsetpgrp(0, getpgrp()); /* not our terminal: nothing to do */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	_exit(run_command(argv));
}

/* To the command's process group; to the command alone when it left it
 * (the group is gone, or it made another). Never to -1 or to ourselves. */
static void forward(pid_t cmd, int sig)
{
	if (cmd > 1 && kill(-cmd, sig) < 0)
		(void)kill(cmd, sig);
}

/* Reap every child that has ended; 1 with *status set once cmd has. */
static int reap(pid_t cmd, int *status)
{
	int st, done = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != cmd)
			continue; /* an orphan: reaped is all it needs */
		*status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		done = 1;
	}
	return done;
}

int main(int argc, char **argv)
{
	sigset_t all;
	siginfo_t si;
	int status = 0;
	pid_t cmd;

	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: mdinit -- COMMAND [ARG]... (started by mdrun.sh --init)\n");
		return 125;
	}
	catch_all(&all);
	/* Not PID 1 (nothing in minidocker runs it so): orphans still come to us. */
	if (getpid() != 1)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	cmd = fork();
	if (cmd < 0) {
		perror("mdinit: fork");
		return 125;
	}
	if (cmd == 0)
		child(&argv[2]);
	setpgid(cmd, cmd); /* also here: no signal forwarded before the child's own setpgid is lost */
	for (;;) {
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue; /* EINTR: nothing to do */
		if (sig != SIGCHLD)
			forward(cmd, sig);
		else if (reap(cmd, &status))
			return status;
	}
}
