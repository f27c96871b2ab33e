/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_INET6 sockets over loopback: ::1, a dual-stack listener reached over 127.0.0.1, IPV6_V6ONLY.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

#define BULK (256 * 1024)

static struct sockaddr_in6 addr6(const struct in6_addr *a, uint16_t port)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	s.sin6_addr = *a;
	return s;
}

static struct in6_addr mapped(uint32_t v4)
{
	struct in6_addr a = {0};
	a.s6_addr[10] = a.s6_addr[11] = 0xff;
	uint32_t n = htonl(v4);
	memcpy(a.s6_addr + 12, &n, 4);
	return a;
}

static const char *show(const struct in6_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];
	return inet_ntop(AF_INET6, a, buf, sizeof(buf));
}

/* A listener of family fam on addr (a sockaddr of that family); returns its port. */
static int listener(int fam, const void *addr, socklen_t len, int v6only, uint16_t *port)
{
	int l = socket(fam, SOCK_STREAM, 0);
	CHECK(l >= 0);
	if (v6only >= 0)
		CHECK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == 0);
	CHECK(bind(l, addr, len) == 0);
	CHECK(listen(l, 8) == 0);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	CHECK(getsockname(l, (struct sockaddr *)&ss, &sl) == 0);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in both */
	return l;
}

/* Send n bytes of a pattern from a to b and check them; both directions. */
static void exchange(int a, int b, size_t n)
{
	static unsigned char out[BULK], in[BULK];
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(i * 131 + 7);
	for (int dir = 0; dir < 2; dir++) {
		int w = dir ? b : a, r = dir ? a : b;
		size_t sent = 0, got = 0;
		while (got < n) {
			if (sent < n) {
				/* small steps so neither side fills up in this single thread */
				ssize_t k = write(w, out + sent, n - sent < 8192 ? n - sent : 8192);
				CHECK(k > 0);
				if (k <= 0)
					return;
				sent += (size_t)k;
			}
			ssize_t k = read(r, in + got, n - got);
			CHECK(k > 0);
			if (k <= 0)
				return;
			got += (size_t)k;
		}
		CHECK(!memcmp(in, out, n));
	}
}

static void tcp_loopback6(void)
{
	uint16_t port;
	struct sockaddr_in6 a = addr6(&in6addr_loopback, 0);
	int l = listener(AF_INET6, &a, sizeof(a), -1, &port);
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	a.sin6_port = htons(port);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	struct sockaddr_in6 peer, me;
	socklen_t pl = sizeof(peer), ml = sizeof(me);
	int s = accept(l, (struct sockaddr *)&peer, &pl);
	CHECK(s >= 0 && pl == sizeof(peer) && peer.sin6_family == AF_INET6);
	CHECK(getsockname(c, (struct sockaddr *)&me, &ml) == 0 && ml == sizeof(me));
	CHECK(peer.sin6_port == me.sin6_port && !memcmp(&peer.sin6_addr, &in6addr_loopback, 16));
	pl = sizeof(peer);
	CHECK(getpeername(c, (struct sockaddr *)&peer, &pl) == 0 && ntohs(peer.sin6_port) == port);
	printf("tcp6: connected to %s, accepted from %s\n", show(&peer.sin6_addr),
	       show(&me.sin6_addr));
	exchange(c, s, BULK);
	printf("tcp6: 256 KiB each way intact\n");
	close(c);
	char x;
	CHECK(read(s, &x, 1) == 0);
	close(s);
	close(l);
}

