/* SPDX-License-Identifier: BSD-3-Clause */
/* Tasks and the scheduler: round robin, preemptive in user mode (local APIC timer), idle by HLT. */
#include "task.h"

#define KSTACK_PAGES 8 /* as the boot stack: execve walks paths with 4 KiB buffers on it */
#define SLICE_NS     10000000ull /* 10 ms, as Linux's CFS gives a CPU-bound task about */

struct proc proc = {.pid = 1, .nthreads = 1, .ntasks = 1, .pgid = 1, .sid = 1, .umask = 022};
static struct task boot_task;
struct task *task_list = &boot_task;
static struct task *run_head, *run_tail;
static struct task *zombies; /* ended tasks whose stacks are freed by the next task to run */
static int next_tid = 2;

/*
 * The user FPU state: FXSAVE's 512 bytes (x87 and SSE; cpu.c leaves AVX off,
 * for the reason it gives).  A CPU's registers hold the state of its
 * fpu_owner, which every switch makes the next task; a task switched out
 * has its state saved, so it can resume on any CPU.  Lazy switching by CR0.TS (fpu_trap on
 * #NM) is kept for the day it can be used: under nested KVM (kvm_pvm) a
 * thread's FPU state came out wrong with it, so TS is never set for now.
 * The images go through a buffer in the kernel image (used under the kernel
 * lock), 16-byte aligned as FXSAVE wants.
 */
static uint8_t fpu_buf[512] __attribute__((aligned(64)));

static void set_ts(bool on)
{
	struct cpu *c = this_cpu();
	if (on == c->ts_set)
		return;
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = on ? cr0 | 8 : cr0 & ~8ul;
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	c->ts_set = on;
}

static void fxsave_live(uint8_t *area)
{
	__asm__ volatile("fxsave64 (%0)" ::"r"(fpu_buf) : "memory");
	memcpy(area, fpu_buf, sizeof(fpu_buf));
}

static void fxrstor_live(const uint8_t *area)
{
	memcpy(fpu_buf, area, sizeof(fpu_buf));
	__asm__ volatile("fxrstor64 (%0)" ::"r"(fpu_buf) : "memory");
}

/* Make the registers hold current's state. */
static void fpu_take(void)
{
	struct cpu *c = this_cpu();
	set_ts(false);
	if (c->fpu_owner == current)
		return;
	if (c->fpu_owner)
		fxsave_live(c->fpu_owner->fpu);
	fxrstor_live(current->fpu);
	c->fpu_owner = current;
}

void fpu_trap(void)
{
	fpu_take();
}

void fpu_save_to(void *dst)
{
	fpu_take();
	fxsave_live(dst);
}

/* Load a user-supplied image: MXCSR bits the CPU lacks would fault FXRSTOR. */
void fpu_load_from(const void *src)
{
	uint32_t mask;
	fpu_take();
	__asm__ volatile("fxsave64 (%0)" ::"r"(fpu_buf) : "memory");
	memcpy(&mask, fpu_buf + 28, 4);
	memcpy(fpu_buf, src, sizeof(fpu_buf));
	uint32_t mxcsr;
	memcpy(&mxcsr, fpu_buf + 24, 4);
	mxcsr &= mask ? mask : 0xffbf;
	memcpy(fpu_buf + 24, &mxcsr, 4);
	__asm__ volatile("fxrstor64 (%0)" ::"r"(fpu_buf) : "memory");
}

static void fpu_forget(struct task *t)
{
	if (this_cpu()->fpu_owner == t)
		this_cpu()->fpu_owner = NULL;
}

static void idle_first(void) NORETURN;

/* A CPU's idle task: not in task_list, no user state; switching to it first starts idle_first. */
struct task *sched_new_idle(void)
{
	struct task *t = kzalloc(sizeof(*t));
	uint64_t ks = pmm_alloc_raw(KSTACK_PAGES);
	if (!t || !ks) {
		kfree(t);
		if (ks)
			pmm_free(ks, KSTACK_PAGES);
		return NULL;
	}
	t->proc = &proc;
	t->kstack = p2v(ks);
	t->kstack_top = (uint64_t)t->kstack + KSTACK_PAGES * PAGE_SIZE;
	memcpy(t->name, "idle", 5);
	/* what switch_to pops: six callee-saved registers, then the return address */
	uint64_t *sp = (uint64_t *)t->kstack_top - 8;
	memset(sp, 0, 8 * sizeof(*sp));
	sp[6] = (uint64_t)idle_first;
	t->ksp = (uint64_t)sp;
	return t;
}

