// SPDX-License-Identifier: BSD-3-Clause
// Registry transport: settings, URLs, curl errors in our terms, requests with retries, push
// targets.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/registry.h"
#include "capstan/size.h"
#include "transport.h"
#include "capstan/banned.h"

#ifndef CAPSTAN_VERSION
#define CAPSTAN_VERSION "0"
#endif

#define MAX_REDIRS 8

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

/* Below this many bytes a second for CAPSTAN_NET_TIMEOUT seconds, a transfer is given up. */
static long net_min_speed(void)
{
	long v = env_long("CAPSTAN_NET_MIN_SPEED", 1024, 0, 1L << 30);

	return v ? v : 1; /* 0: only a transfer that stalls completely */
}

int reg_net_retries(void)
{
	return (int)env_long("CAPSTAN_NET_RETRIES", 3, 0, 20);
}

uint64_t reg_unsized_limit(void)
{
	const char *s = getenv("CAPSTAN_PULL_MAX_SIZE");
	uint64_t v;

	if (s && *s && parse_size(s, 1, &v) == 0 && v)
		return v;
	return 4ull << 30;
}

/* ---- URLs ---- */

bool reg_is_file_url(const char *url)
{
	return str_has_prefix(url, "file://");
}

char *reg_url_join(const char *base, const char *rel)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, base, rel);
}

char *reg_file_url_path(const char *url)
{
	const char *p;
	char *dec, *ret;
	int n;

	if (!reg_is_file_url(url))
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

char *reg_url_shown(const char *url)
{
	const char *auth = strstr(url, "://");
	size_t end;

	if (!auth)
		return xstrdup(url);
	auth += 3;
	end = strcspn(auth, "/?#");
	const char *at = memrchr(auth, '@', end);
	if (!at)
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(auth - url), url, at);
}

const char *reg_base_name(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

int reg_lock_wait(const struct cap_ctx *ctx, const char *path, const char *what)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return cap_errnof(errno, "cannot open lock '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	cap_info(ctx, "waiting for another capstan to finish with %s", what);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR && !ctx->interrupted)
			continue;
		int e = errno;
		close(fd);
		return e == EINTR ? cap_errf(CAP_E_INTR, "interrupted while waiting for %s", what)
				  : cap_errnof(e, "cannot lock '%s'", path);
	}
	return fd;
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

static struct outcome http_outcome(long status, const char *subject)
{
	struct outcome o = {0, false};

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

/* A redirect curl refused to follow: the registry's doing, not a bad command line. */
static int refused_redirect(CURL *h, const char *subject)
{
	char *target = NULL, *shown;
	int ret;

	cap_curl.curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &target);
	shown = reg_url_shown(target ? target : "?");
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	ret = cap_errf(CAP_E_UNAVAIL,
		       "%s: redirected to '%s', which is refused (only http(s) redirects are "
		       "followed, and only https ones from https)",
		       subject, shown);
	free(shown);
	return ret;
}

static struct outcome curl_outcome(CURL *h, CURLcode rc, const char *subject, const char *errbuf)
{
	struct outcome o = {0, false};
	long redirects = 0;

	cap_curl.curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && redirects > 0) {
		o.ret = refused_redirect(h, subject);
		return o;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && strstr(errbuf, "too slow")) {
		o.ret = cap_errf(CAP_E_UNAVAIL,
				 "%s: timed out: less than %ld bytes/s for %ld s (see "
				 "CAPSTAN_NET_MIN_SPEED and CAPSTAN_NET_TIMEOUT)",
				 subject, net_min_speed(), net_timeout());
		o.retry = true;
		return o;
	}
	for (size_t i = 0; i < sizeof(curl_errs) / sizeof(curl_errs[0]); i++)
		if (curl_errs[i].code == rc) {
			if (*errbuf && curl_errs[i].cap != CAP_E_NOTFOUND &&
			    rc != CURLE_ABORTED_BY_CALLBACK)
				o.ret = cap_errf(curl_errs[i].cap, "%s: %s (%s)", subject,
						 curl_errs[i].what, errbuf);
			else
				o.ret = cap_errf(curl_errs[i].cap, "%s: %s", subject,
						 curl_errs[i].what);
			o.retry = curl_errs[i].retry;
			return o;
		}
	const char *why = *errbuf ? errbuf : cap_curl.curl_easy_strerror(rc);
	if (rc >= CURLE_SSL_ENGINE_NOTFOUND && rc <= CURLE_SSL_CLIENTCERT)
		o.ret = cap_errf(CAP_E_UNAVAIL, "%s: TLS error (%s)", subject, why);
	else
		o.ret = cap_errf(CAP_E_UNAVAIL, "%s: %s", subject, why);
	return o;
}

