/* SPDX-License-Identifier: BSD-3-Clause */
/* The one process: its program, heap break, and the loader. */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include "kelf.h"
#include "kernel.h"

#define KARGS 384

struct proc {
	const char *exe;
	struct node *exe_node;
	uint64_t brk_start, brk;
	uint64_t image_start, stack_start, stack_end; /* for /proc/PID/maps */
	char *cmdline, *environ; /* NUL-separated copies, for /proc/PID/cmdline and environ */
	size_t cmdline_len, environ_len;
	uint64_t start_ns, start_idle_ns; /* when it started, for /proc/PID/stat */
};
extern struct proc proc;

struct exec_image {
	struct node *n;
	struct kelf_info info;
};

void exec_program(int argc, char **argv, char **envp, uint64_t t_kernel) NORETURN;
int exec_check(const char *path, struct exec_image *img, char *why, size_t whylen);
void exec_enter(struct exec_image *img, const char *path, int argc, char **argv, char **envp,
		uint64_t t_kernel) NORETURN;
void random_fill(void *buf, size_t len);
int exec_script(char *path, char **argv, int *argc, char *pool, size_t *used, size_t cap);

#endif
