/* seccomp_filter.h: the container's system call filter (SECURITY.md 45).
 * Not seccomp.h: that name is libseccomp's, and the unit and fuzz builds
 * put helper/ first on the include path. */
#ifndef MD_SECCOMP_FILTER_H
#define MD_SECCOMP_FILTER_H

/* Load the filter, equal in effect to Docker's default profile, into the
 * calling process (no_new_privs must be set). allow_nested: also let it
 * make namespaces and mount in them (a rule's nested=yes, policy.h).
 * Dies if the filter cannot be loaded. */
void seccomp_apply(int allow_nested);

/* Set once after the caller's rule is known (main.c); read by the child
 * just before exec. 0 unless the rule says nested=yes and the host allows
 * unprivileged user namespaces (policy_nested). */
extern int seccomp_nested;

#endif
