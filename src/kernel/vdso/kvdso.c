/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel's side of the vDSO: map it and its vvar page into a program, keep the clocks there
 * current. */
#include "../exec.h"
#include "vvar.h"

extern const char vdso_start[], vdso_end[];

/* One vvar page and one copy of the vDSO, mapped into every address space: the clocks are the
 * same for every process. */
static struct vvar *vvar;
static uint64_t vdso_pa; /* the vvar page, then the vDSO's pages */

/* Map the vvar page at va and the vDSO after it; returns the vDSO's address for AT_SYSINFO_EHDR. */
uint64_t vdso_map(uint64_t va)
{
	uint64_t size = PAGE_ALIGN_UP((uint64_t)(vdso_end - vdso_start));
	if (!vdso_pa) {
		if (!(vdso_pa = pmm_alloc(1 + size / PAGE_SIZE)))
			kexit(128 + 9, "out of memory for the vDSO");
		memcpy(p2v(vdso_pa + PAGE_SIZE), vdso_start, (size_t)(vdso_end - vdso_start));
		vvar = p2v(vdso_pa);
		vvar->boot_tsc = boot_tsc;
		vdso_update();
	}
	for (uint64_t off = 0; off < PAGE_SIZE + size; off += PAGE_SIZE)
		if (vm_map_pinned(va + off, vdso_pa + off, off ? PROT_READ | PROT_EXEC : PROT_READ))
			kexit(128 + 9, "out of memory for the vDSO");
	return va + PAGE_SIZE;
}

/* The clocks the kernel has set up so far (the TSC is calibrated, the wall clock read, lazily). */
void vdso_update(void)
{
	uint64_t mult;
	int64_t wall;
	if (!vvar)
		return;
	if (time_mult(&mult)) {
		vvar->mult = mult;
		vvar->mono_ready = 1;
	}
	if (time_wall(&wall)) {
		vvar->wall_offset = wall;
		vvar->wall_ready = 1;
	}
}
