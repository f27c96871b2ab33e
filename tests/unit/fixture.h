// SPDX-License-Identifier: BSD-3-Clause
// Files the unit tests build images from, made in the test (never checked in).
#ifndef CAPSTAN_TEST_FIXTURE_H
#define CAPSTAN_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

void put_le16(unsigned char *p, uint16_t v);
void put_le32(unsigned char *p, uint32_t v);
void put_le64(unsigned char *p, uint64_t v);

/*
 * A 4 KiB kernel ELF64 the layout writer accepts: two PT_LOADs of 2 KiB,
 * the first at paddr 1 MiB and the second at second_paddr (0x100800 keeps
 * one delta between file and memory), and a PVH note (a zero-sized one
 * unless note).  Fails the test when it cannot be written.
 */
void fixture_kernel(const char *path, bool note, uint64_t second_paddr);

#endif
