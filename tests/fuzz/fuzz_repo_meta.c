// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the local repository's per-image index.yaml (repo_meta_parse).
#include <stddef.h>
#include <stdint.h>

#include "capstan/err.h"
#include "capstan/repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct repo_meta m;

	if (repo_meta_parse("index.yaml", (const char *)data, size, &m) == 0)
		repo_meta_release(&m);
	cap_errclear();
	return 0;
}
