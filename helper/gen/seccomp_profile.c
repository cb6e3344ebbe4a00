/* seccomp_profile.c: build tool, not part of mdhelper. Builds the
 * container's system call filter with libseccomp, equal in effect to
 * Docker's default profile (moby profiles/seccomp/default.json) for a
 * container holding Docker's default capabilities (ids.c), and prints it as
 * BPF in a C header that helper/seccomp_filter.c compiles in.
 *
 * Why at build time: libseccomp takes about 1.5 ms to build this filter
 * (measured on the 2-CPU test machine, median of 200), three times the
 * whole start budget of 0.5 ms for seccomp and masks; loading the finished
 * BPF takes microseconds. Compiled in, there is no blob file to install
 * and to trust at run time.
 *
 * MUST (SECURITY.md 45):
 * - everything not on the allowlist fails with EPERM, as in Docker:
 *   keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd,
 *   kexec_*, *_module, acct, swapon/off, reboot, settimeofday,
 *   clock_settime, iopl, ioperm, pivot_root, mount, umount2, the new mount
 *   API (fsopen, fsconfig, fsmount, move_mount, open_tree, fspick,
 *   mount_setattr), unshare, setns, kcmp, pidfd_getfd, open_by_handle_at,
 *   io_uring_* (Docker dropped those in 2023: the ring runs operations that
 *   seccomp never sees, moby#46762), socket(AF_VSOCK), and any personality
 *   but the few Docker lets through;
 * - clone with any namespace flag fails with EPERM, so no nested user
 *   namespace (and through it no nftables: CVE-2022-1015, CVE-2023-32233,
 *   CVE-2024-1086) unless the rule says nested=yes;
 * - clone3 fails with ENOSYS: its flags sit in memory seccomp cannot read,
 *   and ENOSYS (not EPERM) makes the C library fall back to clone, whose
 *   flags it can;
 * - system calls newer than libseccomp's table fail with ENOSYS, as runc
 *   does, so a C library newer than the profile falls back instead of
 *   failing;
 * - only x86_64 system calls: the i386 (int 0x80) and x32 entry points,
 *   historically the less audited way into the kernel, kill the process
 *   (Docker translates its rules for them instead; rootfs here are 64-bit);
 * - ptrace, process_vm_readv/writev are allowed: Docker allows them from
 *   kernel 4.8, where ptrace can no longer skip the filter, and the helper
 *   needs 5.12 or later anyway (close_range, mount_setattr). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what, const char *name)
{
	fprintf(stderr, "seccomp-gen: %s%s\n", what, name);
	exit(1);
}

/* Docker's unconditional allowlist (x86_64 names; the 32-bit-only ones of
 * the profile do not exist here and are left out). */
static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
	"capget", "capset", "chdir", "chmod", "chown", "chroot", "clock_adjtime",
	"clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range",
	"connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
	"epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
	"exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate",
	"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat", "fcntl",
	"fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex", "futex_waitv",
	"futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "geteuid",
	"getgid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
	"getppid", "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit",
	"get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
	"get_thread_area", "gettid", "gettimeofday", "getuid", "getxattr",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "ioprio_get",
	"ioprio_set", "io_setup", "io_submit", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lgetxattr",
	"link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek",
	"lsetxattr", "lstat", "madvise", "membarrier", "memfd_create", "memfd_secret",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
	"mmap", "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
	"mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget",
	"msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
	"name_to_handle_at", "nanosleep", "newfstatat", "open", "openat", "openat2",
	"pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv",
	"preadv2", "prlimit64", "process_mrelease", "process_vm_readv",
	"process_vm_writev", "pselect6", "ptrace", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg",
	"recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
	"sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
	"sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
	"select", "semctl", "semget", "semop", "semtimedop", "sendfile", "sendmmsg",
	"sendmsg", "sendto", "setfsgid", "setfsuid", "setgid", "setgroups", "setitimer",
	"setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid",
	"setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
	"set_tid_address", "setuid", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
	"shutdown", "sigaltstack", "signalfd", "signalfd4", "socketpair", "splice",
	"stat", "statfs", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
	"timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create",
	"timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask",
	"uname", "unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "write", "writev",
};

/* nested=yes: what making and using namespaces takes, as Docker allows it
 * to a container given CAP_SYS_ADMIN, but not bpf, perf, keys or syslog. */
static const char *const nested_extra[] = {
	"unshare", "setns", "mount", "umount2", "pivot_root", "sethostname",
	"setdomainname", "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree",
	"fspick", "mount_setattr",
};

/* personality(2) values Docker lets through: Linux, PER_LINUX32, and the
 * same with UNAME26; 0xffffffff only reads the current value. */
static const unsigned long personalities[] = {
	PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, 0xffffffffUL,
};

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
		  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static void add(scmp_filter_ctx ctx, uint32_t action, const char *name,
		unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		die("no system call ", name);
	if (seccomp_rule_add_array(ctx, action, nr, n, cmp) < 0)
		die("cannot add the rule for ", name);
}

static void add_list(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(ctx, SCMP_ACT_ALLOW, names[i], 0, NULL);
}

static void add_conditional(scmp_filter_ctx ctx, int allow_nested)
{
	struct scmp_arg_cmp vsock = SCMP_A0(SCMP_CMP_NE, AF_VSOCK);
	struct scmp_arg_cmp no_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);

	add(ctx, SCMP_ACT_ALLOW, "socket", 1, &vsock);
	for (size_t i = 0; i < sizeof personalities / sizeof personalities[0]; i++) {
		struct scmp_arg_cmp p = SCMP_A0(SCMP_CMP_EQ, personalities[i]);
		add(ctx, SCMP_ACT_ALLOW, "personality", 1, &p);
	}
	add(ctx, SCMP_ACT_ALLOW, "clone", allow_nested ? 0 : 1, &no_ns);
	add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
}

/* Numbers the kernel may know and libseccomp does not yet: ENOSYS. */
static void add_newer(scmp_filter_ctx ctx)
{
	for (int nr = 435; nr < 512; nr++)
		if (!seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) &&
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0)
			die("cannot add a rule for a newer system call", "");
}

static scmp_filter_ctx build(int allow_nested)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));

	if (!ctx)
		die("cannot make a filter", "");
	/* Only the native arch is in the filter: i386 and x32 calls hit this. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		die("cannot set the filter's attributes", "");
	add_list(ctx, allowed, sizeof allowed / sizeof allowed[0]);
	if (allow_nested)
		add_list(ctx, nested_extra, sizeof nested_extra / sizeof nested_extra[0]);
	add_conditional(ctx, allow_nested);
	add_newer(ctx);
	return ctx;
}

/* The filter's BPF as a C array named name. */
static void print(int allow_nested, const char *name)
{
	scmp_filter_ctx ctx = build(allow_nested);
	struct sock_filter insn;
	FILE *f = tmpfile();
	size_t n = 0;

	if (!f || seccomp_export_bpf(ctx, fileno(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		die("cannot export the filter", "");
	printf("static const struct sock_filter %s[] = {\n", name);
	for (; fread(&insn, sizeof insn, 1, f) == 1; n++)
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", insn.code, insn.jt, insn.jf, insn.k);
	printf("};\n");
	if (n == 0 || n > BPF_MAXINSNS)
		die("the filter has no or too many instructions", "");
	fclose(f);
	seccomp_release(ctx);
}

int main(void)
{
	printf("/* Generated by seccomp-gen from helper/gen/seccomp_profile.c. */\n");
	print(0, "md_filter_default");
	print(1, "md_filter_nested");
	return fflush(stdout) == 0 ? 0 : 1;
}