void sched_init(void)
{
	struct cpu *c = this_cpu();
	boot_task.tid = 1;
	boot_task.proc = &proc;
	boot_task.affinity = ~0ull; /* every CPU, the ones still to start too */
	proc.mm = vm_current();
	boot_task.kstack_top = c->kstack_top;
	boot_task.fpu = p2v(pmm_alloc(1));
	c->idle_task = sched_new_idle();
	if (!v2p(boot_task.fpu) || !c->idle_task)
		panic("out of memory for the first task");
	memcpy(boot_task.name, "main", 5);
	boot_task.last_in = rdtsc();
	boot_task.cpu = c;
	c->fpu_owner = &boot_task;
	current = &boot_task;
}

struct task *task_by_tid(long tid)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->tid == tid && t->state != T_DEAD)
			return t;
	return NULL;
}

/* Something else can run: the running task's slice must end (a timer at most SLICE_NS away). */
static void slice_timer(void)
{
	uint64_t end = time_ns() + SLICE_NS;
	if (!lapic_armed_by(end))
		lapic_oneshot(SLICE_NS);
}

/* Whether t may run on CPU c (sched_setaffinity). */
static bool runs_on(const struct task *t, const struct cpu *c)
{
	return t->affinity >> c->id & 1;
}

/* Where the first queued task that CPU c may run is linked (NULL: there is none). */
static struct task **runq_find(const struct cpu *c)
{
	for (struct task **p = &run_head; *p; p = &(*p)->next_run)
		if (runs_on(*p, c))
			return p;
	return NULL;
}

static struct task *runq_unlink(struct task **p)
{
	struct task *t = *p;
	*p = t->next_run;
	if (run_tail == t) /* p is the previous task's link, or run_head */
		run_tail =
		    p == &run_head
			? NULL
			: (struct task *)((char *)p - __builtin_offsetof(struct task, next_run));
	return t;
}

/*
 * A task left out of this CPU's affinity goes to a CPU it may run on: an
 * idle one, else a busy one, which the kick makes yield (sched_tick).
 */
static void runq_push(struct task *t)
{
	struct cpu *c = this_cpu();
	bool here = runs_on(t, c), others_wait = run_head != NULL;
	if (t != current && here)
		slice_timer(); /* the running task must give way within a slice */
	t->next_run = NULL;
	if (run_tail)
		run_tail->next_run = t;
	else
		run_head = t;
	run_tail = t;
	if (!here) {
		if (!cpu_kick_idle(t->affinity))
			cpu_kick_one(t->affinity);
	} else if (t != current ? current != c->idle_task : others_wait) {
		/* a halted CPU takes it now.  An idle one takes it itself, and a task that
		 * gives way here runs on when nothing else waits */
		cpu_kick_idle(t->affinity);
	}
}

/* Entered from user mode: a task queued for this CPU alone must get it within a slice. */
void sched_entered(void)
{
	struct cpu *c = this_cpu();
	if (current != c->idle_task && (runq_find(c) || !runs_on(current, c)))
		slice_timer();
}

void task_kick(struct task *t)
{
	if (t->cpu && t->cpu != this_cpu())
		cpu_kick(t->cpu);
}

/* The next task this CPU may run, off the queue (NULL: none). */
static struct task *runq_pop(void)
{
	struct task **p = runq_find(this_cpu());
	return p ? runq_unlink(p) : NULL;
}

