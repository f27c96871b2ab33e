// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the Capstanfile parser.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capstan/cfile.h"
#include "capstan/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfile cf;

	/* The folder does not exist, so rootfs checks take their error path. */
	if (cfile_parse(&cf, "Capstanfile", "/nonexistent/fuzz", (const char *)data, size) == 0) {
		/* Whatever parses must keep the struct's promises. */
		if (!cf.cmdline || !*cf.cmdline || strchr(cf.cmdline, '\n'))
			__builtin_trap();
		for (size_t i = 0; i < cf.nfiles; i++)
			if (cf.files[i].guest[0] != '/' || !cf.files[i].host[0])
				__builtin_trap();
		for (size_t i = 0; i < cf.nwarnings; i++)
			if (strncmp(cf.warnings[i], "Capstanfile:", 12))
				__builtin_trap();
		cfile_resolve_rootfs(&cf);
	}
	cfile_release(&cf);
	cap_errclear();
	return 0;
}
