/* SPDX-License-Identifier: BSD-3-Clause */
/* The process: exit, execve, identity, limits, the machine it runs on. */
#include "sys.h"

/* ---- execve: the new program replaces the old one ---- */
#define EXEC_STRINGS (256u << 10) /* bytes of argv and envp strings, like a small ARG_MAX */

/* Copy a NULL-terminated user array of strings into pool; the count or a negative errno. */
static long copy_strv(uint64_t uv, char **out, char *pool, size_t *used)
{
	long n = 0;
	if (!uv)
		goto done;
	for (;; n++) {
		UOK(uv + (uint64_t)n * 8, 8);
		uint64_t p = *(const uint64_t *)(uv + (uint64_t)n * 8);
		if (!p)
			break;
		if (n >= KARGS)
			return -E2BIG;
		int r = ustr(p, pool + *used, EXEC_STRINGS - *used);
		if (r)
			return r == -ENAMETOOLONG ? -E2BIG : r;
		out[n] = pool + *used;
		*used += strlen(out[n]) + 1;
	}
done:
	out[n] = NULL;
	return n;
}

SYSCALL3(execve, uint64_t, upath, uint64_t, uargv, uint64_t, uenvp)
{
	static char path[4096], pool[EXEC_STRINGS + 1], why[400]; /* + 1: an empty argv[0] */
	static char *argv[KARGS + 1], *envp[KARGS + 1];
	static struct exec_image img;
	size_t used = 0;
	int r = ustr(upath, path, sizeof(path));
	if (r)
		return r;
	long argc = copy_strv(uargv, argv, pool, &used);
	if (argc < 0)
		return argc;
	long envc = copy_strv(uenvp, envp, pool, &used);
	if (envc < 0)
		return envc;
	if (!path[0])
		return -ENOENT;
	int ac = (int)argc;
	if ((r = exec_script(path, argv, &ac, pool, &used, EXEC_STRINGS)))
		return r;
	argc = ac;
	r = exec_check(path, &img, why, sizeof(why));
	if (r) {
		if (img.info.interp_size) /* the message the kernel gives at boot */
			kprintf("capstan: %s: %s\n", path, why);
		kverbose("capstan: execve %s: %s\n", path, why);
		return r;
	}
	if (!argc) { /* Linux gives such a program an empty argv[0] */
		argv[0] = pool + used;
		pool[used] = 0;
		argv[argc = 1] = NULL;
	}

	/* past the point of no return: tear down the old program */
	fd_close_on_exec();
	signal_reset_on_exec();
	task_exec_alone(); /* the other threads end */
	task_save_fs(0);
	task_save_gs(0);
	proc_exec_mm(); /* a new address space, or the old one emptied */
	mm_reset();
	exec_enter(&img, path, (int)argc, argv, envp, 0);
}

/* ---- identity, limits ---- */
static struct linux_rlimit rlim[RLIM_NLIMITS];

void limits_init(void)
{
	for (int i = 0; i < 16; i++)
		rlim[i].cur = rlim[i].max = ~0ul;
	rlim[3].cur = 8ul << 20;	 /* RLIMIT_STACK */
	rlim[7].cur = rlim[7].max = NFD; /* RLIMIT_NOFILE */
	rlim[4].cur = 0;		 /* RLIMIT_CORE */
}

SYSCALL4(prlimit64, long, pid, long, res, uint64_t, unew, uint64_t, uold)
{
	if (pid != 0 && pid != current->proc->pid && !task_by_tid(pid))
		return -ESRCH;
	if (res < 0 || res >= 16)
		return -EINVAL;
	if (uold) {
		UOK(uold, 16);
		memcpy((void *)uold, &rlim[res], 16);
	}
	if (unew) {
		UOK(unew, 16);
		uint64_t v[2];
		memcpy(v, (void *)unew, 16);
		if (v[0] > v[1])
			return -EINVAL;
		if (v[1] > rlim[res].max)
			return -EPERM;
		rlim[res].cur = v[0];
		rlim[res].max = v[1];
	}
	return 0;
}

SYSCALL2(getrlimit, long, res, uint64_t, uold)
{
	return do_prlimit64(0, res, 0, uold);
}

SYSCALL2(setrlimit, long, res, uint64_t, unew)
{
	return do_prlimit64(0, res, unew, 0);
}

uint32_t proc_umask(void)
{
	return current->proc->umask;
}

SYSCALL1(umask, long, mask)
{
	uint32_t old = current->proc->umask;
	current->proc->umask = (uint32_t)mask & 0777;
	return old;
}

/* ---- the machine ---- */
SYSCALL1(uname, uint64_t, ubuf)
{
	static const char *const f[6] = {
	    "Linux", "capstan", "6.1.0-capstan", "#1 capstan " CAPSTAN_VERSION, "x86_64", "(none)"};
	UOK(ubuf, 6 * 65);
	char *b = (char *)ubuf;
	memset(b, 0, 6 * 65);
	for (int i = 0; i < 6; i++)
		memcpy(b + i * 65, f[i], strlen(f[i]));
	return 0;
}

SYSCALL1(sysinfo, uint64_t, ubuf)
{
	uint8_t si[112];
	UOK(ubuf, sizeof(si));
	memset(si, 0, sizeof(si));
	uint64_t up = time_ns() / 1000000000, total = pmm_total_pages() * PAGE_SIZE,
		 fr = pmm_free_pages() * PAGE_SIZE;
	uint16_t procs = 1;
	uint32_t unit = 1;
	memcpy(si, &up, 8);
	memcpy(si + 32, &total, 8);
	memcpy(si + 40, &fr, 8);
	memcpy(si + 80, &procs, 2);
	memcpy(si + 104, &unit, 4);
	memcpy((void *)ubuf, si, sizeof(si));
	return 0;
}

SYSCALL2(arch_prctl, long, code, uint64_t, addr)
{
	switch (code) {
	case 0x1001: /* ARCH_SET_GS */
		if (addr >= 0x800000000000ul)
			return -EPERM;
		task_save_gs(addr);
		return 0;
	case 0x1002: /* ARCH_SET_FS */
		if (addr >= 0x800000000000ul)
			return -EPERM;
		task_save_fs(addr);
		return 0;
	case 0x1003:
	case 0x1004:
		UOK(addr, 8);
		*(uint64_t *)addr = code == 0x1003 ? current->fs : current->gs;
		return 0;
	}
	return -EINVAL;
}

SYSCALL3(getrandom, uint64_t, buf, size_t, len, long, flags)
{
	if (flags & ~7l)
		return -EINVAL;
	UOK(buf, len);
	random_fill((void *)buf, len);
	return (long)len;
}

SYSCALL4(rseq, uint64_t, rs, uint32_t, len, long, flags, uint32_t, sig)
{
	if (flags == 1) { /* RSEQ_FLAG_UNREGISTER */
		current->rseq = 0;
		return 0;
	}
	if (flags || len < 32)
		return -EINVAL;
	UOK(rs, 32);
	/* cpu_id_start and cpu_id, kept up to date by schedule(); a preempted critical
	 * section is aborted (sched.c) */
	((uint32_t *)rs)[0] = (uint32_t)this_cpu()->id;
	((uint32_t *)rs)[1] = (uint32_t)this_cpu()->id;
	current->rseq = rs;
	return 0;
}