/*
 * What libcurl returned (plus the HTTP status and the error a callback
 * recorded) as one message "what: why".  subject names the thing.
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
	    (rc == CURLE_OK && status >= 300 && !reg_is_file_url(subject)))
		return http_outcome(status, subject);
	if (rc == CURLE_OK)
		return o;
	return curl_outcome(h, rc, subject, errbuf);
}

/* ---- requests ---- */

static int abort_cb(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return ((const struct cap_ctx *)p)->interrupted ? 1 : 0;
}

/* -vv: curl's trace, without passwords or the server's control characters. */
static int trace_cb(CURL *h, curl_infotype type, char *data, size_t size, void *p)
{
	static const char *const mark[] = {"* ", "< ", "> "};
	const struct cap_ctx *ctx = p;

	if (type > CURLINFO_HEADER_OUT)
		return 0;
	for (size_t i = 0; i < size;) {
		size_t n = 0;
		while (i + n < size && data[i + n] != '\n')
			n++;
		fputs(mark[type], ctx->err);
		if (type == CURLINFO_HEADER_OUT && n >= 14 &&
		    !strncasecmp(data + i, "Authorization:", 14)) {
			fputs("Authorization: ***", ctx->err);
		} else {
			for (size_t k = 0; k < n; k++) {
				unsigned char c = (unsigned char)data[i + k];
				fputc(c < 0x20 || c == 0x7f ? (c == '\r' ? ' ' : '?') : c,
				      ctx->err);
			}
		}
		fputc('\n', ctx->err);
		i += n + 1;
	}
	return 0;
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
	/* An https registry stays https: a redirect must not drop TLS (or reach a local file). */
	cap_curl.curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
				  str_has_prefix(url, "https://") ? "https" : "http,https");
	cap_curl.curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t);
	/* A server dripping bytes is as stuck as a silent one. */
	cap_curl.curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, net_min_speed());
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
	if (ctx->verbose > 1) {
		cap_curl.curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, trace_cb);
		cap_curl.curl_easy_setopt(h, CURLOPT_DEBUGDATA, (void *)ctx);
		cap_curl.curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
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

/* One attempt: a fresh handle, the caller's setup, perform, our outcome. */
static struct outcome attempt_once(const struct cap_ctx *ctx, struct reg_req *rq, const char *shown)
{
	char errbuf[CURL_ERROR_SIZE];
	struct outcome o = {0, false};
	CURL *h = easy_new(ctx, rq->url, errbuf);

	if (!h) {
		o.ret = cap_errf(ENOMEM, "%s: cannot start a transfer", shown);
		return o;
	}
	if (rq->cb_err)
		*rq->cb_err = 0;
	o.ret = rq->setup ? rq->setup(rq, h) : 0;
	if (!o.ret) {
		if (rq->headers)
			cap_curl.curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
		CURLcode rc = cap_curl.curl_easy_perform(h);
		o = translate(h, rc, rq->cb_err ? *rq->cb_err : 0, shown, errbuf);
	}
	cap_curl.curl_easy_cleanup(h);
	cap_curl.curl_slist_free_all(rq->headers);
	rq->headers = NULL;
	return o;
}

int reg_request(const struct cap_ctx *ctx, struct reg_req *rq)
{
	struct outcome o = {0, false};
	char *shown;
	int ret = cap_curl_load();

	if (ret)
		return ret;
	shown = reg_url_shown(rq->url);
	for (int attempt = 0;; attempt++) {
		o = attempt_once(ctx, rq, shown);
		if (!o.ret || !o.retry || attempt >= reg_net_retries() || ctx->interrupted)
			break;
		cap_verbose(ctx, "retrying %s: %s", shown, cap_errmsg(o.ret));
		backoff(ctx, attempt);
	}
	free(shown);
	return o.ret;
}

