// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for inst: run, stop, delete, --rm, reconcile and every rollback path of a run, on
// the fake backend (no QEMU).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/ctx.h"
#include "capstan/db.h"
#include "capstan/disk.h"
#include "capstan/image.h"
#include "capstan/err.h"
#include "capstan/hv.h"
#include "capstan/inst.h"
#include "capstan/repo.h"
#include "capstan/fs.h"
#include "capstan/str.h"

static char root[] = "/tmp/inst-test.XXXXXX";
static struct cap_ctx ctx;
static char *outtext;
static size_t outlen;
static struct hv_fake fake;

static int setup(void **state)
{
	char *img;
	struct repo_meta m = {0};

	memset(&fake, 0, sizeof(fake));
	fake.pid = 4242;
	hv_fake_install(&fake);
	if (!mkdtemp(root))
		return -1;
	cap_ctx_init(&ctx);
	ctx.root = xstrdup(root);
	ctx.repo_url = xasprintf("file://%s/no-registry", root);
	ctx.out = open_memstream(&outtext, &outlen);
	ctx.err = ctx.out;
	/* A 1 MiB raw disk: the instance overlays it; --boot disk needs no kernel. */
	img = xasprintf("%s/disk.raw", root);
	if (fs_write_atomic(img, "", 0, 0644) || truncate(img, 1 << 20) ||
	    repo_import(&ctx, "test/img", img, &m))
		return -1;
	free(img);
	return 0;
}

static int teardown(void **state)
{
	hv_fake_install(NULL);
	fclose(ctx.out);
	free(outtext);
	ctx.out = ctx.err = NULL;
	fs_rm_rf(root);
	free(ctx.root);
	ctx.root = NULL;
	cap_ctx_release(&ctx);
	return 0;
}

/* Before each test: a fresh script, no instances. */
static int fresh(void **state)
{
	char *p = cap_path(&ctx, "instances"), *db = cap_path(&ctx, "capstan.db");
	char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);

	fs_rm_rf(p);
	unlink(db);
	unlink(wal);
	unlink(shm);
	free(p);
	free(db);
	free(wal);
	free(shm);
	memset(&fake, 0, sizeof(fake));
	fake.pid = 4242;
	fake.end_state = HV_EXITED;
	return 0;
}

static struct inst_opts opts(const char *name, bool detach)
{
	struct inst_opts o = {0};

	o.image = "test/img";
	o.name = name;
	o.memory = 64 << 20;
	o.cpus = 1;
	o.boot = HV_BOOT_DISK;
	o.net = HV_NET_NONE;
	o.detach = detach;
	o.backend = "fake";
	return o;
}

static bool folder_exists(const char *name)
{
	char *p = cap_path(&ctx, "instances/qemu/%s", name);
	bool e = fs_exists(p);

	free(p);
	return e;
}

/* The row of name: 1 with *out filled, 0 if none. */
static int row(const char *name, struct db_instance *out)
{
	struct db *db = NULL;
	char *p = cap_path(&ctx, "capstan.db");
	int ret;

	assert_int_equal(db_open(p, &db), 0);
	free(p);
	ret = db_get(db, name, out);
	db_close(db);
	cap_errclear();
	return ret == 0;
}

static void assert_nothing_left(const char *name)
{
	struct db_instance i = {0};

	assert_false(row(name, &i));
	assert_false(folder_exists(name));
}

static void test_run_foreground(void **state)
{
	struct inst_opts o = opts("fg", false);
	struct db_instance i = {0};
	char *name = NULL;
	int status = -1;

	fake.exit_status = 3;
	o.cmdline = "/prog a b";
	assert_int_equal(inst_run(&ctx, &o, &status, &name), 0);
	assert_string_equal(name, "fg");
	assert_int_equal(status, 3);
	assert_string_equal(fake.cmdline, "/prog a b");
	assert_true(row("fg", &i));
	assert_int_equal(i.state, DB_EXITED);
	assert_int_equal(i.exit_status, 3);
	assert_string_equal(i.backend, "fake");
	assert_true(folder_exists("fg"));
	db_instance_release(&i);
	free(name);
	/* An ended instance of the same name is replaced. */
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_int_equal(fake.starts, 2);
	assert_int_equal(fake.releases, 1);
}

static void test_run_rm(void **state)
{
	struct inst_opts o = opts("gone", false);
	int status = -1;

	o.rm = true;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_int_equal(status, 0);
	assert_int_equal(fake.releases, 1);
	assert_nothing_left("gone");
}

