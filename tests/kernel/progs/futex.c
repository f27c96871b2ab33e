/* SPDX-License-Identifier: BSD-3-Clause */
/* Raw futex(2): wait and wake, bitsets, timeouts on both clocks, requeue, wake-op, errors. */
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* <linux/futex.h>, which musl's headers lack */
#define FUTEX_WAIT		  0
#define FUTEX_WAKE		  1
#define FUTEX_CMP_REQUEUE	  4
#define FUTEX_WAKE_OP		  5
#define FUTEX_WAIT_BITSET	  9
#define FUTEX_WAKE_BITSET	  10
#define FUTEX_PRIVATE_FLAG	  128
#define FUTEX_CLOCK_REALTIME	  256
#define FUTEX_WAIT_PRIVATE	  (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE	  (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY	  0xffffffffu
#define FUTEX_OP_ADD		  1
#define FUTEX_OP_OR		  2
#define FUTEX_OP_CMP_EQ		  0
#define FUTEX_OP_CMP_GT		  4
#define FUTEX_OP(op, oparg, cmp, cmparg)                                                           \
	((((op)&0xf) << 28) | (((cmp)&0xf) << 24) | (((oparg)&0xfff) << 12) | ((cmparg)&0xfff))

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *t, uint32_t *uaddr2,
		  uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, t, uaddr2, val3);
}

static uint32_t word, word2, started;

static void *waiter(void *arg)
{
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0)
		futex(&word, FUTEX_WAIT, 0, NULL, NULL, 0);
	return NULL;
}

/* waits on word2 once; returns 1 when a wake (not a timeout) ended the wait */
static void *bit_waiter(void *arg)
{
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	long r = futex(&word2, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, (uint32_t)(long)arg);
	return (void *)(long)(r == 0 || errno == EAGAIN);
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void wait_started(uint32_t n)
{
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < n)
		sched_yield();
	usleep(20000); /* let them reach the futex: a late one sees EAGAIN, which they accept */
}

int main(void)
{
	uint32_t v = 5;
	struct timespec rel = {0, 30 * 1000000};

	/* errors */
	CHECK(futex(&v, FUTEX_WAIT, 4, NULL, NULL, 0) == -1 && errno == EAGAIN);
	CHECK(futex((uint32_t *)((char *)&v + 1), FUTEX_WAIT, 5, NULL, NULL, 0) == -1 &&
	      errno == EINVAL);
	CHECK(futex(&v, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0) == -1 && errno == EINVAL);
	struct timespec bad = {0, 1000000000};
	CHECK(futex(&v, FUTEX_WAIT, 5, &bad, NULL, 0) == -1 && errno == EINVAL);
	CHECK(futex(&v, FUTEX_WAKE, 1, NULL, NULL, 0) == 0);

	/* relative timeout (FUTEX_WAIT, monotonic) */
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	CHECK(futex(&v, FUTEX_WAIT_PRIVATE, 5, &rel, NULL, 0) == -1 && errno == ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 30000000);

	/* absolute timeouts (FUTEX_WAIT_BITSET) on CLOCK_MONOTONIC and CLOCK_REALTIME */
	for (int rt = 0; rt < 2; rt++) {
		clockid_t c = rt ? CLOCK_REALTIME : CLOCK_MONOTONIC;
		uint64_t end = now_ns(c) + 20000000;
		struct timespec abs = {(time_t)(end / 1000000000), (long)(end % 1000000000)};
		CHECK(futex(&v, FUTEX_WAIT_BITSET | (rt ? FUTEX_CLOCK_REALTIME : 0), 5, &abs, NULL,
			    FUTEX_BITSET_MATCH_ANY) == -1 &&
		      errno == ETIMEDOUT);
		CHECK(now_ns(c) >= end);
		struct timespec past = {1, 0};
		CHECK(futex(&v, FUTEX_WAIT_BITSET | (rt ? FUTEX_CLOCK_REALTIME : 0), 5, &past, NULL,
			    FUTEX_BITSET_MATCH_ANY) == -1 &&
		      errno == ETIMEDOUT);
	}
	printf("futex: EAGAIN, EINVAL and timeouts as Linux\n");

	/* wake: four waiters, woken all at once */
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, waiter, NULL) == 0);
	wait_started(4);
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	long woken = futex(&word, FUTEX_WAKE, 10, NULL, NULL, 0);
	CHECK(woken >= 0 && woken <= 4);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(t[i], NULL) == 0);

	/* bitsets: a wake for bit 1 leaves the bit-2 waiter asleep */
	started = 0;
	CHECK(pthread_create(&t[0], NULL, bit_waiter, (void *)1L) == 0);
	CHECK(pthread_create(&t[1], NULL, bit_waiter, (void *)2L) == 0);
	wait_started(2);
	CHECK(futex(&word2, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 1) == 1);
	void *r;
	CHECK(pthread_join(t[0], &r) == 0 && r == (void *)1);
	CHECK(futex(&word2, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 2) == 1);
	CHECK(pthread_join(t[1], &r) == 0 && r == (void *)1);
	printf("futex: wake and bitset wake\n");

	/* requeue: two waiters on word2 move to word; CMP_REQUEUE checks the value */
	word2 = 0;
	started = 0;
	word = 0;
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, bit_waiter, (void *)-1L) == 0);
	wait_started(2);
	CHECK(futex(&word2, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)1L, &word, 7) == -1 &&
	      errno == EAGAIN);
	CHECK(futex(&word2, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)10L, &word, 0) == 2);
	CHECK(futex(&word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0) == 0);
	CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0) == 2);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);

	/* wake-op: word2 += 1 (old 0), wake on word, and on word2 since old == 0 */
	word2 = 0;
	CHECK(futex(&word, FUTEX_WAKE_OP, 1, (void *)1L, &word2,
		    FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)) == 0);
	CHECK(word2 == 1);
	CHECK(futex(&word, FUTEX_WAKE_OP, 1, (void *)1L, &word2,
		    FUTEX_OP(FUTEX_OP_OR, 2, FUTEX_OP_CMP_GT, 5)) == 0);
	CHECK(word2 == 3);
	printf("futex: requeue and wake-op\n");
	return check_done();
}
