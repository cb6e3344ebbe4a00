/* mdmonitor.c: what a detached container's helper becomes once the
 * container runs (mdrun.sh -d). It waits for the container's PID 1,
 * forwards signals to it, and at its end does what run.c's finish does:
 * names an OOM kill in the log, removes the cgroup, the lease and the
 * registry entry.
 *
 * Why a program of its own: a monitor waits as long as its container runs,
 * one per container. mdhelper, linked dynamically with libc and
 * libcap-ng, is about 1.4 MiB resident as a monitor; this program is
 * linked statically and holds only what waiting and cleaning up need.
 *
 * It is not setuid: mdhelper's monitor process execs it through an fd it
 * opened and checked like the network script before the container started
 * (root-owned, root-owned non-writable parents: SECURITY.md 18), with an
 * empty environment, fds 0-2 only (/dev/null and the log) and an argv of
 * values mdhelper generated, checked again here. The pid, the container
 * (its child) and the registry entry stay the same across the exec. Run by
 * anybody else, it has no privilege to use: the registry and the cgroups
 * are root's, and PID must be its own child.
 *
 * Usage (mdhelper only): mdmonitor ID PID ADDR|- ATTACHED MEMORY, with
 * the pidfd of PID, our child, on fd 3 (SECURITY.md 41). */
#define _GNU_SOURCE
#include "audit.h"
#include "cgroup/cgroup.h"
#include "net.h"
#include "state/lease.h"
#include "core/parse.h"
#include "core/privilege.h"
#include "state/registry.h"
#include "spawn/supervise.h"
#include "util.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define CHILD_PIDFD 3

static struct net net;
static const char *id;
static int child_alive;

/* On a failure of our own: the container must not outlive its monitor
 * (it would with nobody to clean up after it). */
static void abort_monitor(void)
{
	siginfo_t si;

	if (child_alive) {
		syscall(SYS_pidfd_send_signal, CHILD_PIDFD, SIGKILL, NULL, 0);
		waitid((idtype_t)P_PIDFD, CHILD_PIDFD, &si, WEXITED);
	}
	cg_destroy_by_id(id);
	net_release(&net, id);
}

static void parse_args(int argc, char **argv, unsigned long long *memory)
{
	uint64_t v;
	uint32_t a;

	if (argc != 6)
		die("mdmonitor: run by mdhelper only (ID PID ADDR|- ATTACHED MEMORY)");
	id = argv[1];
	if (!cg_id_valid(id) || strlen(id) >= RUN_ID_SIZE)
		die("mdmonitor: invalid container id");
	if (parse_u64(argv[2], INT32_MAX, &v) < 0 || v < 2)
		die("mdmonitor: invalid pid");
	memset(&net, 0, sizeof net);
	net.reserved = 1;
	if (strcmp(argv[3], "-") != 0) {
		if (parse_ipv4(argv[3], &a) < 0)
			die("mdmonitor: invalid address");
		net.enabled = 1;
		xsnprintf(net.addr, sizeof net.addr, "%s", argv[3]);
	}
	if (strcmp(argv[4], "0") != 0 && strcmp(argv[4], "1") != 0)
		die("mdmonitor: invalid attached flag");
	net.attached = argv[4][0] == '1';
	if (parse_u64(argv[5], UINT64_MAX, &v) < 0)
		die("mdmonitor: invalid memory limit");
	*memory = v;
}

int main(int argc, char **argv)
{
	unsigned long long memory;
	sigset_t blocked;
	siginfo_t si;
	struct cg cg;
	int sigfd, status, oom = 0;
	char limit[32];

	parse_args(argc, argv, &memory);
	audit_open();
	/* Ours to wait for, or nothing to do: waitid fails on anything but
	 * a pidfd of a child of this process. */
	memset(&si, 0, sizeof si);
	if (waitid((idtype_t)P_PIDFD, CHILD_PIDFD, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		die("mdmonitor: fd 3 is not the pidfd of a child of ours");
	child_alive = 1;
	util_set_cleanup(abort_monitor);
	privilege_block_signals(&blocked);
	sigfd = supervise_block_signals();
	status = supervise(CHILD_PIDFD, sigfd, -1);
	child_alive = 0;
	if (cg_open_by_id(&cg, id) == 0) {
		oom = cg_oom_kills(&cg) > 0;
		cg_release(&cg);
	}
	cg_destroy_by_id(id);
	net_release(&net, id);
	util_set_cleanup(NULL);
	/* The log is the caller's file, on a file system of their choosing:
	 * written to only once nothing shared is left to clean up. */
	if (oom) {
		format_size(memory, limit, sizeof limit);
		warnx_("container killed: out of memory (limit %s)", limit);
	}
	return status;
}
