/* audit.c: the record of every allow and deny.
 *
 * MUST (SECURITY.md 37, 49):
 * - every byte a caller chose (names, rootfs paths, argv, and the user
 *   name) is written with control bytes escaped: \n, \t, \\ and \xNN for
 *   the rest and for every byte >= 0x7f, so no record can end early, fake a
 *   second record, or carry terminal escapes to whoever reads the log;
 * - a record reaches a log root owns: the journal's native socket, else
 *   syslog's /dev/log (authpriv), else MD_AUDITLOG, appended through
 *   O_NOFOLLOW|O_APPEND in a root-owned 0700 directory the helper makes
 *   and checks. Where none is there, it is said on stderr, never lost
 *   silently;
 * - the destination is opened once and kept (close-on-exec): a container's
 *   child, past its pivot_root, still records its refusals there. */
#define _GNU_SOURCE
#include "audit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MD_AUDITLOG
#define MD_AUDITLOG "/var/log/minidocker/audit.log"
#endif
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define SYSLOG_SOCKET "/dev/log"

enum { TO_NONE, TO_JOURNAL, TO_SYSLOG, TO_FILE };

static char caller_user[64] = "?";
static long caller_uid = -1;
static int log_fd = -1, log_kind = TO_NONE;
/* audit_open ran: the helper is root and knows it is setuid in the host's
 * user namespace, so a missing log is worth saying. Before (a refusal
 * of an unprivileged or namespaced run), a log it cannot open is not. */
static int expected;

void util_set_caller(const char *user, uid_t uid)
{
	snprintf(caller_user, sizeof caller_user, "%s", user);
	caller_uid = (long)uid;
}

/* in, escaped, into out (always NUL ended, cut short if it must be). */
static void escape(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && n + 5 < size; p++) {
		if (*p == '\n')
			n += (size_t)snprintf(out + n, size - n, "\\n");
		else if (*p == '\t')
			n += (size_t)snprintf(out + n, size - n, "\\t");
		else if (*p == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\\\");
		else if (*p < 0x20 || *p >= 0x7f)
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", *p);
		else
			out[n++] = (char)*p;
	}
	out[n] = '\0';
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval patience = { 1, 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* A daemon that stopped reading delays a record a second at most;
	 * one that is busy gets its queue drained before we go on. */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* MD_AUDITLOG's directory: root's, 0700, made if missing, never a link. */
static int open_log_file(void)
{
	char dir[256];
	struct stat st;
	AUTOCLOSE int dfd = -1;
	const char *slash = strrchr(MD_AUDITLOG, '/');

	snprintf(dir, sizeof dir, "%.*s", (int)(slash - MD_AUDITLOG), MD_AUDITLOG);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077))
		return -1;
	return openat(dfd, slash + 1, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		      O_NOCTTY | O_CLOEXEC, 0600);
}

static void open_destination(void)
{
	if ((log_fd = connect_to(JOURNAL_SOCKET)) >= 0)
		log_kind = TO_JOURNAL;
	else if ((log_fd = connect_to(SYSLOG_SOCKET)) >= 0)
		log_kind = TO_SYSLOG;
	else if ((log_fd = open_log_file()) >= 0)
		log_kind = TO_FILE;
}

/* Where fsuid is the caller's (a refusal in the rootfs walk) the log
 * would be opened with their rights: main opens it first thing as root. */
void audit_open(void)
{
	expected = geteuid() == 0; /* mdmonitor run by a student: nothing to log with */
	if (log_fd < 0 && geteuid() == 0)
		open_destination();
}

/* One record, already escaped, as the destination wants it. */
static void emit(int allowed, const char *line)
{
	char rec[2048], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (log_kind == TO_JOURNAL)
		n = snprintf(rec, sizeof rec, "PRIORITY=%d\nSYSLOG_FACILITY=10\n"
			     "SYSLOG_IDENTIFIER=mdhelper\nMESSAGE=%s\n", allowed ? 6 : 5, line);
	else if (log_kind == TO_SYSLOG)
		n = snprintf(rec, sizeof rec, "<%d>mdhelper[%d]: %s", 10 * 8 + (allowed ? 6 : 5),
			     (int)getpid(), line);
	else {
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		n = snprintf(rec, sizeof rec, "%s mdhelper[%d]: %s\n", stamp, (int)getpid(), line);
	}
	/* Never under the registry lock (SECURITY.md 42): a daemon that is
	 * slow to read may make us wait, up to SO_SNDTIMEO. */
	if (n < 0 || (size_t)n >= sizeof rec ||
	    (log_kind == TO_FILE ? write(log_fd, rec, (size_t)n)
				 : send(log_fd, rec, (size_t)n, MSG_NOSIGNAL)) != n)
		warnx_("the audit record could not be written: %s", line);
}

void audit(int allowed, const char *fmt, ...)
{
	char msg[1024], user[256], esc[1200], line[1600];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	escape(msg, esc, sizeof esc);
	escape(caller_user, user, sizeof user);
	snprintf(line, sizeof line, "%s user=%s uid=%ld: %s", allowed ? "allow" : "deny",
		 user, caller_uid, esc);
	if (log_fd < 0 && geteuid() == 0)
		open_destination();
	if (log_fd >= 0)
		emit(allowed, line);
	else if (expected)
		warnx_("no audit log (%s, %s, %s): %s", JOURNAL_SOCKET, SYSLOG_SOCKET, MD_AUDITLOG,
		       line);
	errno = saved;
}
