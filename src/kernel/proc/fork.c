/* SPDX-License-Identifier: BSD-3-Clause */
/* Processes: fork, vfork and clone without CLONE_THREAD; execve's address space; exit. */
#include "../sys/sys.h"
#include "task.h"

struct proc *proc_list = &proc;

struct node **proc_cwd(void)
{
	return &current->proc->cwd;
}

struct proc *proc_by_pid(long pid)
{
	for (struct proc *p = proc_list; p; p = p->next)
		if (p->pid == pid && p->state != P_DEAD)
			return p;
	return NULL;
}

static void *memdup(const void *src, size_t len)
{
	void *d = src ? kmalloc(len + 1) : NULL;
	if (d)
		memcpy(d, src, len);
	return d;
}

/* The child's struct proc: what fork copies (actions, ids, cwd, umask, the program's names);
 * pending signals and timers are not inherited. */
static struct proc *proc_copy(struct proc *parent, struct task *t)
{
	struct proc *p = kmalloc(sizeof(*p));
	if (!p)
		return NULL;
	*p = *parent;
	p->pid = t->tid;
	p->nthreads = 0;
	p->ntasks = 1;
	p->state = P_LIVE;
	p->wstatus = 0;
	p->parent = parent;
	p->vfork_parent = NULL;
	p->subreaper = false;
	p->execed = false;
	p->children_ns = 0;
	p->cpu_ns = 0;
	p->sigpending = 0;
	p->sigq = NULL;
	p->wait_stop = p->wait_cont = false; /* the parent's, not yet waited for */
	memset(p->siginfo, 0, sizeof(p->siginfo));
	memset(p->timers, 0, sizeof(p->timers));
	memset(p->cputimers, 0, sizeof(p->cputimers));
	p->start_ns = time_ns();
	p->exe = parent->exe ? kstrdup(parent->exe) : NULL;
	p->cmdline = memdup(parent->cmdline, parent->cmdline_len);
	p->environ = memdup(parent->environ, parent->environ_len);
	p->mm = NULL;
	p->fdt = NULL;
	return p;
}

static void proc_unlink(struct proc *p)
{
	for (struct proc **pp = &proc_list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

/* A reaped process goes when its last task has been freed. */
void proc_free_if_done(struct proc *p)
{
	if (p->state != P_DEAD || p->ntasks || p == &proc)
		return;
	proc_unlink(p);
	signal_forget(&p->sigq);
	kfree(p->exe);
	kfree(p->cmdline);
	kfree(p->environ);
	kfree(p);
}

/* Put the child's tid at ctid in the child's memory: written before the copy, put back after. */
static struct mm *fork_mm(uint64_t ctid, int tid, bool settid)
{
	int32_t old = settid ? *(int32_t *)ctid : 0;
	if (settid)
		*(int32_t *)ctid = tid;
	struct mm *mm = vm_fork();
	if (settid && vm_user_ok(ctid, 4)) /* the parent's page is its own again */
		*(int32_t *)ctid = old;
	return mm;
}

long proc_clone(struct sysframe *fr, uint64_t flags, uint64_t sp, uint64_t ptid, uint64_t ctid,
		uint64_t tls)
{
	struct task *t = task_new();
	if (!t)
		return -EAGAIN;
	struct proc *parent = current->proc, *p = proc_copy(parent, t);
	if (!p) {
		task_discard(t);
		return -EAGAIN;
	}
	parent->ntasks--; /* task_new counted it as the parent's */
	t->proc = p;
	if (flags & CLONE_VM) {
		p->mm = parent->mm;
		vm_get(p->mm);
		if (flags & CLONE_CHILD_SETTID)
			*(int32_t *)ctid = t->tid;
	} else {
		p->mm = fork_mm(ctid, t->tid, flags & CLONE_CHILD_SETTID);
	}
	if (flags & CLONE_FILES) {
		p->fdt = parent->fdt;
		fd_table_get(p->fdt);
	} else {
		p->fdt = fd_table_copy();
	}
	if (!p->mm || !p->fdt) {
		if (p->mm)
			vm_put(p->mm);
		if (p->fdt)
			fd_table_put(p->fdt);
		p->state = P_DEAD;
		task_discard(t);
		proc_free_if_done(p);
		return -ENOMEM;
	}
	clone_frame(t, fr, sp);
	p->exit_signal = (int)(flags & 0xff);
	if (flags & CLONE_CLEAR_SIGHAND) /* handlers back to the default; ignored ones stay so */
		for (int i = 1; i <= NSIG; i++)
			if (p->sigact[i].handler != SIG_IGN)
				p->sigact[i] = (struct linux_sigaction){0};
	if (flags & CLONE_SETTLS)
		t->fs = tls;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;
	t->sigpending = 0;
	p->next = parent->next;
	parent->next = p;
	if ((flags & CLONE_PARENT_SETTID) && vm_user_ok(ptid, 4)) /* again: now copy-on-write */
		*(int32_t *)ptid = t->tid;
	long pid = p->pid;
	task_start(t);
	if (flags & CLONE_VFORK) { /* the child borrows our memory until it execs or exits */
		p->vfork_parent = current;
		current->in_vfork = true;
		while (current->in_vfork)
			task_sleep(0, false);
	}
	return pid;
}

SYSCALL_FRAME(fork, 0)
{
	return proc_clone(fr, SIGCHLD, 0, 0, 0, 0);
}

SYSCALL_FRAME(vfork, 0)
{
	return proc_clone(fr, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

/* A vfork child is done with its parent's memory: the parent goes on. */
static void vfork_release(struct proc *p)
{
	if (p->vfork_parent) {
		struct task *t = p->vfork_parent;
		p->vfork_parent = NULL;
		t->in_vfork = false;
		task_wake(t, W_WOKEN);
	}
}

void proc_exec_mm(void)
{
	struct proc *p = current->proc;
	p->execed = true;
	if (vm_shared(p->mm)) {
		struct mm *mm = vm_new(), *old = p->mm;
		if (!mm)
			proc_exit(SIGKILL); /* past the point of no return, as Linux */
		p->mm = mm;
		vm_switch(mm);
		vm_put(old);
	} else {
		vm_release_user();
	}
	vfork_release(p);
}

void proc_reparent_and_notify(struct proc *p); /* wait.c */

/*
 * The process ends: its threads, descriptors and memory go now; what is
 * left is a zombie holding the status for its parent.  pid 1's end is the
 * machine's: it powers off with the status (capstan-kernel(7)).
 */
void proc_exit(int wstatus)
{
	struct proc *p = current->proc;
	int sig = wstatus & 0x7f;
	if (p->pid == 1) {
		char msg[48];
		if (!sig)
			kexit((wstatus >> 8) & 0xff, NULL);
		ksnprintf(msg, sizeof(msg), "killed by signal %d", sig);
		kexit(128 + sig, msg);
	}
	task_exec_alone();	      /* the other threads end */
	current->clear_child_tid = 0; /* its memory is about to go */
	current->robust_list = 0;
	fd_table_put(p->fdt);
	p->fdt = NULL;
	memset(p->timers, 0, sizeof(p->timers));
	memset(p->cputimers, 0, sizeof(p->cputimers));
	vfork_release(p);
	vm_put(p->mm); /* when freed, CR3 goes to pid 1's first */
	p->mm = NULL;
	p->wstatus = wstatus;
	p->state = P_ZOMBIE;
	proc_reparent_and_notify(p);
	task_exit();
}
