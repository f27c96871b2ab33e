/* SPDX-License-Identifier: BSD-3-Clause */
/* stat, lstat, fstat, newfstatat and statx on a file, a directory and a symlink. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	struct stat st, st2;

	CHECK(stat("data/hello.txt", &st) == 0);
	CHECK(S_ISREG(st.st_mode) && st.st_size == 24 && (st.st_mode & 0444));
	CHECK(st.st_blksize > 0);
	CHECK(stat("data/dir", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(stat("data/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 24);
	CHECK(lstat("data/link", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 9);
	CHECK(stat("data/missing", &st) == -1 && errno == ENOENT);
	CHECK(stat("data/hello.txt", &st) == 0);
	int fd = open("data/hello.txt", O_RDONLY);
	CHECK(fd >= 0 && fstat(fd, &st2) == 0);
	CHECK(st2.st_ino == st.st_ino && st2.st_size == st.st_size);
	close(fd);
	int dfd = open("data", O_RDONLY | O_DIRECTORY);
	CHECK(fstatat(dfd, "hello.txt", &st2, 0) == 0 && st2.st_ino == st.st_ino);
	CHECK(fstatat(dfd, "link", &st2, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st2.st_mode));
	CHECK(fstatat(AT_FDCWD, "data/hello.txt", &st2, 0) == 0 && st2.st_size == 24);

	/* statx by number: older libcs have no wrapper. */
	unsigned char sx[256];
	memset(sx, 0, sizeof(sx));
	CHECK(syscall(SYS_statx, dfd, "hello.txt", 0, 0x7ffu, sx) == 0);
	uint32_t mask;
	uint16_t mode;
	uint64_t size;
	memcpy(&mask, sx, 4);
	memcpy(&mode, sx + 28, 2);
	memcpy(&size, sx + 40, 8);
	CHECK((mask & 0x200u) && size == 24);  /* STATX_SIZE */
	CHECK((mask & 0x1u) && S_ISREG(mode)); /* STATX_TYPE */
	close(dfd);
	printf("stat: size 24, dir, symlink of 9 bytes\n");
	return check_done();
}
