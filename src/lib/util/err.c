// SPDX-License-Identifier: BSD-3-Clause
// The per-thread error message and the code-to-exit-status table.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/banned.h"

static _Thread_local char errbuf[1024];
static _Thread_local int errcode; /* the code errbuf was recorded for (positive) */

static const char *const messages[] = {
    [CAP_E_USAGE - CAP_E_BASE] = "usage error",
    [CAP_E_DATA - CAP_E_BASE] = "bad data",
    [CAP_E_NOTFOUND - CAP_E_BASE] = "not found",
    [CAP_E_EXISTS - CAP_E_BASE] = "already exists",
    [CAP_E_UNAVAIL - CAP_E_BASE] = "service unavailable",
    [CAP_E_CHILD - CAP_E_BASE] = "child process failed",
    [CAP_E_INTR - CAP_E_BASE] = "interrupted",
};

static int norm(int code)
{
	return code < 0 ? -code : code;
}

int cap_verrf(int code, const char *fmt, va_list ap)
{
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	errcode = norm(code);
	return -norm(code);
}

int cap_errf(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cap_verrf(code, fmt, ap);
	va_end(ap);
	return -norm(code);
}

int cap_errnof(int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err) /* a call that failed without setting errno must not read as success */
		err = EIO;
	const char *why = strerror(norm(err));
	va_start(ap, fmt);
	cap_verrf(err, fmt, ap);
	va_end(ap);
	n = strlen(errbuf);
	snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", why);
	return -norm(err);
}

int cap_errctx(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(errbuf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(old, sizeof(old), "%s", cap_errmsg(code));
	size_t n = strlen(prefix);
	if (n > sizeof(errbuf) - 3)
		n = sizeof(errbuf) - 3;
	memcpy(errbuf, prefix, n);
	memcpy(errbuf + n, ": ", 2);
	n += 2;
	size_t m = strnlen(old, sizeof(errbuf) - 1 - n);
	memcpy(errbuf + n, old, m);
	errbuf[n + m] = '\0';
	errcode = norm(code);
	return -norm(code);
}

const char *cap_strerror(int code)
{
	code = norm(code);
	if (code > CAP_E_BASE && code < CAP_E_MAX)
		return messages[code - CAP_E_BASE];
	return strerror(code);
}

const char *cap_errmsg(int code)
{
	return errbuf[0] && errcode == norm(code) ? errbuf : cap_strerror(code);
}

void cap_errclear(void)
{
	errbuf[0] = '\0';
	errcode = 0;
}

void cap_errsave(struct cap_errsaved *s)
{
	s->code = errcode;
	memcpy(s->msg, errbuf, sizeof(s->msg));
}

void cap_errrestore(const struct cap_errsaved *s)
{
	errcode = s->code;
	memcpy(errbuf, s->msg, sizeof(errbuf));
}

int cap_exit_code(int code)
{
	switch (norm(code)) {
	case 0:
		return CAP_EXIT_OK;
	case CAP_E_USAGE:
		return CAP_EXIT_USAGE;
	case CAP_E_DATA:
	case CAP_E_NOTFOUND:
	case CAP_E_EXISTS:
	case CAP_E_CHILD:
		return CAP_EXIT_DATA;
	case CAP_E_UNAVAIL:
		return CAP_EXIT_UNAVAIL;
	default:
		return CAP_EXIT_IO;
	}
}
