/* SPDX-License-Identifier: BSD-3-Clause */
/* Signal delivery: pending sets, default actions, Linux's rt_sigframe on the user stack, timers. */
#include "../sys/sys.h"
#include "task.h"

#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define STOPS	    (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))
#define IGNORED	    (SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | SIGBIT(SIGCONT))

/* The x86-64 signal frame, as Linux lays it out (arch/x86/include/uapi/asm/sigcontext.h). */
struct sigcontext64 {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
	    eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};
struct ucontext64 {
	uint64_t flags, link;
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
	struct sigcontext64 mc;
	uint64_t sigmask;
};
struct siginfo64 {
	int32_t signo, err, code, pad;
	union {
		struct {
			int32_t pid, uid;
		} kill;
		struct {
			int32_t tid, overrun;
			uint64_t value;
		} timer;
		uint64_t addr;
		uint8_t bytes[112];
	};
};
struct rt_sigframe {
	uint64_t pretcode; /* sa_restorer: the handler returns into rt_sigreturn */
	struct ucontext64 uc;
	struct siginfo64 info;
};
_Static_assert(sizeof(struct ucontext64) == 304, "ucontext layout");
_Static_assert(sizeof(struct siginfo64) == 128, "siginfo layout");

#define CLD_STOPPED   5
#define CLD_CONTINUED 6
#define SA_NOCLDSTOP  1ul

int signal_default_ignored(int sig)
{
	return sig >= 1 && sig <= 64 && (IGNORED & SIGBIT(sig));
}

/* Does sig stop the process when delivered (a stop signal left at its default action)? */
static bool stops(const struct proc *p, int sig)
{
	return (STOPS & SIGBIT(sig)) && p->sigact[sig].handler == SIG_DFL;
}

static struct linux_sigaction *action(int sig)
{
	return &current->proc->sigact[sig];
}

bool signal_pending(struct task *t)
{
	return ((t->sigpending | t->proc->sigpending) & ~t->sigmask) ||
	       ((t->sigpending | t->proc->sigpending) & t->sigwait) || t->proc->stopped;
}

static void signal_to(struct proc *p, struct task *t, int sig, const struct ksiginfo *info);

/*
 * Real-time signals queue, as on Linux: while one instance is pending (its
 * bit and siginfo slot), each further send waits here, in order, with its
 * own siginfo.  Standard signals stay coalesced.
 */
#define SIGRT_FIRST 32
#define SIGQ_MAX    4096 /* instances queued in all, as RLIMIT_SIGPENDING bounds Linux's */
struct sigq {
	struct sigq *next;
	int sig;
	struct ksiginfo info;
};
static int sigq_count;

bool signal_queue_full(void)
{
	return sigq_count >= SIGQ_MAX;
}

static void sigq_add(struct sigq **q, int sig, const struct ksiginfo *info)
{
	struct sigq *e = sigq_count < SIGQ_MAX ? kmalloc(sizeof(*e)) : NULL;
	if (!e)
		return; /* past the limit a send is lost, as on Linux */
	e->next = NULL;
	e->sig = sig;
	e->info = *info;
	while (*q)
		q = &(*q)->next;
	*q = e;
	sigq_count++;
}

/* The first queued instance of sig (or of any signal, sig 0) leaves q: its siginfo to *info
 * when given; whether there was one. */
static bool sigq_take(struct sigq **q, int sig, struct ksiginfo *info)
{
	for (; *q; q = &(*q)->next)
		if (!sig || (*q)->sig == sig) {
			struct sigq *e = *q;
			if (info)
				*info = e->info;
			*q = e->next;
			kfree(e);
			sigq_count--;
			return true;
		}
	return false;
}

void signal_forget(struct sigq **q)
{
	while (sigq_take(q, 0, NULL))
		;
}

static void drop_pending(struct proc *p, uint64_t set)
{
	p->sigpending &= ~set;
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->proc == p)
			t->sigpending &= ~set;
}

void signal_drop(struct proc *p, int sig)
{
	drop_pending(p, SIGBIT(sig));
	while (sigq_take(&p->sigq, sig, NULL))
		;
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->proc == p)
			while (sigq_take(&t->sigq, sig, NULL))
				;
}

