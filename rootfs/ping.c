/* ping: ICMP echo over a datagram socket, for the busybox rootfs.
 *
 * Usage: ping [-c COUNT] [-i SECONDS] [-W SECONDS] [-q] ADDRESS
 *   -c COUNT     stop after COUNT replies or timeouts (default: until Ctrl-C)
 *   -i SECONDS   wait this long between requests (default 1; 0.2 at least)
 *   -W SECONDS   wait this long for the last reply (default 10)
 *   -q           print the summary only
 *
 * Why not busybox's ping: it opens a raw socket, which needs CAP_NET_RAW in
 * the user namespace that owns the network namespace. A container's network
 * namespace belongs to the host's (so that container root cannot change its
 * address), and container root has capabilities in its own user namespace
 * only: busybox ping says "permission denied". Linux lets any group listed
 * in net.ipv4.ping_group_range send echo requests through an ICMP datagram
 * socket instead, and mdhelper allows every group in each container's
 * namespace. Addresses only (no name lookup in a static binary); output as
 * busybox's. Exit status: 0 a reply came, 1 none did, 2 misuse or error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 56

static volatile sig_atomic_t interrupted;
static unsigned long sent, received;
static double rtt_min = 1e9, rtt_max, rtt_sum;

static void usage(void)
{
	fputs("Usage: ping [-c COUNT] [-i SECONDS] [-W SECONDS] [-q] ADDRESS\n", stderr);
	exit(2);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double parse_seconds(const char *s, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > 3600) {
		fprintf(stderr, "ping: bad number of seconds: %s\n", s);
		exit(2);
	}
	return v;
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void send_echo(int s, const struct sockaddr_in *to, unsigned short seq)
{
	unsigned char packet[sizeof(struct icmphdr) + PAYLOAD];
	struct icmphdr *h = (struct icmphdr *)packet;

	memset(packet, 0, sizeof packet);
	h->type = ICMP_ECHO;
	h->un.echo.sequence = htons(seq);
	/* The kernel sets the identifier (the socket's port) and checksum. */
	for (size_t i = sizeof *h; i < sizeof packet; i++)
		packet[i] = (unsigned char)i;
	if (sendto(s, packet, sizeof packet, 0, (const struct sockaddr *)to, sizeof *to) < 0) {
		fprintf(stderr, "ping: sendto: %s\n", strerror(errno));
		return;
	}
	sent++;
}

/* Wait until deadline (ms) for the reply to seq; print it. 1 if it came. */
static int await_reply(int s, unsigned short seq, double started, double deadline, int quiet)
{
	unsigned char buf[1500], control[64];

	while (!interrupted) {
		double left = deadline - now_ms();
		struct pollfd p = { s, POLLIN, 0 };
		struct iovec iov = { buf, sizeof buf };
		struct msghdr m = { 0 };
		struct sockaddr_in from;
		struct cmsghdr *c;
		int ttl = -1;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left + 1) <= 0)
			return 0;
		m.msg_name = &from;
		m.msg_namelen = sizeof from;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = control;
		m.msg_controllen = sizeof control;
		n = recvmsg(s, &m, 0);
		if (n < (ssize_t)sizeof(struct icmphdr) ||
		    ((struct icmphdr *)buf)->type != ICMP_ECHOREPLY ||
		    ntohs(((struct icmphdr *)buf)->un.echo.sequence) != seq)
			continue;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
				memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
		double rtt = now_ms() - started;
		received++;
		rtt_sum += rtt;
		rtt_min = rtt < rtt_min ? rtt : rtt_min;
		rtt_max = rtt > rtt_max ? rtt : rtt_max;
		if (!quiet)
			printf("%zd bytes from %s: seq=%u ttl=%d time=%.3f ms\n", n,
			       inet_ntoa(from.sin_addr), seq, ttl, rtt);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long count = -1;
	double interval = 1, wait_last = 10;
	int quiet = 0, opt, s, on = 1;
	struct sockaddr_in to = { .sin_family = AF_INET };
	char *end;

	while ((opt = getopt(argc, argv, "c:i:W:q")) != -1) {
		switch (opt) {
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || end == optarg || count < 1)
				usage();
			break;
		case 'i': interval = parse_seconds(optarg, 0.2); break;
		case 'W': wait_last = parse_seconds(optarg, 0.001); break;
		case 'q': quiet = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1) {
		fprintf(stderr, "ping: %s: not an IPv4 address (this ping takes addresses only)\n",
			argv[optind]);
		return 2;
	}
	s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (s < 0) {
		fprintf(stderr, "ping: ICMP socket: %s (net.ipv4.ping_group_range excludes your group)\n",
			strerror(errno));
		return 2;
	}
	setsockopt(s, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
	signal(SIGINT, on_sigint);
	printf("PING %s (%s): %d data bytes\n", argv[optind], argv[optind], PAYLOAD);
	fflush(stdout);
	for (unsigned short seq = 0; !interrupted && (count < 0 || (long)sent < count); seq++) {
		double started = now_ms();
		int last = count > 0 && (long)sent + 1 == count;

		send_echo(s, &to, seq);
		await_reply(s, seq, started, started + (last ? wait_last * 1e3 : interval * 1e3), quiet);
		fflush(stdout);
		while (!last && !interrupted && now_ms() < started + interval * 1e3)
			usleep(10000);
	}
	printf("\n--- %s ping statistics ---\n", argv[optind]);
	printf("%lu packets transmitted, %lu packets received, %lu%% packet loss\n", sent, received,
	       sent ? (sent - received) * 100 / sent : 0);
	if (received)
		printf("round-trip min/avg/max = %.3f/%.3f/%.3f ms\n", rtt_min, rtt_sum / received,
		       rtt_max);
	return received ? 0 : 1;
}