/* A new task of the caller's process, with a copy of the caller's FPU state. */
struct task *task_new(void)
{
	struct task *t = kzalloc(sizeof(*t));
	uint64_t ks = pmm_alloc_raw(KSTACK_PAGES), fpu = pmm_alloc(1);
	if (!t || !ks || !fpu) {
		kfree(t);
		if (ks)
			pmm_free(ks, KSTACK_PAGES);
		if (fpu)
			pmm_free(fpu, 1);
		return NULL;
	}
	t->tid = next_tid++;
	t->proc = current->proc;
	t->proc->ntasks++;
	t->kstack = p2v(ks);
	t->kstack_top = (uint64_t)t->kstack + KSTACK_PAGES * PAGE_SIZE;
	t->fpu = p2v(fpu);
	fpu_save_to(t->fpu); /* the parent's state, as clone copies it */
	t->fs = current->fs;
	t->gs = current->gs;
	t->sigmask = current->sigmask;
	t->affinity = current->affinity;
	memcpy(t->name, current->name, sizeof(t->name));
	t->state = T_SLEEP;
	return t;
}

/* A task made by task_new that will not start after all. */
void task_discard(struct task *t)
{
	t->proc->ntasks--;
	pmm_free(v2p(t->kstack), KSTACK_PAGES);
	pmm_free(v2p(t->fpu), 1);
	kfree(t);
}

void task_start(struct task *t)
{
	t->proc->nthreads++;
	t->next_all = task_list;
	task_list = t;
	t->state = T_RUN;
	runq_push(t);
}

static void reap(void)
{
	while (zombies) {
		struct task *z = zombies;
		zombies = z->next_run;
		for (struct task **p = &task_list; *p; p = &(*p)->next_all)
			if (*p == z) {
				*p = z->next_all;
				break;
			}
		pmm_free(v2p(z->kstack), KSTACK_PAGES);
		pmm_free(v2p(z->fpu), 1);
		signal_forget(&z->sigq);
		z->proc->ntasks--;
		proc_free_if_done(z->proc);
		kfree(z);
	}
}

/* Charge t, running on this CPU, for its time since it got the CPU or was last charged; the
 * process's CPU timers count it (an idle task's time is nobody's). */
static void account(struct task *t)
{
	uint64_t now = rdtsc(), ns = (now - t->last_in) * 1000000000ull / time_tsc_hz();
	t->run_ns += ns;
	t->last_in = now;
	if (t != this_cpu()->idle_task)
		t->proc->cpu_ns += ns;
}

/*
 * Wake sleepers whose deadline passed; the earliest deadline still ahead (0: none).  Every
 * wait, switch and tick comes here: the power button is looked at here too, and the network
 * device's interrupt handled.
 */
static uint64_t expire(void)
{
	power_poll();
	knet_irq_work();  /* frames an interrupt announced while this CPU could not take them */
	account(current); /* up to date for the CPU timers */
	console_irq_work();
	uint64_t now = time_ns(), next = timers_expire(now);
	for (struct task *t = task_list; t; t = t->next_all) {
		if (t->state != T_SLEEP || !t->deadline)
			continue;
		if (t->deadline <= now)
			task_wake(t, W_TIMEOUT);
		else if (!next || t->deadline < next)
			next = t->deadline;
	}
	return next;
}

/* Nothing to run: HLT until the next deadline or interrupt. */
static void idle(void)
{
	uint64_t next = expire();
	if (runq_find(this_cpu()))
		return;
	uint64_t now = time_ns();
	cpu_idle(next ? (next > now ? next - now : 0) : IDLE_MAX_NS);
	console_pump(); /* typed ^C acts while every task sleeps */
	expire();
}

/*
 * The timer ends the slice of a task in user mode while others wait, wakes
 * a sleeper, or finds a CPU timer of the task about to run (runner) due.  An armed one-shot
 * that fires no later than needed is left alone (an early tick only looks again): under
 * nested KVM each write to the local APIC is a costly exit, and switches between threads are
 * frequent.
 */
static void arm_timer(const struct task *runner)
{
	uint64_t next = expire(), now = time_ns(), cpu = timers_cpu_next(runner, now);
	if (cpu && (!next || cpu < next))
		next = cpu;
	if (runq_find(this_cpu()) && (!next || next > now + SLICE_NS))
		next = now + SLICE_NS;
	if (next && !lapic_armed_by(next))
		lapic_oneshot(next > now ? next - now : 1);
}

void sched_timers_changed(void)
{
	arm_timer(current);
}

