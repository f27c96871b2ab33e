// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the shared library resolver's ELF reader (PT_INTERP, PT_DYNAMIC, strings).
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capstan/elfdeps.h"
#include "capstan/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *has_nothing(void *arg, const char *guest)
{
	(void)arg;
	(void)guest;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const none[] = {NULL};
	struct elfdeps_conf c = {NULL, none, NULL, none};
	struct elfdeps d = {0};
	char path[64];
	int fd = memfd_create("elf", 0);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		__builtin_trap();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* no library can be found (an interpreter may, on the host): an error names what is missing
	 */
	int ret = elfdeps_scan(&d, &c, has_nothing, NULL, "/fuzz", path, false);
	if (ret && ret != -CAP_E_DATA)
		__builtin_trap();
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].guest[0] != '/' || !d.v[i].host)
			__builtin_trap();
	elfdeps_release(&d);
	close(fd);
	cap_errclear();
	return 0;
}
