/* seccomp_filter.c: load the container's system call filter (SECURITY.md
 * 45), built at build time by helper/gen/seccomp_profile.c with libseccomp
 * (its MUSTs say what the filter refuses and why it is not built here). */
#define _GNU_SOURCE
#include "seccomp_filter.h"
#include "util.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_bpf.h" /* generated into the build directory */

int seccomp_nested;

void seccomp_apply(int allow_nested)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(allow_nested ?
			sizeof md_filter_nested / sizeof md_filter_nested[0] :
			sizeof md_filter_default / sizeof md_filter_default[0]),
		.filter = (struct sock_filter *)(allow_nested ? md_filter_nested :
						 md_filter_default),
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		die_errno("loading the seccomp filter");
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		die("the seccomp filter is not in force");
}
