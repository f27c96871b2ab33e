/* SPDX-License-Identifier: BSD-3-Clause */
/* Inside the registry code: settings, URLs, the one request helper, the push transports. */
#ifndef CAPSTAN_REGISTRY_TRANSPORT_H
#define CAPSTAN_REGISTRY_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "capstan/ctx.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "../lazylib.h"

#define REG_CHUNK (256u << 10) /* inflate, deflate and hash buffer */

/* ---- settings (environment; documented in capstan-pull(1)) ---- */

/* CAPSTAN_NET_RETRIES, default 3. */
int reg_net_retries(void);
/*
 * The most an image may expand to when its index gives no size (an original
 * Capstan registry): CAPSTAN_PULL_MAX_SIZE, default 4 GiB.
 */
uint64_t reg_unsized_limit(void);

/* ---- URLs ---- */

bool reg_is_file_url(const char *url);
/* "<base>/<rel>" with exactly one slash between. */
char *reg_url_join(const char *base, const char *rel);
/* The local path of a file:// URL (percent-decoded; libcurl loaded), or NULL. */
char *reg_file_url_path(const char *url);
/* "name" of "ns/name". */
const char *reg_base_name(const char *name);

/* Lock file: take it at once if free, else say we are waiting and block. */
int reg_lock_wait(const struct cap_ctx *ctx, const char *path, const char *what);

/* ---- requests ---- */

/*
 * One request, retried on what is worth retrying (connection errors, HTTP 5xx,
 * 408, 429) with backoff.  setup() prepares each attempt's handle (write or
 * read callbacks, Range); headers it appends to rq->headers are freed after
 * each attempt.  A callback that fails records its message and stores the
 * code in *cb_err (reset before each attempt), which then wins over curl's.
 */
struct reg_req {
	const char *url;
	int (*setup)(struct reg_req *rq, CURL *h);
	void *data;
	int *cb_err;
	struct curl_slist *headers;
};
int reg_request(const struct cap_ctx *ctx, struct reg_req *rq);

/* ---- where push writes: a file:// tree or an http(s) server taking PUT ---- */

struct reg_xport;
struct reg_xport_ops {
	/* Exclusive access to the indexes, where the transport can give it. */
	int (*lock)(struct reg_xport *x);
	/* A file below the root: -CAP_E_NOTFOUND if missing. */
	int (*get)(struct reg_xport *x, const char *rel, size_t max, struct strbuf *out);
	int (*put)(struct reg_xport *x, const char *rel, const char *buf, size_t len);
	/* A large file: written to *fd first, published by blob_commit(). */
	int (*blob_open)(struct reg_xport *x, const char *rel, int *fd);
	int (*blob_commit)(struct reg_xport *x);
	/* Drops an uncommitted blob, unlocks, frees. */
	void (*release)(struct reg_xport *x);
};

struct reg_xport {
	const struct reg_xport_ops *ops;
	const struct cap_ctx *ctx;
	char *base; /* folder (file://) or URL */
	char *blob_rel;
	struct fs_tmp blob;
	int lock_fd;
};

/* For a file://, http:// or https:// URL. */
int reg_xport_open(const struct cap_ctx *ctx, const char *url, struct reg_xport *x);
/* For a local folder. */
void reg_xport_open_dir(const struct cap_ctx *ctx, const char *root, struct reg_xport *x);

#endif
