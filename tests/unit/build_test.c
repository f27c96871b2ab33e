// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for 'capstan build' and 'compose' (build.c): no QEMU, a synthetic bundled kernel.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/build.h"
#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/layout.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "fixture.h"

static char tmpdir[64];
static struct cap_ctx ctx;

static char *tpath(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static void put(const char *rel, const char *text)
{
	char *p = tpath(rel), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(fs_mkdirs(p, 0755), 0);
	*slash = '/';
	assert_int_equal(fs_write_atomic(p, text, strlen(text), 0644), 0);
	free(p);
}

static int setup(void **state)
{
	unsigned char mbr[512] = {0xfa, 0xeb, 0xfe};
	char *k, *m;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/build-test.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	cap_ctx_init(&ctx);
	ctx.root = tpath("state/capstan");
	ctx.datadir = tpath("data");
	ctx.repo_url = xasprintf("file://%s/registry", tmpdir);
	ctx.quiet = true;
	ctx.err = tmpfile();
	fs_mkdirs(ctx.datadir, 0755);
	k = tpath("data/capstan-kernel.elf");
	m = tpath("data/mbr.bin");
	fixture_kernel(k, true, 0x100800);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	assert_int_equal(fs_write_atomic(m, mbr, sizeof(mbr), 0644), 0);
	free(k);
	free(m);
	return 0;
}

static int teardown(void **state)
{
	fclose(ctx.err);
	cap_ctx_release(&ctx);
	return fs_rm_rf(tmpdir);
}

/* What ctx.err received since the last call. */
static char *err_text(void)
{
	long n;
	char *s;

	fflush(ctx.err);
	n = ftell(ctx.err);
	s = xcalloc(1, (size_t)n + 1);
	rewind(ctx.err);
	assert_int_equal(fread(s, 1, (size_t)n, ctx.err), (size_t)n);
	rewind(ctx.err);
	assert_int_equal(ftruncate(fileno(ctx.err), 0), 0);
	return s;
}

/* Read back the installed image NAME (qemu). */
static void read_image(const char *name, struct layout_image *img)
{
	char *base = strrchr(name, '/'), *path;
	struct disk *d;

	path = xasprintf("%s/repository/%s/%s.qemu", ctx.root, name, base ? base + 1 : name);
	assert_int_equal(disk_open(&d, path, DISK_RDONLY), 0);
	memset(img, 0, sizeof(*img));
	assert_int_equal(layout_image_read(d, img), 0);
	disk_close(d);
	free(path);
}

static const struct layout_file *find(const struct layout_image *img, const char *path)
{
	for (size_t i = 0; i < img->nfiles; i++)
		if (!strcmp(img->files[i].path, path))
			return &img->files[i];
	return NULL;
}

static int build(const char *file, const char *name)
{
	char *f = tpath(file);
	struct build_opts o = {name, f, "qemu"};
	int ret = build_image(&ctx, &o);

	free(f);
	return ret;
}

static bool in_repo(const char *rel)
{
	char *p = xasprintf("%s/repository/%s", ctx.root, rel);
	bool there = fs_exists(p);

	free(p);
	return there;
}

/* Files, rootfs, env, a relative guest path: the image holds them, warnings are printed. */
static void test_build_files(void **state)
{
	struct layout_image img;
	const struct layout_file *f;

	put("p1/Capstanfile", "cmdline: /app run\n"
			      "env:\n  MODE: a b\n"
			      "files:\n  /app: app\n  liblua.so: lib/&\n  /etc/x: ./conf\n");
	put("p1/app", "APP");
	put("p1/lib/liblua.so", "LUA");
	put("p1/conf", "CONF");
	put("p1/ROOTFS/usr/share/doc", "DOC");
	assert_int_equal(build("p1/Capstanfile", "p1"), 0);
	char *e = err_text();
	assert_non_null(strstr(e, "warning: "));
	assert_non_null(strstr(e, "guest path 'liblua.so' is relative: it goes to '/liblua.so'"));
	free(e);
	read_image("p1", &img);
	assert_string_equal(img.cmdline, "--env=MODE='a b' /app run");
	assert_non_null(f = find(&img, "/app"));
	assert_int_equal(f->size, 3);
	assert_non_null(find(&img, "/liblua.so"));
	assert_non_null(find(&img, "/etc/x"));
	assert_non_null(find(&img, "/usr/share/doc"));
	layout_image_release(&img);
}

/* A build step that makes the rootfs folder works on a clean tree (rootfs checked after it). */
static void test_rootfs_made_by_build(void **state)
{
	struct layout_image img;

	put("p2/Capstanfile", "cmdline: /bin/x\n"
			      "build: mkdir -p out/bin && printf X > out/bin/x\n"
			      "rootfs: out\n");
	assert_int_equal(build("p2/Capstanfile", "p2"), 0);
	read_image("p2", &img);
	assert_non_null(find(&img, "/bin/x"));
	layout_image_release(&img);

	/* still refused when the build step does not make it */
	put("p3/Capstanfile", "cmdline: /x\nbuild: 'true'\nrootfs: never\n");
	assert_int_equal(build("p3/Capstanfile", "p3"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "Capstanfile:3:9: rootfs '"));
	assert_false(in_repo("p3"));
}

/* A failing build step, a missing file: an error, nothing installed, no temp file left. */
static void test_failures_leave_nothing(void **state)
{
	put("p4/Capstanfile", "cmdline: /x\nbuild: echo oops; exit 3\n");
	assert_int_equal(build("p4/Capstanfile", "p4"), -CAP_E_CHILD);
	assert_non_null(strstr(cap_errmsg(-CAP_E_CHILD), "failed with exit status 3"));
	char *e = err_text();
	assert_non_null(strstr(e, "oops"));
	free(e);
	put("p5/Capstanfile", "cmdline: /x\nfiles:\n  /x: missing\n");
	assert_int_equal(build("p5/Capstanfile", "p5"), -CAP_E_DATA);
	assert_false(in_repo("p4"));
	assert_false(in_repo("p5"));
	assert_int_equal(build("p5/Capstanfile", "bad..name"), -CAP_E_USAGE);
}

/* ~1950 nested folders: walked without a deep stack (it crashed when recursive). */
static void test_deep_tree(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct layout_image img;
	const int depth = 1950;

	sb_adds(&sb, "p6/ROOTFS");
	for (int i = 0; i < depth; i++)
		sb_adds(&sb, "/d");
	sb_adds(&sb, "/f");
	put(sb.buf, "deep");
	put("p6/Capstanfile", "cmdline: /x\n");
	assert_int_equal(build("p6/Capstanfile", "p6"), 0);
	read_image("p6", &img);
	assert_non_null(find(&img, sb.buf + strlen("p6/ROOTFS")));
	assert_int_equal(img.nfiles, depth + 1);
	layout_image_release(&img);
	sb_release(&sb);
}

/* Guest paths the image reader and the kernel refuse are refused at build. */
static void test_guest_path_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "cmdline: /x\nfiles:\n  /");
	for (int i = 0; i < 256; i++)
		sb_addc(&sb, 'n');
	sb_adds(&sb, ": f\n");
	put("p7/f", "F");
	put("p7/Capstanfile", sb.buf);
	assert_int_equal(build("p7/Capstanfile", "p7"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "is 256 bytes, longer than 255"));

	sb_release(&sb);
	sb_adds(&sb, "cmdline: /x\nfiles:\n  ? "); /* an explicit key: YAML limits implicit ones */
	for (int i = 0; i < 17; i++)		   /* 17 * 241 = 4097 bytes */
		sb_addf(&sb, "/%0240d", i);
	sb_adds(&sb, "\n  : f\n");
	put("p7/Capstanfile", sb.buf);
	assert_int_equal(build("p7/Capstanfile", "p7"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "is 4097 bytes, longer than 4095"));
	assert_false(in_repo("p7"));
	sb_release(&sb);
}

