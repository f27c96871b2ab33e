// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the Capstanfile parser: every key, every error path with its line:col.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/cfile.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"

static int parse(struct cfile *cf, const char *text)
{
	return cfile_parse(cf, "Capstanfile", "/proj", text, strlen(text));
}

/* The text must fail with exactly "Capstanfile:<where>: <what...>". */
static void fails(const char *text, const char *where, const char *what)
{
	struct cfile cf;
	char want[256];

	assert_int_equal(parse(&cf, text), -CAP_E_DATA);
	assert_int_equal(cap_exit_code(-CAP_E_DATA), 65);
	snprintf(want, sizeof(want), "Capstanfile:%s: ", where);
	const char *msg = cap_errmsg(-CAP_E_DATA);
	if (strncmp(msg, want, strlen(want)) || !strstr(msg, what))
		fail_msg("for %s\n got: %s\nwant: %s...%s", text, msg, want, what);
	assert_null(cf.cmdline);
	cfile_release(&cf);
}

static void test_full(void **state)
{
	struct cfile cf;
	const char *text = "base: capstan/base\n"
			   "cmdline: /app --port 80\n"
			   "build: make\n"
			   "files:\n"
			   "  /usr/app/app.jar: build/&\n"
			   "  /etc//conf/./x/../app.conf: /abs/conf\n"
			   "  /data/: data\n"
			   "  /a&b: x/&-&\n"
			   "env:\n"
			   "  PORT: 8080\n"
			   "  MODE: \"prod\"\n"
			   "  EMPTY: \"\"\n";

	assert_int_equal(parse(&cf, text), 0);
	assert_string_equal(cf.path, "Capstanfile");
	assert_string_equal(cf.dir, "/proj");
	assert_string_equal(cf.base, "capstan/base");
	assert_string_equal(cf.cmdline, "/app --port 80");
	assert_string_equal(cf.build, "make");
	assert_null(cf.rootfs);
	assert_int_equal(cf.nfiles, 4);
	assert_string_equal(cf.files[0].guest, "/usr/app/app.jar");
	assert_string_equal(cf.files[0].host, "/proj/build/app.jar");
	assert_string_equal(cf.files[1].guest, "/etc/conf/app.conf");
	assert_string_equal(cf.files[1].host, "/abs/conf");
	assert_string_equal(cf.files[2].guest, "/data");
	assert_string_equal(cf.files[2].host, "/proj/data");
	assert_string_equal(cf.files[3].host, "/proj/x/a&b-a&b");
	assert_int_equal(cf.nenv, 3);
	assert_string_equal(cf.env[0].key, "PORT");
	assert_string_equal(cf.env[0].value, "8080");
	assert_string_equal(cf.env[2].value, "");
	cfile_release(&cf);
	cfile_release(&cf); /* harmless twice */
}

static void test_minimal(void **state)
{
	struct cfile cf;

	assert_int_equal(parse(&cf, "cmdline: /hello\nfiles:\nenv: {}\n"), 0);
	assert_string_equal(cf.cmdline, "/hello");
	assert_null(cf.base);
	assert_null(cf.build);
	assert_int_equal(cf.nfiles, 0);
	assert_int_equal(cf.nenv, 0);
	cfile_release(&cf);
	/* Capstan's own example */
	assert_int_equal(parse(&cf,
			       "base: penberg/osv-base\ncmdline: /tools/hello.so\nbuild: make\n"
			       "files:\n  /tools/hello.so: hello.so\n"),
			 0);
	assert_string_equal(cf.files[0].host, "/proj/hello.so");
	cfile_release(&cf);
}

static void test_yaml_errors(void **state)
{
	fails("cmdline: /x\n  bad: indent\n", "2:6", "invalid YAML");
	fails("cmdline: \"/x\n", "2:1", "invalid YAML");
	fails("cmdline: [a, b\n", "2:1", "invalid YAML");
	fails("cmdline: /x\n---\nbase: y\n", "3:1", "more than one YAML document");
	fails("cmdline: /x\n---\n[\n", "4:1", "invalid YAML");
	fails("cmdline: *nope\n", "1:10", "invalid YAML");
}

static void test_shape_errors(void **state)
{
	fails("", "1:1", "missing 'cmdline'");
	fails("# only a comment\n", "1:1", "missing 'cmdline'");
	fails("- a\n- b\n", "1:1", "expected a mapping of keys");
	fails("just text\n", "1:1", "expected a mapping of keys");
	fails("base: x\n", "1:1", "missing 'cmdline'");
	fails("\n\nbuild: make\nfiles: {}\n", "3:1", "missing 'cmdline'");
	fails("cmdline: /x\n[a]: b\n", "2:1", "a key must be a string, not a list");
}

