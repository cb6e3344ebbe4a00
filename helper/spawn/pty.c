/* pty.c: the container's terminal.
 *
 * The container never gets the caller's terminal: it gets a new pty from
 * its own devpts instance, and the helper copies bytes between the two, so
 * TIOCSTI and friends inside reach only the container's pty (SECURITY.md
 * 23, CVE-2017-5226). Job control and Ctrl-C work inside because the
 * caller's terminal is raw and the container's pty does the line
 * discipline. */
#define _GNU_SOURCE
#include "spawn/pty.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_valid;

int pty_open_in_container(void)
{
	int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int unlock = 0, slave;

	if (master < 0)
		die_errno("open(\"/dev/pts/ptmx\")");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die_errno("unlocking the pty");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		die_errno("opening the pty's slave");
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		die_errno("dup2 of the pty");
	if (slave > 2)
		close(slave);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		die_errno("making the pty the controlling terminal");
	return master;
}

void pty_resize(int master)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

void pty_restore_caller(void)
{
	if (saved_valid)
		tcsetattr(0, TCSAFLUSH, &saved);
	saved_valid = 0;
}

void pty_prepare_caller(int master)
{
	struct termios raw;

	pty_resize(master);
	if (tcgetattr(0, &saved) < 0)
		return;
	saved_valid = 1;
	raw = saved;
	cfmakeraw(&raw);
	tcsetattr(0, TCSAFLUSH, &raw);
}

static int copy(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof buf);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0; /* EOF, or EIO once every slave fd is closed */
	return write_all(to, buf, (size_t)n) == 0;
}

int pty_relay_in(int master)
{
	return copy(0, master);
}

int pty_relay_out(int master)
{
	return copy(master, 1);
}