/* Temp files of a killed import/build/rmi are removed; a live one is kept. */
static void test_stale_temps(void **state)
{
	char *top = xasprintf("%s/repository", ctx.root);
	char *dead = xasprintf("%s/.build.tmp.AAAAAA", top);
	char *deadmid = xasprintf("%s/.build.tmp.BBBBBB.qcow2", top);
	char *dead2 = xasprintf("%s/.incoming.tmp.CCCCCC", top);
	char *rmi = xasprintf("%s/.rmi.99999.DDDDDD/img", top);
	char *idx = xasprintf("%s/p1/index.yaml.tmp.EEEEEE", top);
	char *live = xasprintf("%s/.incoming.tmp.LIVE00", top);
	int fd;

	put("p8/Capstanfile", "cmdline: /x\n");
	assert_int_equal(build("p8/Capstanfile", "p8"), 0);
	assert_int_equal(fs_write_atomic(dead, "x", 1, 0644), 0);
	assert_int_equal(fs_write_atomic(deadmid, "x", 1, 0644), 0);
	assert_int_equal(fs_write_atomic(dead2, "x", 1, 0644), 0);
	assert_int_equal(fs_mkdirs(rmi, 0755), 0);
	assert_int_equal(fs_write_atomic(idx, "x", 1, 0644), 0);
	fd = open(live, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	assert_true(fs_tmp_orphaned(dead));
	assert_false(fs_tmp_orphaned(live));

	assert_int_equal(build("p8/Capstanfile", "p8"), 0);
	assert_false(fs_exists(dead));
	assert_false(fs_exists(deadmid));
	assert_false(fs_exists(dead2));
	assert_false(fs_exists(idx));
	*strrchr(rmi, '/') = '\0';
	assert_false(fs_exists(rmi));
	assert_true(fs_exists(live));
	close(fd);
	unlink(live);
	free(top);
	free(dead);
	free(deadmid);
	free(dead2);
	free(rmi);
	free(idx);
	free(live);
}

/* A new state folder is private; an existing one keeps its mode. */
static void test_state_folder_mode(void **state)
{
	struct stat st;
	char *old = ctx.root;

	assert_int_equal(stat(ctx.root, &st), 0); /* made by the builds above */
	assert_int_equal(st.st_mode & 0777, 0700);
	ctx.root = tpath("state/open");
	assert_int_equal(mkdir(ctx.root, 0755), 0);
	assert_int_equal(chmod(ctx.root, 0755), 0);
	put("p9/Capstanfile", "cmdline: /x\n");
	assert_int_equal(build("p9/Capstanfile", "p9"), 0);
	assert_int_equal(stat(ctx.root, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	free(ctx.root);
	ctx.root = old;
}

static void test_compose(void **state)
{
	struct layout_image img;
	char *dir = tpath("c1"), *file = tpath("c1/bin/tool");
	struct compose_opts o = {"comp", dir, "/bin/tool -x", 0};

	put("c1/bin/tool", "TOOL");
	put("c1/etc/conf", "C");
	assert_int_equal(build_compose(&ctx, &o), 0);
	read_image("comp", &img);
	assert_string_equal(img.cmdline, "/bin/tool -x");
	assert_non_null(find(&img, "/bin/tool"));
	assert_non_null(find(&img, "/etc/conf"));
	assert_null(find(&img, "/c1"));
	layout_image_release(&img);

	/* a file goes to /NAME, and is the default cmdline */
	o.name = "ns/one";
	o.source = file;
	o.cmdline = NULL;
	o.min_size = 64u << 20;
	assert_int_equal(build_compose(&ctx, &o), 0);
	read_image("ns/one", &img);
	assert_string_equal(img.cmdline, "/tool");
	assert_int_equal(img.nfiles, 1);
	layout_image_release(&img);
	char *p = xasprintf("%s/repository/ns/one/one.qemu", ctx.root);
	struct disk *d;
	assert_int_equal(disk_open(&d, p, DISK_RDONLY), 0);
	assert_int_equal(disk_size(d), 64u << 20);
	disk_close(d);
	free(p);

	/* a folder needs -c; content over -s; not a file or folder */
	o.source = dir;
	assert_int_equal(build_compose(&ctx, &o), -CAP_E_USAGE);
	o.cmdline = "/x";
	o.min_size = 4096;
	assert_int_equal(build_compose(&ctx, &o), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "more than the 4.0K of -s"));
	o.source = "/dev/null";
	o.min_size = 0;
	assert_int_equal(build_compose(&ctx, &o), -CAP_E_DATA);
	o.source = "/nonexistent";
	assert_int_equal(build_compose(&ctx, &o), -ENOENT);
	free(dir);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_files),
	    cmocka_unit_test(test_rootfs_made_by_build),
	    cmocka_unit_test(test_failures_leave_nothing),
	    cmocka_unit_test(test_deep_tree),
	    cmocka_unit_test(test_guest_path_limits),
	    cmocka_unit_test(test_stale_temps),
	    cmocka_unit_test(test_state_folder_mode),
	    cmocka_unit_test(test_compose),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
