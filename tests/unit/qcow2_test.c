// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the qcow2 backend, checked against QEMU's own qemu-img.
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/proc.h"
#include "capstan/str.h"

static char tmpdir[] = "/tmp/qcow2-test.XXXXXX";

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* Run a command line through sh, return its status; output kept in out if given. */
static int sh(struct strbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(struct strbuf *out, const char *fmt, ...)
{
	struct strbuf cmd = STRBUF_INIT;
	struct strbuf tmp = STRBUF_INIT;
	va_list ap;
	char *line;
	int ret;

	va_start(ap, fmt);
	line = NULL;
	if (vasprintf(&line, fmt, ap) < 0)
		abort();
	va_end(ap);
	sb_adds(&cmd, line);
	const char *argv[] = {"/bin/sh", "-c", cmd.buf, NULL};
	ret = proc_run(argv, NULL, out ? out : &tmp);
	if (ret != 0 && !out)
		fprintf(stderr, "command failed (%d): %s\n%s", ret, line, tmp.buf ? tmp.buf : "");
	sb_release(&tmp);
	sb_release(&cmd);
	free(line);
	return ret;
}

static bool have_qemu_img(void)
{
	return sh(NULL, "command -v qemu-img >/dev/null") == 0;
}

/* qemu-img check: no errors, no leaks. */
static void assert_checks(const char *path)
{
	struct strbuf out = STRBUF_INIT;
	int ret = sh(&out, "qemu-img check -f qcow2 '%s' 2>&1", path);

	if (ret != 0 || strstr(out.buf, "leaked") || strstr(out.buf, "ERROR"))
		fail_msg("qemu-img check %s (exit %d):\n%s", path, ret, out.buf);
	sb_release(&out);
}

static void assert_same(const char *a, const char *b)
{
	struct strbuf out = STRBUF_INIT;
	int ret = sh(&out, "qemu-img compare '%s' '%s' 2>&1", a, b);

	if (ret != 0 || !strstr(out.buf, "Images are identical"))
		fail_msg("qemu-img compare %s %s (exit %d):\n%s", a, b, ret, out.buf);
	sb_release(&out);
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* xorshift64*: reproducible pseudo-random data for a given seed */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void fill(unsigned char *buf, size_t len, uint64_t *s)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(rnd(s) >> 56);
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	fs_rm_rf(tmpdir);
	return 0;
}

static void test_lazy_allocation(void **state)
{
	char *q = tpath("lazy.qcow2"), *r = tpath("lazy.raw");
	struct disk *dq = NULL, *dr = NULL;
	uint64_t seed = 42;
	size_t len = 300 * 1024;
	unsigned char *buf = xmalloc(len);

	fill(buf, len, &seed);
	assert_int_equal(disk_qcow2_create(&dq, q, 1ull << 30, NULL), 0);
	assert_int_equal(disk_raw_create(&dr, r, 1ull << 30), 0);
	assert_int_equal(disk_size(dq), 1ull << 30);
	assert_string_equal(dq->format, "qcow2");
	assert_int_equal(disk_write(dq, buf, len, 0), 0);
	assert_int_equal(disk_write(dr, buf, len, 0), 0);
	/* zeros written into unallocated space stay unallocated */
	memset(buf, 0, len);
	assert_int_equal(disk_write(dq, buf, len, 512ull << 20), 0);
	assert_int_equal(disk_flush(dq), 0);
	disk_close(dq);
	disk_close(dr);
	/* 300 KiB of data: 5 data clusters + header, refcounts, L1, one L2 */
	uint64_t sz = file_bytes(q);
	assert_true(sz >= len);
	assert_true(sz <= len + 6 * 65536);
	if (have_qemu_img()) {
		assert_checks(q);
		assert_same(q, r);
	}
	free(buf);
	free(q);
	free(r);
}

/* The same seeded random writes through qcow2 and raw read back identically. */
static void random_writes(unsigned cluster_bits, uint64_t seed)
{
	char *q = tpath("rnd.qcow2"), *r = tpath("rnd.raw");
	struct disk_qcow2_opts o = {.cluster_bits = cluster_bits};
	struct disk *dq = NULL, *dr = NULL;
	const uint64_t size = 64ull << 20 | 12345; /* not a cluster multiple */
	const size_t maxlen = 300000;
	unsigned char *buf = xmalloc(maxlen), *a = xmalloc(maxlen), *b = xmalloc(maxlen);

	assert_int_equal(disk_qcow2_create(&dq, q, size, &o), 0);
	assert_int_equal(disk_raw_create(&dr, r, size), 0);
	for (int i = 0; i < 400; i++) {
		size_t len = (size_t)(rnd(&seed) % maxlen) + 1;
		uint64_t off = rnd(&seed) % (size - len);
		if (i % 7 == 0)
			off &= ~65535ull; /* cluster-aligned runs too */
		if (i % 5 == 0)
			memset(buf, 0, len);
		else
			fill(buf, len, &seed);
		assert_int_equal(disk_write(dq, buf, len, off), 0);
		assert_int_equal(disk_write(dr, buf, len, off), 0);
		if (i % 50 == 0) {
			/* reopen half way: what was flushed is what is read */
			assert_int_equal(disk_flush(dq), 0);
			disk_close(dq);
			assert_int_equal(disk_qcow2_open(&dq, q, DISK_RDWR), 0);
		}
		off = rnd(&seed) % (size - len);
		assert_int_equal(disk_read(dq, a, len, off), 0);
		assert_int_equal(disk_read(dr, b, len, off), 0);
		assert_memory_equal(a, b, len);
	}
	/* a full read-back, 1 MiB at a time */
	for (uint64_t off = 0; off < size; off += maxlen) {
		size_t len = size - off < maxlen ? (size_t)(size - off) : maxlen;
		assert_int_equal(disk_read(dq, a, len, off), 0);
		assert_int_equal(disk_read(dr, b, len, off), 0);
		assert_memory_equal(a, b, len);
	}
	assert_int_equal(disk_flush(dq), 0);
	disk_close(dq);
	disk_close(dr);
	if (have_qemu_img()) {
		assert_checks(q);
		assert_same(q, r);
	}
	unlink(q);
	unlink(r);
	free(buf);
	free(a);
	free(b);
	free(q);
	free(r);
}

static void test_random_writes_64k(void **state)
{
	random_writes(16, 0x1234567);
}

static void test_random_writes_512(void **state)
{
	random_writes(9, 0xabcdef);
}

static void test_random_writes_2m(void **state)
{
	random_writes(21, 77);
}

/* Compare every byte of a disk with a raw file. */
static void assert_reads_as(struct disk *d, const char *raw)
{
	struct disk *dr = NULL;
	const size_t chunk = 1 << 20;
	unsigned char *a = xmalloc(chunk), *b = xmalloc(chunk);

	assert_int_equal(disk_raw_open(&dr, raw, DISK_RDONLY), 0);
	assert_int_equal(disk_size(d), disk_size(dr));
	for (uint64_t off = 0; off < disk_size(d); off += chunk) {
		size_t len = disk_size(d) - off < chunk ? (size_t)(disk_size(d) - off) : chunk;
		assert_int_equal(disk_read(d, a, len, off), 0);
		assert_int_equal(disk_read(dr, b, len, off), 0);
		assert_memory_equal(a, b, len);
	}
	disk_close(dr);
	free(a);
	free(b);
}

/* A raw file with random, text-like (compressible) and zero regions. */
static void make_raw(const char *path, uint64_t size, uint64_t seed)
{
	struct disk *d = NULL;
	unsigned char *buf = xmalloc(1 << 20);

	assert_int_equal(disk_raw_create(&d, path, size), 0);
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		size_t len = size - off < (1 << 20) ? (size_t)(size - off) : (1 << 20);
		switch ((off >> 20) % 4) {
		case 0:
			fill(buf, len, &seed);
			break;
		case 1:
			for (size_t i = 0; i < len; i++)
				buf[i] = "capstan builds images "[i % 22];
			break;
		case 2:
			continue;
		default:
			fill(buf, len / 3, &seed);
			memset(buf + len / 3, 0, len - len / 3);
		}
		assert_int_equal(disk_write(d, buf, len, off), 0);
	}
	disk_close(d);
	free(buf);
}

