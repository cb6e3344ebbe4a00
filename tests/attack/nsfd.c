/* nsfd: how a student keeps their container's network namespace, and so
 * its port on the bridge, alive after the container ends. Inside the
 * container, `nsfd send SOCK` passes an fd of its own /proc/self/ns/net
 * over a unix socket in the student's own rootfs; on the host, `nsfd hold
 * SOCK SECONDS`, a process of the student's, receives it and keeps it open.
 * (The host cannot open the container's /proc/PID/ns/net: the container's
 * user namespace is root's, so ptrace's check refuses the student.)
 *
 * Usage: nsfd send SOCK
 *        nsfd hold SOCK SECONDS   prints "held net:[INODE]" once it holds it
 * Exit: 0; 3 on an error. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_socket(const char *path, struct sockaddr_un *a)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (s < 0 || strlen(path) >= sizeof a->sun_path)
		perror("socket"), exit(3);
	strcpy(a->sun_path, path);
	return s;
}

static int do_send(const char *path)
{
	struct sockaddr_un a;
	int s = unix_socket(path, &a), ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	char byte = 'n', ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof ctl };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	if (ns < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		perror("nsfd send"), exit(3);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &ns, sizeof ns);
	if (sendmsg(s, &m, 0) != 1)
		perror("sendmsg"), exit(3);
	return 0;
}

static int do_hold(const char *path, int seconds)
{
	struct sockaddr_un a;
	int s = unix_socket(path, &a), conn, ns;
	char byte, ctl[CMSG_SPACE(sizeof(int))], link[64], self[64];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof ctl };
	struct cmsghdr *c;
	ssize_t n;

	unlink(path);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0)
		perror("nsfd hold"), exit(3);
	conn = accept(s, NULL, NULL);
	if (conn < 0 || recvmsg(conn, &m, 0) != 1 || !(c = CMSG_FIRSTHDR(&m)) ||
	    c->cmsg_type != SCM_RIGHTS)
		fprintf(stderr, "nsfd hold: no fd received\n"), exit(3);
	memcpy(&ns, CMSG_DATA(c), sizeof ns);
	close(conn);
	close(s);
	unlink(path);
	snprintf(self, sizeof self, "/proc/self/fd/%d", ns);
	n = readlink(self, link, sizeof link - 1);
	link[n < 0 ? 0 : n] = '\0';
	printf("held %s\n", link);
	fflush(stdout);
	sleep((unsigned)seconds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "send"))
		return do_send(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return do_hold(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: nsfd send SOCK | nsfd hold SOCK SECONDS\n");
	return 2;
}
