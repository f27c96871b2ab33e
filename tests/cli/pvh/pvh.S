/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny PVH guest for the run tests, independent of the capstan kernel: it
 * prints "pvh: <cmdline>" on COM1 and then, by the command line's first word,
 * exits with that number through the kernel's exit channel (status line on
 * isa-debugcon 0xe9, v on isa-debug-exit 0xf4), or with "sleep" waits for the
 * power button (microvm GED event) and powers off, printing "pvh: power button".
 */
	.code32
	.section .note.Xen, "a"
	.align 4
	.long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long start

	.text
	.globl start
start:
	cli
	mov $0x10000, %esp
	mov 24(%ebx), %esi      /* hvm_start_info.cmdline_paddr (low half) */
	lea msg, %edi
	call puts_com1
	test %esi, %esi
	jz 1f
	mov %esi, %edi
	call puts_com1
1:	mov $'\n', %al
	call putc_com1
	/* "sleep": wait for the power button */
	test %esi, %esi
	jz number
	cmpl $0x65656c73, (%esi)  /* "slee" */
	jne number
	xor %ebp, %ebp           /* ebp = 1 if the PIIX4 PM block is at 0x600 (pc) */
	mov $0x602, %dx
	mov $0x100, %ax
	out %ax, %dx
	in %dx, %ax
	cmp $0x100, %ax
	jne wait
	inc %ebp
wait:	pause
	test %ebp, %ebp
	jz 1f
	mov $0x600, %dx          /* PM1 status: bit 8 = power button */
	in %dx, %ax
	test $0x100, %ax
	jnz pressed
	jmp wait
1:	mov 0xfea00000, %eax     /* microvm GED event: bit 1 = power button */
	test $2, %eax
	jz wait
pressed:
	lea btn, %edi
	call puts_com1
	xor %ecx, %ecx
	call status
	jmp off
number:	xor %ecx, %ecx           /* exit status from leading digits */
	test %esi, %esi
	jz 3f
2:	movzbl (%esi), %eax
	sub $'0', %eax
	cmp $9, %eax
	ja 3f
	imul $10, %ecx
	add %eax, %ecx
	inc %esi
	jmp 2b
3:	call status
	mov %ecx, %eax
	cmp $127, %eax
	jbe 4f
	mov $127, %eax
4:	out %eax, $0xf4          /* QEMU exits here when isa-debug-exit is present */
off:	mov $0x604, %dx          /* else ACPI S5: PIIX4 PM control (pc) */
	mov $0x2000, %ax
	out %ax, %dx
	movb $((5 << 2) | (1 << 5)), 0xfea00200  /* microvm GED sleep control: S5 */
halt:	hlt
	jmp halt

/* "exit N\n" on port 0xe9 for N in ecx */
status:	push %ecx
	lea exitmsg, %edi
5:	movb (%edi), %al
	test %al, %al
	jz 6f
	out %al, $0xe9
	inc %edi
	jmp 5b
6:	mov %ecx, %eax
	mov $10, %ebx
	xor %edx, %edx
	push $-1
7:	xor %edx, %edx
	div %ebx
	push %edx
	test %eax, %eax
	jnz 7b
8:	pop %eax
	cmp $-1, %eax
	je 9f
	add $'0', %al
	out %al, $0xe9
	jmp 8b
9:	mov $'\n', %al
	out %al, $0xe9
	pop %ecx
	ret

puts_com1:
	movb (%edi), %al
	test %al, %al
	jz 1f
	call putc_com1
	inc %edi
	jmp puts_com1
1:	ret

putc_com1:
	mov $0x3f8, %dx
	out %al, %dx
	ret

	.data
msg:	.asciz "pvh: "
btn:	.asciz "pvh: power button\n"
exitmsg: .asciz "exit "
