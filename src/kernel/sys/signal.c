/* SPDX-License-Identifier: BSD-3-Clause */
/* The signal calls: actions, masks, sending, waiting, the alternate stack, interval timers. */
#include "../proc/task.h"
#include "sys.h"

#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define MINSIGSTKSZ 2048
#define SS_ONSTACK  1

/* For /proc/PID/status: blocked, ignored and caught signals as bit sets (bit N-1 for N). */
void signal_sets(const struct task *t, uint64_t *blocked, uint64_t *ignored, uint64_t *caught)
{
	*blocked = t->sigmask;
	*ignored = *caught = 0;
	for (int i = 1; i <= NSIG; i++) {
		uint64_t h = t->proc->sigact[i].handler;
		if (h == SIG_IGN)
			*ignored |= 1ull << (i - 1);
		else if (h != SIG_DFL)
			*caught |= 1ull << (i - 1);
	}
}

void signal_reset_on_exec(void)
{
	struct proc *p = current->proc;
	for (int i = 1; i <= NSIG; i++) {
		uint64_t keep = p->sigact[i].handler == SIG_IGN ? SIG_IGN : SIG_DFL;
		p->sigact[i] = (struct linux_sigaction){.handler = keep};
	}
	for (int i = 1; i < NTIMERS; i++) /* timer_create's timers go; the alarm stays */
		p->timers[i].used = false;
	memset(current->altstack, 0, sizeof(current->altstack));
}

SYSCALL4(rt_sigaction, long, sig, uint64_t, act, uint64_t, oact, long, size)
{
	if (sig < 1 || sig > 64 || size != 8)
		return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	struct linux_sigaction *a = &current->proc->sigact[sig];
	if (act)
		UOK(act, 32);
	if (oact) {
		UOK(oact, 32);
		memcpy((void *)oact, a, 32);
	}
	if (act) {
		memcpy(a, (void *)act, 32);
		a->mask &= ~UNBLOCKABLE;
		if (a->handler == SIG_IGN ||
		    (a->handler == SIG_DFL && signal_default_ignored(sig))) {
			signal_drop(current->proc, (int)sig); /* as Linux does */
		}
	}
	return 0;
}

SYSCALL4(rt_sigprocmask, long, how, uint64_t, set, uint64_t, oset, long, size)
{
	if (size != 8)
		return -EINVAL;
	uint64_t s = 0;
	if (set) {
		UOK(set, 8);
		s = *(uint64_t *)set & ~UNBLOCKABLE;
		if (how < 0 || how > 2)
			return -EINVAL;
	}
	if (oset) {
		UOK(oset, 8);
		*(uint64_t *)oset = current->sigmask;
	}
	if (set) {
		if (how == SIG_BLOCK)
			current->sigmask |= s;
		else if (how == SIG_UNBLOCK)
			current->sigmask &= ~s;
		else
			current->sigmask = s;
	}
	return 0;
}

SYSCALL2(rt_sigpending, uint64_t, uset, long, size)
{
	if (size > 8 || size < 1)
		return -EINVAL;
	UOK(uset, 8);
	uint64_t p = (current->sigpending | current->proc->sigpending) & current->sigmask;
	memcpy((void *)uset, &p, (size_t)size);
	return 0;
}

SYSCALL2(sigaltstack, uint64_t, ss, uint64_t, oss)
{
	uint64_t *alt = current->altstack; /* ss_sp, ss_flags, ss_size */
	bool on = alt[2] && !(alt[1] & SS_DISABLE) && current->sysframe->rsp - alt[0] <= alt[2];
	uint64_t nw[3];
	if (ss) {
		UOK(ss, 24);
		memcpy(nw, (void *)ss, 24);
		uint32_t fl = (uint32_t)nw[1];
		if (fl & ~(SS_DISABLE | (1u << 31))) /* SS_AUTODISARM is accepted */
			return -EINVAL;
		if (on)
			return -EPERM;
		if (!(fl & SS_DISABLE) && nw[2] < MINSIGSTKSZ)
			return -ENOMEM;
	}
	if (oss) {
		UOK(oss, 24);
		uint64_t o[3] = {
		    alt[0], alt[2] ? (on ? SS_ONSTACK : alt[1] & SS_DISABLE) : SS_DISABLE, alt[2]};
		memcpy((void *)oss, o, 24);
	}
	if (ss) {
		if ((uint32_t)nw[1] & SS_DISABLE)
			memset(alt, 0, 24);
		else
			alt[0] = nw[0], alt[1] = 0, alt[2] = nw[2];
	}
	return 0;
}

