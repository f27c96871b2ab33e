/* SPDX-License-Identifier: BSD-3-Clause */
/* The string functions the kernel provides; on the host the libc's are used instead. */
#ifndef KERNEL_KLIB_H
#define KERNEL_KLIB_H

#include <stddef.h>
#include <stdint.h>

#ifdef CAPSTAN_KERNEL
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
#else
#include <string.h>
#endif

#endif
