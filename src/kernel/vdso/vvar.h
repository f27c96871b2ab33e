/* SPDX-License-Identifier: BSD-3-Clause */
/* The page the kernel shares with the vDSO (read-only to the program), one page below the vDSO. */
#ifndef KERNEL_VDSO_VVAR_H
#define KERNEL_VDSO_VVAR_H

#include <stdint.h>

/*
 * Clocks as the kernel's time.c computes them: monotonic ns =
 * ((rdtsc() - boot_tsc) * mult) >> 32, realtime = monotonic + wall_offset.
 * The kernel fills the fields lazily (the TSC is calibrated on first use);
 * until a ready flag is set the vDSO makes the system call, which fills it.
 */
struct vvar {
	uint32_t mono_ready; /* boot_tsc and mult are set */
	uint32_t wall_ready; /* wall_offset is set */
	uint64_t boot_tsc;
	uint64_t mult;
	int64_t wall_offset;
};

#endif
