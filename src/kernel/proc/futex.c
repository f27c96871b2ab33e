/* SPDX-License-Identifier: BSD-3-Clause */
/* futex(2): waiting on a user word, waking, requeueing; the robust list at thread exit. */
#include "../sys/sys.h"
#include "task.h"

#define FUTEX_WAIT	     0
#define FUTEX_WAKE	     1
#define FUTEX_REQUEUE	     3
#define FUTEX_CMP_REQUEUE    4
#define FUTEX_WAKE_OP	     5
#define FUTEX_WAIT_BITSET    9
#define FUTEX_WAKE_BITSET    10
#define FUTEX_PRIVATE	     128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAITERS	     0x80000000u
#define FUTEX_OWNER_DIED     0x40000000u
#define FUTEX_TID_MASK	     0x3fffffffu
#define ROBUST_LIST_LIMIT    2048

/*
 * A futex is its user address in an address space: after fork, parent and
 * child have the same addresses over different pages, and a wake in one must
 * not take the other's waiters.  A word in a page of a MAP_SHARED mapping (a file's,
 * a memfd's or anonymous) is everyone's (futex_mm NULL), as such mappings sit
 * where they were made before a fork.  The waiters are the sleeping tasks with futex_addr set; the
 * scan over them is short next to a context switch.
 */
static struct mm *futex_space(uint64_t uaddr)
{
	return vm_has_shared(uaddr, 4) ? NULL : current->proc->mm;
}

static bool waits_on(const struct task *t, uint64_t uaddr, const struct mm *space)
{
	return t->state == T_SLEEP && t->futex_addr == uaddr && t->futex_mm == space;
}

int futex_wake(uint64_t uaddr, int n, uint32_t bitset)
{
	int woken = 0;
	struct mm *space = futex_space(uaddr);
	for (struct task *t = task_list; t && woken < n; t = t->next_all)
		if (waits_on(t, uaddr, space) && (t->futex_bitset & bitset)) {
			t->futex_addr = 0;
			task_wake(t, W_WOKEN);
			woken++;
		}
	return woken;
}

static int futex_requeue(uint64_t uaddr, uint64_t uaddr2, int nwake, int nmove)
{
	int done = futex_wake(uaddr, nwake, ~0u);
	int moved = 0;
	struct mm *space = futex_space(uaddr), *space2 = futex_space(uaddr2);
	for (struct task *t = task_list; t && moved < nmove; t = t->next_all)
		if (waits_on(t, uaddr, space)) {
			t->futex_addr = uaddr2;
			t->futex_mm = space2;
			moved++;
		}
	return done + moved;
}

static bool word_ok(uint64_t uaddr)
{
	return !(uaddr & 3) && vm_user_ok(uaddr, 4);
}

static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	if (*(volatile uint32_t *)uaddr != val)
		return -EAGAIN;
	current->futex_addr = uaddr;
	current->futex_mm = futex_space(uaddr);
	current->futex_bitset = bitset;
	enum wake_reason why = task_sleep(deadline, true);
	current->futex_addr = 0;
	if (why == W_TIMEOUT)
		return -ETIMEDOUT;
	if (why == W_SIGNAL)
		return -ERESTARTSYS;
	return 0;
}

/* A deadline in time_ns from a user timespec: relative, or absolute on the given clock. */
static long timeout_deadline(uint64_t uts, bool absolute, bool realtime, uint64_t *deadline)
{
	*deadline = 0;
	if (!uts)
		return 0;
	UOK(uts, sizeof(struct linux_timespec));
	const struct linux_timespec *ts = (const struct linux_timespec *)uts;
	if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)ts->sec * 1000000000 + (uint64_t)ts->nsec;
	uint64_t now = time_ns();
	if (absolute) {
		int64_t mono = (int64_t)ns - (realtime ? time_realtime_offset() : 0);
		*deadline = mono > (int64_t)now ? (uint64_t)mono : now;
	} else {
		*deadline = now + ns;
	}
	if (!*deadline)
		*deadline = 1;
	return 0;
}

/* FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, arg); wake on uaddr, and on uaddr2 if the old value passes
 * the compare. */
