/* SPDX-License-Identifier: BSD-3-Clause */
/* The TCP/IP stack: interfaces, ARP, IPv4, ICMP, IPv6, ND, UDP, TCP and DHCP, for the kernel and
 * the host. */
#ifndef NET_NET_H
#define NET_NET_H

#include "netenv.h"

/*
 * Addresses and ports are in host byte order everywhere inside the stack;
 * the socket layer converts at the sockaddr boundary.  Nothing here blocks:
 * calls return -NET_EAGAIN and the caller waits (net_poll, net_next_timer).
 * All state sits in one struct netstack so that host tests can run two
 * stacks against each other over a simulated wire.
 *
 * TCP and UDP carry both families: an address is an IPv6 one (struct naddr),
 * IPv4 being the v4-mapped ::ffff:a.b.c.d, which is what a dual-stack
 * AF_INET6 socket shows its IPv4 peers anyway.  The unspecified address of a
 * socket is :: (either family, unless v6only) or ::ffff:0.0.0.0 (IPv4 only).
 */

#define ETH_HLEN     14
#define ETH_MTU	     1500
#define LO_MTU	     16384
#define IP_HLEN	     20
#define IP6_HLEN     40
#define TCP_HLEN     20
#define UDP_HLEN     8
#define IP_LOOPBACK  0x7f000001u
#define IP_BROADCAST 0xffffffffu

struct naddr {
	uint8_t b[16]; /* network order */
};

static inline struct naddr na_v4(uint32_t a)
{
	struct naddr n = {{0}};
	n.b[10] = n.b[11] = 0xff;
	wr32(n.b + 12, a);
	return n;
}
static inline bool na_is_v4(struct naddr a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return !memcmp(a.b, mapped, 12);
}
static inline uint32_t na_to_v4(struct naddr a)
{
	return rd32(a.b + 12);
}
static inline bool na_eq(struct naddr a, struct naddr b)
{
	return !memcmp(a.b, b.b, 16);
}
/* :: or 0.0.0.0 */
static inline bool na_is_any(struct naddr a)
{
	static const uint8_t zero[16];
	return na_is_v4(a) ? !na_to_v4(a) : !memcmp(a.b, zero, 16);
}
static inline bool na_is_multicast6(struct naddr a)
{
	return a.b[0] == 0xff;
}
static inline bool na_is_linklocal6(struct naddr a)
{
	return a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80;
}
static inline struct naddr na_loopback6(void)
{
	struct naddr n = {{0}};
	n.b[15] = 1;
	return n;
}

/* a frame on its way in or out: Ethernet header first, at data + off */
struct pkt {
	struct pkt *next;
	uint32_t len;	  /* of the frame, from data + off */
	uint16_t off;	  /* IPv4 frames start IP6_HLEN - IP_HLEN bytes in */
	uint16_t sport;	  /* UDP queues: sender port and address */
	struct naddr src; /* (the payload then starts at data) */
	uint8_t data[];
};

static inline uint8_t *pkt_frame(struct pkt *p)
{
	return p->data + p->off;
}

struct netif {
	struct netif *next;
	char name[8];
	uint8_t mac[6];
	uint32_t addr, mask, gw, dns; /* 0 while unconfigured */
	uint32_t mtu;
	bool loopback;
	/* hand one frame to the device; the stack keeps ownership of frame */
	int (*xmit)(struct netif *nif, const void *frame, size_t len);
	void *priv;
	struct dhcp *dhcp; /* the DHCP client working on this interface, or NULL */
	/* IPv6: the link-local address from the MAC, a global one from a router
	 * advertisement's prefix (SLAAC), the router that sent it */
	struct naddr ll6, addr6, gw6;
	uint8_t prefix6; /* of addr6; 0: none yet */
	bool v6;	 /* ip6_start ran: the interface speaks IPv6 */
	int rs_sent;
	uint64_t rs_at; /* next router solicitation, 0: none */
	uint64_t rx_frames, tx_frames, rx_dropped;
};

/*
 * A byte ring: the TCP send and receive buffers.  cap is what the window and
 * the writer see; the memory (size bytes) grows on demand up to cap and is
 * given back when the ring empties, so idle connections cost little.
 */
