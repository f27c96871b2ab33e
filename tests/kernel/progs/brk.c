/* SPDX-License-Identifier: BSD-3-Clause */
/* The program break through the raw brk syscall: grow, touch, shrink. */
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
	uintptr_t want = cur + (4u << 20);

	CHECK(cur != 0);
	CHECK((uintptr_t)syscall(SYS_brk, want) == want);
	for (uintptr_t p = cur; p < want; p += 4096)
		*(volatile char *)p = (char)p;
	for (uintptr_t p = cur; p < want; p += 4096)
		CHECK(*(volatile char *)p == (char)p);
	CHECK((uintptr_t)syscall(SYS_brk, cur + 4096) == cur + 4096);
	CHECK((uintptr_t)syscall(SYS_brk, 0) == cur + 4096);
	CHECK((uintptr_t)syscall(SYS_brk, cur + 8192) == cur + 8192);
	/* below the start of the heap, the break stays where it is */
	CHECK((uintptr_t)syscall(SYS_brk, 4096) == cur + 8192);
	printf("brk: grew and shrank 4 MiB\n");
	return check_done();
}
