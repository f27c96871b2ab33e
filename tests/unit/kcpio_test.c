// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the kernel's cpio newc index, compiled for the host.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fs/kcpio.h"

struct buf {
	char d[8192];
	size_t len;
};

static void add(struct buf *b, const char *name, unsigned mode, const char *data)
{
	size_t dl = strlen(data), nl = strlen(name) + 1;
	b->len += (size_t)snprintf(b->d + b->len, sizeof(b->d) - b->len,
				   "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
				   1u, mode, 0u, 0u, 1u, 0u, dl, 0u, 0u, 0u, 0u, nl, 0u);
	memcpy(b->d + b->len, name, nl);
	b->len += nl;
	while (b->len % 4)
		b->d[b->len++] = 0;
	memcpy(b->d + b->len, data, dl);
	b->len += dl;
	while (b->len % 4)
		b->d[b->len++] = 0;
}

static int rd(void *ctx, uint64_t off, void *out, size_t len)
{
	struct buf *b = ctx;
	if (off > b->len || len > b->len - off)
		return -5;
	memcpy(out, b->d + off, len);
	return 0;
}

struct seen {
	char names[16][64];
	uint64_t sizes[16], offs[16];
	unsigned modes[16];
	int n;
};

static int collect(void *ctx, const struct kcpio_entry *e)
{
	struct seen *s = ctx;
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->name);
	s->sizes[s->n] = e->size;
	s->offs[s->n] = e->data_off;
	s->modes[s->n] = e->mode;
	s->n++;
	return 0;
}

static char namebuf[KCPIO_NAME_MAX + 1];

static void test_walk(void **state)
{
	static struct buf b;
	struct seen s = {0};
	uint64_t bad;
	b.len = 0;
	add(&b, ".", 040755, "");
	add(&b, "./bin", 040755, "");
	add(&b, "/bin/hello", 0100755, "hello!");
	add(&b, "link", 0120777, "bin/hello");
	add(&b, "TRAILER!!!", 0, "");
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), 4);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.names[0], "");
	assert_string_equal(s.names[1], "bin");
	assert_string_equal(s.names[2], "bin/hello");
	assert_int_equal(s.sizes[2], 6);
	assert_memory_equal(b.d + s.offs[2], "hello!", 6);
	assert_int_equal(s.modes[3], 0120777);
	assert_memory_equal(b.d + s.offs[3], "bin/hello", 9);
}

static int stop_at_two(void *ctx, const struct kcpio_entry *e)
{
	int *n = ctx;
	return ++*n == 2 ? 7 : 0;
}

static void test_errors(void **state)
{
	static struct buf b;
	uint64_t bad;
	struct seen s = {0};
	int n = 0;

	b.len = 0;
	add(&b, "a", 0100644, "x");
	/* no trailer */
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), KCPIO_E_NOTRAILER);
	assert_int_equal(bad, b.len);
	/* the callback's code stops the walk */
	add(&b, "b", 0100644, "y");
	add(&b, "TRAILER!!!", 0, "");
	assert_int_equal(kcpio_scan(rd, &b, b.len, stop_at_two, &n, namebuf, &bad), 7);
	/* truncated data */
	assert_int_equal(kcpio_scan(rd, &b, 120, collect, &s, namebuf, &bad), KCPIO_E_NOTRAILER);
	b.len = 0;
	add(&b, "a", 0100644, "0123456789");
	assert_int_equal(kcpio_scan(rd, &b, 115, collect, &s, namebuf, &bad), KCPIO_E_TRUNC);
	/* bad magic, bad hex */
	b.d[0] = 'x';
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), KCPIO_E_MAGIC);
	b.d[0] = '0';
	b.d[20] = 'g';
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), KCPIO_E_FIELD);
	/* name size 0, and a name without its NUL */
	b.len = 0;
	add(&b, "abc", 0100644, "");
	memcpy(b.d + 94, "00000000", 8);
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), KCPIO_E_NAME);
	b.len = 0;
	add(&b, "abc", 0100644, "");
	b.d[110 + 3] = 'x';
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), KCPIO_E_NAME);
	/* a name with an embedded NUL */
	b.len = 0;
	add(&b, "abc", 0100644, "");
	b.d[111] = 0;
	assert_int_equal(kcpio_scan(rd, &b, b.len, collect, &s, namebuf, &bad), KCPIO_E_NAME);
	assert_string_equal(kcpio_strerror(KCPIO_E_NAME), "bad name size or unterminated name");
	/* empty archive */
	assert_int_equal(kcpio_scan(rd, &b, 0, collect, &s, namebuf, &bad), KCPIO_E_NOTRAILER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
