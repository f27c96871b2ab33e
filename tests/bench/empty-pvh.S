/* SPDX-License-Identifier: BSD-3-Clause */
/* The boot benchmarks' floor: a PVH kernel whose first instruction leaves QEMU through isa-debug-exit. */
	.section .note.Xen, "a"
	.p2align 2
	.long	4, 4, 18                /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	entry32

	.text
	.code32
	.globl	entry32
entry32:
	outb	%al, $0xf4
1:	hlt
	jmp	1b
