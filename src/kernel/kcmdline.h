/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel command line: kernel options, --env=K=V, then the program and its arguments, shell-quoted.
 */
#ifndef KERNEL_KCMDLINE_H
#define KERNEL_KCMDLINE_H

#include <stddef.h>

#define KCMD_MAX  32768
#define KCMD_ARGS 256
#define KCMD_ENVS 128

#define KCMD_VERBOSE 0x1  /* --verbose: print the init steps */
#define KCMD_TRACE   0x2  /* --trace: boot time from the first instruction to the program */
#define KCMD_NOSYS   0x4  /* --nosys: name the unimplemented syscalls at exit */
#define KCMD_QUIET   0x8  /* --quiet: no boot line */
#define KCMD_STRACE  0x10 /* --strace: every syscall, its arguments and result, on the console */
#define KCMD_NETSTAT 0x20 /* --netstat: count the sockets and connections left at exit */

struct kcmdline {
	char buf[KCMD_MAX];	   /* the unquoted words, NUL-separated */
	char *argv[KCMD_ARGS + 1]; /* NULL-terminated */
	char *envp[KCMD_ENVS + 1]; /* NULL-terminated */
	int argc, envc;
	unsigned flags;
	const char *cwd; /* --cwd=DIR, or NULL */
	const char *ip;	 /* --ip=ADDR/PREFIX[,GW[,DNS]] (no DHCP), or NULL */
	char err[96];	 /* why parsing failed */
};

/*
 * Parse in: leading "--option" words are the kernel's (--verbose, --trace,
 * --nosys, --strace, --netstat, --quiet, --cwd=DIR, --ip=ADDR/PREFIX[,GW[,DNS]], --env=K=V, and
 * "--" to end them); the first other word is the program.  Quoting follows sh: '...' literal, "..."
 * with
 * \" \\ \$ \` escapes, \x outside quotes.  Trailing words that QEMU appends
 * (virtio_mmio.device=...) are dropped.  Returns 0 or -1 with err set.
 */
int kcmdline_parse(struct kcmdline *c, const char *in);

#endif
