// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the kernel's ELF executable checks, compiled for the host.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kelf.h"

static unsigned char img[4096];

static void w16(size_t off, uint16_t v)
{
	memcpy(img + off, &v, 2);
}
static void w32(size_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}
static void w64(size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static void phdr(int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t filesz, uint64_t memsz)
{
	size_t p = 64 + 56u * (unsigned)i;
	w32(p, type);
	w32(p + 4, flags);
	w64(p + 8, off);
	w64(p + 16, vaddr);
	w64(p + 24, vaddr);
	w64(p + 32, filesz);
	w64(p + 40, memsz);
	w64(p + 48, 4096);
}

/* A static ET_EXEC at 0x400000: text (headers included) and data+bss. */
static void make(uint16_t type, uint64_t base, int phnum)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 2, img[5] = 1, img[6] = 1;
	w16(16, type);
	w16(18, 62);
	w32(20, 1);
	w64(24, base + 0x100);
	w64(32, 64);
	w16(52, 64);
	w16(54, 56);
	w16(56, (uint16_t)phnum);
	phdr(0, 1, 5, 0, base, 0x800, 0x800);
	phdr(1, 1, 6, 0x800, base + 0x1800, 0x100, 0x3000);
	if (phnum > 2)
		phdr(2, 0x6474e551, 6, 0, 0, 0, 0);
}

static struct kelf_info info;

static void test_exec_and_pie(void **state)
{
	make(2, 0x400000, 3);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), 0);
	assert_false(info.pie);
	assert_int_equal(info.nload, 2);
	assert_int_equal(info.lo, 0x400000);
	assert_int_equal(info.hi, 0x405000);
	assert_int_equal(info.phdr_vaddr, 0x400040);
	assert_int_equal(info.entry, 0x400100);
	assert_int_equal(info.interp_size, 0);
	assert_false(info.exec_stack);

	make(3, 0, 2);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), 0);
	assert_true(info.pie);
	assert_int_equal(info.lo, 0);
}

static void test_interp_reported(void **state)
{
	make(3, 0, 3);
	phdr(2, 3, 4, 0x400, 0x400, 28, 28);
	memcpy(img + 0x400, "/lib64/ld-linux-x86-64.so.2", 28);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), 0);
	assert_int_equal(info.interp_off, 0x400);
	assert_int_equal(info.interp_size, 28);
	phdr(2, 3, 4, 0x1000, 0x400, 28, 28);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_SEGMENT);
}

static void test_errors(void **state)
{
	make(2, 0x400000, 2);
	assert_int_equal(kelf_check(img, 10, sizeof(img), &info), KELF_E_SHORT);
	assert_int_equal(kelf_check(img, 100, sizeof(img), &info),
			 KELF_E_SHORT); /* headers past the buffer */
	assert_int_equal(kelf_check(img, 100, 100, &info), KELF_E_PHDR); /* and past the file */
	img[0] = 'x';
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_MAGIC);
	make(2, 0x400000, 2);
	img[4] = 1;
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_CLASS);
	make(2, 0x400000, 2);
	w16(18, 3);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_CLASS);
	make(1, 0x400000, 2);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_TYPE);
	make(2, 0x400000, 2);
	w16(54, 32);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_PHDR);
	make(2, 0x400000, 0);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_PHDR);
	/* a segment past the end of the file, filesz > memsz, misaligned, kernel half, page zero */
	make(2, 0x400000, 2);
	phdr(1, 1, 6, 0x800, 0x401800, 0x1000, 0x3000);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_SEGMENT);
	make(2, 0x400000, 2);
	phdr(1, 1, 6, 0x800, 0x401800, 0x100, 0x10);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_SEGMENT);
	make(2, 0x400000, 2);
	phdr(1, 1, 6, 0x800, 0x401900, 0x100, 0x100);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_SEGMENT);
	make(2, 0x400000, 2);
	phdr(1, 1, 6, 0x800, 0xffff800000000800ull, 0x100, 0x100);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_SEGMENT);
	make(2, 0, 2);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_SEGMENT);
	/* entry outside, no PT_LOAD */
	make(2, 0x400000, 2);
	w64(24, 0x900000);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_ENTRY);
	make(2, 0x400000, 2);
	phdr(0, 4, 0, 0, 0, 0, 0);
	phdr(1, 4, 0, 0, 0, 0, 0);
	assert_int_equal(kelf_check(img, sizeof(img), sizeof(img), &info), KELF_E_NOLOAD);
	assert_string_equal(kelf_strerror(KELF_E_NOLOAD), "no loadable segment");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exec_and_pie),
	    cmocka_unit_test(test_interp_reported),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
