/* SPDX-License-Identifier: BSD-3-Clause */
/* Files: folders, whole-file reads, atomic replacement, full reads and writes, locks (util/fs.c).
 */
#ifndef CAPSTAN_FS_H
#define CAPSTAN_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* mkdir -p with the given mode for every folder it creates. */
int fs_mkdirs(const char *path, mode_t mode);
/* rm -rf; a missing path is not an error. */
int fs_rm_rf(const char *path);
/* Read a whole file (NUL-terminated, *len excludes the NUL). */
int fs_read_all(const char *path, char **data, size_t *len);
bool fs_exists(const char *path);
int fs_file_size(const char *path, uint64_t *size);
/* fsync a directory (after a rename into it). */
int fs_sync_dir(const char *dir);

/*
 * Atomic replacement: fs_tmp_open() creates "<final>.tmp.XXXXXX" in the same
 * folder; write to fd; fs_tmp_commit() fsyncs, renames over final and fsyncs the
 * folder; fs_tmp_abort() unlinks.  Both release the struct and close the fd.
 */
struct fs_tmp {
	int fd;
	char *tmp_path;
	char *final_path;
};
int fs_tmp_open(struct fs_tmp *t, const char *final_path, mode_t mode);
int fs_tmp_commit(struct fs_tmp *t);
void fs_tmp_abort(struct fs_tmp *t);
/* Whole-buffer convenience over the three above. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* write(2)/pwrite(2) loops that handle short writes and EINTR; return 0 or -errno. */
int fs_write_full(int fd, const void *buf, size_t len);
int fs_pwrite_full(int fd, const void *buf, size_t len, off_t off);
int fs_pread_full(int fd, void *buf, size_t len, off_t off);
/* Copy src to an open fd (uses copy_file_range where it can). */
int fs_copy_fd(int src_fd, int dst_fd, uint64_t len);

/* Exclusive advisory lock on "<path>" (created if missing); returns fd or -errno. */
int fs_lock(const char *path);
void fs_unlock(int fd);

#endif
