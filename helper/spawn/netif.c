/* netif.c: the container's side of its network, set from inside its
 * network namespace by the child while it is still host root: lo up, ping
 * allowed, and, on the bridge, eth1's address, link and default route.
 *
 * Why the child and not mdnet.sh: the child already is root in that
 * namespace, and every process costs milliseconds on every start (on the
 * lab VM this was measured on: `ip` 10 ms, nsenter 12 ms, sh 7 ms, against
 * a 15 ms budget for the whole network). mdnet.sh makes the veth pair;
 * what follows is six ioctls and one write.
 *
 * MUST:
 * - only values mdhelper chose or validated: the lease, and the prefix and
 *   gateway of the administrator's bridge line;
 * - done before the child enters its user namespace: the network namespace
 *   belongs to the host's user namespace, so container root can change none
 *   of it (SECURITY.md 35). */
#define _GNU_SOURCE
#include "spawn/netif.h"
#include "core/parse.h"
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int inet_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die_errno("socket");
	return s;
}

static void link_up(int s, const char *ifname)
{
	struct ifreq ifr = { 0 };

	xsnprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die_errno("%s: reading its flags", ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die_errno("%s: bringing it up", ifname);
}

static void set_sockaddr(struct sockaddr *sa, uint32_t host_order)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(host_order);
	memcpy(sa, &sin, sizeof sin);
}

/* SIOCSIFADDR or SIOCSIFNETMASK; the kernel sets the broadcast address
 * from the two, as `ip address add … brd +` would. */
static void set_ifaddr(int s, unsigned long request, const char *what, uint32_t value)
{
	struct ifreq ifr = { 0 };

	xsnprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", NETIF_PEER);
	set_sockaddr(&ifr.ifr_addr, value);
	if (ioctl(s, request, &ifr) < 0)
		die_errno("%s: setting its %s", NETIF_PEER, what);
}

static void default_route(int s, uint32_t gateway)
{
	struct rtentry rt;
	char dev[] = NETIF_PEER;

	memset(&rt, 0, sizeof rt);
	set_sockaddr(&rt.rt_dst, 0);
	set_sockaddr(&rt.rt_genmask, 0);
	set_sockaddr(&rt.rt_gateway, gateway);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = dev;
	if (ioctl(s, SIOCADDRT, &rt) < 0)
		die_errno("%s: adding the default route", NETIF_PEER);
}

static uint32_t checked_ipv4(const char *s)
{
	uint32_t a;

	if (parse_ipv4(s, &a) < 0)
		die("not an IPv4 address: %s", s);
	return a;
}

void netif_loopback_up(void)
{
	AUTOCLOSE int s = inet_socket();

	link_up(s, "lo");
}

/* Any group may ping (ICMP datagram sockets): container root has no
 * CAP_NET_RAW in a namespace the host's user namespace owns. /proc/sys/net
 * shows the writer's network namespace: this one. */
void netif_allow_ping(void)
{
	static const char range[] = "0 2147483647\n";
	AUTOCLOSE int fd = open("/proc/sys/net/ipv4/ping_group_range",
				O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || write(fd, range, sizeof range - 1) != (ssize_t)(sizeof range - 1))
		die_errno("allowing ping (ping_group_range)");
}

void netif_eth1_up(const char *addr, unsigned prefix, const char *gateway)
{
	AUTOCLOSE int s = inet_socket();

	if (prefix < 1 || prefix > 30)
		die("not a usable prefix length: %u", prefix);
	set_ifaddr(s, SIOCSIFADDR, "address", checked_ipv4(addr));
	set_ifaddr(s, SIOCSIFNETMASK, "netmask", ~0U << (32 - prefix));
	link_up(s, NETIF_PEER);
	default_route(s, checked_ipv4(gateway));
}
