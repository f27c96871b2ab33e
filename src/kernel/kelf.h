/* SPDX-License-Identifier: BSD-3-Clause */
/* ELF64 executable checks for the loader (kernel and host unit tests/fuzzing; no allocation). */
#ifndef KERNEL_KELF_H
#define KERNEL_KELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KELF_MAX_PHDR 64
#define KELF_USER_TOP 0x800000000000ull

struct kelf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct kelf_info {
	bool pie;	/* ET_DYN: load at a base of the loader's choosing */
	uint64_t entry; /* e_entry (add the base for pie) */
	uint64_t phoff;
	uint16_t phnum;
	uint64_t lo, hi;     /* page-aligned span of the PT_LOAD segments */
	uint64_t phdr_vaddr; /* where the program headers are in memory (no base) */
	bool has_phdr_vaddr;
	uint64_t interp_off, interp_size; /* PT_INTERP, size 0 when none */
	bool exec_stack;
	int nload;
	struct kelf_phdr load[KELF_MAX_PHDR];
};

enum {
	KELF_E_SHORT = -2000, /* shorter than its headers */
	KELF_E_MAGIC,	      /* not ELF */
	KELF_E_CLASS,	      /* not 64-bit little-endian x86-64 */
	KELF_E_TYPE,	      /* not ET_EXEC or ET_DYN */
	KELF_E_PHDR,	      /* bad program header table */
	KELF_E_SEGMENT,	      /* a PT_LOAD out of the file, misaligned, or out of user space */
	KELF_E_NOLOAD,	      /* no PT_LOAD */
	KELF_E_ENTRY,	      /* entry point outside the loaded segments */
};

/*
 * Check an executable from its first len bytes (which must hold the ELF and
 * program headers) and its file size.  Fills *info; returns 0 or KELF_E_*.
 * A PT_INTERP is reported in info (dynamically linked), not refused here.
 */
int kelf_check(const void *buf, size_t len, uint64_t filesize, struct kelf_info *info);
const char *kelf_strerror(int code);

#endif
