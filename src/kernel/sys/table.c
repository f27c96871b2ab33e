/* SPDX-License-Identifier: BSD-3-Clause */
/* The syscall table made from syscalls.def: a guarded dispatch by number, names, -ENOSYS counts. */
#include "../proc/task.h"
#include "sys.h"

#define NSYS 451 /* one past the highest number syscalls.def has */

typedef long sys_fn(struct sysframe *fr);

/* each handler, and the argument count its definition was made with (see sys.h) */
#define SYS(nr, name, nargs)                                                                       \
	sys_fn sys_##name;                                                                         \
	extern const char sys_nargs##nargs##_##name;
#define NOSYS(nr, name)
#include "syscalls.def"
#undef SYS
#undef NOSYS

static const struct syscall {
	const char *name;
	sys_fn *fn; /* NULL: not implemented */
} table[NSYS] = {
#define SYS(nr, name, nargs) [nr] = {#name, sys_##name},
#define NOSYS(nr, name)	     [nr] = {#name, NULL},
#include "syscalls.def"
#undef SYS
#undef NOSYS
};

/* The argument count each definition was made with (sys.h): a mismatch is an undefined symbol.
 * About 700 bytes, kept so that the link makes the check. */
__attribute__((used)) static const char *const nargs_check[] = {
#define SYS(nr, name, nargs) &sys_nargs##nargs##_##name,
#define NOSYS(nr, name)
#include "syscalls.def"
#undef SYS
#undef NOSYS
};

long sys_last = -1;
static uint32_t nosys_count[NSYS];

const char *syscall_name(long nr)
{
	return nr >= 0 && nr < NSYS && table[nr].name ? table[nr].name : "?";
}

void syscall_report(void)
{
	char line[512];
	size_t o = 0;
	for (int i = 0; i < NSYS; i++) {
		if (!nosys_count[i])
			continue;
		o += (size_t)ksnprintf(line + o, sizeof(line) - o, "%s%s(%d) x%u", o ? ", " : "",
				       syscall_name(i), i, nosys_count[i]);
		if (o >= sizeof(line) - 40) {
			kprintf("capstan: unimplemented syscalls: %s\n", line);
			o = 0;
		}
	}
	if (o)
		kprintf("capstan: unimplemented syscalls: %s\n", line);
	else
		kprintf("capstan: unimplemented syscalls: none\n");
}

void syscall_init(void)
{
	limits_init();
	fd_init_console();
}

/*
 * --strace: a line when a call starts (a call that blocks shows where a
 * program waits) and one with its result, both with the pid and tid.
 */
static void strace_enter(const struct sysframe *fr, long nr)
{
	uint64_t t = time_ns() / 1000;
	kprintf("%lu.%06lu [%d.%d] %s(0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx)\n", t / 1000000,
		t % 1000000, current->proc->pid, current->tid, syscall_name(nr), fr->rdi, fr->rsi,
		fr->rdx, fr->r10, fr->r8, fr->r9);
}

static void strace_exit(const struct sysframe *fr, long nr)
{
	uint64_t t = time_ns() / 1000;
	kprintf("%lu.%06lu [%d.%d] %s = %ld\n", t / 1000000, t % 1000000, current->proc->pid,
		current->tid, syscall_name(nr), (long)fr->rax);
}

void syscall_dispatch(struct sysframe *fr)
{
	long nr = (long)fr->rax;
	sys_last = nr;
	current->sys_nr = nr;
	current->sysframe = fr;
	power_poll(); /* a program that never waits still hears the power button */
	if (kopt.strace)
		strace_enter(fr, nr);
	if (nr >= 0 && nr < NSYS && table[nr].fn) {
		fr->rax = (uint64_t)table[nr].fn(fr);
		if (kopt.strace)
			strace_exit(fr, nr);
		signal_syscall_exit(fr);
		return;
	}
	if (nr >= 0 && nr < NSYS)
		nosys_count[nr]++;
	kverbose("capstan: unimplemented syscall %s (%ld)\n", syscall_name(nr), nr);
	fr->rax = (uint64_t)-ENOSYS;
	if (kopt.strace)
		strace_exit(fr, nr);
}