/* ---- sending ---- */
static struct ksiginfo from_user(int code)
{
	return (struct ksiginfo){.code = code, .pid = current->proc->pid};
}

/* kill: pid > 0 a process, 0 the caller's group, -1 every process but pid 1 and the caller,
 * below -1 the group -pid. */
SYSCALL2(kill, int, pid, int, sig)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	struct ksiginfo k = from_user(SI_USER);
	struct proc *me = current->proc;
	if (pid > 0) {
		struct proc *p = proc_by_pid(pid);
		if (!p)
			return -ESRCH;
		if (sig)
			signal_to_proc(p, (int)sig, &k);
		return 0;
	}
	long pgid = pid == 0 ? me->pgid : -pid;
	int found = 0;
	for (struct proc *p = proc_list; p; p = p->next) {
		if (p->state == P_DEAD || (pid == -1 ? p->pid == 1 || p == me : p->pgid != pgid))
			continue;
		found++;
		if (sig)
			signal_to_proc(p, (int)sig, &k);
	}
	return found ? 0 : -ESRCH;
}

static long thread_kill(struct task *t, long sig)
{
	if (!t)
		return -ESRCH;
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig) {
		struct ksiginfo k = from_user(SI_TKILL);
		signal_send(t, (int)sig, &k);
	}
	return 0;
}

/* A signal the kernel sends: SIGPIPE to the writing thread, the terminal's to the process. */
void signal_raise(int sig)
{
	struct ksiginfo k = {.code = SI_KERNEL};
	signal_send(sig == SIGPIPE ? current : NULL, sig, &k);
}

SYSCALL2(tkill, long, tid, long, sig)
{
	return tid <= 0 ? -EINVAL : thread_kill(task_by_tid(tid), sig);
}

SYSCALL3(tgkill, long, tgid, long, tid, long, sig)
{
	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	struct task *t = task_by_tid(tid);
	return thread_kill(t && t->proc->pid == tgid ? t : NULL, sig);
}

/*
 * sigqueue and pthread_sigqueue: the caller's siginfo (si_code, si_pid, si_value) goes with
 * the signal.  As Linux, only a process itself may pretend to be the kernel or kill().
 */
static long queue_info(struct proc *p, struct task *t, long sig, uint64_t uinfo)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	UOK(uinfo, 128);
	int32_t code, pid;
	uint64_t value;
	memcpy(&code, (const char *)uinfo + 8, 4);
	memcpy(&pid, (const char *)uinfo + 16, 4);
	memcpy(&value, (const char *)uinfo + 24, 8);
	if ((code >= 0 || code == SI_TKILL) && p != current->proc)
		return -EPERM;
	if (!sig)
		return 0;
	if (sig >= 32 && signal_queue_full())
		return -EAGAIN;
	struct ksiginfo k = {.code = code, .pid = pid, .addr = value};
	if (t)
		signal_send(t, (int)sig, &k);
	else
		signal_to_proc(p, (int)sig, &k);
	return 0;
}

SYSCALL3(rt_sigqueueinfo, long, pid, long, sig, uint64_t, uinfo)
{
	struct proc *p = pid > 0 ? proc_by_pid(pid) : NULL;
	return p && p->state == P_LIVE ? queue_info(p, NULL, sig, uinfo) : -ESRCH;
}

SYSCALL4(rt_tgsigqueueinfo, long, tgid, long, tid, long, sig, uint64_t, uinfo)
{
	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	struct task *t = task_by_tid(tid);
	return t && t->proc->pid == tgid ? queue_info(t->proc, t, sig, uinfo) : -ESRCH;
}

/* ---- waiting ---- */
/* The mask a wait (rt_sigsuspend, ppoll, pselect6) runs with; the caller's comes back after
 * the handler of the signal that ends it (deliver, rt_sigreturn), or at once without one. */
void sigmask_for_wait(uint64_t mask)
{
	current->saved_mask = current->sigmask;
	current->mask_saved = true;
	current->sigmask = mask & ~UNBLOCKABLE;
}

SYSCALL2(rt_sigsuspend, uint64_t, umask, long, size)
{
	if (size != 8)
		return -EINVAL;
	UOK(umask, 8);
	sigmask_for_wait(*(uint64_t *)umask);
	while (!fasync_sleep(0))
		;
	return -EINTR;
}