static void test_type_errors(void **state)
{
	fails("cmdline: [a, b]\n", "1:10", "'cmdline' must be a string, not a list");
	fails("cmdline:\n  a: b\n", "2:3", "'cmdline' must be a string, not a mapping");
	fails("cmdline: /x\nbase: [a]\n", "2:7", "'base' must be a string, not a list");
	fails("cmdline: /x\nbuild: {a: b}\n", "2:8", "'build' must be a string, not a mapping");
	fails("cmdline: /x\nfiles: [/a, /b]\n", "2:8", "'files' must be a mapping");
	fails("cmdline: /x\nfiles: /a\n", "2:8", "'files' must be a mapping");
	fails("cmdline: /x\nfiles:\n  /a: [x]\n", "3:7",
	      "the host path of a file must be a string, not a list");
	fails("cmdline: /x\nfiles:\n  [a]: x\n", "3:3", "a guest path in 'files' must be a string");
	fails("cmdline: /x\nenv: [A=1]\n", "2:6", "'env' must be a mapping");
	fails("cmdline: /x\nrootfs: [a]\n", "2:9", "'rootfs' must be a string, not a list");
	fails("cmdline: \"/x\\0y\"\n", "1:10", "'cmdline' contains a NUL byte");
}

static void test_empty_values(void **state)
{
	fails("cmdline:\n", "1:9", "'cmdline' is empty");
	fails("cmdline: \"\"\n", "1:10", "'cmdline' is empty");
	fails("cmdline: \"  \"\n", "1:10", "'cmdline' is empty");
	fails("cmdline: ~\n", "1:10", "'cmdline' is empty");
	fails("cmdline: /x\nbase: null\n", "2:7", "'base' is empty");
	fails("cmdline: /x\nbuild: ''\n", "2:8", "'build' is empty");
	fails("cmdline: /x\nrootfs:\n", "2:8", "'rootfs' is empty");
}

static void test_unknown_and_duplicate_keys(void **state)
{
	fails("cmdlin: /x\n", "1:1", "unknown key 'cmdlin' (did you mean 'cmdline'?)");
	fails("cmdline: /x\nfile:\n  /a: b\n", "2:1", "unknown key 'file' (did you mean 'files'?)");
	fails("cmdline: /x\nrpm-base: {}\n", "2:1",
	      "unknown key 'rpm-base' (did you mean 'base'?)");
	fails("cmdline: /x\nenvironment: {}\n", "2:1", "did you mean 'env'?");
	fails("cmdline: /x\nbase: a\nbase: b\n", "3:1", "duplicate key 'base'");
	fails("cmdline: /x\ncmdline: /y\n", "2:1", "duplicate key 'cmdline'");
}

static void test_guest_paths(void **state)
{
	fails("cmdline: /x\nfiles:\n  app.jar: x\n", "3:3", "guest path 'app.jar' is not absolute");
	fails("cmdline: /x\nfiles:\n  \"\": x\n", "3:3", "guest path '' is not absolute");
	fails("cmdline: /x\nfiles:\n  /../etc/passwd: x\n", "3:3",
	      "guest path '/../etc/passwd' escapes '/'");
	fails("cmdline: /x\nfiles:\n  /a/../../b: x\n", "3:3", "escapes '/' with '..'");
	fails("cmdline: /x\nfiles:\n  /a/b: x\n  /a//b/.: y\n", "4:3",
	      "duplicate guest path '/a//b/.'");
	fails("cmdline: /x\nfiles:\n  /a: x\n  /b/../a: y\n", "4:3", "duplicate guest path");
	fails("cmdline: /x\nfiles:\n  /a:\n", "3:6", "guest path '/a' has no host path");
	fails("cmdline: /x\nfiles:\n  /a: \"\"\n", "3:7", "guest path '/a' has no host path");

	struct cfile cf;
	assert_int_equal(parse(&cf, "cmdline: /x\nfiles:\n  /a/..: r\n  /b/c/../../d/./: s\n"), 0);
	assert_string_equal(cf.files[0].guest, "/");
	assert_string_equal(cf.files[1].guest, "/d");
	cfile_release(&cf);
}

static void test_env_errors(void **state)
{
	fails("cmdline: /x\nenv:\n  A: [1, 2]\n", "3:6", "env 'A' must be a string, not a list");
	fails("cmdline: /x\nenv:\n  A:\n    b: c\n", "4:5",
	      "env 'A' must be a string, not a mapping");
	fails("cmdline: /x\nenv:\n  A:\n", "3:5", "env 'A' has no value");
	fails("cmdline: /x\nenv:\n  A: ~\n", "3:6", "env 'A' has no value");
	fails("cmdline: /x\nenv:\n  1A: x\n", "3:3",
	      "'1A' is not a valid environment variable name");
	fails("cmdline: /x\nenv:\n  A=B: x\n", "3:3", "'A=B' is not a valid");
	fails("cmdline: /x\nenv:\n  A: x\n  A: y\n", "4:3", "duplicate environment variable 'A'");
	fails("cmdline: /x\nenv:\n  [A]: x\n", "3:3", "an 'env' name must be a string");
}