struct ring {
	uint8_t *buf;
	uint32_t cap, size, head, len;
};

/* connections held in TIME_WAIT at once (tcp.c, enter_time_wait): what Debian's kernel sets
 * tcp_max_tw_buckets to in a guest of 256 MiB.  Each new connection's lookup walks them: at
 * 4096, wrk's Connection: close requests/s under TCG fell by half. */
#define TCP_TIMEWAIT_MAX 1024

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

struct ooo_seg; /* out-of-order data held for reassembly */

struct tcp_sock {
	struct tcp_sock *next; /* all connections of the stack */
	enum tcp_state state;
	struct naddr laddr, raddr;
	uint16_t lport, rport;
	bool v6only;	  /* IPV6_V6ONLY: a :: address takes no IPv4 */
	bool user_closed; /* the socket is gone: the stack frees it when done */
	int error;	  /* pending error for SO_ERROR / the next call */

	/* send side (RFC 793 names) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	struct ring sndbuf;
	bool fin_queued; /* shutdown(SHUT_WR) or close: FIN after the buffer */
	bool fin_sent;
	uint16_t mss; /* what we send */
	uint8_t snd_wscale, rcv_wscale;
	bool wscale_ok;

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge last advertised */
	struct ring rcvbuf;
	struct ooo_seg *ooo;
	bool fin_rcvd;
	bool ack_now;	    /* an ACK is owed right away */
	int unacked_segs;   /* full segments received since the last ACK */
	uint64_t delack_at; /* 0 = no delayed ACK pending */

	/* congestion control: RFC 5681 with NewReno (RFC 6582) */
	uint32_t cwnd, ssthresh, recover;
	int dupacks;
	bool in_recovery;

	/* RTO per RFC 6298, in ms; srtt scaled by 8, rttvar by 4 */
	uint32_t srtt8, rttvar4, rto;
	bool rtt_timing;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	uint64_t rexmit_at; /* 0 = not armed */
	int retries;
	uint64_t persist_at;
	uint32_t persist_backoff;

	/* options the socket layer sets */
	bool nodelay, keepalive, reuseaddr, reuseport;
	uint32_t keepidle, keepintvl, keepcnt; /* seconds, seconds, probes */
	int keep_probes;
	uint64_t last_rx; /* for keepalive */
	uint64_t timewait_at;
	/* no ACK for a bare unacceptable segment before this (ack_unacceptable) */
	uint64_t oow_ack_after;

	/* listening: embryonic and ready children */
	struct tcp_sock *parent;
	struct tcp_sock *acceptq, *acceptq_next; /* ready children, in order */
	int backlog, nchild;

	/* bumped by every segment taken in and every child queued for accept(): each arrival
	 * is a new edge for edge-triggered epoll, even when the socket was ready already */
	uint32_t arrivals;
};

struct udp_sock {
	struct udp_sock *next;
	struct naddr laddr, raddr;
	uint16_t lport, rport;
	bool v6only;
	bool reuseaddr, reuseport, broadcast;
	struct pkt *rxq, *rxtail;
	uint32_t rxbytes, rcvbuf;
	int error;
};

/* the neighbor cache: ARP for IPv4, neighbor discovery for IPv6 */
struct arp_entry {
	struct naddr ip;
	uint8_t mac[6];
	bool valid;
	uint64_t expires, retry_at;
	int tries;
	struct netif *nif;
	struct pkt *pending; /* frames waiting for the answer (a few) */
};
#define ARP_SLOTS 64

struct netstack {
	struct netif *ifs;
	struct netif lo;
	struct pkt *loq, *lotail; /* frames looped back, delivered by net_poll */
	struct arp_entry arp[ARP_SLOTS];
	/* the connections: those in TIME_WAIT wait apart, oldest first, so that the timers and
	 * the lookup of the others do not walk them (tcb_first, tcb_next walk both) */
	struct tcp_sock *tcbs;
	struct tcp_sock *tw_head, *tw_tail;
	uint32_t ntimewait;
	struct udp_sock *udps;
	uint16_t ip_id;
	uint16_t next_eport;
	uint32_t somaxconn;
	bool rx_batch; /* a device's frames in one go: in-order data is ACKed at the end
			  (tcp_ack_batch) */
	uint64_t stat_tcp_rst_sent, stat_tcp_rexmits, stat_tcp_fast_rexmits, stat_bad_csum;
};

