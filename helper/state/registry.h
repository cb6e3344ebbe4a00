/* registry.h: running containers and their leases, under one lock. */
#ifndef MD_REGISTRY_H
#define MD_REGISTRY_H

#include <stdint.h>
#include <sys/types.h>

#include "ids.h"

/* A container id: its name, [a-z0-9][a-z0-9_.-]{0,62}. */
#define RUN_ID_SIZE 64

/* What the registry knows of a running container. The first line of an
 * entry is written when the name is taken; the rest once the command runs
 * ("running"), so that exec and ps never see a half-started container. */
struct entry {
	char name[RUN_ID_SIZE];
	unsigned long uid;               /* the owner */
	long helper;                     /* the helper (monitor) pid */
	unsigned long long helper_start; /* its start time, in clock ticks */
	char addr[16];                   /* "-" without a lease */
	int running;
	long pid;                        /* the container's PID 1, on the host */
	unsigned long long pid_start;    /* its start time, in clock ticks */
	long long created;               /* seconds since the epoch */
	char hostname[64];
	unsigned long long memory, pids; /* limits; 0 = none */
	char cpus[256];                  /* "-" = all */
	int detached;
	char command[256];               /* printable, cut short */
};

/* fds of RUNDIR and of a subdirectory (the lock: state/lock.h). */
int registry_rundir(void);
int registry_subdir(int dirfd, const char *name);
/* Under the lock: count uid's live containers into *mine, set *taken if a
 * live one holds address want (or an ended one whose port is still there),
 * and die if any entry, live or not yet collected, is called id. */
void registry_scan(int cdir, const char *id, uid_t uid, uint32_t want, int *mine, int *taken);

/* Record this helper's container id (and its lease, addr may be NULL). */
void registry_add(int cdir, int ldir, const char *id, uid_t uid, const char *addr);

/* Give an unnamed container the first free md-<user>-<n> (under the lock). */
void registry_pick_name(int cdir, const struct caller *c, char *id, size_t size);
/* Add the running half of the entry (e->pid, e->created … e->command). */
void registry_describe(const char *id, const struct entry *e);
/* Fill e->command from the container's argv. */
void registry_command_line(struct entry *e, char *const *argv);
/* Read a live entry; returns 1 when its helper is alive, 0 otherwise. */
int registry_read(int cdir, const char *name, struct entry *e);
/* The caller's running container called name, its PID 1 pinned by a pidfd
 * returned in *pidfd (root: anyone's). Dies "no such container: NAME" for
 * a name that does not exist, is not running yet, or is another user's:
 * the same words, so names tell nothing (SECURITY.md 27). */
void registry_find(const char *name, const struct caller *c, struct entry *e, int *pidfd);
/* Every live, running entry (the caller's, or all for root): calls fn. */
void registry_each(const struct caller *c, void (*fn)(const struct entry *, void *), void *arg);
/* A process's start time in clock ticks since boot, 0 if it is gone. */
unsigned long long registry_start_time(long pid);

#endif
