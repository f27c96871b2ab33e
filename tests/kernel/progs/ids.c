/* SPDX-License-Identifier: BSD-3-Clause */
/* Process identity: getpid, gettid, getppid and the user and group ids. */
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	pid_t pid = getpid();

	CHECK(pid > 0);
	CHECK(syscall(SYS_gettid) == pid);
	CHECK(getppid() >= 0 && getppid() != pid);
	printf("uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
	       (int)getegid());
	CHECK(getpid() == pid);
	return check_done();
}
