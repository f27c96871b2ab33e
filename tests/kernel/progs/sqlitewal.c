/* SPDX-License-Identifier: BSD-3-Clause */
/* SQLite in WAL mode, which keeps its index in a shared mapping of the -shm file (glibc builds
 * only). */
/* cc-prog-libs: -lsqlite3 -lm */
#include <sqlite3.h>
#include <unistd.h>
#include "check.h"

static char db_path[64];

static int count_rows(void *arg, int n, char **v, char **cols)
{
	*(long *)arg = n == 1 && v[0] ? atol(v[0]) : -1;
	return 0;
}

static int run(sqlite3 *db, const char *sql, long *out)
{
	char *err = NULL;
	int r = sqlite3_exec(db, sql, out ? count_rows : NULL, out, &err);
	if (r != SQLITE_OK)
		printf("sqlite: %s: %s\n", sql, err ? err : "?");
	sqlite3_free(err);
	return r;
}

int main(void)
{
	sqlite3 *db;
	long n = 0;
	snprintf(db_path, sizeof(db_path), "/tmp/capstan-wal-%d.db", (int)getpid());
	CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
	CHECK(run(db, "PRAGMA journal_mode=WAL", NULL) == SQLITE_OK);
	CHECK(run(db, "CREATE TABLE t(a INTEGER, b TEXT)", NULL) == SQLITE_OK);
	CHECK(run(db, "BEGIN", NULL) == SQLITE_OK);
	char sql[128];
	for (int i = 0; i < 1000; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(%d, 'row %d')", i, i);
		if (run(db, sql, NULL) != SQLITE_OK)
			break;
	}
	CHECK(run(db, "COMMIT", NULL) == SQLITE_OK);
	CHECK(run(db, "SELECT sum(a) FROM t", &n) == SQLITE_OK && n == 499500);
	CHECK(access(db_path, F_OK) == 0);
	char shm[80];
	snprintf(shm, sizeof(shm), "%s-shm", db_path);
	CHECK(access(shm, F_OK) == 0);
	CHECK(run(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL) == SQLITE_OK);
	CHECK(sqlite3_close(db) == SQLITE_OK);

	/* a second connection finds everything */
	CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
	CHECK(run(db, "SELECT count(*) FROM t", &n) == SQLITE_OK && n == 1000);
	CHECK(run(db, "PRAGMA journal_mode", NULL) == SQLITE_OK);
	CHECK(sqlite3_close(db) == SQLITE_OK);
	unlink(db_path);
	printf("sqlitewal: 1000 rows through the WAL and back\n");
	return check_done();
}
