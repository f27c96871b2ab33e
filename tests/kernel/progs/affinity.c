/* SPDX-License-Identifier: BSD-3-Clause */
/* sched_setaffinity pins: a thread never runs on a CPU its mask leaves out (any CPU count). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

static int ncpu;
static volatile int go;
static volatile long count[2];

static int cpu_now(void)
{
	unsigned cpu = ~0u;
	if (syscall(SYS_getcpu, &cpu, NULL, NULL) != 0)
		return -1;
	return (int)cpu;
}

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

/* Whether the mask of tid is exactly {cpu}. */
static int mask_is(pid_t tid, int cpu)
{
	cpu_set_t set;
	if (sched_getaffinity(tid, sizeof(set), &set) != 0)
		return 0;
	return CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set);
}

/* Spins, yielding now and then, and counts the rounds spent on a CPU other than cpu. */
static long stray_rounds(int cpu, int rounds)
{
	long stray = 0;
	for (int i = 0; i < rounds; i++) {
		for (volatile int j = 0; j < 2000; j++)
			;
		if (i % 50 == 0)
			sched_yield();
		stray += cpu_now() != cpu || sched_getcpu() != cpu;
	}
	return stray;
}

/* Two of these pinned to one CPU share it; each counts its rounds away from it. */
static void *pinned_spinner(void *arg)
{
	int me = (int)(long)arg;
	while (!go)
		sched_yield();
	count[me] = stray_rounds(ncpu - 1, 3000);
	return NULL;
}

static volatile pid_t child_tid;
static volatile int child_pinned;
static void *pinned_by_parent(void *arg)
{
	(void)arg;
	child_tid = (pid_t)syscall(SYS_gettid);
	while (!child_pinned)
		sched_yield();
	count[0] = mask_is(0, ncpu - 1) ? stray_rounds(ncpu - 1, 3000) : -1;
	return NULL;
}

static void *inherits(void *arg)
{
	(void)arg;
	count[1] = mask_is(0, 0) ? stray_rounds(0, 1000) : -1;
	return NULL;
}

int main(void)
{
	cpu_set_t all, set;
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(sched_getaffinity(0, sizeof(all), &all) == 0 && CPU_COUNT(&all) == ncpu);

	CPU_ZERO(&set);
	errno = 0;
	CHECK(sched_setaffinity(0, sizeof(set), &set) == -1 && errno == EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &set); /* a CPU that is not online */
	errno = 0;
	CHECK(sched_setaffinity(0, sizeof(set), &set) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(pin(0x7ffffff0, 0) == -1 && errno == ESRCH);
	CHECK(sched_getaffinity(0, sizeof(all), &set) == 0 && CPU_EQUAL(&set, &all));
	printf("affinity: empty and offline masks EINVAL, unknown thread ESRCH\n");

	/* the last CPU, then the first: the caller moves at once and stays */
	CHECK(pin(0, ncpu - 1) == 0 && mask_is(0, ncpu - 1));
	CHECK(stray_rounds(ncpu - 1, 3000) == 0);
	CHECK(pin(0, 0) == 0 && mask_is(0, 0));
	CHECK(stray_rounds(0, 3000) == 0);
	printf("affinity: pinned to one CPU, then another, getcpu always said so\n");

	pthread_t t, u;
	CHECK(pthread_create(&t, NULL, inherits, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0 && count[1] == 0);
	printf("affinity: a new thread inherits the mask\n");

	/* another thread pinned by its tid, while the caller (pinned to CPU 0) spins too */
	CHECK(pthread_create(&t, NULL, pinned_by_parent, NULL) == 0);
	while (!child_tid)
		sched_yield();
	CHECK(pin(child_tid, ncpu - 1) == 0 && mask_is(child_tid, ncpu - 1));
	child_pinned = 1;
	CHECK(stray_rounds(0, 2000) == 0);
	CHECK(pthread_join(t, NULL) == 0 && count[0] == 0);
	printf("affinity: a thread pinned by tid ran only where it was put\n");

	/* two threads pinned to the same CPU share it, while the caller may run anywhere */
	CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_EQUAL(&set, &all));
	count[0] = count[1] = -1;
	CHECK(pthread_create(&t, NULL, pinned_spinner, (void *)0) == 0);
	CHECK(pthread_create(&u, NULL, pinned_spinner, (void *)1) == 0);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(ncpu - 1, &one);
	CHECK(pthread_setaffinity_np(t, sizeof(one), &one) == 0);
	CHECK(pthread_setaffinity_np(u, sizeof(one), &one) == 0);
	go = 1;
	CHECK(pthread_join(t, NULL) == 0 && pthread_join(u, NULL) == 0);
	CHECK(count[0] == 0 && count[1] == 0);
	printf("affinity: two threads pinned to one CPU shared it\n");
	return check_done();
}
