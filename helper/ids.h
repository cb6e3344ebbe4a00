/* ids.h: who the caller is, their subordinate ids, the user namespace maps,
 * and the one-way drop to the container's credentials. */
#ifndef MD_IDS_H
#define MD_IDS_H

#include <sys/types.h>

#define IDS_MAX_GROUPS 256

struct caller {
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[1024];
	gid_t groups[IDS_MAX_GROUPS];
	int ngroups;
	unsigned long subuid_start, subuid_count; /* count 0: none */
	unsigned long subgid_start, subgid_count;
};

/* From the kernel's credentials (real uid/gid, supplementary groups) and the
 * password database; dies if the caller has no passwd entry. */
void caller_identify(struct caller *c);
/* Is gid the caller's primary or one of their supplementary groups? */
int caller_in_group(const struct caller *c, gid_t gid);
/* Read the caller's range from /etc/subuid and /etc/subgid, if any. */
void caller_subids(struct caller *c);

/* Parent: write setgroups, uid_map, gid_map of the child's user namespace:
 * only the caller's ids and their subordinate ranges (SECURITY.md 36). */
void write_id_maps(pid_t child, const struct caller *c);
/* Child, after the maps: become uid/gid 0 of the namespace (the caller on
 * the host), keep Docker's default capabilities there and nothing else
 * (inheritable and ambient empty, securebits locked), verify every id
 * (SECURITY.md 19-20, 47). Without setgroups_allowed the supplementary
 * groups the process holds are kept (SECURITY.md 48). */
void become_container_root(int setgroups_allowed);
/* --user: are uid and gid mapped in the container (0, or within the
 * caller's subordinate range as the maps put it, 1..count)? Dies with one
 * line saying what is mapped when not. */
void check_user_mapped(const struct caller *c, const char *opt, uid_t uid, gid_t gid);
/* Child, after become_container_root: drop to uid/gid of the namespace.
 * A non-zero uid keeps no capability (effective, permitted, inheritable,
 * ambient: verified); the bounding set stays Docker's default, which
 * no_new_privs makes unreachable. */
void become_container_user(uid_t uid, gid_t gid, int groups_dropped);
/* Child of a root caller with --userns host: stay uid 0 but keep only
 * Docker's default capabilities, bounding set included. */
void restrict_host_root(void);

#endif
