/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A private futex belongs to its process: after fork, parent and child wait on
 * the same address in two address spaces, and a wake in the parent wakes the
 * parent's waiter only (as when a program full of threads, like beam.smp, forks).
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static uint32_t word, started;
static long thread_result = 99;

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *t)
{
	return syscall(SYS_futex, uaddr, op, val, t, NULL, 0);
}

/* The parent's waiter: 0 when woken, ETIMEDOUT when nobody woke it in 3 s. */
static void *parent_waiter(void *arg)
{
	struct timespec t = {3, 0};
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &t);
	thread_result = r == 0 ? 0 : errno;
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000};
	nanosleep(&ts, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, parent_waiter, NULL) == 0);
	while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST))
		sched_yield();
	sleep_ms(50);

	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* the child waits on its own copy of the word; only its timeout may end the wait */
		struct timespec t = {1, 0};
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &t);
		_exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	sleep_ms(100); /* the child is in its wait */

	CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL) == 1);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(thread_result == 0);
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("futexfork: a wake in the parent woke the parent's waiter, not the child's\n");
	return check_done();
}
