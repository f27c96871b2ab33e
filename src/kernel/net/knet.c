/* SPDX-License-Identifier: BSD-3-Clause */
/* The stack in the kernel: bring-up (NIC, DHCP or --ip), the clock, interrupts and polling,
 * waiting, /etc files. */
#include "../fs/vfs.h"
#include "../kernel.h"
#include "../proc/task.h"
#include "knet.h"
#include "net.h"

struct netif *netdev_probe(void);
const char *netdev_name(void);
int netdev_poll(void);
bool netdev_irq_pending(void);
int netdev_gsi(uint64_t *count);

#define DHCP_WAIT_MS 5000
#define BUSY_MS	     100 /* a polled NIC: after traffic, polled every 1 ms for this long */

static struct netstack stack;
static struct netif *eth;
static uint64_t last_traffic;
/* rounds of knet_poll that brought frames */
static uint64_t deliveries;
static bool eth_irq; /* the NIC interrupts: no need to poll it often */
static char waitq;   /* what a task in knet_wait waits on (task->wait_on) */

/* Something came in: every thread waiting for the network looks again. */
void knet_wake(void)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->wait_on == &waitq && t->state == T_SLEEP)
			task_wake(t, W_WOKEN);
}

void knet_poll(void)
{
	net_now_ms = time_ns() / 1000000;
	bool came = N->loq != NULL; /* loopback frames: net_poll delivers them */
	N->rx_batch = true;
	int n = netdev_poll();
	N->rx_batch = false;
	if (n > 0) {
		tcp_ack_batch();
		last_traffic = net_now_ms;
		came = true;
	}
	net_poll();
	if (came) {
		deliveries++;
		knet_wake();
	}
	fasync_net();
}

/* The NIC interrupted (cpu.c, or a wait or tick after one taken in kernel mode), or a
 * program sent to the loopback device and went on: its frames are delivered here. */
void knet_irq_work(void)
{
	if (netdev_irq_pending() || (N && N->loq))
		knet_poll();
}

bool knet_irq_driven(void)
{
	return !eth || eth_irq;
}

/*
 * Wait for the network (or anything else) for at most max_ns (WAIT_FOREVER:
 * no limit); the caller's thread sleeps (other threads run meanwhile); true
 * when a signal cut the wait short.  Frames from the NIC's interrupt and from
 * the loopback device wake the waiters at once (knet_poll), and so does what
 * else makes a descriptor ready for poll, select or epoll (knet_wake: a pipe,
 * an eventfd, a timerfd armed, an AF_UNIX socket, console input).  Only a NIC
 * without an interrupt line is polled: every 1 ms while traffic flows, else
 * every IDLE_CONSOLE_NS.
 */
bool knet_wait(uint64_t max_ns)
{
	bool signalled = false;
	uint64_t before = deliveries;
	knet_poll();
	if (deliveries != before)
		return false; /* what came may be what the caller waits for: it looks first */
	uint64_t t = net_next_timer();
	uint64_t ns = t == UINT64_MAX ? max_ns : MIN(max_ns, t * 1000000);
	if (!knet_irq_driven())
		ns = MIN(ns, net_now_ms - last_traffic < BUSY_MS ? 1000000ull : IDLE_CONSOLE_NS);
	if (ns) {
		current->wait_on = &waitq;
		signalled = kwait(ns);
		current->wait_on = NULL;
	}
	knet_poll();
	return signalled;
}

/* "ADDR/PREFIX[,GW[,DNS]]" */
static int parse_static(const char *s, struct netif *nif)
{
	char buf[64];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	char *parts[3] = {buf, NULL, NULL};
	for (int i = 1; i < 3; i++) {
		char *c = parts[i - 1] ? strchr(parts[i - 1], ',') : NULL;
		if (c) {
			*c = 0;
			parts[i] = c + 1;
		}
	}
	char *slash = strchr(buf, '/');
	int prefix = 24;
	if (slash) {
		*slash = 0;
		prefix = 0;
		const char *p = slash + 1;
		if (!*p)
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || prefix > 32)
				return -1;
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix < 1 || prefix > 32)
			return -1;
	}
	uint32_t a, gw = 0, dns = 0;
	if (net_parse_ip(buf, &a) || (parts[1] && net_parse_ip(parts[1], &gw)) ||
	    (parts[2] && net_parse_ip(parts[2], &dns)))
		return -1;
	nif->addr = a;
	nif->mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
	nif->gw = gw;
	nif->dns = dns;
	return 0;
}

