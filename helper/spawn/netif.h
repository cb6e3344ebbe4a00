/* netif.h: the container's interfaces, set from inside its namespace. */
#ifndef MD_NETIF_H
#define MD_NETIF_H

/* The container's end of its veth pair: mdnet.sh attach makes it in the
 * container's namespace under this name. */
#define NETIF_PEER "eth1"

/* Bring lo up. */
void netif_loopback_up(void);
/* Let every group use ICMP datagram sockets (ping) in this namespace. */
void netif_allow_ping(void);
/* eth1: ADDR/PREFIX (with its broadcast address), up, default route via
 * GATEWAY. Dies naming the step that failed. */
void netif_eth1_up(const char *addr, unsigned prefix, const char *gateway);

#endif