/* Every connection of s: s->tcbs, then those in TIME_WAIT. */
static inline struct tcp_sock *tcb_first(const struct netstack *s)
{
	return s->tcbs ? s->tcbs : s->tw_head;
}
static inline struct tcp_sock *tcb_next(const struct netstack *s, const struct tcp_sock *t)
{
	return t->next || t->state == TCP_TIME_WAIT ? t->next : s->tw_head;
}

extern struct netstack *N; /* the stack in use: one in the kernel, two in tests */
extern uint64_t net_now_ms;

/* net.c: stacks, interfaces, the input path and timers */
void net_stack_init(struct netstack *s);
void net_stack_release(struct netstack *s);
void net_add_if(struct netif *nif);
struct netif *net_find_if(const char *name);
/* one received frame; csum_ok: the device verified the transport checksum */
void net_input(struct netif *nif, const void *frame, size_t len, bool csum_ok);
/* deliver looped-back frames and run the timers; call after input and when a timer is due */
void net_poll(void);
/* ms until the next timer wants net_poll, or UINT64_MAX */
uint64_t net_next_timer(void);
bool net_is_local(uint32_t addr);
/* one of ours, of either family */
bool net_is_local_na(struct naddr a);
uint16_t net_ephemeral_port(bool tcp);
uint32_t net_random32(void);
/* parse "a.b.c.d"; returns 0 and the address, or -1 */
int net_parse_ip(const char *s, uint32_t *out);
int net_fmt_ip(char *buf, size_t size, uint32_t a);
/* does a socket bound to laddr (v6only as set) take a packet sent to dst? */
bool net_addr_accepts(struct naddr laddr, bool v6only, struct naddr dst);
/* could one packet be for both a and b (bind conflicts)? */
bool net_addr_overlap(struct naddr a, bool a6only, struct naddr b, bool b6only);
/* the interface a packet to dst leaves by; fills *src when unspecified */
struct netif *net_route(struct naddr dst, struct naddr *src);
/* the network header's length for packets to dst */
static inline uint32_t net_hlen(struct naddr dst)
{
	return na_is_v4(dst) ? IP_HLEN : IP6_HLEN;
}
/* the transport checksum's pseudo-header sum, for either family */
uint32_t net_pseudo(struct naddr src, struct naddr dst, uint8_t proto, uint32_t len);
/* route and send by family; takes ownership of p */
int net_output(struct pkt *p, struct naddr src, struct naddr dst, uint8_t proto, size_t len);

/* eth.c: Ethernet and ARP */
void eth_input(struct netif *nif, const uint8_t *f, size_t len, bool csum_ok);
/* pkt_frame(p) holds ETH_HLEN bytes of room, then the IP packet; takes ownership of p */
void eth_output(struct netif *nif, struct naddr nexthop, struct pkt *p);
/* a neighbor's link address (ARP, neighbor advertisements); create: add it if unknown */
void neigh_learn(struct netif *nif, struct naddr ip, const uint8_t *mac, bool create);
void arp_tick(void);
void arp_flush(void);
uint64_t arp_next_timer(void);

/* ip.c: IPv4, ICMP, checksums and routes */
uint16_t inet_csum(const void *buf, size_t len, uint32_t sum);
uint32_t inet_csum_add(const void *buf, size_t len, uint32_t sum);
uint32_t inet_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);
void ip_input(struct netif *nif, const uint8_t *p, size_t len, bool csum_ok);
/* A new packet with room for the Ethernet and IP (either) headers and len bytes of payload
 * at pkt_payload(p). */
