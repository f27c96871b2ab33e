/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock_nanosleep on the CPU clocks: the process's clock sleeps until the
 * process's CPU time (run up by another thread) reaches the time asked,
 * absolute or relative, not for that long on the wall clock; the calling
 * thread's own clock cannot be slept on (EINVAL), nor the raw and coarse
 * clocks (EOPNOTSUPP).
 */
#include "check.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static atomic_int stop;

static void *spin(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		;
	return NULL;
}

static uint64_t cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}

int main(void)
{
	struct timespec d = {0, 1000000};
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL) == EINVAL);
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, &d, NULL) == EINVAL);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC_RAW, 0, &d, NULL) == EOPNOTSUPP);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC_COARSE, 0, &d, NULL) == EOPNOTSUPP);
	CHECK(clock_nanosleep(CLOCK_REALTIME_COARSE, 0, &d, NULL) == EOPNOTSUPP);
	CHECK(clock_nanosleep(12345, 0, &d, NULL) == EINVAL);
	printf("clocksleep: the thread's CPU clock EINVAL, raw and coarse clocks EOPNOTSUPP\n");

	/* a time already passed returns at once */
	struct timespec past = ts_of(cpu_ns() / 2);
	CHECK(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &past, NULL) == 0);

	pthread_t t;
	CHECK(pthread_create(&t, NULL, spin, NULL) == 0);
	uint64_t target = cpu_ns() + 300000000; /* the spinner runs it up */
	struct timespec abs = ts_of(target);
	CHECK(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &abs, NULL) == 0);
	uint64_t after = cpu_ns();
	CHECK(after >= target);
	printf(
	    "clocksleep: TIMER_ABSTIME on the process's CPU clock woke once it passed the time\n");

	uint64_t before = cpu_ns();
	struct timespec rel = ts_of(200000000);
	CHECK(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &rel, NULL) == 0);
	CHECK(cpu_ns() >= before + 200000000);
	printf("clocksleep: a relative sleep on it lasted 200 ms of CPU time\n");
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	return check_done();
}
