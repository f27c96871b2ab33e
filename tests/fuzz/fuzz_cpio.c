// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the kernel's cpio newc index (src/kernel/fs/kcpio.c).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fs/kcpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *d;
	size_t len;
};

static int rd(void *ctx, uint64_t off, void *out, size_t len)
{
	struct mem *m = ctx;
	if (off > m->len || len > m->len - off)
		return -5;
	memcpy(out, m->d + off, len);
	return 0;
}

static int check(void *ctx, const struct kcpio_entry *e)
{
	struct mem *m = ctx;
	/* the kernel reads file data at data_off for size bytes */
	if (e->data_off > m->len || e->size > m->len - e->data_off || e->name[0] == '/')
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char namebuf[KCPIO_NAME_MAX + 1];
	struct mem m = {data, size};
	uint64_t bad;
	kcpio_scan(rd, &m, size, check, &m, namebuf, &bad);
	return 0;
}
