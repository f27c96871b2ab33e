/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpbench: the server side of b-net.sh's TCP figures, one connection at a time.
 * Usage: tcpbench LATENCY-PORT SINK-PORT SOURCE-PORT
 *   LATENCY-PORT  each accepted connection gets one byte and is closed (the client times
 *                 connect to that byte: connection setup as the program sees it);
 *   SINK-PORT     reads until end of file, then answers the byte count as a decimal line
 *                 (bulk client to server);
 *   SOURCE-PORT   reads a decimal count line, writes that many bytes and closes
 *                 (bulk server to client).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];

static int listen_on(int port)
{
	int one = 1;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) {
		fprintf(stderr, "tcpbench: port %d: %s\n", port, strerror(errno));
		exit(1);
	}
	return s;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void sink(int c)
{
	unsigned long long total = 0;
	ssize_t n;
	while ((n = read(c, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			total += (unsigned long long)n;
	char line[32];
	int len = snprintf(line, sizeof line, "%llu\n", total);
	write_all(c, line, (size_t)len);
}

static void source(int c)
{
	char line[32];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof line - 1 && (n = read(c, line + len, 1)) == 1 && line[len] != '\n')
		len++;
	line[len] = '\0';
	unsigned long long left = strtoull(line, NULL, 10);
	while (left > 0) {
		size_t chunk = left < sizeof buf ? (size_t)left : sizeof buf;
		if (write_all(c, buf, chunk) != 0)
			return;
		left -= chunk;
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tcpbench LATENCY-PORT SINK-PORT SOURCE-PORT\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(buf, 'x', sizeof buf);
	struct pollfd l[3];
	for (int i = 0; i < 3; i++)
		l[i] = (struct pollfd){.fd = listen_on(atoi(argv[i + 1])), .events = POLLIN};
	printf("tcpbench: listening\n");
	fflush(stdout);
	for (;;) {
		if (poll(l, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpbench: poll");
			return 1;
		}
		for (int i = 0; i < 3; i++) {
			if (!(l[i].revents & POLLIN))
				continue;
			int c = accept(l[i].fd, NULL, NULL);
			if (c < 0)
				continue;
			if (i == 0)
				write_all(c, "!", 1);
			else if (i == 1)
				sink(c);
			else
				source(c);
			close(c);
		}
	}
}
