/* SPDX-License-Identifier: BSD-3-Clause */
/* PVH entry (the one entry both boot paths use): 32-bit protected mode to long mode in the top 2 GiB. */
#include "../asm.h"

	/* Xen ELF note PHYS32_ENTRY (type 18): QEMU -kernel and our MBR jump here. */
	.pushsection .note.Xen, "a"
	.balign 4
	.long 4, 8, 18
	.asciz "Xen"
	.quad pvh_start32 - KVBASE
	.popsection

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	mov %ebx, %esi			/* hvm_start_info, kept for kmain */
	rdtsc				/* the first instruction's time, for boot-trace */
	mov %eax, (boot_tsc - KVBASE)
	mov %edx, (boot_tsc - KVBASE + 4)

	/* zero the boot page tables and stack; high64 zeroes the rest of bss */
	mov $(__bss_start - KVBASE), %edi
	mov $(__bss_boot_end - KVBASE), %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	/* PML4: [0] identity (boot only) and [256] direct map share one PDPT; [511] the kernel */
	mov $(boot_pdpt_lo - KVBASE + 3), %eax
	mov %eax, (boot_pml4 - KVBASE)
	mov %eax, (boot_pml4 - KVBASE + 256 * 8)
	mov $(boot_pdpt_hi - KVBASE + 3), %eax
	mov %eax, (boot_pml4 - KVBASE + 511 * 8)
	/* PDPT low: 4 x 1 GiB to four page directories; high: entry 510 = first GiB */
	mov $(boot_pd - KVBASE + 3), %eax
	mov %eax, (boot_pdpt_hi - KVBASE + 510 * 8)
	mov $(boot_pdpt_lo - KVBASE), %edi
	mov $4, %ecx
1:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b
	/* 2048 x 2 MiB pages covering 4 GiB */
	mov $(boot_pd - KVBASE), %edi
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, (%edi, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax
	mov %eax, 4(%edi, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $(boot_pml4 - KVBASE), %eax
	mov %eax, %cr3
	/* EFER: LME, SCE, and NXE when the CPU has it */
	mov $0x80000001, %eax
	cpuid
	mov $0x101, %edi
	bt $20, %edx
	jnc 3f
	or $0x800, %edi
3:	mov $0xc0000080, %ecx
	rdmsr
	or %edi, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax
	and $~0x60000000, %eax		/* caches on */
	mov %eax, %cr0
	lgdt (boot_gdtr - KVBASE)
	ljmp $0x08, $(long64 - KVBASE)

	.code64
long64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $boot_stack_top, %rsp
	movabs $high64, %rax
	jmp *%rax
high64:
	movabs $__bss_boot_end, %rdi
	movabs $__bss_end, %rcx
	sub %rdi, %rcx
	shr $3, %rcx
	xor %eax, %eax
	rep stosq
	mov %esi, %edi
	xor %ebp, %ebp
	call kmain
4:	hlt
	jmp 4b

	.section .data
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10 data */
boot_gdt_end:
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt - KVBASE
	.globl boot_tsc
	.balign 8
boot_tsc:
	.quad 0

	.section .bss.boot, "aw", @nobits
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_lo:	.skip 4096
boot_pdpt_hi:	.skip 4096
boot_pd:	.skip 4 * 4096

	.section .stacks, "aw", @nobits
	.balign 4096
	.globl boot_stack_top
boot_stack:	.skip 16384
boot_stack_top:
