/* SPDX-License-Identifier: BSD-3-Clause */
/* Child processes (util/proc.c). */
#ifndef CAPSTAN_PROC_H
#define CAPSTAN_PROC_H

#include "capstan/str.h"

/*
 * Run argv (argv[0] looked up in PATH) in dir (NULL: current), wait for it.
 * If out is non-NULL, stdout+stderr are captured into it; else inherited.
 * Returns the exit status (0..255), 128+signal if killed, or -errno.
 */
int proc_run(const char *const argv[], const char *dir, struct strbuf *out);

#endif
