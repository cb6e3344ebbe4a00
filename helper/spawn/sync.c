/* sync.c: lockstep messages between the helper and its child. */
#define _GNU_SOURCE
#include "spawn/sync.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void sync_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
}

int sync_send(int sock, enum sync_msg what, int fd)
{
	char msg = (char)what;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &msg, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

enum sync_msg sync_recv(int sock, int *fd)
{
	char msg = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &msg, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c;
	ssize_t n;

	if (fd)
		*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return SYNC_EOF;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		int got;

		memcpy(&got, CMSG_DATA(c), sizeof got);
		if (fd)
			*fd = got;
		else
			close(got);
	}
	return (enum sync_msg)msg;
}

void sync_expect(int sock, enum sync_msg want)
{
	enum sync_msg got = sync_recv(sock, NULL);

	if (got != want)
		_exit(MD_EXIT_REFUSED); /* the peer is gone; it said why */
}
