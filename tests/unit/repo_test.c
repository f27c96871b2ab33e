// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the local repository: names, Capstan's layout read as is, install, import, remove.
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

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/repo.h"
#include "capstan/str.h"

static char root[64];
static struct cap_ctx ctx;
static char *errtext;
static size_t errlen;

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/repo-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	cap_ctx_init(&ctx);
	ctx.root = xstrdup(root);
	ctx.err = open_memstream(&errtext, &errlen);
	ctx.out = ctx.err;
	return 0;
}

static int teardown(void **state)
{
	fclose(ctx.err);
	free(errtext);
	errtext = NULL;
	cap_ctx_release(&ctx);
	return fs_rm_rf(root);
}

static void put(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", root, rel), *d = xstrdup(p);
	*strrchr(d, '/') = '\0';
	assert_int_equal(fs_mkdirs(d, 0755), 0);
	assert_int_equal(fs_write_atomic(p, text, strlen(text), 0644), 0);
	free(p);
	free(d);
}

static void test_names(void **state)
{
	assert_true(repo_name_valid("hello"));
	assert_true(repo_name_valid("cloudius/osv-base"));
	assert_true(repo_name_valid("a.b_c-d/E9"));
	assert_false(repo_name_valid(""));
	assert_false(repo_name_valid("/x"));
	assert_false(repo_name_valid("x/"));
	assert_false(repo_name_valid("a/b/c"));
	assert_false(repo_name_valid("../x"));
	assert_false(repo_name_valid("a..b"));
	assert_false(repo_name_valid(".hidden"));
	assert_false(repo_name_valid("-x"));
	assert_false(repo_name_valid("with space"));
	assert_false(repo_name_valid("a/.b"));
	char *d = repo_image_dir(&ctx, "ns/x");
	char *want = xasprintf("%s/repository/ns/x", root);
	assert_string_equal(d, want);
	free(d);
	free(want);
}

/* A repository as Capstan wrote it: namespaced, un-namespaced, .vmware, extra index keys. */
static void test_capstan_layout(void **state)
{
	struct repo_image *v;
	size_t n;

	put("repository/cloudius/osv-base/osv-base.qemu", "qcow2 bytes");
	put("repository/cloudius/osv-base/osv-base.vbox", "vdi");
	put("repository/cloudius/osv-base/index.yaml",
	    "format_version: \"1\"\nversion: v0.24\ncreated: 2016-01-02T10:00:00Z\n"
	    "description: OSv base\nbuild: capstan build\nplatform: Linux\nextra: {a: b}\n");
	put("repository/myapp/myapp.qemu", "1234567");
	put("repository/myapp/myapp.vmware", "vmdk");
	put("repository/broken/broken.raw", "r");
	put("repository/broken/index.yaml", "version: [unclosed\n");
	put("repository/noimage/index.yaml", "version: 1\n");
	put("repository/other/wrongname.qemu", "x");
	put("repository/.incoming.tmp.abc", "partial");
	assert_int_equal(repo_list(&ctx, &v, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].name, "broken");
	assert_null(v[0].meta.version);
	assert_string_equal(v[1].name, "cloudius/osv-base");
	assert_string_equal(v[1].platform, "qemu");
	assert_string_equal(v[1].meta.version, "v0.24");
	assert_string_equal(v[1].meta.created, "2016-01-02T10:00:00Z");
	assert_string_equal(v[1].meta.description, "OSv base");
	assert_string_equal(v[1].meta.build, "capstan build");
	assert_int_equal(v[1].size, 11);
	assert_string_equal(v[2].platform, "vbox");
	assert_string_equal(v[3].name, "myapp");
	assert_string_equal(v[3].platform, "qemu");
	assert_int_equal(v[3].size, 7);
	assert_null(v[3].meta.version);
	assert_string_equal(v[4].platform, "vmw");
	assert_true(str_has_suffix(v[4].path, "/myapp.vmware"));
	repo_images_free(v, n);
	fflush(ctx.err);
	assert_non_null(strstr(errtext, "capstan: warning: "));
	assert_non_null(strstr(errtext, "broken/index.yaml:2:1: invalid YAML"));

	struct repo_image img;
	assert_int_equal(repo_find(&ctx, "cloudius/osv-base", NULL, &img), 0);
	assert_string_equal(img.platform, "qemu");
	repo_image_release(&img);
	assert_int_equal(repo_find(&ctx, "myapp", "vmw", &img), 0);
	repo_image_release(&img);
	assert_int_equal(repo_find(&ctx, "broken", NULL, &img), -CAP_E_NOTFOUND);
	assert_non_null(strstr(cap_errmsg(-CAP_E_NOTFOUND),
			       "image 'broken' has no 'qemu' platform (it has 'raw')"));
	assert_int_equal(repo_find(&ctx, "nope", NULL, &img), -CAP_E_NOTFOUND);
	assert_non_null(strstr(cap_errmsg(-CAP_E_NOTFOUND), "image 'nope' not found"));
	assert_int_equal(repo_find(&ctx, "../etc", NULL, &img), -CAP_E_USAGE);

	/* rmi of an un-namespaced image takes all its platforms; a namespace loses its empty folder
	 */
	assert_int_equal(repo_remove(&ctx, "myapp"), 0);
	char *p = xasprintf("%s/repository/myapp", root);
	assert_false(fs_exists(p));
	free(p);
	assert_int_equal(repo_remove(&ctx, "cloudius/osv-base"), 0);
	p = xasprintf("%s/repository/cloudius", root);
	assert_false(fs_exists(p));
	free(p);
	assert_int_equal(repo_remove(&ctx, "myapp"), -CAP_E_NOTFOUND);
	assert_int_equal(repo_remove(&ctx, "noimage"), -CAP_E_NOTFOUND);
	assert_int_equal(repo_remove(&ctx, "a b"), -CAP_E_USAGE);
}

