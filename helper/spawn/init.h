/* spawn/init.h: our init (helper/init/mdinit.c) in the container, for
 * `mdrun.sh --init`. */
#ifndef MD_INIT_H
#define MD_INIT_H

/* Where the container sees it: a read-only, nosuid bind mount on a file
 * of the container's own /dev tmpfs, which root made. */
#define INIT_INSIDE "/dev/mdinit"

/* In the child, host root, before the pivot: open the installed init
 * (root's, under root's directories, not writable by group or other:
 * SECURITY.md 18) and bind it, by that fd, read-only, nosuid and nodev,
 * onto a file made in devdir, the staged /dev that becomes the
 * container's. Dies on any failure. */
void init_stage(const char *devdir);

#endif