static void test_detach_stop_delete(void **state)
{
	struct inst_opts o = opts("bg", true);
	struct db_instance i = {0}, *v = NULL;
	size_t n = 0;
	bool was, forced;
	int status = -1;

	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_true(row("bg", &i));
	assert_int_equal(i.state, DB_RUNNING);
	assert_int_equal(i.pid, 4242);
	db_instance_release(&i);
	assert_int_equal(inst_list(&ctx, false, &v, &n), 0);
	assert_int_equal(n, 1);
	db_instances_free(v, n);
	/* A live name is refused and the running one untouched. */
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_EXISTS);
	assert_true(fake.running);
	assert_int_equal(inst_stop(&ctx, "bg", 1000, &was, &forced), 0);
	assert_true(was);
	assert_false(fake.running);
	assert_true(row("bg", &i));
	assert_int_equal(i.state, DB_STOPPED);
	db_instance_release(&i);
	assert_int_equal(inst_stop(&ctx, "bg", 1000, &was, &forced), 0);
	assert_false(was);
	assert_int_equal(inst_delete(&ctx, "bg", 1000), 0);
	assert_int_equal(fake.releases, 1);
	assert_nothing_left("bg");
	assert_int_equal(inst_delete(&ctx, "bg", 1000), -CAP_E_NOTFOUND);
}

/* The VM went away behind capstan's back: the next listing says how. */
static void test_reconcile(void **state)
{
	struct inst_opts o = opts("crash", true);
	struct db_instance *v = NULL;
	size_t n = 0;
	int status;

	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	fake.running = false;
	fake.end_state = HV_CRASHED;
	fake.exit_status = -1;
	assert_int_equal(inst_list(&ctx, false, &v, &n), 0);
	assert_int_equal(n, 0);
	db_instances_free(v, n);
	assert_int_equal(inst_list(&ctx, true, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].state, DB_CRASHED);
	db_instances_free(v, n);

	/* A crashed row whose VM turns out to run again is running (a killed 'run -d'). */
	fake.running = true;
	fake.pid = 777;
	assert_int_equal(inst_list(&ctx, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].state, DB_RUNNING);
	assert_int_equal(v[0].pid, 777);
	db_instances_free(v, n);
	assert_int_equal(inst_delete(&ctx, "crash", 1000), 0);
}

/* ---- rollback: each failing stage leaves nothing, and says what failed ---- */

static void test_rollback_resolve(void **state)
{
	struct inst_opts o = opts("r1", false);
	int status;

	o.image = "test/none";
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_NOTFOUND);
	assert_non_null(strstr(cap_errmsg(-CAP_E_NOTFOUND), "test/none"));
	assert_int_equal(fake.starts, 0);
	assert_nothing_left("r1");
	o.image = "test/img";
	o.name = "-bad";
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_USAGE);
}

static void test_rollback_backend(void **state)
{
	struct inst_opts o = opts("r2", false);
	int status;

	fake.fail_probe = CAP_E_UNAVAIL;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_UNAVAIL);
	assert_string_equal(cap_errmsg(-CAP_E_UNAVAIL), "fake: probe fails");
	assert_nothing_left("r2");
	o.backend = "nope";
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_USAGE);
}

static void test_rollback_claim(void **state)
{
	struct inst_opts o = opts("r3", true);
	struct db_instance i = {0};
	int status;

	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_EXISTS);
	assert_true(row("r3", &i));
	assert_int_equal(i.state, DB_RUNNING);
	assert_true(folder_exists("r3"));
	db_instance_release(&i);
	assert_int_equal(inst_delete(&ctx, "r3", 1000), 0);
}

static void test_rollback_prepare(void **state)
{
	struct inst_opts o = opts("r4", false);
	char *p = cap_path(&ctx, "instances/qemu");
	int status;

	/* A file where the folder of instances must go. */
	assert_int_equal(fs_mkdirs(p, 0700), 0);
	assert_int_equal(fs_rm_rf(p), 0);
	assert_int_equal(fs_write_atomic(p, "x", 1, 0600), 0);
	assert_true(inst_run(&ctx, &o, &status, NULL) < 0);
	assert_int_equal(fake.starts, 0);
	struct db_instance i = {0};
	assert_false(row("r4", &i));
	unlink(p);
	free(p);
}

static void test_rollback_start(void **state)
{
	struct inst_opts o = opts("r5", true);
	int status;

	fake.fail_start = CAP_E_UNAVAIL;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_UNAVAIL);
	assert_string_equal(cap_errmsg(-CAP_E_UNAVAIL), "fake: start fails");
	assert_int_equal(fake.stops, 0);
	assert_nothing_left("r5");
}

/* The row vanishes between start and record: the started VM is stopped again. */
static void drop_row(struct hv_fake *f)
{
	struct db *db = NULL;
	char *p = cap_path(&ctx, "capstan.db");

	assert_int_equal(db_open(p, &db), 0);
	assert_int_equal(db_delete(db, "r6"), 0);
	db_close(db);
	free(p);
}

