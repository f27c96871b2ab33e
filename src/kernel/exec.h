/* SPDX-License-Identifier: BSD-3-Clause */
/* The one process: its program, heap break, and the loader. */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include "kernel.h"

#define KARGS 384

struct proc {
	const char *exe;
	uint64_t brk_start, brk;
};
extern struct proc proc;

void exec_program(int argc, char **argv, char **envp, uint64_t t_kernel) NORETURN;
void random_fill(void *buf, size_t len);

#endif
