/* SPDX-License-Identifier: BSD-3-Clause */
/* Processes and threads: struct proc (what threads share), struct task (one thread), the scheduler.
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H

#include "../kernel.h"
#include "cpu.h"

/*
 * The kernel is not preemptible: it runs with interrupts off, and a task
 * leaves the CPU only where it chooses to (task_sleep, sched_yield) or when
 * the timer interrupts it in user mode.  Several CPUs may run tasks, but
 * the kernel runs on one at a time under the big kernel lock (cpu.h), so
 * kernel data needs no other locks.
 */

struct linux_sigaction {
	uint64_t handler, flags, restorer, mask;
};
#define SA_SIGINFO   0x4ul
#define SA_ONSTACK   0x08000000ul
#define SA_RESTART   0x10000000ul
#define SA_NODEFER   0x40000000ul
#define SA_RESETHAND 0x80000000ul
#define SIGBIT(s)    (1ul << ((s)-1))

/* What a pending signal carries into its siginfo_t. */
struct ksiginfo {
	int32_t code, pid; /* si_code; si_pid, or the timer id */
	int32_t overrun;
	int32_t io_fd; /* a readiness signal of F_SETSIG: its si_fd + 1; else 0 */
	uint64_t addr; /* si_addr of a fault, or the timer's sigval */
};
#define SI_USER	  0
#define SI_KERNEL 0x80
#define SI_TIMER  (-2)
#define SI_TKILL  (-6)
#define NTIMERS	  8
struct ktimer {
	bool used;
	int sig, notify, tid; /* notify: SIGEV_SIGNAL 0, SIGEV_NONE 1, SIGEV_THREAD_ID 4 */
	int clk, clk_tid;     /* clk_tid: the thread whose CPU time CLOCK_THREAD_CPUTIME_ID is */
	uint64_t value, due, interval; /* due: time_ns or CPU time (clk), 0 when disarmed */
	int overrun;
};

#define NGROUPS 64 /* supplementary groups kept */
struct kcred {
	uint32_t uid, euid, suid, gid, egid, sgid;
	uint32_t groups[NGROUPS];
	int ngroups;
};

/* A process is live until its last thread ends, then a zombie until its parent waits for it
 * (or until its last task is freed, once reaped: P_DEAD). */
enum proc_state { P_LIVE, P_ZOMBIE, P_DEAD };
struct fdtable;

/* What the threads of one program share; fork copies it. */
struct proc {
	int pid;
	int nthreads; /* live tasks */
	int ntasks;   /* task structs not yet freed: the proc outlives them all */
	enum proc_state state;
	int wstatus;	 /* once a zombie: the status wait4 reports */
	int exit_signal; /* what the parent gets when it ends: SIGCHLD, or clone's choice */
	struct proc *parent, *next;
	int pgid, sid;
	bool execed;	/* it ran execve since its fork: setpgid from the parent is refused */
	bool subreaper; /* PR_SET_CHILD_SUBREAPER: orphans below it come to it, not to pid 1 */
	struct task *vfork_parent; /* suspended in vfork until this one execs or exits */
	uint64_t children_ns;	   /* CPU time of the children waited for */
	struct mm *mm;		   /* the address space; a vfork child shares its parent's */
	struct fdtable *fdt;
	struct node *cwd;
	uint32_t umask;
	struct kcred cred;
	char *exe;
	struct node *exe_node;
	uint64_t brk_start, brk;
	uint64_t image_start, stack_start, stack_end; /* for /proc/PID/maps */
	char *cmdline, *environ; /* NUL-separated copies, for /proc/PID/cmdline and environ */
	size_t cmdline_len, environ_len;
	uint64_t start_ns; /* when it started, for /proc/PID/stat */
	struct linux_sigaction sigact[NSIG + 1];
	uint64_t sigpending; /* sent to the process, taken by any thread not blocking it */
	struct ksiginfo siginfo[NSIG + 1];
	struct ktimer timers[NTIMERS]; /* [0] is ITIMER_REAL (alarm, setitimer) */
	uint64_t cpu_ns;	       /* CPU time of its threads, ended ones too (sched.c) */
	struct ktimer cputimers[2];    /* ITIMER_VIRTUAL, ITIMER_PROF: due on cpu_ns */
	struct sigq *sigq;	       /* real-time signals sent while one was pending (signal.c) */
	/* job control: stopped by a stop signal until SIGCONT or SIGKILL (signal.c) */
	bool stopped;
	int stop_sig;		   /* the signal that stopped it, for wait's status */
	bool wait_stop, wait_cont; /* a stop, a continue, not yet reported to a wait */
	int nice;		   /* setpriority's: kept and inherited, unused by the scheduler */
};

