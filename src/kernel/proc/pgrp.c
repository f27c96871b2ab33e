/* SPDX-License-Identifier: BSD-3-Clause */
/* Process groups and sessions, and the console as their controlling terminal. */
#include "../sys/sys.h"
#include "task.h"

/* The console: the session it controls and its foreground group (pid 1's at boot). */
static int tty_sid = 1, tty_pgrp = 1;

static bool group_in_session(long pgid, int sid)
{
	for (struct proc *p = proc_list; p; p = p->next)
		if (p->state != P_DEAD && p->pgid == pgid && p->sid == sid)
			return true;
	return false;
}

/* A signal to every process of group pgid; false when there is none. */
bool signal_pgrp(long pgid, int sig, const struct ksiginfo *info)
{
	bool found = false;
	for (struct proc *p = proc_list; p; p = p->next)
		if (p->state != P_DEAD && p->pgid == pgid) {
			found = true;
			signal_to_proc(p, sig, info);
		}
	return found;
}

/* Linux's orphaned process group: no member has its parent in another group of the same
 * session, so no job-control shell is left to continue it.  (A parent that is pid 1 counts as
 * any other: pid 1 here is often the shell itself, as in a container.) */
bool pgrp_orphaned(long pgid)
{
	for (struct proc *p = proc_list; p; p = p->next) {
		if (p->state != P_LIVE || p->pgid != pgid)
			continue;
		const struct proc *par = p->parent;
		if (par && par->pgid != pgid && par->sid == p->sid)
			return false;
	}
	return true;
}

/*
 * A process of the console's session, outside its foreground group, reads it (sig SIGTTIN),
 * or writes with TOSTOP or changes its settings (SIGTTOU).  As Linux: its group gets the
 * signal and the call is tried again once the group is continued (-ERESTARTSYS); with the
 * signal blocked or ignored a read fails with EIO and the rest goes ahead; an orphaned group
 * (and pid 1, which stop signals do not stop) gets EIO.
 */
int tty_job_check(int sig)
{
	struct proc *me = current->proc;
	if (me->sid != tty_sid || me->pgid == tty_pgrp)
		return 0;
	if (me->sigact[sig].handler == SIG_IGN || (current->sigmask & SIGBIT(sig)))
		return sig == SIGTTIN ? -EIO : 0;
	if (me->pid == 1 || pgrp_orphaned(me->pgid))
		return -EIO;
	struct ksiginfo k = {.code = SI_KERNEL};
	signal_pgrp(me->pgid, sig, &k);
	return -ERESTARTSYS;
}

/* VINTR, VQUIT and VSUSP typed on the console go to its foreground group. */
void tty_signal(int sig)
{
	struct ksiginfo k = {.code = SI_KERNEL};
	signal_pgrp(tty_pgrp, sig, &k);
}

int tty_pgrp_of(const struct proc *p)
{
	return p->sid == tty_sid ? tty_pgrp : -1;
}

int tty_ioctl_pgrp(unsigned long req, uint64_t arg)
{
	struct proc *me = current->proc;
	if (!vm_user_ok(arg, 4))
		return req == TIOCSCTTY ? 0 : -EFAULT;
	switch (req) {
	case TIOCGPGRP:
	case TIOCGSID:
		if (me->sid != tty_sid)
			return -ENOTTY; /* not our controlling terminal */
		*(int32_t *)arg = req == TIOCGPGRP ? tty_pgrp : tty_sid;
		return 0;
	case TIOCSPGRP: {
		int32_t pgid = *(int32_t *)arg;
		if (me->sid != tty_sid)
			return -ENOTTY;
		if (pgid < 0)
			return -EINVAL;
		if (!group_in_session(pgid, me->sid))
			return -EPERM;
		tty_pgrp = pgid;
		return 0;
	}
	default: /* TIOCSCTTY: a session leader takes the console (root may take it from another) */
		if (me->sid == tty_sid)
			return 0;
		if (me->sid != me->pid)
			return -EPERM;
		tty_sid = me->sid;
		tty_pgrp = me->pgid;
		return 0;
	}
}

SYSCALL0(getpgrp)
{
	return current->proc->pgid;
}

static struct proc *target(int pid)
{
	return pid ? proc_by_pid(pid) : current->proc;
}

SYSCALL1(getpgid, int, pid)
{
	struct proc *p = target(pid);
	return p ? p->pgid : -ESRCH;
}

SYSCALL1(getsid, int, pid)
{
	struct proc *p = target(pid);
	return p ? p->sid : -ESRCH;
}

/* setpgid: the caller or a child of its, not yet exec'd, within one session; the group is new
 * (pgid = its pid) or one the session has. */
SYSCALL2(setpgid, int, pid, int, pgid)
{
	struct proc *me = current->proc, *p = target(pid);
	if (pgid < 0)
		return -EINVAL;
	if (!p || (p != me && p->parent != me))
		return -ESRCH;
	if (p != me && p->execed)
		return -EACCES;
	if (p->sid != me->sid || p->sid == p->pid)
		return -EPERM;
	if (!pgid)
		pgid = p->pid;
	if (pgid != p->pid && !group_in_session(pgid, me->sid))
		return -EPERM;
	p->pgid = pgid;
	return 0;
}

/* setsid: a new session and group led by the caller, which must not lead a group already. */
SYSCALL0(setsid)
{
	struct proc *me = current->proc;
	for (struct proc *p = proc_list; p; p = p->next)
		if (p->state != P_DEAD && p->pgid == me->pid)
			return -EPERM;
	me->sid = me->pgid = me->pid;
	return me->sid;
}

/* ---- nice values: a process's, its group's, the (only) user's ---- */
#define PRIO_PROCESS 0
#define PRIO_PGRP    1
#define PRIO_USER    2

/* Is p one that setpriority's (which, who) names? */
static bool prio_names(const struct proc *p, int which, int who)
{
	struct proc *me = current->proc;
	if (p->state != P_LIVE)
		return false;
	switch (which) {
	case PRIO_PROCESS:
		return p->pid == (who ? who : me->pid);
	case PRIO_PGRP:
		return p->pgid == (who ? who : me->pgid);
	default: /* PRIO_USER: every process belongs to the one user, root */
		return (uint32_t)who == p->cred.uid || (!who && p->cred.uid == me->cred.uid);
	}
}

/* The raw call returns 20 - nice (1..40) of the highest-priority process named. */
SYSCALL2(getpriority, int, which, int, who)
{
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	int best = 20; /* above any nice */
	for (struct proc *p = proc_list; p; p = p->next)
		if (prio_names(p, which, who) && p->nice < best)
			best = p->nice;
	return best == 20 ? -ESRCH : 20 - best;
}

/* Root may raise and lower it; the scheduler is round robin and does not use it (yet). */
SYSCALL3(setpriority, int, which, int, who, int, nice)
{
	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	nice = nice < -20 ? -20 : nice > 19 ? 19 : nice;
	bool found = false;
	for (struct proc *p = proc_list; p; p = p->next)
		if (prio_names(p, which, who)) {
			p->nice = nice;
			found = true;
		}
	return found ? 0 : -ESRCH;
}
