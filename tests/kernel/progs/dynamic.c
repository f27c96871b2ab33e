/* SPDX-License-Identifier: BSD-3-Clause */
/* Built dynamically linked: the kernel must refuse it and name its interpreter. */
#include <stdio.h>

int main(void)
{
	printf("FAIL: a dynamic program ran\n");
	return 0;
}
