/* privilege.h: the helper's own process state, out of the caller's reach
 * (SECURITY.md 38-40; see privilege.c). */
#ifndef MD_PRIVILEGE_H
#define MD_PRIVILEGE_H

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#define PRIVILEGE_RLIMITS RLIM_NLIMITS

/* What the caller had, kept for the container's command alone. */
struct saved_state {
	struct rlimit limits[PRIVILEGE_RLIMITS];
	cpu_set_t affinity; /* empty if unknown */
	char term[64];      /* the caller's TERM, if sane */
};

/* Save the caller's rlimits and affinity in s, then reset every inherited
 * attribute: signals (dispositions default, all but faults blocked),
 * interval timers off, SCHED_OTHER nice 0, default I/O priority and timer
 * slack, every CPU, fixed rlimits. Dies on failure. */
void privilege_reset(struct saved_state *s);
/* setresuid(0,0,0) and setresgid(0,0,0), verified; not dumpable; the
 * scheduling attributes reset again and out of any cgroup of the
 * caller's (they may have changed those while they owned our real uid). */
void privilege_all_root(void);
/* Out of every cgroup the caller may own, into its hierarchy's root. */
void privilege_leave_caller_cgroups(void);
/* Real uid back to the caller (effective and saved stay root), so that
 * they can end their container by signalling us: only while nothing
 * shared is half-made (supervise). Not dumpable. */
void privilege_caller_may_signal(uid_t caller);
/* SCHED_OTHER, nice 0, I/O priority and timer slack default, every CPU. */
void privilege_reset_scheduling(void);
/* PR_SET_DUMPABLE 0, verified with PR_GET_DUMPABLE (SECURITY.md 40). */
void privilege_dumpable_off(void);
/* Block every signal but the faults (fills *blocked with that set). */
void privilege_block_signals(sigset_t *blocked);
/* An empty signal mask, just before exec (raw system call: vfork-safe). */
void privilege_exec_signals(void);
/* The caller's rlimits for process pid (the container's command), set by
 * us, root in the host: a hard limit above our fixed one comes back too. */
void privilege_give_rlimits(pid_t pid, const struct saved_state *s);

#endif
