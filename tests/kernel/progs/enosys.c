/* SPDX-License-Identifier: BSD-3-Clause */
/* System calls that do not exist return ENOSYS and the program goes on. */
#include <unistd.h>
#include "check.h"

int main(void)
{
	errno = 0;
	CHECK(syscall(1000) == -1 && errno == ENOSYS);
	errno = 0;
	CHECK(syscall(400, 1, 2, 3) == -1 && errno == ENOSYS); /* unassigned on x86-64 */
	printf("enosys: syscall 1000 and 400 -> ENOSYS\n");
	return check_done();
}
