/* walk.h: reach a path a caller chose without following any symlink. */
#ifndef MD_WALK_H
#define MD_WALK_H

#include <stddef.h>
#include <sys/stat.h>

#define WALK_MAX_DEPTH 64

enum walk_result {
	WALK_OK,
	WALK_UNREACHABLE,   /* absent, not searchable, or a file on the way */
	WALK_SYMLINK,       /* component w->failed is a symbolic link */
	WALK_TOO_DEEP,
	WALK_NOT_DIR,       /* the last component is neither a directory nor (if allowed) a file */
};

struct walk {
	int n;                          /* components reached */
	int failed;                     /* the component a WALK_SYMLINK names */
	size_t end[WALK_MAX_DEPTH];     /* where component i's prefix ends in path */
	struct stat st[WALK_MAX_DEPTH]; /* each component, as fstat saw it */
};

/* Open every component of the absolute path from "/" with O_PATH |
 * O_NOFOLLOW, with the process's current fsuid (the caller's, when the
 * caller chose the path). All but the last must be directories; the last
 * too unless allow_file, which also accepts a regular file. Returns the
 * last component's O_PATH fd, or -1 with *res saying why. */
int walk_nofollow(const char *path, int allow_file, struct walk *w, enum walk_result *res);

#endif
