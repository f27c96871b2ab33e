/* SPDX-License-Identifier: BSD-3-Clause */
/* The settings every command runs with, and the output handle. */
#ifndef CAPSTAN_CTX_H
#define CAPSTAN_CTX_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * Precedence for every setting: command-line flag > environment > config.yaml
 * > built-in default.  cap_ctx_load() applies environment and config on top of
 * whatever the caller already set from flags (non-NULL fields are kept).
 */
struct cap_ctx {
	char *root;	 /* $CAPSTAN_ROOT, default ~/.capstan */
	char *repo_url;	 /* -u, CAPSTAN_REPO_URL, config repo_url, default registry */
	char *qemu_path; /* CAPSTAN_QEMU_PATH, config qemu_path, else searched */
	char *datadir;	 /* where the default registry tree lives */
	int disable_kvm; /* -1 unset, CAPSTAN_DISABLE_KVM, config disable_kvm */
	int verbose;	 /* -v count */
	bool quiet;	 /* -q */
	bool json;	 /* --json */
	bool insecure;	 /* --insecure: skip TLS verification */
	FILE *out;	 /* results (stdout) */
	FILE *err;	 /* diagnostics (stderr) */
	/*
	 * The signal (SIGINT, SIGTERM...) that asked the command to stop, set by
	 * the front end's handler; 0 if none.  Long operations check it and end
	 * cleanly with CAP_E_INTR.
	 */
	volatile sig_atomic_t interrupted;
};

void cap_ctx_init(struct cap_ctx *ctx);
/* Fill unset fields from env, $root/config.yaml and defaults. */
int cap_ctx_load(struct cap_ctx *ctx);
void cap_ctx_release(struct cap_ctx *ctx);

/* Output through the handle: info is silenced by -q, verbose needs -v. */
void cap_info(const struct cap_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cap_verbose(const struct cap_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cap_warn(const struct cap_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Path helper: returns malloc'd "$root/<fmt>". */
char *cap_path(const struct cap_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
