/* SPDX-License-Identifier: BSD-3-Clause */
/* SMP clocks: a CLOCK_MONOTONIC reading taken on one CPU is never later than one taken
 * after it on another CPU (vDSO and system call), threads pinned by sched_setaffinity. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS		   1000
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

/*
 * A baton passed back and forth: the thread whose turn it is reads the
 * clock, checks that the reading is not before the one the other thread
 * published, publishes its own and hands the turn over.  The release store
 * of the turn orders the published reading before it; the acquire load
 * orders the next reading after it, so the readings are taken in sequence.
 * A thread waits by spinning a little (both CPUs running: readings close
 * together), then in futex (the vCPUs may not run at the same time).
 */
static int turn; /* whose move: 0 or 1 */
static volatile int64_t last_ns;
static volatile int cpu_of[2] = {-1, -1};
static long backwards[2], worst[2];

static int64_t now_ns(int use_syscall)
{
	struct timespec ts;
	if (use_syscall)
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	else
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wait_turn(int me)
{
	for (int spin = 0; __atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me; spin++)
		if (spin > 1000)
			syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, 1 - me, NULL, NULL, 0);
}

struct arg {
	int me, cpu, use_syscall;
};

static void *player(void *p)
{
	const struct arg *a = p;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
	cpu_of[a->me] = sched_getcpu();
	for (int r = 0; r < ROUNDS; r++) {
		wait_turn(a->me);
		int64_t t = now_ns(r & 1 ? !a->use_syscall : a->use_syscall);
		int64_t before = last_ns;
		if (t < before) {
			backwards[a->me]++;
			if (before - t > worst[a->me])
				worst[a->me] = before - t;
		}
		last_ns = t;
		__atomic_store_n(&turn, 1 - a->me, __ATOMIC_RELEASE);
		syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return NULL;
}

int main(void)
{
	int online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(online >= 2);
	if (online < 2)
		return check_done();
	pthread_t t[2];
	struct arg args[2] = {{0, 0, 0}, {1, 1, 1}};
	last_ns = now_ns(0);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, player, &args[i]) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK(cpu_of[0] == 0 && cpu_of[1] == 1);
	printf("clocksmp: %d readings passed between CPU %d and CPU %d\n", 2 * ROUNDS, cpu_of[0],
	       cpu_of[1]);
	for (int i = 0; i < 2; i++)
		if (backwards[i])
			printf(
			    "clocksmp: CPU %d read %ld times before the other's reading, by up to "
			    "%ld ns\n",
			    i, backwards[i], worst[i]);
	CHECK(backwards[0] == 0 && backwards[1] == 0);
	printf("clocksmp: CLOCK_MONOTONIC never went back from one CPU to the other\n");
	return check_done();
}
