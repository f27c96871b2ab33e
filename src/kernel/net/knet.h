/* SPDX-License-Identifier: BSD-3-Clause */
/* The network stack as the rest of the kernel sees it. */
#ifndef NET_KNET_H
#define NET_KNET_H

#include <stdbool.h>
#include <stdint.h>

/* bring up lo and eth0 (DHCP, or ip_opt "ADDR/PREFIX[,GW[,DNS]]"); prints "eth0: ADDR" */
int knet_init(const char *ip_opt, bool quiet);
void knet_poll(void);		 /* the NIC, the loopback queue, the timers */
bool knet_wait(uint64_t max_ns); /* poll, sleep a while, poll; true: a signal came */
void knet_wake(void);		 /* a descriptor may be ready: knet_wait's sleepers look again */
bool knet_irq_driven(void);	 /* no NIC, or one that interrupts: nothing to poll */
bool knet_has_nic(void);
/* at exit: close the connections left open and let their data and FINs reach the peers,
 * for a few seconds at most (without scheduling: no thread runs any more) */
void knet_exit(void);
/* sys/net.c: the sockets open and the stack's connections, on the console (--netstat) */
void sock_report(void);

#endif