static char tmpdir[64];

static int make_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cfile-test.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
	return fs_rm_rf(tmpdir);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644), 0);
}

static void test_rootfs_and_load(void **state)
{
	struct cfile cf;
	char *path = xasprintf("%s/Capstanfile", tmpdir);
	char *rootfs = xasprintf("%s/ROOTFS", tmpdir);
	char *other = xasprintf("%s/tree", tmpdir);

	/* No ROOTFS folder: no rootfs. */
	write_file(path, "cmdline: /x\nfiles:\n  /b: b\n");
	assert_int_equal(cfile_load(&cf, path), 0);
	assert_null(cf.rootfs);
	assert_string_equal(cf.dir, tmpdir);
	char *want = xasprintf("%s/b", tmpdir);
	assert_string_equal(cf.files[0].host, want);
	free(want);
	cfile_release(&cf);

	/* A ROOTFS folder beside the Capstanfile is the default. */
	assert_int_equal(mkdir(rootfs, 0755), 0);
	assert_int_equal(cfile_load(&cf, path), 0);
	assert_string_equal(cf.rootfs, rootfs);
	cfile_release(&cf);

	/* Set and present; set and missing; set to a file. */
	assert_int_equal(mkdir(other, 0755), 0);
	write_file(path, "cmdline: /x\nrootfs: tree\n");
	assert_int_equal(cfile_load(&cf, path), 0);
	assert_string_equal(cf.rootfs, other);
	cfile_release(&cf);
	write_file(path, "cmdline: /x\nrootfs: missing\n");
	assert_int_equal(cfile_load(&cf, path), -CAP_E_DATA);
	char *msg = xasprintf("%s:2:9: rootfs 'missing': No such file or directory", path);
	assert_string_equal(cap_errmsg(-CAP_E_DATA), msg);
	free(msg);
	write_file(path, "cmdline: /x\nrootfs: Capstanfile\n");
	assert_int_equal(cfile_load(&cf, path), -CAP_E_DATA);
	assert_non_null(
	    strstr(cap_errmsg(-CAP_E_DATA), ":2:9: rootfs 'Capstanfile' is not a folder"));

	/* A missing Capstanfile is an I/O error, not bad data. */
	char *none = xasprintf("%s/nope/Capstanfile", tmpdir);
	int ret = cfile_load(&cf, none);
	assert_true(ret < 0 && ret != -CAP_E_DATA);
	assert_int_equal(cap_exit_code(ret), 74);
	assert_non_null(strstr(cap_errmsg(ret), "No such file"));
	free(none);
	free(path);
	free(rootfs);
	free(other);
}

/* Many entries: duplicates are still found, at the right line. */
static void test_many_entries(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct cfile cf;
	const int n = 50000;

	sb_adds(&sb, "cmdline: /x\nfiles:\n");
	for (int i = 0; i < n; i++)
		sb_addf(&sb, "  /f/%d: h%d\n", i, i);
	assert_int_equal(cfile_parse(&cf, "Capstanfile", "/p", sb.buf, sb.len), 0);
	assert_int_equal(cf.nfiles, n);
	assert_string_equal(cf.files[n - 1].host, "/p/h49999");
	cfile_release(&cf);
	sb_adds(&sb, "  /f/./123: again\n");
	assert_int_equal(cfile_parse(&cf, "Capstanfile", "/p", sb.buf, sb.len), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA),
			    "Capstanfile:50003:3: duplicate guest path '/f/./123'");
	sb_release(&sb);
}

static void test_too_large(void **state)
{
	struct cfile cf;
	size_t n = (4u << 20) + 1;
	char *big = xmalloc(n);

	memset(big, '#', n);
	assert_int_equal(cfile_parse(&cf, "Capstanfile", "/", big, n), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "too large"));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_yaml_errors),
	    cmocka_unit_test(test_shape_errors),
	    cmocka_unit_test(test_type_errors),
	    cmocka_unit_test(test_empty_values),
	    cmocka_unit_test(test_unknown_and_duplicate_keys),
	    cmocka_unit_test(test_guest_paths),
	    cmocka_unit_test(test_env_errors),
	    cmocka_unit_test_setup_teardown(test_rootfs_and_load, make_tmp, rm_tmp),
	    cmocka_unit_test(test_many_entries),
	    cmocka_unit_test(test_too_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
