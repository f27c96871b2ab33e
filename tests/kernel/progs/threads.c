/* SPDX-License-Identifier: BSD-3-Clause */
/* pthreads: 64 threads created and joined, a contended mutex, condition variables, a barrier,
 * thread-local storage, a detached thread, a thread ending while others run. */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#define NTHREADS 64
#define ROUNDS	 200

static __thread int tls_value = 7;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static long counter;
static int turn, detached_done, tid_differs;

static void *worker(void *arg)
{
	long id = (long)arg;
	tls_value = (int)id * 3;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		if (i % 100 == 0)
			sched_yield();
		pthread_mutex_unlock(&lock);
	}
	if (syscall(SYS_gettid) != getpid())
		__atomic_add_fetch(&tid_differs, 1, __ATOMIC_SEQ_CST);
	return (void *)(long)(tls_value == (int)id * 3);
}

/* Threads take turns in order, each waiting on the condition for its number. */
static void *taker(void *arg)
{
	long id = (long)arg;
	pthread_mutex_lock(&lock);
	while (turn != id)
		pthread_cond_wait(&cond, &lock);
	turn++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *at_barrier(void *arg)
{
	int r = pthread_barrier_wait(&barrier);
	return (void *)(long)(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
}

static void *detached(void *arg)
{
	pthread_mutex_lock(&lock);
	detached_done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *spinner(void *arg)
{
	volatile int *stop = arg;
	while (!*stop)
		sched_yield();
	return NULL;
}

/* Floating point across preemption: a long loop keeps its values in SSE registers while
 * the timer switches between the threads; each must end as it does alone. */
static double fp_series(double seed)
{
	double acc = seed;
	for (int i = 1; i <= 3000000; i++)
		acc = acc * 0.999999 + seed / i;
	return acc;
}

static double fp_expected[4];
static volatile int spin_a, spin_b;

/* Spins without a system call until main answers: only preemption lets main run on one CPU. */
static void *spin_partner(void *arg)
{
	spin_a = 1;
	while (!spin_b)
		;
	return NULL;
}

static void *fp_worker(void *arg)
{
	long i = (long)arg;
	return (void *)(long)(fp_series((double)i + 0.25) == fp_expected[i]);
}

static void *sleeper(void *arg)
{
	for (;;)
		pause(); /* a cancellation point */
	return NULL;
}

static void *quitter(void *arg)
{
	pthread_exit((void *)42);
}

int main(void)
{
	pthread_t t[NTHREADS];
	void *ret;
	int ok = 0;

	/* small stacks: under nested KVM with shadow paging every page table
	 * write of a default 8 MiB stack mapping is a slow exit */
	pthread_attr_t small;
	pthread_attr_init(&small);
	pthread_attr_setstacksize(&small, 128 << 10);
	for (long i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], &small, worker, (void *)i) == 0);
	for (int i = 0; i < NTHREADS; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		ok += ret == (void *)1;
	}
	CHECK(ok == NTHREADS);
	CHECK(counter == (long)NTHREADS * ROUNDS);
	CHECK(tid_differs == NTHREADS);
	CHECK(tls_value == 7);
	printf("threads: %d joined, counter %ld\n", NTHREADS, counter);

	for (long i = 7; i >= 0; i--)
		CHECK(pthread_create(&t[i], NULL, taker, (void *)i) == 0);
	for (int i = 0; i < 8; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK(turn == 8);
	printf("threads: condition variable turns %d\n", turn);

	CHECK(pthread_barrier_init(&barrier, NULL, 5) == 0);
	for (long i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, at_barrier, NULL) == 0);
	CHECK(at_barrier(NULL) == (void *)1);
	for (int i = 0; i < 4; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		CHECK(ret == (void *)1);
	}
	pthread_barrier_destroy(&barrier);
	printf("threads: barrier of 5 passed\n");

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	CHECK(pthread_create(&t[0], &attr, detached, NULL) == 0);
	pthread_mutex_lock(&lock);
	while (!detached_done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	printf("threads: detached thread ran\n");

	volatile int stop = 0;
	CHECK(pthread_create(&t[0], NULL, spinner, (void *)&stop) == 0);
	CHECK(pthread_create(&t[1], NULL, quitter, NULL) == 0);
	CHECK(pthread_join(t[1], &ret) == 0 && ret == (void *)42);
	stop = 1;
	CHECK(pthread_join(t[0], NULL) == 0);
	printf("threads: pthread_exit while another runs\n");

	CHECK(pthread_create(&t[0], NULL, spin_partner, NULL) == 0);
	while (!spin_a)
		;
	spin_b = 1;
	CHECK(pthread_join(t[0], NULL) == 0);
	printf("threads: two spinning threads both ran\n");

	for (long i = 0; i < 4; i++)
		fp_expected[i] = fp_series((double)i + 0.25);
	for (long i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, fp_worker, (void *)i) == 0);
	for (int i = 0; i < 4; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		CHECK(ret == (void *)1);
	}
	printf("threads: floating point kept across preemption\n");

	CHECK(pthread_create(&t[0], NULL, sleeper, NULL) == 0);
	usleep(20000);
	CHECK(pthread_cancel(t[0]) == 0);
	CHECK(pthread_join(t[0], &ret) == 0 && ret == PTHREAD_CANCELED);
	printf("threads: pthread_cancel of a thread in pause\n");
	return check_done();
}