static void test_rollback_record(void **state)
{
	struct inst_opts o = opts("r6", true);
	int status;

	fake.on_start = drop_row;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_NOTFOUND);
	assert_int_equal(fake.starts, 1);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.releases, 1);
	assert_false(fake.running);
	assert_nothing_left("r6");
}

/* A failing attach keeps the instance: it was recorded, it is the user's to inspect. */
static void test_attach_crash_keeps(void **state)
{
	struct inst_opts o = opts("r7", false);
	struct db_instance i = {0};
	int status;

	fake.end_state = HV_CRASHED;
	fake.exit_status = 1;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_UNAVAIL);
	assert_non_null(strstr(cap_errmsg(-CAP_E_UNAVAIL), "ended abnormally"));
	assert_true(row("r7", &i));
	assert_int_equal(i.state, DB_CRASHED);
	db_instance_release(&i);
	assert_true(folder_exists("r7"));
}

/* --env goes before the command line as the kernel's --env= words, quoted. */
static void test_env_cmdline(void **state)
{
	struct inst_opts o = opts("env", false);
	const char *env[] = {"A=1", "B=it's x"};
	int status;

	o.env = env;
	o.nenv = 2;
	o.cmdline = "/prog";
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_string_equal(fake.cmdline, "--env='A=1' --env='B=it'\\''s x' /prog");
	/* without -e: before the image's own command line (empty in this image) */
	o.cmdline = NULL;
	o.nenv = 1;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_string_equal(fake.cmdline, "--env='A=1' ");
	const char *bad[] = {"=x"};
	o.env = bad;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_USAGE);
	const char *bad2[] = {"1A=x"};
	o.env = bad2;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), -CAP_E_USAGE);
}

/* --boot disk: the kernel reads its command line from the disk, so -e goes into the overlay. */
static void test_disk_boot_cmdline(void **state)
{
	struct inst_opts o = opts("dboot", false);
	char buf[64] = {0}, *p = cap_path(&ctx, "instances/qemu/dboot/disk.qcow2");
	struct disk *d = NULL;
	int status;

	o.cmdline = "/prog disk 0";
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	assert_int_equal(disk_open(&d, p, DISK_RDONLY), 0);
	assert_int_equal(disk_read(d, buf, sizeof(buf), CAP_IMG_CMDLINE_OFFSET), 0);
	disk_close(d);
	assert_string_equal(buf, "/prog disk 0");
	free(p);
}

/* 'run NAME' of an ended instance relaunches it with its recorded settings. */
static void test_relaunch(void **state)
{
	struct inst_opts o = opts("again", false);
	struct hv_port fwd;
	struct db_instance i = {0};
	int status;

	assert_int_equal(hv_port_parse("127.0.0.1:18080:80", &fwd), 0);
	o.memory = 96 << 20;
	o.cpus = 2;
	o.net = HV_NET_NAT;
	o.ports = &fwd;
	o.nports = 1;
	assert_int_equal(inst_run(&ctx, &o, &status, NULL), 0);
	struct inst_opts r = {0};
	r.image = "again";
	r.memory = 64 << 20;
	r.cpus = 1;
	r.backend = "qemu";
	assert_int_equal(inst_run(&ctx, &r, &status, NULL), 0);
	assert_int_equal(fake.starts, 2);
	assert_true(row("again", &i));
	assert_string_equal(i.image, "test/img");
	assert_string_equal(i.backend, "fake");
	assert_int_equal(i.memory, 96 << 20);
	assert_int_equal(i.cpus, 2);
	assert_string_equal(i.ports, "127.0.0.1:18080->80/tcp");
	assert_string_equal(i.boot, "disk");
	db_instance_release(&i);
	/* a running one is not relaunched over */
	r.detach = true;
	assert_int_equal(inst_run(&ctx, &r, &status, NULL), 0);
	assert_int_equal(inst_run(&ctx, &r, &status, NULL), -CAP_E_EXISTS);
	assert_int_equal(inst_delete(&ctx, "again", 1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_run_foreground, fresh),
	    cmocka_unit_test_setup(test_run_rm, fresh),
	    cmocka_unit_test_setup(test_detach_stop_delete, fresh),
	    cmocka_unit_test_setup(test_reconcile, fresh),
	    cmocka_unit_test_setup(test_rollback_resolve, fresh),
	    cmocka_unit_test_setup(test_rollback_backend, fresh),
	    cmocka_unit_test_setup(test_rollback_claim, fresh),
	    cmocka_unit_test_setup(test_rollback_prepare, fresh),
	    cmocka_unit_test_setup(test_rollback_start, fresh),
	    cmocka_unit_test_setup(test_rollback_record, fresh),
	    cmocka_unit_test_setup(test_attach_crash_keeps, fresh),
	    cmocka_unit_test_setup(test_env_cmdline, fresh),
	    cmocka_unit_test_setup(test_disk_boot_cmdline, fresh),
	    cmocka_unit_test_setup(test_relaunch, fresh),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
