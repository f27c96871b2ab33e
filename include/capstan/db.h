/* SPDX-License-Identifier: BSD-3-Clause */
/* Instance state in $CAPSTAN_ROOT/capstan.db (SQLite, WAL, versioned schema). */
#ifndef CAPSTAN_DB_H
#define CAPSTAN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Any number of capstan processes may hold the database open at once: it is in
 * WAL mode with a busy timeout, and every write is one IMMEDIATE transaction.
 * The schema version is PRAGMA user_version; db_open() applies the forward
 * migrations an older file needs and refuses a newer one.
 */
struct db;

/* The newest schema version this build writes. */
#define DB_SCHEMA_VERSION 3

/*
 * Instance states.  Stored as their names ("created", "running", ...), which
 * is what every schema version holds, so existing databases read as they are.
 */
enum db_state {
	DB_CREATED,  /* row claimed, VM not started yet */
	DB_RUNNING,  /* the backend runs it */
	DB_STOPPING, /* 'capstan stop' is powering it off */
	DB_EXITED,   /* the program ended; exit_status is set */
	DB_STOPPED,  /* stopped by 'capstan stop' */
	DB_CRASHED,  /* the VM went away and nobody saw its status */
};

/* "created", "running", ... */
const char *db_state_name(enum db_state s);
/* The state a stored name means; 0, or -CAP_E_DATA for a name no version wrote. */
int db_state_parse(const char *name, enum db_state *out);
/* Created, running or stopping: a VM is (or is about to be) there. */
bool db_state_live(enum db_state s);

struct db_instance {
	char *name;
	char *image;	/* "ns/name" */
	char *backend;	/* "qemu", "libvirt" */
	char *platform; /* instances/<platform>/, "qemu" */
	char *boot;	/* "direct", "disk" */
	char *accel;	/* "kvm", "tcg" */
	char *net;	/* "nat", "bridge", "tap", "none" */
	char *ports;	/* canonical forwards, comma-separated, "" if none */
	char *connect;	/* libvirt URI, NULL for qemu */
	char *uuid;	/* libvirt domain UUID, NULL for qemu */
	enum db_state state;
	uint64_t memory; /* bytes */
	int cpus;
	int64_t pid;	   /* QEMU pid, 0 if none */
	int64_t pid_start; /* its start time (/proc/PID/stat field 22), guards against pid reuse */
	int exit_status;   /* -1 when unknown */
	int64_t created, started, stopped; /* Unix time in ms, 0 if not yet */
};

/* Open (creating and migrating as needed) the database at path. */
int db_open(const char *path, struct db **out);
void db_close(struct db *db);
/* The schema version of an open database (after migration). */
int db_version(struct db *db);

/* Insert a new row; -CAP_E_EXISTS with a message if the name is taken. */
int db_insert(struct db *db, const struct db_instance *inst);
/* One row by name; -CAP_E_NOTFOUND with a message if absent. */
int db_get(struct db *db, const char *name, struct db_instance *out);
/*
 * Rows sorted by creation time; all = false leaves out exited, stopped and
 * crashed ones (keeps created, running and stopping).  Free with db_instances_free().
 */
int db_list(struct db *db, bool all, struct db_instance **out, size_t *n);
/* Mark running with its pid (and start time) or libvirt UUID. */
int db_set_running(struct db *db, const char *name, int64_t pid, int64_t pid_start,
		   const char *uuid, int64_t started);
/* Running -> stopping (returns 1), or back (stopping = false); 0 if the row was not in the old
 * state. */
int db_set_stopping(struct db *db, const char *name, bool stopping);
/*
 * Record the end: state is DB_EXITED, DB_STOPPED or DB_CRASHED.  Only rows
 * still in DB_CREATED, DB_RUNNING or DB_STOPPING change, so the first
 * observer wins and a late reconcile does not overwrite a recorded exit
 * status; a row being stopped always ends as DB_STOPPED.  Returns 1 if the
 * row changed, 0 if not.
 */
int db_set_ended(struct db *db, const char *name, enum db_state state, int exit_status,
		 int64_t stopped);
/* Remove a row (a missing row is not an error). */
int db_delete(struct db *db, const char *name);

void db_instance_release(struct db_instance *inst);
void db_instances_free(struct db_instance *v, size_t n);

/* Current time in ms since the epoch, as stored in the time columns. */
int64_t db_now_ms(void);

#endif
