/* SPDX-License-Identifier: BSD-3-Clause */
/* Remote registries over http://, https:// and file://: pull, search, push. */
#ifndef CAPSTAN_REGISTRY_H
#define CAPSTAN_REGISTRY_H

#include <signal.h>
#include <stddef.h>

#include "capstan/ctx.h"
#include "capstan/index.h"
#include "capstan/str.h"

/*
 * Registry URL: ctx->repo_url (-u, CAPSTAN_REPO_URL, config.yaml, else the
 * installed default tree).  Network settings from the environment:
 * CAPSTAN_NET_TIMEOUT (seconds, default 30: connect timeout, and how long a
 * transfer may stay below CAPSTAN_NET_MIN_SPEED, default 1024 bytes/s),
 * CAPSTAN_NET_RETRIES (default 3, on connection errors and HTTP 5xx, with
 * backoff), CAPSTAN_PULL_MAX_SIZE (default 4G: the bound on an image whose
 * index gives no size), and libcurl's http_proxy/https_proxy/no_proxy.
 * Redirects: http(s) only, and https only from https.  Credentials in a URL
 * are sent, never printed or stored.
 *
 * Errors: -CAP_E_NOTFOUND (no such image or file), -CAP_E_UNAVAIL (DNS,
 * refused, TLS, timeout, too slow, refused redirect, HTTP errors),
 * -CAP_E_DATA (bad index, digest or size mismatch, an image expanding past
 * its bound, corrupt or truncated gzip), -CAP_E_INTR, -errno for local I/O.
 *
 * The code lives in src/lib/registry/: transport.c (requests, retries, push
 * targets), pull.c, push.c, catalog.c.
 */

/*
 * Transfers stop at their next progress call, and inflating within a quarter
 * MiB, with -CAP_E_INTR once ctx->interrupted is set.
 */

/* url for messages and listings: "user:password@" becomes "***@" (malloc'd). */
char *reg_url_shown(const char *url);

/* GET url into out (at most max bytes).  404 (or a missing file://) is -CAP_E_NOTFOUND. */
int reg_get(const struct cap_ctx *ctx, const char *url, size_t max, struct strbuf *out);

/*
 * The registry's catalog (<url>/index.yaml); without one, an original Capstan
 * S3 bucket's ListBucket listing and the index.yaml of each image it names.
 */
int reg_catalog(const struct cap_ctx *ctx, struct index_catalog *out);

/*
 * Download NAME for PLATFORM (NULL: "qemu") into the local repository:
 * <url>/<name>/index.yaml, then the image's .gz, inflated and hashed on the
 * way into a temp file beside the destination, checked (size, sha256) and
 * installed with repo_install().  The image may not grow past the declared
 * size (else CAPSTAN_PULL_MAX_SIZE), nor the download past what gzip of it
 * can need: the pull stops at once with -CAP_E_DATA and keeps nothing.  An interrupted download is
 * kept under $CAPSTAN_ROOT/cache/partial/ and resumed with a Range request next time. Pulls of the
 * same image and platform are serialised by a lock; the second finds the image up to date. Progress
 * goes to ctx->err when it is a terminal and ctx->quiet is off.
 */
int reg_pull(const struct cap_ctx *ctx, const char *name, const char *platform);

/* Pull NAME unless the local repository has it (what build and run call). */
int reg_ensure(const struct cap_ctx *ctx, const char *name, const char *platform);

/*
 * Publish local image NAME/PLATFORM to the registry at url: the .gz, the
 * per-image index.yaml (other platforms kept) and the catalog entry.  file://
 * trees are updated atomically under a lock; http(s):// servers receive PUT
 * requests (image, then index, then catalog).
 */
int reg_push(const struct cap_ctx *ctx, const char *name, const char *platform, const char *url);

/*
 * What push does for a file:// tree, from any image file: gzip IMAGE into
 * ROOT/NAME/<name>.PLATFORM.gz and update ROOT/NAME/index.yaml and
 * ROOT/index.yaml atomically.  The build uses it to make the default registry.
 * meta->created NULL means now.
 */
struct repo_meta;
int reg_publish_file(const struct cap_ctx *ctx, const char *root, const char *name,
		     const char *platform, const char *image, const struct repo_meta *meta);

#endif
