/* SPDX-License-Identifier: BSD-3-Clause */
/* The loader: a program's image into the process's address space. */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include "kelf.h"
#include "kernel.h"
#include "proc/task.h"

#define KARGS 384

struct exec_image {
	struct node *n;
	struct kelf_info info;
	struct node *interp; /* the ELF interpreter of a dynamic program, or NULL */
	struct kelf_info interp_info;
	char interp_path[256];
};

void exec_program(int argc, char **argv, char **envp, uint64_t t_kernel) NORETURN;
int exec_check(const char *path, struct exec_image *img, char *why, size_t whylen);
void exec_enter(struct exec_image *img, const char *path, int argc, char **argv, char **envp,
		uint64_t t_kernel) NORETURN;
void random_fill(void *buf, size_t len);
int exec_script(char *path, char **argv, int *argc, char *pool, size_t *used, size_t cap);

#endif
