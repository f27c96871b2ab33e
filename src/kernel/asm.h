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

/* interrupt vectors past the exceptions */
#define VEC_TIMER 32 /* the local APIC timer */
#define VEC_KICK  33 /* an IPI: something to run, or a signal for the running task */
#define VEC_TLB	  34 /* an IPI: flush the TLB (the sender holds the kernel lock) */
#define VEC_NET	  35 /* the network device (through the I/O APIC) */
#define VEC_TTY	  36 /* the console's UART: input came (through the I/O APIC) */

/* struct cpu (proc/cpu.h) as entry.S reaches it through GS */
#define CPU_KSTACK   8
#define CPU_USER_RSP 16
#define CPU_LOCK_ID  32

/* where the APs' real-mode start code is copied (smp.c, boot/ap.S) */
#define AP_TRAMPOLINE 0x8000

#endif