enum task_state { T_RUN, T_SLEEP, T_DEAD };
enum wake_reason { W_NONE, W_WOKEN, W_TIMEOUT, W_SIGNAL, W_CONT }; /* W_CONT: SIGCONT, SIGKILL */

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
	uint64_t saved_mask; /* rt_sigsuspend's caller's mask, restored after the handler */
	bool mask_saved;
	uint64_t sigwait; /* rt_sigtimedwait: these wake the task even while blocked */
	struct ksiginfo siginfo[NSIG + 1];
	struct sigq *sigq;	   /* as proc's, for this thread */
	long sys_nr;		   /* the call in progress, for restarting it */
	struct sysframe *sysframe; /* and its user registers */
	uint64_t altstack[3];	   /* stack_t: sp, flags, size */
	uint64_t clear_child_tid, robust_list, robust_len;
	uint64_t rseq; /* the registered struct rseq, or 0 */
	char name[16];
	/* sleeping: until woken, the deadline (time_ns, 0 = none), or a signal */
	uint64_t deadline;
	enum wake_reason wake;
	bool interruptible;
	uint64_t futex_addr; /* waiting on this futex word (0: not) */
	struct mm *futex_mm; /* in this address space (NULL: a shared mapping's word) */
	bool in_wait;	     /* in wait4 or waitid: a child's end wakes it */
	bool in_vfork;	     /* suspended until its vfork child execs or exits */
	bool in_stop;	     /* its process is stopped: it waits for SIGCONT or SIGKILL */
	const void *wait_on; /* a pipe whose change wakes it (fs/pipe.c) */
	uint32_t futex_bitset;
	uint64_t run_ns, last_in; /* CPU time, and when it last got the CPU */
	struct cpu *cpu;	  /* the CPU running it, NULL when switched out */
	uint64_t affinity;	  /* the CPUs (bit = cpu id) it may run on: sched_setaffinity */
	struct task *next_run;	  /* the run queue */
	struct task *next_all;	  /* every task */
};

#define current (this_cpu()->cur) /* the task this CPU runs */
extern struct proc proc;	  /* pid 1 */
extern struct task *task_list;
extern struct proc *proc_list; /* every process, pid 1 first */

void sched_init(void);
struct task *
task_new(void); /* a runnable-to-be task of current's process; NULL when out of memory */
void task_start(struct task *t);
void task_discard(struct task *t);   /* one task_new made that will not start */
void task_exit(void) NORETURN;	     /* the calling thread ends; the last one ends the program */
void task_reap_self(void) NORETURN;  /* current was ended by another thread's execve */
void task_kick(struct task *t);	     /* running on another CPU: enter the kernel soon */
struct task *sched_new_idle(void);   /* a CPU's idle task; NULL when out of memory */
void sched_start_cpu(void) NORETURN; /* an AP, set up, on its idle task's stack: run tasks */
struct task *task_by_tid(long tid);
void sched_yield_cpu(void);
void sched_yield_call(void); /* sched_yield: gives way only to a task that waits for this CPU */
/* Sleep until task_wake, the deadline (time_ns; 0: none) or, if interruptible, a signal. */
enum wake_reason task_sleep(uint64_t deadline, bool interruptible);
void task_wake(struct task *t, enum wake_reason why);
void sched_tick(uint64_t *user_rip); /* the timer interrupted user mode at *user_rip */
void sched_entered(void);	     /* klock_enter: current came from user mode */
void task_exec_alone(void);
void sched_timers_changed(void);
/* a timer was armed: the local APIC timer may need to fire sooner */ /* execve: every other
									 thread of the process
									 ends */
int sched_ncpus(void);
uint64_t sched_cpu_mask(void);			       /* the CPUs online, as an affinity mask */
void task_set_affinity(struct task *t, uint64_t mask); /* moves it off a CPU it left out */
uint64_t sched_cpu_ns(void); /* CPU time of current's process, its ended threads' too */
void task_save_fs(uint64_t fs);
void task_save_gs(uint64_t gs);

