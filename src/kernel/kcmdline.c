/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel command line parsing (kernel and host unit tests; no allocation). */
#include "kcmdline.h"
#include "klib.h"

static int fail(struct kcmdline *c, const char *msg, const char *word)
{
	size_t i = 0;
	for (const char *m = msg; *m && i + 1 < sizeof(c->err); m++)
		c->err[i++] = *m;
	if (word) {
		for (const char *m = ": "; *m && i + 1 < sizeof(c->err); m++)
			c->err[i++] = *m;
		for (const char *m = word; *m && i + 1 < sizeof(c->err); m++)
			c->err[i++] = *m;
	}
	c->err[i] = 0;
	return -1;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Split into words in c->buf; returns the count or -1. */
static int split(struct kcmdline *c, const char *in, char **words, int max)
{
	size_t o = 0;
	int n = 0;
	const char *p = in;
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return n;
		if (n == max)
			return fail(c, "too many words on the command line", NULL);
		words[n++] = c->buf + o;
		while (*p && !is_space(*p)) {
			if (o + 2 >= sizeof(c->buf))
				return fail(c, "command line too long", NULL);
			if (*p == '\'') {
				const char *e = strchr(p + 1, '\'');
				if (!e)
					return fail(c, "unterminated single quote", NULL);
				if (o + (size_t)(e - p) + 1 >= sizeof(c->buf))
					return fail(c, "command line too long", NULL);
				for (p++; p < e; p++)
					c->buf[o++] = *p;
				p++;
			} else if (*p == '"') {
				for (p++; *p != '"'; p++) {
					if (!*p)
						return fail(c, "unterminated double quote", NULL);
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\' ||
							   p[1] == '$' || p[1] == '`'))
						p++;
					else if (*p == '\\' && p[1] == '\n') {
						p++;
						continue;
					}
					if (o + 2 >= sizeof(c->buf))
						return fail(c, "command line too long", NULL);
					c->buf[o++] = *p;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1])
					return fail(c, "backslash at the end of the command line",
						    NULL);
				c->buf[o++] = p[1];
				p += 2;
			} else {
				c->buf[o++] = *p++;
			}
		}
		c->buf[o++] = 0;
	}
}

int kcmdline_parse(struct kcmdline *c, const char *in)
{
	static char *words[KCMD_ARGS + KCMD_ENVS + 16];
	int n, i;
	c->argc = c->envc = 0;
	c->flags = 0;
	c->cwd = NULL;
	c->ip = NULL;
	c->err[0] = 0;
	n = split(c, in, words, (int)(sizeof(words) / sizeof(words[0])));
	if (n < 0)
		return -1;
	while (n > 0 && !strncmp(words[n - 1], "virtio_mmio.device=", 19))
		n--;
	for (i = 0; i < n && !strncmp(words[i], "--", 2); i++) {
		const char *w = words[i];
		if (!strcmp(w, "--")) {
			i++;
			break;
		} else if (!strncmp(w, "--env=", 6)) {
			const char *kv = w + 6;
			const char *eq = strchr(kv, '=');
			if (!eq || eq == kv)
				return fail(c, "--env needs NAME=VALUE", w);
			if (c->envc == KCMD_ENVS)
				return fail(c, "too many --env options", NULL);
			c->envp[c->envc++] = (char *)kv;
		} else if (!strncmp(w, "--cwd=", 6)) {
			if (w[6] != '/')
				return fail(c, "--cwd needs an absolute path", w);
			c->cwd = w + 6;
		} else if (!strncmp(w, "--ip=", 5)) {
			if (!w[5])
				return fail(c, "--ip needs ADDR/PREFIX[,GATEWAY[,DNS]]", w);
			c->ip = w + 5;
		} else if (!strcmp(w, "--verbose")) {
			c->flags |= KCMD_VERBOSE;
		} else if (!strcmp(w, "--trace")) {
			c->flags |= KCMD_TRACE;
		} else if (!strcmp(w, "--nosys")) {
			c->flags |= KCMD_NOSYS;
		} else if (!strcmp(w, "--strace")) {
			c->flags |= KCMD_STRACE;
		} else if (!strcmp(w, "--netstat")) {
			c->flags |= KCMD_NETSTAT;
		} else if (!strcmp(w, "--quiet")) {
			c->flags |= KCMD_QUIET;
		} else {
			return fail(c, "unknown kernel option", w);
		}
	}
	if (i == n)
		return fail(c, "no program on the command line", NULL);
	if (n - i > KCMD_ARGS)
		return fail(c, "too many arguments", NULL);
	for (; i < n; i++)
		c->argv[c->argc++] = words[i];
	c->argv[c->argc] = NULL;
	c->envp[c->envc] = NULL;
	return 0;
}