/* Would the signal do nothing at all if delivered now?  Then it is not queued.  pid 1 is not
 * stopped by the default action (as a container's init): nothing could continue it. */
static bool discarded(struct proc *p, int sig)
{
	uint64_t h = p->sigact[sig].handler;
	return h == SIG_IGN || (h == SIG_DFL && signal_default_ignored(sig)) ||
	       (p->pid == 1 && stops(p, sig));
}

/*
 * ---- job control: stops and continues ----
 *
 * A stop signal at its default action stops the whole process: the thread that
 * takes it marks the process stopped and tells the parent (SIGCHLD with
 * CLD_STOPPED unless SA_NOCLDSTOP, and a wait4 with WUNTRACED sees it once); every
 * thread then waits in stop_wait, on its way back to user mode or in the
 * interruptible sleep the stop found it in (signal_stop_in_place), until SIGCONT
 * or SIGKILL.  The parent hears of the stop as soon as the first thread stops:
 * the others stop at their next kernel exit, without running user code.
 */

static int take(uint64_t set, struct ksiginfo *info);

/* p's parent hears that p stopped or continued. */
static void notify_parent(struct proc *p, int code, int status)
{
	struct proc *parent = p->parent;
	if (!parent)
		return;
	if (!(parent->sigact[SIGCHLD].flags & SA_NOCLDSTOP)) {
		struct ksiginfo k = {.code = code, .pid = p->pid, .overrun = status};
		signal_to_proc(parent, SIGCHLD, &k);
	}
	proc_wake_waiters(parent);
}

/* The threads of p waiting in stop_wait look again (SIGCONT came, or SIGKILL). */
static void wake_stopped(struct proc *p)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->proc == p && t->in_stop)
			task_wake(t, W_CONT);
}

/* What sending sig does before it is queued, as Linux: a stop signal cancels a pending
 * SIGCONT; SIGCONT cancels pending stops and continues a stopped process, even when SIGCONT
 * itself is blocked or ignored. */
static void stop_or_continue(struct proc *p, int sig)
{
	if (STOPS & SIGBIT(sig)) {
		drop_pending(p, SIGBIT(SIGCONT));
	} else if (sig == SIGCONT) {
		drop_pending(p, STOPS);
		if (p->stopped) {
			p->stopped = false;
			p->wait_stop = false;
			p->wait_cont = true;
			wake_stopped(p);
			notify_parent(p, CLD_CONTINUED, SIGCONT);
		}
	}
}

/* The calling thread takes stop signal sig: its process stops.  A stop other than SIGSTOP
 * in an orphaned process group does nothing (no shell is left to continue it). */
static void group_stop(int sig)
{
	struct proc *p = current->proc;
	if (sig != SIGSTOP && pgrp_orphaned(p->pgid))
		return;
	if (!p->stopped) {
		p->stopped = true;
		p->stop_sig = sig;
		p->wait_stop = true;
		p->wait_cont = false;
		notify_parent(p, CLD_STOPPED, sig);
	}
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->proc == p && t != current)
			task_kick(t); /* running on another CPU: into the kernel, where it stops */
}

static bool kill_pending(const struct task *t)
{
	return (t->sigpending | t->proc->sigpending) & SIGBIT(SIGKILL);
}

/* Wait while current's process is stopped (or until SIGKILL); true when something other than
 * the continue woke it meanwhile (a sleep it was in may have ended). */
static bool stop_wait(void)
{
	struct task *t = current;
	bool woken = false;
	while (t->proc->stopped && !kill_pending(t)) {
		t->in_stop = true;
		if (task_sleep(0, false) != W_CONT)
			woken = true;
		t->in_stop = false;
	}
	return woken;
}

/*
 * An interruptible sleep woke for a signal.  When all there is to do is to stop (stop
 * signals at their default action, or another thread's stop), current stops right there and
 * this returns true: the sleep goes on once the process continues, as Linux restarts the
 * call (nanosleep, pause, read, wait4 go on after ^Z and fg).  *woken: something else woke
 * it while stopped.  False when a handler or a deadly signal waits: the call ends.
 */
