/* SPDX-License-Identifier: BSD-3-Clause */
/* Sizes: "64M" and friends parsed and printed (util/size.c). */
#ifndef CAPSTAN_SIZE_H
#define CAPSTAN_SIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * "512", "64K", "64M", "1G", "2T", also "64MB", "64m", "1gb", "1GiB": bytes.
 * A bare number means bytes unless default_unit is given (e.g. 1<<20 for MiB).
 */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);
/* "1.5M" style human size (buf >= 16 bytes). */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);

#endif
