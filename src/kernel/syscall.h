/* SPDX-License-Identifier: BSD-3-Clause */
/* The Linux syscall layer (sys/): dispatch, names, the -ENOSYS count. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "kernel.h"

extern long sys_last;
const char *syscall_name(long nr);
void syscall_report(void);
void syscall_dispatch(struct sysframe *f);
void syscall_init(void);
uint32_t proc_umask(void);
void procfs_init(void); /* sys/procfs.c: /proc and /sys, after the root is indexed */

#endif
