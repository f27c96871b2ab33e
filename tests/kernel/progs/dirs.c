/* SPDX-License-Identifier: BSD-3-Clause */
/* Directories: getdents64 through readdir, mkdir, chdir, getcwd, relative paths. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the sorted names in path, "." and ".." left out. */
static int list(const char *path)
{
	char *names[32];
	int n = 0;
	DIR *d = opendir(path);
	struct dirent *e;

	CHECK(d != NULL);
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < 32)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	printf("%s:", path);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
	return n;
}

int main(void)
{
	char cwd[256], top[256];

	CHECK(getcwd(top, sizeof(top)) != NULL);
	CHECK(list("data/dir") == 2);
	CHECK(mkdir("data/made", 0755) == 0);
	CHECK(mkdir("data/made", 0755) == -1 && errno == EEXIST);
	CHECK(mkdir("data/nope/sub", 0755) == -1 && errno == ENOENT);
	CHECK(chdir("data/made") == 0);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	size_t tl = strlen(top);
	CHECK(strncmp(cwd, top, tl) == 0 &&
	      strcmp(cwd + tl, tl > 1 ? "/data/made" : "data/made") == 0);
	int fd = open("inner.txt", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	CHECK(mkdir("sub", 0700) == 0);
	CHECK(chdir("..") == 0);
	CHECK(list("made") == 2);
	CHECK(chdir("dir") == 0 && access("../made/inner.txt", F_OK) == 0);
	CHECK(chdir("/") == 0 && getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0);
	CHECK(chdir("/nonexistent-dir") == -1 && errno == ENOENT);
	CHECK(chdir(top) == 0);
	CHECK(chdir("data/hello.txt") == -1 && errno == ENOTDIR);

	/* getdents64 on a larger directory: every name exactly once. */
	CHECK(mkdir("/tmp/capstan-many", 0755) == 0 || errno == EEXIST);
	for (int i = 0; i < 100; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/tmp/capstan-many/file-with-a-long-name-%03d", i);
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		CHECK(fd >= 0);
		close(fd);
	}
	DIR *d = opendir("/tmp/capstan-many");
	int seen[100] = {0}, total = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int i;
		if (sscanf(e->d_name, "file-with-a-long-name-%d", &i) == 1 && i >= 0 && i < 100) {
			seen[i]++;
			total++;
		}
	}
	if (d)
		closedir(d);
	for (int i = 0; i < 100; i++)
		CHECK(seen[i] == 1);
	printf("many: %d entries\n", total);
	return check_done();
}
