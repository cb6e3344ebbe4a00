/* sanitize.c: the first thing mdhelper does.
 *
 * MUST (SECURITY.md 12-15):
 * - refuse unless running setuid root (AT_SECURE) or as real root, and
 *   refuse argc == 0;
 * - bound the number and length of arguments and the environment's size;
 * - reopen 0-2 on /dev/null if closed, close every other fd;
 * - clear the environment (LD_*, IFS, ENV, BASH_ENV, PATH, GCONV_PATH…
 *   mean nothing after this) and set a fixed PATH;
 * - fixed umask; PR_SET_DUMPABLE 0 so the caller cannot ptrace or read our
 *   memory; every other attribute the caller could set before exec reset
 *   (privilege.c, SECURITY.md 38-39). */
#define _GNU_SOURCE
#include "core/sanitize.h"
#include "core/privilege.h"
#include "core/request.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#define MAX_ENV_BYTES (1024 * 1024)

static void fix_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			_exit(MD_EXIT_REFUSED);
	}
}

/* Without close_range (Linux < 5.9), every fd the caller could have left
 * open: up to the hard limit, not the soft one they may have lowered. */
static void close_other_fds(void)
{
	struct rlimit nofile;
	rlim_t max = 1 << 20;

	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max < max)
		max = nofile.rlim_max;
	for (rlim_t fd = 3; fd < max; fd++)
		close((int)fd);
}

static void bound_arguments(int argc, char **argv, char **envp)
{
	size_t total = 0, env = 0;
	int n = 0;

	if (argc > REQ_MAX_ARGS + 64)
		die("too many arguments");
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);
		if (len > REQ_MAX_ARG_LEN)
			die("argument %d is too long", i);
		total += len + 1;
	}
	if (total > REQ_MAX_TOTAL)
		die("arguments are too long altogether");
	for (char **e = envp; *e; e++, n++)
		env += strlen(*e) + 1;
	if (n > 4096 || env > MAX_ENV_BYTES)
		die("the environment is too large");
}

/* Keep TERM only if it looks like a terminal name, for the pty. */
static void save_term(struct saved_state *s)
{
	const char *t = getenv("TERM");

	s->term[0] = '\0';
	if (!t || strlen(t) >= sizeof s->term || !*t)
		return;
	for (const char *c = t; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' || *c == '+'))
			return;
	strcpy(s->term, t);
}

/* The initial user namespace maps every id to itself. */
static int in_initial_user_namespace(void)
{
	char map[128];
	unsigned long inside, outside, count;
	AUTOCLOSE int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	struct statfs fs;
	ssize_t n;

	/* A user's own mount namespace may put a file of theirs at this path
	 * (a tmpfs over /proc): only procfs tells the truth about the map. */
	if (fd < 0 || fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
		return 0;
	n = read(fd, map, sizeof map - 1);
	if (n <= 0)
		return 0;
	map[n] = '\0';
	return sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
	       outside == 0 && count == 4294967295UL && strchr(map, '\n') == map + n - 1;
}

void sanitize_process(int argc, char **argv, char **envp, struct saved_state *s)
{
	if (argc < 1 || !argv[0])
		_exit(MD_EXIT_REFUSED);
	fix_std_fds();
	close_other_fds();
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE)");
	if (geteuid() != 0 || (!getauxval(AT_SECURE) && getuid() != 0))
		die("not installed setuid root (ask your administrator to run make install)");
	/* Root of a user's own user namespace is not root: every decision
	 * below (real uid 0 may do anything, root-owned files are trusted)
	 * assumes the host's (SECURITY.md 27-28, CVE-2022-31214). */
	if (!in_initial_user_namespace())
		die("must run in the host's user namespace, not under unshare or in a container");
	/* Files and groups the helper creates are root's, group included. */
	if (setegid(0) < 0)
		die_errno("setegid");
	privilege_dumpable_off(); /* reset by the credential change (SECURITY.md 40) */
	bound_arguments(argc, argv, envp);
	save_term(s);
	if (clearenv() != 0 || setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) < 0)
		die("cannot reset the environment");
	umask(022);
	privilege_reset(s);
	openlog("mdhelper", LOG_PID, LOG_AUTHPRIV);
}