bool signal_stop_in_place(bool *woken)
{
	struct task *t = current;
	struct proc *p = t->proc;
	uint64_t ready = (t->sigpending | p->sigpending) & ~t->sigmask;
	if ((t->sigpending | p->sigpending) & t->sigwait)
		return false; /* rt_sigtimedwait takes it */
	for (uint64_t r = ready; r; r &= r - 1)
		if (!stops(p, __builtin_ctzl(r) + 1))
			return false;
	if (!ready && !p->stopped)
		return false;
	struct ksiginfo k;
	int sig;
	while ((sig = take(ready, &k)))
		group_stop(sig);
	*woken = stop_wait();
	return !kill_pending(t);
}

void signal_send(struct task *t, int sig, const struct ksiginfo *info)
{
	if (t)
		signal_to(t->proc, t, sig, info);
	else
		signal_to(current->proc, NULL, sig, info);
}

void signal_to_proc(struct proc *p, int sig, const struct ksiginfo *info)
{
	if (p->state == P_LIVE)
		signal_to(p, NULL, sig, info);
}

/* Would thread c of p take sig now? */
static bool takes(const struct task *c, const struct proc *p, int sig)
{
	return c->tid && c->proc == p && c->state != T_DEAD && /* not a CPU's idle task */
	       (!(c->sigmask & SIGBIT(sig)) || (c->sigwait & SIGBIT(sig)));
}

static void signal_to(struct proc *p, struct task *t, int sig, const struct ksiginfo *info)
{
	if (sig < 1 || sig > NSIG)
		return;
	stop_or_continue(p, sig);
	if (discarded(p, sig))
		return;
	if (!t) { /* for the process: a thread that does not block it (the caller first), else any
		     later */
		if (takes(current, p, sig))
			t = current;
		for (struct task *c = task_list; c && !t; c = c->next_all)
			if (takes(c, p, sig))
				t = c;
	}
	struct ksiginfo *slot = t ? &t->siginfo[sig] : &p->siginfo[sig];
	uint64_t *pend = t ? &t->sigpending : &p->sigpending;
	if (!(*pend & SIGBIT(sig))) {
		*slot = *info;
		*pend |= SIGBIT(sig);
	} else if (sig >= SIGRT_FIRST) { /* standard signals do not queue */
		sigq_add(t ? &t->sigq : &p->sigq, sig, info);
	}
	if (sig == SIGKILL)
		wake_stopped(p); /* a stopped process dies */
	if (t && t->state == T_SLEEP && signal_pending(t))
		task_wake(t, W_SIGNAL);
	else if (t)
		task_kick(t); /* running on another CPU: it acts on the signal now */
}

/* Take the lowest deliverable signal of current (in `set` when given); 0 when none. */
static int take(uint64_t set, struct ksiginfo *info)
{
	struct task *t = current;
	uint64_t ready = (t->sigpending | t->proc->sigpending) & set;
	if (!ready)
		return 0;
	int sig = __builtin_ctzl(ready) + 1;
	if (t->sigpending & SIGBIT(sig)) {
		*info = t->siginfo[sig];
		if (!sigq_take(&t->sigq, sig, &t->siginfo[sig])) /* the next one stays pending */
			t->sigpending &= ~SIGBIT(sig);
	} else {
		*info = t->proc->siginfo[sig];
		if (!sigq_take(&t->proc->sigq, sig, &t->proc->siginfo[sig]))
			t->proc->sigpending &= ~SIGBIT(sig);
	}
	return sig;
}

int signal_take(uint64_t set, struct ksiginfo *info)
{
	return take(set, info);
}

static void fill_info(struct siginfo64 *si, int sig, const struct ksiginfo *k)
{
	memset(si, 0, sizeof(*si));
	si->signo = sig;
	si->code = k->code;
	if (sig == SIGCHLD && k->code > 0 && k->code < SI_KERNEL) { /* CLD_*: pid, uid, status */
		si->kill.pid = k->pid;
		memcpy(si->bytes + 8, &k->overrun, 4);
		return;
	}
	if (k->code > 0 && k->code < SI_KERNEL) { /* a fault, or POLL_*: si_band (and si_fd) */
		si->addr = k->addr;
		if (k->io_fd)
			memcpy(si->bytes + 8, &(int32_t){k->io_fd - 1}, 4);
		return;
	}
	if (k->code == SI_TIMER) {
		si->timer.tid = k->pid;
		si->timer.overrun = k->overrun;
		si->timer.value = k->addr;
	} else { /* kill, tgkill, sigqueue (whose value sits where a timer's does) */
		si->kill.pid = k->pid;
		si->kill.uid = 0;
		si->timer.value = k->addr;
	}
}

