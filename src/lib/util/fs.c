// SPDX-License-Identifier: BSD-3-Clause
// File helpers: atomic replacement, mkdir -p, rm -rf, locks, full reads and writes.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "capstan/banned.h"

int fs_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = cap_errnof(errno, "cannot create folder '%s'", p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!ret) {
		struct stat st;
		if (stat(path, &st) < 0)
			ret = cap_errnof(errno, "cannot create folder '%s'", path);
		else if (!S_ISDIR(st.st_mode))
			ret = cap_errf(ENOTDIR, "'%s' is not a folder", path);
	}
	free(p);
	return ret;
}

static int rm_at(int at, const char *name)
{
	struct stat st;
	int ret = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			int r = rm_at(dirfd(d), de->d_name);
			if (r && !ret)
				ret = r;
		}
		closedir(d);
		if (unlinkat(at, name, AT_REMOVEDIR) < 0 && !ret)
			ret = -errno;
	} else if (unlinkat(at, name, 0) < 0 && errno != ENOENT) {
		ret = -errno;
	}
	return ret;
}

int fs_rm_rf(const char *path)
{
	int ret = rm_at(AT_FDCWD, path);

	if (ret)
		return cap_errnof(ret, "cannot remove '%s'", path);
	return 0;
}

int fs_read_all(const char *path, char **data, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return cap_errnof(errno, "cannot open '%s'", path);
	sb_add(&sb, "", 0);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			sb_release(&sb);
			return cap_errnof(e, "cannot read '%s'", path);
		}
		sb_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (len)
		*len = sb.len;
	*data = sb_detach(&sb);
	return 0;
}

int fs_read_regular(const char *path, size_t max, char **data, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return cap_errnof(errno, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		ret = cap_errnof(errno, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cap_errf(CAP_E_DATA, "'%s' is not a regular file", path);
		goto out;
	}
	sb_add(&sb, "", 0);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = cap_errnof(errno, "cannot read '%s'", path);
			goto out;
		}
		/* checked while reading: the file may grow after fstat */
		if (sb.len + (size_t)n > max) {
			ret = cap_errf(CAP_E_DATA, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	if (len)
		*len = sb.len;
	*data = sb_detach(&sb);
out:
	close(fd);
	sb_release(&sb);
	return ret;
}

bool fs_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int fs_file_size(const char *path, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return cap_errnof(errno, "cannot stat '%s'", path);
	*size = (uint64_t)st.st_size;
	return 0;
}

int fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

/*
 * A temp file appears in its folder already holding its owner's shared
 * flock (the mark fs_tmp_orphaned() looks for), so a concurrent sweep never
 * sees it unmarked: it is made unnamed (O_TMPFILE), locked, then linked
 * under a random name.  Filesystems without O_TMPFILE get mkostemp and a
 * lock taken right after, which leaves a window of a few instructions.
 */
static int tmp_link_named(struct fs_tmp *t, const char *final_path)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char *dir = xstrdup(final_path), *slash = strrchr(dir, '/');
	char proc[64];
	int fd, e = EEXIST;

	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	fd = open(slash ? dir : ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(dir);
	if (fd < 0)
		return -errno;
	flock(fd, LOCK_SH);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int tries = 0; tries < 100 && e == EEXIST; tries++) {
		unsigned char rnd[6];
		size_t n = strlen(t->tmp_path);
		if (getentropy(rnd, sizeof(rnd)) < 0)
			break;
		for (int i = 0; i < 6; i++)
			t->tmp_path[n - 6 + i] = set[rnd[i] % (sizeof(set) - 1)];
		e = linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp_path, AT_SYMLINK_FOLLOW) == 0 ? 0
											  : errno;
	}
	if (e) {
		close(fd);
		return -e;
	}
	return fd;
}

int fs_tmp_open(struct fs_tmp *t, const char *final_path, mode_t mode)
{
	t->final_path = xstrdup(final_path);
	t->tmp_path = xasprintf("%s.tmp.XXXXXX", final_path);
	t->fd = tmp_link_named(t, final_path);
	if (t->fd < 0) {
		memcpy(t->tmp_path + strlen(t->tmp_path) - 6, "XXXXXX", 6);
		t->fd = mkostemp(t->tmp_path, O_CLOEXEC);
		if (t->fd >= 0)
			flock(t->fd, LOCK_SH);
	}
	if (t->fd < 0) {
		int e = errno;
		free(t->tmp_path);
		free(t->final_path);
		t->tmp_path = t->final_path = NULL;
		return cap_errnof(e, "cannot create a file beside '%s'", final_path);
	}
	fchmod(t->fd, mode);
	return 0;
}

static void tmp_release(struct fs_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->tmp_path);
	free(t->final_path);
	t->tmp_path = t->final_path = NULL;
}

void fs_tmp_abort(struct fs_tmp *t)
{
	if (t->tmp_path)
		unlink(t->tmp_path);
	tmp_release(t);
}

int fs_tmp_commit(struct fs_tmp *t)
{
	int ret = 0;

	if (fsync(t->fd) < 0) {
		ret = cap_errnof(errno, "cannot write '%s'", t->final_path);
		fs_tmp_abort(t);
		return ret;
	}
	if (close(t->fd) < 0) {
		t->fd = -1;
		ret = cap_errnof(errno, "cannot write '%s'", t->final_path);
		fs_tmp_abort(t);
		return ret;
	}
	t->fd = -1;
	if (rename(t->tmp_path, t->final_path) < 0) {
		ret = cap_errnof(errno, "cannot rename into '%s'", t->final_path);
		fs_tmp_abort(t);
		return ret;
	}
	char *dir = xstrdup(t->final_path);
	fs_sync_dir(dirname(dir));
	free(dir);
	tmp_release(t);
	return 0;
}

int fs_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* short file */
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct fs_tmp t;
	int ret = fs_tmp_open(&t, path, mode);

	if (ret)
		return ret;
	ret = fs_write_full(t.fd, data, len);
	if (ret) {
		ret = cap_errnof(ret, "cannot write '%s'", path);
		fs_tmp_abort(&t);
		return ret;
	}
	return fs_tmp_commit(&t);
}

int fs_copy_fd(int src_fd, int dst_fd, uint64_t len)
{
	char buf[1 << 16];

	while (len) {
		ssize_t n = copy_file_range(src_fd, NULL, dst_fd, NULL, len, 0);
		if (n > 0) {
			len -= (uint64_t)n;
			continue;
		}
		if (n == 0)
			return -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		/* fall back to read/write */
		n = read(src_fd, buf, len < sizeof(buf) ? len : sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		int r = fs_write_full(dst_fd, buf, (size_t)n);
		if (r)
			return r;
		len -= (uint64_t)n;
	}
	return 0;
}

bool fs_tmp_orphaned(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	bool orphan;

	if (fd < 0)
		return false;
	orphan = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return orphan;
}

int fs_lock(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return cap_errnof(errno, "cannot open lock '%s'", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return cap_errnof(e, "cannot lock '%s'", path);
	}
	return fd;
}

void fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the flock */
}
