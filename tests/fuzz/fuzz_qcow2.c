// SPDX-License-Identifier: BSD-3-Clause
// fuzz_qcow2.c: libFuzzer harness for the qcow2 reader (header, extensions, L1/L2, compressed
// clusters) and the stand-alone check of backing file names.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[1 << 16];
	struct disk *d = NULL;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	/* the check import, pull and run make of backing and data file names */
	probe_standalone_fd(fd, "fuzz");
	cap_errclear();
	/* never follow backing file names out of the input */
	if (disk_qcow2_open_fd(&d, fd, DISK_RDONLY | DISK_NOBACKING, NULL) == 0) {
		uint64_t sz = disk_size(d);
		/* the first and last 64 KiB and a few spots between, all through the map */
		for (uint64_t i = 0; i < 8 && sz; i++) {
			uint64_t off = (sz / 8) * i;
			size_t n = sz - off < sizeof(buf) ? (size_t)(sz - off) : sizeof(buf);
			disk_read(d, buf, n, off);
		}
		disk_close(d);
	}
	close(fd);
	return 0;
}