/* Create path's directories and the file, when the image has none, with text. */
static void write_file(const char *dir, const char *name, const char *text)
{
	struct node *d = vfs_root, *n;
	char part[64];
	const char *p = dir;
	while (*p) {
		while (*p == '/')
			p++;
		size_t k = 0;
		while (p[k] && p[k] != '/')
			k++;
		if (!k || k >= sizeof(part))
			break;
		memcpy(part, p, k);
		part[k] = 0;
		p += k;
		if (vfs_walk(d, part, true, &n, NULL, NULL)) {
			n = vfs_create(d, part, K_DIR, S_IFDIR | 0755);
			if (!n)
				return;
		}
		if (n->kind != K_DIR)
			return;
		d = n;
	}
	if (!vfs_walk(d, name, true, &n, NULL, NULL))
		return; /* the image's own wins */
	n = vfs_create(d, name, K_FILE, S_IFREG | 0644);
	if (n)
		vfs_pwrite(n, text, strlen(text), 0);
}

static void write_etc(void)
{
	char buf[160], a[16];
	write_file("/etc", "hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n");
	if (eth && eth->dns) {
		net_fmt_ip(a, sizeof(a), eth->dns);
		ksnprintf(buf, sizeof(buf), "nameserver %s\n", a);
		write_file("/etc", "resolv.conf", buf);
	}
	ksnprintf(buf, sizeof(buf), "%u\n", stack.somaxconn);
	write_file("/proc/sys/net/core", "somaxconn", buf);
}

#define EXIT_DRAIN_NS 3000000000ull

void knet_exit(void)
{
	if (!N)
		return;
	uint64_t irqs;
	if (eth && netdev_gsi(&irqs) >= 0)
		kverbose("capstan: eth0: %lu interrupts\n", (unsigned long)irqs);
	knet_poll();
	tcp_close_all();
	uint64_t end = time_ns() + EXIT_DRAIN_NS;
	while (tcp_output_pending() && time_ns() < end) {
		cpu_relax();
		knet_poll();
	}
}

bool knet_has_nic(void)
{
	return eth != NULL;
}

int knet_init(const char *ip_opt, bool quiet)
{
	net_now_ms = time_ns() / 1000000;
	net_stack_init(&stack);
	eth = netdev_probe();
	if (!eth) {
		write_etc();
		return ip_opt ? -ENODEV : 0;
	}
	net_add_if(eth);
	uint64_t irqs;
	int gsi = netdev_gsi(&irqs);
	eth_irq = gsi >= 0;
	ip6_start(eth); /* link-local now; SLAAC when a router advertisement comes */
	char a[16];
	if (ip_opt) {
		if (parse_static(ip_opt, eth))
			return -EINVAL;
	} else {
		dhcp_start(eth);
		last_traffic = net_now_ms; /* an answer is due: poll at the short interval */
		uint64_t end = net_now_ms + DHCP_WAIT_MS;
		while (!dhcp_bound(eth) && net_now_ms < end)
			knet_wait((end - net_now_ms) * 1000000);
	}
	char how[24] = "polled";
	if (eth_irq)
		ksnprintf(how, sizeof(how), "irq %d", gsi);
	kverbose("capstan: %s %02x:%02x:%02x:%02x:%02x:%02x %s\n", netdev_name(), eth->mac[0],
		 eth->mac[1], eth->mac[2], eth->mac[3], eth->mac[4], eth->mac[5], how);
	if (eth->prefix6) {
		char a6[48];
		net_fmt_ip6(a6, sizeof(a6), eth->addr6);
		kverbose("capstan: eth0 inet6 %s/64\n", a6);
	}
	if (!quiet) {
		if (eth->addr) {
			net_fmt_ip(a, sizeof(a), eth->addr);
			kprintf("eth0: %s\n", a);
		} else {
			kprintf("eth0: no address (no DHCP answer in %d s)\n", DHCP_WAIT_MS / 1000);
		}
	}
	write_etc();
	return 0;
}