static long futex_wake_op(uint64_t uaddr, int nwake, uint64_t uaddr2, int nwake2, uint32_t v3)
{
	if (!word_ok(uaddr2))
		return -EFAULT;
	unsigned op = (v3 >> 28) & 7, cmp = (v3 >> 24) & 15;
	int32_t oparg = (int32_t)(v3 << 8) >> 20, cmparg = (int32_t)(v3 << 20) >> 20;
	if (v3 & (8u << 28))
		oparg = oparg >= 0 && oparg < 32 ? 1 << oparg : 0;
	volatile int32_t *w = (volatile int32_t *)uaddr2;
	int32_t old = *w;
	switch (op) {
	case 0:
		*w = oparg;
		break;
	case 1:
		*w = (int32_t)((uint32_t)old + (uint32_t)oparg);
		break;
	case 2:
		*w = old | oparg;
		break;
	case 3:
		*w = old & ~oparg;
		break;
	case 4:
		*w = old ^ oparg;
		break;
	default:
		return -ENOSYS;
	}
	bool hit;
	switch (cmp) {
	case 0:
		hit = old == cmparg;
		break;
	case 1:
		hit = old != cmparg;
		break;
	case 2:
		hit = old < cmparg;
		break;
	case 3:
		hit = old <= cmparg;
		break;
	case 4:
		hit = old > cmparg;
		break;
	case 5:
		hit = old >= cmparg;
		break;
	default:
		return -ENOSYS;
	}
	int n = futex_wake(uaddr, nwake, ~0u);
	if (hit)
		n += futex_wake(uaddr2, nwake2, ~0u);
	return n;
}

SYSCALL6(futex, uint64_t, uaddr, long, op, uint32_t, val, uint64_t, utime, uint64_t, uaddr2,
	 uint32_t, val3)
{
	int cmd = (int)(op & ~(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME));
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	uint64_t deadline;
	long r;
	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	if (!word_ok(uaddr))
		return uaddr & 3 ? -EINVAL : -EFAULT;
	/* the count arguments are ints; REQUEUE passes its second count in the timeout's place */
	int n = (int)val, n2 = (int)(uint32_t)utime;
	switch (cmd) {
	case FUTEX_WAIT:
		if ((r = timeout_deadline(utime, false, false, &deadline)))
			return r;
		return futex_wait(uaddr, val, deadline, ~0u);
	case FUTEX_WAIT_BITSET:
		if (!val3)
			return -EINVAL;
		if ((r = timeout_deadline(utime, true, realtime, &deadline)))
			return r;
		return futex_wait(uaddr, val, deadline, val3);
	case FUTEX_WAKE:
		return futex_wake(uaddr, n < 0 ? 0 : n, ~0u);
	case FUTEX_WAKE_BITSET:
		if (!val3)
			return -EINVAL;
		return futex_wake(uaddr, n < 0 ? 0 : n, val3);
	case FUTEX_CMP_REQUEUE:
		if (*(volatile uint32_t *)uaddr != val3)
			return -EAGAIN;
		/* fall through */
	case FUTEX_REQUEUE:
		if (n < 0 || n2 < 0)
			return -EINVAL;
		if (!word_ok(uaddr2))
			return uaddr2 & 3 ? -EINVAL : -EFAULT;
		return futex_requeue(uaddr, uaddr2, n, n2);
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, n < 0 ? 0 : n, uaddr2, n2 < 0 ? 0 : n2, val3);
	}
	return -ENOSYS; /* the PI futexes, FUTEX_FD */
}

/* One robust futex of a dying thread: mark it OWNER_DIED and wake a waiter. */
static void robust_release(uint64_t uaddr, int tid)
{
	if (!word_ok(uaddr))
		return;
	volatile uint32_t *w = (volatile uint32_t *)uaddr;
	uint32_t v = *w;
	if ((v & FUTEX_TID_MASK) != (uint32_t)tid)
		return;
	*w = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	if (v & FUTEX_WAITERS)
		futex_wake(uaddr, 1, ~0u);
}

/* The robust list (struct robust_list_head: next, futex_offset, list_op_pending). */
void robust_list_exit(struct task *t)
{
	uint64_t head = t->robust_list;
	if (!head || !vm_user_ok(head, 24))
		return;
	const uint64_t *h = (const uint64_t *)head;
	int64_t off = (int64_t)h[1];
	uint64_t pending = h[2];
	uint64_t e = h[0];
	for (int i = 0; e != head && i < ROBUST_LIST_LIMIT; i++) {
		if (!vm_user_ok(e & ~1ul, 8))
			break;
		uint64_t next = *(const uint64_t *)(e & ~1ul);
		if ((e & ~1ul) != pending)
			robust_release((e & ~1ul) + (uint64_t)off, t->tid);
		e = next;
	}
	if (pending)
		robust_release((pending & ~1ul) + (uint64_t)off, t->tid);
}

SYSCALL2(set_robust_list, uint64_t, head, size_t, len)
{
	if (len != 24)
		return -EINVAL;
	current->robust_list = head;
	current->robust_len = len;
	return 0;
}

SYSCALL3(get_robust_list, long, tid, uint64_t, uhead, uint64_t, ulen)
{
	struct task *t = tid ? task_by_tid(tid) : current;
	if (!t)
		return -ESRCH;
	UOK(uhead, 8);
	UOK(ulen, 8);
	*(uint64_t *)uhead = t->robust_list;
	*(uint64_t *)ulen = 24;
	return 0;
}
