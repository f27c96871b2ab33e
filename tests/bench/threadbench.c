/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Thread benchmarks: create+join rate, a futex ping-pong round trip between two threads, and
 * the wall time of two threads each doing the same CPU-bound work (run with 1 and 2 CPUs, the
 * ratio of the two times is the speedup).  Arguments: [threads] [rounds] [iterations].
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t ball; /* 0: the main thread's turn, 1: the partner's */
static long rounds;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wait_for(uint32_t want)
{
	uint32_t v;
	while ((v = __atomic_load_n(&ball, __ATOMIC_ACQUIRE)) != want)
		syscall(SYS_futex, &ball, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void pass_to(uint32_t to)
{
	__atomic_store_n(&ball, to, __ATOMIC_RELEASE);
	syscall(SYS_futex, &ball, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *partner(void *arg)
{
	for (long i = 0; i < rounds; i++) {
		wait_for(1);
		pass_to(0);
	}
	return NULL;
}

static long iterations;

/* A chain of xorshift steps the compiler cannot shorten; the result is kept. */
static void *spin(void *arg)
{
	uint64_t x = 88172645463325252ull + (uintptr_t)arg;
	for (long i = 0; i < iterations; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	*(volatile uint64_t *)arg = x;
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? atol(argv[1]) : 2000;
	rounds = argc > 2 ? atol(argv[2]) : 20000;
	iterations = argc > 3 ? atol(argv[3]) : 100000000;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);

	double t0 = now_s();
	for (long i = 0; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, &a, nothing, NULL) || pthread_join(t, NULL)) {
			printf("threadbench: pthread_create failed\n");
			return 1;
		}
	}
	double t1 = now_s();
	printf("threadbench: create+join %.0f per second (%ld threads)\n", threads / (t1 - t0),
	       threads);

	pthread_t p;
	if (pthread_create(&p, &a, partner, NULL))
		return 1;
	t0 = now_s();
	for (long i = 0; i < rounds; i++) {
		pass_to(1);
		wait_for(0);
	}
	t1 = now_s();
	pthread_join(p, NULL);
	printf("threadbench: futex ping-pong round trip %.2f us (%ld rounds)\n",
	       (t1 - t0) * 1e6 / rounds, rounds);

	uint64_t out[2];
	pthread_t w[2];
	t0 = now_s();
	for (int i = 0; i < 2; i++)
		if (pthread_create(&w[i], &a, spin, &out[i]))
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	t1 = now_s();
	printf("threadbench: 2 CPU-bound threads %.3f s (%ld iterations each)\n", t1 - t0,
	       iterations);
	return 0;
}
