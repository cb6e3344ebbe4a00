/* audit.h: the record of every allow and deny (SECURITY.md 37, 49). */
#ifndef MD_AUDIT_H
#define MD_AUDIT_H

#include <sys/types.h>

/* Record an allow or deny decision, as "allow|deny user=NAME uid=N: MSG"
 * with MSG's control bytes escaped, to the journal, else syslog's
 * /dev/log, else MD_AUDITLOG (audit.c). Never fails the caller. */
__attribute__((format(printf, 2, 3))) void audit(int allowed, const char *fmt, ...);

/* Open the destination now, as root with fsuid 0 (main, right after
 * taking every uid of root): later, fsuid may be the caller's. */
void audit_open(void);

/* Called once identity is known, so that audit lines name the caller. */
void util_set_caller(const char *user, uid_t uid);

#endif