SYSCALL0(pause)
{
	while (!fasync_sleep(0))
		;
	return -EINTR;
}

SYSCALL4(rt_sigtimedwait, uint64_t, uset, uint64_t, uinfo, uint64_t, uts, long, size)
{
	if (size != 8)
		return -EINVAL;
	UOK(uset, 8);
	if (uinfo)
		UOK(uinfo, 128);
	uint64_t set = *(uint64_t *)uset & ~UNBLOCKABLE, deadline = 0;
	if (uts) {
		UOK(uts, sizeof(struct linux_timespec));
		const struct linux_timespec *ts = (const struct linux_timespec *)uts;
		if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= 1000000000)
			return -EINVAL;
		deadline = time_ns() + (uint64_t)ts->sec * 1000000000 + (uint64_t)ts->nsec;
	}
	struct ksiginfo k;
	for (;;) {
		int sig = signal_take(set, &k);
		if (sig) {
			if (uinfo)
				signal_fill_info((void *)uinfo, sig, &k);
			return sig;
		}
		if (uts && time_ns() >= deadline)
			return -EAGAIN;
		current->sigwait = set;
		bool signalled = fasync_sleep(uts ? deadline : 0);
		current->sigwait = 0;
		if (signalled && !((current->sigpending | current->proc->sigpending) & set))
			return -EINTR;
	}
}

/* ---- interval timers: ITIMER_REAL is timers[0], raising SIGALRM for the process; ITIMER_VIRTUAL
 * (SIGVTALRM) and ITIMER_PROF (SIGPROF) count down its CPU time, the kernel's in its calls
 * included for both: the kernel keeps no user/system split (getrusage's is all user time) ---- */
static void put_timeval(uint64_t u, uint64_t ns)
{
	*(struct linux_timeval *)u =
	    (struct linux_timeval){(int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000 / 1000)};
}

/* What the timer's clock reads now: the monotonic clock, or CPU time. */
static uint64_t timer_now(const struct ktimer *tm)
{
	if (!timer_on_cpu(tm))
		return time_ns();
	sched_cpu_ns(); /* charges the caller's time so far */
	return timer_cpu_ns(current->proc, tm);
}

static uint64_t left(const struct ktimer *tm)
{
	uint64_t now = timer_now(tm);
	return tm->used && tm->due ? (tm->due > now ? tm->due - now : 1) : 0;
}

static void arm(struct ktimer *tm, uint64_t value_ns, uint64_t interval_ns)
{
	tm->due = value_ns ? timer_now(tm) + value_ns : 0;
	tm->interval = value_ns ? interval_ns : 0;
	tm->overrun = 0;
	sched_timers_changed();
}

SYSCALL1(alarm, uint64_t, secs)
{
	struct ktimer *tm = &current->proc->timers[0];
	uint64_t was = left(tm);
	tm->used = true;
	tm->sig = SIGALRM;
	tm->notify = 0;
	arm(tm, secs * 1000000000ull, 0);
	return (long)((was + 500000000) / 1000000000) + (was && was < 500000000);
}

/* ITIMER_REAL 0, ITIMER_VIRTUAL 1, ITIMER_PROF 2; NULL for another */
static struct ktimer *itimer(long which)
{
	static const int sigs[] = {SIGALRM, SIGVTALRM, SIGPROF};
	if (which < 0 || which > 2)
		return NULL;
	struct proc *p = current->proc;
	struct ktimer *tm = which ? &p->cputimers[which - 1] : &p->timers[0];
	tm->used = true;
	tm->sig = sigs[which];
	tm->notify = 0;
	tm->clk = which ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_REALTIME;
	return tm;
}

SYSCALL2(getitimer, long, which, uint64_t, uval)
{
	struct ktimer *tm = itimer(which);
	if (!tm)
		return -EINVAL;
	UOK(uval, 32);
	put_timeval(uval, tm->interval);
	put_timeval(uval + 16, left(tm));
	return 0;
}

SYSCALL3(setitimer, long, which, uint64_t, unew, uint64_t, uold)
{
	if (!itimer(which))
		return -EINVAL;
	struct linux_timeval nv[2] = {{0, 0}, {0, 0}};
	if (unew) {
		UOK(unew, 32);
		memcpy(nv, (void *)unew, 32);
		for (int i = 0; i < 2; i++)
			if (nv[i].sec < 0 || nv[i].usec < 0 || nv[i].usec >= 1000000)
				return -EINVAL;
	}
	if (uold) {
		long r = do_getitimer(which, uold);
		if (r)
			return r;
	}
	struct ktimer *tm = itimer(which);
	uint64_t interval = (uint64_t)nv[0].sec * 1000000000 + (uint64_t)nv[0].usec * 1000;
	arm(tm, (uint64_t)nv[1].sec * 1000000000 + (uint64_t)nv[1].usec * 1000, interval);
	if (which)
		tm->interval =
		    interval; /* as Linux: a CPU timer set to 0 still tells its interval */
	return 0;
}

