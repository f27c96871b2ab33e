/* SPDX-License-Identifier: BSD-3-Clause */
/* SHA-256 (FIPS 180-4), streaming, with a SHA-NI fast path picked at run time. */
#ifndef CAPSTAN_SHA256_H
#define CAPSTAN_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN     32
#define SHA256_HEX_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t bytes; /* total length so far */
	uint8_t buf[64];
	size_t fill; /* bytes waiting in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* Final digest as 64 lowercase hex digits plus NUL. */
void sha256_final_hex(struct sha256 *s, char out[SHA256_HEX_LEN + 1]);
/* One-shot convenience. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
/* True when s is 64 hex digits (either case). */
bool sha256_hex_valid(const char *s);

/* Which block function runs: "sha-ni" or "generic".  Tests force the generic one. */
const char *sha256_impl(void);
void sha256_force_generic(bool on);

#endif
