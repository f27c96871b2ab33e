/* SPDX-License-Identifier: BSD-3-Clause */
/* Processes and threads: struct proc (what threads share), struct task (one thread), the scheduler.
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H

#include "../kernel.h"

/*
 * The kernel is not preemptible: it runs with interrupts off, and a task
 * leaves the CPU only where it chooses to (task_sleep, sched_yield) or when
 * the timer interrupts it in user mode.  Only one CPU runs tasks, so kernel
 * data needs no locks.
 */

struct linux_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* What the threads of one program share.  Only pid 1 exists for now, but
 * every task points at its proc so that fork can make a second one. */
struct proc {
	int pid;
	int nthreads; /* live tasks */
	const char *exe;
	struct node *exe_node;
	uint64_t brk_start, brk;
	uint64_t image_start, stack_start, stack_end; /* for /proc/PID/maps */
	char *cmdline, *environ; /* NUL-separated copies, for /proc/PID/cmdline and environ */
	size_t cmdline_len, environ_len;
	uint64_t start_ns; /* when it started, for /proc/PID/stat */
	struct linux_sigaction sigact[NSIG + 1];
	uint64_t sigpending; /* sent to the process, taken by any thread not blocking it */
};

enum task_state { T_RUN, T_SLEEP, T_DEAD };
enum wake_reason { W_NONE, W_WOKEN, W_TIMEOUT, W_SIGNAL };

struct task {
	int tid;
	enum task_state state;
	struct proc *proc;
	uint64_t ksp;	     /* saved kernel stack pointer while switched out */
	uint64_t kstack_top; /* syscall and interrupt entry stack */
	void *kstack;	     /* NULL for the boot task's static stack */
	uint8_t *fpu;	     /* the user FPU/SSE/AVX state: a zeroed page, XSAVE format */
	uint64_t fs, gs;     /* user FS and GS bases */
	uint64_t sigmask, sigpending;
	uint64_t altstack[3]; /* stack_t: sp, flags, size */
	uint64_t clear_child_tid, robust_list, robust_len;
	uint64_t rseq; /* the registered struct rseq, or 0 */
	char name[16];
	/* sleeping: until woken, the deadline (time_ns, 0 = none), or a signal */
	uint64_t deadline;
	enum wake_reason wake;
	bool interruptible;
	uint64_t futex_addr; /* waiting on this futex word (0: not) */
	uint32_t futex_bitset;
	uint64_t run_ns, last_in; /* CPU time, and when it last got the CPU */
	struct task *next_run;	  /* the run queue */
	struct task *next_all;	  /* every task */
};

extern struct task *current;
extern struct proc proc; /* pid 1 */
extern struct task *task_list;

void sched_init(void);
struct task *
task_new(void); /* a runnable-to-be task of current's process; NULL when out of memory */
void task_start(struct task *t);
void task_exit(void) NORETURN; /* the calling thread ends; the last one ends the program */
struct task *task_by_tid(long tid);
void sched_yield_cpu(void);
/* Sleep until task_wake, the deadline (time_ns; 0: none) or, if interruptible, a signal. */
enum wake_reason task_sleep(uint64_t deadline, bool interruptible);
void task_wake(struct task *t, enum wake_reason why);
void sched_tick(uint64_t *user_rip); /* the timer interrupted user mode at *user_rip */
void task_exec_alone(void);	     /* execve: every other thread of the process ends */
int sched_ncpus(void);
uint64_t sched_cpu_ns(void); /* CPU time of every task of the process */
void task_save_fs(uint64_t fs);
void task_save_gs(uint64_t gs);

/* futex.c */
int futex_wake(uint64_t uaddr, int n, uint32_t bitset);
void robust_list_exit(struct task *t);

/* entry.S */
void switch_to(uint64_t *save_sp, uint64_t new_sp);
extern char syscall_exit[];

#endif
