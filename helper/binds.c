/* binds.c: --volume SRC:DST[:ro], within the rule's bind= trees.
 *
 * MUST (issue 16; SECURITY.md 9, 17, 33):
 * - policy.c has held SRC to the rule's bind= trees by whole components;
 *   here SRC is reached as the caller (fsuid), with no symlink followed in
 *   any component, so the string that was checked is the tree that is
 *   bound, and "absent" and "not yours to read" read the same
 *   (CVE-2022-47952);
 * - the caller must be able to read SRC (and search it), and to write it
 *   for a read-write bind: a bind never reaches further than the caller;
 * - the mount is made from the fd that was checked (open_tree), and is
 *   nosuid,nodev, read-only when asked, before it is attached: there is no
 *   moment when it is writable or suid;
 * - DST is created below the container's root only, one component at a
 *   time with O_NOFOLLOW as the caller, so a symlink planted in the rootfs
 *   cannot send it to the host (CVE-2021-30465, runc's symlink-exchange
 *   mount race); /, /proc, /sys and /dev are refused (request.c). */
#define _GNU_SOURCE
#include "binds.h"
#include "core/privilege.h"
#include "core/walk.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void as_caller(uid_t uid, gid_t gid)
{
	setfsgid(gid);
	setfsuid(uid);
}

static void as_root(void)
{
	setfsuid(0);
	setfsgid(0);
	if (setfsuid((uid_t)-1) != 0)
		die("cannot restore fsuid");
	privilege_dumpable_off(); /* reset by each fsuid change (SECURITY.md 40) */
}

/* SRC's fd, reached and judged as the caller. */
static int open_source(const struct bind_request *want, int *is_dir)
{
	struct walk w;
	enum walk_result res;
	int fd = walk_nofollow(want->src, 1, &w, &res), mode;

	if (res == WALK_SYMLINK)
		die("--volume source %s: %.*s is a symbolic link", want->src,
		    (int)w.end[w.failed], want->src);
	if (fd < 0)
		die("--volume source %s: not found or not accessible", want->src);
	*is_dir = S_ISDIR(w.st[w.n - 1].st_mode);
	mode = R_OK | (*is_dir ? X_OK : 0);
	if (faccessat(fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0)
		die("--volume source %s: not found or not accessible", want->src);
	if (!want->read_only && faccessat(fd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS) < 0)
		die("--volume source %s: not writable by you (add :ro to bind it read-only)", want->src);
	return fd;
}

/* A detached copy of the mount tree at fd (recursive, as Docker's binds:
 * a mount over part of SRC still hides what it hides), with our flags on
 * every mount of it before anyone can see it. The source's own
 * restrictions (noexec) are kept. */
static int clone_tree(int fd, const struct bind_request *want)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
				       AT_RECURSIVE);

	if (want->read_only)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (tree < 0)
		die_errno("--volume %s: cloning the mount", want->src);
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
		die_errno("--volume %s: making the mount nosuid,nodev%s", want->src,
			  want->read_only ? ",ro" : "");
	return tree;
}

void binds_open(struct binds *b, const struct request *req, uid_t uid, gid_t gid)
{
	memset(b, 0, sizeof *b);
	for (int i = 0; i < req->nbinds; i++) {
		AUTOCLOSE int fd = -1;

		as_caller(uid, gid);
		fd = open_source(&req->binds[i], &b->is_dir[i]);
		as_root();
		b->tree[i] = clone_tree(fd, &req->binds[i]);
		b->n++;
	}
}

/* One component of DST below dir: opened, or made if absent (a directory,
 * or for the last component of a file bind an empty file); never a
 * symlink. Returns an O_PATH fd. */
static int target_step(int dir, const char *name, int want_dir, const char *dst)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT) {
		int made = want_dir ? mkdirat(dir, name, 0755)
				    : openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						     O_CLOEXEC, 0644);
		if (made < 0 && errno == EROFS)
			die("--volume destination %s: not in the read-only rootfs (create it there, or leave out --read-only)",
			    dst);
		if (made < 0)
			die_errno("--volume destination %s: creating %s", dst, name);
		if (!want_dir)
			close(made);
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		die_errno("--volume destination %s: %s", dst, name);
	if (S_ISLNK(st.st_mode))
		die("--volume destination %s: %s is a symbolic link in the rootfs", dst, name);
	if (want_dir != !!S_ISDIR(st.st_mode) || (!want_dir && !S_ISREG(st.st_mode)))
		die("--volume destination %s: %s must be a %s like its source", dst, name,
		    want_dir ? "directory" : "regular file");
	return fd;
}

/* DST's fd below root, made as the caller where missing. */
static int open_target(int root, const char *dst, int is_dir)
{
	char copy[4096];
	char *save = NULL;
	int fd = dup(root);

	if (fd < 0)
		die_errno("dup");
	xsnprintf(copy, sizeof copy, "%s", dst);
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		int last = !save || save[strspn(save, "/")] == '\0';
		int next = target_step(fd, name, last ? is_dir : 1, dst);

		close(fd);
		fd = next;
	}
	return fd;
}

void binds_attach(struct binds *b, const struct request *req, int root, uid_t uid, gid_t gid)
{
	for (int i = 0; i < b->n; i++) {
		AUTOCLOSE int target = -1;

		as_caller(uid, gid);
		target = open_target(root, req->binds[i].dst, b->is_dir[i]);
		as_root();
		if (move_mount(b->tree[i], "", target, "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			die_errno("--volume %s: mounting it at %s", req->binds[i].src, req->binds[i].dst);
		close(b->tree[i]);
		b->tree[i] = -1;
	}
}
