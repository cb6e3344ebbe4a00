/* sysprobe: what a process inside a container may do, for tests/confine.bats.
 * Static: it runs inside any rootfs. Test-only, never installed for users.
 *
 * Usage: sysprobe syscalls
 *          Call each system call Docker's default profile refuses, with
 *          arguments the kernel itself would not answer with EPERM where
 *          that can be arranged (so EPERM is the filter's), and print
 *          "NAME ERRNO" (ERRNO as EPERM, ENOSYS, ..., or "ok").
 *        sysprobe securebits
 *          Print "securebits=0xN set=ERRNO": the bits, and what trying to
 *          turn on SECBIT_NO_SETUID_FIXUP gave.
 *        sysprobe i386 | x32
 *          Make getpid through the i386 (int 0x80) or the x32 entry point
 *          and print "survived" with what it returned.
 *        sysprobe udp IFACE SRCMAC DSTMAC SRCIP DSTIP PORT WORD
 *          Send one UDP datagram holding WORD as a raw Ethernet frame on
 *          IFACE with the given addresses (needs CAP_NET_RAW in the owner
 *          of the network namespace: a --userns host container). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/securebits.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void show(const char *name, long rc)
{
	printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
}

/* clone with a namespace flag: if it is let through, the child goes at once. */
static long clone_newuser(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static void syscalls(void)
{
	struct timespec ts = { 0, 0 };

	show("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
	show("add_key", syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
	show("request_key", syscall(SYS_request_key, NULL, NULL, NULL, 0));
	show("bpf", syscall(SYS_bpf, 9999, NULL, 0));
	show("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	show("userfaultfd", syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */));
	show("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	show("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0));
	show("init_module", syscall(SYS_init_module, NULL, 0, NULL));
	show("finit_module", syscall(SYS_finit_module, -1, NULL, 0));
	show("delete_module", syscall(SYS_delete_module, NULL, 0));
	show("fsopen", syscall(SYS_fsopen, NULL, 0));
	show("fsconfig", syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
	show("fsmount", syscall(SYS_fsmount, -1, 0, 0));
	show("move_mount", syscall(SYS_move_mount, -1, NULL, -1, NULL, 0));
	show("open_tree", syscall(SYS_open_tree, -1, NULL, 0));
	show("fspick", syscall(SYS_fspick, -1, NULL, 0));
	show("mount_setattr", syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0));
	show("mount", syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));
	show("umount2", syscall(SYS_umount2, "/no/such/mount", 0));
	show("pivot_root", syscall(SYS_pivot_root, NULL, NULL));
	show("unshare", syscall(SYS_unshare, CLONE_NEWUSER));
	show("clone", clone_newuser());
	show("setns", syscall(SYS_setns, -1, 0));
	show("acct", syscall(SYS_acct, NULL));
	show("swapon", syscall(SYS_swapon, NULL, 0));
	show("swapoff", syscall(SYS_swapoff, NULL));
	show("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
	show("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
	show("clock_settime", syscall(SYS_clock_settime, 12345, &ts));
	show("personality", syscall(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */));
	show("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
	show("socket", syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0));
	show("kcmp", syscall(SYS_kcmp, 0, 0, 99, 0, 0));
	show("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0));
	show("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
	show("iopl", syscall(SYS_iopl, 0));
	show("ioperm", syscall(SYS_ioperm, 0, 0, 0));
	show("sethostname", syscall(SYS_sethostname, NULL, 0));
	show("clone3", syscall(SYS_clone3, NULL, 0));
}

static void securebits(void)
{
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	long rc = prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0);

	printf("securebits=0x%x set=%s\n", (unsigned)bits, rc < 0 ? strerrorname_np(errno) : "ok");
}

/* getpid, 20 on i386, through int 0x80 from this 64-bit process. */
static void i386_call(void)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	printf("survived %ld\n", r);
}

/* getpid, 39 on x86_64, with the x32 bit. */
static void x32_call(void)
{
	long r = syscall(0x40000000L | 39);

	printf("survived %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
}

static unsigned short checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned long sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (unsigned)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((unsigned short)~sum);
}

static void parse_mac(const char *s, unsigned char *mac)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		   &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "sysprobe: bad MAC %s\n", s);
		exit(2);
	}
}

static int udp(char **a)
{
	unsigned char frame[256] = { 0 };
	struct ether_header *eth = (void *)frame;
	struct iphdr *ip = (void *)(frame + sizeof *eth);
	struct udphdr *u = (void *)(frame + sizeof *eth + sizeof *ip);
	size_t n = strlen(a[6]), len = sizeof *ip + sizeof *u + n;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));

	if (fd < 0 || n > 64 || !(to.sll_ifindex = (int)if_nametoindex(a[0]))) {
		perror("sysprobe: packet socket");
		return 1;
	}
	parse_mac(a[1], eth->ether_shost);
	parse_mac(a[2], eth->ether_dhost);
	memcpy(to.sll_addr, eth->ether_dhost, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	*ip = (struct iphdr){ .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
			      .tot_len = htons((unsigned short)len) };
	ip->saddr = inet_addr(a[3]);
	ip->daddr = inet_addr(a[4]);
	ip->check = checksum(ip, sizeof *ip);
	u->source = htons(40000);
	u->dest = htons((unsigned short)atoi(a[5]));
	u->len = htons((unsigned short)(sizeof *u + n));
	memcpy(frame + sizeof *eth + sizeof *ip + sizeof *u, a[6], n);
	if (sendto(fd, frame, sizeof *eth + len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
		perror("sysprobe: sendto");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "syscalls"))
		syscalls();
	else if (argc == 2 && !strcmp(argv[1], "securebits"))
		securebits();
	else if (argc == 2 && !strcmp(argv[1], "i386"))
		i386_call();
	else if (argc == 2 && !strcmp(argv[1], "x32"))
		x32_call();
	else if (argc == 9 && !strcmp(argv[1], "udp"))
		return udp(argv + 2);
	else {
		fputs("usage: sysprobe syscalls | securebits | i386 | x32 | udp IFACE SRCMAC DSTMAC SRCIP DSTIP PORT WORD\n",
		      stderr);
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
