// SPDX-License-Identifier: BSD-3-Clause
// The guest side of t-run-netem.sh and both sides of tests/kernel/t-netloss.sh.
// xfer PORT SIZE: accept one TCP connection on PORT, read SIZE bytes, then send SIZE bytes of a
// fixed pseudo-random stream; xfer -c ADDR PORT SIZE: the other end (send, then read).  Each
// prints the sha256 of each way ("rx", "tx").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sha256 {
	uint32_t h[8];
	uint8_t buf[64];
	uint64_t len;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25)) +
			      ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
		uint32_t t2 = (ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(uint32_t));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha_init(struct sha256 *s)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
}

static void sha_add(struct sha256 *s, const uint8_t *p, size_t n)
{
	while (n) {
		size_t at = s->len % 64, k = 64 - at < n ? 64 - at : n;
		memcpy(s->buf + at, p, k);
		s->len += k;
		p += k;
		n -= k;
		if (s->len % 64 == 0)
			block(s, s->buf);
	}
}

static void sha_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, len[8];
	sha_add(s, &pad, 1);
	while (s->len % 64 != 56)
		sha_add(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha_add(s, len, 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

static uint8_t buf[65536];

/* Read size bytes from c into the running sum; false when the stream ends early. */
static bool take(int c, size_t size, struct sha256 *s)
{
	for (size_t got = 0; got < size;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			return false;
		sha_add(s, buf, (size_t)n);
		got += (size_t)n;
	}
	return true;
}

/* Write size bytes of a fixed pseudo-random stream to c, summed. */
static bool give(int c, size_t size, struct sha256 *s)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t sent = 0; sent < size;) {
		size_t n = size - sent < sizeof(buf) ? size - sent : sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		sha_add(s, buf, n);
		for (size_t o = 0; o < n;) {
			ssize_t w = write(c, buf + o, n - o);
			if (w <= 0)
				return false;
			o += (size_t)w;
		}
		sent += n;
	}
	return true;
}

static void print_sum(const char *what, struct sha256 *s)
{
	char hex[65];
	sha_hex(s, hex);
	printf("%s %s\n", what, hex);
	fflush(stdout);
}

/* -c ADDR PORT SIZE: connect (the server may still be booting: retried for a while), send
 * SIZE bytes of the stream, then read SIZE bytes until the server's end. */
static int client(const char *addr, int port, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return 64;
	int c = -1;
	for (int tries = 0; tries < 600; tries++) {
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(c, (struct sockaddr *)&a, sizeof(a)))
			break;
		close(c);
		c = -1;
		usleep(200000);
	}
	if (c < 0)
		return 1;
	struct sha256 s;
	sha_init(&s);
	if (!give(c, size, &s))
		return 3;
	print_sum("tx", &s);
	sha_init(&s);
	if (!take(c, size, &s) || read(c, buf, 1) != 0)
		return 2;
	print_sum("rx", &s);
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "-c"))
		return client(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
	if (argc != 3)
		return 64;
	size_t size = strtoull(argv[2], NULL, 10);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		return 1;
	printf("xfer: listening\n");
	fflush(stdout);
	int c = accept(l, NULL, NULL);
	if (c < 0)
		return 1;
	struct sha256 s;
	sha_init(&s);
	if (!take(c, size, &s))
		return 2;
	print_sum("rx", &s);
	sha_init(&s);
	if (!give(c, size, &s))
		return 3;
	/* the machine powers off when this program ends: wait for the peer to have it all
	 * (its close after our FIN) before going */
	shutdown(c, SHUT_WR);
	while (read(c, buf, sizeof(buf)) > 0)
		;
	print_sum("tx", &s);
	close(c);
	close(l);
	return 0;
}
