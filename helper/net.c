/* net.c: a container's host port, made and removed by the one program run
 * as root (leases and names: state/lease.c).
 *
 * MUST:
 * - the network script is the one at the compiled-in path, root-owned with
 *   root-owned, non-writable parents, run with execve as uid 0 with an empty
 *   environment plus a fixed PATH, stdin /dev/null and an argv of values
 *   this file generated or validated (SECURITY.md 18, CVE-2017-5207). */
#define _GNU_SOURCE
#include "net.h"
#include "spawn/affinity.h"
#include "core/privilege.h"
#include "core/parse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* A container's host port: mdv and its address as four 3-digit octets
 * (15 bytes), the name mdnet.sh's anti-spoofing table pairs with that
 * address alone. */
void net_port_name(uint32_t a, char *buf, size_t size)
{
	xsnprintf(buf, size, "mdv%03u%03u%03u%03u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* Start the network script as full root with nothing of the caller's
 * (SECURITY.md 18, 39): executed through the fd that was checked, not by
 * its path again; fixed environment, limits, scheduling and signal state
 * (privilege.c: ours, never the caller's); stdin and stdout /dev/null;
 * stderr a pipe whose first line we report (out); netns, when not -1,
 * on fd 3. vfork: on this kind of (virtual) machine, copying the helper's
 * page tables for a fork costs milliseconds, on every container's start.
 * The child only makes raw system calls (no libc state is changed in the
 * memory it shares with us) until execve or _exit. */
static pid_t spawn_script(char *const argv[], int netns, int *out)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	AUTOCLOSE int checked = open_trusted(MD_NETSCRIPT, O_PATH, "cannot find the network script");
	AUTOCLOSE int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* Sources above the fds they go to, so that no dup3 clobbers another
	 * source (nor fails, as dup3 does onto the same fd). */
	AUTOCLOSE int script = fcntl(checked, F_DUPFD_CLOEXEC, 10);
	AUTOCLOSE int ns = netns < 0 ? -1 : fcntl(netns, F_DUPFD_CLOEXEC, 10);
	int err[2], high;
	pid_t pid;

	if (devnull < 0 || script < 0 || (netns >= 0 && ns < 0))
		die_errno("preparing %s", MD_NETSCRIPT);
	if (pipe2(err, O_CLOEXEC) < 0)
		die_errno("pipe");
	high = fcntl(err[1], F_DUPFD_CLOEXEC, 10);
	close(err[1]);
	if (high < 0)
		die_errno("pipe");
	pid = vfork();
	if (pid < 0)
		die_errno("vfork");
	if (pid == 0) {
		/* fd 4: the script, for the kernel to hand its interpreter as
		 * /dev/fd/4 (so not close-on-exec). */
		if (syscall(SYS_dup3, devnull, 0, 0) < 0 || syscall(SYS_dup3, devnull, 1, 0) < 0 ||
		    syscall(SYS_dup3, high, 2, 0) < 0 || (ns >= 0 && syscall(SYS_dup3, ns, 3, 0) < 0) ||
		    syscall(SYS_dup3, script, 4, 0) < 0 || syscall(SYS_setgroups, 0, NULL) < 0 ||
		    syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0 ||
		    syscall(SYS_chdir, "/") < 0)
			_exit(126);
		affinity_restore(); /* ours from before the pin: every CPU */
		privilege_exec_signals();
		syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	close(high);
	*out = err[0];
	return pid;
}

/* Its exit status; its first line of stderr in why (may be empty). */
static int wait_script(pid_t pid, int out, char *why, size_t size)
{
	int status;
	ssize_t n;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	/* It has exited: what it wrote is all in the pipe, or lost. */
	n = read(out, why, size - 1);
	close(out);
	why[n > 0 ? n : 0] = '\0';
	why[strcspn(why, "\n")] = '\0';
	for (char *p = why; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* Silent: say what we saw instead. */
	if (status > 128 && !why[0])
		snprintf(why, size, "%s was killed by signal %d", MD_NETSCRIPT, status - 128);
	else if (status && !why[0])
		snprintf(why, size, "%s exited with status %d", MD_NETSCRIPT, status);
	return status;
}

/* Started before the child sets itself up, waited for (net_attach_wait)
 * before it runs anything of the caller's: the two overlap. The script
 * gets the child's network namespace as an fd (SECURITY.md 41): never a
 * pid, which a killed or slow helper's child could hand to another
 * process by the time the script used it. */
void net_attach(struct net *n, const char *id, int netns)
{
	char bridge[16], veth[16], name[64];
	char *argv[] = { "mdnet.sh", "attach", name, veth, bridge, NULL };

	if (!n->enabled)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	xsnprintf(veth, sizeof veth, "%s", n->veth);
	xsnprintf(bridge, sizeof bridge, "%s", n->bridge);
	n->attached = 1; /* a failed attach undoes itself; detach is harmless */
	n->script = spawn_script(argv, netns, &n->script_out);
}

void net_attach_end(struct net *n)
{
	char why[256];

	if (n->script > 0)
		wait_script(n->script, n->script_out, why, sizeof why);
	n->script = 0;
}

int net_attach_wait(struct net *n, char *why, size_t size)
{
	pid_t pid = n->script;

	why[0] = '\0';
	if (pid <= 0)
		return 0;
	n->script = 0;
	return wait_script(pid, n->script_out, why, size);
}

/* The container's namespace takes its veth with it a moment after the
 * container ends (the kernel's namespace cleanup runs on its own). Look
 * for it by its fixed /sys path, as bridge_is_up does: gone within
 * ~100 ms, there is nothing to detach and no process to start. */
static int veth_gone(const char *veth)
{
	char path[64];
	struct timespec tick = { 0, 1000000 };

	xsnprintf(path, sizeof path, "/sys/class/net/%s", veth);
	for (int i = 0; i < 100; i++) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

int net_port_exists(const char *addr)
{
	char v[16], path[64];
	uint32_t ip;

	if (parse_ipv4(addr, &ip) < 0)
		return 0;
	net_port_name(ip, v, sizeof v);
	xsnprintf(path, sizeof path, "/sys/class/net/%s", v);
	return access(path, F_OK) == 0 || errno != ENOENT;
}

void net_detach_port(const char *id, const char *addr)
{
	char name[64], v[16], a[16];
	char *argv[] = { "mdnet.sh", "detach", name, v, a, NULL };
	char why[256];
	uint32_t ip;
	pid_t pid;
	int out;

	if (parse_ipv4(addr, &ip) < 0)
		return;
	xsnprintf(name, sizeof name, "%s", id);
	net_port_name(ip, v, sizeof v);
	xsnprintf(a, sizeof a, "%s", addr);
	if (veth_gone(v))
		return;
	pid = spawn_script(argv, -1, &out);
	if (wait_script(pid, out, why, sizeof why) != 0)
		warnx_("network cleanup failed: %s", why[0] ? why : v);
}