static void test_reads_qemu_images(void **state)
{
	char *r = tpath("q.raw"), *q3 = tpath("q3.qcow2"), *q2 = tpath("q2.qcow2"),
	     *qc = tpath("qc.qcow2"), *qs = tpath("qs.qcow2");
	struct disk *d = NULL;

	if (!have_qemu_img())
		skip();
	make_raw(r, (9ull << 20) + 4096, 5);
	assert_int_equal(sh(NULL, "qemu-img convert -f raw -O qcow2 '%s' '%s'", r, q3), 0);
	assert_int_equal(
	    sh(NULL, "qemu-img convert -f raw -O qcow2 -o compat=0.10 '%s' '%s'", r, q2), 0);
	assert_int_equal(sh(NULL, "qemu-img convert -c -f raw -O qcow2 '%s' '%s'", r, qc), 0);
	assert_int_equal(
	    sh(NULL, "qemu-img convert -f raw -O qcow2 -o cluster_size=4096 '%s' '%s'", r, qs), 0);
	const char *imgs[] = {q3, q2, qc, qs};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(disk_open(&d, imgs[i], DISK_RDONLY), 0);
		assert_string_equal(d->format, "qcow2");
		assert_reads_as(d, r);
		disk_close(d);
	}
	/* writing over compressed clusters frees them: no leaks */
	assert_int_equal(disk_open(&d, qc, DISK_RDWR), 0);
	unsigned char *buf = xmalloc(200000);
	uint64_t seed = 3;
	struct disk *dr = NULL;
	assert_int_equal(disk_raw_open(&dr, r, DISK_RDWR), 0);
	for (int i = 0; i < 40; i++) {
		size_t len = (size_t)(rnd(&seed) % 200000) + 1;
		uint64_t off = rnd(&seed) % (disk_size(d) - len);
		if (i % 4 == 0)
			memset(buf, 0, len);
		else
			fill(buf, len, &seed);
		assert_int_equal(disk_write(d, buf, len, off), 0);
		assert_int_equal(disk_write(dr, buf, len, off), 0);
	}
	disk_close(dr);
	assert_reads_as(d, r);
	assert_int_equal(disk_flush(d), 0);
	disk_close(d);
	assert_checks(qc);
	assert_same(qc, r);
	free(buf);
	free(r);
	free(q3);
	free(q2);
	free(qc);
	free(qs);
}