struct pkt *ip_pkt_alloc(size_t len);
static inline uint8_t *pkt_payload(struct pkt *p)
{
	return p->data + ETH_HLEN + IP6_HLEN;
}
/* fill in the IP header and route it (src 0: the outgoing interface's); takes ownership */
int ip_output(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto, size_t len);
/* the same on a given interface (DHCP: broadcast before there is an address) */
int ip_output_if(struct netif *nif, struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
		 size_t len);
/* where a packet to dst leaves, and the source address it gets */
struct netif *ip_route(uint32_t dst, uint32_t *nexthop, uint32_t *src);

/* ip6.c: IPv6 (RFC 8200), ICMPv6 echo and errors, neighbor discovery (RFC 4861), SLAAC */
void ip6_input(struct netif *nif, const uint8_t *p, size_t len, bool csum_ok);
int ip6_output(struct pkt *p, struct naddr src, struct naddr dst, uint8_t proto, size_t len);
struct netif *ip6_route(struct naddr dst, struct naddr *nexthop, struct naddr *src);
/* give nif its link-local address and ask for routers */
void ip6_start(struct netif *nif);
void nd_solicit(struct netif *nif, struct naddr target);
void ip6_tick(void);
uint64_t ip6_next_timer(void);
int net_fmt_ip6(char *buf, size_t size, struct naddr a);

/* udp.c; udp_input returns false when no socket (nor DHCP) wanted a valid datagram */
bool udp_input(struct netif *nif, struct naddr src, struct naddr dst, const uint8_t *p, size_t len,
	       bool csum_ok);
struct udp_sock *udp_new(void);
void udp_free(struct udp_sock *u);
int udp_bind(struct udp_sock *u, struct naddr addr, uint16_t port);
/* port 0 and an unspecified address: dissolve the association */
int udp_connect(struct udp_sock *u, struct naddr addr, uint16_t port);
/* port 0 and an unspecified address: to the connected peer */
long udp_sendto(struct udp_sock *u, const void *buf, size_t len, struct naddr dst, uint16_t dport);
/* one datagram: copies up to len, returns its full length (MSG_TRUNC semantics left to the
 * caller) */
long udp_recvfrom(struct udp_sock *u, void *buf, size_t len, struct naddr *src, uint16_t *sport,
		  bool peek);
unsigned udp_poll(struct udp_sock *u);

/* tcp.c */
void tcp_input(struct netif *nif, struct naddr src, struct naddr dst, const uint8_t *p, size_t len,
	       bool csum_ok);
struct tcp_sock *tcp_new(void);
int tcp_bind(struct tcp_sock *t, struct naddr addr, uint16_t port);
int tcp_listen(struct tcp_sock *t, int backlog);
int tcp_accept(struct tcp_sock *t, struct tcp_sock **out);
int tcp_connect(struct tcp_sock *t, struct naddr addr, uint16_t port);
long tcp_send(struct tcp_sock *t, const void *buf, size_t len);
long tcp_recv(struct tcp_sock *t, void *buf, size_t len, bool peek);
int tcp_shutdown(struct tcp_sock *t, bool rd, bool wr);
/* the socket is gone: FIN (or RST with unread data or linger 0), then freed by the stack */
void tcp_close(struct tcp_sock *t, bool abort);
unsigned tcp_poll(struct tcp_sock *t);
int tcp_take_error(struct tcp_sock *t);
int tcp_set_bufsize(struct tcp_sock *t, bool snd, uint32_t bytes);
void tcp_tick(void);
void tcp_ack_batch(void); /* the end of an rx_batch: one ACK for each connection that owes one */
uint64_t tcp_next_timer(void);
void tcp_release_all(void);
/* close every connection a socket still holds (FIN after the data, RST with unread data) */
void tcp_close_all(void);
/* is data or a FIN still waiting for the peer's acknowledgement? */
bool tcp_output_pending(void);
const char *tcp_state_name(enum tcp_state s);

/* dhcp.c */
void dhcp_start(struct netif *nif);
void dhcp_input(struct netif *nif, const uint8_t *p, size_t len);
void dhcp_tick(void);
uint64_t dhcp_next_timer(void);
bool dhcp_bound(struct netif *nif);
void dhcp_release(struct netif *nif);

#endif
