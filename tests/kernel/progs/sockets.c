/* SPDX-License-Identifier: BSD-3-Clause */
/* Sockets over loopback in one single-threaded program: TCP, UDP, socketpair, poll, select. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

#define BULK (1 << 20)

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

static int ready(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, timeout_ms);
	return n == 1 ? p.revents : n;
}

static void tcp(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	CHECK(l >= 0);
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	struct sockaddr_in a = loopback(0);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	socklen_t alen = sizeof(a);
	CHECK(getsockname(l, (struct sockaddr *)&a, &alen) == 0 && alen == sizeof(a));
	CHECK(ntohs(a.sin_port) >= 1024 && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK(listen(l, 8) == 0);
	int v = 0;
	socklen_t vl = sizeof(v);
	CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1);
	CHECK(getsockopt(l, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM);
	/* nobody connects yet: the listener is not readable, accept would block */
	CHECK(ready(l, POLLIN, 50) == 0);
	CHECK(ioctl(l, FIONBIO, &one) == 0);
	CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	CHECK(c >= 0);
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1);
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK(r == 0 || errno == EINPROGRESS);
	CHECK(ready(c, POLLOUT, 5000) & POLLOUT);
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl) == 0 && v == 0);
	CHECK(ready(l, POLLIN, 5000) == POLLIN);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int s = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
	CHECK(s >= 0);
	struct sockaddr_in cn;
	socklen_t cl = sizeof(cn);
	CHECK(getsockname(c, (struct sockaddr *)&cn, &cl) == 0 && cn.sin_port == peer.sin_port);
	CHECK(getpeername(s, (struct sockaddr *)&cn, &cl) == 0 && cn.sin_port == peer.sin_port);
	printf("tcp: connected over loopback\n");

	/* 1 MiB each way at once: non-blocking writes and reads driven by poll */
	static uint8_t buf[65536];
	size_t sent = 0, got = 0, back_sent = 0, back_got = 0;
	int bad = 0;
	while (got < BULK || back_got < BULK) {
		struct pollfd p[2] = {{.fd = c, .events = POLLIN}, {.fd = s, .events = POLLIN}};
		if (sent < BULK)
			p[0].events |= POLLOUT;
		if (back_sent < BULK)
			p[1].events |= POLLOUT;
		if (poll(p, 2, 5000) <= 0) {
			CHECK(!"poll timed out");
			break;
		}
		if ((p[0].revents & POLLOUT) && sent < BULK) {
			size_t n = sizeof(buf) < BULK - sent ? sizeof(buf) : BULK - sent;
			for (size_t i = 0; i < n; i++)
				buf[i] = pat(sent + i);
			ssize_t w = write(c, buf, n);
			if (w > 0)
				sent += (size_t)w;
			else
				CHECK(errno == EAGAIN);
		}
		if ((p[1].revents & POLLOUT) && back_sent < BULK) {
			size_t n = sizeof(buf) < BULK - back_sent ? sizeof(buf) : BULK - back_sent;
			for (size_t i = 0; i < n; i++)
				buf[i] = pat(back_sent + i) ^ 0x5a;
			ssize_t w = send(s, buf, n, 0);
			if (w > 0)
				back_sent += (size_t)w;
			else
				CHECK(errno == EAGAIN);
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = read(s, buf, sizeof(buf));
			for (ssize_t i = 0; i < n; i++)
				bad |= buf[i] != pat(got + (size_t)i);
			if (n > 0)
				got += (size_t)n;
		}
		if (p[0].revents & POLLIN) {
			ssize_t n = recv(c, buf, sizeof(buf), 0);
			for (ssize_t i = 0; i < n; i++)
				bad |= buf[i] != (pat(back_got + (size_t)i) ^ 0x5a);
			if (n > 0)
				back_got += (size_t)n;
		}
	}
	CHECK(!bad && got == BULK && back_got == BULK);
	printf("tcp: 1 MiB each way intact\n");

	/* orderly close: the reader sees EOF after the data */
	CHECK(write(c, "bye", 3) == 3);
	CHECK(shutdown(c, SHUT_WR) == 0);
	char t[8] = {0};
	CHECK(ready(s, POLLIN, 5000) & POLLIN);
	int fl = fcntl(s, F_GETFL);
	CHECK(fcntl(s, F_SETFL, fl & ~O_NONBLOCK) == 0);
	CHECK(recv(s, t, sizeof(t), MSG_WAITALL) == 3 && !strcmp(t, "bye"));
	CHECK(read(s, t, sizeof(t)) == 0);
	int avail = -1;
	CHECK(ioctl(s, FIONREAD, &avail) == 0 && avail == 0);
	CHECK(close(s) == 0);
	CHECK(ready(c, POLLIN, 5000) & POLLIN);
	CHECK(read(c, t, sizeof(t)) == 0);
	CHECK(close(c) == 0);

	/* a port nobody listens on refuses (blocking connect) */
	c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in closed = loopback(ntohs(a.sin_port));
	CHECK(close(l) == 0);
	CHECK(connect(c, (struct sockaddr *)&closed, sizeof(closed)) == -1 &&
	      errno == ECONNREFUSED);
	CHECK(close(c) == 0);
	printf("tcp: EOF, then refused once the listener is closed\n");
}