/* ---- GET into memory ---- */

struct mem {
	struct strbuf *sb;
	size_t max;
	int err;
	const char *shown;
};

static size_t mem_write(char *p, size_t sz, size_t n, void *data)
{
	struct mem *m = data;

	if (m->sb->len + n > m->max) {
		m->err = cap_errf(CAP_E_DATA, "%s: larger than %zu bytes", m->shown, m->max);
		return 0;
	}
	sb_add(m->sb, p, n);
	return n;
}

static int mem_setup(struct reg_req *rq, CURL *h)
{
	struct mem *m = rq->data;

	m->sb->len = 0;
	cap_curl.curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mem_write);
	cap_curl.curl_easy_setopt(h, CURLOPT_WRITEDATA, m);
	return 0;
}

int reg_get(const struct cap_ctx *ctx, const char *url, size_t max, struct strbuf *out)
{
	char *shown = reg_url_shown(url);
	struct mem m = {out, max, 0, shown};
	struct reg_req rq = {.url = url, .setup = mem_setup, .data = &m, .cb_err = &m.err};
	int ret = reg_request(ctx, &rq);

	free(shown);
	if (!ret)
		sb_add(out, "", 0); /* NUL-terminated, even when empty */
	return ret;
}

/* ---- push targets: a file:// tree ---- */

static int dir_lock(struct reg_xport *x)
{
	char *path = xasprintf("%s/.capstan-push.lock", x->base);

	x->lock_fd = reg_lock_wait(x->ctx, path, x->base);
	free(path);
	return x->lock_fd < 0 ? x->lock_fd : 0;
}

static int dir_get(struct reg_xport *x, const char *rel, size_t max, struct strbuf *out)
{
	char *path = xasprintf("%s/%s", x->base, rel), *text = NULL;
	size_t len;
	int ret = 0;

	if (!fs_exists(path))
		ret = cap_errf(CAP_E_NOTFOUND, "%s: no such file", path);
	else if (!(ret = fs_read_all(path, &text, &len)) && len > max)
		ret = cap_errf(CAP_E_DATA, "%s: larger than %zu bytes", path, max);
	if (!ret) {
		out->len = 0;
		sb_add(out, text, len);
		sb_add(out, "", 0);
	}
	free(text);
	free(path);
	return ret;
}

/* The folder of root/rel, created. */
static int dir_parent(struct reg_xport *x, const char *rel, char **path)
{
	*path = xasprintf("%s/%s", x->base, rel);
	char *slash = strrchr(*path, '/');
	*slash = '\0';
	int ret = fs_mkdirs(*path, 0755);
	*slash = '/';
	return ret;
}

static int dir_put(struct reg_xport *x, const char *rel, const char *buf, size_t len)
{
	char *path;
	int ret = dir_parent(x, rel, &path);

	if (!ret)
		ret = fs_write_atomic(path, buf, len, 0644);
	free(path);
	return ret;
}

static int dir_blob_open(struct reg_xport *x, const char *rel, int *fd)
{
	char *path;
	int ret = dir_parent(x, rel, &path);

	if (!ret)
		ret = fs_tmp_open(&x->blob, path, 0644);
	free(path);
	*fd = x->blob.fd;
	return ret;
}

static int dir_blob_commit(struct reg_xport *x)
{
	int ret = fs_tmp_commit(&x->blob);

	x->blob.tmp_path = NULL;
	x->blob.fd = -1;
	return ret;
}

static void xport_release(struct reg_xport *x)
{
	if (x->blob.tmp_path)
		fs_tmp_abort(&x->blob);
	else if (x->blob.fd >= 0)
		close(x->blob.fd);
	fs_unlock(x->lock_fd);
	free(x->base);
	free(x->blob_rel);
	memset(x, 0, sizeof(*x));
	x->lock_fd = x->blob.fd = -1;
}

static const struct reg_xport_ops dir_ops = {
    .lock = dir_lock,
    .get = dir_get,
    .put = dir_put,
    .blob_open = dir_blob_open,
    .blob_commit = dir_blob_commit,
    .release = xport_release,
};

/* ---- push targets: an http(s) server that takes PUT ---- */

