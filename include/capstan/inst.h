/* SPDX-License-Identifier: BSD-3-Clause */
/* Instances: run, list (reconciled), stop, delete and logs, over the database and a backend. */
#ifndef CAPSTAN_INST_H
#define CAPSTAN_INST_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capstan/ctx.h"
#include "capstan/db.h"
#include "capstan/hv.h"

struct inst_opts {
	const char *image; /* "ns/name" in the local repository */
	const char *name;  /* instance name, NULL: the image's with '/' -> '-' */
	uint64_t memory;   /* bytes */
	int cpus;
	const char *cmdline; /* -e: replaces the image's command line, NULL keeps it */
	/* --env NAME=VALUE: the kernel's --env= options, before the command line */
	const char *const *env;
	size_t nenv;
	const char *mac; /* --mac: the NIC's address, NULL for QEMU's default */
	enum hv_net net;
	const char *netdev; /* -b */
	const struct hv_port *ports;
	size_t nports;
	enum hv_accel accel;
	enum hv_boot boot;
	bool detach;
	bool rm;	     /* delete the instance when it ends (foreground) */
	int timeout;	     /* seconds, 0 = none */
	bool verbose;	     /* print the hypervisor command line */
	const char *backend; /* "qemu" (NULL) or "libvirt" */
	const char *connect; /* libvirt URI */
	/* Called once the VM runs (foreground), e.g. to let signal handlers reach it. */
	void (*started)(void *arg, int64_t pid);
	void *started_arg;
};

/*
 * Create and start an instance.  Nothing is left behind on failure (no row,
 * no folder).  Foreground: returns when the VM ends, *exit_status = the
 * program's status (decoded from the kernel's exit channel); detached: when
 * it is up, *exit_status = 0.  *name_out (malloc'd) is the instance name.
 */
int inst_run(struct cap_ctx *ctx, const struct inst_opts *o, int *exit_status, char **name_out);

/* The instance name for an image: '/' becomes '-'. */
char *inst_default_name(const char *image);
/* [A-Za-z0-9][A-Za-z0-9._-]*, at most 64 bytes; -CAP_E_USAGE otherwise. */
int inst_name_valid(const char *name);

/*
 * Rows (all = include ended ones), reconciled first: a running row whose VM
 * is gone becomes exited (N), stopped or crashed.
 */
int inst_list(struct cap_ctx *ctx, bool all, struct db_instance **v, size_t *n);
/* "running", "exited (3)", "crashed"... into buf. */
const char *inst_state_str(const struct db_instance *i, char *buf, size_t len);

/* Stop: graceful, forced after timeout_ms.  *forced tells which; *was_running false if it had
 * ended. */
int inst_stop(struct cap_ctx *ctx, const char *name, int timeout_ms, bool *was_running,
	      bool *forced);
/* Stop if running, release the backend's side, remove the folder and the row. */
int inst_delete(struct cap_ctx *ctx, const char *name, int timeout_ms);
/*
 * The guest's IPv4 address as its kernel announced it on the console ("eth0: A.B.C.D",
 * the last such line in the first 64 KiB), into buf (at least 16 bytes); "" when the
 * console shows none.  The console is the guest's: anything else there is ignored.
 */
void inst_address(const struct cap_ctx *ctx, const struct db_instance *i, char *buf, size_t len);
/* Copy the console log to ctx->out; follow: until the instance ends. */
int inst_logs(struct cap_ctx *ctx, const char *name, bool follow);

#endif
