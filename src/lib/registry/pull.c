// SPDX-License-Identifier: BSD-3-Clause
// Registry pull: a verified, bounded and resumable download of one image into the repository.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/probe.h"
#include "capstan/registry.h"
#include "capstan/size.h"
#include "capstan/repo.h"
#include "capstan/sha256.h"
#include "transport.h"
#include "capstan/banned.h"

#define CHUNK REG_CHUNK

struct pull {
	const struct cap_ctx *ctx;
	const char *name;
	const char *url; /* of the .gz */
	char *shown;	 /* url for messages, without credentials */
	int part_fd;	 /* the compressed bytes received so far (cache/partial) */
	uint64_t part_len;
	char *part_path; /* cache/partial/<name>.<platform>.gz */
	char *info_path; /* identity of the partial download: url, digest, validator */
	int lock_fd;	 /* one pull of an image and platform at a time */
	char *dir, *final;
	char *made_top;	 /* the highest folder this pull created, for a rollback */
	char *validator; /* ETag or Last-Modified of the partial's source */
	char *new_validator;
	const char *digest; /* "-" when the index gives none */
	struct fs_tmp tmp;  /* the uncompressed image being built */
	uint64_t out_len;
	/*
	 * Bounds: the image may not grow past what the index declares (or the cap
	 * for an index without sizes), nor the download past what gzip of that
	 * could need: a bomb stops at the first byte too many.
	 */
	uint64_t max_out, max_in;
	bool declared; /* max_out comes from the index */
	z_stream z;
	bool z_ready, z_end;
	struct sha256 sha;
	unsigned char *obuf;
	int err;       /* first error a callback hit */
	bool data_err; /* err is about the data, not the transfer: drop the partial */
	uint64_t from; /* offset asked for in this attempt */
	bool status_checked;
	CURL *h; /* of the attempt in progress */
	/* progress */
	bool progress;
	uint64_t total; /* compressed bytes expected, 0 if unknown */
	struct timespec t0, tlast;
	uint64_t done0; /* bytes already there at t0 */
};

