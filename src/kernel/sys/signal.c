/* SPDX-License-Identifier: BSD-3-Clause */
/* Signals: honest for a program that never receives one (no signal frames yet). */
#include "sys.h"

/* the process's actions, each one the 32 bytes of the kernel's struct sigaction */
#define sigact	 ((uint64_t(*)[4])current->proc->sigact)
#define sigmask	 (current->sigmask)
#define altstack (current->altstack)

/* For /proc/PID/status: blocked, ignored and caught signals as bit sets (bit N-1 for N). */
void signal_sets(uint64_t *blocked, uint64_t *ignored, uint64_t *caught)
{
	*blocked = sigmask;
	*ignored = *caught = 0;
	for (int i = 1; i <= NSIG; i++) {
		if (sigact[i][0] == SIG_IGN)
			*ignored |= 1ull << (i - 1);
		else if (sigact[i][0] != SIG_DFL)
			*caught |= 1ull << (i - 1);
	}
}

void signal_reset_on_exec(void)
{
	for (int i = 1; i <= NSIG; i++) {
		uint64_t keep =
		    sigact[i][0] == SIG_IGN ? SIG_IGN : SIG_DFL; /* ignored stays ignored */
		memset(sigact[i], 0, sizeof(sigact[i]));
		sigact[i][0] = keep;
	}
	memset(altstack, 0, sizeof(altstack));
}

SYSCALL4(rt_sigaction, long, sig, uint64_t, act, uint64_t, oact, long, size)
{
	if (sig < 1 || sig > 64 || size != 8)
		return -EINVAL;
	if (act && (sig == 9 || sig == 19))
		return -EINVAL;
	if (oact) {
		UOK(oact, 32);
		memcpy((void *)oact, sigact[sig], 32);
	}
	if (act) {
		UOK(act, 32);
		memcpy(sigact[sig], (void *)act, 32);
	}
	return 0;
}

SYSCALL4(rt_sigprocmask, long, how, uint64_t, set, uint64_t, oset, long, size)
{
	if (size != 8)
		return -EINVAL;
	if (oset) {
		UOK(oset, 8);
		*(uint64_t *)oset = sigmask;
	}
	if (set) {
		UOK(set, 8);
		uint64_t s = *(uint64_t *)set & ~((1ul << 8) | (1ul << 18)); /* not KILL, STOP */
		if (how == 0)
			sigmask |= s;
		else if (how == 1)
			sigmask &= ~s;
		else if (how == 2)
			sigmask = s;
		else
			return -EINVAL;
	}
	return 0;
}

/* Nothing is ever pending: a signal is acted on when it is sent. */
SYSCALL2(rt_sigpending, uint64_t, uset, long, size)
{
	if (size != 8)
		return -EINVAL;
	UOK(uset, 8);
	*(uint64_t *)uset = 0;
	return 0;
}

SYSCALL2(sigaltstack, uint64_t, ss, uint64_t, oss)
{
	if (oss) {
		UOK(oss, 24);
		memcpy((void *)oss, altstack, 24);
		if (!altstack[0] && !altstack[2])
			((uint32_t *)oss)[2] = 2; /* SS_DISABLE */
	}
	if (ss) {
		UOK(ss, 24);
		memcpy(altstack, (void *)ss, 24);
	}
	return 0;
}

/* A signal sent to ourselves: default actions only, as there are no signal frames. */
SYSCALL2(kill, long, pid, long, sig)
{
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH;
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (!sig || (sig < 64 && (sigmask & (1ul << (sig - 1))) && sig != 9))
		return 0;
	uint64_t h = sigact[sig][0];
	if (h == 1) /* SIG_IGN */
		return 0;
	if (h == 0 && (sig == 17 || sig == 23 || sig == 28 || sig == 18))
		return 0;
	char msg[80];
	ksnprintf(msg, sizeof(msg),
		  h ? "signal %ld has a handler, which this kernel cannot run"
		    : "killed by signal %ld",
		  sig);
	kexit(128 + (int)sig, msg);
}

/* SIGPIPE on a broken pipe, SIGINT from ^C: what kill would do, as there is one process. */
void signal_raise(int sig)
{
	/* without job control the stop signals of the terminal are discarded, as Linux does
	 * for an orphaned process group */
	if ((sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) && sigact[sig][0] == SIG_DFL)
		return;
	do_kill(1, sig);
}

SYSCALL2(tkill, long, tid, long, sig)
{
	return task_by_tid(tid) ? do_kill(1, sig) : -ESRCH;
}

SYSCALL3(tgkill, long, tgid, long, tid, long, sig)
{
	struct task *t = task_by_tid(tid);
	return t && t->proc->pid == tgid ? do_kill(1, sig) : -ESRCH;
}
