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

/* A file of n bytes of c. */
static char *make_file(const struct fixture *f, const char *name, size_t n, char c)
{
	char *path = xasprintf("%s/%s", f->dir, name), *data = malloc(n);

	assert_non_null(data);
	memset(data, c, n);
	assert_int_equal(fs_write_atomic(path, data, n, 0644), 0);
	free(data);
	return path;
}

static void copy_file(const char *from, const char *to)
{
	char *data;
	size_t len;

	assert_int_equal(fs_read_all(from, &data, &len), 0);
	assert_int_equal(fs_write_atomic(to, data, len, 0644), 0);
	free(data);
}

/* An image that expands past its declared size, or past the cap without one, stops the pull. */
static void test_pull_bounds(void **state)
{
	struct fixture *f = *state;
	struct repo_meta meta = {0};
	struct repo_image img;
	char *small = make_file(f, "small.raw", 64 << 10, 1),
	     *big = make_file(f, "big.raw", 8 << 20, 0);
	char *root = xasprintf("%s/reg", f->dir);
	char *big_gz = xasprintf("%s/t/big/big.raw.gz", root);
	char *small_gz = xasprintf("%s/t/small/small.raw.gz", root);
	char *orig = xasprintf("%s/t/orig", root);
	char *orig_gz = xasprintf("%s/orig.raw.gz", orig),
	     *orig_idx = xasprintf("%s/index.yaml", orig);
	int ret;

	assert_int_equal(reg_publish_file(&f->ctx, root, "t/small", "raw", small, &meta), 0);
	assert_int_equal(reg_publish_file(&f->ctx, root, "t/big", "raw", big, &meta), 0);
	copy_file(big_gz, small_gz);
	ret = reg_pull(&f->ctx, "t/small", "raw");
	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "expands past the 65536 bytes its index declares"));
	assert_int_equal(repo_find(&f->ctx, "t/small", "raw", &img), -CAP_E_NOTFOUND);

	assert_int_equal(fs_mkdirs(orig, 0755), 0);
	assert_int_equal(fs_write_atomic(orig_idx, "format_version: 1\n", 18, 0644), 0);
	copy_file(big_gz, orig_gz);
	setenv("CAPSTAN_PULL_MAX_SIZE", "1M", 1);
	ret = reg_pull(&f->ctx, "t/orig", "raw");
	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "the limit for an index without sizes"));
	unsetenv("CAPSTAN_PULL_MAX_SIZE");
	assert_int_equal(reg_pull(&f->ctx, "t/orig", "raw"), 0); /* 8 MiB is under the default */
	free(small);
	free(big);
	free(root);
	free(big_gz);
	free(small_gz);
	free(orig);
	free(orig_gz);
	free(orig_idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_catalog_pull, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pull_bounds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
