// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for util: sizes, strings, atomic writes, error codes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/proc.h"
#include "capstan/size.h"
#include "capstan/str.h"

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("64M", 0, &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(parse_size("1G", 0, &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("512mb", 0, &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(parse_size("2GiB", 0, &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("100", 1 << 20, &v), 0);
	assert_int_equal(v, 100ull << 20);
	assert_int_equal(parse_size("100", 0, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_size("", 0, &v), -CAP_E_USAGE);
	assert_int_equal(parse_size("M", 0, &v), -CAP_E_USAGE);
	assert_int_equal(parse_size("12X", 0, &v), -CAP_E_USAGE);
	assert_non_null(strstr(cap_errmsg(-CAP_E_USAGE), "unknown unit"));
	assert_int_equal(parse_size("99999999999999999999", 0, &v), -CAP_E_USAGE);
	assert_int_equal(parse_size("999999999999T", 0, &v), -CAP_E_USAGE);
}

static void test_fmt_size(void **state)
{
	char buf[16];

	assert_string_equal(fmt_size(512, buf, sizeof(buf)), "512B");
	assert_string_equal(fmt_size(1536, buf, sizeof(buf)), "1.5K");
	assert_string_equal(fmt_size(300ull << 20, buf, sizeof(buf)), "300M");
}

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "a");
	sb_addf(&sb, "%d-%s", 42, "x");
	sb_addc(&sb, '!');
	assert_string_equal(sb.buf, "a42-x!");
	char *s = sb_detach(&sb);
	assert_null(sb.buf);
	free(s);
	s = sb_detach(&sb);
	assert_string_equal(s, "");
	free(s);
}

static void test_distance(void **state)
{
	assert_int_equal(str_distance("cmdline", "cmdlin"), 1);
	assert_int_equal(str_distance("files", "flies"), 2);
	assert_int_equal(str_distance("", "abc"), 3);
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/capstan-unit.XXXXXX";
	char *data;
	size_t len;

	assert_non_null(mkdtemp(dir));
	char *p = xasprintf("%s/a/b/file", dir);
	char *d = xasprintf("%s/a/b", dir);
	assert_int_equal(fs_mkdirs(d, 0755), 0);
	assert_int_equal(fs_write_atomic(p, "hello", 5, 0644), 0);
	assert_int_equal(fs_read_all(p, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);

	/* an aborted temp file leaves nothing behind */
	struct fs_tmp t;
	assert_int_equal(fs_tmp_open(&t, p, 0644), 0);
	char *tmp = xstrdup(t.tmp_path);
	assert_true(fs_exists(tmp));
	fs_tmp_abort(&t);
	assert_false(fs_exists(tmp));
	free(tmp);

	/* mkdirs over a file fails with a message naming it */
	int ret = fs_mkdirs(p, 0755);
	assert_true(ret < 0);
	assert_non_null(strstr(cap_errmsg(ret), "file"));

	assert_int_equal(fs_read_all("/nonexistent/x", &data, &len), -ENOENT);
	assert_non_null(strstr(cap_errmsg(-ENOENT), "/nonexistent/x"));

	char *a = xasprintf("%s/a", dir);
	assert_int_equal(fs_rm_rf(dir), 0);
	assert_false(fs_exists(a));
	assert_int_equal(fs_rm_rf(dir), 0);
	free(a);
	free(p);
	free(d);
}

static void test_exit_codes(void **state)
{
	assert_int_equal(cap_exit_code(0), 0);
	assert_int_equal(cap_exit_code(-CAP_E_USAGE), 64);
	assert_int_equal(cap_exit_code(-CAP_E_DATA), 65);
	assert_int_equal(cap_exit_code(-CAP_E_UNAVAIL), 69);
	assert_int_equal(cap_exit_code(-ENOSPC), 74);
	assert_int_equal(cap_errf(CAP_E_DATA, "x %d", 1), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "x 1");
	cap_errctx(-CAP_E_DATA, "reading '%s'", "f");
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "reading 'f': x 1");
}

static void test_proc_run(void **state)
{
	struct strbuf out = STRBUF_INIT;
	const char *ok[] = {"sh", "-c", "echo hi; exit 3", NULL};

	assert_int_equal(proc_run(ok, "/", &out), 3);
	assert_string_equal(out.buf, "hi\n");
	sb_release(&out);
	const char *missing[] = {"/nonexistent/prog", NULL};
	assert_true(proc_run(missing, NULL, NULL) < 0);
}

static void test_utc_time(void **state)
{
	char *s = str_utc_time(0);

	assert_string_equal(s, "1970-01-01T00:00:00Z");
	free(s);
	s = str_utc_time(1714557600);
	assert_string_equal(s, "2024-05-01T10:00:00Z");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_size),	 cmocka_unit_test(test_fmt_size),
	    cmocka_unit_test(test_strbuf),	 cmocka_unit_test(test_distance),
	    cmocka_unit_test(test_atomic_write), cmocka_unit_test(test_exit_codes),
	    cmocka_unit_test(test_proc_run),	 cmocka_unit_test(test_utc_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
