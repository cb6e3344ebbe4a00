/* util.c: dying, logging, small safe wrappers.
 *
 * MUST: every failure of a privileged step ends the helper through die(),
 * with one line naming what failed; nothing is retried silently. */
#define _GNU_SOURCE
#include "util.h"
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exit_status = MD_EXIT_REFUSED;
static void (*cleanup)(void);
static int held_lock = -1;
/* A line for the caller is cut below PIPE_BUF (4096 on Linux): a pipe
 * that poll says has room takes it whole, without blocking. */
#define LINE_MAX_BYTES 2048
/* Lines written while the lock was held wait here (SECURITY.md 42). */
static char deferred[2048];
static size_t ndeferred;

void util_set_cleanup(void (*fn)(void))
{
	cleanup = fn;
}

void util_set_exit_status(int status)
{
	exit_status = status;
}

/* The caller's stderr may be a pipe nobody reads, or a terminal: wait for
 * room at most a second, then give the line up. Once poll says a pipe has
 * room, a write of less than LINE_MAX_BYTES bytes does not block. */
static void write_caller_line(const char *line)
{
	struct pollfd p = { 2, POLLOUT, 0 };
	size_t len = strlen(line);

	if (len >= LINE_MAX_BYTES)
		len = LINE_MAX_BYTES - 1;
	if (poll(&p, 1, 1000) == 1 && (p.revents & POLLOUT))
		(void)!write(2, line, len);
}

static void emit(const char *line)
{
	size_t len = strlen(line);

	if (held_lock < 0) {
		write_caller_line(line);
		return;
	}
	if (ndeferred + len < sizeof deferred) {
		memcpy(deferred + ndeferred, line, len);
		ndeferred += len;
	}
}

static void flush_deferred(void)
{
	char *line = deferred, *end;

	deferred[ndeferred] = '\0';
	while (ndeferred && (end = strchr(line, '\n'))) {
		char one[LINE_MAX_BYTES];
		xsnprintf(one, sizeof one, "%.*s", (int)(end - line + 1), line);
		write_caller_line(one);
		line = end + 1;
	}
	ndeferred = 0;
}

void util_lock_held(int fd)
{
	held_lock = fd;
}

void util_lock_released(void)
{
	held_lock = -1;
	flush_deferred();
}

/* The order matters (SECURITY.md 42): the lock goes first, so that no
 * other helper waits on us while we clean up or write to the caller; then
 * what is half-made is undone; the caller hears why last, when a full
 * pipe can only delay a process that holds nothing any more. */
static void vreport(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024], line[1100];

	if (held_lock >= 0) {
		close(held_lock);
		held_lock = -1;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof msg - n, ": %s", strerror(saved));
	}
	if (cleanup)
		cleanup(); /* e.g. the terminal back to cooked before the message */
	audit(0, "%s", msg); /* escaped there (SECURITY.md 49) */
	flush_deferred();
	snprintf(line, sizeof line, "mdhelper: %s\n", msg);
	write_caller_line(line);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
	_exit(exit_status);
}

void die_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(1, fmt, ap);
	va_end(ap);
	_exit(exit_status);
}

void warnx_(const char *fmt, ...)
{
	char msg[1024], line[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "mdhelper: %s\n", msg);
	emit(line);
}

void autoclose(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_at(int dirfd, const char *name, const char *text)
{
	AUTOCLOSE int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	return write_all(fd, text, strlen(text));
}

int write_new_file(int dirfd, const char *name, const char *text)
{
	AUTOCLOSE int fd = -1;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	return write_all(fd, text, strlen(text));
}

ssize_t read_file_at(int dirfd, const char *name, char *buf, size_t size)
{
	AUTOCLOSE int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0 || size == 0)
		return -1;
	while (got < size - 1) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

void xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		die("internal error: a name or path is too long");
}

/* Root-owned and not writable by group or other, or die naming it. */
static void check_owner(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		die_errno("fstat(\"%s\")", what);
	if (st.st_uid != 0)
		die("%s is not owned by root", what);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		die("%s is writable by group or other", what);
}

int open_trusted(const char *path, int flags, const char *why_failed)
{
	char copy[4096], sofar[4096] = "";
	char *save = NULL, *name, *next;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die_errno("open(\"/\")");
	check_owner(fd, "/");
	xsnprintf(copy, sizeof copy, "%s", path);
	for (name = strtok_r(copy, "/", &save); name; name = next) {
		size_t len = strlen(sofar);
		int last, nfd;

		next = strtok_r(NULL, "/", &save);
		last = next == NULL;
		xsnprintf(sofar + len, sizeof sofar - len, "/%s", name);
		nfd = openat(fd, name, (last ? flags : O_PATH | O_DIRECTORY) |
			     O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			die_errno("%s: %s", last ? path : sofar, why_failed);
		close(fd);
		fd = nfd;
		check_owner(fd, sofar);
	}
	return fd;
}

int open_dir_nofollow(int dirfd, const char *path)
{
	char copy[4096], *save = NULL;
	int fd = openat(dirfd, path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (strlen(path) >= sizeof copy) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(copy, path);
	for (char *name = strtok_r(copy, "/", &save); name && fd >= 0;
	     name = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;

		close(fd);
		fd = next;
		errno = saved;
	}
	return fd;
}
