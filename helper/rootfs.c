/* rootfs.c: resolve the caller's rootfs path to one fd.
 *
 * MUST:
 * - resolve as the caller (setfsuid/setfsgid), so the helper never reaches
 *   a directory the caller could not; "not found" and "permission denied"
 *   read the same (CVE-2022-47952);
 * - open nothing but O_PATH as root on a path the caller chose (CVE-2018-6556);
 * - follow no symlink in any component (O_NOFOLLOW walk; SECURITY.md 9);
 * - refuse "/" and any component writable by, or owned by, another user:
 *   they could swap the tree under the container;
 * - after this, use the fd, never the path (no TOCTOU). */
#define _GNU_SOURCE
#include "rootfs.h"
#include "core/privilege.h"
#include "core/walk.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

static void refuse_unsafe(const struct stat *st, const struct caller *c,
			  const char *path, const char *sofar)
{
	if (st->st_uid != 0 && st->st_uid != c->uid)
		die("rootfs %s: %s belongs to another user", path, sofar);
	if (st->st_mode & S_IWOTH)
		die("rootfs %s: %s is writable by other users", path, sofar);
	/* Group-writable is fine only for the caller's own group on their
	 * own directory (Debian's user private groups). */
	if ((st->st_mode & S_IWGRP) && !(st->st_uid == c->uid && st->st_gid == c->gid))
		die("rootfs %s: %s is writable by its group", path, sofar);
}

/* Open every component as the caller; only once the whole path is
 * reachable are owners and modes judged, so that an unreachable path reads
 * "not found or not accessible" whatever lies on the way. */
static int walk(const char *path, const struct caller *c)
{
	char sofar[4096];
	struct walk w;
	enum walk_result res;
	int fd = walk_nofollow(path, 0, &w, &res);

	switch (res) {
	case WALK_OK:
		break;
	case WALK_SYMLINK:
		die("rootfs %s: %.*s is a symbolic link", path, (int)w.end[w.failed], path);
	case WALK_TOO_DEEP:
		die("rootfs %s: too deep", path);
	default:
		die("rootfs %s: not found or not accessible", path);
	}
	for (int i = 0; i < w.n; i++) {
		xsnprintf(sofar, sizeof sofar, "%.*s", (int)w.end[i], path);
		refuse_unsafe(&w.st[i], c, path, sofar);
	}
	return fd;
}

/* The directories the container's /proc, /dev and /sys are mounted on
 * (mount.c): all that are missing, in one line, before anything is set up
 * (a tree from `tar` of a container's files has none). Looked up as the
 * caller, in the tree the fd pins; mount.c checks again what it enters. */
static void require_mount_points(int fd, const char *path)
{
	static const char *const names[] = { "proc", "dev", "sys" };
	char missing[32] = "";
	struct stat st;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			xsnprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s/%s",
				  missing[0] ? ", " : "", names[i]);
	if (missing[0])
		die("rootfs %s: no %s to mount on (mkdir them; mdrootfs.sh import adds them)", path,
		    missing);
}

void rootfs_open(struct rootfs *r, const char *path, const struct caller *c)
{
	struct stat st;
	int check;

	/* Everything the walk touches is looked up with the caller's rights. */
	setfsgid(c->gid);
	setfsuid(c->uid);
	r->fd = walk(path, c);
	/* The caller must be able to list and enter it themselves. */
	check = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (check < 0)
		die("rootfs %s: not found or not accessible", path);
	close(check);
	require_mount_points(r->fd, path);
	setfsuid(0);
	setfsgid(0);
	if (setfsuid((uid_t)-1) != 0)
		die("cannot restore fsuid");
	privilege_dumpable_off(); /* reset by each fsuid change (SECURITY.md 40) */
	if (fstat(r->fd, &st) < 0)
		die_errno("fstat(\"%s\")", path);
	r->read_only = st.st_uid == 0;
}
