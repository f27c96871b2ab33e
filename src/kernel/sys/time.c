/* SPDX-License-Identifier: BSD-3-Clause */
/* The clock calls: clock_gettime and friends, sleeping. */
#include "sys.h"

/*
 * The libcs name CPU clocks as Linux encodes them (glibc's timer_create, clock_getcpuclockid,
 * pthread_getcpuclockid): ~pid << 3, or ~tid << 3 | 4, then 0 for user+system time, 1 user, 2
 * scheduled.  The calling process's or thread's (pid or tid 0) is CLOCK_PROCESS_CPUTIME_ID or
 * CLOCK_THREAD_CPUTIME_ID: the kernel keeps no user/system split.  Others stay as they are.
 */
long clock_self_cpu(long clk)
{
	clk = (int)clk; /* a clockid_t: the register's upper half is not the caller's */
	if (clk >= -8 && clk <= -2 && (clk & 3) != 3)
		return clk & 4 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID;
	return clk;
}

/* The process's CPU time, with what its threads running on other CPUs ran since they were
 * last charged (a CPU charges its thread only when it enters the kernel). */
static uint64_t process_cpu_ns(void)
{
	uint64_t ns = sched_cpu_ns(), now = rdtsc(), hz = time_tsc_hz();
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->proc == current->proc && t->cpu && t != current && now > t->last_in) {
			uint64_t d = now - t->last_in;
			ns += d / hz * 1000000000 + d % hz * 1000000000 / hz;
		}
	return ns;
}

uint64_t clock_ns(long clk)
{
	if (clk == CLOCK_PROCESS_CPUTIME_ID)
		return process_cpu_ns();
	if (clk == CLOCK_THREAD_CPUTIME_ID) {
		sched_cpu_ns(); /* charges the caller's time so far */
		return current->run_ns;
	}
	int64_t t = (int64_t)time_ns();
	if (clk == 0 || clk == 5 || clk == 11)
		t += time_realtime_offset();
	return (uint64_t)t;
}

SYSCALL2(clock_gettime, long, clk, uint64_t, uts)
{
	clk = clock_self_cpu(clk);
	if (clk < 0 || clk > 11 || clk == 8 || clk == 9 || clk == 10)
		return -EINVAL;
	UOK(uts, sizeof(struct linux_timespec));
	uint64_t t = clock_ns(clk);
	struct linux_timespec *ts = (struct linux_timespec *)uts;
	ts->sec = (int64_t)(t / 1000000000);
	ts->nsec = (int64_t)(t % 1000000000);
	return 0;
}

SYSCALL2(clock_getres, long, clk, uint64_t, ures)
{
	if (ures) {
		UOK(ures, sizeof(struct linux_timespec));
		*(struct linux_timespec *)ures = (struct linux_timespec){0, 1};
	}
	return clk >= 0 && clk <= CLOCK_TAI ? 0 : -EINVAL;
}

SYSCALL2(gettimeofday, uint64_t, utv, uint64_t, utz)
{
	if (utv) {
		UOK(utv, sizeof(struct linux_timeval));
		uint64_t t = clock_ns(CLOCK_REALTIME);
		*(struct linux_timeval *)utv = (struct linux_timeval){
		    (int64_t)(t / 1000000000), (int64_t)(t % 1000000000 / 1000)};
	}
	return 0;
}

SYSCALL1(time, uint64_t, ut)
{
	int64_t t = (int64_t)(clock_ns(CLOCK_REALTIME) / 1000000000);
	if (ut) {
		UOK(ut, 8);
		*(int64_t *)ut = t;
	}
	return t;
}

/* What a relative sleep cut short by a signal had left. */
static void put_rem(uint64_t urem, bool abstime, uint64_t left)
{
	if (urem && !abstime && vm_user_ok(urem, sizeof(struct linux_timespec)))
		*(struct linux_timespec *)urem = (struct linux_timespec){
		    (int64_t)(left / 1000000000), (int64_t)(left % 1000000000)};
}

/*
 * Sleeping on the process's CPU clock: until its CPU time reaches target, which only its
 * other threads can run up, by at most one ns per CPU each ns; so the sleep goes in steps
 * that cannot pass target.  With no thread left to run, only a signal ends it, as on Linux.
 */
static long cpu_sleep(uint64_t target, uint64_t urem, bool abstime)
{
	for (;;) {
		uint64_t now = process_cpu_ns();
		if (now >= target)
			return 0;
		uint64_t step = MAX((target - now) / (uint64_t)sched_ncpus(), 1000000ull);
		if (task_sleep(time_ns() + step, true) == W_SIGNAL) {
			put_rem(urem, abstime, target - MIN(target, process_cpu_ns()));
			return -EINTR;
		}
	}
}

/* Linux's answers: the calling thread's CPU clock cannot advance while it sleeps (EINVAL);
 * the raw, coarse and alarm clocks cannot be slept on here (EOPNOTSUPP). */
static long sleep_clock_check(long clk)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		return 0;
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case 8: /* CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM: no alarm device */
	case 9:
		return -EOPNOTSUPP;
	default:
		return -EINVAL; /* CLOCK_THREAD_CPUTIME_ID, another process's CPU clock, unknown */
	}
}

SYSCALL4(clock_nanosleep, long, clk, long, flags, uint64_t, ureq, uint64_t, urem)
{
	clk = clock_self_cpu(clk);
	long e = sleep_clock_check(clk);
	if (e)
		return e;
	UOK(ureq, sizeof(struct linux_timespec));
	const struct linux_timespec *req = (const struct linux_timespec *)ureq;
	if (req->sec < 0 || req->nsec < 0 || req->nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)req->sec * 1000000000 + (uint64_t)req->nsec;
	bool abstime = flags & 1; /* TIMER_ABSTIME */
	if (clk == CLOCK_PROCESS_CPUTIME_ID)
		return cpu_sleep(abstime ? ns : process_cpu_ns() + ns, urem, abstime);
	if (abstime) {
		uint64_t now = clock_ns(clk);
		ns = ns > now ? ns - now : 0;
	}
	uint64_t end = time_ns() + ns;
	while (time_ns() < end)
		if (task_sleep(end, true) == W_SIGNAL) {
			put_rem(urem, abstime, end - MIN(end, time_ns()));
			return -EINTR;
		}
	return 0;
}

SYSCALL2(nanosleep, uint64_t, ureq, uint64_t, urem)
{
	return do_clock_nanosleep(CLOCK_MONOTONIC, 0, ureq, urem);
}
