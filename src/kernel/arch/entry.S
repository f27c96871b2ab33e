/* SPDX-License-Identifier: BSD-3-Clause */
/* SYSCALL entry, the exception entry points and the first drop to ring 3. */
#include "../asm.h"

	/* Drop the kernel lock if this CPU holds it (proc/cpu.c): on every way
	 * back to user mode.  Clobbers EAX; GS must still be the kernel's. */
.macro KLOCK_RELEASE
	mov %gs:CPU_LOCK_ID, %eax
	cmp %eax, klock(%rip)
	jne 88f
	movl $0, klock(%rip)
88:
.endm

	.text
	.code64

	/* SYSCALL: RCX = user RIP, R11 = user RFLAGS, RSP still the user's. */
	.globl syscall_entry
syscall_entry:
	swapgs
	mov %rsp, %gs:CPU_USER_RSP
	mov %gs:CPU_KSTACK, %rsp
	pushq %gs:CPU_USER_RSP
	push %r11
	push %rcx
	push %rax
	push %rdi
	push %rsi
	push %rdx
	push %r10
	push %r8
	push %r9
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	call klock_enter
	mov %rsp, %rdi
	call syscall_dispatch
	/* a new thread starts here, on its own stack holding the frame clone made */
	.globl syscall_exit
syscall_exit:
	KLOCK_RELEASE
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r9
	pop %r8
	pop %r10
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rax
	pop %rcx
	pop %r11
	pop %rsp
	swapgs
	sysretq

	/* enter_user(rip, rsp): iretq to ring 3 with every register clear (psABI: RDX = 0). */
	.globl enter_user
enter_user:
	pushq $SEL_UDATA
	push %rsi
	pushq $0x202 /* interrupts on in user mode: the timer preempts the program */
	pushq $SEL_UCODE
	push %rdi
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	KLOCK_RELEASE
	xor %eax, %eax
	swapgs
	iretq

	/* user_return_iret(frame): back to user mode with every register from a
	 * trapframe (rt_sigreturn: SYSRET would lose RCX and R11). */
	.globl user_return_iret
user_return_iret:
	mov %rdi, %rsp
	jmp isr_return

	/* switch_to(save_sp, new_sp): save the callee-saved registers and the stack
	 * pointer of this task, continue the other one where it switched out. */
	.globl switch_to
switch_to:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, (%rdi)
	mov %rsi, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

.macro ISR vec, has_err
	.globl isr\vec
isr\vec:
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

	ISR 0, 0
	ISR 1, 0
	ISR 2, 0
	ISR 3, 0
	ISR 4, 0
	ISR 5, 0
	ISR 6, 0
	ISR 7, 0
	ISR 8, 1
	ISR 9, 0
	ISR 10, 1
	ISR 11, 1
	ISR 12, 1
	ISR 13, 1
	ISR 14, 1
	ISR 15, 0
	ISR 16, 0
	ISR 17, 1
	ISR 18, 0
	ISR 19, 0
	ISR 20, 0
	ISR 21, 1
	ISR 22, 0
	ISR 23, 0
	ISR 24, 0
	ISR 25, 0
	ISR 26, 0
	ISR 27, 0
	ISR 28, 0
	ISR 29, 1
	ISR 30, 1
	ISR 31, 0
	ISR 32, 0
	ISR 33, 0
	ISR 34, 0
	ISR 35, 0
	ISR 36, 0

isr_common:
	testb $3, 24(%rsp) /* from user mode: the kernel's GS */
	jz 1f
	swapgs
1:	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rdi
	call trap_entry
isr_return:
	testb $3, 144(%rsp) /* CS: back to user mode */
	jz 2f
	KLOCK_RELEASE
	swapgs
2:	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

	.section .rodata
	.globl isr_table
	.balign 8
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36
	.quad isr\v
	.endr
