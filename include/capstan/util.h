/* SPDX-License-Identifier: BSD-3-Clause */
/* Small shared helpers: files written atomically, locks, strings, sizes, JSON, child processes. */
#ifndef CAPSTAN_UTIL_H
#define CAPSTAN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* ---- files ---- */

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

/* ---- strings ---- */

struct strbuf {
	char *buf;
	size_t len, cap;
};
#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
void sb_add(struct strbuf *sb, const void *data, size_t len);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Detach the buffer (never NULL). */
char *sb_detach(struct strbuf *sb);

/* Allocation that aborts on OOM: the CLI has no sensible recovery. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy with truncation, always NUL-terminates; returns strlen(src). */
size_t strlcpy_(char *dst, const char *src, size_t size);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* Levenshtein distance, for "did you mean" hints. */
size_t str_distance(const char *a, const char *b);
/* t as ISO 8601 / RFC 3339 UTC, "2024-05-01T10:00:00Z" (malloc'd): index.yaml's created. */
char *str_utc_time(time_t t);

/* ---- sizes ---- */

/*
 * "512", "64K", "64M", "1G", "2T", also "64MB", "64m", "1gb", "1GiB": bytes.
 * A bare number means bytes unless default_unit is given (e.g. 1<<20 for MiB).
 */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);
/* "1.5M" style human size (buf >= 16 bytes). */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);

/* ---- JSON output ---- */

struct json {
	FILE *f;
	int depth;
	bool need_comma[32];
};
void json_init(struct json *j, FILE *f);
void json_begin_obj(struct json *j, const char *key);
void json_end_obj(struct json *j);
void json_begin_arr(struct json *j, const char *key);
void json_end_arr(struct json *j);
void json_str(struct json *j, const char *key, const char *val); /* NULL -> null */
void json_int(struct json *j, const char *key, int64_t val);
void json_bool(struct json *j, const char *key, bool val);
/* Ends the document with a newline. */
void json_finish(struct json *j);

/* ---- child processes ---- */

/*
 * Run argv (argv[0] looked up in PATH) in dir (NULL: current), wait for it.
 * If out is non-NULL, stdout+stderr are captured into it; else inherited.
 * Returns the exit status (0..255), 128+signal if killed, or -errno.
 */
int proc_run(const char *const argv[], const char *dir, struct strbuf *out);

#endif
