/* exec.c: exec the container's command as its PID 1.
 *
 * MUST: the environment is built from nothing (SECURITY.md 14); the
 * command is looked up in the container's PATH inside the container's root,
 * never the host's; 127 when not found, 126 when not executable (as sbase's
 * chroot and docker run). */
#define _GNU_SOURCE
#include "spawn/exec.h"
#include "util.h"

#include <errno.h>
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
	n = env_set(env, n, "HOME=/root");
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

int exec_command(const struct request *req, const char *term, int err_fd)
{
	const char *env[REQ_MAX_ENV + 8];
	const char *cmd = req->argv[0], *path;
	char full[4096];
	int saw_eacces = 0;

	build_env(env, req, term);
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
