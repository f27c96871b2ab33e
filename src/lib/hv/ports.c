// SPDX-License-Identifier: BSD-3-Clause
// Port forward specs ([ip:]host:guest[/tcp|udp]) and the host-side check that a port is free.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/hv.h"
#include "capstan/banned.h"

/* A decimal port 1..65535 in s[0..n); no sign, no leading '+', no spaces. */
static int port_num(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int bad(const char *spec, const char *why)
{
	return cap_errf(CAP_E_USAGE, "port forward '%s': %s (expected [IP:]HOST:GUEST[/tcp|udp])",
			spec, why);
}

int hv_port_parse(const char *spec, struct hv_port *out)
{
	const char *proto, *parts[3];
	size_t lens[3], nparts = 0, len;
	struct in_addr a;

	memset(out, 0, sizeof(*out));
	len = strlen(spec);
	proto = memchr(spec, '/', len);
	if (proto) {
		if (!strcmp(proto, "/tcp"))
			out->udp = false;
		else if (!strcmp(proto, "/udp"))
			out->udp = true;
		else
			return bad(spec, "the protocol must be tcp or udp");
		len = (size_t)(proto - spec);
	}
	for (const char *p = spec, *end = spec + len; p <= end;) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		const char *stop = c ? c : end;
		if (nparts == 3)
			return bad(spec, "too many ':'");
		parts[nparts] = p;
		lens[nparts++] = (size_t)(stop - p);
		p = stop + 1;
		if (!c)
			break;
	}
	if (nparts < 2)
		return bad(spec, "a host and a guest port are needed");
	if (nparts == 3) {
		char ip[16];
		if (lens[0] == 0 || lens[0] >= sizeof(ip))
			return bad(spec, "the address must be a dotted IPv4 address");
		memcpy(ip, parts[0], lens[0]);
		ip[lens[0]] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1)
			return bad(spec, "the address must be a dotted IPv4 address");
		inet_ntop(AF_INET, &a, out->ip, sizeof(out->ip));
		if (!strcmp(out->ip, "0.0.0.0")) /* all addresses: the same value as no address */
			memset(out->ip, 0, sizeof(out->ip));
	}
	if (port_num(parts[nparts - 2], lens[nparts - 2], &out->host))
		return bad(spec, "the host port must be a number from 1 to 65535");
	if (port_num(parts[nparts - 1], lens[nparts - 1], &out->guest))
		return bad(spec, "the guest port must be a number from 1 to 65535");
	return 0;
}

const char *hv_port_format(const struct hv_port *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%u->%u/%s", p->ip, p->ip[0] ? ":" : "", p->host, p->guest,
		 p->udp ? "udp" : "tcp");
	return buf;
}

int hv_port_check_free(const struct hv_port *p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->host)};
	int fd, ret = 0, one = 1;
	char buf[48];

	if (p->ip[0])
		inet_pton(AF_INET, p->ip, &sa.sin_addr);
	else
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = socket(AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cap_errnof(errno, "cannot create a socket");
	/* QEMU's slirp sets SO_REUSEADDR too, so a TIME_WAIT leftover is no conflict. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == EADDRINUSE)
			ret = cap_errf(CAP_E_UNAVAIL,
				       "port forward %s: host port %u is already in use",
				       hv_port_format(p, buf, sizeof(buf)), p->host);
		else
			ret = cap_errnof(e, "port forward %s: cannot bind host port %u",
					 hv_port_format(p, buf, sizeof(buf)), p->host);
	}
	close(fd);
	return ret;
}
