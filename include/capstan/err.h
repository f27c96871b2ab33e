/* SPDX-License-Identifier: BSD-3-Clause */
/* Error codes and the one-line error message every libcapstan call leaves behind. */
#ifndef CAPSTAN_ERR_H
#define CAPSTAN_ERR_H

#include <stdarg.h>

/*
 * Convention: functions return 0 (or a count) on success and a negative code
 * on failure: -errno for system errors, or -CAP_E_* below.  The human message
 * is recorded with cap_errf() and read with cap_errmsg().
 */
enum cap_err {
	CAP_E_BASE = 4096,
	CAP_E_USAGE,	/* bad command line: exit 64 */
	CAP_E_DATA,	/* bad Capstanfile, index.yaml, image: exit 65 */
	CAP_E_NOTFOUND, /* named image or instance does not exist: exit 65 */
	CAP_E_EXISTS,	/* name already in use: exit 65 */
	CAP_E_UNAVAIL,	/* hypervisor, registry, network unavailable: exit 69 */
	CAP_E_CHILD,	/* a child process (build step, qemu-img) failed: exit 65 */
	CAP_E_INTR,	/* interrupted by a signal: exit 74 */
	CAP_E_MAX,
};

/* Exit codes (sysexits.h values) documented in capstan(1). */
enum cap_exit {
	CAP_EXIT_OK = 0,
	CAP_EXIT_USAGE = 64,
	CAP_EXIT_DATA = 65,
	CAP_EXIT_UNAVAIL = 69,
	CAP_EXIT_IO = 74,
};

/* Record a message for code (negative or positive) and return -|code|. */
int cap_errf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cap_verrf(int code, const char *fmt, va_list ap);
/*
 * For a system error: err is an errno value (either sign, e.g. errno or a
 * -errno return); records "<message>: <strerror(err)>" and returns -|err|.
 */
int cap_errnof(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with "what: " (for adding context on the way up). */
int cap_errctx(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The message recorded in this thread for code, or cap_strerror(code) when
 * the last message was recorded for another code (or none was).
 */
const char *cap_errmsg(int code);
void cap_errclear(void);
const char *cap_strerror(int code);
int cap_exit_code(int code);

/*
 * Rollback code that may fail itself (and record its own message) keeps the
 * error it is undoing: save it first, restore it after.
 */
struct cap_errsaved {
	int code;
	char msg[1024];
};
void cap_errsave(struct cap_errsaved *s);
void cap_errrestore(const struct cap_errsaved *s);

#endif
