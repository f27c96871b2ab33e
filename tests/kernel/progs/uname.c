/* SPDX-License-Identifier: BSD-3-Clause */
/* System facts: uname, getrlimit, prlimit64, sysinfo, sysconf. */
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	struct utsname u;
	struct rlimit rl;
	struct sysinfo si;

	CHECK(uname(&u) == 0);
	printf("sysname=%s machine=%s\n", u.sysname, u.machine);
	CHECK(strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0);
	CHECK(u.release[0] >= '3' && u.release[0] <= '9' && u.nodename[0] != '\0');
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 64 &&
	      rl.rlim_cur <= rl.rlim_max);
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur >= 64 * 1024);
	CHECK(prlimit(0, RLIMIT_STACK, NULL, &rl) == 0 && rl.rlim_cur >= 64 * 1024);
	CHECK(sysinfo(&si) == 0 && si.mem_unit >= 1);
	CHECK((unsigned long long)si.totalram * si.mem_unit >= (4ull << 20));
	CHECK(si.freeram <= si.totalram && si.procs >= 1);
	CHECK(sysconf(_SC_PAGESIZE) == 4096);
	CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 1);
	return check_done();
}
