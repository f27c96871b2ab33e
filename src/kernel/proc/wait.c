/* SPDX-License-Identifier: BSD-3-Clause */
/* Waiting for children: zombies, wait4 and waitid, SIGCHLD, orphans going to pid 1. */
#include "../sys/sys.h"
#include "task.h"

#define WNOHANG	     1
#define WEXITED	     4
#define WNOWAIT	     0x01000000
#define __WNOTHREAD  0x20000000
#define __WALL	     0x40000000
#define __WCLONE     0x80000000
#define CLD_EXITED   1
#define CLD_KILLED   2
#define SA_NOCLDWAIT 2ul
#define P_ALL	     0
#define P_PID	     1
#define P_PGID	     2

/* The waiting threads of p look at its children again. */
static void wake_waiters(struct proc *p)
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
		wake_waiters(reaper);
	struct proc *parent = p->parent;
	int sig = p->wstatus & 0x7f;
	struct ksiginfo k = {.code = sig ? CLD_KILLED : CLD_EXITED,
			     .pid = p->pid,
			     .overrun = sig ? sig : (p->wstatus >> 8) & 0xff};
	if (p->exit_signal)
		signal_to_proc(parent, p->exit_signal, &k);
	if (p->exit_signal == SIGCHLD && auto_reap(parent))
		reap(p);
	wake_waiters(parent); /* even when reaped: a wait may now find no child at all */
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

/* A child that ended, one of the caller's; 0 when there are some but none has yet, -ECHILD
 * when there are none, or -EINTR/-ERESTARTSYS. */
static long find_zombie(int idtype, long id, long options, struct proc **out)
{
	for (;;) {
		bool any = false;
		for (struct proc *c = proc_list; c; c = c->next) {
			if (!matches(c, idtype, id))
				continue;
			any = true;
			if (c->state == P_ZOMBIE) {
				*out = c;
				return c->pid;
			}
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

SYSCALL4(wait4, int, pid, uint64_t, ustatus, int, options, uint64_t, urusage)
{
	if (options & ~(WNOHANG | 2 | 8 | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	if (ustatus)
		UOK(ustatus, 4);
	if (urusage)
		UOK(urusage, 144);
	int idtype = pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID;
	long id = pid > 0 ? pid : pid == 0 ? current->proc->pgid : -pid;
	struct proc *c = NULL;
	long r = find_zombie(idtype, id, options, &c);
	if (r <= 0)
		return r;
	if (ustatus)
		*(int32_t *)ustatus = c->wstatus;
	if (urusage)
		memset((void *)urusage, 0, 144);
	reap(c);
	return r;
}

SYSCALL5(waitid, int, idtype, int, id, uint64_t, uinfo, int, options, uint64_t, urusage)
{
	if (idtype < P_ALL || idtype > P_PGID || (idtype != P_ALL && id < 0) ||
	    (idtype == P_PID && !id))
		return idtype == 3 ? -ENOSYS : -EINVAL; /* P_PIDFD: no pidfds here */
	if (!(options & WEXITED) ||
	    (options & ~(WNOHANG | WEXITED | WNOWAIT | 2 | 8 | __WNOTHREAD | __WALL | __WCLONE)))
		return -EINVAL;
	if (uinfo)
		UOK(uinfo, 128);
	if (urusage)
		UOK(urusage, 144);
	if (idtype == P_PGID && id == 0)
		id = current->proc->pgid;
	struct proc *c = NULL;
	long r = find_zombie((int)idtype, id, options, &c);
	if (r < 0)
		return r;
	if (uinfo) {
		int sig = c ? c->wstatus & 0x7f : 0;
		struct ksiginfo k = {.code = sig ? CLD_KILLED : CLD_EXITED,
				     .pid = (int32_t)r,
				     .overrun = sig ? sig : (c ? (c->wstatus >> 8) & 0xff : 0)};
		memset((void *)uinfo, 0, 128);
		if (c) /* WNOHANG and none ended: a zeroed siginfo */
			signal_fill_info((void *)uinfo, SIGCHLD, &k);
	}
	if (urusage)
		memset((void *)urusage, 0, 144);
	if (c && !(options & WNOWAIT))
		reap(c);
	return 0;
}

SYSCALL0(getppid)
{
	struct proc *p = current->proc->parent;
	return p ? p->pid : 0;
}
