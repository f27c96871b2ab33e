// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the kernel's TCP/IP stack (src/kernel/net): arbitrary frames in.
// The input is a sequence of records: u16 length, u8 flags (bit 0: the device verified the
// checksum, bits 1-7: ms to let pass), then the frame.  The stack listens on TCP 80 (both
// families), has a UDP socket on 53 (both), connections in progress over IPv4 and IPv6, IPv6
// on eth0 (link-local, soliciting routers) and a DHCP client, so every path has a target.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng;
void net_random_fill(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len--) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		*p++ = (uint8_t)(rng >> 56);
	}
}

static size_t sent;
static int count_xmit(struct netif *nif, const void *frame, size_t len)
{
	(void)nif;
	(void)frame;
	sent += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netstack s;
	struct netif eth = {.name = "eth0",
			    .mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56},
			    .addr = 0x0a00020f,
			    .mask = 0xffffff00,
			    .gw = 0x0a000202,
			    .mtu = ETH_MTU,
			    .xmit = count_xmit};
	struct netif eth1 = {.name = "eth1", .mac = {0x52, 0x54, 0, 0, 0, 1}, .xmit = count_xmit};
	rng = 1;
	net_now_ms = 1000;
	net_stack_init(&s);
	net_add_if(&eth);
	net_add_if(&eth1);
	dhcp_start(&eth1);
	ip6_start(&eth);
	const struct naddr any6 = {{0}}, router6 = {{0xfe, 0x80, [15] = 1}};
	struct tcp_sock *l = tcp_new();
	tcp_bind(l, any6, 80);
	tcp_listen(l, 4);
	struct tcp_sock *c = tcp_new();
	tcp_connect(c, na_v4(0x0a000202), 8080);
	struct tcp_sock *c6 = tcp_new();
	tcp_connect(c6, router6, 8080);
	struct udp_sock *u = udp_new();
	udp_bind(u, any6, 53);

	uint8_t buf[4096];
	while (size >= 3) {
		size_t n = (size_t)(data[0] | data[1] << 8);
		uint8_t flags = data[2];
		data += 3;
		size -= 3;
		n = n < size ? n : size;
		struct netif *nif = (flags & 0x80) ? &eth1 : &eth;
		net_input(nif, data, n, flags & 1);
		data += n;
		size -= n;
		net_now_ms += (uint64_t)((flags >> 1) & 0x3f) * 50;
		net_poll();
		/* a user reading and writing, so buffers drain and windows move */
		struct tcp_sock *a;
		while (tcp_accept(l, &a) == 0)
			tcp_send(a, "HTTP/1.1 200 OK\r\n\r\n", 19);
		for (struct tcp_sock *t = tcb_first(&s); t; t = tcb_next(&s, t))
			if (!t->user_closed && t != l)
				while (tcp_recv(t, buf, sizeof(buf), false) > 0)
					;
		struct naddr from;
		uint16_t port;
		while (udp_recvfrom(u, buf, sizeof(buf), &from, &port, false) >= 0)
			udp_sendto(u, "x", 1, from, port);
	}
	net_now_ms += 200000; /* every timer, TIME_WAIT included, runs out */
	net_poll();
	net_stack_release(&s);
	return 0;
}
