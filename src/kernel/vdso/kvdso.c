/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel's side of the vDSO: map it and its vvar page into a program, keep the clocks there
 * current. */
#include "../exec.h"
#include "vvar.h"

extern const char vdso_start[], vdso_end[];

static struct vvar *vvar; /* the current program's page, through the kernel's map of RAM */

/* Map the vvar page at va and the vDSO after it; returns the vDSO's address for AT_SYSINFO_EHDR. */
uint64_t vdso_map(uint64_t va)
{
	uint64_t size = PAGE_ALIGN_UP((uint64_t)(vdso_end - vdso_start));
	if (vm_map(va, PAGE_SIZE + size, PROT_READ | PROT_WRITE, false))
		kexit(128 + 9, "out of memory for the vDSO");
	memcpy((void *)(va + PAGE_SIZE), vdso_start, (size_t)(vdso_end - vdso_start));
	vvar = vm_kernel_addr(va);
	memset(vvar, 0, PAGE_SIZE);
	vvar->boot_tsc = boot_tsc;
	vdso_update();
	vm_protect(va, PAGE_SIZE, PROT_READ);
	vm_protect(va + PAGE_SIZE, size, PROT_READ | PROT_EXEC);
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

/* The old program's pages are gone (execve). */
void vdso_forget(void)
{
	vvar = NULL;
}
