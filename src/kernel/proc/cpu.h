/* SPDX-License-Identifier: BSD-3-Clause */
/* The CPUs: per-CPU data reached through GS, the big kernel lock, IPIs and TLB shootdown. */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include "../kernel.h"

/*
 * SMP the simple way: one big kernel lock.  A CPU takes it on every entry
 * from user mode (syscall, interrupt, fault) and drops it on the way back
 * to user mode and while it halts with nothing to run, so kernel code runs
 * on one CPU at a time, as it did with one CPU, and needs no other locks.
 * A CPU waiting for the lock spins with interrupts on, so that it still
 * answers TLB shootdowns and wakeup kicks.
 *
 * In kernel mode GS holds this CPU's struct cpu; in user mode the program's
 * GS base is loaded and the struct cpu waits in KERNEL_GS_BASE (SWAPGS on
 * every crossing, entry.S).  The program's GS base of a task that is not
 * running is in task->gs; of the running one, in MSR_KERNEL_GS while in
 * the kernel.
 */
#define MAXCPU	      32
#define MSR_GS_BASE   0xc0000101
#define MSR_KERNEL_GS 0xc0000102

#define AP_WAITING   0
#define AP_UP	     1
#define AP_ABANDONED 2

struct task;

struct tss {
	uint32_t rsv0;
	uint64_t rsp0, rsp1, rsp2, rsv1;
	uint64_t ist[7];
	uint64_t rsv2;
	uint16_t rsv3, iomap;
} __attribute__((packed));

struct cpu {
	struct cpu *self;    /* %gs:0 */
	uint64_t kstack_top; /* %gs:8: where a SYSCALL switches to (the task's kernel stack) */
	uint64_t user_rsp;   /* %gs:16: the user RSP while the SYSCALL entry saves it */
	struct task *cur;    /* %gs:24: `current` (task.h) */
	uint32_t lock_id;    /* %gs:32: the value this CPU stores in the kernel lock (id + 1) */
	int id;
	uint32_t apic_id;
	volatile bool online;
	int boot_state;		/* an AP's start: AP_WAITING, AP_UP or AP_ABANDONED (smp.c) */
	volatile bool idle;	/* halted with the lock released */
	bool tlb_stale;		/* a shootdown came while it was halted */
	struct task *idle_task; /* runs when nothing else does, on the CPU's own stack */
	struct task *fpu_owner; /* whose state the FPU registers hold */
	bool ts_set;
	bool lapic_on;
	uint64_t timer_due; /* time_ns when the armed one-shot fires (0: none) */
	uint64_t idle_ns;   /* time halted */
	struct mm *mm;	    /* the address space CR3 holds (mm.c) */
	uint64_t gdt[7] __attribute__((aligned(8)));
	struct tss tss;
	uint8_t ist_stack[4096] __attribute__((aligned(16))); /* double fault, NMI */
};

extern struct cpu cpus[MAXCPU];
extern int ncpus; /* CPUs online (running tasks) */

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	/* volatile: a task can move to another CPU at any schedule() */
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

void cpu_early_init(void);     /* the boot CPU's struct cpu and GS, before anything uses current */
void cpu_setup(struct cpu *c); /* arch/cpu.c: GDT, TSS, IDT, SYSCALL and FPU of this CPU */
/* smp.c: start the CPUs the ACPI MADT lists; what the boot line adds to their count */
const char *cpu_start_aps(uint64_t rsdp_paddr);
const uint8_t *acpi_madt(uint64_t rsdp_paddr, uint32_t *len); /* NULL: no ACPI */

void klock_acquire(void);
void klock_release(void);
void klock_enter(void); /* entry.S, on entry from user mode */
void klock_yield(void); /* let others take it once, then take it back */
void cpu_kick(struct cpu *c);
bool cpu_kick_idle(uint64_t mask); /* wake one halted CPU of mask: a task became runnable */
void cpu_kick_one(uint64_t mask);  /* interrupt one other CPU of mask, busy or not */
void tlb_shootdown(void);	   /* the other CPUs flush their TLBs; returns when they did */
void tlb_flush_ipi(void);	   /* entry.S: the VEC_TLB handler */
void tlb_flush_stale(void);	   /* a halted CPU, back: flush if a shootdown passed it by */
uint32_t lapic_id(void);	   /* time.c */
void lapic_enable(void);
void lapic_ipi(uint32_t apic_id, uint32_t icr);

#endif
