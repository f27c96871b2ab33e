/* SPDX-License-Identifier: BSD-3-Clause */
/* The thread calls: clone, clone3, exit, identity, affinity, prctl, CPU time. */
#include "../sys/sys.h"
#include "task.h"

/* what a new thread must and may ask for; what a new process may */
#define THREAD_NEEDS (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_MAY                                                                                 \
	(THREAD_NEEDS | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS |                    \
	 CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID |        \
	 CLONE_IO | 0xfful)
#define PROC_MAY                                                                                   \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_VFORK | CLONE_SYSVSEM | CLONE_SETTLS |          \
	 CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID |        \
	 CLONE_IO | CLONE_CLEAR_SIGHAND | 0xfful)

/*
 * A new task's kernel stack holds a copy of the caller's syscall frame (RAX
 * 0, the new stack) under a switch_to frame whose return address is the
 * syscall exit path: the first switch to it returns to user mode as if from
 * this very clone.
 */
void clone_frame(struct task *t, const struct sysframe *fr, uint64_t sp)
{
	struct sysframe *cf = (struct sysframe *)(t->kstack_top - sizeof(*cf));
	*cf = *fr;
	cf->rax = 0;
	if (sp)
		cf->rsp = sp;
	uint64_t *ks = (uint64_t *)cf;
	*--ks = (uint64_t)syscall_exit;
	for (int i = 0; i < 6; i++) /* rbp rbx r12..r15 */
		*--ks = 0;
	t->ksp = (uint64_t)ks;
}

long clone_check(uint64_t flags, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	if (flags & (CLONE_THREAD | CLONE_SIGHAND)) {
		if ((flags & THREAD_NEEDS) != THREAD_NEEDS || (flags & ~THREAD_MAY))
			return -EINVAL;
	} else if ((flags & ~PROC_MAY) || (flags & 0xff) > NSIG) {
		return -EINVAL;
	}
	if (flags & CLONE_PARENT_SETTID)
		UOK(ptid, 4);
	if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID))
		UOK(ctid, 4);
	if (flags & CLONE_SETTLS && tls >= 0x800000000000ul)
		return -EPERM;
	return 0;
}

/* A new thread of the caller's process, or (without CLONE_THREAD) a new process. */
static long clone_thread(struct sysframe *fr, uint64_t flags, uint64_t sp, uint64_t ptid,
			 uint64_t ctid, uint64_t tls)
{
	long r = clone_check(flags, ptid, ctid, tls);
	if (r)
		return r;
	if (!(flags & (CLONE_THREAD | CLONE_SIGHAND)))
		return proc_clone(fr, flags, sp, ptid, ctid, tls); /* fork, vfork, posix_spawn */
	struct task *t = task_new();
	if (!t)
		return -EAGAIN;
	clone_frame(t, fr, sp);
	if (flags & CLONE_SETTLS)
		t->fs = tls;
	if (flags & CLONE_PARENT_SETTID)
		*(int32_t *)ptid = t->tid;
	if (flags & CLONE_CHILD_SETTID)
		*(int32_t *)ctid = t->tid;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;
	task_start(t);
	return t->tid;
}

/* clone(flags, stack, parent_tid, child_tid, tls): the x86-64 argument order */
SYSCALL_FRAME(clone, 5)
{
	return clone_thread(fr, SYS_A0, SYS_A1, SYS_A2, SYS_A3, SYS_A4);
}

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

SYSCALL_FRAME(clone3, 2)
{
	struct clone_args a = {0};
	uint64_t size = SYS_A1;
	if (size < 64 || size > PAGE_SIZE)
		return -EINVAL;
	UOK(SYS_A0, size);
	memcpy(&a, (void *)SYS_A0, MIN(size, sizeof(a)));
	for (uint64_t i = sizeof(a); i < size; i++) /* a newer struct: its extra fields unused */
		if (((const uint8_t *)SYS_A0)[i])
			return -E2BIG;
	if (a.exit_signal > 64 || a.set_tid_size || (a.flags & 0xff) || (!a.stack != !a.stack_size))
		return -EINVAL;
	return clone_thread(fr, a.flags | a.exit_signal, a.stack ? a.stack + a.stack_size : 0,
			    a.parent_tid, a.child_tid, a.tls);
}

/* exit ends the calling thread, and the process with the last one */
SYSCALL_FRAME(exit, 1)
{
	if (current->proc->nthreads == 1)
		proc_exit((int)(SYS_A0 & 0xff) << 8);
	task_exit();
}

SYSCALL_FRAME(exit_group, 1)
{
	proc_exit((int)(SYS_A0 & 0xff) << 8);
}

SYSCALL1(set_tid_address, uint64_t, addr)
{
	current->clear_child_tid = addr;
	return current->tid;
}

SYSCALL0(getpid)
{
	return current->proc->pid;
}

SYSCALL0(gettid)
{
	return current->tid;
}

SYSCALL0(sched_yield)
{
	sched_yield_call();
	return 0;
}

/* ---- CPUs: the affinity masks name the CPUs there are ---- */
static long task_of(long tid, struct task **t)
{
	*t = tid ? task_by_tid(tid) : current;
	return *t ? 0 : -ESRCH;
}

SYSCALL3(sched_getaffinity, long, tid, size_t, len, uint64_t, umask)
{
	struct task *t;
	long r = task_of(tid, &t);
	if (r)
		return r;
	if (len < 8 || len % 8)
		return -EINVAL;
	UOK(umask, 8);
	*(uint64_t *)umask = t->affinity & sched_cpu_mask();
	return 8;
}