/* ---- POSIX timers: CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME, counted from now;
 * CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID (the caller's) count CPU time ---- */
struct linux_sigevent {
	uint64_t value;
	int32_t signo, notify, tid;
};

static struct ktimer *timer_get(long id)
{
	if (id < 0 || id >= NTIMERS - 1 || !current->proc->timers[id + 1].used)
		return NULL;
	return &current->proc->timers[id + 1];
}

SYSCALL3(timer_create, long, clk, uint64_t, uev, uint64_t, uid)
{
	clk = clock_self_cpu(clk);
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME &&
	    clk != CLOCK_PROCESS_CPUTIME_ID && clk != CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	UOK(uid, 4);
	struct linux_sigevent ev = {.signo = SIGALRM};
	if (uev) {
		UOK(uev, sizeof(ev));
		memcpy(&ev, (void *)uev, sizeof(ev));
	}
	if (ev.notify != 0 && ev.notify != 1 && ev.notify != 4)
		return -EINVAL; /* SIGEV_THREAD is the libc's, made of SIGEV_THREAD_ID */
	if (ev.notify != 1 && (ev.signo < 1 || ev.signo > 64))
		return -EINVAL;
	if (ev.notify == 4 && !task_by_tid(ev.tid))
		return -EINVAL;
	for (int i = 1; i < NTIMERS; i++) {
		struct ktimer *tm = &current->proc->timers[i];
		if (tm->used)
			continue;
		*tm = (struct ktimer){.used = true,
				      .sig = ev.signo,
				      .notify = ev.notify,
				      .tid = ev.tid,
				      .clk = (int)clk,
				      .clk_tid = current->tid,
				      .value = uev ? ev.value : (uint64_t)(i - 1)};
		*(int32_t *)uid = i - 1;
		return 0;
	}
	return -EAGAIN;
}

static uint64_t ts_ns(const struct linux_timespec *t)
{
	return (uint64_t)t->sec * 1000000000 + (uint64_t)t->nsec;
}

static void put_its(uint64_t u, const struct ktimer *tm)
{
	uint64_t v[2] = {tm->interval, left(tm)};
	struct linux_timespec *ts = (struct linux_timespec *)u;
	for (int i = 0; i < 2; i++)
		ts[i] = (struct linux_timespec){(int64_t)(v[i] / 1000000000),
						(int64_t)(v[i] % 1000000000)};
}

SYSCALL4(timer_settime, long, id, long, flags, uint64_t, unew, uint64_t, uold)
{
	struct ktimer *tm = timer_get(id);
	if (!tm)
		return -EINVAL;
	UOK(unew, 32);
	struct linux_timespec nv[2];
	memcpy(nv, (void *)unew, 32);
	for (int i = 0; i < 2; i++)
		if (nv[i].sec < 0 || nv[i].nsec < 0 || nv[i].nsec >= 1000000000)
			return -EINVAL;
	if (uold) {
		UOK(uold, 32);
		put_its(uold, tm);
	}
	uint64_t value = ts_ns(&nv[1]);
	if ((flags & 1) && value) { /* TIMER_ABSTIME */
		uint64_t now = clock_ns(tm->clk);
		value = value > now ? value - now : 1;
	}
	arm(tm, value, ts_ns(&nv[0]));
	return 0;
}

SYSCALL2(timer_gettime, long, id, uint64_t, ucur)
{
	struct ktimer *tm = timer_get(id);
	if (!tm)
		return -EINVAL;
	UOK(ucur, 32);
	put_its(ucur, tm);
	return 0;
}

SYSCALL1(timer_getoverrun, long, id)
{
	struct ktimer *tm = timer_get(id);
	return tm ? tm->overrun : -EINVAL;
}

SYSCALL1(timer_delete, long, id)
{
	struct ktimer *tm = timer_get(id);
	if (!tm)
		return -EINVAL;
	tm->used = false;
	tm->due = 0;
	return 0;
}
