/* SPDX-License-Identifier: BSD-3-Clause */
/* What the syscall handlers share: how a handler is defined, user memory, descriptors, paths. */
#ifndef KERNEL_SYS_H
#define KERNEL_SYS_H

#include "../exec.h"
#include "../fs/vfs.h"
#include "../kernel.h"
#include "../syscall.h"

/*
 * Defining a syscall.  SYSCALLn(name, type1, arg1, ...) { body } defines the
 * table's entry point sys_<name>(frame): it takes n arguments from the
 * registers the x86-64 ABI passes them in (rdi rsi rdx r10 r8 r9), converts
 * them to the types given and runs the body with them.  The table in
 * syscalls.def names the same count; a mismatch fails the link, since the
 * table refers to the symbol sys_nargs<n>_<name> that the definition makes.
 * SYSCALL_FRAME(name, n) is for the calls that need the user's registers
 * themselves (execve, and later clone and rt_sigreturn).
 */
#define SYS_A0		   ((fr)->rdi)
#define SYS_A1		   ((fr)->rsi)
#define SYS_A2		   ((fr)->rdx)
#define SYS_A3		   ((fr)->r10)
#define SYS_A4		   ((fr)->r8)
#define SYS_A5		   ((fr)->r9)
#define SYS_NARGS(name, n) const char sys_nargs##n##_##name = n

#define SYSCALL_FRAME(name, n)                                                                     \
	SYS_NARGS(name, n);                                                                        \
	long sys_##name(struct sysframe *fr)
#define SYSCALL0(name)                                                                             \
	static long do_##name(void);                                                               \
	SYSCALL_FRAME(name, 0)                                                                     \
	{                                                                                          \
		(void)fr;                                                                          \
		return do_##name();                                                                \
	}                                                                                          \
	static long do_##name(void)
#define SYSCALL1(name, t0, a0)                                                                     \
	static long do_##name(t0 a0);                                                              \
	SYSCALL_FRAME(name, 1)                                                                     \
	{                                                                                          \
		return do_##name((t0)SYS_A0);                                                      \
	}                                                                                          \
	static long do_##name(t0 a0)
#define SYSCALL2(name, t0, a0, t1, a1)                                                             \
	static long do_##name(t0 a0, t1 a1);                                                       \
	SYSCALL_FRAME(name, 2)                                                                     \
	{                                                                                          \
		return do_##name((t0)SYS_A0, (t1)SYS_A1);                                          \
	}                                                                                          \
	static long do_##name(t0 a0, t1 a1)
#define SYSCALL3(name, t0, a0, t1, a1, t2, a2)                                                     \
	static long do_##name(t0 a0, t1 a1, t2 a2);                                                \
	SYSCALL_FRAME(name, 3)                                                                     \
	{                                                                                          \
		return do_##name((t0)SYS_A0, (t1)SYS_A1, (t2)SYS_A2);                              \
	}                                                                                          \
	static long do_##name(t0 a0, t1 a1, t2 a2)
#define SYSCALL4(name, t0, a0, t1, a1, t2, a2, t3, a3)                                             \
	static long do_##name(t0 a0, t1 a1, t2 a2, t3 a3);                                         \
	SYSCALL_FRAME(name, 4)                                                                     \
	{                                                                                          \
		return do_##name((t0)SYS_A0, (t1)SYS_A1, (t2)SYS_A2, (t3)SYS_A3);                  \
	}                                                                                          \
	static long do_##name(t0 a0, t1 a1, t2 a2, t3 a3)
#define SYSCALL5(name, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4)                                     \
	static long do_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4);                                  \
	SYSCALL_FRAME(name, 5)                                                                     \
	{                                                                                          \
		return do_##name((t0)SYS_A0, (t1)SYS_A1, (t2)SYS_A2, (t3)SYS_A3, (t4)SYS_A4);      \
	}                                                                                          \
	static long do_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4)