/* As Linux: a shorter mask names the first CPUs, a longer one's extra CPUs are offline. */
SYSCALL3(sched_setaffinity, long, tid, size_t, len, uint64_t, umask)
{
	struct task *t;
	long r = task_of(tid, &t);
	if (r)
		return r;
	uint64_t mask = 0;
	if (len) {
		UOK(umask, MIN(len, 8));
		memcpy(&mask, (const void *)umask, MIN(len, 8));
	}
	mask &= sched_cpu_mask();
	if (!mask)
		return -EINVAL;
	task_set_affinity(t, mask);
	return 0;
}

SYSCALL3(getcpu, uint64_t, ucpu, uint64_t, unode, uint64_t, cache)
{
	if (ucpu) {
		UOK(ucpu, 4);
		*(uint32_t *)ucpu = (uint32_t)this_cpu()->id;
	}
	if (unode) {
		UOK(unode, 4);
		*(uint32_t *)unode = 0;
	}
	return 0;
}

/* ---- prctl: the thread's name, and what runtimes ask at start ---- */
#define PR_SET_PDEATHSIG       1
#define PR_GET_PDEATHSIG       2
#define PR_GET_DUMPABLE	       3
#define PR_SET_DUMPABLE	       4
#define PR_GET_KEEPCAPS	       7
#define PR_SET_KEEPCAPS	       8
#define PR_SET_NAME	       15
#define PR_GET_NAME	       16
#define PR_CAPBSET_READ	       23
#define PR_GET_TIMERSLACK      30
#define PR_SET_TIMERSLACK      29
#define PR_SET_NO_NEW_PRIVS    38
#define PR_GET_NO_NEW_PRIVS    39
#define PR_SET_CHILD_SUBREAPER 36
#define PR_GET_CHILD_SUBREAPER 37
#define PR_GET_THP_DISABLE     42
#define CAP_LAST_CAP	       40

static struct {
	int pdeathsig, dumpable, keepcaps, no_new_privs;
	uint64_t timerslack;
} prc = {0, 1, 0, 0, 50000};

SYSCALL5(prctl, long, opt, uint64_t, a2, uint64_t, a3, uint64_t, a4, uint64_t, a5)
{
	switch (opt) {
	case PR_SET_NAME: {
		char name[16];
		for (int i = 0; i < 16; i++) {
			UOK(a2 + (uint64_t)i, 1);
			name[i] = i < 15 ? ((const char *)a2)[i] : 0;
			if (!name[i])
				break;
		}
		memcpy(current->name, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME:
		UOK(a2, 16);
		memcpy((void *)a2, current->name, 16);
		((char *)a2)[15] = 0;
		return 0;
	case PR_SET_PDEATHSIG:
		if (a2 > 64)
			return -EINVAL;
		prc.pdeathsig = (int)a2;
		return 0;
	case PR_GET_PDEATHSIG:
		UOK(a2, 4);
		*(int32_t *)a2 = prc.pdeathsig;
		return 0;
	case PR_GET_DUMPABLE:
		return prc.dumpable;
	case PR_SET_DUMPABLE:
		if (a2 > 1)
			return -EINVAL;
		prc.dumpable = (int)a2;
		return 0;
	case PR_GET_KEEPCAPS:
		return prc.keepcaps;
	case PR_SET_KEEPCAPS:
		if (a2 > 1)
			return -EINVAL;
		prc.keepcaps = (int)a2;
		return 0;
	case PR_CAPBSET_READ: /* root, with every capability */
		return a2 <= CAP_LAST_CAP ? 1 : -EINVAL;
	case PR_SET_TIMERSLACK:
		prc.timerslack = a2 ? a2 : 50000;
		return 0;
	case PR_GET_TIMERSLACK:
		return (long)prc.timerslack;
	case PR_SET_NO_NEW_PRIVS:
		if (a2 != 1 || a3 || a4 || a5)
			return -EINVAL;
		prc.no_new_privs = 1;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		return prc.no_new_privs;
	case PR_SET_CHILD_SUBREAPER:
		current->proc->subreaper = a2 != 0;
		return 0;
	case PR_GET_CHILD_SUBREAPER:
		UOK(a2, 4);
		*(int32_t *)a2 = current->proc->subreaper;
		return 0;
	case PR_GET_THP_DISABLE:
		return 0;
	}
	/* PR_SET_VMA and the rest: as a kernel built without them */
	return -EINVAL;
}

/* ---- CPU time: the tasks' run time is user time; the kernel's share is not told apart ---- */
struct linux_rusage {
	struct linux_timeval utime, stime;
	int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd,
	    msgrcv, nsignals, nvcsw, nivcsw;
};

SYSCALL2(getrusage, long, who, uint64_t, uru)
{
	if (who != 0 && who != -1 && who != 1)
		return -EINVAL;
	UOK(uru, sizeof(struct linux_rusage));
	struct linux_rusage ru = {0};
	if (who != -1) { /* RUSAGE_CHILDREN: there are none */
		uint64_t ns = who == 1 ? (sched_cpu_ns(), current->run_ns) : sched_cpu_ns();
		ru.utime = (struct linux_timeval){(int64_t)(ns / 1000000000),
						  (int64_t)(ns % 1000000000 / 1000)};
		ru.maxrss = (int64_t)((pmm_total_pages() - pmm_free_pages()) * (PAGE_SIZE / 1024));
	}
	memcpy((void *)uru, &ru, sizeof(ru));
	return 0;
}

SYSCALL1(times, uint64_t, ubuf)
{
	if (ubuf) {
		UOK(ubuf, 32);
		int64_t t[4] = {(int64_t)(sched_cpu_ns() / 10000000), 0, 0, 0}; /* USER_HZ 100 */
		memcpy((void *)ubuf, t, sizeof(t));
	}
	return (long)(time_ns() / 10000000);
}
