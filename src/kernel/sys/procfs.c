/* SPDX-License-Identifier: BSD-3-Clause */
/* /proc and /sys: files whose text is made, from the kernel's state, when they are opened. */
#include "../proc/task.h"
#include "sys.h"

enum gen {
	G_CMDLINE,
	G_ENVIRON,
	G_STAT,
	G_STATUS,
	G_MAPS,
	G_MEMINFO,
	G_CPUINFO,
	G_SYSSTAT,
	G_UPTIME,
	G_LOADAVG,
	G_MOUNTS,
	G_CPU_ONLINE,
	G_MOUNTINFO,
	G_COMM,
	G_PID_DIR, /* a directory: /proc/PID */
};

#define USER_HZ 100 /* the clock ticks /proc counts in (AT_CLKTCK) */

/* ---- building the text ---- */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void tput(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = MAX(t->cap * 2, t->len + n + 256);
		char *b = krealloc(t->buf, cap);
		if (!b) {
			t->oom = true;
			return;
		}
		t->buf = b, t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tput(t, line, (size_t)MIN(n, (int)sizeof(line) - 1));
}

/* ---- the process ---- */

/*
 * /proc/PID shows process PID to every caller, as on Linux; /proc/self and
 * /proc/thread-self are links that each look at /proc points at the caller's
 * own directory. Every node under /proc/PID carries the pid (node->pid), so a
 * descriptor kept past its process's end reads -ESRCH.
 */
static struct proc *proc_of(const struct node *n)
{
	return n->pid ? proc_by_pid(n->pid) : NULL;
}

static const char *comm_of(const struct proc *p)
{
	const char *e = p->exe ? p->exe : "";
	const char *slash = strrchr(e, '/');
	return slash ? slash + 1 : e;
}

static uint64_t ticks(uint64_t ns)
{
	return ns / (1000000000 / USER_HZ);
}

struct mem_sum {
	uint64_t size, resident;
};

static void sum_range(void *ctx, uint64_t start, uint64_t end, int prot, uint64_t resident)
{
	struct mem_sum *m = ctx;
	m->size += end - start;
	m->resident += resident;
}

/* Linux's one-letter state: a zombie, stopped, one of its threads running or queued, or all
 * asleep. */
static char state_of(const struct proc *p)
{
	if (p->state != P_LIVE)
		return 'Z';
	if (p->stopped)
		return 'T';
	for (const struct task *t = task_list; t; t = t->next_all)
		if (t->proc == p && t->state == T_RUN)
			return 'R';
	return 'S';
}

static const char *state_name(char s)
{
	switch (s) {
	case 'R':
		return "R (running)";
	case 'T':
		return "T (stopped)";
	case 'Z':
		return "Z (zombie)";
	default:
		return "S (sleeping)";
	}
}

/* Walk p's address space with its page tables loaded (the caller's are put back). */
static void ranges_of(struct proc *p, void (*fn)(void *, uint64_t, uint64_t, int, uint64_t),
		      void *ctx)
{
	if (p->state != P_LIVE || !p->mm)
		return;
	struct mm *mine = vm_current();
	vm_switch(p->mm);
	vm_ranges(fn, ctx);
	vm_switch(mine);
}

static struct mem_sum mem_of(struct proc *p)
{
	struct mem_sum m = {0, 0};
	ranges_of(p, sum_range, &m);
	return m;
}

/* The signal masks of p: its blocked set is its first live thread's (the caller's own, when
 * p is the caller). */
static void sigs_of(const struct proc *p, uint64_t *blocked, uint64_t *ignored, uint64_t *caught)
{
	const struct task *th = p == current->proc ? current : NULL;
	for (const struct task *t = task_list; !th && t; t = t->next_all)
		if (t->proc == p && t->state != T_DEAD)
			th = t;
	*blocked = *ignored = *caught = 0;
	if (th)
		signal_sets(th, blocked, ignored, caught);
}

