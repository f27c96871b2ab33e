/* SPDX-License-Identifier: BSD-3-Clause */
/* ELF64 executable checks for the loader (kernel and host; no allocation). */
#include "kelf.h"
#include "klib.h"

#define PT_LOAD	     1
#define PT_INTERP    3
#define PT_PHDR	     6
#define PT_GNU_STACK 0x6474e551
#define PF_X	     1

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}
static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int kelf_check(const void *buf, size_t len, uint64_t filesize, struct kelf_info *info)
{
	const unsigned char *b = buf;
	memset(info, 0, sizeof(*info));
	if (len < 64 || filesize < 64)
		return KELF_E_SHORT;
	if (memcmp(b, "\177ELF", 4))
		return KELF_E_MAGIC;
	if (b[4] != 2 || b[5] != 1 || b[6] != 1 || rd16(b + 18) != 62 || rd32(b + 20) != 1)
		return KELF_E_CLASS;
	uint16_t type = rd16(b + 16);
	if (type != 2 && type != 3)
		return KELF_E_TYPE;
	info->pie = type == 3;
	info->entry = rd64(b + 24);
	info->phoff = rd64(b + 32);
	info->phnum = rd16(b + 56);
	if (rd16(b + 54) != 56 || info->phnum == 0 || info->phnum > KELF_MAX_PHDR)
		return KELF_E_PHDR;
	if (info->phoff > len || (uint64_t)info->phnum * 56 > len - info->phoff || info->phoff % 8)
		return info->phoff + (uint64_t)info->phnum * 56 > filesize ? KELF_E_PHDR
									   : KELF_E_SHORT;

	info->lo = UINT64_MAX;
	for (int i = 0; i < info->phnum; i++) {
		const unsigned char *p = b + info->phoff + 56ull * i;
		struct kelf_phdr ph = {rd32(p),	     rd32(p + 4),  rd64(p + 8),	 rd64(p + 16),
				       rd64(p + 24), rd64(p + 32), rd64(p + 40), rd64(p + 48)};
		if (ph.type == PT_INTERP) {
			if (ph.offset > filesize || ph.filesz > filesize - ph.offset ||
			    ph.filesz == 0)
				return KELF_E_SEGMENT;
			info->interp_off = ph.offset;
			info->interp_size = ph.filesz;
		} else if (ph.type == PT_PHDR) {
			info->phdr_vaddr = ph.vaddr;
			info->has_phdr_vaddr = true;
		} else if (ph.type == PT_GNU_STACK) {
			info->exec_stack = ph.flags & PF_X;
		} else if (ph.type == PT_LOAD) {
			if (ph.filesz > ph.memsz || ph.offset > filesize ||
			    ph.filesz > filesize - ph.offset)
				return KELF_E_SEGMENT;
			if (ph.vaddr >= KELF_USER_TOP || ph.memsz > KELF_USER_TOP - ph.vaddr)
				return KELF_E_SEGMENT;
			if ((ph.vaddr - ph.offset) % 4096)
				return KELF_E_SEGMENT;
			if (!info->pie && ph.vaddr < 0x10000)
				return KELF_E_SEGMENT;
			if (ph.memsz == 0)
				continue;
			uint64_t lo = ph.vaddr & ~4095ull,
				 hi = (ph.vaddr + ph.memsz + 4095) & ~4095ull;
			if (lo < info->lo)
				info->lo = lo;
			if (hi > info->hi)
				info->hi = hi;
			if (!info->has_phdr_vaddr && info->phoff >= ph.offset &&
			    info->phoff - ph.offset < ph.filesz) {
				info->phdr_vaddr = ph.vaddr + (info->phoff - ph.offset);
				info->has_phdr_vaddr = true;
			}
			info->load[info->nload++] = ph;
		}
	}
	if (!info->nload)
		return KELF_E_NOLOAD;
	if (info->pie && info->hi - info->lo > KELF_USER_TOP / 4)
		return KELF_E_SEGMENT;
	bool in = false;
	for (int i = 0; i < info->nload; i++)
		if (info->entry >= info->load[i].vaddr &&
		    info->entry - info->load[i].vaddr < info->load[i].memsz)
			in = true;
	if (!in)
		return KELF_E_ENTRY;
	return 0;
}

const char *kelf_strerror(int code)
{
	switch (code) {
	case KELF_E_SHORT:
		return "file too short for its headers";
	case KELF_E_MAGIC:
		return "not an ELF file";
	case KELF_E_CLASS:
		return "not a 64-bit little-endian x86-64 ELF";
	case KELF_E_TYPE:
		return "not an executable (ET_EXEC or ET_DYN)";
	case KELF_E_PHDR:
		return "bad program header table";
	case KELF_E_SEGMENT:
		return "bad loadable segment";
	case KELF_E_NOLOAD:
		return "no loadable segment";
	case KELF_E_ENTRY:
		return "entry point outside the loaded segments";
	}
	return "bad ELF";
}