#define SYSCALL6(name, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                             \
	static long do_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5);                           \
	SYSCALL_FRAME(name, 6)                                                                     \
	{                                                                                          \
		return do_##name((t0)SYS_A0, (t1)SYS_A1, (t2)SYS_A2, (t3)SYS_A3, (t4)SYS_A4,       \
				 (t5)SYS_A5);                                                      \
	}                                                                                          \
	static long do_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5)

/* user memory: UOK returns -EFAULT from the calling handler unless [p, p+n) is the program's */
int ustr(uint64_t p, char *buf, size_t size); /* 0, -EFAULT or -ENAMETOOLONG */
#define UOK(p, n)                                                                                  \
	do {                                                                                       \
		if (!vm_user_ok((uint64_t)(p), (n)))                                               \
			return -EFAULT;                                                            \
	} while (0)

/* descriptors (fd.c) */
#define NFD 1024 /* Linux's default RLIMIT_NOFILE; servers keep hundreds of sockets */
struct file *fd_get(long fd);
struct fdtable;
struct file *fd_in(const struct fdtable *t, long fd); /* another process's (/proc/PID/fd) */
int fd_alloc(struct file *f, int from, bool cloexec);
bool fd_cloexec(long fd);
void fd_close_on_exec(void);
void fd_init_console(void);
struct fdtable *fd_table_copy(void); /* fork: NULL when out of memory */
void fd_table_get(struct fdtable *t);
void fd_table_put(struct fdtable *t);

long fd_close(long fd);

/* sockets (net.c): the descriptor calls on them */
long sock_read(struct file *f, void *buf, size_t len);
long sock_write(struct file *f, const void *buf, size_t len);
unsigned sock_poll(struct file *f); /* POLL* bits ready now */
long sock_fionread(struct file *f);
uint32_t sock_arrivals(struct file *f); /* TCP: moves with every segment and queued connection */
void sock_release(struct node *n);	/* the last descriptor is gone */
bool sock_is_inet(struct file *f);	/* TCP or UDP: the stack reports its arrivals */

/* signal-driven I/O (fasync.c) */
int fasync_set(struct file *f, int fd, bool on);	   /* O_ASYNC through descriptor fd */
long fasync_fcntl(struct file *f, long cmd, uint64_t arg); /* F_[GS]ETOWN[_EX], F_[GS]ETSIG */
bool fasync_sleep(uint64_t deadline);			   /* waiting for signals; true: one came */

/* descriptors without a file: sockets, epoll, eventfd, timerfd (event.c) */
long anon_read(struct file *f, void *buf, size_t len);
long anon_write(struct file *f, const void *buf, size_t len);
unsigned anon_poll(struct file *f);
void anon_release(struct node *n);
bool anon_wait(uint64_t max_ns); /* the network, a timerfd or max_ns; true: a signal came */

/* /proc and /sys (procfs.c) */
int procfs_fill(struct file *f); /* make a K_PROC file's text as it is opened */

/* shared file mappings (shm.c) */
long shm_map(struct file *f, uint64_t va, uint64_t len, int prot, uint64_t pgoff);

/* credentials (cred.c) */
uint32_t cred_fsuid(void);
uint32_t cred_fsgid(void);
/* signal.c: t's blocked set, its process's ignored and caught ones */
void signal_sets(const struct task *t, uint64_t *blocked, uint64_t *ignored, uint64_t *caught);
void sigmask_for_wait(uint64_t mask); /* signal.c: rt_sigsuspend's, ppoll's, pselect6's mask */

/* paths (fs.c) */
int lookup_at(long dirfd, uint64_t upath, bool follow, struct node **out);
int lookup_create(long dirfd, uint64_t upath, bool follow, struct node **n, struct node **parent,
		  char *name);

/* state the program's image owns, reset by execve */
uint64_t clock_ns(long clk);	 /* time.c */
long clock_self_cpu(long clk);	 /* an encoded CPU clock of the caller: clock 2 or 3 */
void mm_reset(void);		 /* mm.c: the mmap search starts again at the top */
void signal_reset_on_exec(void); /* signal.c */
void limits_init(void);		 /* proc.c */

#endif
