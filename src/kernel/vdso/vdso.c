/* SPDX-License-Identifier: BSD-3-Clause */
/* The vDSO: clock_gettime, gettimeofday, time, getcpu and clock_getres without a system call. */
#include <stdbool.h>

#include "vvar.h"

struct timespec_ {
	int64_t sec, nsec;
};
struct timeval_ {
	int64_t sec, usec;
};

/* The vvar page, just below this object's ELF header (where the kernel maps it). */
static inline const volatile struct vvar *vv(void)
{
	const volatile struct vvar *v;
	__asm__("lea __ehdr_start-4096(%%rip), %0" : "=r"(v));
	return v;
}

static inline long sys2(long nr, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static inline uint64_t rdtsc_(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* ns for clock clk, or -1 when the system call must answer (unknown clock, not ready yet). */
static int64_t clock_ns(long clk)
{
	const volatile struct vvar *v = vv();
	bool wall = clk == 0 || clk == 5 || clk == 11; /* REALTIME, REALTIME_COARSE, TAI */
	if (!(wall || clk == 1 || clk == 4 || clk == 6 || clk == 7) || !v->mono_ready ||
	    (wall && !v->wall_ready))
		return -1;
	int64_t t = (int64_t)(((unsigned __int128)(rdtsc_() - v->boot_tsc) * v->mult) >> 32);
	return wall ? t + v->wall_offset : t;
}

int __vdso_clock_gettime(long clk, struct timespec_ *ts)
{
	int64_t t = clock_ns(clk);
	if (t < 0)
		return (int)sys2(228, clk, (long)ts);
	ts->sec = t / 1000000000;
	ts->nsec = t % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct timeval_ *tv, void *tz)
{
	int64_t t = clock_ns(0);
	if (t < 0)
		return (int)sys2(96, (long)tv, (long)tz);
	if (tv) {
		tv->sec = t / 1000000000;
		tv->usec = t % 1000000000 / 1000;
	}
	return 0;
}

long __vdso_time(long *tp)
{
	int64_t t = clock_ns(0);
	if (t < 0)
		return sys2(201, (long)tp, 0);
	t /= 1000000000;
	if (tp)
		*tp = t;
	return t;
}

/* Only the kernel knows which CPU runs the caller: the system call (glibc reads its rseq area). */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(309L), "D"(cpu), "S"(node), "d"(unused)
			 : "rcx", "r11", "memory");
	return r;
}

int __vdso_clock_getres(long clk, struct timespec_ *res)
{
	return (int)sys2(229, clk, (long)res);
}

int clock_gettime(long, struct timespec_ *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_ *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(long, struct timespec_ *) __attribute__((weak, alias("__vdso_clock_getres")));
