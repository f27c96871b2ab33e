/* SPDX-License-Identifier: BSD-3-Clause */
/* The APs' start: real mode at AP_TRAMPOLINE (a copy, made by smp.c) to long mode, then ap_main. */
#include "../asm.h"

#define T(x) (AP_TRAMPOLINE + (x) - ap_trampoline)

	/* Copied below 1 MiB; a STARTUP IPI with vector AP_TRAMPOLINE >> 12 starts
	 * a CPU here in real mode with CS = AP_TRAMPOLINE >> 4, IP = 0. */
	.section .rodata
	.globl ap_trampoline, ap_trampoline_end
	.code16
ap_trampoline:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl ap_gdtr - ap_trampoline
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x18, $T(ap_prot)

	.code32
ap_prot:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov T(ap_cr3), %eax		/* the kernel's tables plus an identity map of low memory */
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER as the boot CPU has it (LME, SCE, NXE) */
	mov T(ap_efer), %eax
	xor %edx, %edx
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax
	and $~0x60000000, %eax		/* caches on */
	mov %eax, %cr0
	ljmp $0x08, $T(ap_long)

	.code64
ap_long:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov T(ap_stack), %rsp
	mov T(ap_cpu), %rdi
	movabs $ap_main, %rax
	xor %ebp, %ebp
	call *%rax
1:	hlt
	jmp 1b

	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10 data */
	.quad 0x00cf9a000000ffff	/* 0x18 32-bit code */
ap_gdt_end:
ap_gdtr:
	.word ap_gdt_end - ap_gdt - 1
	.long T(ap_gdt)
	.balign 8
	/* filled in by smp.c for each AP (offsets in smp.c's struct ap_args) */
	.globl ap_args
ap_args:
ap_cr3:		.quad 0
ap_efer:	.quad 0
ap_stack:	.quad 0
ap_cpu:		.quad 0
ap_trampoline_end:
