/* mount.c: the container's filesystem view.
 *
 * MUST:
 * - make the host's / rprivate before any mount, so nothing propagates back
 *   and the host's mountinfo is the same before and after (SECURITY.md 30);
 * - pivot_root, then detach the old root, before mounting anything at a path
 *   inside the rootfs: a symlink in the rootfs can then only point inside it
 *   (SECURITY.md 31, CVE-2019-19921);
 * - refuse a rootfs whose /proc, /dev or /sys is not a plain directory, and
 *   mount on the directory we checked (fchdir + "."), not on a name looked
 *   up again (SECURITY.md 32, CVE-2025-31133);
 * - fresh /proc nosuid,nodev,noexec with /proc/sys and sysrq-trigger
 *   read-only; /dev a fresh tmpfs with only null zero full random urandom
 *   tty and a new devpts instance; /sys read-only; the rootfs itself
 *   nosuid,nodev (SECURITY.md 33). */
#define _GNU_SOURCE
#include "mount.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Keep the restrictions the rootfs's own mount already has (a home mounted
 * noexec stays noexec inside). */
static unsigned long inherited_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (fstatvfs(fd, &sv) < 0)
		die_errno("statvfs of the rootfs");
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

static void enter_rootfs(int rootfd, int read_only)
{
	char src[64];
	unsigned long flags = MS_NOSUID | MS_NODEV | inherited_flags(rootfd);

	if (read_only)
		flags |= MS_RDONLY;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_errno("making / private");
	/* The source is the fd we checked: the path is never looked up again. */
	xsnprintf(src, sizeof src, "/proc/self/fd/%d", rootfd);
	if (mount(src, MD_RUNDIR, NULL, MS_BIND, NULL) < 0)
		die_errno("bind-mounting the rootfs");
	if (mount(NULL, MD_RUNDIR, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		die_errno("remounting the rootfs nosuid,nodev");
	if (chdir(MD_RUNDIR) < 0)
		die_errno("chdir to the rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno("pivot_root");
	/* The old root is stacked under the new one: detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		die_errno("detaching the host's root");
	if (chdir("/") < 0)
		die_errno("chdir(\"/\")");
}

/* cwd := the rootfs's directory NAME, which must be a real directory. */
static int enter_mountpoint(const char *name, int required)
{
	AUTOCLOSE int fd = open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && !required && errno == ENOENT)
		return 0;
	if (fd < 0)
		die("the rootfs has no %s directory", name);
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		die("the rootfs's %s is not a directory (a symlink is refused)", name);
	if (fchdir(fd) < 0)
		die_errno("chdir(\"%s\")", name);
	return 1;
}

static void mount_here(const char *what, const char *type, unsigned long flags,
		       const char *data)
{
	if (mount(what, ".", type, flags, data) < 0)
		die_errno("mounting %s", what);
	if (chdir("/") < 0)
		die_errno("chdir(\"/\")");
}

static void read_only_bind(const char *path)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return; /* e.g. no sysrq-trigger in this kernel: nothing to guard */
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
		  MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_errno("making %s read-only", path);
}

static void mount_proc(void)
{
	enter_mountpoint("/proc", 1);
	mount_here("proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	read_only_bind("/proc/sys");
	read_only_bind("/proc/sysrq-trigger");
}

static void make_node(const char *name, unsigned maj, unsigned min)
{
	if (mknod(name, S_IFCHR | 0666, makedev(maj, min)) < 0)
		die_errno("mknod(\"/dev/%s\")", name);
	if (chmod(name, 0666) < 0) /* umask */
		die_errno("chmod(\"/dev/%s\")", name);
}

static void mount_dev(void)
{
	static const struct { const char *name; unsigned maj, min; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};

	enter_mountpoint("/dev", 1);
	if (mount("tmpfs", ".", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=256k") < 0)
		die_errno("mounting tmpfs on /dev");
	if (chdir("/dev") < 0) /* onto the new tmpfs */
		die_errno("chdir(\"/dev\")");
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		make_node(nodes[i].name, nodes[i].maj, nodes[i].min);
	if (mkdir("pts", 0755) < 0 || mkdir("shm", 01777) < 0 || chmod("shm", 01777) < 0)
		die_errno("mkdir in /dev");
	if (mount("devpts", "pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		die_errno("mounting devpts");
	if (mount("shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777") < 0)
		die_errno("mounting /dev/shm");
	if (symlink("pts/ptmx", "ptmx") < 0 || symlink("/proc/self/fd", "fd") < 0 ||
	    symlink("/proc/self/fd/0", "stdin") < 0 || symlink("/proc/self/fd/1", "stdout") < 0 ||
	    symlink("/proc/self/fd/2", "stderr") < 0)
		die_errno("symlink in /dev");
	if (chdir("/") < 0)
		die_errno("chdir(\"/\")");
}

static void mount_sys(void)
{
	enter_mountpoint("/sys", 1);
	mount_here("sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* A shared read-only rootfs still needs somewhere to write. */
static void mount_scratch(uid_t owner, gid_t group)
{
	static const struct { const char *path; const char *mode; } dirs[] = {
		{ "/tmp", "1777" }, { "/var/tmp", "1777" }, { "/run", "0755" },
	};
	char opts[128];

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!enter_mountpoint(dirs[i].path, 0))
			continue;
		xsnprintf(opts, sizeof opts, "mode=%s,uid=%u,gid=%u,size=64m", dirs[i].mode,
			  (unsigned)owner, (unsigned)group);
		mount_here("tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, opts);
	}
}

void mount_container(int rootfd, int read_only, uid_t owner, gid_t group)
{
	enter_rootfs(rootfd, read_only);
	mount_proc();
	mount_dev();
	mount_sys();
	if (read_only)
		mount_scratch(owner, group);
}
