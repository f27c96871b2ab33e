/* SPDX-License-Identifier: BSD-3-Clause */
/* Waiting for children: zombies, wait4 and waitid, SIGCHLD, orphans going to pid 1. */
#include "../sys/sys.h"
#include "task.h"

#define WNOHANG	      1
#define WUNTRACED     2 /* WSTOPPED to waitid */
#define WSTOPPED      2
#define WEXITED	      4
#define WCONTINUED    8
#define WNOWAIT	      0x01000000
#define __WNOTHREAD   0x20000000
#define __WALL	      0x40000000
#define __WCLONE      0x80000000
#define CLD_EXITED    1
#define CLD_KILLED    2
#define CLD_STOPPED   5
#define CLD_CONTINUED 6
#define SA_NOCLDWAIT  2ul
#define P_ALL	      0
#define P_PID	      1
#define P_PGID	      2

/* The waiting threads of p look at its children again. */
void proc_wake_waiters(struct proc *p)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->proc == p && t->in_wait)
			task_wake(t, W_WOKEN);
}

/* Does the parent let its children go unwaited (SIGCHLD ignored, or SA_NOCLDWAIT)? */
static bool auto_reap(const struct proc *parent)
{
	const struct linux_sigaction *a = &parent->sigact[SIGCHLD];
	return a->handler == SIG_IGN || (a->flags & SA_NOCLDWAIT);
}

static void reap(struct proc *c)
{
	c->state = P_DEAD;
	proc_free_if_done(c);
}

/*
 * p has just become a zombie: its children go to the nearest subreaper above
 * it, else to pid 1 (a zombie among them wakes the new parent's wait), and its parent hears of it
 * by its exit signal, unless it said it will not wait, in which case the zombie goes at once.
 */
void proc_reparent_and_notify(struct proc *p)
{
	struct proc *reaper = p->parent;
	while (reaper != &proc && !(reaper->subreaper && reaper->state == P_LIVE))
		reaper = reaper->parent;
	bool zombie_to_reaper = false;
	for (struct proc *c = proc_list; c; c = c->next)
		if (c->parent == p && c->state != P_DEAD) {
			c->parent = reaper;
			zombie_to_reaper |= c->state == P_ZOMBIE;
		}
	if (zombie_to_reaper)
		proc_wake_waiters(reaper);
	struct proc *parent = p->parent;
	int sig = p->wstatus & 0x7f;
	struct ksiginfo k = {.code = sig ? CLD_KILLED : CLD_EXITED,
			     .pid = p->pid,
			     .overrun = sig ? sig : (p->wstatus >> 8) & 0xff};
	if (p->exit_signal)
		signal_to_proc(parent, p->exit_signal, &k);
	if (p->exit_signal == SIGCHLD && auto_reap(parent))
		reap(p);
	proc_wake_waiters(parent); /* even when reaped: a wait may now find no child at all */
}

/* Is c one of the children the caller waits for (wait4's pid argument, waitid's id)? */
static bool matches(const struct proc *c, int idtype, long id)
{
	if (c->parent != current->proc || c->state == P_DEAD)
		return false;
	switch (idtype) {
	case P_PID:
		return c->pid == id;
	case P_PGID:
		return c->pgid == id;
	default:
		return true;
	}
}

/* What a wait reports of a child: its end, a stop or a continue. */
struct wait_event {
	struct proc *c;
	int code;   /* CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_CONTINUED */
	int status; /* the exit status, or the signal */
};

/* Has c something to report that the options ask for? */
static bool reportable(struct proc *c, long options, struct wait_event *ev)
{
	if (c->state == P_ZOMBIE && (options & WEXITED)) {
		int sig = c->wstatus & 0x7f;
		*ev = (struct wait_event){c, sig ? CLD_KILLED : CLD_EXITED,
					  sig ? sig : (c->wstatus >> 8) & 0xff};
		return true;
	}
	if (c->state != P_LIVE)
		return false;
	if ((options & WSTOPPED) && c->stopped && c->wait_stop) {
		*ev = (struct wait_event){c, CLD_STOPPED, c->stop_sig};
		return true;
	}
	if ((options & WCONTINUED) && c->wait_cont) {
		*ev = (struct wait_event){c, CLD_CONTINUED, SIGCONT};
		return true;
	}
	return false;
}