void signal_fill_info(void *usi, int sig, const struct ksiginfo *k)
{
	fill_info(usi, sig, k);
}

NORETURN static void die(int sig, const struct ksiginfo *k)
{
	if (sig == SIGTERM && k && k->code == SI_KERNEL && current->proc->pid == 1)
		kexit(128 + sig, "stopped by power button"); /* only power.c sends that */
	proc_exit(sig);
}

/* Push an rt_sigframe and point the registers at the handler; false when the stack is bad. */
static bool setup_frame(struct trapframe *f, int sig, const struct ksiginfo *k)
{
	struct task *t = current;
	struct linux_sigaction *a = action(sig);
	uint64_t sp = f->rsp;
	bool on_alt = t->altstack[2] && sp - t->altstack[0] <= t->altstack[2];
	if ((a->flags & SA_ONSTACK) && t->altstack[2] && !(t->altstack[1] & SS_DISABLE) && !on_alt)
		sp = t->altstack[0] + t->altstack[2];
	else
		sp -= 128; /* the red zone */
	sp = (sp - 512) & ~63ul;
	uint64_t fpstate = sp;
	sp = ((sp - sizeof(struct rt_sigframe)) & ~15ul) - 8; /* as after a call */
	if (!vm_user_ok(sp, fpstate + 512 - sp))
		return false;
	struct rt_sigframe *fr = (struct rt_sigframe *)sp;
	fpu_save_to((void *)fpstate);
	memset(&fr->uc, 0, sizeof(fr->uc));
	fr->pretcode = a->restorer;
	fr->uc.ss_sp = t->altstack[0];
	fr->uc.ss_flags = on_alt ? 1 : t->altstack[2] ? (int32_t)t->altstack[1] : SS_DISABLE;
	fr->uc.ss_size = t->altstack[2];
	struct sigcontext64 *m = &fr->uc.mc;
	*m = (struct sigcontext64){.r8 = f->r8,
				   .r9 = f->r9,
				   .r10 = f->r10,
				   .r11 = f->r11,
				   .r12 = f->r12,
				   .r13 = f->r13,
				   .r14 = f->r14,
				   .r15 = f->r15,
				   .rdi = f->rdi,
				   .rsi = f->rsi,
				   .rbp = f->rbp,
				   .rbx = f->rbx,
				   .rdx = f->rdx,
				   .rax = f->rax,
				   .rcx = f->rcx,
				   .rsp = f->rsp,
				   .rip = f->rip,
				   .eflags = f->rflags,
				   .cs = SEL_UCODE,
				   .ss = SEL_UDATA,
				   .fpstate = fpstate};
	if (k->code > 0 && k->code < SI_KERNEL) { /* a fault: what the CPU said */
		m->trapno = f->vec;
		m->err = f->err;
		m->cr2 = f->vec == 14 ? k->addr : 0;
	}
	fr->uc.sigmask = t->mask_saved ? t->saved_mask : t->sigmask;
	m->oldmask = fr->uc.sigmask;
	t->mask_saved = false;
	fill_info(&fr->info, sig, k);

	f->rsp = sp;
	f->rip = a->handler;
	f->rdi = (uint64_t)sig;
	f->rsi = (uint64_t)&fr->info;
	f->rdx = (uint64_t)&fr->uc;
	f->rax = 0;
	f->rflags &= ~(0x100ul | 0x400ul); /* TF, DF */
	t->sigmask |= a->mask | (a->flags & SA_NODEFER ? 0 : SIGBIT(sig));
	t->sigmask &= ~UNBLOCKABLE;
	if (a->flags & SA_RESETHAND) {
		a->handler = SIG_DFL;
		a->flags &= ~SA_SIGINFO;
	}
	return true;
}