static double now_s(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static void progress(struct pull *p, bool final)
{
	struct timespec ts;
	double t = now_s(&ts), t0 = (double)p->t0.tv_sec + (double)p->t0.tv_nsec / 1e9;
	double tl = (double)p->tlast.tv_sec + (double)p->tlast.tv_nsec / 1e9;
	char a[16], b[16], r[16], eta[32] = "";

	if (!p->progress || (!final && t - tl < 0.1))
		return;
	p->tlast = ts;
	double rate = t > t0 ? (double)(p->part_len - p->done0) / (t - t0) : 0;
	fmt_size(p->part_len, a, sizeof(a));
	fmt_size((uint64_t)rate, r, sizeof(r));
	if (p->total && p->part_len <= p->total) {
		fmt_size(p->total, b, sizeof(b));
		if (rate > 0 && !final) {
			long s = (long)((double)(p->total - p->part_len) / rate);
			snprintf(eta, sizeof(eta), " ETA %ld:%02ld", s / 60, s % 60);
		}
		fprintf(p->ctx->err, "\r%s %3d%% %s/%s %s/s%s\033[K", p->name,
			(int)(p->part_len * 100 / p->total), a, b, r, eta);
	} else {
		fprintf(p->ctx->err, "\r%s %s %s/s\033[K", p->name, a, r);
	}
	if (final)
		fputc('\n', p->ctx->err);
	fflush(p->ctx->err);
}

static int data_error(struct pull *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int data_error(struct pull *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p->err = cap_verrf(CAP_E_DATA, fmt, ap);
	va_end(ap);
	p->data_err = true;
	return p->err;
}

/* The image grew past its bound: say which bound, and that nothing is kept. */
static int too_large(struct pull *p)
{
	char lim[16];

	if (p->declared)
		return data_error(p,
				  "%s: the image expands past the %llu bytes its index declares "
				  "(a gzip bomb?); stopped, nothing installed",
				  p->shown, (unsigned long long)p->max_out);
	return data_error(p,
			  "%s: the image expands past %s, the limit for an index without sizes "
			  "(CAPSTAN_PULL_MAX_SIZE raises it); stopped, nothing installed",
			  p->shown, fmt_size(p->max_out, lim, sizeof(lim)));
}

/* Write what inflate produced: bounded, hashed. */
static int emit(struct pull *p, size_t got)
{
	char a[16], b[16];

	if (got > p->max_out - p->out_len)
		return too_large(p);
	sha256_update(&p->sha, p->obuf, got);
	int r = fs_write_full(p->tmp.fd, p->obuf, got);
	if (r)
		return p->err = cap_errnof(
			   r, "cannot write image '%s' (%s written, from %s downloaded)", p->name,
			   fmt_size(p->out_len, a, sizeof(a)), fmt_size(p->part_len, b, sizeof(b)));
	p->out_len += got;
	return 0;
}

/* Inflate len compressed bytes into the image. */
static int feed(struct pull *p, const unsigned char *in, size_t len)
{
	p->z.next_in = (unsigned char *)in;
	p->z.avail_in = (uInt)len;
	while (p->z.avail_in) {
		/* One buffer can hold gigabytes of output: a signal must not wait for its end. */
		if (p->ctx->interrupted)
			return p->err = cap_errf(CAP_E_INTR, "pull of '%s' interrupted", p->name);
		if (p->z_end) {
			/* Another gzip member (what `cat a.gz b.gz` makes), or trailing junk. */
			if (p->z.next_in[0] != 0x1f)
				return data_error(
				    p, "%s: unexpected data after the end of the gzip stream",
				    p->shown);
			inflateReset(&p->z);
			p->z_end = false;
		}
		p->z.next_out = p->obuf;
		p->z.avail_out = CHUNK;
		int zr = inflate(&p->z, Z_NO_FLUSH);
		size_t got = CHUNK - p->z.avail_out;
		if (got && emit(p, got))
			return p->err;
		if (zr == Z_STREAM_END) {
			p->z_end = true;
		} else if (zr == Z_BUF_ERROR && !got) {
			break; /* needs more input */
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return data_error(p, "%s: corrupt gzip data (%s)", p->shown,
					  p->z.msg ? p->z.msg : zError(zr));
		}
	}
	return 0;
}

/* Start over: the server ignored our Range, or the partial was unusable. */
static int restart(struct pull *p)
{
	if (ftruncate(p->part_fd, 0) < 0 || lseek(p->part_fd, 0, SEEK_SET) < 0 ||
	    ftruncate(p->tmp.fd, 0) < 0 || lseek(p->tmp.fd, 0, SEEK_SET) < 0)
		return p->err = cap_errnof(errno, "cannot reset the download of '%s'", p->name);
	p->part_len = p->out_len = 0;
	p->z_end = false;
	inflateReset(&p->z);
	sha256_init(&p->sha);
	return 0;
}

/* The URL is stored without credentials, and the file is private all the same. */
static void write_info(struct pull *p)
{
	char *text = xasprintf("%s\n%s\n%s\n", p->shown, p->digest,
			       p->new_validator ? p->new_validator : "");

	fs_write_atomic(p->info_path, text, strlen(text), 0600);
	free(text);
}

static size_t pull_header(char *buf, size_t sz, size_t n, void *data)
{
	struct pull *p = data;
	size_t i;

	if (n > 5 && !strncmp(buf, "HTTP/", 5)) {
		free(p->new_validator); /* a new response (after a redirect) */
		p->new_validator = NULL;
		return n;
	}
	bool etag = n > 5 && !strncasecmp(buf, "ETag:", 5);
	bool lm = n > 14 && !strncasecmp(buf, "Last-Modified:", 14);
	if (!etag && !lm)
		return n;
	if (lm && p->new_validator)
		return n; /* prefer the ETag */
	i = etag ? 5 : 14;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	size_t e = n;
	while (e > i && (buf[e - 1] == '\r' || buf[e - 1] == '\n' || buf[e - 1] == ' '))
		e--;
	if (e > i && e - i < 256 &&
	    !(etag && buf[i] == 'W')) { /* weak ETags cannot validate ranges */
		free(p->new_validator);
		p->new_validator = xstrndup(buf + i, e - i);
	}
	return n;
}

/* The first bytes of a response: a 200 to a Range request, its length, the validator. */
static int first_bytes(struct pull *p)
{
	long status = 0;
	curl_off_t cl = -1;

	p->status_checked = true;
	cap_curl.curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
	if (p->from && status == 200 && restart(p)) /* whole file instead of the rest */
		return p->err;
	cap_curl.curl_easy_getinfo(p->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (cl >= 0) {
		p->total = p->part_len + (uint64_t)cl;
		if (p->total > p->max_in)
			return data_error(p,
					  "%s: %llu bytes to download, more than an image of %llu "
					  "bytes can need; nothing installed",
					  p->shown, (unsigned long long)p->total,
					  (unsigned long long)p->max_out);
	}
	if (!p->validator || !p->new_validator || strcmp(p->validator, p->new_validator))
		write_info(p);
	return 0;
}

static size_t pull_write(char *buf, size_t sz, size_t n, void *data)
{
	struct pull *p = data;

	if (!p->status_checked && first_bytes(p))
		return 0;
	if (n > p->max_in - p->part_len) {
		data_error(p,
			   "%s: the download passes %llu bytes, more than an image of %llu bytes "
			   "can need; stopped, nothing installed",
			   p->shown, (unsigned long long)p->max_in, (unsigned long long)p->max_out);
		return 0;
	}
	int r = fs_write_full(p->part_fd, buf, n);
	if (r) {
		p->err = cap_errnof(r, "cannot save the download of '%s' in the cache", p->name);
		return 0;
	}
	p->part_len += n;
	if (feed(p, (const unsigned char *)buf, n))
		return 0;
	progress(p, false);
	return n;
}

/* Run the partial download through inflate again, so the image and digest cover it. */
static int replay(struct pull *p)
{
	uint64_t off = 0;

	if (p->part_len > p->max_in)
		return data_error(p, "%s: the partial download is larger than the image can need",
				  p->shown);
	while (off < p->part_len) {
		ssize_t n = pread(p->part_fd, p->obuf + CHUNK, CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cap_errf(n < 0 ? errno : EIO,
					"cannot read the partial download of '%s'", p->name);
		/* feed() inflates into obuf[0..CHUNK); the input sits in the second half. */
		if (feed(p, p->obuf + CHUNK, (size_t)n))
			return p->err;
		off += (uint64_t)n;
	}
	if (lseek(p->part_fd, (off_t)p->part_len, SEEK_SET) < 0)
		return cap_errnof(errno, "cannot seek in the partial download");
	return 0;
}

/*
 * Read cache/partial/...info (lines: URL, digest, validator).  A verified
 * download is identified by its digest, so it resumes from another mirror;
 * an unverified one only from the same URL.  The validator (If-Range) only
 * applies to the same URL.
 */
static void load_partial(struct pull *p)
{
	char *text = NULL;
	size_t len;
	struct stat st;

	if (fs_read_all(p->info_path, &text, &len) == 0) {
		char *url = text, *nl1 = strchr(text, '\n'),
		     *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
		char *nl3 = nl2 ? strchr(nl2 + 1, '\n') : NULL;
		if (nl3) {
			*nl1 = *nl2 = *nl3 = '\0';
			bool same_url = !strcmp(url, p->shown);
			bool same = strcmp(p->digest, "-") ? !strcmp(nl1 + 1, p->digest) : same_url;
			if (same && fstat(p->part_fd, &st) == 0) {
				p->part_len = (uint64_t)st.st_size;
				if (nl2[1] && same_url)
					p->validator = xstrdup(nl2 + 1);
			}
		}
	}
	cap_errclear();
	free(text);
	if (!p->part_len && ftruncate(p->part_fd, 0) < 0)
		p->part_len = 0;
}

static int hash_file(const char *path, uint64_t *size, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256 s;
	unsigned char *buf = xmalloc(CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	*size = 0;
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	sha256_init(&s);
	while ((n = read(fd, buf, CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		sha256_update(&s, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	sha256_final_hex(&s, hex);
	close(fd);
	free(buf);
	return ret;
}

/* Remove temp files a killed pull left beside the image (we hold the image's pull lock). */
static void remove_stale_tmp(const char *dir, const char *final_base)
{
	char *prefix = xasprintf("%s.tmp.", final_base);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d)))
			if (str_has_prefix(de->d_name, prefix))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	free(prefix);
}

/* The first folder of dir (below $root/repository) that does not exist yet, or NULL. */
static char *first_missing(const struct cap_ctx *ctx, const char *dir)
{
	char *top = cap_path(ctx, "repository"), *p = xstrdup(dir), *ret = NULL;
	size_t n = strlen(top);

	if (strncmp(p, top, n) || p[n] != '/') {
		free(top);
		free(p);
		return NULL;
	}
	for (char *s = p + n + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (!fs_exists(p)) {
			ret = xstrdup(p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(top);
	free(p);
	return ret;
}

/* rmdir dir and its parents up to and including top, while they are empty. */
static void remove_empty(const char *dir, const char *top)
{
	char *p = xstrdup(dir);
	size_t n = strlen(top);

	while (strlen(p) >= n && rmdir(p) == 0) {
		char *slash = strrchr(p, '/');
		if (!slash || strlen(p) == n)
			break;
		*slash = '\0';
	}
	free(p);
}

/* Each attempt resumes from what is already there, with If-Range when we have a validator. */
static int download_setup(struct reg_req *rq, CURL *h)
{
	struct pull *p = rq->data;
	char range[64], ifrange[300];

	p->h = h;
	p->from = p->part_len;
	p->status_checked = false;
	p->data_err = false;
	if (p->from) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)p->from);
		cap_curl.curl_easy_setopt(h, CURLOPT_RANGE, range);
		if (p->validator && !reg_is_file_url(p->url)) {
			snprintf(ifrange, sizeof(ifrange), "If-Range: %s", p->validator);
			rq->headers = cap_curl.curl_slist_append(rq->headers, ifrange);
		}
		cap_verbose(p->ctx, "resuming %s at byte %llu", p->shown,
			    (unsigned long long)p->from);
	}
	cap_curl.curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, pull_write);
	cap_curl.curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
	cap_curl.curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, pull_header);
	cap_curl.curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
	return 0;
}

/* The transfer: resume from part_len, retry what is worth retrying. */
static int download(struct pull *p)
{
	struct reg_req rq = {.url = p->url, .setup = download_setup, .data = p, .cb_err = &p->err};
	int ret = reg_request(p->ctx, &rq);

	if (ret && !p->data_err && p->ctx->interrupted) {
		ret = cap_errf(CAP_E_INTR, "pull of '%s' interrupted (run it again to resume)",
			       p->name);
	} else if (ret == -CAP_E_UNAVAIL && p->part_len) {
		char msg[768];
		snprintf(msg, sizeof(msg), "%s", cap_errmsg(ret));
		ret = cap_errf(ret, "%s; %llu bytes kept, pull again to resume", msg,
			       (unsigned long long)p->part_len);
	}
	return ret;
}

/* After the transfer: a complete gzip stream, the size and the digest the index gives. */
static int verify(struct pull *p, const struct index_platform *plat, char got[SHA256_HEX_LEN + 1])
{
	progress(p, true);
	if (!p->z_end)
		return data_error(
		    p, "%s: truncated gzip stream (%llu bytes received); nothing installed",
		    p->shown, (unsigned long long)p->part_len);
	sha256_final_hex(&p->sha, got);
	if (plat && p->out_len != plat->size)
		return data_error(p,
				  "%s: size mismatch: the index says %llu bytes, the image has "
				  "%llu; nothing installed",
				  p->shown, (unsigned long long)plat->size,
				  (unsigned long long)p->out_len);
	if (plat && strcmp(got, plat->sha256))
		return data_error(
		    p,
		    "%s: sha256 mismatch: the index says %s, the image has %s; nothing installed",
		    p->shown, plat->sha256, got);
	return 0;
}

struct fetched {
	struct index_image idx;
	const struct index_platform *plat; /* NULL: an original Capstan index, unverified */
	char *file;
	char *index_url;
	char *index_shown;
};

/* "no platform 'x' (it has: a, b)" */
static int no_platform(const struct cap_ctx *ctx, const char *name, const char *platform,
		       const struct fetched *f)
{
	struct strbuf have = STRBUF_INIT;
	char *repo = reg_url_shown(ctx->repo_url);
	int ret;

	for (size_t i = 0; i < f->idx.nplatforms; i++)
		sb_addf(&have, "%s%s", i ? ", " : "", f->idx.platforms[i].name);
	ret = cap_errf(CAP_E_NOTFOUND, "image '%s' in %s has no platform '%s' (it has: %s)", name,
		       repo, platform, have.buf);
	sb_release(&have);
	free(repo);
	return ret;
}

static int fetch_index(const struct cap_ctx *ctx, const char *name, const char *platform,
		       struct fetched *f)
{
	struct strbuf sb = STRBUF_INIT;
	char *rel = xasprintf("%s/index.yaml", name), *repo;
	int ret;

	memset(f, 0, sizeof(*f));
	f->index_url = reg_url_join(ctx->repo_url, rel);
	f->index_shown = reg_url_shown(f->index_url);
	free(rel);
	ret = reg_get(ctx, f->index_url, INDEX_MAX_BYTES, &sb);
	if (ret == -CAP_E_NOTFOUND) {
		repo = reg_url_shown(ctx->repo_url);
		ret = cap_errf(CAP_E_NOTFOUND, "no such image '%s' in %s", name, repo);
		free(repo);
	} else if (ret) {
		ret = cap_errctx(ret, "cannot pull '%s'", name);
	}
	if (!ret)
		ret = index_parse_image(f->index_shown, sb.buf, sb.len, &f->idx);
	sb_release(&sb);
	if (ret)
		return ret;
	if (!f->idx.nplatforms) {
		f->file = xasprintf("%s.%s.gz", reg_base_name(name), platform);
		return 0;
	}
	f->plat = index_image_platform(&f->idx, platform);
	if (!f->plat)
		return no_platform(ctx, name, platform, f);
	f->file = xstrdup(f->plat->file);
	return 0;
}

static void fetched_release(struct fetched *f)
{
	index_image_release(&f->idx);
	free(f->file);
	free(f->index_url);
	free(f->index_shown);
}

/* What bounds the output (declared size, else the cap) and the compressed input. */
static void set_bounds(struct pull *p, const struct index_platform *plat)
{
	p->declared = plat != NULL;
	p->max_out = plat ? plat->size : reg_unsized_limit();
	/* gzip expands incompressible data by well under 1/64; headers and members add a little */
	p->max_in = p->max_out + p->max_out / 64 + (1u << 20);
}

/* Inflate what an earlier pull kept, or announce a fresh one. */
static int resume_partial(struct pull *p, const char *platform)
{
	int ret;

	if (!p->part_len) {
		char *repo = reg_url_shown(p->ctx->repo_url);
		cap_info(p->ctx, "pulling %s (%s) from %s", p->name, platform, repo);
		free(repo);
		return 0;
	}
	cap_info(p->ctx, "resuming %s (%s) from %llu bytes", p->name, platform,
		 (unsigned long long)p->part_len);
	ret = replay(p);
	if (ret && p->data_err) {
		cap_verbose(p->ctx, "partial download unusable (%s), starting over",
			    cap_errmsg(ret));
		p->err = 0;
		p->data_err = false;
		ret = restart(p);
	}
	return ret;
}

/* Download and verify; a resumed download that fails verification gets one fresh try. */
static int transfer(struct pull *p, const struct index_platform *plat, char got[SHA256_HEX_LEN + 1])
{
	int ret;

	for (bool resumed = p->part_len > 0;; resumed = false) {
		ret = p->z_end ? 0 : download(p);
		if (!ret)
			ret = verify(p, plat, got);
		if (!ret || !p->data_err || !resumed)
			return ret;
		/* the mirror may have recompressed */
		cap_info(p->ctx,
			 "resumed download of %s failed verification (%s); downloading it again",
			 p->name, cap_errmsg(ret));
		p->err = 0;
		p->data_err = false;
		free(p->validator);
		p->validator = NULL;
		if ((ret = restart(p)))
			return ret;
	}
}

/* One pull per image and platform at a time; the lock lives beside the partial download. */
static int lock_partial(struct pull *p, const char *platform)
{
	char *cache = cap_path(p->ctx, "cache/partial/%s", p->name), *slash = strrchr(cache, '/');
	int ret;

	*slash = '\0';
	ret = cap_mkdirs(p->ctx, cache, 0700);
	*slash = '/';
	if (!ret) {
		char *lock = xasprintf("%s.%s.lock", cache, platform);
		char *what = xasprintf("'%s' (%s)", p->name, platform);
		p->part_path = xasprintf("%s.%s.gz", cache, platform);
		p->info_path = xasprintf("%s.%s.info", cache, platform);
		p->lock_fd = reg_lock_wait(p->ctx, lock, what);
		ret = p->lock_fd < 0 ? p->lock_fd : 0;
		free(lock);
		free(what);
	}
	free(cache);
	return ret;
}

/* The image is installed already with the index's size and digest. */
static bool up_to_date(const char *final, const struct index_platform *plat)
{
	char got[SHA256_HEX_LEN + 1];
	uint64_t size;

	return plat && fs_exists(final) && hash_file(final, &size, got) == 0 &&
	       size == plat->size && !strcmp(got, plat->sha256);
}

/* The image's folder and temp file, inflate, and the partial download with what it holds. */
static int open_work(struct pull *p, const struct fetched *f)
{
	char *rel;
	int ret;

	p->made_top = first_missing(p->ctx, p->dir);
	if ((ret = cap_mkdirs(p->ctx, p->dir, 0755)))
		return ret;
	remove_stale_tmp(p->dir, strrchr(p->final, '/') + 1);
	if ((ret = fs_tmp_open(&p->tmp, p->final, 0644)))
		return ret;
	rel = xasprintf("%s/%s", p->name, f->file);
	p->url = reg_url_join(p->ctx->repo_url, rel);
	p->shown = reg_url_shown(p->url);
	free(rel);
	set_bounds(p, f->plat);
	p->obuf = xmalloc(2 * CHUNK);
	sha256_init(&p->sha);
	if (inflateInit2(&p->z, 15 + 16) != Z_OK)
		return cap_errf(ENOMEM, "cannot start gzip decompression");
	p->z_ready = true;
	p->part_fd = open(p->part_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->part_fd < 0)
		return cap_errnof(errno, "cannot open '%s'", p->part_path);
	fchmod(p->part_fd, 0600); /* one an older capstan made 0644 */
	load_partial(p);
	p->progress = !p->ctx->quiet && isatty(fileno(p->ctx->err));
	now_s(&p->t0);
	p->tlast = p->t0;
	return 0;
}

/* The verified image into the repository, with the index's metadata. */
static int install(struct pull *p, const struct fetched *f, const char *platform, const char *got)
{
	struct repo_meta meta = {.version = f->idx.version,
				 .created = f->idx.created,
				 .description = f->idx.description,
				 .build = f->idx.build};
	int ret = repo_install(p->ctx, p->name, platform, &p->tmp, &meta);

	p->tmp.fd = -1;
	p->tmp.tmp_path = NULL;
	if (ret)
		return ret;
	unlink(p->part_path);
	unlink(p->info_path);
	cap_info(p->ctx, "pulled %s (%s), %llu bytes, sha256 %s%s", p->name, platform,
		 (unsigned long long)p->out_len, got, f->plat ? "" : " (unverified)");
	return 0;
}

/* Undo what a failed pull left (bad data is not kept for a resume), free the rest. */
static void pull_release(struct pull *p, int ret)
{
	if (ret && p->progress && p->part_len)
		fputc('\n', p->ctx->err);
	if (p->tmp.tmp_path)
		fs_tmp_abort(&p->tmp);
	if (ret && p->data_err && p->part_path) {
		unlink(p->part_path);
		unlink(p->info_path);
	}
	if (ret && p->made_top)
		remove_empty(p->dir, p->made_top);
	if (p->part_fd >= 0)
		close(p->part_fd);
	if (p->z_ready)
		inflateEnd(&p->z);
	fs_unlock(p->lock_fd);
	free(p->made_top);
	free(p->obuf);
	free(p->part_path);
	free(p->info_path);
	free(p->validator);
	free(p->new_validator);
	free((char *)p->url);
	free(p->shown);
	free(p->dir);
	free(p->final);
}

int reg_pull(const struct cap_ctx *ctx, const char *name, const char *platform)
{
	struct fetched f;
	struct pull p = {.ctx = ctx, .name = name, .part_fd = -1, .lock_fd = -1, .tmp.fd = -1};
	char got[SHA256_HEX_LEN + 1];
	int ret;

	if (!platform)
		platform = "qemu";
	if (!repo_name_valid(name))
		return cap_errf(CAP_E_USAGE, "invalid image name '%s' (expected [namespace/]name)",
				name);
	if (!index_file_name_valid(platform))
		return cap_errf(CAP_E_USAGE, "invalid platform '%s'", platform);
	if ((ret = fetch_index(ctx, name, platform, &f))) {
		fetched_release(&f);
		return ret;
	}
	p.digest = f.plat ? f.plat->sha256 : "-";
	if (!f.plat)
		cap_warn(ctx,
			 "%s has no sha256 for '%s' (an original Capstan registry): the image is "
			 "unverified",
			 f.index_shown, name);
	if ((ret = lock_partial(&p, platform)))
		goto out;
	p.dir = repo_image_dir(ctx, name);
	p.final = xasprintf("%s/%s.%s", p.dir, reg_base_name(name), platform);
	if (up_to_date(p.final, f.plat)) {
		cap_info(ctx, "%s (%s) is up to date", name, platform);
		goto out;
	}
	if (!(ret = open_work(&p, &f)) && !(ret = resume_partial(&p, platform))) {
		p.done0 = p.part_len;
		ret = transfer(&p, f.plat, got);
		if (!ret && (ret = probe_standalone_fd(p.tmp.fd, name)))
			p.data_err = true; /* a backing file: refused, nothing kept */
		if (!ret)
			ret = install(&p, &f, platform, got);
	}
out:
	pull_release(&p, ret);
	fetched_release(&f);
	return ret;
}

int reg_ensure(const struct cap_ctx *ctx, const char *name, const char *platform)
{
	struct repo_image img;
	int ret = repo_find(ctx, name, platform, &img);

	if (ret == 0) {
		repo_image_release(&img);
		return 0;
	}
	if (ret != -CAP_E_NOTFOUND)
		return ret;
	cap_errclear();
	return reg_pull(ctx, name, platform);
}