static void dual_stack(void)
{
	uint16_t port;
	int v = -1;
	socklen_t vl = sizeof(v);
	struct sockaddr_in6 any = addr6(&in6addr_any, 0);
	int l = listener(AF_INET6, &any, sizeof(any), -1, &port);
	CHECK(getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 0);
	/* the port is taken for IPv4 too */
	int o = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	CHECK(bind(o, (struct sockaddr *)&a4, sizeof(a4)) == -1 && errno == EADDRINUSE);
	close(o);
	/* an IPv4 client over 127.0.0.1 */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(c, (struct sockaddr *)&a4, sizeof(a4)) == 0);
	struct sockaddr_in6 peer, me;
	socklen_t pl = sizeof(peer), ml = sizeof(me);
	int s = accept(l, (struct sockaddr *)&peer, &pl);
	CHECK(s >= 0 && pl == sizeof(peer) && peer.sin6_family == AF_INET6);
	struct in6_addr lo4 = mapped(INADDR_LOOPBACK);
	CHECK(!memcmp(&peer.sin6_addr, &lo4, 16));
	CHECK(getsockname(s, (struct sockaddr *)&me, &ml) == 0 && ml == sizeof(me));
	CHECK(!memcmp(&me.sin6_addr, &lo4, 16) && ntohs(me.sin6_port) == port);
	struct sockaddr_in c4;
	socklen_t cl = sizeof(c4);
	CHECK(getsockname(c, (struct sockaddr *)&c4, &cl) == 0 && cl == sizeof(c4));
	CHECK(c4.sin_port == peer.sin6_port);
	printf("dual: IPv4 client accepted as %s\n", show(&peer.sin6_addr));
	exchange(c, s, 64 * 1024);
	close(c);
	close(s);
	/* an AF_INET6 client to a v4-mapped address goes over IPv4 */
	c = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 m = addr6(&lo4, port);
	CHECK(connect(c, (struct sockaddr *)&m, sizeof(m)) == 0);
	s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	exchange(s, c, 4096);
	printf("dual: AF_INET6 client to ::ffff:127.0.0.1 connected\n");
	close(c);
	close(s);
	close(l);
}

/* Whether an IPv4 socket could not bind 127.0.0.1:port now. */
static bool ipv4_port_taken(uint16_t port)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int p = socket(AF_INET, SOCK_STREAM, 0);
	bool taken = bind(p, (struct sockaddr *)&a4, sizeof(a4)) != 0;
	close(p);
	return taken;
}

static void v6only(void)
{
	uint16_t port;
	struct sockaddr_in6 any = addr6(&in6addr_any, 0);
	int l = listener(AF_INET6, &any, sizeof(any), 1, &port);
	/* natively, another program may hold the same port number for IPv4: take another */
	for (int tries = 0; tries < 50 && ipv4_port_taken(port); tries++) {
		close(l);
		l = listener(AF_INET6, &any, sizeof(any), 1, &port);
	}
	int one = 1;
	CHECK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1 && errno == EINVAL);
	/* IPv4 on the same port is free: another socket may listen there */
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a4, sizeof(a4)) == -1 && errno == ECONNREFUSED);
	close(c);
	uint16_t p4;
	int l4 = listener(AF_INET, &a4, sizeof(a4), -1, &p4);
	CHECK(p4 == port);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a4, sizeof(a4)) == 0);
	struct pollfd pf = {.fd = l4, .events = POLLIN};
	CHECK(poll(&pf, 1, 20000) ==
	      1); /* a failure, not a hang, if the connection went elsewhere */
	int s = accept(l4, NULL, NULL);
	CHECK(s >= 0);
	close(s);
	close(c);
	close(l4);
	close(l);
	printf("v6only: IPv4 refused, the port free for an AF_INET listener\n");
}

static void udp6(void)
{
	int a = socket(AF_INET6, SOCK_DGRAM, 0), b = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(a >= 0 && b >= 0);
	struct sockaddr_in6 any = addr6(&in6addr_any, 0), from;
	CHECK(bind(a, (struct sockaddr *)&any, sizeof(any)) == 0);
	socklen_t fl = sizeof(from);
	CHECK(getsockname(a, (struct sockaddr *)&from, &fl) == 0);
	struct sockaddr_in6 to = addr6(&in6addr_loopback, ntohs(from.sin6_port));
	CHECK(sendto(b, "ping6", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5);
	char buf[16];
	fl = sizeof(from);
	CHECK(recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 5);
	CHECK(!memcmp(buf, "ping6", 5) && fl == sizeof(from));
	CHECK(!memcmp(&from.sin6_addr, &in6addr_loopback, 16));
	CHECK(sendto(a, "pong6", 5, 0, (struct sockaddr *)&from, fl) == 5);
	CHECK(recv(b, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "pong6", 5));
	/* an IPv4 datagram to the dual-stack socket shows a v4-mapped sender */
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = to.sin6_port};
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(sendto(c, "four", 4, 0, (struct sockaddr *)&a4, sizeof(a4)) == 4);
	fl = sizeof(from);
	CHECK(recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 4);
	struct in6_addr lo4 = mapped(INADDR_LOOPBACK);
	CHECK(!memcmp(&from.sin6_addr, &lo4, 16));
	printf("udp6: datagrams over ::1, IPv4 sender seen as %s\n", show(&from.sin6_addr));
	close(a);
	close(b);
	close(c);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tcp_loopback6();
	dual_stack();
	v6only();
	udp6();
	return check_done();
}
