/* SPDX-License-Identifier: BSD-3-Clause */
/* A PVH guest that checks the state it was entered in: the MBR's test payload (t-mbr.sh). */

/*
 * Linked as one PT_LOAD that includes the ELF header (pvhcheck.ld), so the
 * file loaded whole at its first address is in place, as the kernel is.
 * It prints EAX (our MBR sets the PVH magic; QEMU's loaders do not: qboot
 * leaves 0x2badb002 and pc's pvh.bin 0, so a kernel must not rely on it),
 * checks the hvm_start_info magic and memory map, and a 300 KiB
 * counting pattern that makes the MBR's load span ten 32 KiB reads, then
 * prints what it found on COM1 and leaves through isa-debug-exit:
 * v = 16 (QEMU status 33) on success, 2..5 (status 5..11) per failed check.
 */

#define COM1      0x3f8
#define PVH_MAGIC 0x336ec578
#define PATWORDS  76800

	.section .note.Xen, "a"
	.p2align 2
	.long	4, 4, 18                /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	entry32

	.text
	.code32
	.globl	entry32
entry32:
	movl	$stack_top, %esp
	movl	%ebx, %ebp
	pushl	%eax
	movl	$msg_eax, %esi
	call	puts
	popl	%eax
	call	puthex
	movb	$'\n', %al
	call	putc
	movl	$2, %edi
	cmpl	$PVH_MAGIC, (%ebp)
	jne	fail
	incl	%edi
	cmpl	$1, 4(%ebp)             /* version 1 has the memory map */
	jb	fail
	incl	%edi
	cmpl	$0, 48(%ebp)
	je	fail

	/* Some RAM entry (type 1) must cover 1 MiB, where kernels load. */
	movl	40(%ebp), %esi
	movl	48(%ebp), %ecx
1:	cmpl	$1, 16(%esi)
	jne	2f
	cmpl	$0x100000, (%esi)
	ja	2f
	movl	(%esi), %eax
	addl	8(%esi), %eax
	cmpl	$0x200000, %eax
	jae	3f
2:	addl	$24, %esi
	loop	1b
	jmp	fail
3:	incl	%edi
	movl	$pattern, %esi
	xorl	%edx, %edx
	movl	$PATWORDS, %ecx
4:	lodsl
	cmpl	%edx, %eax
	jne	fail
	incl	%edx
	loop	4b

	movl	$msg_map, %esi
	call	puts
	movl	48(%ebp), %eax
	call	putdec
	movl	$msg_cmd, %esi
	call	puts
	movl	24(%ebp), %eax
	call	putdec
	movl	$msg_ok, %esi
	call	puts
	movb	$16, %al
	outb	%al, $0xf4
	hlt

fail:	movl	$msg_fail, %esi
	call	puts
	movl	%edi, %eax
	call	putdec
	movb	$'\n', %al
	call	putc
	movl	%edi, %eax
	outb	%al, $0xf4
	hlt

putc:	pushl	%eax
	movw	$COM1 + 5, %dx
5:	inb	%dx, %al
	testb	$0x20, %al
	jz	5b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret

puts:	lodsb
	testb	%al, %al
	jz	6f
	call	putc
	jmp	puts
6:	ret

	/* Prints EAX in hex, 8 digits. */
puthex:	movl	%eax, %edx
	movl	$8, %ecx
9:	roll	$4, %edx
	movb	%dl, %al
	andb	$15, %al
	addb	$'0', %al
	cmpb	$'9', %al
	jbe	10f
	addb	$'a' - '9' - 1, %al
10:	pushl	%edx
	call	putc
	popl	%edx
	loop	9b
	ret

	/* Prints EAX in decimal. */
putdec:	movl	$10, %ebx
	xorl	%ecx, %ecx
7:	xorl	%edx, %edx
	divl	%ebx
	pushl	%edx
	incl	%ecx
	testl	%eax, %eax
	jnz	7b
8:	popl	%eax
	addb	$'0', %al
	call	putc
	loop	8b
	ret

msg_eax:  .asciz "pvhcheck: eax "
msg_map:  .asciz "pvhcheck: memmap entries "
msg_cmd:  .asciz "\npvhcheck: cmdline_paddr "
msg_ok:   .asciz "\npvhcheck: SUCCESS\n"
msg_fail: .asciz "pvhcheck: FAILED check "

	.data
	.p2align 2
pattern:
	.set	i, 0
	.rept	PATWORDS
	.long	i
	.set	i, i + 1
	.endr

	.bss
	.p2align 4
	.skip	4096
stack_top:
