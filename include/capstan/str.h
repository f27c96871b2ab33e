/* SPDX-License-Identifier: BSD-3-Clause */
/* Growable strings, allocation that never fails, string helpers (util/str.c). */
#ifndef CAPSTAN_STR_H
#define CAPSTAN_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

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

#endif
