// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for registry: fetch errors by kind, publish into a file:// tree, catalog, pull back.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "capstan/sha256.h"
#include "capstan/str.h"

struct fixture {
	char dir[64];
	struct cap_ctx ctx;
	FILE *devnull;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/capstan-regtest.XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	cap_ctx_init(&f->ctx);
	f->devnull = fopen("/dev/null", "w");
	f->ctx.out = f->ctx.err = f->devnull;
	f->ctx.root = xasprintf("%s/root", f->dir);
	f->ctx.repo_url = xasprintf("file://%s/reg", f->dir);
	setenv("CAPSTAN_NET_RETRIES", "0", 1);
	setenv("CAPSTAN_NET_TIMEOUT", "5", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fs_rm_rf(f->dir);
	cap_ctx_release(&f->ctx);
	fclose(f->devnull);
	free(f);
	return 0;
}

static void test_get_errors(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("%s/file", f->dir), *url = xasprintf("file://%s", path);
	int ret;

	assert_int_equal(fs_write_atomic(path, "hello", 5, 0644), 0);
	assert_int_equal(reg_get(&f->ctx, url, 100, &sb), 0);
	assert_int_equal(sb.len, 5);
	assert_string_equal(sb.buf, "hello");
	ret = reg_get(&f->ctx, url, 4, &sb);
	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "larger than 4 bytes"));
	free(url);
	url = xasprintf("file://%s/missing", f->dir);
	assert_int_equal(reg_get(&f->ctx, url, 100, &sb), -CAP_E_NOTFOUND);
	assert_int_equal(reg_get(&f->ctx, "ftp://127.0.0.1/x", 100, &sb), -CAP_E_USAGE);
	assert_non_null(strstr(cap_errmsg(-CAP_E_USAGE), "unsupported URL scheme"));
	ret = reg_get(&f->ctx, "http://127.0.0.1:1/x", 100, &sb);
	assert_int_equal(ret, -CAP_E_UNAVAIL);
	assert_non_null(strstr(cap_errmsg(ret), "http://127.0.0.1:1/x: connection refused"));
	free(url);
	free(path);
	sb_release(&sb);
}

static void test_publish_catalog_pull(void **state)
{
	struct fixture *f = *state;
	struct repo_meta meta = {
	    .version = "2.0", .created = "2026-11-26T00:00:00Z", .description = "d", .build = "b"};
	struct index_catalog cat;
	struct repo_image img;
	char *image = xasprintf("%s/image.raw", f->dir), *root = xasprintf("%s/reg", f->dir);
	char *data = malloc(1 << 20), want[SHA256_HEX_LEN + 1];

	assert_non_null(data);
	for (int i = 0; i < 1 << 20; i++)
		data[i] = (char)(i * 7 / 3);
	sha256_hex(data, 1 << 20, want);
	assert_int_equal(fs_write_atomic(image, data, 1 << 20, 0644), 0);
	assert_int_equal(reg_catalog(&f->ctx, &cat), -CAP_E_NOTFOUND);
	assert_int_equal(reg_publish_file(&f->ctx, root, "t/img", "raw", image, &meta), 0);
	assert_int_equal(reg_publish_file(&f->ctx, root, "t/other", "qemu", image, &meta), 0);
	assert_int_equal(reg_catalog(&f->ctx, &cat), 0);
	assert_int_equal(cat.n, 2);
	assert_string_equal(cat.images[0].name, "t/img");
	assert_string_equal(cat.images[0].platforms[0].name, "raw");
	assert_string_equal(cat.images[0].version, "2.0");
	index_catalog_release(&cat);
	assert_int_equal(reg_publish_file(&f->ctx, root, "../x", "raw", image, &meta),
			 -CAP_E_USAGE);

	assert_int_equal(reg_ensure(&f->ctx, "t/img", "raw"), 0);
	assert_int_equal(repo_find(&f->ctx, "t/img", "raw", &img), 0);
	assert_int_equal(img.size, 1 << 20);
	assert_string_equal(img.meta.version, "2.0");
	assert_string_equal(img.meta.build, "b");
	char *got_data;
	size_t len;
	char got[SHA256_HEX_LEN + 1];
	assert_int_equal(fs_read_all(img.path, &got_data, &len), 0);
	sha256_hex(got_data, len, got);
	assert_string_equal(got, want);
	free(got_data);
	repo_image_release(&img);
	assert_int_equal(reg_ensure(&f->ctx, "t/img", "raw"), 0); /* present: no pull */
	assert_int_equal(reg_pull(&f->ctx, "t/nope", "raw"), -CAP_E_NOTFOUND);
	assert_int_equal(reg_pull(&f->ctx, "t/img", "vbox"), -CAP_E_NOTFOUND);
	free(image);
	free(root);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_catalog_pull, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
