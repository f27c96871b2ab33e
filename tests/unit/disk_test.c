// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the disk ops table: the raw backend, probing and copying.
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

static char tmpdir[] = "/tmp/disk-test.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	fs_rm_rf(tmpdir);
	return 0;
}

static void test_raw(void **state)
{
	char *p = xasprintf("%s/a.raw", tmpdir);
	struct disk *d = NULL;
	char buf[8];
	struct stat st;

	assert_int_equal(disk_raw_create(&d, p, 1 << 20), 0);
	assert_string_equal(d->format, "raw");
	assert_int_equal(disk_size(d), 1 << 20);
	assert_int_equal(disk_write(d, "capstan", 8, 4096), 0);
	assert_int_equal(disk_read(d, buf, 8, 4096), 0);
	assert_string_equal(buf, "capstan");
	assert_int_equal(disk_write(d, "x", 1, 1 << 20), -EINVAL);
	assert_int_equal(disk_read(d, buf, 8, (1 << 20) - 4), -EINVAL);
	assert_int_equal(disk_flush(d), 0);
	disk_close(d);
	/* sparse: only one block holds data */
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_blocks * 512 < 256 * 1024);
	assert_int_equal(disk_open(&d, p, DISK_RDONLY), 0);
	assert_string_equal(d->format, "raw");
	assert_int_equal(disk_write(d, "x", 1, 0), -EROFS);
	disk_close(d);
	free(p);
}

static void test_fd_is_borrowed(void **state)
{
	char *p = xasprintf("%s/b.qcow2", tmpdir);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct disk *d = NULL;
	char buf[4];

	assert_true(fd >= 0);
	assert_int_equal(disk_qcow2_create_fd(&d, fd, 1 << 20, NULL), 0);
	assert_int_equal(disk_write(d, "abc", 4, 70000), 0);
	disk_close(d);
	/* still open: usable after close */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	assert_int_equal(disk_qcow2_open_fd(&d, fd, DISK_RDONLY, p), 0);
	assert_int_equal(disk_read(d, buf, 4, 70000), 0);
	assert_string_equal(buf, "abc");
	disk_close(d);
	assert_int_equal(disk_raw_open_fd(&d, fd, DISK_RDONLY), 0);
	disk_close(d);
	assert_int_equal(close(fd), 0);
	assert_string_equal(disk_probe(p), "qcow2");
	free(p);
}

static void test_copy(void **state)
{
	char *r = xasprintf("%s/c.raw", tmpdir), *q = xasprintf("%s/c.qcow2", tmpdir),
	     *r2 = xasprintf("%s/c2.raw", tmpdir);
	struct disk *dr = NULL, *dq = NULL, *small = NULL;
	unsigned char buf[4096], back[4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7);
	assert_int_equal(disk_raw_create(&dr, r, 8 << 20), 0);
	assert_int_equal(disk_write(dr, buf, sizeof(buf), 5 << 20), 0);
	assert_int_equal(disk_qcow2_create(&dq, q, 8 << 20, NULL), 0);
	assert_int_equal(disk_copy(dq, dr), 0);
	assert_int_equal(disk_read(dq, back, sizeof(back), 5 << 20), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	disk_close(dq);
	/* only the one MiB with data was written: header, refcounts, L1, L2 + 16 data clusters */
	uint64_t sz;
	assert_int_equal(fs_file_size(q, &sz), 0);
	assert_true(sz <= (4 + 16 + 1) * 65536ull);
	assert_int_equal(disk_raw_create(&small, r2, 1 << 20), 0);
	assert_int_equal(disk_copy(small, dr), -EINVAL);
	disk_close(small);
	disk_close(dr);
	assert_null(disk_probe("/nonexistent/x"));
	assert_int_equal(disk_open(&dr, "/nonexistent/x", DISK_RDONLY), -ENOENT);
	free(r);
	free(q);
	free(r2);
}

static int sh(const char *fmt, const char *a, const char *b)
{
	char *cmd = xasprintf(fmt, a, b);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct strbuf out = STRBUF_INIT;
	int ret = proc_run(argv, NULL, &out);

	if (ret)
		fprintf(stderr, "%s: exit %d: %s\n", cmd, ret, out.buf ? out.buf : "");
	sb_release(&out);
	free(cmd);
	return ret;
}

static void test_convert(void **state)
{
	static const char *const plats[] = {"qemu", "raw", "vbox", "vmw", "gce"};
	char *r = xasprintf("%s/src.raw", tmpdir);
	struct disk *src = NULL;
	unsigned char buf[5000];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i % 251);
	assert_int_equal(disk_raw_create(&src, r, (3 << 20) + 512), 0);
	assert_int_equal(disk_write(src, buf, sizeof(buf), 1 << 20), 0);
	assert_int_equal(disk_write(src, buf, 512, 3 << 20), 0);
	assert_false(disk_platform_valid("xen"));
	for (size_t i = 0; i < sizeof(plats) / sizeof(plats[0]); i++) {
		char *out = xasprintf("%s/out.%s", tmpdir, plats[i]);
		int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
		assert_true(disk_platform_valid(plats[i]));
		assert_true(fd >= 0);
		int ret = disk_convert(src, plats[i], fd, out, 1000000000);
		close(fd);
		if (ret == -CAP_E_UNAVAIL) { /* no qemu-img */
			free(out);
			continue;
		}
		assert_int_equal(ret, 0);
		if (!strcmp(plats[i], "gce")) {
			assert_int_equal(
			    sh("tar -tzvf '%s' | grep -Eq ' 1073741824 .*disk.raw$'", out, NULL),
			    0);
			assert_int_equal(
			    sh("tar -xzOf '%s' disk.raw | head -c 3146240 | cmp - '%s'", out, r),
			    0);
		} else if (sh("command -v qemu-img >/dev/null", "", "") == 0) {
			assert_int_equal(sh("qemu-img compare -q '%s' '%s'", out, r), 0);
			if (!strcmp(plats[i], "qemu"))
				assert_int_equal(sh("qemu-img check -q '%s' 2>&1", out, NULL), 0);
		}
		free(out);
	}
	assert_int_equal(disk_convert(src, "xen", -1, "x", 0), -CAP_E_USAGE);
	disk_close(src);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_fd_is_borrowed),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_convert),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