static void udp(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(a >= 0 && b >= 0);
	struct sockaddr_in sa = loopback(0), sb;
	CHECK(bind(a, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	socklen_t l = sizeof(sa);
	CHECK(getsockname(a, (struct sockaddr *)&sa, &l) == 0);
	CHECK(sendto(b, "datagram one", 12, 0, (struct sockaddr *)&sa, sizeof(sa)) == 12);
	CHECK(sendto(b, "two", 3, 0, (struct sockaddr *)&sa, sizeof(sa)) == 3);
	l = sizeof(sb);
	CHECK(getsockname(b, (struct sockaddr *)&sb, &l) == 0 && sb.sin_port != 0);
	char buf[32] = {0};
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	CHECK(ready(a, POLLIN, 5000) & POLLIN);
	/* a short buffer truncates the datagram; MSG_TRUNC reports its real length */
	CHECK(recvfrom(a, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &fl) == 12);
	CHECK(!memcmp(buf, "data", 4) && from.sin_port == sb.sin_port);
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {
	    .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
	memset(buf, 0, sizeof(buf));
	CHECK(recvmsg(a, &m, 0) == 3 && !strcmp(buf, "two") && from.sin_port == sb.sin_port);
	CHECK(recv(a, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN);
	/* connected: send() and the reply through sendmsg */
	CHECK(connect(b, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(send(b, "three", 5, 0) == 5);
	memset(buf, 0, sizeof(buf));
	CHECK(recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 5);
	iov = (struct iovec){"four", 4};
	m = (struct msghdr){
	    .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
	CHECK(sendmsg(a, &m, 0) == 4);
	memset(buf, 0, sizeof(buf));
	CHECK(recv(b, buf, sizeof(buf), 0) == 4 && !strcmp(buf, "four"));
	CHECK(close(a) == 0 && close(b) == 0);
	printf("udp: datagrams, truncation, connected send\n");
}

static void pairs(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write(sv[0], "ping", 4) == 4);
	char buf[16] = {0};
	CHECK(read(sv[1], buf, 2) == 2 && !memcmp(buf, "pi", 2));
	CHECK(read(sv[1], buf, sizeof(buf)) == 2 && !memcmp(buf, "ng", 2));
	CHECK(ready(sv[1], POLLIN, 0) == 0);
	CHECK(close(sv[0]) == 0);
	CHECK(read(sv[1], buf, sizeof(buf)) == 0);
	CHECK(close(sv[1]) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(send(sv[1], "one", 3, 0) == 3 && send(sv[1], "two!", 4, 0) == 4);
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 3);
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 4 && !memcmp(buf, "two!", 4));
	CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);
	printf("socketpair: stream and datagram\n");
}

static void selects(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(sv[0], &r);
	FD_SET(sv[1], &w);
	struct timeval tv = {0, 10000};
	CHECK(select(sv[1] + 1, &r, &w, NULL, &tv) == 1 && !FD_ISSET(sv[0], &r) &&
	      FD_ISSET(sv[1], &w));
	CHECK(write(sv[1], "x", 1) == 1);
	FD_ZERO(&r);
	FD_SET(sv[0], &r);
	struct timespec ts = {1, 0};
	CHECK(pselect(sv[0] + 1, &r, NULL, NULL, &ts, NULL) == 1 && FD_ISSET(sv[0], &r));
	CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);
	printf("select: readiness\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tcp();
	udp();
	pairs();
	selects();
	int fd = open("/proc/sys/net/core/somaxconn", O_RDONLY);
	char b[16] = {0};
	CHECK(fd >= 0 && read(fd, b, sizeof(b) - 1) > 0 && atoi(b) >= 128);
	close(fd);
	return check_done();
}
