// SPDX-License-Identifier: BSD-3-Clause
// Files the unit tests build images from (fixture.h).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "capstan/fs.h"
#include "fixture.h"

void put_le16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

void put_le32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

void put_le64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

void fixture_kernel(const char *path, bool note, uint64_t second_paddr)
{
	unsigned char k[4096] = {0};
	unsigned char *ph = k + 64, *n = k + 1024;

	memcpy(k, "\177ELF", 4);
	k[4] = 2; /* 64-bit */
	k[5] = 1; /* little-endian */
	k[6] = 1;
	put_le16(k + 16, 2);  /* ET_EXEC */
	put_le16(k + 18, 62); /* x86-64 */
	put_le32(k + 20, 1);
	put_le64(k + 32, 64); /* phoff */
	put_le16(k + 52, 64);
	put_le16(k + 54, 56);
	put_le16(k + 56, 3);
	put_le32(ph, 1); /* PT_LOAD */
	put_le64(ph + 16, 0x100000);
	put_le64(ph + 24, 0x100000);
	put_le64(ph + 32, 2048);
	put_le64(ph + 40, 2048);
	ph += 56;
	put_le32(ph, 1); /* PT_LOAD */
	put_le64(ph + 8, 2048);
	put_le64(ph + 24, second_paddr);
	put_le64(ph + 32, 2048);
	ph += 56;
	put_le32(ph, 4); /* PT_NOTE */
	put_le64(ph + 8, 1024);
	put_le64(ph + 32, note ? 20 : 0);
	put_le32(n, 4);
	put_le32(n + 4, 4);
	put_le32(n + 8, 18); /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(n + 12, "Xen", 4);
	put_le32(n + 16, 0x100400);
	assert_int_equal(fs_write_atomic(path, k, sizeof(k), 0644), 0);
}
