/* SPDX-License-Identifier: BSD-3-Clause */
/* SMP: the CPU counts agree, and two threads run at the same time on two CPUs (needs 2 CPUs). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

static volatile long progress[2];
static volatile int cpu_of[2] = {-1, -1};
static volatile int done;

/* "0-N" or "0": how many CPUs /sys/devices/system/cpu/online names */
static int sys_online(void)
{
	char buf[64] = {0};
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		return -1;
	fclose(f);
	int lo = 0, hi = 0;
	int n = sscanf(buf, "%d-%d", &lo, &hi);
	return n == 2 ? hi - lo + 1 : n == 1 ? 1 : -1;
}

static int cpuinfo_processors(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "processor", 9);
	fclose(f);
	return n;
}

/*
 * Each thread spins without yielding, noting its CPU and counting, until it
 * has seen the other one make progress while both report different CPUs and
 * its own CPU did not change in between: the two ran at once.  On one CPU
 * the CPUs never differ, so this needs two.
 */
static void *spinner(void *arg)
{
	int me = (int)(long)arg, other = 1 - me;
	while (!done) {
		int cpu = sched_getcpu();
		cpu_of[me] = cpu;
		long seen = progress[other];
		for (int i = 0; i < 1000; i++)
			progress[me]++;
		if (progress[other] != seen && cpu_of[other] >= 0 && cpu_of[other] != cpu &&
		    sched_getcpu() == cpu)
			done = 1;
	}
	return NULL;
}

int main(void)
{
	cpu_set_t set;
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	int online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(online >= 2);
	CHECK(CPU_COUNT(&set) == online);
	CHECK(sys_online() == online);
	CHECK(cpuinfo_processors() == online);
	printf("parallel: affinity, sysconf, /proc/cpuinfo and /sys agree on %s\n",
	       online >= 2 ? "several CPUs" : "one CPU");
	if (online < 2)
		return check_done();
	unsigned cpu = ~0u;
	CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && (int)cpu < online);

	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, spinner, (void *)i) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	printf("parallel: two threads ran at once on two CPUs\n");
	return check_done();
}
