/* SPDX-License-Identifier: BSD-3-Clause */
/* What the network stack needs from its surroundings: the kernel's, or the host libc's for tests.
 */
#ifndef NET_NETENV_H
#define NET_NETENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef CAPSTAN_KERNEL
#include "../kernel.h"
#define net_alloc(n) kzalloc(n)
#define net_free(p)  kfree(p)
void random_fill(void *buf, size_t len);
#define net_random_fill(b, n) random_fill(b, n)
#else
#include <stdlib.h>
#include <string.h>
#define net_alloc(n) calloc(1, n)
#define net_free(p)  free(p)
/* the host side (tests, fuzzer) supplies its own, so runs can be repeated exactly */
void net_random_fill(void *buf, size_t len);
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef ARRAY_LEN
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#endif
#endif

/* Linux errno values (the stack returns them negated; the syscall layer passes them through) */
#define NET_EAGAIN	  11
#define NET_ENOMEM	  12
#define NET_EINVAL	  22
#define NET_EPIPE	  32
#define NET_EMSGSIZE	  90
#define NET_EOPNOTSUPP	  95
#define NET_EADDRINUSE	  98
#define NET_EADDRNOTAVAIL 99
#define NET_ENETUNREACH	  101
#define NET_ECONNABORTED  103
#define NET_ECONNRESET	  104
#define NET_EISCONN	  106
#define NET_ENOTCONN	  107
#define NET_ETIMEDOUT	  110
#define NET_ECONNREFUSED  111
#define NET_EHOSTUNREACH  113
#define NET_EALREADY	  114
#define NET_EINPROGRESS	  115

/* poll(2) bits, Linux values */
#define NET_POLLIN    0x001
#define NET_POLLPRI   0x002
#define NET_POLLOUT   0x004
#define NET_POLLERR   0x008
#define NET_POLLHUP   0x010
#define NET_POLLRDHUP 0x2000

/* big-endian loads and stores on byte pointers: headers are not aligned */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
