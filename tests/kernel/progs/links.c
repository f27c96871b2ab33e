/* SPDX-License-Identifier: BSD-3-Clause */
/* Hard links: one file under several names, what stat and readdir say, unlink and rename of either
 * name. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static ino_t ino_of(const char *p, nlink_t *nlink)
{
	struct stat st;
	if (lstat(p, &st))
		return 0;
	if (nlink)
		*nlink = st.st_nlink;
	return st.st_ino;
}

static int read_is(const char *path, const char *want)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n);
}

int main(void)
{
	nlink_t nl = 0;
	mkdir("/tmp/capstan-links", 0755);
	CHECK(chdir("/tmp/capstan-links") == 0);
	int fd = open("a", O_CREAT | O_TRUNC | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, "one", 3) == 3);
	close(fd);

	CHECK(link("a", "b") == 0);
	CHECK(ino_of("a", &nl) == ino_of("b", NULL) && nl == 2);
	CHECK(link("a", "b") == -1 && errno == EEXIST);
	CHECK(link("/tmp", "d") == -1 && errno == EPERM);
	CHECK(link("missing", "m") == -1 && errno == ENOENT);

	fd = open("b", O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "+two", 4) == 4);
	close(fd);
	CHECK(read_is("a", "one+two"));
	CHECK(chmod("b", 0600) == 0);
	struct stat st;
	CHECK(stat("a", &st) == 0 && (st.st_mode & 0777) == 0600);

	/* readdir shows both names with one inode number */
	DIR *d = opendir(".");
	struct dirent *e;
	ino_t seen[2] = {0, 0};
	while (d && (e = readdir(d)))
		if (!strcmp(e->d_name, "a") || !strcmp(e->d_name, "b"))
			seen[e->d_name[0] - 'a'] = e->d_ino;
	closedir(d);
	CHECK(seen[0] && seen[0] == seen[1]);

	/* the first name goes: the file lives on under the second */
	CHECK(unlink("a") == 0 && ino_of("a", NULL) == 0);
	CHECK(ino_of("b", &nl) && nl == 1 && read_is("b", "one+two"));
	CHECK(link("b", "c") == 0 && unlink("c") == 0 && ino_of("b", &nl) && nl == 1);

	/* rename between two names of one file does nothing */
	CHECK(link("b", "c") == 0 && rename("b", "c") == 0);
	CHECK(ino_of("b", NULL) && ino_of("c", NULL) == ino_of("b", NULL));
	CHECK(rename("c", "renamed") == 0 && ino_of("renamed", &nl) == ino_of("b", NULL) &&
	      nl == 2);

	/* a link to a symbolic link is a link to the link itself, unless AT_SYMLINK_FOLLOW */
	CHECK(symlink("b", "sym") == 0);
	CHECK(linkat(AT_FDCWD, "sym", AT_FDCWD, "sym2", 0) == 0);
	CHECK(lstat("sym2", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(linkat(AT_FDCWD, "sym", AT_FDCWD, "via", AT_SYMLINK_FOLLOW) == 0);
	CHECK(lstat("via", &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == ino_of("b", NULL));
	CHECK(ino_of("b", &nl) && nl == 3);

	const char *all[] = {"b", "renamed", "sym", "sym2", "via"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		CHECK(unlink(all[i]) == 0);
	CHECK(chdir("/") == 0 && rmdir("/tmp/capstan-links") == 0);
	printf("links: names, nlink, unlink and rename of either ok\n");
	return check_done();
}
