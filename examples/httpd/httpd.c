// SPDX-License-Identifier: BSD-3-Clause
// A small static HTTP/1.1 server: GET and HEAD of a file tree, /healthz, keep-alive; one
// thread, non-blocking sockets multiplexed with poll(2).  Usage: httpd [-p PORT] [ROOT]
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONN 1024
#define MAX_REQ	 8192
#define MAX_FILE (64 << 20)

struct conn {
	int fd;
	char in[MAX_REQ];
	size_t inlen;
	char *out; /* the response being written */
	size_t outlen, outoff;
	int close_after;
};

static struct conn *conns[MAX_CONN];
static const char *root = "/www";

static const char *mime(const char *path)
{
	static const char *const types[][2] = {
	    {".html", "text/html; charset=utf-8"},
	    {".htm", "text/html; charset=utf-8"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".css", "text/css"},
	    {".js", "application/javascript"},
	    {".json", "application/json"},
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".svg", "image/svg+xml"},
	    {".ico", "image/x-icon"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

/* Queue a response: status line, headers and (unless HEAD) the body. */
static void respond(struct conn *c, int code, const char *reason, const char *type,
		    const char *body, size_t blen, int head)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nServer: capstan-httpd\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
			 code, reason, type, blen, c->close_after ? "close" : "keep-alive");
	size_t total = (size_t)n + (head ? 0 : blen);
	c->out = malloc(total);
	if (!c->out) {
		c->close_after = 1;
		return;
	}
	memcpy(c->out, hdr, (size_t)n);
	if (!head)
		memcpy(c->out + n, body, blen);
	c->outlen = total;
	c->outoff = 0;
}

static void error_page(struct conn *c, int code, const char *reason, int head)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", code, reason);
	respond(c, code, reason, "text/plain; charset=utf-8", body, (size_t)n, head);
}

static void serve_file(struct conn *c, const char *path, int head)
{
	char full[4096];
	struct stat st;
	if (strstr(path, "/..") || path[0] != '/') {
		error_page(c, 400, "Bad Request", head);
		return;
	}
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
		strncat(full, full[strlen(full) - 1] == '/' ? "index.html" : "/index.html",
			sizeof(full) - strlen(full) - 1);
		if (stat(full, &st))
			st.st_mode = 0;
	}
	int fd = S_ISREG(st.st_mode) ? open(full, O_RDONLY) : -1;
	if (fd < 0) {
		error_page(c, 404, "Not Found", head);
		return;
	}
	if (st.st_size > MAX_FILE) {
		close(fd);
		error_page(c, 500, "File Too Large", head);
		return;
	}
	char *body = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (body && got < (size_t)st.st_size) {
		ssize_t r = read(fd, body + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!body || got != (size_t)st.st_size)
		error_page(c, 500, "Read Error", head);
	else
		respond(c, 200, "OK", mime(full), body, got, head);
	free(body);
}

/* One complete request in c->in (through end): parse it and queue the answer. */
static void handle(struct conn *c, size_t end)
{
	char method[16], target[2048], version[16];
	c->in[end - 1] = 0;
	if (sscanf(c->in, "%15s %2047s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		c->close_after = 1;
		error_page(c, 400, "Bad Request", 0);
		return;
	}
	int head = !strcmp(method, "HEAD");
	/* HTTP/1.1 keeps the connection unless told otherwise; 1.0 closes unless asked */
	int keep = !strcmp(version, "HTTP/1.1");
	for (char *h = strstr(c->in, "\r\n"); h; h = strstr(h + 2, "\r\n")) {
		if (!strncasecmp(h + 2, "Connection:", 11)) {
			const char *v = h + 13;
			while (*v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				keep = 0;
			else if (!strncasecmp(v, "keep-alive", 10))
				keep = 1;
		}
	}
	c->close_after = !keep;
	char *q = strchr(target, '?');
	if (q)
		*q = 0;
	if (strcmp(method, "GET") && !head)
		error_page(c, 405, "Method Not Allowed", 0);
	else if (!strcmp(target, "/healthz"))
		respond(c, 200, "OK", "text/plain; charset=utf-8", "ok\n", 3, head);
	else
		serve_file(c, target, head);
}

static void drop(int i)
{
	close(conns[i]->fd);
	free(conns[i]->out);
	free(conns[i]);
	conns[i] = NULL;
}

/* Returns -1 when the connection is done. */
static int on_readable(struct conn *c)
{
	for (;;) {
		if (c->inlen == sizeof(c->in))
			return -1; /* request head too large */
		ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->inlen += (size_t)n;
		if (c->out)
			return 0; /* pipelined: answered after the current response */
		char *e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
		if (e) {
			size_t end = (size_t)(e - c->in) + 4;
			handle(c, end);
			memmove(c->in, c->in + end, c->inlen - end);
			c->inlen -= end;
			return 0;
		}
	}
}

static int on_writable(struct conn *c)
{
	while (c->out && c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	if (c->close_after)
		return -1;
	char *e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
	if (e) { /* the next pipelined request */
		size_t end = (size_t)(e - c->in) + 4;
		handle(c, end);
		memmove(c->in, c->in + end, c->inlen - end);
		c->inlen -= end;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int port = 80, opt;
	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p' || (port = atoi(optarg)) <= 0 || port > 65535) {
			fprintf(stderr, "usage: httpd [-p PORT] [ROOT]\n");
			return 64;
		}
	}
	if (optind < argc)
		root = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 511)) {
		fprintf(stderr, "httpd: port %d: %s\n", port, strerror(errno));
		return 69;
	}
	printf("httpd: listening on port %d, serving %s\n", port, root);
	fflush(stdout);
	static struct pollfd p[MAX_CONN + 1];
	static int who[MAX_CONN + 1];
	for (;;) {
		int n = 0;
		p[n++] = (struct pollfd){.fd = l, .events = POLLIN};
		for (int i = 0; i < MAX_CONN; i++)
			if (conns[i]) {
				who[n] = i;
				p[n++] = (struct pollfd){
				    .fd = conns[i]->fd, .events = conns[i]->out ? POLLOUT : POLLIN};
			}
		if (poll(p, (nfds_t)n, -1) < 0)
			continue;
		for (int k = 1; k < n; k++) {
			struct conn *c = conns[who[k]];
			int r = 0;
			if (p[k].revents & (POLLERR | POLLNVAL))
				r = -1;
			else if (p[k].revents & POLLOUT)
				r = on_writable(c);
			else if (p[k].revents & (POLLIN | POLLHUP))
				r = on_readable(c);
			if (r == 0 && c->out && !(p[k].events & POLLOUT))
				r = on_writable(c); /* answer at once: usually it all fits */
			if (r < 0)
				drop(who[k]);
		}
		if (p[0].revents & POLLIN) {
			for (;;) {
				int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				int slot = 0;
				while (slot < MAX_CONN && conns[slot])
					slot++;
				struct conn *c = slot < MAX_CONN ? calloc(1, sizeof(*c)) : NULL;
				if (!c) {
					close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				c->fd = fd;
				conns[slot] = c;
			}
		}
	}
}
