// SPDX-License-Identifier: BSD-3-Clause
// The instance database: SQLite in WAL mode, schema migrations by PRAGMA user_version.
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "capstan/db.h"
#include "capstan/err.h"
#include "capstan/str.h"
#include "capstan/banned.h"

struct db {
	sqlite3 *h;
	char *path;
};

/* How long a writer waits for another capstan process to finish its transaction. */
#define DB_BUSY_MS 30000

/*
 * Forward migrations: migrations[i] takes a version-i file to version i+1.
 * Never edit a released step; add one.
 */
static const char *const migrations[DB_SCHEMA_VERSION] = {
    /* 0 -> 1: the instance table */
    "CREATE TABLE instances ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " image TEXT NOT NULL,"
    " backend TEXT NOT NULL,"
    " platform TEXT NOT NULL,"
    " boot TEXT NOT NULL,"
    " memory INTEGER NOT NULL,"
    " cpus INTEGER NOT NULL,"
    " ports TEXT NOT NULL DEFAULT '',"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL,"
    " exit_status INTEGER NOT NULL DEFAULT -1,"
    " created INTEGER NOT NULL,"
    " started INTEGER NOT NULL DEFAULT 0,"
    " stopped INTEGER NOT NULL DEFAULT 0);",
    /* 1 -> 2: accelerator, network mode, pid start time (pid reuse guard) */
    "ALTER TABLE instances ADD COLUMN accel TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE instances ADD COLUMN net TEXT NOT NULL DEFAULT 'nat';"
    "ALTER TABLE instances ADD COLUMN pid_start INTEGER NOT NULL DEFAULT 0;",
    /* 2 -> 3: libvirt connection and domain; listing by state */
    "ALTER TABLE instances ADD COLUMN connect TEXT;"
    "ALTER TABLE instances ADD COLUMN uuid TEXT;"
    "CREATE INDEX instances_state ON instances(state, created);",
};

static const char *const state_names[] = {
    [DB_CREATED] = "created", [DB_RUNNING] = "running", [DB_STOPPING] = "stopping",
    [DB_EXITED] = "exited",   [DB_STOPPED] = "stopped", [DB_CRASHED] = "crashed",
};

const char *db_state_name(enum db_state s)
{
	return (size_t)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s]
									: "crashed";
}

int db_state_parse(const char *name, enum db_state *out)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (name && !strcmp(name, state_names[i])) {
			*out = (enum db_state)i;
			return 0;
		}
	return cap_errf(CAP_E_DATA, "unknown instance state '%s'", name ? name : "(null)");
}

bool db_state_live(enum db_state s)
{
	return s == DB_CREATED || s == DB_RUNNING || s == DB_STOPPING;
}

