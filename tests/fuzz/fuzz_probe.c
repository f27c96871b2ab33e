// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for image header probing (qcow2, VDI, VMDK sparse and descriptor).
#include <stddef.h>
#include <stdint.h>

#include "capstan/err.h"
#include "capstan/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_info in;
	size_t need = 0;
	int ret;

	/* The input is the whole file, then a prefix of a file twice as long. */
	ret = probe_buf(data, size, size, "fuzz", &in, &need);
	if (ret == 1)
		__builtin_trap(); /* the whole file is there: never ask for more */
	probe_info_release(&in);
	ret = probe_buf(data, size, (uint64_t)size * 2, "fuzz", &in, &need);
	if (ret == 1 && (need <= size || need > (2u << 20)))
		__builtin_trap();
	probe_info_release(&in);
	cap_errclear();
	return 0;
}
