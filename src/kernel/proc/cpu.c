/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-CPU data, the big kernel lock, wakeup kicks and TLB shootdown (the rules are in cpu.h). */
#include "cpu.h"
#include "task.h"

struct cpu cpus[MAXCPU];
int ncpus = 1;
uint32_t klock; /* 0: free; else the holder's lock_id (entry.S reads it too) */
static volatile int tlb_pending;

_Static_assert(__builtin_offsetof(struct cpu, kstack_top) == CPU_KSTACK, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct cpu, user_rsp) == CPU_USER_RSP, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct cpu, lock_id) == CPU_LOCK_ID, "entry.S offsets");

void cpu_early_init(void)
{
	struct cpu *c = &cpus[0];
	c->self = c;
	c->lock_id = 1;
	c->online = true;
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS, 0); /* the program's GS base, swapped in on the way to user mode */
	klock = c->lock_id;	 /* the boot CPU runs the kernel from the start */
}

/*
 * Wait with interrupts enabled while the lock is taken: the holder may be
 * waiting for this CPU to answer a TLB shootdown.  The handlers that can run
 * here (timer, kick, shootdown) touch only this CPU's data.  (The wait is a
 * loop, not one STI-PAUSE-CLI: TCG takes interrupts only between blocks.)
 */
void klock_acquire(void)
{
	uint32_t me = this_cpu()->lock_id;
	if (__atomic_load_n(&klock, __ATOMIC_RELAXED) == me)
		panic("kernel lock taken twice by CPU %u", me - 1);
	for (;;) {
		uint32_t free = 0;
		if (__atomic_compare_exchange_n(&klock, &free, me, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		__asm__ volatile("sti\n"
				 "1: pause\n\t"
				 "cmpl $0, %0\n\t"
				 "jne 1b\n\t"
				 "cli" ::"m"(klock)
				 : "memory");
	}
}

/* Let the CPUs waiting for the lock in (an execve waiting for them to act). */
void klock_yield(void)
{
	klock_release();
	__asm__ volatile("sti" ::: "memory");
	for (int i = 0; i < 100000 && !__atomic_load_n(&klock, __ATOMIC_RELAXED); i++)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	klock_enter();
}

void klock_release(void)
{
	__atomic_store_n(&klock, 0, __ATOMIC_RELEASE);
}

/* Every entry from user mode.  A thread that an execve in another thread
 * ended while it ran here in user mode leaves now (task_exec_alone). */
void klock_enter(void)
{
	klock_acquire();
	if (current->state == T_DEAD)
		task_reap_self();
	sched_entered(); /* a kick for a task only this CPU may run came while it waited */
}

void cpu_kick(struct cpu *c)
{
	if (c != this_cpu() && c->online)
		lapic_ipi(c->apic_id, 0x4000 | VEC_KICK); /* fixed, assert, physical */
}

bool cpu_kick_idle(uint64_t mask)
{
	for (int i = 0; i < ncpus; i++)
		if (cpus[i].idle && &cpus[i] != this_cpu() && (mask >> i & 1)) {
			cpu_kick(&cpus[i]);
			return true;
		}
	return false;
}

void cpu_kick_one(uint64_t mask)
{
	for (int i = 0; i < ncpus; i++)
		if (&cpus[i] != this_cpu() && (mask >> i & 1)) {
			cpu_kick(&cpus[i]);
			return;
		}
}

/*
 * The caller changed or removed user mappings (it holds the lock): every
 * other CPU flushes its TLB before the caller goes on, since the pages may
 * be reused at once.  The whole TLB, not page by page: shootdowns are rare
 * next to the cost of an interrupt, and so always correct whatever address
 * space each CPU runs.
 */
void tlb_shootdown(void)
{
	bool ipi[MAXCPU];
	int n = 0;
	/* once per CPU: a halted one may wake meanwhile, and must be counted as it was sent */
	for (int i = 0; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		ipi[i] = c != this_cpu() && !c->idle;
		if (c != this_cpu() && !ipi[i]) /* halted: it flushes when it wakes (cpu_idle) */
			c->tlb_stale = true;
		n += ipi[i];
	}
	tlb_pending = n;
	for (int i = 0; i < ncpus; i++)
		if (ipi[i])
			lapic_ipi(cpus[i].apic_id, 0x4000 | VEC_TLB);
	while (__atomic_load_n(&tlb_pending, __ATOMIC_ACQUIRE))
		cpu_relax();
}

void tlb_flush_stale(void)
{
	struct cpu *c = this_cpu();
	if (c->tlb_stale) {
		c->tlb_stale = false;
		__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	}
}

void tlb_flush_ipi(void)
{
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	__atomic_fetch_sub(&tlb_pending, 1, __ATOMIC_RELEASE);
	lapic_ack();
}
