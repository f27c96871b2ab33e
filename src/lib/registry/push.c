// SPDX-License-Identifier: BSD-3-Clause
// Registry push: gzip an image, then publish it and its indexes through a transport.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "capstan/sha256.h"
#include "transport.h"
#include "capstan/banned.h"

#define CHUNK REG_CHUNK

/* Deflate n bytes (Z_FINISH when n is 0) into fd. */
static int deflate_to(z_stream *z, unsigned char *in, size_t n, unsigned char *out, int fd)
{
	int flush = n ? Z_NO_FLUSH : Z_FINISH;

	z->next_in = in;
	z->avail_in = (uInt)n;
	do {
		z->next_out = out;
		z->avail_out = CHUNK;
		deflate(z, flush);
		int r = fs_write_full(fd, out, CHUNK - z->avail_out);
		if (r)
			return cap_errnof(r, "cannot write the compressed image");
	} while (z->avail_out == 0);
	return 0;
}

/* gzip src into fd, hashing the uncompressed bytes. */
static int compress_to(const struct cap_ctx *ctx, const char *src, int fd, uint64_t *size,
		       char hex[SHA256_HEX_LEN + 1])
{
	unsigned char *in = xmalloc(CHUNK), *out = xmalloc(CHUNK);
	struct sha256 s;
	z_stream z;
	int in_fd = open(src, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n = 1;

	memset(&z, 0, sizeof(z));
	*size = 0;
	if (in_fd < 0) {
		ret = cap_errnof(errno, "cannot open '%s'", src);
		goto out;
	}
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		ret = cap_errf(ENOMEM, "cannot start gzip compression");
		goto out;
	}
	sha256_init(&s);
	while (!ret && n) {
		n = read(in_fd, in, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = cap_errnof(errno, "cannot read '%s'", src);
		else if (ctx->interrupted)
			ret = cap_errf(CAP_E_INTR, "push interrupted");
		else {
			sha256_update(&s, in, (size_t)n);
			*size += (uint64_t)n;
			ret = deflate_to(&z, in, (size_t)n, out, fd);
		}
	}
	deflateEnd(&z);
	if (!ret)
		sha256_final_hex(&s, hex);
out:
	if (in_fd >= 0)
		close(in_fd);
	free(in);
	free(out);
	return ret;
}

/* The new per-image index: what the registry had (other platforms kept), our metadata, this
 * platform. */
static void fill_index(struct index_image *idx, const struct repo_meta *meta,
		       const struct index_platform *plat)
{
	free(idx->version);
	free(idx->created);
	free(idx->description);
	free(idx->build);
	idx->version = meta->version ? xstrdup(meta->version) : NULL;
	idx->created = meta->created ? xstrdup(meta->created) : str_utc_time(time(NULL));
	idx->description = meta->description ? xstrdup(meta->description) : NULL;
	idx->build = meta->build ? xstrdup(meta->build) : NULL;
	index_image_set_platform(idx, plat);
}

/* Read and parse an index of the target that may not exist yet (then: empty). */
static int read_index(struct reg_xport *x, const char *rel, bool catalog, void *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *full = reg_url_join(x->base, rel), *src = reg_url_shown(full);
	int ret = x->ops->get(x, rel, INDEX_MAX_BYTES, &sb);

	memset(out, 0, catalog ? sizeof(struct index_catalog) : sizeof(struct index_image));
	if (ret == -CAP_E_NOTFOUND) {
		cap_errclear();
		ret = 0;
	} else if (!ret) {
		ret = catalog ? index_parse_catalog(src, sb.buf, sb.len, out)
			      : index_parse_image(src, sb.buf, sb.len, out);
	}
	if (ret)
		cap_errctx(ret, "cannot update the registry");
	sb_release(&sb);
	free(full);
	free(src);
	return ret;
}

/*
 * The image first, then its index, then the catalog: a reader never finds an
 * index entry whose file is missing.  Where the transport locks, the indexes
 * are read and written under the lock.
 */
static int publish(struct reg_xport *x, const char *name, const char *image,
		   const struct repo_meta *meta, struct index_platform *plat)
{
	struct index_image idx = {0};
	struct index_catalog cat = {0};
	struct strbuf sb = STRBUF_INIT;
	char *rel = xasprintf("%s/%s", name, plat->file);
	char *ipath = xasprintf("%s/index.yaml", name);
	int fd, ret;

	if ((ret = x->ops->blob_open(x, rel, &fd)) ||
	    (ret = compress_to(x->ctx, image, fd, &plat->size, plat->sha256)))
		goto out;
	if ((ret = x->ops->lock(x)) || (ret = read_index(x, ipath, false, &idx)) ||
	    (ret = read_index(x, "index.yaml", true, &cat)))
		goto out;
	if ((ret = x->ops->blob_commit(x)))
		goto out;
	fill_index(&idx, meta, plat);
	if ((ret = index_emit_image(&idx, &sb)) || (ret = x->ops->put(x, ipath, sb.buf, sb.len)))
		goto out;
	index_catalog_set(&cat, name, &idx);
	sb.len = 0;
	if ((ret = index_emit_catalog(&cat, &sb)) ||
	    (ret = x->ops->put(x, "index.yaml", sb.buf, sb.len)))
		goto out;
out:
	index_image_release(&idx);
	index_catalog_release(&cat);
	sb_release(&sb);
	free(rel);
	free(ipath);
	return ret;
}

static int check_names(const char *name, const char *platform)
{
	if (!repo_name_valid(name))
		return cap_errf(CAP_E_USAGE, "invalid image name '%s' (expected [namespace/]name)",
				name);
	if (!index_file_name_valid(platform))
		return cap_errf(CAP_E_USAGE, "invalid platform '%s'", platform);
	return 0;
}

/* Publish through x (released here); plat->sha256 points at hex. */
static int publish_with(struct reg_xport *x, const char *name, const char *platform,
			const char *image, const struct repo_meta *meta,
			struct index_platform *plat, char hex[SHA256_HEX_LEN + 1])
{
	int ret;

	plat->name = (char *)platform;
	plat->file = xasprintf("%s.%s.gz", reg_base_name(name), platform);
	plat->has_size = true;
	plat->sha256 = hex;
	ret = publish(x, name, image, meta, plat);
	x->ops->release(x);
	free(plat->file);
	plat->file = NULL;
	return ret;
}

int reg_push(const struct cap_ctx *ctx, const char *name, const char *platform, const char *url)
{
	struct repo_image img;
	struct reg_xport x;
	char hex[SHA256_HEX_LEN + 1] = "", *shown;
	struct index_platform plat = {0};
	int ret;

	if (!platform)
		platform = "qemu";
	if ((ret = check_names(name, platform)) || (ret = reg_xport_open(ctx, url, &x)))
		return ret;
	if ((ret = repo_find(ctx, name, platform, &img))) {
		x.ops->release(&x);
		return ret;
	}
	shown = reg_url_shown(url);
	cap_info(ctx, "pushing %s (%s) to %s", name, platform, shown);
	ret = publish_with(&x, name, platform, img.path, &img.meta, &plat, hex);
	if (!ret)
		cap_info(ctx, "pushed %s (%s), %llu bytes, sha256 %s", name, platform,
			 (unsigned long long)plat.size, hex);
	free(shown);
	repo_image_release(&img);
	return ret;
}

int reg_publish_file(const struct cap_ctx *ctx, const char *root, const char *name,
		     const char *platform, const char *image, const struct repo_meta *meta)
{
	char hex[SHA256_HEX_LEN + 1] = "";
	struct index_platform plat = {0};
	struct reg_xport x;
	int ret;

	if ((ret = check_names(name, platform)))
		return ret;
	reg_xport_open_dir(ctx, root, &x);
	return publish_with(&x, name, platform, image, meta, &plat, hex);
}
