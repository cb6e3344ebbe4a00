/* exec.c: exec the container's command as its PID 1 (or, with --init, our
 * init, which runs the command as its child: spawn/init.h).
 *
 * MUST: the environment is built from nothing (SECURITY.md 14); the
 * command is looked up in the container's PATH inside the container's root,
 * never the host's; 127 when not found, 126 when not executable (as sbase's
 * chroot and docker run). */
#define _GNU_SOURCE
#include "spawn/exec.h"
#include "spawn/init.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char env_storage[8][128];

/* Set KEY=VALUE in env (replacing an earlier KEY); returns the new count. */
static int env_set(const char **env, int n, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1;

	for (int i = 0; i < n; i++)
		if (strncmp(env[i], kv, klen) == 0) {
			env[i] = kv;
			return n;
		}
	env[n] = kv;
	return n + 1;
}

static int build_env(const char **env, const struct request *req, const char *term)
{
	int n = 0;

	xsnprintf(env_storage[0], sizeof env_storage[0], "HOSTNAME=%s", req->hostname);
	n = env_set(env, n, "PATH=" DEFAULT_PATH);
	/* Docker's HOME for a user the image's /etc/passwd does not name: we
	 * never read that file (the caller's), so it is / for any --user but
	 * root; -e HOME=... says otherwise. */
	n = env_set(env, n, req->user && req->uid != 0 ? "HOME=/" : "HOME=/root");
	n = env_set(env, n, "container=minidocker");
	n = env_set(env, n, env_storage[0]);
	if (term && *term) {
		xsnprintf(env_storage[1], sizeof env_storage[1], "TERM=%s", term);
		n = env_set(env, n, env_storage[1]);
	}
	for (int i = 0; i < req->nenv; i++)
		n = env_set(env, n, req->env[i]);
	env[n] = NULL;
	return n;
}

static const char *env_path(const char **env)
{
	for (; *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return DEFAULT_PATH;
}

/* --init: mdinit -- COMMAND [ARG]..., every signal blocked across the
 * exec, so that none sent before it set its handlers is lost (a PID 1
 * drops a signal it has no handler for unless it is blocked; mdinit
 * unblocks them for the command). */
static int exec_init(const struct request *req, const char **env, int err_fd)
{
	static char *argv[REQ_MAX_ARGS + 3];
	sigset_t all;
	int n = 0;

	argv[n++] = INIT_INSIDE;
	argv[n++] = "--";
	for (int i = 0; req->argv[i] && n < REQ_MAX_ARGS + 2; i++)
		argv[n++] = req->argv[i];
	argv[n] = NULL;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execve(INIT_INSIDE, argv, (char *const *)env);
	if (err_fd >= 0)
		dup2(err_fd, 2);
	warnx_("%s: cannot run the init (--init): %s", INIT_INSIDE, strerror(errno));
	return 126;
}

int exec_command(const struct request *req, const char *term, int err_fd)
{
	const char *env[REQ_MAX_ENV + 8];
	const char *cmd = req->argv[0], *path;
	char full[4096];
	int saw_eacces = 0;

	build_env(env, req, term);
	if (req->init)
		return exec_init(req, env, err_fd);
	if (strchr(cmd, '/')) {
		execve(cmd, req->argv, (char *const *)env);
		saw_eacces = errno != ENOENT && errno != ENOTDIR;
	} else {
		path = env_path(env);
		while (*path) {
			size_t len = strcspn(path, ":");

			if (len && len + strlen(cmd) + 2 <= sizeof full) {
				snprintf(full, sizeof full, "%.*s/%s", (int)len, path, cmd);
				execve(full, req->argv, (char *const *)env);
				if (errno != ENOENT && errno != ENOTDIR)
					saw_eacces = 1;
			}
			path += len + (path[len] == ':');
		}
	}
	if (err_fd >= 0)
		dup2(err_fd, 2);
	if (saw_eacces) {
		warnx_("%s: permission denied", cmd);
		return 126;
	}
	warnx_("%s: command not found", cmd);
	return 127;
}
