/* fakeids: a student's launcher that makes every credential change a lie
 * before it execs PROG (mdhelper): under a seccomp filter, setuid, setgid,
 * setreuid, setregid, setresuid, setresgid, setfsuid, setfsgid, setgroups
 * and capset return 0 and change nothing. A helper that trusted a return
 * value instead of reading its ids back (SECURITY.md 20) would go on with
 * root's ids where it meant to have dropped them. The kernel lets an
 * unprivileged process install a filter only under no_new_privs, which
 * also keeps a setuid exec from raising anything: the helper must see
 * that it is not root, and refuse.
 *
 * Usage: fakeids PROG [ARG]...
 * Exit: PROG's (exec); 3 when the filter cannot be installed; 4 when exec
 * fails. */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAKE(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0)

int main(int argc, char **argv)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		FAKE(SYS_setuid), FAKE(SYS_setgid), FAKE(SYS_setreuid), FAKE(SYS_setregid),
		FAKE(SYS_setresuid), FAKE(SYS_setresgid), FAKE(SYS_setfsuid),
		FAKE(SYS_setfsgid), FAKE(SYS_setgroups), FAKE(SYS_capset),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof code / sizeof code[0], code };

	if (argc < 2)
		return 2;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("fakeids: seccomp");
		return 3;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 4;
}