/* /proc/PID/stat: the process's ids, state, times and sizes in Linux's columns. */
static void gen_stat(struct text *t, struct proc *p)
{
	struct mem_sum m = mem_of(p);
	uint64_t blocked, ignored, caught;
	sigs_of(p, &blocked, &ignored, &caught);
	if (p == current->proc)
		sched_cpu_ns(); /* charges the caller's time so far */
	int tpgid = tty_pgrp_of(p);
	char name[16];
	ksnprintf(name, sizeof(name), "%s", comm_of(p));
	tprintf(t, "%d (%s) %c %d %d %d %d %d 4194560 0 0 0 0 %lu 0 %lu 0 20 0 %d 0 %lu %lu %lu ",
		p->pid, name, state_of(p), p->parent ? p->parent->pid : 0, p->pgid, p->sid,
		tpgid < 0 ? 0 : (4 << 8) | 64, tpgid, ticks(p->cpu_ns), ticks(p->children_ns),
		p->nthreads, ticks(p->start_ns), m.size, m.resident);
	tprintf(t, "18446744073709551615 %lu %lu %lu 0 0 0 %lu %lu %lu 0 0 0 %d 0 0 0 0 0 0 ",
		p->image_start, p->brk_start, p->stack_end, blocked, ignored, caught,
		p->exit_signal);
	tprintf(t, "%lu %lu %lu 0 0 0 0 %d\n", p->image_start, p->brk_start, p->brk_start,
		p->state == P_LIVE ? 0 : p->wstatus);
}