/* A child with something to report, one of the caller's: its pid; 0 when there are some but
 * none has news yet, -ECHILD when there are none, or -ERESTARTSYS. */
static long find_event(int idtype, long id, long options, struct wait_event *ev)
{
	for (;;) {
		bool any = false;
		for (struct proc *c = proc_list; c; c = c->next) {
			if (!matches(c, idtype, id))
				continue;
			any = true;
			if (reportable(c, options, ev))
				return c->pid;
		}
		if (!any)
			return -ECHILD;
		if (options & WNOHANG)
			return 0;
		current->in_wait = true;
		enum wake_reason why = task_sleep(0, true);
		current->in_wait = false;
		if (why == W_SIGNAL)
			return -ERESTARTSYS;
	}
}

/* The event is told: a stop or continue once, an end by reaping the zombie. */
static void consume(const struct wait_event *ev)
{
	if (ev->code == CLD_STOPPED)
		ev->c->wait_stop = false;
	else if (ev->code == CLD_CONTINUED)
		ev->c->wait_cont = false;
	else
		reap(ev->c);
}

/* Linux's status word: exit code << 8, the killing signal, 0x7f | stop signal << 8, 0xffff. */
static int32_t wstatus_of(const struct wait_event *ev)
{
	switch (ev->code) {
	case CLD_STOPPED:
		return 0x7f | ev->status << 8;
	case CLD_CONTINUED:
		return 0xffff;
	default:
		return ev->c->wstatus;
	}
}

SYSCALL4(wait4, int, pid, uint64_t, ustatus, int, options, uint64_t, urusage)
{
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	if (ustatus)
		UOK(ustatus, 4);
	if (urusage)
		UOK(urusage, 144);
	int idtype = pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID;
	long id = pid > 0 ? pid : pid == 0 ? current->proc->pgid : -pid;
	struct wait_event ev;
	long r = find_event(idtype, id, options | WEXITED, &ev);
	if (r <= 0)
		return r;
	if (ustatus)
		*(int32_t *)ustatus = wstatus_of(&ev);
	if (urusage)
		memset((void *)urusage, 0, 144);
	consume(&ev);
	return r;
}

SYSCALL5(waitid, int, idtype, int, id, uint64_t, uinfo, int, options, uint64_t, urusage)
{
	if (idtype < P_ALL || idtype > P_PGID || (idtype != P_ALL && id < 0) ||
	    (idtype == P_PID && !id))
		return idtype == 3 ? -ENOSYS : -EINVAL; /* P_PIDFD: no pidfds here */
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)) ||
	    (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WNOTHREAD |
			 __WALL | __WCLONE)))
		return -EINVAL;
	if (uinfo)
		UOK(uinfo, 128);
	if (urusage)
		UOK(urusage, 144);
	if (idtype == P_PGID && id == 0)
		id = current->proc->pgid;
	struct wait_event ev;
	long r = find_event((int)idtype, id, options, &ev);
	if (r < 0)
		return r;
	if (uinfo) {
		memset((void *)uinfo, 0, 128);
		if (r) { /* WNOHANG and no news: a zeroed siginfo */
			struct ksiginfo k = {
			    .code = ev.code, .pid = (int32_t)r, .overrun = ev.status};
			signal_fill_info((void *)uinfo, SIGCHLD, &k);
		}
	}
	if (urusage)
		memset((void *)urusage, 0, 144);
	if (r && !(options & WNOWAIT))
		consume(&ev);
	return 0;
}

SYSCALL0(getppid)
{
	struct proc *p = current->proc->parent;
	return p ? p->pid : 0;
}