/* signal.c */
void signal_send(struct task *t, int sig, const struct ksiginfo *info); /* t NULL: the process */
bool signal_pending(struct task *t);	/* one it does not block, or its process stopped */
bool signal_stop_in_place(bool *woken); /* a sleep cut short by a stop only: stop, then true */
int signal_take(uint64_t set, struct ksiginfo *info); /* dequeue one of set; 0: none */
void signal_fill_info(void *usi, int sig, const struct ksiginfo *k); /* a user siginfo_t */
int signal_default_ignored(int sig);
bool signal_queue_full(void);		   /* rt_sigqueueinfo: EAGAIN */
void signal_drop(struct proc *p, int sig); /* pending instances of sig in p: gone */
void signal_forget(struct sigq **q);	   /* a task or process freed: its queued signals too */
void signal_syscall_exit(struct sysframe *f);
void signal_trap_exit(struct trapframe *f);
bool signal_fault(struct trapframe *f, int sig, int code, uint64_t addr);
uint64_t timers_expire(uint64_t now); /* fire due timers; the next due time, 0: none */
/* When t's CPU timers may be due if it runs from now on (time_ns; 0: none armed). */
uint64_t timers_cpu_next(const struct task *t, uint64_t now);
bool timer_on_cpu(const struct ktimer *tm); /* on CLOCK_PROCESS_ or CLOCK_THREAD_CPUTIME_ID */
uint64_t timer_cpu_ns(struct proc *p, const struct ktimer *tm); /* what that clock reads */
void fpu_save_to(void *dst); /* the user FPU state, FXSAVE format (sched.c) */
void fpu_load_from(const void *src);
void fpu_trap(void); /* #NM: current's first FPU use since it got the CPU */
void user_return_iret(struct trapframe *f) NORETURN; /* entry.S */

/* clone's flags, as Linux numbers them; the low byte is the exit signal of a new process */
#define CLONE_VM	     0x100ul
#define CLONE_FS	     0x200ul
#define CLONE_FILES	     0x400ul
#define CLONE_SIGHAND	     0x800ul
#define CLONE_VFORK	     0x4000ul
#define CLONE_THREAD	     0x10000ul
#define CLONE_SYSVSEM	     0x40000ul
#define CLONE_SETTLS	     0x80000ul
#define CLONE_PARENT_SETTID  0x100000ul
#define CLONE_CHILD_CLEARTID 0x200000ul
#define CLONE_DETACHED	     0x400000ul
#define CLONE_CHILD_SETTID   0x1000000ul
#define CLONE_IO	     0x80000000ul
#define CLONE_CLEAR_SIGHAND  0x100000000ul
/* thread.c: clone's flags and the addresses they name checked, for a thread (CLONE_THREAD or
 * CLONE_SIGHAND) or a process: 0, -EINVAL, -EFAULT or -EPERM */
long clone_check(uint64_t flags, uint64_t ptid, uint64_t ctid, uint64_t tls);

/* fork.c and wait.c: processes */
struct proc *proc_by_pid(long pid); /* a live process or a zombie */
long proc_clone(struct sysframe *fr, uint64_t flags, uint64_t sp, uint64_t ptid, uint64_t ctid,
		uint64_t tls);	      /* flags that passed clone_check */
void proc_exec_mm(void);	      /* execve: a vfork child leaves its parent's address space */
void proc_exit(int wstatus) NORETURN; /* exit_group, or a deadly signal: Linux's wait status */
void proc_free_if_done(struct proc *p);
void clone_frame(struct task *t, const struct sysframe *fr, uint64_t sp); /* thread.c */
void signal_to_proc(struct proc *p, int sig, const struct ksiginfo *info);
void proc_wake_waiters(struct proc *p); /* wait.c: p's threads in wait4/waitid look again */

/* pgrp.c: process groups, and the console as their terminal */
#define TIOCSCTTY 0x540e
#define TIOCGPGRP 0x540f
#define TIOCSPGRP 0x5410
#define TIOCGSID  0x5429
bool signal_pgrp(long pgid, int sig, const struct ksiginfo *info);
bool pgrp_orphaned(long pgid); /* no member has a parent in another group of its session */
int tty_job_check(int sig);    /* a background access to the console: 0, -EIO or -ERESTARTSYS */
void tty_signal(int sig);      /* VINTR, VQUIT, VSUSP: to the foreground group */
int tty_ioctl_pgrp(unsigned long req, uint64_t arg);
int tty_pgrp_of(
    const struct proc *p); /* the console's foreground group, or -1 outside its session */

/* futex.c */
int futex_wake(uint64_t uaddr, int n, uint32_t bitset);
void robust_list_exit(struct task *t);

/* entry.S */
void switch_to(uint64_t *save_sp, uint64_t new_sp);
extern char syscall_exit[];

#endif
