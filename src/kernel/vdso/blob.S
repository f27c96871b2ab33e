/* SPDX-License-Identifier: BSD-3-Clause */
/* The vDSO file, built by meson (vdso.so), inside the kernel. */
	.section .rodata
	.balign 4096
	.globl vdso_start, vdso_end
vdso_start:
	.incbin VDSO_PATH
vdso_end:
	.section .note.GNU-stack, "", @progbits