static int http_lock(struct reg_xport *x)
{
	return 0; /* HTTP has no lock: the last writer of an index wins */
}

static int http_get(struct reg_xport *x, const char *rel, size_t max, struct strbuf *out)
{
	char *url = reg_url_join(x->base, rel);
	int ret = reg_get(x->ctx, url, max, out);

	free(url);
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

/* Each attempt sends the whole body again: rewind. */
static int put_setup(struct reg_req *rq, CURL *h)
{
	struct upload *u = rq->data;

	u->off = 0;
	if (u->fd >= 0 && lseek(u->fd, 0, SEEK_SET) < 0)
		return cap_errnof(errno, "cannot rewind the upload");
	cap_curl.curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	cap_curl.curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
	cap_curl.curl_easy_setopt(h, CURLOPT_READDATA, u);
	cap_curl.curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->len);
	return 0;
}

static int http_send(struct reg_xport *x, const char *rel, int fd, const char *buf, size_t len)
{
	struct upload u = {fd, buf, len, 0};
	char *url = reg_url_join(x->base, rel);
	struct reg_req rq = {.url = url, .setup = put_setup, .data = &u};
	int ret = reg_request(x->ctx, &rq);

	free(url);
	return ret;
}

static int http_put(struct reg_xport *x, const char *rel, const char *buf, size_t len)
{
	return http_send(x, rel, -1, buf, len);
}

/* The compressed image waits in an anonymous file under $CAPSTAN_ROOT/cache. */
static int http_blob_open(struct reg_xport *x, const char *rel, int *fd)
{
	char *cache = cap_path(x->ctx, "cache"), *path = cap_path(x->ctx, "cache/push.XXXXXX");
	int ret = cap_mkdirs(x->ctx, cache, 0700);

	free(cache);
	if (!ret) {
		x->blob.fd = mkostemp(path, O_CLOEXEC);
		if (x->blob.fd < 0)
			ret = cap_errnof(errno, "cannot create '%s'", path);
		else
			unlink(path);
	}
	free(path);
	x->blob_rel = xstrdup(rel);
	*fd = x->blob.fd;
	return ret;
}

static int http_blob_commit(struct reg_xport *x)
{
	off_t len = lseek(x->blob.fd, 0, SEEK_END);
	char *shown, *url = reg_url_join(x->base, x->blob_rel);

	if (len < 0)
		return cap_errnof(errno, "cannot size the upload");
	shown = reg_url_shown(url);
	cap_info(x->ctx, "uploading %s", shown);
	free(shown);
	free(url);
	return http_send(x, x->blob_rel, x->blob.fd, NULL, (size_t)len);
}

static const struct reg_xport_ops http_ops = {
    .lock = http_lock,
    .get = http_get,
    .put = http_put,
    .blob_open = http_blob_open,
    .blob_commit = http_blob_commit,
    .release = xport_release,
};

void reg_xport_open_dir(const struct cap_ctx *ctx, const char *root, struct reg_xport *x)
{
	memset(x, 0, sizeof(*x));
	x->ops = &dir_ops;
	x->ctx = ctx;
	x->base = xstrdup(root);
	x->lock_fd = x->blob.fd = -1;
}

int reg_xport_open(const struct cap_ctx *ctx, const char *url, struct reg_xport *x)
{
	char *shown;
	int ret;

	memset(x, 0, sizeof(*x));
	x->lock_fd = x->blob.fd = -1;
	if (reg_is_file_url(url)) {
		if ((ret = cap_curl_load())) /* for its URL decoding */
			return ret;
		char *root = reg_file_url_path(url);
		if (!root)
			return cap_errf(CAP_E_USAGE,
					"bad file:// URL '%s' (use file:///absolute/path)", url);
		reg_xport_open_dir(ctx, root, x);
		free(root);
		return 0;
	}
	if (str_has_prefix(url, "http://") || str_has_prefix(url, "https://")) {
		x->ops = &http_ops;
		x->ctx = ctx;
		x->base = xstrdup(url);
		return 0;
	}
	shown = reg_url_shown(url);
	ret = cap_errf(CAP_E_USAGE, "cannot push to '%s': use file://, http:// or https://", shown);
	free(shown);
	return ret;
}