/* /proc/PID/status; a zombie's has no memory lines, as on Linux. */
static void gen_status(struct text *t, struct proc *p)
{
	struct mem_sum m = mem_of(p);
	const struct kcred *c = &p->cred;
	uint64_t blocked, ignored, caught;
	sigs_of(p, &blocked, &ignored, &caught);
	tprintf(t, "Name:\t%.15s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n",
		comm_of(p), p->umask, state_name(state_of(p)), p->pid, p->pid);
	tprintf(t, "PPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n",
		p->parent ? p->parent->pid : 0, c->uid, c->euid, c->suid, c->euid, c->gid, c->egid,
		c->sgid, c->egid);
	tprintf(t, "FDSize:\t%d\nGroups:\t", NFD);
	for (int i = 0; i < c->ngroups; i++)
		tprintf(t, "%u ", c->groups[i]);
	tprintf(t, "\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p->pid, p->pid, p->pgid,
		p->sid);
	if (p->state == P_LIVE) {
		tprintf(t, "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmRSS:\t%8lu kB\n", m.size / 1024,
			m.size / 1024, m.resident * 4);
		tprintf(t, "VmData:\t%8lu kB\nVmStk:\t%8lu kB\n", (p->brk - p->brk_start) / 1024,
			(p->stack_end - p->stack_start) / 1024);
	}
	tprintf(t, "Threads:\t%d\nSigQ:\t0/%d\nSigPnd:\t%016x\nShdPnd:\t%016x\n", p->nthreads, 1024,
		0, 0);
	tprintf(t, "SigBlk:\t%016lx\nSigIgn:\t%016lx\nSigCgt:\t%016lx\n", blocked, ignored, caught);
	uint64_t caps = c->euid == 0 ? 0x1fffffffffful : 0;
	tprintf(t, "CapInh:\t%016x\nCapPrm:\t%016lx\nCapEff:\t%016lx\nCapBnd:\t%016lx\n", 0, caps,
		caps, 0x1fffffffffful);
	tprintf(t, "Cpus_allowed:\t1\nCpus_allowed_list:\t0\n");
	tprintf(t, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
}

/* One line of maps, in Linux's columns; the name starts at column 74. */
static void map_line(struct text *t, uint64_t start, uint64_t end, int prot, const char *name,
		     uint64_t off, uint64_t ino)
{
	char head[128];
	int n = ksnprintf(head, sizeof(head), "%08lx-%08lx %c%c%cp %08lx %02x:%02x %lu ", start,
			  end, prot & PROT_READ ? 'r' : '-', prot & PROT_WRITE ? 'w' : '-',
			  prot & PROT_EXEC ? 'x' : '-', ino ? off : 0ul, 0, ino ? 1 : 0, ino);
	tput(t, head, (size_t)n);
	if (*name) {
		for (; n < 73; n++)
			tput(t, " ", 1);
		tput(t, name, strlen(name));
	}
	tput(t, "\n", 1);
}

struct maps_ctx {
	struct text *t;
	const struct proc *p;
	char exe[256];
};

/* A run of pages, cut where the program image, the heap and the stack begin and end. */
static void maps_range(void *ctx, uint64_t start, uint64_t end, int prot, uint64_t resident)
{
	struct maps_ctx *m = ctx;
	const struct proc *p = m->p;
	uint64_t heap_end = PAGE_ALIGN_UP(p->brk);
	const uint64_t cuts[] = {p->image_start, p->brk_start, heap_end, p->stack_start,
				 p->stack_end};
	while (start < end) {
		uint64_t stop = end;
		for (size_t i = 0; i < ARRAY_LEN(cuts); i++)
			if (cuts[i] > start && cuts[i] < stop)
				stop = cuts[i];
		const char *name = "";
		uint64_t ino = 0;
		if (start >= p->image_start && start < p->brk_start) {
			name = m->exe;
			ino = p->exe_node ? p->exe_node->ino : 0;
		} else if (start >= p->brk_start && start < heap_end) {
			name = "[heap]";
		} else if (start >= p->stack_start && start < p->stack_end) {
			name = "[stack]";
		}
		map_line(m->t, start, stop, prot, name, start - p->image_start, ino);
		start = stop;
	}
}

static void gen_maps(struct text *t, struct proc *p)
{
	struct maps_ctx m = {t, p, ""};
	if (p->exe_node && vfs_path(p->exe_node, m.exe, sizeof(m.exe)) < 0)
		ksnprintf(m.exe, sizeof(m.exe), "%s (deleted)", p->exe);
	ranges_of(p, maps_range, &m);
}

/* ---- the machine ---- */
static void gen_meminfo(struct text *t)
{
	uint64_t total = pmm_total_pages() * 4, free = pmm_free_pages() * 4;
	static const char *const zero[] = {"Buffers",  "Cached", "SwapCached",	"SwapTotal",
					   "SwapFree", "Shmem",	 "SReclaimable"};
	tprintf(t, "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n",
		total, free, free);
	for (size_t i = 0; i < ARRAY_LEN(zero); i++)
		tprintf(t, "%s:%*s%8d kB\n", zero[i], (int)(15 - strlen(zero[i])), "", 0);
}

static void cpuinfo_one(struct text *t, int cpu)
{
	static const char *const edx[32] = {
	    "fpu", "vme",  "de",   "pse", "tsc",  "msr", "pae",	  "mce", "cx8",	    "apic", NULL,
	    "sep", "mtrr", "pge",  "mca", "cmov", "pat", "pse36", NULL,	 "clflush", NULL,   NULL,
	    NULL,  "mmx",  "fxsr", "sse", "sse2", NULL,	 "ht",	  NULL,	 NULL,	    NULL};
	static const char *const ecx[32] = {
	    "pni", "pclmulqdq", NULL,	 NULL,	   NULL,     NULL,     NULL,	 NULL,
	    NULL,  "ssse3",	NULL,	 NULL,	   "fma",    "cx16",   NULL,	 NULL,
	    NULL,  "pcid",	"dca",	 "sse4_1", "sse4_2", "x2apic", "movbe",	 "popcnt",
	    NULL,  "aes",	"xsave", NULL,	   "avx",    "f16c",   "rdrand", "hypervisor"};
	uint32_t r[4], brand[13] = {0};
	cpuid(0, 0, r);
	uint32_t level = r[0];
	char vendor[13];
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	uint32_t maxext;
	cpuid(0x80000000, 0, r);
	maxext = r[0];
	if (maxext >= 0x80000004)
		for (uint32_t i = 0; i < 3; i++)
			cpuid(0x80000002 + i, 0, brand + 4 * i);
	const char *model = (const char *)brand;
	while (*model == ' ')
		model++;
	cpuid(1, 0, r);
	uint32_t fam = (r[0] >> 8) & 15, mod = (r[0] >> 4) & 15;
	if (fam == 15)
		fam += (r[0] >> 20) & 255;
	if (fam >= 6)
		mod |= ((r[0] >> 16) & 15) << 4;
	uint64_t mhz = time_tsc_hz() / 1000;
	tprintf(t, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n", cpu,
		vendor, fam, mod);
	tprintf(t, "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: %lu.%03lu\n", model, r[0] & 15,
		mhz / 1000, mhz % 1000);
	tprintf(
	    t,
	    "physical id\t: 0\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %u\n",
	    ncpus, cpu, ncpus, cpus[cpu].apic_id);
	tprintf(t, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t:",
		level);
	for (int i = 0; i < 32; i++)
		if (edx[i] && (r[3] >> i & 1))
			tprintf(t, " %s", edx[i]);
	for (int i = 0; i < 32; i++)
		if (ecx[i] && (r[2] >> i & 1))
			tprintf(t, " %s", ecx[i]);
	if (maxext >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		if (r[3] >> 11 & 1)
			tprintf(t, " syscall");
		if (r[3] >> 20 & 1)
			tprintf(t, " nx");
		if (r[3] >> 29 & 1)
			tprintf(t, " lm");
	}
	tprintf(t, "\nbogomips\t: %lu.%02lu\nclflush size\t: 64\ncache_alignment\t: 64\n\n",
		mhz * 2 / 1000, mhz * 2 % 1000 / 10);
}

static void gen_cpuinfo(struct text *t)
{
	for (int i = 0; i < ncpus; i++)
		cpuinfo_one(t, i);
}

static void gen_sysstat(struct text *t)
{
	uint64_t idle = ticks(time_idle_ns()), busy = ticks(time_ns()) * (uint64_t)ncpus - idle;
	int64_t boot = (time_realtime_offset() + 0) / 1000000000;
	tprintf(t, "cpu  %lu 0 0 %lu 0 0 0 0 0 0\n", busy, idle);
	for (int i = 0; i < ncpus; i++) {
		uint64_t ci = ticks(time_cpu_idle_ns(i)), cb = ticks(time_ns()) - ci;
		tprintf(t, "cpu%d %lu 0 0 %lu 0 0 0 0 0 0\n", i, cb, ci);
	}
	tprintf(t, "intr 0\nctxt 0\nbtime %ld\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n",
		boot);
	tprintf(t, "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
}

static void gen_uptime(struct text *t)
{
	uint64_t up = time_ns() / 10000000, idle = time_idle_ns() / 10000000;
	tprintf(t, "%lu.%02lu %lu.%02lu\n", up / 100, up % 100, idle / 100, idle % 100);
}

static void gen_loadavg(struct text *t)
{
	uint64_t l[3];
	time_loadavg(l);
	for (int i = 0; i < 3; i++) {
		uint64_t h = (l[i] * 100 + 1024) / 2048; /* hundredths, rounded */
		tprintf(t, "%lu.%02lu ", h / 100, h % 100);
	}
	tprintf(t, "1/1 1\n");
}

static void gen_mounts(struct text *t)
{
	tprintf(t, "capstan / tmpfs rw,noatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec 0 0\n");
	tprintf(t, "sysfs /sys sysfs ro,nosuid,nodev,noexec 0 0\n");
}

/* mountinfo: id, parent, major:minor (st_dev), root, mount point, options - type source options */
static void gen_mountinfo(struct text *t)
{
	tprintf(t, "1 1 0:1 / / rw,noatime - tmpfs capstan rw\n");
	tprintf(t, "2 1 0:22 / /proc rw,nosuid,nodev,noexec - proc proc rw\n");
	tprintf(t, "3 1 0:21 / /sys ro,nosuid,nodev,noexec - sysfs sysfs ro\n");
}

/* A file of a numbered directory; -ESRCH once its process is gone. */
static int fill_pid(struct text *t, const struct node *n)
{
	struct proc *p = proc_of(n);
	if (!p)
		return -ESRCH;
	switch ((enum gen)n->gen) {
	case G_STAT:
		gen_stat(t, p);
		break;
	case G_STATUS:
		gen_status(t, p);
		break;
	case G_CMDLINE:
		tput(t, p->cmdline ? p->cmdline : "", p->cmdline_len);
		break;
	case G_ENVIRON:
		tput(t, p->environ ? p->environ : "", p->environ_len);
		break;
	case G_MAPS:
		gen_maps(t, p);
		break;
	case G_MOUNTS:
		gen_mounts(t);
		break;
	case G_MOUNTINFO:
		gen_mountinfo(t);
		break;
	default:
		tprintf(t, "%.15s\n", comm_of(p));
		break;
	}
	return 0;
}

int procfs_fill(struct file *f)
{
	struct text t = {0};
	if (f->n->pid) {
		int e = fill_pid(&t, f->n);
		if (e) {
			kfree(t.buf);
			return e;
		}
		goto done;
	}
	switch ((enum gen)f->n->gen) {
	case G_MEMINFO:
		gen_meminfo(&t);
		break;
	case G_CPUINFO:
		gen_cpuinfo(&t);
		break;
	case G_SYSSTAT:
		gen_sysstat(&t);
		break;
	case G_UPTIME:
		gen_uptime(&t);
		break;
	case G_LOADAVG:
		gen_loadavg(&t);
		break;
	case G_MOUNTS:
		gen_mounts(&t);
		break;
	case G_CPU_ONLINE:
		if (ncpus == 1)
			tprintf(&t, "0\n");
		else
			tprintf(&t, "0-%d\n", ncpus - 1);
		break;
	default: /* the per-process texts live under /proc/PID only */
		break;
	}
done:
	if (t.oom) {
		kfree(t.buf);
		return -ENOMEM;
	}
	f->text = t.buf;
	f->text_len = t.len;
	return 0;
}

/* ---- the tree ---- */

/* A fresh node in dir, replacing whatever the image had there. */
static struct node *mk(struct node *dir, const char *name, enum node_kind kind, uint32_t mode)
{
	struct node *old = vfs_lookup(dir, name);
	if (old) {
		if (kind == K_DIR && old->kind == K_DIR) {
			old->fs = dir->fs;
			return old;
		}
		vfs_remove(old);
	}
	struct node *n = vfs_create(dir, name, kind, mode);
	if (!n)
		panic("out of memory making /proc");
	n->fs = dir->fs;
	return n;
}

static void set_link(struct node *n, const char *target)
{
	if (n->link && !strcmp(n->link, target))
		return;
	kfree(n->link);
	n->link = kstrdup(target);
	if (!n->link)
		n->link = kstrdup("");
}

/* What a descriptor names, as readlink of /proc/PID/fd/N shows it. */
static void fd_target(struct file *f, char *buf, size_t size)
{
	struct node *n = f->n;
	if (n->unnamed && n->kind == K_FIFO) {
		ksnprintf(buf, size, "pipe:[%lu]", n->ino);
	} else if (n->unnamed) {
		ksnprintf(buf, size, "/%s (deleted)", n->name);
	} else if (vfs_path(n, buf, size) < 0) {
		char tmp[256] = "";
		ksnprintf(buf, size, "/%s (deleted)", n->name ? n->name : tmp);
	}
}

/* A node and all below it go; those still open stay until their last descriptor. */
static void drop_tree(struct node *n)
{
	while (n->child)
		drop_tree(n->child);
	vfs_remove(n);
	if (!n->opens)
		vfs_free(n);
}

static void empty_dir(struct node *dir)
{
	while (dir->child)
		drop_tree(dir->child);
}

/* A link in a process's directory (it carries the pid, as every node there does). */
static void add_link(struct node *dir, const char *name, const char *target, uint32_t mode)
{
	struct node *l = vfs_create(dir, name, K_LINK, S_IFLNK | mode);
	if (l) {
		l->fs = FS_PROC;
		l->pid = dir->pid;
		set_link(l, target);
	}
}

/* /proc/PID/fd: one link per open descriptor, remade whenever it is looked at */
static void refresh_fds(struct node *dir)
{
	struct proc *p = proc_of(dir);
	empty_dir(dir);
	if (!p || p->state != P_LIVE || !p->fdt)
		return;
	for (int i = 0; i < NFD; i++) {
		struct file *f = fd_in(p->fdt, i);
		char name[12], target[512];
		if (!f)
			continue;
		ksnprintf(name, sizeof(name), "%d", i);
		fd_target(f, target, sizeof(target));
		add_link(dir, name, target, 0700);
	}
}

/* /proc/PID/task: a link per thread (to the process's directory) */
static void refresh_tasks(struct node *dir)
{
	struct proc *p = proc_of(dir);
	empty_dir(dir);
	for (const struct task *t = task_list; p && t; t = t->next_all) {
		char name[12];
		ksnprintf(name, sizeof(name), "%d", t->tid);
		if (t->proc == p && t->state != T_DEAD)
			add_link(dir, name, "..", 0777);
	}
}

/* /proc/PID: exe and cwd follow execve and chdir */
static void refresh_pid(struct node *dir)
{
	char path[4096];
	struct proc *p = proc_of(dir);
	struct node *exe = vfs_lookup(dir, "exe"), *cwd = vfs_lookup(dir, "cwd");
	if (!p)
		return;
	if (exe) {
		if (!p->exe_node || vfs_path(p->exe_node, path, sizeof(path)) < 0)
			ksnprintf(path, sizeof(path), "%s", p->exe ? p->exe : "");
		set_link(exe, path);
	}
	if (cwd && p->cwd && vfs_path(p->cwd, path, sizeof(path)) > 0)
		set_link(cwd, path);
}

/* A node of a process's directory. */
static struct node *pid_node(struct node *dir, const char *name, enum node_kind kind, uint32_t mode,
			     void (*refresh)(struct node *))
{
	struct node *n = vfs_create(dir, name, kind, mode);
	if (n) {
		n->fs = FS_PROC;
		n->pid = dir->pid;
		n->refresh = refresh;
		if (kind == K_LINK)
			set_link(n, "");
	}
	return n;
}

/* /proc/PID for p: false when memory ran out (nothing of it is left then). */
static bool make_pid_dir(struct node *procdir, const struct proc *p)
{
	static const struct {
		const char *name;
		enum gen gen;
	} files[] = {{"cmdline", G_CMDLINE},	 {"environ", G_ENVIRON}, {"stat", G_STAT},
		     {"status", G_STATUS},	 {"maps", G_MAPS},	 {"mounts", G_MOUNTS},
		     {"mountinfo", G_MOUNTINFO}, {"comm", G_COMM}};
	char name[12];
	ksnprintf(name, sizeof(name), "%d", p->pid);
	struct node *dir = vfs_create(procdir, name, K_DIR, S_IFDIR | 0555);
	if (!dir)
		return false;
	dir->fs = FS_PROC;
	dir->gen = G_PID_DIR;
	dir->pid = p->pid;
	dir->refresh = refresh_pid;
	bool ok = pid_node(dir, "exe", K_LINK, S_IFLNK | 0777, NULL) &&
		  pid_node(dir, "cwd", K_LINK, S_IFLNK | 0777, NULL) &&
		  pid_node(dir, "fd", K_DIR, S_IFDIR | 0500, refresh_fds) &&
		  pid_node(dir, "task", K_DIR, S_IFDIR | 0555, refresh_tasks);
	for (size_t i = 0; ok && i < ARRAY_LEN(files); i++) {
		struct node *f = pid_node(dir, files[i].name, K_PROC, S_IFREG | 0444, NULL);
		if (f)
			f->gen = (int)files[i].gen;
		ok = f != NULL;
	}
	if (!ok)
		drop_tree(dir);
	return ok;
}

static struct node *self_link, *thread_self_link;

/* /proc: a directory for each process, made as it is looked at and dropped once the process
 * is gone; self and thread-self point at the caller's. */
static void refresh_procs(struct node *procdir)
{
	char target[32];
	ksnprintf(target, sizeof(target), "%d", current->proc->pid);
	set_link(self_link, target);
	ksnprintf(target, sizeof(target), "%d/task/%d", current->proc->pid, current->tid);
	set_link(thread_self_link, target);
	for (struct node *c = procdir->child, *next; c; c = next) {
		next = c->sibling;
		if (c->gen == G_PID_DIR && !proc_of(c))
			drop_tree(c);
	}
	for (struct proc *p = proc_list; p; p = p->next) {
		char name[12];
		ksnprintf(name, sizeof(name), "%d", p->pid);
		if (p->state == P_DEAD || vfs_lookup(procdir, name))
			continue;
		if (!make_pid_dir(procdir, p))
			return; /* out of memory: the next look tries again */
	}
}

void procfs_init(void)
{
	static const struct {
		const char *name;
		enum gen gen;
	} top_files[] = {{"meminfo", G_MEMINFO}, {"cpuinfo", G_CPUINFO}, {"stat", G_SYSSTAT},
			 {"uptime", G_UPTIME},	 {"loadavg", G_LOADAVG}, {"mounts", G_MOUNTS}};
	struct node *p = mk(vfs_root, "proc", K_DIR, S_IFDIR | 0555);
	p->fs = FS_PROC;
	p->refresh = refresh_procs;
	for (size_t i = 0; i < ARRAY_LEN(top_files); i++)
		mk(p, top_files[i].name, K_PROC, S_IFREG | 0444)->gen = (int)top_files[i].gen;
	self_link = mk(p, "self", K_LINK, S_IFLNK | 0777);
	thread_self_link = mk(p, "thread-self", K_LINK, S_IFLNK | 0777);
	set_link(self_link, "1");
	set_link(thread_self_link, "1/task/1");

	struct node *sys = mk(vfs_root, "sys", K_DIR, S_IFDIR | 0555);
	sys->fs = FS_SYS;
	struct node *cpu =
	    mk(mk(mk(sys, "devices", K_DIR, S_IFDIR | 0755), "system", K_DIR, S_IFDIR | 0755),
	       "cpu", K_DIR, S_IFDIR | 0755);
	mk(cpu, "online", K_PROC, S_IFREG | 0444)->gen = G_CPU_ONLINE;
	mk(cpu, "possible", K_PROC, S_IFREG | 0444)->gen = G_CPU_ONLINE;
}