static void switch_task(struct cpu *c, struct task *prev, struct task *next)
{
	account(prev);
	/* eagerly: under nested KVM (kvm_pvm) CR0.TS does not reliably raise #NM.  The
	 * idle task has no FPU state: a task that leaves the CPU always has its saved. */
	if (c->fpu_owner && c->fpu_owner != next) {
		fxsave_live(c->fpu_owner->fpu);
		c->fpu_owner = NULL;
	}
	if (next->fpu && c->fpu_owner != next) {
		fxrstor_live(next->fpu);
		c->fpu_owner = next;
	}
	if (next != c->idle_task) {
		wrmsr(0xc0000100, next->fs);
		wrmsr(MSR_KERNEL_GS, next->gs); /* swapped in on the way to user mode */
		cpu_set_kstack(next->kstack_top);
	}
	/* The one place a process switch changes CR3.  An idle CPU holds the first
	 * address space, which is never freed: the one it leaves may be. */
	vm_switch(next == c->idle_task ? vm_first() : next->proc->mm);
	prev->cpu = NULL;
	next->cpu = c;
	current = next;
	next->last_in = rdtsc();
	switch_to(&prev->ksp, next->ksp);
}

/* glibc's sched_getcpu reads the CPU from the registered struct rseq. */
static void rseq_cpu(void)
{
	struct task *t = current;
	if (t->rseq && vm_user_ok(t->rseq, 8)) {
		((volatile uint32_t *)t->rseq)[0] = (uint32_t)this_cpu()->id;
		((volatile uint32_t *)t->rseq)[1] = (uint32_t)this_cpu()->id;
	}
}

/*
 * Give the CPU to the next runnable task, or to this CPU's idle task when
 * there is none (a sleeping task's stack must be free for the CPU that
 * wakes it); returns when current runs again, on whichever CPU.
 */
static void schedule(void)
{
	struct cpu *c = this_cpu();
	struct task *prev = current, *next = runq_pop();
	if (!next)
		next = c->idle_task;
	else
		arm_timer(next); /* here: a new task goes from switch_to straight to user mode */
	if (next != prev)
		switch_task(c, prev, next);
	reap();
	rseq_cpu();
}

/* The idle task: run what becomes runnable, else halt. */
static void idle_loop(void) NORETURN;
static void idle_loop(void)
{
	for (;;) {
		if (runq_find(this_cpu()))
			schedule();
		else
			idle();
	}
}

static void idle_first(void)
{
	reap();
	idle_loop();
}

void sched_start_cpu(void)
{
	klock_acquire();
	idle_loop();
}

void sched_yield_cpu(void)
{
	runq_push(current);
	schedule();
}

/*
 * sched_yield: when no task this CPU may run waits, the caller goes on at
 * once, without a trip through the queue, the timers and the scheduler (an
 * Erlang VM's schedulers yield thousands of times while it boots).
 */
void sched_yield_call(void)
{
	struct cpu *c = this_cpu();
	if (runq_find(c) || !runs_on(current, c))
		sched_yield_cpu();
}

/* A stop that comes during an interruptible sleep stops the task there (signal.c); after
 * SIGCONT it is woken: what it waits for may have come meanwhile, or since the continue, and
 * nothing would wake it again for that, so the caller looks and sleeps again if need be. */
enum wake_reason task_sleep(uint64_t deadline, bool interruptible)
{
	struct task *t = current;
	bool woken = false;
	t->deadline = deadline;
	t->interruptible = interruptible;
	t->wake = W_NONE;
	t->state = T_SLEEP;
	if (deadline && deadline <= time_ns())
		task_wake(t, W_TIMEOUT);
	else if (interruptible && signal_pending(t))
		task_wake(t, W_SIGNAL);
	schedule();
	if (t->wake == W_SIGNAL && signal_stop_in_place(&woken))
		return W_WOKEN;
	return t->wake;
}

void task_wake(struct task *t, enum wake_reason why)
{
	if (t->state != T_SLEEP)
		return;
	if (why == W_SIGNAL && !t->interruptible)
		return;
	t->wake = why;
	t->state = T_RUN;
	t->deadline = 0;
	runq_push(t);
}

/* A preempted thread inside an rseq critical section resumes at its abort handler. */
static void rseq_abort(struct task *t, uint64_t *rip)
{
	if (!t->rseq || !vm_user_ok(t->rseq + 8, 8))
		return;
	uint64_t csp = *(volatile uint64_t *)(t->rseq + 8);
	if (!csp || !vm_user_ok(csp, 32))
		return;
	const uint64_t *cs = (const uint64_t *)csp; /* version+flags, start, length, abort */
	if (*rip - cs[1] < cs[2]) {
		*rip = cs[3];
		*(volatile uint64_t *)(t->rseq + 8) = 0;
	}
}

