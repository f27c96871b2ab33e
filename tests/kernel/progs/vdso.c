/* SPDX-License-Identifier: BSD-3-Clause */
/* The vDSO at AT_SYSINFO_EHDR: an ELF with the time calls under LINUX_2.6, agreeing with the system
 * calls. */
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static uintptr_t base; /* load bias of the vDSO */
static const Elf64_Sym *syms;
static const char *strs;
static const Elf64_Half *versym;
static const Elf64_Verdef *verdef;
static uint32_t nsyms;

/* The version name of symbol i, or NULL. */
static const char *version_of(uint32_t i)
{
	if (!versym || !verdef)
		return NULL;
	Elf64_Half want = versym[i] & 0x7fff;
	for (const Elf64_Verdef *d = verdef;;
	     d = (const Elf64_Verdef *)((const char *)d + d->vd_next)) {
		if (d->vd_ndx == want) {
			const Elf64_Verdaux *a =
			    (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
			return strs + a->vda_name;
		}
		if (!d->vd_next)
			return NULL;
	}
}

static void *find(const char *name)
{
	for (uint32_t i = 0; i < nsyms; i++)
		if (!strcmp(strs + syms[i].st_name, name) && syms[i].st_shndx != SHN_UNDEF) {
			const char *v = version_of(i);
			CHECK(v && !strcmp(v, "LINUX_2.6"));
			return (void *)(base + syms[i].st_value);
		}
	return NULL;
}

static int parse(const Elf64_Ehdr *eh)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	int loads = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !loads++)
			base = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)((uintptr_t)eh + ph[i].p_offset);
	}
	if (!loads || !dyn)
		return -1;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			syms = (const Elf64_Sym *)p;
			break;
		case DT_STRTAB:
			strs = (const char *)p;
			break;
		case DT_HASH:
			nsyms = ((const uint32_t *)p)[1];
			break;
		case DT_VERSYM:
			versym = (const Elf64_Half *)p;
			break;
		case DT_VERDEF:
			verdef = (const Elf64_Verdef *)p;
			break;
		}
	}
	return syms && strs && nsyms ? 0 : -1;
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int main(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	CHECK(eh != NULL);
	if (!eh)
		return check_done();
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_type == ET_DYN);
	CHECK(parse(eh) == 0);
	int (*gettime)(clockid_t, struct timespec *) = find("__vdso_clock_gettime");
	int (*gtod)(struct timeval *, void *) = find("__vdso_gettimeofday");
	time_t (*vtime)(time_t *) = find("__vdso_time");
	long (*getcpu)(unsigned *, unsigned *, void *) = find("__vdso_getcpu");
	CHECK(gettime && gtod && vtime && getcpu);
	if (!gettime || !gtod || !vtime || !getcpu)
		return check_done();

	/* the vDSO and the system call read the same clocks */
	struct timespec a, b, c;
	for (int clk = 0; clk < 2; clk++) { /* CLOCK_REALTIME, CLOCK_MONOTONIC */
		CHECK(gettime(clk, &a) == 0);
		CHECK(syscall(SYS_clock_gettime, clk, &b) == 0);
		CHECK(gettime(clk, &c) == 0);
		CHECK(ns(&a) <= ns(&b) && ns(&b) <= ns(&c));
		CHECK(a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
	}
	CHECK(gettime(CLOCK_MONOTONIC_RAW, &a) == 0 && gettime(CLOCK_BOOTTIME, &b) == 0);
	CHECK(gettime(12345, &a) == -EINVAL); /* an unknown clock: the system call's answer */
	struct timeval tv;
	CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &b) == 0);
	CHECK(gtod(&tv, NULL) == 0);
	CHECK((int64_t)tv.tv_sec * 1000000 + tv.tv_usec >= ns(&b) / 1000);
	time_t t0 = b.tv_sec, t1;
	CHECK(vtime(&t1) >= t0 && t1 >= t0 && t1 <= t0 + 2);
	unsigned cpu = 9999, node = 9999;
	CHECK(getcpu(&cpu, &node, NULL) == 0 && cpu < 4096 && node < 4096);

	/* the C library's own calls (through the vDSO where it uses one) agree too */
	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b) == 0 && ns(&a) <= ns(&b));
	printf("vdso: clock_gettime, gettimeofday, time, getcpu under LINUX_2.6\n");
	return check_done();
}
