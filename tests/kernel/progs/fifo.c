/* SPDX-License-Identifier: BSD-3-Clause */
/* FIFOs: mkfifo and mknod, opening each end, data through, what stat and readdir say. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	const char *path = "/tmp/capstan-fifo";
	struct stat st;
	char buf[64];

	unlink(path);
	CHECK(mkfifo(path, 0640) == 0);
	CHECK(mkfifo(path, 0640) == -1 && errno == EEXIST);
	CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_size == 0);
	CHECK((st.st_mode & 0777) == (0640 & ~umask(022)));

	/* a writer without a reader: ENXIO when it will not wait */
	CHECK(open(path, O_WRONLY | O_NONBLOCK) == -1 && errno == ENXIO);
	/* a non-blocking reader opens at once, and then a writer finds it */
	int rd = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(rd >= 0);
	CHECK(read(rd, buf, sizeof(buf)) == 0); /* no writer yet: end of file */
	int wr = open(path, O_WRONLY);
	CHECK(wr >= 0);
	CHECK(read(rd, buf, sizeof(buf)) == -1 && errno == EAGAIN);
	CHECK(write(wr, "through the fifo", 16) == 16);
	struct pollfd p = {.fd = rd, .events = POLLIN};
	CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN));
	CHECK(read(rd, buf, sizeof(buf)) == 16 && !memcmp(buf, "through the fifo", 16));
	CHECK(lseek(wr, 0, SEEK_SET) == -1 && errno == ESPIPE);
	close(wr);
	close(rd);

	/* O_RDWR holds both ends: data stays while it is open */
	int rw = open(path, O_RDWR);
	CHECK(rw >= 0);
	CHECK(write(rw, "both", 4) == 4 && read(rw, buf, sizeof(buf)) == 4);
	close(rw);

	/* mknod S_IFIFO, seen by readdir as a FIFO */
	const char *path2 = "/tmp/capstan-fifo2";
	unlink(path2);
	CHECK(mknod(path2, S_IFIFO | 0600, 0) == 0);
	CHECK(lstat(path2, &st) == 0 && S_ISFIFO(st.st_mode));
	DIR *d = opendir("/tmp");
	struct dirent *e;
	int seen = 0;
	while (d && (e = readdir(d)))
		if (!strcmp(e->d_name, "capstan-fifo2"))
			seen = e->d_type == DT_FIFO;
	CHECK(seen);
	closedir(d);
	CHECK(unlink(path) == 0 && unlink(path2) == 0);
	printf("fifo: mkfifo, mknod, both ends, O_RDWR ok\n");
	return check_done();
}