void sched_tick(uint64_t *user_rip)
{
	expire();
	struct cpu *c = this_cpu();
	if (runq_find(c) || !runs_on(current, c)) {
		rseq_abort(current, user_rip);
		sched_yield_cpu();
	} else {
		arm_timer(current);
	}
}

/* A thread of current's process still in user mode on another CPU, though ended. */
static bool dead_running(void)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->state == T_DEAD && t->cpu && t != current && t->proc == current->proc)
			return true;
	return false;
}

void task_exec_alone(void)
{
	struct task *keep = NULL, *others = NULL, **tail = &others, *t;
	while (run_head) /* the queue keeps current and other processes' tasks */
		if ((t = runq_unlink(&run_head)) == current) {
			keep = t;
		} else if (t->proc != current->proc) {
			*tail = t;
			tail = &t->next_run;
		}
	*tail = NULL;
	while ((t = others)) {
		others = t->next_run;
		runq_push(t);
	}
	for (t = task_list; t; t = t->next_all)
		if (t != current && t->state != T_DEAD && t->proc == current->proc) {
			t->state = T_DEAD;
			fpu_forget(t);
			t->proc->nthreads--;
			if (t->cpu) { /* it ends itself on its next entry (klock_enter) */
				task_kick(t);
				continue;
			}
			if (t->kstack) {
				t->next_run = zombies;
				zombies = t;
			}
		}
	if (keep)
		runq_push(keep);
	reap();
	/* the old address space goes next: those threads must have left user mode */
	while (dead_running())
		klock_yield(); /* an execve in yet another thread may end this one there */
}

void task_reap_self(void)
{
	struct task *t = current;
	fpu_forget(t);
	if (t->kstack) { /* the boot task's static stack is never freed */
		t->next_run = zombies;
		zombies = t;
	}
	schedule();
	panic("an ended task ran again");
}

void task_exit(void)
{
	struct task *t = current;
	if (--t->proc->nthreads == 0 && t->proc->state == P_LIVE)
		proc_exit(0); /* not reached: exit() ends the last thread with its status */
	robust_list_exit(t);
	if (t->clear_child_tid && vm_user_ok(t->clear_child_tid, 4)) {
		*(uint32_t *)t->clear_child_tid = 0;
		futex_wake(t->clear_child_tid, 1, ~0u);
	}
	t->state = T_DEAD;
	fpu_forget(t);
	t->next_run = zombies;
	zombies = t;
	if (!t->kstack) /* the boot task's static stack is never freed */
		zombies = t->next_run;
	schedule();
	panic("an ended task ran again");
}

int sched_ncpus(void)
{
	return ncpus;
}

uint64_t sched_cpu_mask(void)
{
	return ncpus >= 64 ? ~0ull : (1ull << ncpus) - 1;
}

/* As Linux: a task running where it may no longer run moves at once, and a queued one is
 * taken by a CPU it may now run on (a halted one would look only after IDLE_MAX_NS). */
void task_set_affinity(struct task *t, uint64_t mask)
{
	t->affinity = mask;
	if (t == current && !runs_on(t, this_cpu()))
		sched_yield_cpu();
	else if (t->cpu && !runs_on(t, t->cpu))
		task_kick(t); /* it yields on the kick (sched_tick) */
	else if (t->state == T_RUN && !t->cpu && !cpu_kick_idle(mask)) {
		if (runs_on(t, this_cpu()))
			slice_timer(); /* this CPU's task gives way within a slice */
		else
			cpu_kick_one(mask);
	}
}

uint64_t sched_cpu_ns(void)
{
	account(current);
	return current->proc->cpu_ns;
}

void task_save_fs(uint64_t fs)
{
	current->fs = fs;
	wrmsr(0xc0000100, fs);
}

void task_save_gs(uint64_t gs)
{
	current->gs = gs;
	wrmsr(MSR_KERNEL_GS, gs); /* swapped in on the way to user mode */
}