/* Act on current's pending signals before it returns to user mode with registers f. */
static void deliver(struct trapframe *f)
{
	struct ksiginfo k;
	int sig;
	stop_wait(); /* another thread stopped the process */
	while ((sig = take(~current->sigmask, &k))) {
		uint64_t h = action(sig)->handler;
		if (h == SIG_IGN || (h == SIG_DFL && signal_default_ignored(sig)))
			continue;
		if (stops(current->proc, sig)) {
			group_stop(sig);
			stop_wait();
			continue;
		}
		if (h == SIG_DFL)
			die(sig, &k);
		if (!setup_frame(f, sig, &k))
			die(SIGSEGV, NULL);
		return; /* one frame; the next signal goes when this handler returns */
	}
	if (current->mask_saved) { /* rt_sigsuspend woke without running a handler */
		current->sigmask = current->saved_mask;
		current->mask_saved = false;
	}
}

/* Will a signal interrupting a call be handled with SA_RESTART (or not at all)? */
static bool restart_after(void)
{
	uint64_t ready = (current->sigpending | current->proc->sigpending) & ~current->sigmask;
	for (int sig = 1; sig <= NSIG; sig++) {
		if (!(ready & SIGBIT(sig)))
			continue;
		struct linux_sigaction *a = action(sig);
		if (a->handler == SIG_IGN ||
		    (a->handler == SIG_DFL && signal_default_ignored(sig)) ||
		    stops(current->proc, sig))
			continue; /* no handler runs: the call goes on */
		return a->handler != SIG_DFL && (a->flags & SA_RESTART);
	}
	return true;
}

void signal_syscall_exit(struct sysframe *s)
{
	if ((long)s->rax == -ERESTARTSYS) {
		if (restart_after()) {
			s->rax = (uint64_t)current->sys_nr;
			s->rip -= 2; /* the SYSCALL instruction again */
		} else {
			s->rax = (uint64_t)-EINTR;
		}
	}
	if (!signal_pending(current) && !current->mask_saved)
		return;
	struct trapframe f = {.r15 = s->r15,
			      .r14 = s->r14,
			      .r13 = s->r13,
			      .r12 = s->r12,
			      .r11 = s->rflags,
			      .r10 = s->r10,
			      .r9 = s->r9,
			      .r8 = s->r8,
			      .rbp = s->rbp,
			      .rdi = s->rdi,
			      .rsi = s->rsi,
			      .rdx = s->rdx,
			      .rcx = s->rip,
			      .rbx = s->rbx,
			      .rax = s->rax,
			      .rip = s->rip,
			      .cs = SEL_UCODE,
			      .rflags = s->rflags,
			      .rsp = s->rsp,
			      .ss = SEL_UDATA};
	deliver(&f);
	s->rip = f.rip;
	s->rsp = f.rsp;
	s->rdi = f.rdi;
	s->rsi = f.rsi;
	s->rdx = f.rdx;
	s->rax = f.rax;
	s->rflags = f.rflags;
}

void signal_trap_exit(struct trapframe *f)
{
	if (signal_pending(current) || current->mask_saved)
		deliver(f);
}

/* A fault in user mode: to the program's handler if it has one that may run now. */
bool signal_fault(struct trapframe *f, int sig, int code, uint64_t addr)
{
	struct linux_sigaction *a = action(sig);
	if (a->handler == SIG_DFL || a->handler == SIG_IGN || (current->sigmask & SIGBIT(sig)))
		return false;
	struct ksiginfo k = {.code = code, .addr = addr};
	return setup_frame(f, sig, &k);
}

SYSCALL_FRAME(rt_sigreturn, 0)
{
	struct trapframe f;
	uint64_t uc = fr->rsp; /* the handler's RET took the return address */
	if (!vm_user_ok(uc, sizeof(struct ucontext64)))
		die(SIGSEGV, NULL);
	const struct ucontext64 *u = (const struct ucontext64 *)uc;
	const struct sigcontext64 *m = &u->mc;
	f = (struct trapframe){.r15 = m->r15,
			       .r14 = m->r14,
			       .r13 = m->r13,
			       .r12 = m->r12,
			       .r11 = m->r11,
			       .r10 = m->r10,
			       .r9 = m->r9,
			       .r8 = m->r8,
			       .rbp = m->rbp,
			       .rdi = m->rdi,
			       .rsi = m->rsi,
			       .rdx = m->rdx,
			       .rcx = m->rcx,
			       .rbx = m->rbx,
			       .rax = m->rax,
			       .rip = m->rip,
			       .cs = SEL_UCODE,
			       .rflags = (m->eflags & 0x50dd5) | 0x202,
			       .rsp = m->rsp,
			       .ss = SEL_UDATA};
	if (f.rip >= 0x800000000000ul)
		die(SIGSEGV, NULL);
	current->sigmask = u->sigmask & ~UNBLOCKABLE;
	if (m->fpstate && vm_user_ok(m->fpstate, 512))
		fpu_load_from((const void *)m->fpstate);
	signal_trap_exit(&f);
	user_return_iret(&f);
}

