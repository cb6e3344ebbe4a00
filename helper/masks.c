/* masks.c: hide what a container has no business reading in /proc and
 * /sys, and freeze what it has no business writing, as runc does by
 * default (its maskedPaths and readonlyPaths).
 *
 * MUST (SECURITY.md 46):
 * - masked: /proc/acpi, kcore, keys, latency_stats, timer_list,
 *   timer_stats, sched_debug, scsi, interrupts, iomem, ioports, kallsyms,
 *   config.gz, /sys/firmware, /sys/devices/virtual/powercap: they leak
 *   kernel addresses and memory (kcore, kallsyms, iomem: KASLR), the host's
 *   keys and hardware, or timing side channels (interrupts, CVE-2020-0543's
 *   class), and powercap's energy counters (Platypus, CVE-2020-8694);
 * - read-only: /proc/bus, fs, irq, sys, sysrq-trigger;
 * - every target is opened O_PATH|O_NOFOLLOW relative to the fresh proc or
 *   sysfs mount and mounted onto by fd (move_mount), never by a path a
 *   symlink could redirect: nothing of the caller's rootfs is involved;
 * - the covers are mounted read-only, nosuid, noexec, and nodev but for
 *   /dev/null's own bind. */
#define _GNU_SOURCE
#include "masks.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const proc_masked[] = {
	"acpi", "kcore", "keys", "latency_stats", "timer_list", "timer_stats",
	"sched_debug", "scsi", "interrupts", "iomem", "ioports", "kallsyms", "config.gz",
};
static const char *const sys_masked[] = { "firmware", "devices/virtual/powercap" };
static const char *const proc_read_only[] = { "bus", "fs", "irq", "sys", "sysrq-trigger" };

#define COVER_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | \
		     MOUNT_ATTR_NOEXEC)

/* A detached read-only cover: a bind of /dev/null for a file, an empty
 * tmpfs for a directory. A fresh one each time: a detached mount cannot be
 * cloned on the kernels we support (open_tree wants it in our namespace). */
static int make_cover(int dir)
{
	/* Not nodev: it would make /dev/null itself unopenable, and a masked
	 * file must read as empty, as under runc. */
	struct mount_attr attr = { .attr_set = COVER_ATTRS & ~MOUNT_ATTR_NODEV };
	AUTOCLOSE int fs = -1;
	int fd;

	if (!dir) {
		fd = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (fd >= 0 && mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	return fsmount(fs, FSMOUNT_CLOEXEC, COVER_ATTRS);
}

/* An fd of dir/name, or -1 if this kernel has no such entry. The name's
 * last component is never a symlink; the ones before it (devices/virtual)
 * are the kernel's own, in a sysfs mount nobody else has seen yet. */
static int open_target(int dirfd, const char *dir, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 || fstat(fd, st) < 0)
		die_errno("open(\"%s/%s\")", dir, name);
	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))
		die("%s/%s is neither a file nor a directory", dir, name);
	return fd;
}

static void mask(int dirfd, const char *dir, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		AUTOCLOSE int fd = open_target(dirfd, dir, names[i], &st);
		AUTOCLOSE int cover = -1;

		if (fd < 0)
			continue;
		cover = make_cover(S_ISDIR(st.st_mode));
		if (cover < 0 || move_mount(cover, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH |
					    MOVE_MOUNT_T_EMPTY_PATH) < 0)
			die_errno("masking %s/%s", dir, names[i]);
	}
}

/* A read-only bind of dir/name onto itself. */
static void read_only(int dirfd, const char *dir, const char *name)
{
	struct mount_attr attr = { .attr_set = COVER_ATTRS };
	struct stat st;
	AUTOCLOSE int fd = open_target(dirfd, dir, name, &st);
	AUTOCLOSE int copy = -1;

	if (fd < 0)
		return;
	copy = open_tree(fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | AT_RECURSIVE |
			 OPEN_TREE_CLOEXEC);
	if (copy < 0 || mount_setattr(copy, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
				      sizeof attr) < 0 ||
	    move_mount(copy, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_errno("making %s/%s read-only", dir, name);
}

static int open_mount(const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die_errno("open(\"%s\")", path);
	return fd;
}

void masks_apply(const char *proc, const char *sys)
{
	AUTOCLOSE int procfd = open_mount(proc);
	AUTOCLOSE int sysfd = open_mount(sys);

	mask(procfd, "/proc", proc_masked, sizeof proc_masked / sizeof proc_masked[0]);
	mask(sysfd, "/sys", sys_masked, sizeof sys_masked / sizeof sys_masked[0]);
	for (size_t i = 0; i < sizeof proc_read_only / sizeof proc_read_only[0]; i++)
		read_only(procfd, "/proc", proc_read_only[i]);
}