/* "foo" the image and "foo/bar" the image of namespace foo share a folder. */
static void test_shared_folder(void **state)
{
	struct repo_image *v;
	size_t n;

	put("repository/foo/foo.qemu", "a");
	put("repository/foo/index.yaml", "version: \"1\"\n");
	put("repository/foo/bar/bar.qemu", "b");
	assert_int_equal(repo_list(&ctx, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "foo");
	assert_string_equal(v[1].name, "foo/bar");
	repo_images_free(v, n);
	assert_int_equal(repo_remove(&ctx, "foo"), 0);
	assert_int_equal(repo_list(&ctx, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "foo/bar");
	repo_images_free(v, n);
}

static void test_install_and_import(void **state)
{
	struct fs_tmp tmp;
	struct repo_meta meta = {"1.0", "2024-05-01T10:00:00Z", "say \"hi\"\nnext line", "make"};
	struct repo_image img;
	char *data;
	size_t len;

	/* the root does not exist yet: created */
	char *sub = xasprintf("%s/new/root", root);
	free(ctx.root);
	ctx.root = sub;
	assert_int_equal(repo_tmp_open(&ctx, &tmp), 0);
	assert_int_equal(fs_write_full(tmp.fd, "disk", 4), 0);
	assert_int_equal(repo_install(&ctx, "ns/app", "raw", &tmp, &meta), 0);
	assert_null(tmp.tmp_path);
	assert_int_equal(repo_find(&ctx, "ns/app", "raw", &img), 0);
	assert_string_equal(img.meta.description, "say \"hi\"\nnext line");
	assert_string_equal(img.meta.version, "1.0");
	assert_int_equal(img.size, 4);
	char *idx = xasprintf("%s/repository/ns/app/index.yaml", sub);
	assert_int_equal(fs_read_all(idx, &data, &len), 0);
	assert_non_null(strstr(data, "format_version: \"1\"\n"));
	assert_non_null(strstr(data, "platform: \"raw\"\n"));
	free(data);
	free(idx);
	repo_image_release(&img);

	/* bad platform and bad name: the temp file is gone either way */
	assert_int_equal(repo_tmp_open(&ctx, &tmp), 0);
	char *t = xstrdup(tmp.tmp_path);
	assert_int_equal(repo_install(&ctx, "ns/app", "xen", &tmp, &meta), -CAP_E_USAGE);
	assert_false(fs_exists(t));
	free(t);
	assert_int_equal(repo_tmp_open(&ctx, &tmp), 0);
	t = xstrdup(tmp.tmp_path);
	assert_int_equal(repo_install(&ctx, "a/b/c", "raw", &tmp, &meta), -CAP_E_USAGE);
	assert_false(fs_exists(t));
	free(t);

	/* import: a crafted-free raw file, then a file that is not there, then a folder */
	char *file = xasprintf("%s/disk.img", root);
	assert_int_equal(fs_write_atomic(file, "raw disk bytes", 14, 0644), 0);
	struct repo_meta none = {NULL, NULL, NULL, NULL};
	assert_int_equal(repo_import(&ctx, "plain", file, &none), 0);
	assert_int_equal(repo_find(&ctx, "plain", "raw", &img), 0);
	assert_non_null(img.meta.created);
	assert_int_equal(strlen(img.meta.created), 20);
	assert_int_equal(img.meta.created[19], 'Z');
	repo_image_release(&img);
	unlink(file);
	int ret = repo_import(&ctx, "gone", file, &none);
	assert_int_equal(cap_exit_code(ret), 74);
	assert_non_null(strstr(cap_errmsg(ret), "cannot read '"));
	assert_non_null(strstr(cap_errmsg(ret), "No such file or directory"));
	assert_int_equal(repo_import(&ctx, "dir", root, &none), -21);
	assert_int_equal(repo_find(&ctx, "gone", "raw", &img), -CAP_E_NOTFOUND);
	free(file);

	/* nothing half-written: only the lock and finished images in repository/ */
	char *top = xasprintf("%s/repository", sub);
	char *cmd = xasprintf("test -z \"$(find %s -name '*.tmp.*')\"", top);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(top);
}

static void test_root_is_a_file(void **state)
{
	struct repo_image *v;
	size_t n;
	struct fs_tmp tmp;

	put("file", "not a folder");
	free(ctx.root);
	ctx.root = xasprintf("%s/file", root);
	int ret = repo_list(&ctx, &v, &n);
	assert_int_equal(ret, -20);
	assert_non_null(strstr(cap_errmsg(ret), "Not a directory"));
	ret = repo_tmp_open(&ctx, &tmp);
	assert_true(ret < 0);
	assert_int_equal(cap_exit_code(ret), 74);
}

static void test_meta_parse(void **state)
{
	struct repo_meta m;
	const char *ok =
	    "format_version: \"1\"\nversion: 1.0\ncreated: 2024-05-01T10:00:00Z\nextra: [1]\n";

	assert_int_equal(repo_meta_parse("i.yaml", ok, strlen(ok), &m), 0);
	assert_string_equal(m.version, "1.0");
	assert_string_equal(m.created, "2024-05-01T10:00:00Z");
	assert_null(m.description);
	repo_meta_release(&m);
	assert_int_equal(repo_meta_parse("i.yaml", "", 0, &m), 0);
	assert_null(m.version);
	assert_int_equal(repo_meta_parse("i.yaml", "- a\n", 4, &m), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "i.yaml:1:1: expected a mapping");
	assert_int_equal(repo_meta_parse("i.yaml", "version: {a: b}\n", 16, &m), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "i.yaml:1:10: 'version' must be a string");
	assert_int_equal(repo_meta_parse("i.yaml", "a: 'x\n", 6, &m), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "i.yaml:2:1: invalid YAML"));
	assert_null(m.version);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	    cmocka_unit_test(test_meta_parse),
	    cmocka_unit_test_setup_teardown(test_capstan_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_folder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_and_import, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root_is_a_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