static int db_fail(struct db *db, int rc, const char *what)
{
	int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED	   ? EBUSY
		   : (rc & 0xff) == SQLITE_FULL					   ? ENOSPC
		   : (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR ? EIO
		   : (rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_PERM  ? EACCES
		   : (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB ? CAP_E_DATA
										   : EIO;
	return cap_errf(code, "%s: %s: %s", db->path, what,
			db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
}

static int exec(struct db *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, rc, what);
}

static int user_version(struct db *db, int *v)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : db_fail(db, rc, "cannot read the schema version");
}

/* Bring the file to DB_SCHEMA_VERSION, one step per transaction, under the write lock. */
static int migrate(struct db *db)
{
	int v, ret;

	if ((ret = user_version(db, &v)))
		return ret;
	if (v == DB_SCHEMA_VERSION)
		return 0;
	if ((ret = exec(db, "BEGIN IMMEDIATE", "cannot lock for migration")))
		return ret;
	/* Another process may have migrated while we waited for the lock. */
	if ((ret = user_version(db, &v)))
		goto fail;
	if (v > DB_SCHEMA_VERSION) {
		ret = cap_errf(CAP_E_DATA,
			       "%s: schema version %d is newer than this capstan knows (%d)",
			       db->path, v, DB_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < DB_SCHEMA_VERSION; v++) {
		char pragma[64];
		if ((ret = exec(db, migrations[v], "cannot migrate the schema")))
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if ((ret = exec(db, pragma, "cannot set the schema version")))
			goto fail;
	}
	return exec(db, "COMMIT", "cannot commit the migration");
fail:
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int db_open(const char *path, struct db **out)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int rc, ret;

	db->path = xstrdup(path);
	rc = sqlite3_open_v2(
	    path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		ret = db_fail(db, rc, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(db->h, DB_BUSY_MS);
	/*
	 * Leave checkpoints to the automatic one (every 1000 pages): a checkpoint
	 * and two fsyncs at every close would cost each command milliseconds.
	 */
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_extended_result_codes(db->h, 1);
	/* WAL: readers (capstan instances) never wait for writers (capstan run). */
	/*
	 * Several processes opening a fresh file race to switch it to WAL; the
	 * loser can get SQLITE_BUSY without the busy handler being consulted
	 * (lock upgrade deadlock), so retry here for as long as the handler would.
	 */
	for (int waited = 0;; waited += 10) {
		rc = sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= DB_BUSY_MS)
			break;
		usleep(10 * 1000);
	}
	if (rc != SQLITE_OK) {
		ret = db_fail(db, rc, "cannot switch to WAL");
		goto fail;
	}
	if ((ret = exec(db, "PRAGMA synchronous = NORMAL", "cannot set synchronous")))
		goto fail;
	if ((ret = migrate(db)))
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return ret;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

int db_version(struct db *db)
{
	int v = -1;

	user_version(db, &v);
	return v;
}

int64_t db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int db_insert(struct db *db, const struct db_instance *in)
{
	static const char sql[] =
	    "INSERT INTO instances (name, image, backend, platform, boot, accel, net, memory, "
	    "cpus, ports,"
	    " connect, uuid, state, pid, pid_start, exit_status, created, started, stopped)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare insert");
	bind_text(st, 1, in->name);
	bind_text(st, 2, in->image);
	bind_text(st, 3, in->backend);
	bind_text(st, 4, in->platform);
	bind_text(st, 5, in->boot);
	bind_text(st, 6, in->accel ? in->accel : "");
	bind_text(st, 7, in->net ? in->net : "nat");
	sqlite3_bind_int64(st, 8, (sqlite3_int64)in->memory);
	sqlite3_bind_int(st, 9, in->cpus);
	bind_text(st, 10, in->ports ? in->ports : "");
	bind_text(st, 11, in->connect);
	bind_text(st, 12, in->uuid);
	bind_text(st, 13, db_state_name(in->state));
	sqlite3_bind_int64(st, 14, in->pid);
	sqlite3_bind_int64(st, 15, in->pid_start);
	sqlite3_bind_int(st, 16, in->exit_status);
	sqlite3_bind_int64(st, 17, in->created ? in->created : db_now_ms());
	sqlite3_bind_int64(st, 18, in->started);
	sqlite3_bind_int64(st, 19, in->stopped);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		ret =
		    cap_errf(CAP_E_EXISTS, "instance '%s' already exists (see 'capstan delete %s')",
			     in->name, in->name);
	else if (rc != SQLITE_DONE)
		ret = db_fail(db, rc, "cannot insert");
	sqlite3_finalize(st);
	return ret;
}

#define COLS                                                                                       \
	"name, image, backend, platform, boot, accel, net, memory, cpus, ports, connect, uuid, "   \
	"state, pid,"                                                                              \
	" pid_start, exit_status, created, started, stopped"

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

static void read_row(sqlite3_stmt *st, struct db_instance *o)
{
	memset(o, 0, sizeof(*o));
	o->name = col_dup(st, 0);
	o->image = col_dup(st, 1);
	o->backend = col_dup(st, 2);
	o->platform = col_dup(st, 3);
	o->boot = col_dup(st, 4);
	o->accel = col_dup(st, 5);
	o->net = col_dup(st, 6);
	o->memory = (uint64_t)sqlite3_column_int64(st, 7);
	o->cpus = sqlite3_column_int(st, 8);
	o->ports = col_dup(st, 9);
	o->connect = col_dup(st, 10);
	o->uuid = col_dup(st, 11);
	/* A state no version wrote: the VM is not known to be there. */
	if (db_state_parse((const char *)sqlite3_column_text(st, 12), &o->state)) {
		cap_errclear();
		o->state = DB_CRASHED;
	}
	o->pid = sqlite3_column_int64(st, 13);
	o->pid_start = sqlite3_column_int64(st, 14);
	o->exit_status = sqlite3_column_int(st, 15);
	o->created = sqlite3_column_int64(st, 16);
	o->started = sqlite3_column_int64(st, 17);
	o->stopped = sqlite3_column_int64(st, 18);
}

int db_get(struct db *db, const char *name, struct db_instance *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db->h, "SELECT " COLS " FROM instances WHERE name = ?", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare query");
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	else if (rc == SQLITE_DONE)
		ret = cap_errf(CAP_E_NOTFOUND,
			       "no instance named '%s' (see 'capstan instances -a')", name);
	else
		ret = db_fail(db, rc, "cannot query");
	sqlite3_finalize(st);
	return ret;
}

int db_list(struct db *db, bool all, struct db_instance **out, size_t *n)
{
	const char *sql = all ? "SELECT " COLS " FROM instances ORDER BY created, name"
			      : "SELECT " COLS
				" FROM instances WHERE state IN ('created', 'running', 'stopping')"
				" ORDER BY created, name";
	struct db_instance *v = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare query");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		read_row(st, &v[cnt++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_instances_free(v, cnt);
		return db_fail(db, rc, "cannot list instances");
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Run one prepared write; returns the number of changed rows or a negative code. */
static int write1(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_DONE ? sqlite3_changes(db->h) : db_fail(db, rc, what);

	sqlite3_finalize(st);
	return ret;
}

int db_set_running(struct db *db, const char *name, int64_t pid, int64_t pid_start,
		   const char *uuid, int64_t started)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	rc = sqlite3_prepare_v2(
	    db->h,
	    "UPDATE instances SET state = 'running', pid = ?, pid_start = ?, uuid = ?,"
	    " started = ?, stopped = 0, exit_status = -1 WHERE name = ?",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare update");
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, pid_start);
	bind_text(st, 3, uuid);
	sqlite3_bind_int64(st, 4, started);
	bind_text(st, 5, name);
	ret = write1(db, st, "cannot update");
	if (ret == 0)
		return cap_errf(CAP_E_NOTFOUND, "no instance named '%s'", name);
	return ret < 0 ? ret : 0;
}

int db_set_ended(struct db *db, const char *name, enum db_state state, int exit_status,
		 int64_t stopped)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(
	    db->h,
	    "UPDATE instances SET state = CASE state WHEN 'stopping' THEN 'stopped' ELSE ? END,"
	    " exit_status = ?, stopped = ?"
	    " WHERE name = ? AND state IN ('created', 'running', 'stopping')",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare update");
	bind_text(st, 1, db_state_name(state));
	sqlite3_bind_int(st, 2, exit_status);
	sqlite3_bind_int64(st, 3, stopped);
	bind_text(st, 4, name);
	return write1(db, st, "cannot update");
}

int db_set_stopping(struct db *db, const char *name, bool stopping)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(
	    db->h, "UPDATE instances SET state = ? WHERE name = ? AND state = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare update");
	bind_text(st, 1, db_state_name(stopping ? DB_STOPPING : DB_RUNNING));
	bind_text(st, 2, name);
	bind_text(st, 3, db_state_name(stopping ? DB_RUNNING : DB_STOPPING));
	return write1(db, st, "cannot update");
}

int db_delete(struct db *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	rc = sqlite3_prepare_v2(db->h, "DELETE FROM instances WHERE name = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot prepare delete");
	bind_text(st, 1, name);
	ret = write1(db, st, "cannot delete");
	return ret < 0 ? ret : 0;
}

void db_instance_release(struct db_instance *i)
{
	free(i->name);
	free(i->image);
	free(i->backend);
	free(i->platform);
	free(i->boot);
	free(i->accel);
	free(i->net);
	free(i->ports);
	free(i->connect);
	free(i->uuid);
	memset(i, 0, sizeof(*i));
}

void db_instances_free(struct db_instance *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		db_instance_release(&v[i]);
	free(v);
}
