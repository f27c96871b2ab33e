/* SPDX-License-Identifier: BSD-3-Clause */
/* The disk boot benchmark's floor: a boot sector whose first instruction leaves QEMU through isa-debug-exit. */
	.code16
	.text
	.globl	start
start:
	outb	%al, $0xf4
1:	hlt
	jmp	1b
	.org	510
	.word	0xaa55
