// SPDX-License-Identifier: BSD-3-Clause
// Remote registries (libcurl): fetch, verified and resumable pull, catalog, push.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/probe.h"
#include "lazylib.h"
#include "capstan/fs.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "capstan/sha256.h"
#include "capstan/size.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#ifndef CAPSTAN_VERSION
#define CAPSTAN_VERSION "0"
#endif

#define MAX_REDIRS 8
#define CHUNK	   (256u << 10)

/* ---- settings ---- */

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return def;
	return v;
}

static long net_timeout(void)
{
	return env_long("CAPSTAN_NET_TIMEOUT", 30, 1, 3600);
}

static int net_retries(void)
{
	return (int)env_long("CAPSTAN_NET_RETRIES", 3, 0, 20);
}

static bool is_file_url(const char *url)
{
	return str_has_prefix(url, "file://");
}

/* "<base>/<rel>" with exactly one slash between. */
static char *url_join(const char *base, const char *rel)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, base, rel);
}

/* The local path of a file:// URL (percent-decoded), or NULL if it is not one. */
static char *file_url_path(const char *url)
{
	const char *p;
	char *dec, *ret;
	int n;

	if (!is_file_url(url))
		return NULL;
	p = url + 7;
	if (str_has_prefix(p, "localhost/"))
		p += 9;
	if (*p != '/')
		return NULL;
	dec = cap_curl.curl_easy_unescape(NULL, p, 0, &n);
	if (!dec)
		return NULL;
	ret = xstrndup(dec, (size_t)n);
	cap_curl.curl_free(dec);
	if (strlen(ret) != (size_t)n) {
		free(ret);
		return NULL;
	}
	return ret;
}

/* ---- the one place foreign error codes become ours ---- */

struct curl_err {
	CURLcode code;
	int cap;	  /* CAP_E_* */
	bool retry;	  /* worth another attempt */
	const char *what; /* what the user reads */
};

static const struct curl_err curl_errs[] = {
    {CURLE_UNSUPPORTED_PROTOCOL, CAP_E_USAGE, false,
     "unsupported URL scheme (use http://, https:// or file://)"},
    {CURLE_URL_MALFORMAT, CAP_E_USAGE, false, "malformed URL"},
    {CURLE_COULDNT_RESOLVE_PROXY, CAP_E_UNAVAIL, false, "cannot resolve the proxy host"},
    {CURLE_COULDNT_RESOLVE_HOST, CAP_E_UNAVAIL, false, "cannot resolve the host name (DNS)"},
    {CURLE_COULDNT_CONNECT, CAP_E_UNAVAIL, true, "connection refused or host unreachable"},
    {CURLE_OPERATION_TIMEDOUT, CAP_E_UNAVAIL, true, "timed out"},
    {CURLE_PARTIAL_FILE, CAP_E_UNAVAIL, true, "connection closed before the end of the file"},
    {CURLE_GOT_NOTHING, CAP_E_UNAVAIL, true, "server closed the connection without answering"},
    {CURLE_RECV_ERROR, CAP_E_UNAVAIL, true, "connection lost while receiving"},
    {CURLE_SEND_ERROR, CAP_E_UNAVAIL, true, "connection lost while sending"},
    {CURLE_TOO_MANY_REDIRECTS, CAP_E_UNAVAIL, false, "too many redirects (more than 8)"},
    {CURLE_PEER_FAILED_VERIFICATION, CAP_E_UNAVAIL, false,
     "TLS certificate verification failed (--insecure skips it)"},
    {CURLE_SSL_CONNECT_ERROR, CAP_E_UNAVAIL, false, "TLS handshake failed"},
    {CURLE_SSL_CERTPROBLEM, CAP_E_UNAVAIL, false, "TLS client certificate problem"},
    {CURLE_SSL_CACERT_BADFILE, CAP_E_UNAVAIL, false, "cannot read the TLS CA certificates"},
    {CURLE_FILE_COULDNT_READ_FILE, CAP_E_NOTFOUND, false, "no such file"},
    {CURLE_REMOTE_FILE_NOT_FOUND, CAP_E_NOTFOUND, false, "no such file"},
    {CURLE_RANGE_ERROR, CAP_E_UNAVAIL, false, "server cannot resume (no Range support)"},
    {CURLE_ABORTED_BY_CALLBACK, CAP_E_INTR, false, "interrupted"},
    {CURLE_OUT_OF_MEMORY, ENOMEM, false, "out of memory"},
    {CURLE_LOGIN_DENIED, CAP_E_UNAVAIL, false, "access denied"},
    {CURLE_UPLOAD_FAILED, CAP_E_UNAVAIL, true, "upload failed"},
};

struct http_err {
	long lo, hi;
	int cap;
	bool retry;
	const char *what;
};

static const struct http_err http_errs[] = {
    {404, 404, CAP_E_NOTFOUND, false, "not found"},
    {410, 410, CAP_E_NOTFOUND, false, "gone"},
    {401, 401, CAP_E_UNAVAIL, false, "authentication required"},
    {403, 403, CAP_E_UNAVAIL, false, "access denied"},
    {405, 405, CAP_E_UNAVAIL, false, "method not allowed (does the server accept PUT?)"},
    {408, 408, CAP_E_UNAVAIL, true, "request timeout"},
    {409, 409, CAP_E_UNAVAIL, false, "conflict"},
    {413, 413, CAP_E_UNAVAIL, false, "file too large for the server"},
    {416, 416, CAP_E_UNAVAIL, false, "range not satisfiable"},
    {429, 429, CAP_E_UNAVAIL, true, "too many requests"},
    {400, 499, CAP_E_UNAVAIL, false, "request refused"},
    {500, 599, CAP_E_UNAVAIL, true, "server error"},
    {300, 399, CAP_E_UNAVAIL, false, "unfollowed redirect"},
};

/* Outcome of one transfer, in our terms. */
struct outcome {
	int ret; /* 0 or negative */
	bool retry;
};

/*
 * Translate what libcurl returned (plus the HTTP status and the local error a
 * callback recorded) into one message "what: why".  subject names the thing.
 */
static struct outcome translate(CURL *h, CURLcode rc, int local_err, const char *subject,
				const char *errbuf)
{
	struct outcome o = {0, false};
	long status = 0;

	if (local_err) { /* a callback failed: its message is already recorded */
		o.ret = local_err;
		return o;
	}
	cap_curl.curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_HTTP_RETURNED_ERROR ||
	    (rc == CURLE_OK && status >= 300 && !is_file_url(subject))) {
		for (size_t i = 0; i < sizeof(http_errs) / sizeof(http_errs[0]); i++)
			if (status >= http_errs[i].lo && status <= http_errs[i].hi) {
				o.ret = cap_errf(http_errs[i].cap, "%s: %s (HTTP %ld)", subject,
						 http_errs[i].what, status);
				o.retry = http_errs[i].retry;
				return o;
			}
		o.ret = cap_errf(CAP_E_UNAVAIL, "%s: unexpected HTTP status %ld", subject, status);
		return o;
	}
	if (rc == CURLE_OK)
		return o;
	for (size_t i = 0; i < sizeof(curl_errs) / sizeof(curl_errs[0]); i++)
		if (curl_errs[i].code == rc) {
			if (errbuf && *errbuf && curl_errs[i].cap != CAP_E_NOTFOUND &&
			    rc != CURLE_ABORTED_BY_CALLBACK)
				o.ret = cap_errf(curl_errs[i].cap, "%s: %s (%s)", subject,
						 curl_errs[i].what, errbuf);
			else
				o.ret = cap_errf(curl_errs[i].cap, "%s: %s", subject,
						 curl_errs[i].what);
			o.retry = curl_errs[i].retry;
			return o;
		}
	if (rc >= CURLE_SSL_ENGINE_NOTFOUND && rc <= CURLE_SSL_CLIENTCERT)
		o.ret = cap_errf(CAP_E_UNAVAIL, "%s: TLS error (%s)", subject,
				 *errbuf ? errbuf : cap_curl.curl_easy_strerror(rc));
	else
		o.ret = cap_errf(CAP_E_UNAVAIL, "%s: %s", subject,
				 *errbuf ? errbuf : cap_curl.curl_easy_strerror(rc));
	return o;
}

/* ---- transfers ---- */

/* p is the ctx: a transfer ends at its next progress call once the user interrupted. */
static int abort_cb(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return ((const struct cap_ctx *)p)->interrupted ? 1 : 0;
}

static CURL *easy_new(const struct cap_ctx *ctx, const char *url, char *errbuf)
{
	long t = net_timeout();
	CURL *h;

	h = cap_curl.curl_easy_init();
	if (!h)
		return NULL;
	errbuf[0] = '\0';
	cap_curl.curl_easy_setopt(h, CURLOPT_URL, url);
	cap_curl.curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	cap_curl.curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cap_curl.curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	cap_curl.curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	cap_curl.curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
	cap_curl.curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	cap_curl.curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	cap_curl.curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t);
	cap_curl.curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cap_curl.curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, t);
	cap_curl.curl_easy_setopt(h, CURLOPT_USERAGENT, "capstan/" CAPSTAN_VERSION);
	cap_curl.curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	cap_curl.curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_cb);
	cap_curl.curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)ctx);
	cap_curl.curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)CURL_MAX_READ_SIZE);
	if (ctx->insecure) {
		cap_curl.curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		cap_curl.curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (ctx->verbose > 1)
		cap_curl.curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	return h;
}

static void backoff(const struct cap_ctx *ctx, int attempt)
{
	struct timespec ts;
	long ms = 250L << (attempt < 6 ? attempt : 6);

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ctx->interrupted)
		;
}

struct mem {
	struct strbuf *sb;
	size_t max;
	int err;
	const char *url;
};

static size_t mem_write(char *p, size_t sz, size_t n, void *data)
{
	struct mem *m = data;

	if (m->sb->len + n > m->max) {
		m->err = cap_errf(CAP_E_DATA, "%s: larger than %zu bytes", m->url, m->max);
		return 0;
	}
	sb_add(m->sb, p, n);
	return n;
}

int reg_get(const struct cap_ctx *ctx, const char *url, size_t max, struct strbuf *out)
{
	char errbuf[CURL_ERROR_SIZE];
	struct outcome o = {0, false};
	int ret = cap_curl_load();

	if (ret)
		return ret;

	for (int attempt = 0;; attempt++) {
		struct mem m = {out, max, 0, url};
		CURL *h = easy_new(ctx, url, errbuf);
		if (!h)
			return cap_errf(ENOMEM, "%s: cannot start a transfer", url);
		out->len = 0;
		cap_curl.curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mem_write);
		cap_curl.curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
		CURLcode rc = cap_curl.curl_easy_perform(h);
		o = translate(h, rc, m.err, url, errbuf);
		cap_curl.curl_easy_cleanup(h);
		if (!o.ret || !o.retry || attempt >= net_retries() || ctx->interrupted)
			break;
		cap_verbose(ctx, "retrying %s: %s", url, cap_errmsg(o.ret));
		backoff(ctx, attempt);
	}
	if (!o.ret)
		sb_add(out, "", 0); /* NUL-terminated, even when empty */
	return o.ret;
}

int reg_catalog(const struct cap_ctx *ctx, struct index_catalog *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *url = url_join(ctx->repo_url, "index.yaml");
	int ret = reg_get(ctx, url, INDEX_MAX_BYTES, &sb);

	if (ret == -CAP_E_NOTFOUND)
		ret =
		    cap_errf(CAP_E_NOTFOUND, "registry %s has no catalog (%s)", ctx->repo_url, url);
	if (!ret)
		ret = index_parse_catalog(url, sb.buf, sb.len, out);
	sb_release(&sb);
	free(url);
	return ret;
}

/* ---- pull ---- */