/* ---- timers: ITIMER_REAL (alarm, setitimer) and timer_create's, on the monotonic clock;
 * ITIMER_VIRTUAL, ITIMER_PROF and timer_create's on CPU clocks count CPU time ---- */
static void fire(struct proc *p, int id, struct ktimer *tm, uint64_t now)
{
	if (tm->interval) {
		uint64_t missed = (now - tm->due) / tm->interval;
		tm->overrun = (int)MIN(missed, 0x7fffffffu);
		tm->due += (missed + 1) * tm->interval;
	} else {
		tm->due = 0;
	}
	if (tm->notify == 1) /* SIGEV_NONE */
		return;
	struct ksiginfo k = {.code = id ? SI_TIMER : SI_KERNEL,
			     .pid = id ? id - 1 : 0,
			     .overrun = tm->overrun,
			     .addr = tm->value};
	struct task *t = tm->notify == 4 ? task_by_tid(tm->tid) : NULL;
	if (t && t->proc != p)
		t = NULL;
	signal_send(t, tm->sig, &k);
}

/* Slot i of p's timers, from 0 to NTIMERS + 1: timers[], then cputimers[]; *id is what fire
 * wants (0 for an interval timer). */
static struct ktimer *timer_slot(struct proc *p, int i, int *id)
{
	*id = i < NTIMERS ? i : 0;
	return i < NTIMERS ? &p->timers[i] : &p->cputimers[i - NTIMERS];
}

bool timer_on_cpu(const struct ktimer *tm)
{
	return tm->clk == CLOCK_PROCESS_CPUTIME_ID || tm->clk == CLOCK_THREAD_CPUTIME_ID;
}

/* The CPU time a timer on a CPU clock counts, as last charged; 0 once its thread is gone. */
uint64_t timer_cpu_ns(struct proc *p, const struct ktimer *tm)
{
	if (tm->clk == CLOCK_PROCESS_CPUTIME_ID)
		return p->cpu_ns;
	struct task *t = task_by_tid(tm->clk_tid);
	return t && t->proc == p ? t->run_ns : 0;
}

/* Fire current's process's due timers: those on the monotonic clock, and those on CPU clocks
 * while one of its threads runs here (an idle CPU's is pid 1's, not running). */
uint64_t timers_expire(uint64_t now)
{
	uint64_t next = 0;
	struct proc *p = current->proc;
	bool idle = current == this_cpu()->idle_task;
	for (int i = 0, id; i < NTIMERS + 2; i++) {
		struct ktimer *tm = timer_slot(p, i, &id);
		if (!tm->used || !tm->due)
			continue;
		if (timer_on_cpu(tm)) {
			uint64_t cpu = timer_cpu_ns(p, tm);
			if (!idle && tm->due <= cpu)
				fire(p, id, tm, cpu);
			continue; /* timers_cpu_next says when to look again */
		}
		if (tm->due <= now)
			fire(p, id, tm, now);
		if (tm->due && (!next || tm->due < next))
			next = tm->due;
	}
	return next;
}

/* CPU time passes no faster than the clock for one thread: the latest t's CPU timers can be
 * due if it runs from now on. */
uint64_t timers_cpu_next(const struct task *t, uint64_t now)
{
	uint64_t next = 0;
	if (t == this_cpu()->idle_task)
		return 0;
	for (int i = 0, id; i < NTIMERS + 2; i++) {
		const struct ktimer *tm = timer_slot(t->proc, i, &id);
		if (!tm->used || !tm->due || !timer_on_cpu(tm) ||
		    (tm->clk == CLOCK_THREAD_CPUTIME_ID && tm->clk_tid != t->tid))
			continue;
		uint64_t cpu = timer_cpu_ns(t->proc, tm);
		uint64_t at = now + (tm->due > cpu ? tm->due - cpu : 0);
		if (!next || at < next)
			next = at;
	}
	return next;
}
