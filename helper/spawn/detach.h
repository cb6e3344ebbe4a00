/* detach.h: `mdrun.sh -d`: the helper stays as the container's monitor in a
 * session of its own, the container's output goes to a log the caller owns,
 * and the caller gets the container's name back at once. */
#ifndef MD_DETACH_H
#define MD_DETACH_H

#include "ids.h"
#include "net.h"
#include "spawn/spawn.h"

/* Fork. The front process (the caller's) waits until the monitor reports
 * that the command runs, prints the container's name and exits 0 (or the
 * command's 126/127, or 125 if the start failed); it never returns. The
 * monitor returns the fd to report on, in a new session, stdin /dev/null. */
int detach_begin(void);
/* Open LOGDIR/ID.log for writing as the caller (their rights, their file):
 * no symlink followed, a regular file the caller owns (SECURITY.md 16-17). */
int detach_open_log(const char *dir, const char *id, const struct caller *c);
/* Monitor: from now on its own output goes to the log too; tell the front
 * the command runs (status < 0) or could not be run (status 126/127). */
void detach_started(int report, int log, const char *id, int status);
/* The container monitor (LIBEXECDIR/mdmonitor), opened before anything of
 * the container exists, checked as the network script is (SECURITY.md
 * 18): dies naming it when missing or not root's. */
int detach_monitor_open(void);
/* Monitor, once the command runs: exec mdmonitor (monitor, from
 * detach_monitor_open) to wait for the child (its pidfd on fd 3) and clean
 * up after it, as the same process. Returns only if the exec failed,
 * having said so in the log: the caller then monitors itself. */
void detach_become_monitor(int monitor, const char *id, struct spawn *sp, const struct net *n,
			   unsigned long long memory);

#endif