struct pull {
	const struct cap_ctx *ctx;
	const char *name;
	const char *url; /* of the .gz */
	int part_fd;	 /* the compressed bytes received so far (cache/partial) */
	uint64_t part_len;
	char *info_path; /* identity of the partial download: url, digest, validator */
	char *validator; /* ETag or Last-Modified of the partial's source */
	char *new_validator;
	struct fs_tmp tmp; /* the uncompressed image being built */
	uint64_t out_len;
	z_stream z;
	bool z_ready, z_end;
	struct sha256 sha;
	unsigned char *obuf;
	int err;       /* first error a callback hit */
	bool data_err; /* err is about the data, not the transfer: drop the partial */
	uint64_t from; /* offset asked for in this attempt */
	bool status_checked;
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

/* Inflate len compressed bytes into the image: hash and write what comes out. */
static int feed(struct pull *p, const unsigned char *in, size_t len)
{
	p->z.next_in = (unsigned char *)in;
	p->z.avail_in = (uInt)len;
	while (p->z.avail_in) {
		if (p->z_end) {
			/* Another gzip member (what `cat a.gz b.gz` makes), or trailing junk. */
			if (p->z.next_in[0] != 0x1f)
				return data_error(
				    p, "%s: unexpected data after the end of the gzip stream",
				    p->url);
			inflateReset(&p->z);
			p->z_end = false;
		}
		p->z.next_out = p->obuf;
		p->z.avail_out = CHUNK;
		int zr = inflate(&p->z, Z_NO_FLUSH);
		size_t got = CHUNK - p->z.avail_out;
		if (got) {
			sha256_update(&p->sha, p->obuf, got);
			int r = fs_write_full(p->tmp.fd, p->obuf, got);
			if (r) {
				p->err = cap_errf(r, "cannot write image '%s': %s", p->name,
						  strerror(-r));
				return p->err;
			}
			p->out_len += got;
		}
		if (zr == Z_STREAM_END) {
			p->z_end = true;
		} else if (zr == Z_BUF_ERROR && !got) {
			break; /* needs more input */
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return data_error(p, "%s: corrupt gzip data (%s)", p->url,
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
		return p->err = cap_errf(errno, "cannot reset the download of '%s': %s", p->name,
					 strerror(errno));
	p->part_len = p->out_len = 0;
	p->z_end = false;
	inflateReset(&p->z);
	sha256_init(&p->sha);
	return 0;
}

static void write_info(struct pull *p, const char *digest)
{
	char *text =
	    xasprintf("%s\n%s\n%s\n", p->url, digest, p->new_validator ? p->new_validator : "");

	fs_write_atomic(p->info_path, text, strlen(text), 0644);
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

struct write_ctx {
	struct pull *p;
	CURL *h;
	const char *digest;
};

static size_t pull_write(char *buf, size_t sz, size_t n, void *data)
{
	struct write_ctx *w = data;
	struct pull *p = w->p;

	if (!p->status_checked) {
		long status = 0;
		curl_off_t cl = -1;
		p->status_checked = true;
		cap_curl.curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
		if (p->from && status == 200 && restart(p)) /* whole file instead of the rest */
			return 0;
		cap_curl.curl_easy_getinfo(w->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl >= 0)
			p->total = p->part_len + (uint64_t)cl;
		if (!p->validator || !p->new_validator || strcmp(p->validator, p->new_validator))
			write_info(p, w->digest);
	}
	int r = fs_write_full(p->part_fd, buf, n);
	if (r) {
		p->err = cap_errf(r, "cannot save the download of '%s' in the cache: %s", p->name,
				  strerror(-r));
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
		return cap_errf(errno, "cannot seek in the partial download: %s", strerror(errno));
	return 0;
}

/*
 * Read cache/partial/...info (lines: URL, digest, validator).  A verified
 * download is identified by its digest, so it resumes from another mirror;
 * an unverified one only from the same URL.  The validator (If-Range) only
 * applies to the same URL.
 */
static void load_partial(struct pull *p, const char *digest)
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
			bool same_url = !strcmp(url, p->url);
			bool same = strcmp(digest, "-") ? !strcmp(nl1 + 1, digest) : same_url;
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

static const char *base_name(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

/* Lock file: take it at once if free, else say we are waiting and block. */
static int lock_wait(const struct cap_ctx *ctx, const char *path, const char *what)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return cap_errf(errno, "cannot open lock '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	cap_info(ctx, "waiting for another capstan to finish with %s", what);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR && !ctx->interrupted)
			continue;
		int e = errno;
		close(fd);
		return e == EINTR ? cap_errf(CAP_E_INTR, "interrupted while waiting for %s", what)
				  : cap_errf(e, "cannot lock '%s': %s", path, strerror(e));
	}
	return fd;
}

/* The transfer loop: resume from part_len, retry what is worth retrying. */
static int download(struct pull *p, const char *digest)
{
	char errbuf[CURL_ERROR_SIZE], range[64], ifrange[300];
	struct outcome o = {0, false};
	int ret = cap_curl_load();

	if (ret)
		return ret;

	for (int attempt = 0;; attempt++) {
		struct curl_slist *hdrs = NULL;
		CURL *h = easy_new(p->ctx, p->url, errbuf);
		struct write_ctx w = {p, h, digest};

		if (!h)
			return cap_errf(ENOMEM, "%s: cannot start a transfer", p->url);
		p->from = p->part_len;
		p->status_checked = false;
		p->err = 0;
		if (p->from) {
			snprintf(range, sizeof(range), "%llu-", (unsigned long long)p->from);
			cap_curl.curl_easy_setopt(h, CURLOPT_RANGE, range);
			if (p->validator && !is_file_url(p->url)) {
				snprintf(ifrange, sizeof(ifrange), "If-Range: %s", p->validator);
				hdrs = cap_curl.curl_slist_append(hdrs, ifrange);
				cap_curl.curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
			}
			cap_verbose(p->ctx, "resuming %s at byte %llu", p->url,
				    (unsigned long long)p->from);
		}
		cap_curl.curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, pull_write);
		cap_curl.curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
		cap_curl.curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, pull_header);
		cap_curl.curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
		CURLcode rc = cap_curl.curl_easy_perform(h);
		o = translate(h, rc, p->err, p->url, errbuf);
		cap_curl.curl_easy_cleanup(h);
		cap_curl.curl_slist_free_all(hdrs);
		if (!o.ret || !o.retry || attempt >= net_retries() || p->ctx->interrupted)
			break;
		cap_verbose(p->ctx, "retrying %s: %s", p->url, cap_errmsg(o.ret));
		backoff(p->ctx, attempt);
	}
	if (p->ctx->interrupted && o.ret) {
		o.ret = cap_errf(CAP_E_INTR, "pull of '%s' interrupted (run it again to resume)",
				 p->name);
	} else if (o.ret == -CAP_E_UNAVAIL && p->part_len) {
		char msg[768];
		snprintf(msg, sizeof(msg), "%s", cap_errmsg(o.ret));
		o.ret = cap_errf(o.ret, "%s; %llu bytes kept, pull again to resume", msg,
				 (unsigned long long)p->part_len);
	}
	return o.ret;
}

/* After the transfer: a complete gzip stream, the size and the digest the index gives. */
static int verify(struct pull *p, const struct index_platform *plat, char got[SHA256_HEX_LEN + 1])
{
	progress(p, true);
	if (!p->z_end)
		return data_error(
		    p, "%s: truncated gzip stream (%llu bytes received); nothing installed", p->url,
		    (unsigned long long)p->part_len);
	sha256_final_hex(&p->sha, got);
	if (plat && p->out_len != plat->size)
		return data_error(p,
				  "%s: size mismatch: the index says %llu bytes, the image has "
				  "%llu; nothing installed",
				  p->url, (unsigned long long)plat->size,
				  (unsigned long long)p->out_len);
	if (plat && strcmp(got, plat->sha256))
		return data_error(
		    p,
		    "%s: sha256 mismatch: the index says %s, the image has %s; nothing installed",
		    p->url, plat->sha256, got);
	return 0;
}

struct fetched {
	struct index_image idx;
	const struct index_platform *plat; /* NULL: an original Capstan index, unverified */
	char *file;
	char *index_url;
};

static int fetch_index(const struct cap_ctx *ctx, const char *name, const char *platform,
		       struct fetched *f)
{
	struct strbuf sb = STRBUF_INIT;
	char *rel = xasprintf("%s/index.yaml", name);
	int ret;

	memset(f, 0, sizeof(*f));
	f->index_url = url_join(ctx->repo_url, rel);
	free(rel);
	ret = reg_get(ctx, f->index_url, INDEX_MAX_BYTES, &sb);
	if (ret == -CAP_E_NOTFOUND)
		ret = cap_errf(CAP_E_NOTFOUND, "no such image '%s' in %s", name, ctx->repo_url);
	else if (ret)
		ret = cap_errctx(ret, "cannot pull '%s'", name);
	if (!ret)
		ret = index_parse_image(f->index_url, sb.buf, sb.len, &f->idx);
	sb_release(&sb);
	if (ret)
		return ret;
	if (f->idx.nplatforms) {
		f->plat = index_image_platform(&f->idx, platform);
		if (!f->plat) {
			struct strbuf have = STRBUF_INIT;
			for (size_t i = 0; i < f->idx.nplatforms; i++)
				sb_addf(&have, "%s%s", i ? ", " : "", f->idx.platforms[i].name);
			ret = cap_errf(CAP_E_NOTFOUND,
				       "image '%s' in %s has no platform '%s' (it has: %s)", name,
				       ctx->repo_url, platform, have.buf);
			sb_release(&have);
			return ret;
		}
		f->file = xstrdup(f->plat->file);
	} else {
		f->file = xasprintf("%s.%s.gz", base_name(name), platform);
	}
	return 0;
}

static void fetched_release(struct fetched *f)
{
	index_image_release(&f->idx);
	free(f->file);
	free(f->index_url);
}

int reg_pull(const struct cap_ctx *ctx, const char *name, const char *platform)
{
	struct fetched f;
	struct pull p;
	struct repo_meta meta;
	char got[SHA256_HEX_LEN + 1], *dir = NULL, *final = NULL, *cache = NULL, *part_path = NULL,
				      *lock_path = NULL;
	char *rel = NULL;
	int lock_fd = -1, ret;
	char *made_top = NULL; /* the highest folder this pull created, for a rollback */

	if (!platform)
		platform = "qemu";
	memset(&p, 0, sizeof(p));
	p.part_fd = -1;
	p.tmp.fd = -1;
	if (!repo_name_valid(name))
		return cap_errf(CAP_E_USAGE, "invalid image name '%s' (expected [namespace/]name)",
				name);
	if (!index_file_name_valid(platform))
		return cap_errf(CAP_E_USAGE, "invalid platform '%s'", platform);
	if ((ret = fetch_index(ctx, name, platform, &f))) {
		fetched_release(&f);
		return ret;
	}
	const char *digest = f.plat ? f.plat->sha256 : "-";
	if (!f.plat)
		cap_warn(ctx,
			 "%s has no sha256 for '%s' (an original Capstan registry): the image is "
			 "unverified",
			 f.index_url, name);

	/* One pull per image and platform at a time; the lock lives beside the partial download. */
	cache = cap_path(ctx, "cache/partial/%s", name);
	char *slash = strrchr(cache, '/');
	*slash = '\0';
	if ((ret = fs_mkdirs(cache, 0755)))
		goto out;
	*slash = '/';
	lock_path = xasprintf("%s.%s.lock", cache, platform);
	part_path = xasprintf("%s.%s.gz", cache, platform);
	p.info_path = xasprintf("%s.%s.info", cache, platform);
	char *what = xasprintf("'%s' (%s)", name, platform);
	lock_fd = lock_wait(ctx, lock_path, what);
	free(what);
	if (lock_fd < 0) {
		ret = lock_fd;
		goto out;
	}

	dir = repo_image_dir(ctx, name);
	final = xasprintf("%s/%s.%s", dir, base_name(name), platform);
	if (f.plat && fs_exists(final)) {
		uint64_t size;
		if (hash_file(final, &size, got) == 0 && size == f.plat->size &&
		    !strcmp(got, f.plat->sha256)) {
			cap_info(ctx, "%s (%s) is up to date", name, platform);
			ret = 0;
			goto out;
		}
	}
	made_top = first_missing(ctx, dir);
	if ((ret = fs_mkdirs(dir, 0755)))
		goto out;
	remove_stale_tmp(dir, strrchr(final, '/') + 1);
	if ((ret = fs_tmp_open(&p.tmp, final, 0644)))
		goto out;

	p.ctx = ctx;
	p.name = name;
	rel = xasprintf("%s/%s", name, f.file);
	p.url = url_join(ctx->repo_url, rel);
	p.obuf = xmalloc(2 * CHUNK);
	sha256_init(&p.sha);
	if (inflateInit2(&p.z, 15 + 16) != Z_OK) {
		ret = cap_errf(ENOMEM, "cannot start gzip decompression");
		goto out;
	}
	p.z_ready = true;
	p.part_fd = open(part_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (p.part_fd < 0) {
		ret = cap_errf(errno, "cannot open '%s': %s", part_path, strerror(errno));
		goto out;
	}
	load_partial(&p, digest);
	p.progress = !ctx->quiet && isatty(fileno(ctx->err));
	now_s(&p.t0);
	p.tlast = p.t0;
	if (p.part_len) {
		cap_info(ctx, "resuming %s (%s) from %llu bytes", name, platform,
			 (unsigned long long)p.part_len);
		ret = replay(&p);
		if (ret && p.data_err) {
			cap_verbose(ctx, "partial download unusable (%s), starting over",
				    cap_errmsg(ret));
			p.err = 0;
			p.data_err = false;
			ret = restart(&p);
		}
		if (ret)
			goto out;
	} else {
		cap_info(ctx, "pulling %s (%s) from %s", name, platform, ctx->repo_url);
	}
	p.done0 = p.part_len;
	/* A resumed download that fails verification gets one fresh try: the mirror may have
	 * recompressed. */
	for (bool resumed = p.part_len > 0;; resumed = false) {
		ret = p.z_end ? 0 : download(&p, digest);
		if (!ret)
			ret = verify(&p, f.plat, got);
		if (!ret || !p.data_err || !resumed)
			break;
		cap_info(ctx,
			 "resumed download of %s failed verification (%s); downloading it again",
			 name, cap_errmsg(ret));
		p.err = 0;
		p.data_err = false;
		free(p.validator);
		p.validator = NULL;
		if ((ret = restart(&p)))
			break;
	}
	if (!ret && (ret = probe_standalone_fd(p.tmp.fd, name)))
		p.data_err = true; /* a backing file: refused, nothing kept */
	if (ret)
		goto out;
	meta.version = f.idx.version;
	meta.created = f.idx.created;
	meta.description = f.idx.description;
	meta.build = f.idx.build;
	ret = repo_install(ctx, name, platform, &p.tmp, &meta);
	p.tmp.fd = -1;
	p.tmp.tmp_path = NULL;
	if (ret)
		goto out;
	unlink(part_path);
	unlink(p.info_path);
	cap_info(ctx, "pulled %s (%s), %llu bytes, sha256 %s%s", name, platform,
		 (unsigned long long)p.out_len, got, f.plat ? "" : " (unverified)");
out:
	if (ret && p.progress && p.part_len)
		fputc('\n', ctx->err);
	if (p.tmp.tmp_path)
		fs_tmp_abort(&p.tmp);
	if (ret && p.data_err && part_path) {
		unlink(part_path); /* bad data: resuming it would fail again */
		unlink(p.info_path);
	}
	if (ret && made_top)
		remove_empty(dir, made_top);
	free(made_top);
	if (p.part_fd >= 0)
		close(p.part_fd);
	if (p.z_ready)
		inflateEnd(&p.z);
	fs_unlock(lock_fd);
	free(p.obuf);
	free(p.info_path);
	free(p.validator);
	free(p.new_validator);
	free((char *)p.url);
	free(rel);
	free(dir);
	free(final);
	free(cache);
	free(part_path);
	free(lock_path);
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

/* ---- push ---- */

/* gzip src into fd, hashing the uncompressed bytes. */
static int compress_to(const struct cap_ctx *ctx, const char *src, int fd, uint64_t *size,
		       char hex[SHA256_HEX_LEN + 1])
{
	unsigned char *in = xmalloc(CHUNK), *out = xmalloc(CHUNK);
	struct sha256 s;
	z_stream z;
	int in_fd = open(src, O_RDONLY | O_CLOEXEC), ret = 0, flush = Z_NO_FLUSH;

	memset(&z, 0, sizeof(z));
	*size = 0;
	if (in_fd < 0) {
		ret = cap_errf(errno, "cannot open '%s': %s", src, strerror(errno));
		free(in);
		free(out);
		return ret;
	}
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		ret = cap_errf(ENOMEM, "cannot start gzip compression");
		goto out;
	}
	sha256_init(&s);
	while (flush != Z_FINISH) {
		ssize_t n = read(in_fd, in, CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = cap_errf(errno, "cannot read '%s': %s", src, strerror(errno));
			break;
		}
		if (ctx->interrupted) {
			ret = cap_errf(CAP_E_INTR, "push interrupted");
			break;
		}
		sha256_update(&s, in, (size_t)n);
		*size += (uint64_t)n;
		flush = n ? Z_NO_FLUSH : Z_FINISH;
		z.next_in = in;
		z.avail_in = (uInt)n;
		do {
			z.next_out = out;
			z.avail_out = CHUNK;
			deflate(&z, flush);
			int r = fs_write_full(fd, out, CHUNK - z.avail_out);
			if (r) {
				ret = cap_errf(r, "cannot write the compressed image: %s",
					       strerror(-r));
				break;
			}
		} while (z.avail_out == 0);
		if (ret)
			break;
	}
	deflateEnd(&z);
	if (!ret)
		sha256_final_hex(&s, hex);
out:
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

/* Fetch and parse an index that may not exist yet (then: empty). */
static int get_existing(const struct cap_ctx *ctx, const char *url, bool catalog, void *out)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = reg_get(ctx, url, INDEX_MAX_BYTES, &sb);

	if (ret == -CAP_E_NOTFOUND) {
		cap_errclear();
		sb_release(&sb);
		memset(out, 0, catalog ? sizeof(struct index_catalog) : sizeof(struct index_image));
		return 0;
	}
	if (!ret)
		ret = catalog ? index_parse_catalog(url, sb.buf, sb.len, out)
			      : index_parse_image(url, sb.buf, sb.len, out);
	if (ret)
		cap_errctx(ret, "cannot update the registry");
	sb_release(&sb);
	return ret;
}

struct upload {
	int fd;
	const char *buf;
	size_t len, off;
};

static size_t upload_read(char *dst, size_t sz, size_t n, void *data)
{
	struct upload *u = data;

	if (u->fd >= 0) {
		ssize_t r;
		do
			r = read(u->fd, dst, n);
		while (r < 0 && errno == EINTR);
		return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
	}
	size_t k = u->len - u->off < n ? u->len - u->off : n;
	memcpy(dst, u->buf + u->off, k);
	u->off += k;
	return k;
}

/* PUT fd (rewound each attempt) or buf to url. */
static int http_put(const struct cap_ctx *ctx, const char *url, int fd, const char *buf, size_t len)
{
	char errbuf[CURL_ERROR_SIZE];
	struct outcome o = {0, false};
	int ret = cap_curl_load();

	if (ret)
		return ret;

	for (int attempt = 0;; attempt++) {
		struct upload u = {fd, buf, len, 0};
		CURL *h = easy_new(ctx, url, errbuf);
		if (!h)
			return cap_errf(ENOMEM, "%s: cannot start a transfer", url);
		if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
			cap_curl.curl_easy_cleanup(h);
			return cap_errf(errno, "cannot rewind the upload: %s", strerror(errno));
		}
		cap_curl.curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		cap_curl.curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
		cap_curl.curl_easy_setopt(h, CURLOPT_READDATA, &u);
		cap_curl.curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
		CURLcode rc = cap_curl.curl_easy_perform(h);
		o = translate(h, rc, 0, url, errbuf);
		cap_curl.curl_easy_cleanup(h);
		if (!o.ret || !o.retry || attempt >= net_retries() || ctx->interrupted)
			break;
		backoff(ctx, attempt);
	}
	return o.ret;
}

static int push_http(const struct cap_ctx *ctx, const char *name, const char *url,
		     const struct repo_image *img, struct index_platform *plat)
{
	struct index_image idx;
	struct index_catalog cat;
	struct strbuf sb = STRBUF_INIT;
	char *gz_path = cap_path(ctx, "cache/push.XXXXXX"), *rel = NULL, *u = NULL;
	int fd = -1, ret;
	uint64_t gz_size;

	memset(&idx, 0, sizeof(idx));
	memset(&cat, 0, sizeof(cat));
	char *cache = cap_path(ctx, "cache");
	ret = fs_mkdirs(cache, 0755);
	free(cache);
	if (ret)
		goto out;
	fd = mkostemp(gz_path, O_CLOEXEC);
	if (fd < 0) {
		ret = cap_errf(errno, "cannot create '%s': %s", gz_path, strerror(errno));
		goto out;
	}
	unlink(gz_path); /* anonymous from here on */
	if ((ret = compress_to(ctx, img->path, fd, &plat->size, plat->sha256)))
		goto out;
	gz_size = (uint64_t)lseek(fd, 0, SEEK_END);
	rel = xasprintf("%s/%s", name, plat->file);
	u = url_join(url, rel);
	cap_info(ctx, "uploading %s", u);
	if ((ret = http_put(ctx, u, fd, NULL, gz_size)))
		goto out;
	free(rel);
	free(u);
	rel = xasprintf("%s/index.yaml", name);
	u = url_join(url, rel);
	if ((ret = get_existing(ctx, u, false, &idx)))
		goto out;
	fill_index(&idx, &img->meta, plat);
	if ((ret = index_emit_image(&idx, &sb)) || (ret = http_put(ctx, u, -1, sb.buf, sb.len)))
		goto out;
	free(u);
	u = url_join(url, "index.yaml");
	if ((ret = get_existing(ctx, u, true, &cat)))
		goto out;
	index_catalog_set(&cat, name, &idx);
	sb.len = 0;
	if ((ret = index_emit_catalog(&cat, &sb)) || (ret = http_put(ctx, u, -1, sb.buf, sb.len)))
		goto out;
out:
	if (fd >= 0)
		close(fd);
	index_image_release(&idx);
	index_catalog_release(&cat);
	sb_release(&sb);
	free(gz_path);
	free(rel);
	free(u);
	return ret;
}

/* Read an index file of a file:// tree; a missing one is empty. */
static int read_existing(const char *path, bool catalog, void *out)
{
	char *text = NULL;
	size_t len;
	int ret;

	memset(out, 0, catalog ? sizeof(struct index_catalog) : sizeof(struct index_image));
	if (!fs_exists(path))
		return 0;
	if ((ret = fs_read_all(path, &text, &len)))
		return ret;
	ret = catalog ? index_parse_catalog(path, text, len, out)
		      : index_parse_image(path, text, len, out);
	free(text);
	return ret ? cap_errctx(ret, "cannot update the registry") : 0;
}

static int push_file(const struct cap_ctx *ctx, const char *name, const char *root,
		     const char *image, const struct repo_meta *meta, struct index_platform *plat)
{
	struct index_image idx;
	struct index_catalog cat;
	struct strbuf sb = STRBUF_INIT;
	struct fs_tmp tmp = {-1, NULL, NULL};
	char *dir = xasprintf("%s/%s", root, name), *gz = xasprintf("%s/%s", dir, plat->file);
	char *lock = xasprintf("%s/.capstan-push.lock", root),
	     *ipath = xasprintf("%s/index.yaml", dir);
	char *cpath = xasprintf("%s/index.yaml", root);
	int lock_fd = -1, ret;

	memset(&idx, 0, sizeof(idx));
	memset(&cat, 0, sizeof(cat));
	if ((ret = fs_mkdirs(dir, 0755)) || (ret = fs_tmp_open(&tmp, gz, 0644)))
		goto out;
	if ((ret = compress_to(ctx, image, tmp.fd, &plat->size, plat->sha256)))
		goto out;
	/* One writer at a time for the indexes; readers see old or new files, never half of one. */
	lock_fd = lock_wait(ctx, lock, root);
	if (lock_fd < 0) {
		ret = lock_fd;
		goto out;
	}
	if ((ret = read_existing(ipath, false, &idx)) || (ret = read_existing(cpath, true, &cat)))
		goto out;
	ret = fs_tmp_commit(&tmp);
	tmp.tmp_path = NULL;
	if (ret)
		goto out;
	fill_index(&idx, meta, plat);
	if ((ret = index_emit_image(&idx, &sb)) ||
	    (ret = fs_write_atomic(ipath, sb.buf, sb.len, 0644)))
		goto out;
	index_catalog_set(&cat, name, &idx);
	sb.len = 0;
	if ((ret = index_emit_catalog(&cat, &sb)) ||
	    (ret = fs_write_atomic(cpath, sb.buf, sb.len, 0644)))
		goto out;
out:
	if (tmp.tmp_path)
		fs_tmp_abort(&tmp);
	fs_unlock(lock_fd);
	index_image_release(&idx);
	index_catalog_release(&cat);
	sb_release(&sb);
	free(dir);
	free(gz);
	free(lock);
	free(ipath);
	free(cpath);
	return ret;
}

int reg_push(const struct cap_ctx *ctx, const char *name, const char *platform, const char *url)
{
	struct repo_image img;
	char hex[SHA256_HEX_LEN + 1] = "";
	struct index_platform plat = {0};
	char *root = NULL;
	int ret;

	if (!platform)
		platform = "qemu";
	if (!repo_name_valid(name))
		return cap_errf(CAP_E_USAGE, "invalid image name '%s' (expected [namespace/]name)",
				name);
	if (!index_file_name_valid(platform))
		return cap_errf(CAP_E_USAGE, "invalid platform '%s'", platform);
	if (is_file_url(url)) {
		ret = cap_curl_load(); /* for its URL decoding */
		if (ret)
			return ret;
		root = file_url_path(url);
		if (!root)
			return cap_errf(CAP_E_USAGE,
					"bad file:// URL '%s' (use file:///absolute/path)", url);
	} else if (!str_has_prefix(url, "http://") && !str_has_prefix(url, "https://")) {
		return cap_errf(CAP_E_USAGE,
				"cannot push to '%s': use file://, http:// or https://", url);
	}
	if ((ret = repo_find(ctx, name, platform, &img))) {
		free(root);
		return ret;
	}
	plat.name = (char *)platform;
	plat.file = xasprintf("%s.%s.gz", base_name(name), platform);
	plat.has_size = true;
	plat.sha256 = hex;
	cap_info(ctx, "pushing %s (%s) to %s", name, platform, url);
	ret = root ? push_file(ctx, name, root, img.path, &img.meta, &plat)
		   : push_http(ctx, name, url, &img, &plat);
	if (!ret)
		cap_info(ctx, "pushed %s (%s), %llu bytes, sha256 %s", name, platform,
			 (unsigned long long)plat.size, hex);
	free(plat.file);
	free(root);
	repo_image_release(&img);
	return ret;
}

int reg_publish_file(const struct cap_ctx *ctx, const char *root, const char *name,
		     const char *platform, const char *image, const struct repo_meta *meta)
{
	char hex[SHA256_HEX_LEN + 1] = "";
	struct index_platform plat = {0};
	int ret;

	if (!repo_name_valid(name))
		return cap_errf(CAP_E_USAGE, "invalid image name '%s' (expected [namespace/]name)",
				name);
	if (!index_file_name_valid(platform))
		return cap_errf(CAP_E_USAGE, "invalid platform '%s'", platform);
	plat.name = (char *)platform;
	plat.file = xasprintf("%s.%s.gz", base_name(name), platform);
	plat.has_size = true;
	plat.sha256 = hex;
	ret = push_file(ctx, name, root, image, meta, &plat);
	free(plat.file);
	return ret;
}
