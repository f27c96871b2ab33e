/* SPDX-License-Identifier: BSD-3-Clause */
/* The clock calls: clock_gettime and friends, sleeping. */
#include "sys.h"

uint64_t clock_ns(long clk)
{
	int64_t t = (int64_t)time_ns();
	if (clk == 0 || clk == 5 || clk == 11)
		t += time_realtime_offset();
	return (uint64_t)t;
}

SYSCALL2(clock_gettime, long, clk, uint64_t, uts)
{
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

SYSCALL4(clock_nanosleep, long, clk, long, flags, uint64_t, ureq, uint64_t, urem)
{
	UOK(ureq, sizeof(struct linux_timespec));
	const struct linux_timespec *req = (const struct linux_timespec *)ureq;
	if (req->sec < 0 || req->nsec < 0 || req->nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)req->sec * 1000000000 + (uint64_t)req->nsec;
	if (flags & 1) { /* TIMER_ABSTIME */
		uint64_t now = clock_ns(clk);
		ns = ns > now ? ns - now : 0;
	}
	uint64_t end = time_ns() + ns;
	while (time_ns() < end)
		if (task_sleep(end, true) == W_SIGNAL) {
			if (urem && !(flags & 1) &&
			    vm_user_ok(urem, sizeof(struct linux_timespec))) {
				uint64_t left = end - MIN(end, time_ns());
				*(struct linux_timespec *)urem = (struct linux_timespec){
				    (int64_t)(left / 1000000000), (int64_t)(left % 1000000000)};
			}
			return -EINTR;
		}
	return 0;
}

SYSCALL2(nanosleep, uint64_t, ureq, uint64_t, urem)
{
	return do_clock_nanosleep(CLOCK_MONOTONIC, 0, ureq, urem);
}
