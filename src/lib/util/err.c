// SPDX-License-Identifier: BSD-3-Clause
// The per-thread error message and the code-to-exit-status table.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/banned.h"

static _Thread_local char errbuf[1024];

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

int cap_errctx(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(errbuf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf[0] ? errbuf : cap_strerror(code), sizeof(old));
	old[sizeof(old) - 1] = '\0';
	size_t n = strlen(prefix);
	if (n > sizeof(errbuf) - 3)
		n = sizeof(errbuf) - 3;
	memcpy(errbuf, prefix, n);
	memcpy(errbuf + n, ": ", 2);
	n += 2;
	size_t m = strnlen(old, sizeof(errbuf) - 1 - n);
	memcpy(errbuf + n, old, m);
	errbuf[n + m] = '\0';
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
	return errbuf[0] ? errbuf : cap_strerror(code);
}

void cap_errclear(void)
{
	errbuf[0] = '\0';
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
