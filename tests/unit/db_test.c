// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for db: a real SQLite file, migrations from version 1, concurrent writers.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/db.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"

static char *tmpdir;

static int setup(void **state)
{
	char t[] = "/tmp/capstan-db-test.XXXXXX";

	if (!mkdtemp(t))
		return -1;
	tmpdir = xstrdup(t);
	return 0;
}

static int teardown(void **state)
{
	fs_rm_rf(tmpdir);
	free(tmpdir);
	return 0;
}

static struct db_instance sample(const char *name)
{
	struct db_instance i = {0};

	i.name = (char *)name;
	i.image = "capstan/hello";
	i.backend = "qemu";
	i.platform = "qemu";
	i.boot = "direct";
	i.accel = "tcg";
	i.net = "nat";
	i.ports = "127.0.0.1:8080->80/tcp";
	i.memory = 64 << 20;
	i.cpus = 1;
	i.exit_status = -1;
	return i;
}

static void test_roundtrip(void **state)
{
	char *path = xasprintf("%s/rt.db", tmpdir);
	struct db *db = NULL;
	struct db_instance in = sample("hello"), out;
	struct db_instance *v;
	size_t n;

	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(db_version(db), DB_SCHEMA_VERSION);
	assert_int_equal(db_insert(db, &in), 0);
	assert_int_equal(db_insert(db, &in), -CAP_E_EXISTS);
	assert_non_null(strstr(cap_errmsg(-CAP_E_EXISTS), "'hello' already exists"));
	assert_int_equal(db_get(db, "nope", &out), -CAP_E_NOTFOUND);

	assert_int_equal(db_get(db, "hello", &out), 0);
	assert_string_equal(out.image, "capstan/hello");
	assert_int_equal(out.state, DB_CREATED);
	assert_string_equal(out.ports, "127.0.0.1:8080->80/tcp");
	assert_null(out.uuid);
	assert_int_equal(out.memory, 64 << 20);
	assert_int_equal(out.exit_status, -1);
	assert_true(out.created > 0);
	db_instance_release(&out);

	assert_int_equal(db_set_running(db, "hello", 1234, 99, NULL, db_now_ms()), 0);
	assert_int_equal(db_set_running(db, "nope", 1, 1, NULL, 1), -CAP_E_NOTFOUND);
	assert_int_equal(db_list(db, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].pid, 1234);
	assert_int_equal(v[0].pid_start, 99);
	db_instances_free(v, n);

	/* The first observer of the end wins; later ones change nothing. */
	assert_int_equal(db_set_ended(db, "hello", DB_EXITED, 42, db_now_ms()), 1);
	assert_int_equal(db_set_ended(db, "hello", DB_CRASHED, -1, db_now_ms()), 0);
	assert_int_equal(db_get(db, "hello", &out), 0);
	assert_int_equal(out.state, DB_EXITED);
	assert_int_equal(out.exit_status, 42);
	db_instance_release(&out);

	assert_int_equal(db_list(db, false, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(db_list(db, true, &v, &n), 0);
	assert_int_equal(n, 1);
	db_instances_free(v, n);

	assert_int_equal(db_delete(db, "hello"), 0);
	assert_int_equal(db_delete(db, "hello"), 0);
	assert_int_equal(db_get(db, "hello", &out), -CAP_E_NOTFOUND);
	db_close(db);
	free(path);
}

/* A row being stopped ends as stopped whoever sees the VM go. */
static void test_stopping(void **state)
{
	char *path = xasprintf("%s/stop.db", tmpdir);
	struct db *db = NULL;
	struct db_instance in = sample("s"), out, *v;
	size_t n;

	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(db_insert(db, &in), 0);
	assert_int_equal(db_set_stopping(db, "s", true), 0); /* not running yet */
	assert_int_equal(db_set_running(db, "s", 1, 1, NULL, 1), 0);
	assert_int_equal(db_set_stopping(db, "s", true), 1);
	assert_int_equal(db_list(db, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].state, DB_STOPPING);
	db_instances_free(v, n);
	assert_int_equal(db_set_stopping(db, "s", false), 1);
	assert_int_equal(db_set_stopping(db, "s", true), 1);
	assert_int_equal(db_set_ended(db, "s", DB_EXITED, 0, 5), 1);
	assert_int_equal(db_get(db, "s", &out), 0);
	assert_int_equal(out.state, DB_STOPPED);
	assert_int_equal(out.stopped, 5);
	db_instance_release(&out);
	db_close(db);
	free(path);
}

/* A file written by the first schema (as an old capstan left it) migrates in place. */
static void test_migrate_from_v1(void **state)
{
	char *path = xasprintf("%s/v1.db", tmpdir);
	sqlite3 *h;
	struct db *db = NULL;
	struct db_instance out;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(
		h,
		"CREATE TABLE instances (name TEXT PRIMARY KEY NOT NULL, image TEXT NOT NULL,"
		" backend TEXT NOT NULL, platform TEXT NOT NULL, boot TEXT NOT NULL,"
		" memory INTEGER NOT NULL, cpus INTEGER NOT NULL, ports TEXT NOT NULL DEFAULT '',"
		" pid INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
		" exit_status INTEGER NOT NULL DEFAULT -1, created INTEGER NOT NULL,"
		" started INTEGER NOT NULL DEFAULT 0, stopped INTEGER NOT NULL DEFAULT 0);"
		"INSERT INTO instances (name, image, backend, platform, boot, memory, cpus, state,"
		" exit_status, created) VALUES ('old', 'capstan/base', 'qemu', 'qemu', 'disk',"
		" 134217728, 2, 'exited', 3, 1000);"
		"PRAGMA user_version = 1;",
		NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);

	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(db_version(db), DB_SCHEMA_VERSION);
	assert_int_equal(db_get(db, "old", &out), 0);
	assert_string_equal(out.image, "capstan/base");
	assert_string_equal(out.boot, "disk");
	assert_string_equal(out.net, "nat");
	assert_string_equal(out.accel, "");
	assert_null(out.connect);
	assert_int_equal(out.exit_status, 3);
	assert_int_equal(out.cpus, 2);
	assert_int_equal(out.state, DB_EXITED); /* the stored string, read as the enum */
	db_instance_release(&out);
	db_close(db);

	/* Every state name any version wrote reads back; one none wrote is "crashed". */
	static const char *const names[] = {"created", "running", "stopping",
					    "exited",  "stopped", "crashed"};
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	for (size_t i = 0; i < 6; i++) {
		char *sql =
		    xasprintf("UPDATE instances SET state = '%s' WHERE name = 'old'", names[i]);
		assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
		free(sql);
		assert_int_equal(db_open(path, &db), 0);
		assert_int_equal(db_get(db, "old", &out), 0);
		assert_int_equal(out.state, (enum db_state)i);
		assert_string_equal(db_state_name(out.state), names[i]);
		db_instance_release(&out);
		db_close(db);
	}
	assert_int_equal(sqlite3_exec(h, "UPDATE instances SET state = 'paused' WHERE name = 'old'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(db_get(db, "old", &out), 0);
	assert_int_equal(out.state, DB_CRASHED);
	db_instance_release(&out);
	db_close(db);

	/* Reopening a current file changes nothing. */
	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(db_version(db), DB_SCHEMA_VERSION);
	db_close(db);
	free(path);
}

static void test_newer_schema_refused(void **state)
{
	char *path = xasprintf("%s/new.db", tmpdir);
	sqlite3 *h;
	struct db *db = NULL;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(db_open(path, &db), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "newer than this capstan knows"));
	assert_null(db);
	free(path);
}

static void test_not_a_database(void **state)
{
	char *path = xasprintf("%s/junk.db", tmpdir);
	struct db *db = NULL;

	assert_int_equal(
	    fs_write_atomic(path, "this is not sqlite, not at all, really not.....", 48, 0600), 0);
	int ret = db_open(path, &db);
	assert_true(ret < 0);
	assert_non_null(strstr(cap_errmsg(ret), "junk.db"));
	free(path);
}

/* Several processes open a fresh file at once and each inserts rows: none is lost. */
static void test_concurrent_writers(void **state)
{
	char *path = xasprintf("%s/conc.db", tmpdir);
	enum { PROCS = 8, ROWS = 25 };
	pid_t pids[PROCS];
	struct db *db = NULL;
	struct db_instance *v;
	size_t n;

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct db *d = NULL;
			int bad = 0;
			if (db_open(path, &d))
				_exit(2);
			for (int r = 0; r < ROWS; r++) {
				char name[32];
				snprintf(name, sizeof(name), "p%d-r%d", p, r);
				struct db_instance in = sample(name);
				if (db_insert(d, &in) ||
				    db_set_running(d, name, 100 + r, 1, NULL, db_now_ms()))
					bad = 1;
			}
			db_close(d);
			_exit(bad);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int st;
		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(db_list(db, false, &v, &n), 0);
	assert_int_equal(n, PROCS * ROWS);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].state, DB_RUNNING);
	db_instances_free(v, n);
	db_close(db);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),	    cmocka_unit_test(test_stopping),
	    cmocka_unit_test(test_migrate_from_v1), cmocka_unit_test(test_newer_schema_refused),
	    cmocka_unit_test(test_not_a_database),  cmocka_unit_test(test_concurrent_writers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
