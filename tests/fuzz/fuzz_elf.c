// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the kernel's ELF executable checks (src/kernel/kelf.c).
#include <stddef.h>
#include <stdint.h>

#include "kelf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kelf_info info;
	/* as the loader does: the first 4 KiB, and the whole file size */
	size_t head = size < 4096 ? size : 4096;
	if (kelf_check(data, head, size, &info) == 0) {
		/* what the loader then relies on */
		if (info.nload < 1 || info.nload > KELF_MAX_PHDR || info.lo > info.hi)
			__builtin_trap();
		for (int i = 0; i < info.nload; i++)
			if (info.load[i].offset + info.load[i].filesz > size ||
			    info.load[i].filesz > info.load[i].memsz)
				__builtin_trap();
		if (info.interp_size && info.interp_off + info.interp_size > size)
			__builtin_trap();
	}
	return 0;
}
