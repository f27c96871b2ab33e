// SPDX-License-Identifier: BSD-3-Clause
// fuzz_compose.c: libFuzzer harness for the image header and the cpio root fs parser.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capstan/disk.h"
#include "capstan/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct layout_file *files = NULL;
	struct layout_image img;
	struct disk *d = NULL;
	size_t n = 0;
	int fd;

	/* the archive parser alone */
	if (cpio_parse(data, size, &files, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			layout_file_release(&files[i]);
		free(files);
	}
	/* a whole image: header checks, then kernel and archive when the checksums match */
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	if (disk_raw_open_fd(&d, fd, DISK_RDONLY) == 0) {
		if (layout_image_read(d, &img) == 0)
			layout_image_release(&img);
		disk_close(d);
	}
	close(fd);
	return 0;
}
