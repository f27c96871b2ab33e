// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for 'capstan init' (init.c): templates, substitution, refusing to overwrite.
#define _GNU_SOURCE
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

#include "capstan/build.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"

static char tmpdir[64];
static struct cap_ctx ctx;

static char *tpath(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static void put(const char *rel, const char *text, mode_t mode)
{
	char *p = tpath(rel), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(fs_mkdirs(p, 0755), 0);
	*slash = '/';
	assert_int_equal(fs_write_atomic(p, text, strlen(text), mode), 0);
	free(p);
}

static char *get(const char *rel)
{
	char *p = tpath(rel), *text = NULL;
	size_t len;

	if (fs_read_all(p, &text, &len))
		text = NULL;
	free(p);
	return text;
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/init-test.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	cap_ctx_init(&ctx);
	ctx.datadir = tpath("data");
	ctx.quiet = true;
	put("data/templates/hello/Capstanfile", "cmdline: /@NAME@\nfiles:\n  /@NAME@: @NAME@\n",
	    0644);
	put("data/templates/hello/Makefile", "@NAME@: @NAME@.c\n", 0644);
	put("data/templates/binary/Capstanfile", "cmdline: /@BINARY@\n", 0644);
	return 0;
}

static int teardown(void **state)
{
	cap_ctx_release(&ctx);
	return fs_rm_rf(tmpdir);
}

static int init(const char *tmpl, const char *rel)
{
	char *dir = tpath(rel);
	int ret = build_init_project(&ctx, tmpl, dir);

	free(dir);
	return ret;
}

static void test_template_substituted(void **state)
{
	char *t;

	assert_int_equal(init("hello", "work/my app!"), 0);
	/* the folder's name made a valid image name */
	assert_non_null(t = get("work/my app!/Capstanfile"));
	assert_string_equal(t, "cmdline: /my-app-\nfiles:\n  /my-app-: my-app-\n");
	free(t);
	assert_non_null(t = get("work/my app!/Makefile"));
	assert_string_equal(t, "my-app-: my-app-.c\n");
	free(t);
}

static void test_existing_file_refused(void **state)
{
	char *t;

	put("p2/Makefile", "mine\n", 0644);
	assert_int_equal(init("hello", "p2"), -CAP_E_EXISTS);
	assert_non_null(strstr(cap_errmsg(-CAP_E_EXISTS), "p2/Makefile' already exists"));
	/* nothing written, not even the files that were free */
	assert_null(t = get("p2/Capstanfile"));
	assert_non_null(t = get("p2/Makefile"));
	assert_string_equal(t, "mine\n");
	free(t);
}

static void test_unknown_template(void **state)
{
	assert_int_equal(init("nope", "p3"), -CAP_E_NOTFOUND);
	assert_string_equal(cap_errmsg(-CAP_E_NOTFOUND),
			    "unknown template 'nope' (templates: binary, hello)");
	assert_int_equal(init("../data", "p3"), -CAP_E_NOTFOUND);
	assert_int_equal(init("", "p3"), -CAP_E_NOTFOUND);
	char *p = tpath("p3");
	assert_false(fs_exists(p));
	free(p);
}

/* The binary template names the one ELF executable already in the folder. */
static void test_binary_found(void **state)
{
	char *t;

	put("p4/server", "\177ELF....", 0755);
	assert_int_equal(init("binary", "p4"), 0);
	assert_non_null(t = get("p4/Capstanfile"));
	assert_string_equal(t, "cmdline: /server\n");
	free(t);
	/* two of them: no guess */
	put("p5/a", "\177ELF....", 0755);
	put("p5/b", "\177ELF....", 0755);
	assert_int_equal(init("binary", "p5"), 0);
	assert_non_null(t = get("p5/Capstanfile"));
	assert_string_equal(t, "cmdline: /app\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template_substituted),
	    cmocka_unit_test(test_existing_file_refused),
	    cmocka_unit_test(test_unknown_template),
	    cmocka_unit_test(test_binary_found),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
