/* SPDX-License-Identifier: BSD-3-Clause */
/* Checks the auxiliary vector against the running image: AT_PHDR, AT_ENTRY, AT_RANDOM, ids. */
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "check.h"

extern void _start(void);

int main(int argc, char **argv)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	unsigned long entry = getauxval(AT_ENTRY);
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	uintptr_t base = 0;
	int covered = 0;

	CHECK(getauxval(AT_PAGESZ) == 4096);
	CHECK(getauxval(AT_PHENT) == sizeof(Elf64_Phdr));
	CHECK(ph != NULL && phnum > 0 && phnum < 64);
	CHECK(entry == (unsigned long)(uintptr_t)_start);
	for (unsigned long i = 0; ph && i < phnum; i++)
		if (ph[i].p_type == PT_PHDR)
			base = (uintptr_t)ph - ph[i].p_vaddr;
	if (ph && base == 0) /* no PT_PHDR: the first PT_LOAD maps the ELF header, then the phdrs */
		for (unsigned long i = 0; i < phnum; i++)
			if (ph[i].p_type == PT_LOAD) {
				base = (uintptr_t)ph - sizeof(Elf64_Ehdr) -
				       (ph[i].p_vaddr - ph[i].p_offset);
				const unsigned char *eh =
				    (const unsigned char *)(base + ph[i].p_vaddr - ph[i].p_offset);
				CHECK(memcmp(eh, ELFMAG, SELFMAG) == 0);
				break;
			}
	for (unsigned long i = 0; ph && i < phnum; i++)
		if (ph[i].p_type == PT_LOAD && entry >= base + ph[i].p_vaddr &&
		    entry < base + ph[i].p_vaddr + ph[i].p_memsz && (ph[i].p_flags & PF_X))
			covered = 1;
	CHECK(covered);
	CHECK(rnd != NULL);
	if (rnd) {
		int nonzero = 0;
		for (int i = 0; i < 16; i++)
			nonzero |= rnd[i];
		CHECK(nonzero);
	}
	CHECK(execfn != NULL && strcmp(execfn, argv[0]) == 0);
	CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid());
	CHECK(getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid());
	CHECK(getauxval(AT_SECURE) == 0);
	CHECK(getauxval(AT_HWCAP) != 0);
	printf("auxv: pagesz %lu phent %lu execfn %s\n", getauxval(AT_PAGESZ), getauxval(AT_PHENT),
	       execfn ? execfn : "(none)");
	(void)argc;
	return check_done();
}
