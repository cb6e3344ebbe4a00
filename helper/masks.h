/* masks.h: the /proc and /sys paths runc masks or makes read-only. */
#ifndef MD_MASKS_H
#define MD_MASKS_H

/* Over a fresh proc mount at proc and a fresh sysfs mount at sys, both
 * in the helper's root-only staging tree: /dev/null over each masked file,
 * an empty read-only tmpfs over each masked directory, a read-only bind
 * over each read-only path (SECURITY.md 46). Paths the kernel lacks are
 * skipped; anything else that fails dies. */
void masks_apply(const char *proc, const char *sys);

#endif
