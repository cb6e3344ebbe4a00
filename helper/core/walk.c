/* walk.c: one O_NOFOLLOW step at a time, for rootfs.c and binds.c.
 *
 * MUST (SECURITY.md 9, 17): no symlink is ever followed, in any component,
 * so a caller who swaps a directory for a link at any moment reaches
 * nothing new; "absent" and "permission denied" are one result, so the
 * walk is no oracle for another user's files (CVE-2022-47952). */
#define _GNU_SOURCE
#include "core/walk.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int fail(int fd, enum walk_result *res, enum walk_result why)
{
	if (fd >= 0)
		close(fd);
	*res = why;
	return -1;
}

int walk_nofollow(const char *path, int allow_file, struct walk *w, enum walk_result *res)
{
	char copy[4096];
	char *save = NULL;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	memset(w, 0, sizeof *w);
	if (fd < 0)
		return fail(-1, res, WALK_UNREACHABLE);
	xsnprintf(copy, sizeof copy, "%s", path);
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		int last = !save || save[strspn(save, "/")] == '\0';
		struct stat *st = &w->st[w->n];

		close(fd);
		fd = next;
		if (fd < 0)
			return fail(-1, res, WALK_UNREACHABLE);
		if (w->n == WALK_MAX_DEPTH || fstat(fd, st) < 0)
			return fail(fd, res, WALK_TOO_DEEP);
		w->end[w->n] = (size_t)(name - copy) + strlen(name);
		if (S_ISLNK(st->st_mode)) {
			w->failed = w->n;
			return fail(fd, res, WALK_SYMLINK);
		}
		w->n++;
		if (S_ISDIR(st->st_mode))
			continue;
		if (!last)
			return fail(fd, res, WALK_UNREACHABLE);
		if (!allow_file || !S_ISREG(st->st_mode))
			return fail(fd, res, WALK_NOT_DIR);
	}
	*res = WALK_OK;
	return fd;
}
