/* util.h: dying, logging, small safe wrappers shared by every helper file. */
#ifndef MD_UTIL_H
#define MD_UTIL_H

#include "audit.h" /* audit() and util_set_caller(), once here */

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit status when minidocker itself refuses or fails (as docker run). */
#define MD_EXIT_REFUSED 125

#define MD_NORETURN __attribute__((noreturn))
#define MD_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Release a held lock, run the cleanup, then one line on stderr,
 * "mdhelper: ...", a syslog record, exit 125. */
MD_NORETURN MD_PRINTF(1, 2) void die(const char *fmt, ...);
/* Same, with ": strerror(errno)" appended. */
MD_NORETURN MD_PRINTF(1, 2) void die_errno(const char *fmt, ...);
/* A line on stderr without exiting. */
MD_PRINTF(1, 2) void warnx_(const char *fmt, ...);
/* Run fn (e.g. restore the caller's terminal) before dying. */
void util_set_cleanup(void (*fn)(void));
/* The registry lock fd is held / was released: die() closes a held lock
 * before anything else, and lines for the caller wait until release
 * (SECURITY.md 42). */
void util_lock_held(int fd);
void util_lock_released(void);
/* In a forked child whose exit status must not be 125 on failure. */
void util_set_exit_status(int status);

/* Close an fd kept in a variable marked __attribute__((cleanup(autoclose))). */
void autoclose(int *fd);
#define AUTOCLOSE __attribute__((cleanup(autoclose)))

/* Write all of buf to fd or return -1. */
int write_all(int fd, const void *buf, size_t len);
/* Write a string to a file relative to dirfd, no O_CREAT, no symlink follow;
 * returns 0 or -1 with errno set. */
int write_file_at(int dirfd, const char *name, const char *text);
/* Create name in dirfd afresh (replacing a stale one) with text, mode
 * 0600, never through a symlink; returns 0 or -1 with errno set. */
int write_new_file(int dirfd, const char *name, const char *text);
/* Read up to size-1 bytes of a file relative to dirfd into buf, NUL ended;
 * returns bytes read or -1. */
ssize_t read_file_at(int dirfd, const char *name, char *buf, size_t size);

/* Open a file that only root may have written: the file and every
 * directory above it root-owned and not writable by group or other, no
 * symlink anywhere (O_NOFOLLOW walk; SECURITY.md 2-3, 18). Dies with
 * "PATH: WHY_FAILED: strerror" or naming the offending path. */
int open_trusted(const char *path, int flags, const char *why_failed);

/* Open directory path (absolute or relative) below dirfd one component at
 * a time with O_NOFOLLOW: no symlink, and so no /proc magic link, is ever
 * followed. Returns an O_PATH fd or -1 with errno set. */
int open_dir_nofollow(int dirfd, const char *path);

/* snprintf that dies on truncation: paths and ids never get cut short. */
MD_PRINTF(3, 4) void xsnprintf(char *buf, size_t size, const char *fmt, ...);

#endif