static void test_backing_files(void **state)
{
	char *r = tpath("b.raw"), *base = tpath("base.qcow2"), *ov = tpath("ov.qcow2"),
	     *exp = tpath("exp.raw"), *qov = tpath("qov.qcow2"), *rov = tpath("rov.qcow2");
	struct disk_qcow2_opts o = {.backing = "base.qcow2", .backing_format = "qcow2"};
	struct disk *d = NULL, *src = NULL, *e = NULL;
	unsigned char buf[70000];
	uint64_t seed = 9;

	if (!have_qemu_img())
		skip();
	make_raw(r, 6ull << 20, 11);
	/* the base written by us */
	assert_int_equal(disk_raw_open(&src, r, DISK_RDONLY), 0);
	assert_int_equal(disk_qcow2_create(&d, base, disk_size(src), NULL), 0);
	assert_int_equal(disk_copy(d, src), 0);
	assert_int_equal(disk_flush(d), 0);
	disk_close(d);
	disk_close(src);
	assert_checks(base);
	assert_same(base, r);

	/* an overlay: O(1) to create, size taken from the base */
	assert_int_equal(disk_qcow2_create(&d, ov, 0, &o), 0);
	assert_int_equal(disk_size(d), 6ull << 20);
	assert_true(file_bytes(ov) <= 4 * 65536);
	assert_int_equal(sh(NULL, "cp '%s' '%s'", r, exp), 0);
	assert_int_equal(disk_raw_open(&e, exp, DISK_RDWR), 0);
	for (int i = 0; i < 60; i++) {
		size_t len = (size_t)(rnd(&seed) % sizeof(buf)) + 1;
		uint64_t off = rnd(&seed) % (disk_size(d) - len);
		if (i % 6 == 0)
			memset(buf, 0, len);
		else
			fill(buf, len, &seed);
		assert_int_equal(disk_write(d, buf, len, off), 0);
		assert_int_equal(disk_write(e, buf, len, off), 0);
	}
	disk_close(e);
	assert_reads_as(d, exp);
	assert_int_equal(disk_flush(d), 0);
	disk_close(d);
	assert_checks(ov);
	assert_same(ov, exp);
	/* the base is untouched */
	assert_same(base, r);

	/* an overlay QEMU made, over our base, written by us */
	assert_int_equal(
	    sh(NULL, "cd '%s' && qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 qov.qcow2",
	       tmpdir),
	    0);
	assert_int_equal(disk_open(&d, qov, DISK_RDWR), 0);
	assert_reads_as(d, r);
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(disk_write(d, buf, sizeof(buf), 1000), 0);
	disk_close(d);
	assert_checks(qov);
	/* over a raw base, overlay made by us, read by QEMU */
	struct disk_qcow2_opts ro = {.backing = r, .backing_format = NULL};
	assert_int_equal(disk_qcow2_create(&d, rov, 0, &ro), 0);
	assert_int_equal(disk_write(d, buf, 100, 65500), 0);
	disk_close(d);
	assert_checks(rov);
	assert_int_equal(sh(NULL, "qemu-img info '%s' | grep -q 'backing file format: raw'", rov),
			 0);
	free(r);
	free(base);
	free(ov);
	free(exp);
	free(qov);
	free(rov);
}

