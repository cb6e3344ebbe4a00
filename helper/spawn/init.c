/* spawn/init.c: put our init where the container can run it, without
 * trusting the rootfs for anything.
 *
 * MUST:
 * - the binary is the installed one, checked like mdmonitor and mdnet.sh
 *   (root's, every directory above it root's, none writable by group or
 *   other, no symlink: SECURITY.md 18) and mounted from the fd that was
 *   checked, never looked up again by path;
 * - the file it is mounted on is made by root in the staged /dev, a
 *   tmpfs only this mount namespace sees, never in the caller's rootfs
 *   (SECURITY.md 17, 31);
 * - the mount is read-only, nosuid and nodev: container root, which holds
 *   no CAP_SYS_ADMIN over the host-owned mount namespace, can neither
 *   write the file (read-only, and owned by an unmapped uid), nor unlink,
 *   rename or unmount it (the /dev directory is not its own, and it is a
 *   mount point): the init a container runs is ours (CVE-2019-5736 is the
 *   same lesson for the runtime's own binary);
 * - no fd of ours reaches the command: the fd is closed here, before the
 *   pivot (SECURITY.md 25). */
#define _GNU_SOURCE
#include "spawn/init.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* A regular, executable file, no set-id bit (the mount is nosuid anyway:
 * a set-id init means someone changed what make install put there). */
static void check_init(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		die_errno("fstat(\"%s\")", MD_INIT);
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXOTH))
		die("%s is not an executable file (--init needs it: see INSTALL)", MD_INIT);
	if (st.st_mode & (S_ISUID | S_ISGID))
		die("%s is set-id: refused (it must be mode 755)", MD_INIT);
}

void init_stage(const char *devdir)
{
	AUTOCLOSE int bin = open_trusted(MD_INIT, O_PATH, "cannot find the init (--init)");
	AUTOCLOSE int file = -1;
	char src[64], dst[256];

	check_init(bin);
	xsnprintf(dst, sizeof dst, "%s/%s", devdir, INIT_INSIDE + sizeof "/dev/" - 1);
	file = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0555);
	if (file < 0)
		die_errno("creating %s", INIT_INSIDE);
	/* The mount's source is the fd we checked (the path is not looked up again). */
	xsnprintf(src, sizeof src, "/proc/self/fd/%d", bin);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		die_errno("bind-mounting %s", INIT_INSIDE);
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) < 0)
		die_errno("remounting %s read-only", INIT_INSIDE);
}
