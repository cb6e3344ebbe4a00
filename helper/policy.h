/* policy.h: the caller's rule, and a request checked against it. */
#ifndef MD_POLICY_H
#define MD_POLICY_H

#include "config.h"
#include "ids.h"
#include "core/request.h"

/* The last rule matching the caller; dies if it is a deny or none matches. */
const struct rule *policy_rule(const struct config *cfg, const struct caller *c);
/* Dies naming the rule's line if the request asks for more than it grants. */
void policy_check(const struct config *cfg, const struct rule *r,
		  const struct caller *c, const struct request *req);
/* Is path inside one of the rule's rootfs directories? */
int policy_rootfs_allowed(const struct rule *r, const struct caller *c, const char *path);
/* May containers under this rule make user namespaces (nested=yes and a
 * host that allows them to unprivileged users, or nested=force)? */
int policy_nested(const struct rule *r);
/* `mdhelper check`: print what the rule grants, for people. */
void policy_print(const struct config *cfg, const struct rule *r, const struct caller *c);

#endif