/* Write a 112-byte v3 header with the given overrides into path. */
static void write_header(const char *path, uint32_t version, uint32_t cluster_bits, uint64_t size,
			 uint32_t l1_size, uint64_t incompat, uint32_t crypt)
{
	unsigned char h[65536 * 4] = {0};
#define P32(o, v)                                                                                  \
	do {                                                                                       \
		uint32_t x_ = __builtin_bswap32(v);                                                \
		memcpy(h + (o), &x_, 4);                                                           \
	} while (0)
#define P64(o, v)                                                                                  \
	do {                                                                                       \
		uint64_t x_ = __builtin_bswap64(v);                                                \
		memcpy(h + (o), &x_, 8);                                                           \
	} while (0)
	P32(0, 0x514649fbu);
	P32(4, version);
	P32(20, cluster_bits);
	P64(24, size);
	P32(32, crypt);
	P32(36, l1_size);
	P64(40, 3 * 65536);
	P64(48, 65536);
	P32(56, 1);
	P64(72, incompat);
	P32(96, 4);
	P32(100, 112);
	assert_int_equal(fs_write_atomic(path, h, sizeof(h), 0644), 0);
}

static void test_bad_images(void **state)
{
	char *p = tpath("bad.qcow2");
	struct disk *d = NULL;

	assert_int_equal(fs_write_atomic(p, "QFI\xfb", 4, 0644), 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -CAP_E_DATA);
	static const char junk[80] = "not a qcow2 at all, just some bytes";
	assert_int_equal(fs_write_atomic(p, junk, sizeof(junk), 0644), 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "bad magic"));
	write_header(p, 3, 16, 1 << 20, 1, 0, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), 0);
	disk_close(d);
	write_header(p, 4, 16, 1 << 20, 1, 0, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "version 4"));
	write_header(p, 3, 30, 1 << 20, 1, 0, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "cluster_bits"));
	write_header(p, 3, 16, 1ull << 40, 1, 0, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "L1 table"));
	write_header(p, 3, 16, 1 << 20, 1, 0x10, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -ENOTSUP);
	assert_non_null(strstr(cap_errmsg(-ENOTSUP), "incompatible features 0x10"));
	write_header(p, 3, 16, 1 << 20, 1, 0, 1);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), -ENOTSUP);
	assert_non_null(strstr(cap_errmsg(-ENOTSUP), "encrypted"));
	/* dirty: readable, not writable */
	write_header(p, 3, 16, 1 << 20, 1, 1, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), 0);
	disk_close(d);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDWR), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "dirty"));
	/* reads past the end and writes to a read-only disk fail */
	write_header(p, 3, 16, 1 << 20, 1, 0, 0);
	assert_int_equal(disk_qcow2_open(&d, p, DISK_RDONLY), 0);
	char b[16];
	assert_int_equal(disk_read(d, b, sizeof(b), (1 << 20) - 8), -EINVAL);
	assert_int_equal(disk_write(d, b, sizeof(b), 0), -EROFS);
	disk_close(d);
	/* a missing backing file is named */
	struct disk_qcow2_opts o = {.backing = "nope.qcow2"};
	assert_int_equal(disk_qcow2_create(&d, p, 0, &o), -ENOENT);
	assert_non_null(strstr(cap_errmsg(-ENOENT), "nope.qcow2"));
	assert_false(fs_exists(p));
	free(p);
}

/* A backing loop is named once, with its cause; a FIFO as backing file fails at once. */
static void test_backing_hostile(void **state)
{
	char *a = tpath("loop-a.qcow2"), *f = tpath("fifo"), *fb = tpath("fifo-backed.qcow2");
	struct disk *d = NULL;

	assert_int_equal(sh(NULL,
			    "cd '%s' && qemu-img create -q -f qcow2 -u -F qcow2 -b loop-b.qcow2 "
			    "loop-a.qcow2 1M && qemu-img create -q -f qcow2 -u -F qcow2 -b "
			    "loop-a.qcow2 loop-b.qcow2 1M",
			    tmpdir),
			 0);
	assert_int_equal(disk_qcow2_open(&d, a, DISK_RDONLY), -CAP_E_DATA);
	const char *msg = cap_errmsg(-CAP_E_DATA);
	assert_non_null(strstr(msg, "loops back to"));
	assert_true(strlen(msg) < 400);
	assert_null(strstr(strstr(msg, "backing file") + 1, "backing file 'backing file"));
	assert_int_equal(mkfifo(f, 0600), 0);
	assert_int_equal(sh(NULL, "qemu-img create -q -f qcow2 -u -F raw -b '%s' '%s' 1M", f, fb),
			 0);
	assert_int_equal(disk_qcow2_open(&d, fb, DISK_RDONLY), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "not a regular file"));
	assert_int_equal(disk_open(&d, f, DISK_RDONLY), -ENOENT);
	free(a);
	free(f);
	free(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lazy_allocation),   cmocka_unit_test(test_random_writes_64k),
	    cmocka_unit_test(test_random_writes_512), cmocka_unit_test(test_random_writes_2m),
	    cmocka_unit_test(test_reads_qemu_images), cmocka_unit_test(test_backing_files),
	    cmocka_unit_test(test_backing_hostile),   cmocka_unit_test(test_bad_images),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
