/* SPDX-License-Identifier: BSD-3-Clause */
/* Constants shared by the kernel's assembly and C. */
#ifndef KERNEL_ASM_H
#define KERNEL_ASM_H

#define KVBASE	  0xffffffff80000000
#define DMAP_BASE 0xffff800000000000
#define KLOAD	  0x100000

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS	  0x28

#endif
