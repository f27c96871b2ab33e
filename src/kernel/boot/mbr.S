/* SPDX-License-Identifier: BSD-3-Clause */
/* The disk boot sector: loads the kernel named by the image header and enters it as PVH does. */

/*
 * BIOS loads this sector at 0x7c00 and jumps to it in real mode with the
 * boot drive in DL.  It reads the image header (include/capstan/image.h,
 * CAP_IMG_HEADER_OFFSET) with int 13h AH=42h, then the whole kernel ELF
 * file into conventional memory at LOWBUF in 32 KiB reads, collects the
 * E820 map into a PVH struct hvm_start_info, masks the 8259s, enables A20,
 * switches to 32-bit protected mode with flat segments, copies the kernel
 * file to kernel_load_addr and jumps to kernel_entry32 with
 * EAX = 0x336ec578 and EBX = &start_info: the state a PVH loader leaves,
 * so the kernel has a single entry path.  cmdline_paddr is 0: the kernel
 * reads the command line from the disk.  Interrupts are off and the 8259s
 * masked when it jumps; the kernel owns the IDT from its first instruction.
 * Low memory it leaves in use: start_info and the map at 0x6000-0x67ff.
 *
 * Staging the kernel below 640 KiB keeps this sector free of int 15h
 * block moves and unreal mode, at the price of a size limit
 * (LOWBUF..LOWEND, 572 KiB), twice the 256 KiB kernel budget.
 * kernel_load_addr must not overlap LOWBUF..LOWEND (it is 1 MiB or more).
 *
 * On any failure it prints one line on the BIOS console and COM1 and halts.
 */

#define HDR        0x7e00      /* the header sector */
#define H_KOFF     16          /* struct cap_img_header field offsets */
#define H_KSIZE    24
#define H_LOAD     104
#define H_ENTRY    108
#define START      0x6000      /* struct hvm_start_info */
#define SI_MMAP    40          /* memmap_paddr */
#define SI_NMAP    48          /* memmap_entries */
#define MEMMAP     0x6040      /* struct hvm_memmap_table_entry[], 24 bytes each */
#define MMAPEND    (0x6800 - 24) /* up to 82 entries; the stack is far above */
#define LOWBUF     0x10000     /* kernel staging area */
#define LOWEND     0x9f000
#define CHUNK      64          /* sectors per read: 32 KiB, never crosses 64 KiB */
#define PVH_MAGIC  0x336ec578
#define COM1       0x3f8

	.code16
	.section .text
	.globl start
start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp
	sti                             /* some BIOSes wait for IRQs in int 13h */
	ljmp	$0, $1f
1:	cld
	movb	%dl, drive

	/* The header: one sector at CAP_IMG_HEADER_OFFSET into HDR. */
	call	readsec
	cmpl	$0x53504143, HDR        /* "CAPS" of "CAPSTIMG" */
	jne	badimg

	/* The kernel file: kernel_size bytes from kernel_offset into LOWBUF. */
	movl	HDR+H_KOFF, %eax
	shrl	$9, %eax
	movl	%eax, dap_lba
	movl	HDR+H_KSIZE, %ecx
	cmpl	$LOWEND - LOWBUF, %ecx
	ja	badimg
	addl	$511, %ecx
	shrl	$9, %ecx                /* sectors left, < 64 Ki */
	movw	$LOWBUF >> 4, dap_seg
2:	movw	$CHUNK, %ax
	cmpw	%ax, %cx
	jae	3f
	movw	%cx, %ax
3:	movw	%ax, dap_count
	call	readsec
	addl	$CHUNK, dap_lba
	addw	$CHUNK * 512 >> 4, dap_seg
	subw	$CHUNK, %cx
	ja	2b

	/* struct hvm_start_info with the E820 map after it, all else zero. */
	movw	$START, %di
	movw	$0x400, %cx
	xorw	%ax, %ax
	rep	stosw
	movl	$PVH_MAGIC, START
	movb	$1, START+4
	movw	$MEMMAP, START+SI_MMAP
	movw	$MEMMAP, %di
	xorl	%ebx, %ebx
4:	movl	$0xe820, %eax
	movl	$20, %ecx
	movl	$0x534d4150, %edx       /* "SMAP" */
	int	$0x15
	jc	5f
	incw	START+SI_NMAP
	addw	$24, %di
	cmpw	$MMAPEND, %di           /* room for one more entry? */
	ja	5f
	testl	%ebx, %ebx
	jnz	4b
5:	cli
	/* Quiet the 8259s, open A20 (port 0x92), go to protected mode. */
	movb	$0xff, %al
	outb	%al, $0x21
	outb	%al, $0xa1
	inb	$0x92, %al
	orb	$2, %al
	andb	$0xfe, %al
	outb	%al, $0x92
	lgdtl	gdt
	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	ljmpl	$0x08, $pm32

	/* Reads dap_count sectors at dap_lba into dap_seg:0; halts on error. */
readsec:
	pushal
	movw	$dap, %si
	movb	drive, %dl
	movb	$0x42, %ah
	int	$0x13
	popal
	jc	rderr
	ret

rderr:	movw	$msg_read, %si
	jmp	fail
badimg:	movw	$msg_img, %si
fail:	lodsb
	testb	%al, %al
	jz	halt
	movw	$COM1, %dx
	outb	%al, %dx
	movb	$0x0e, %ah
	movw	$7, %bx
	int	$0x10
	jmp	fail
halt:	hlt
	jmp	halt

	.code32
pm32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	$LOWBUF, %esi
	movl	HDR+H_LOAD, %edi
	movl	HDR+H_KSIZE, %ecx
	addl	$3, %ecx
	shrl	$2, %ecx
	rep	movsl
	movl	$PVH_MAGIC, %eax
	movl	$START, %ebx
	jmp	*HDR+H_ENTRY

	/* GDT: the null slot holds the lgdt operand; 0x08 flat code, 0x10 flat data. */
	.p2align 3
gdt:	.word	gdt_end - gdt - 1
	.long	gdt
	.word	0
	.quad	0x00cf9a000000ffff
	.quad	0x00cf92000000ffff
gdt_end:

	/* int 13h AH=42h disk address packet; first use reads the header. */
dap:	.byte	16, 0
dap_count:
	.word	1
	.word	0                       /* buffer offset */
dap_seg:
	.word	HDR >> 4
dap_lba:
	.quad	32768 / 512             /* CAP_IMG_HEADER_OFFSET */

drive:	.byte	0
msg_read:
	.asciz	"boot: disk read error\r\n"
msg_img:
	.asciz	"boot: not a capstan image\r\n"

	/* The partition table is the host's (src/lib/image/layout.c). */
	.org	446
	.fill	64, 1, 0
	.word	0xaa55
