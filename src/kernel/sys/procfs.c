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
	G_PID_DIR, /* a directory: /proc/PID of a process other than the caller */
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
 * Which process a file shows: /proc/1 (and /proc/self) is the caller's own
 * view; /proc/PID of any other pid, made when /proc is looked at, shows that
 * process's stat, status, cmdline and comm (a stopped child reads T).
 */
static struct proc *proc_of_dir(const struct node *dir)
{
	long pid = 0;
	for (const char *c = dir->name; *c >= '0' && *c <= '9'; c++)
		pid = pid * 10 + (*c - '0');
	return proc_by_pid(pid);
}

static struct proc *proc_of(const struct node *file)
{
	return file->parent->gen == G_PID_DIR ? proc_of_dir(file->parent) : current->proc;
}

static const char *comm_of(const struct proc *p)
{
	const char *e = p->exe ? p->exe : "";
	const char *slash = strrchr(e, '/');
	return slash ? slash + 1 : e;
}

static const char *comm(void)
{
	const char *e = current->proc->exe ? current->proc->exe : "";
	const char *slash = strrchr(e, '/');
	return slash ? slash + 1 : e;
}

static uint64_t ticks(uint64_t ns)
{
	return ns / (1000000000 / USER_HZ);
}

/* CPU time of the program: what its tasks ran */
static uint64_t busy_ns(void)
{
	return sched_cpu_ns();
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

static void gen_stat(struct text *t)
{
	struct mem_sum m = {0, 0};
	uint64_t blocked, ignored, caught;
	char name[16];
	vm_ranges(sum_range, &m);
	signal_sets(&blocked, &ignored, &caught);
	ksnprintf(name, sizeof(name), "%s", comm());
	tprintf(t, "1 (%s) R 0 1 1 %d 1 4194560 0 0 0 0 %lu 0 0 0 20 0 1 0 %lu %lu %lu ", name,
		(4 << 8) | 64, ticks(busy_ns()), ticks(current->proc->start_ns), m.size,
		m.resident);
	tprintf(t, "18446744073709551615 %lu %lu %lu 0 0 0 %lu %lu %lu 0 0 0 17 0 0 0 0 0 0 ",
		current->proc->image_start, current->proc->brk_start, current->proc->stack_end,
		blocked, ignored, caught);
	tprintf(t, "%lu %lu %lu 0 0 0 0 0\n", current->proc->image_start, current->proc->brk_start,
		current->proc->brk_start);
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

/* Its address space's size and resident pages, walked with its page tables loaded. */
static struct mem_sum mem_of(struct proc *p)
{
	struct mem_sum m = {0, 0};
	if (p->state != P_LIVE || !p->mm)
		return m;
	struct mm *mine = vm_current();
	vm_switch(p->mm);
	vm_ranges(sum_range, &m);
	vm_switch(mine);
	return m;
}

/* /proc/PID/stat: the process's ids, state, times and sizes in Linux's columns. */
static void gen_pid_stat(struct text *t, struct proc *p)
{
	struct mem_sum m = mem_of(p);
	if (p == current->proc)
		sched_cpu_ns(); /* charges the caller's time so far */
	char name[16];
	ksnprintf(name, sizeof(name), "%s", comm_of(p));
	tprintf(t, "%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 %lu 0 %lu 0 20 0 %d 0 %lu %lu %lu ",
		p->pid, name, state_of(p), p->parent ? p->parent->pid : 0, p->pgid, p->sid,
		ticks(p->cpu_ns), ticks(p->children_ns), p->nthreads, ticks(p->start_ns), m.size,
		m.resident);
	tprintf(t, "18446744073709551615 %lu %lu %lu 0 0 0 0 0 0 0 0 0 %d 0 0 0 0 0 0 ",
		p->image_start, p->brk_start, p->stack_end, p->exit_signal);
	tprintf(t, "%lu %lu %lu 0 0 0 0 %d\n", p->image_start, p->brk_start, p->brk_start,
		p->state == P_LIVE ? 0 : p->wstatus);
}

/* /proc/PID/status: the lines its stat does not make plain. */
static void gen_pid_status(struct text *t, struct proc *p)
{
	struct mem_sum m = mem_of(p);
	const struct kcred *c = &p->cred;
	tprintf(t, "Name:\t%.15s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n",
		comm_of(p), p->umask, state_name(state_of(p)), p->pid, p->pid);
	tprintf(t, "PPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n",
		p->parent ? p->parent->pid : 0, c->uid, c->euid, c->suid, c->euid, c->gid, c->egid,
		c->sgid, c->egid);
	tprintf(t, "VmSize:\t%8lu kB\nVmRSS:\t%8lu kB\nThreads:\t%d\n", m.size / 1024,
		m.resident * 4, p->nthreads);
}

static void gen_status(struct text *t)
{
	struct mem_sum m = {0, 0};
	uint64_t blocked, ignored, caught;
	uint32_t uid[4], gid[4];
	const uint32_t *groups;
	int ngroups, nfd = 0;
	vm_ranges(sum_range, &m);
	signal_sets(&blocked, &ignored, &caught);
	cred_ids(uid, gid, &groups, &ngroups);
	for (int i = 0; i < NFD; i++)
		nfd += fd_get(i) != NULL;
	tprintf(t, "Name:\t%.15s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t1\nNgid:\t0\nPid:\t1\n",
		comm(), proc_umask());
	tprintf(t, "PPid:\t0\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", uid[0],
		uid[1], uid[2], uid[3], gid[0], gid[1], gid[2], gid[3]);
	tprintf(t, "FDSize:\t%d\nGroups:\t", NFD);
	for (int i = 0; i < ngroups; i++)
		tprintf(t, "%u ", groups[i]);
	tprintf(t, "\nNStgid:\t1\nNSpid:\t1\nNSpgid:\t1\nNSsid:\t1\n");
	tprintf(t, "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmRSS:\t%8lu kB\n", m.size / 1024,
		m.size / 1024, m.resident * 4);
	tprintf(t, "VmData:\t%8lu kB\nVmStk:\t%8lu kB\n",
		(current->proc->brk - current->proc->brk_start) / 1024,
		(current->proc->stack_end - current->proc->stack_start) / 1024);
	tprintf(t, "Threads:\t%d\nSigQ:\t0/%d\nSigPnd:\t%016x\nShdPnd:\t%016x\n",
		current->proc->nthreads, 1024, 0, 0);
	tprintf(t, "SigBlk:\t%016lx\nSigIgn:\t%016lx\nSigCgt:\t%016lx\n", blocked, ignored, caught);
	uint64_t caps = uid[1] == 0 ? 0x1fffffffffful : 0;
	tprintf(t, "CapInh:\t%016x\nCapPrm:\t%016lx\nCapEff:\t%016lx\nCapBnd:\t%016lx\n", 0, caps,
		caps, 0x1fffffffffful);
	tprintf(t, "Cpus_allowed:\t1\nCpus_allowed_list:\t0\n");
	tprintf(t, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
	(void)nfd;
}

/* One line of maps, in Linux's columns; the name starts at column 74. */
static void map_line(struct text *t, uint64_t start, uint64_t end, int prot, const char *name,
		     uint64_t ino)
{
	char head[128];
	int n = ksnprintf(head, sizeof(head), "%08lx-%08lx %c%c%cp %08lx %02x:%02x %lu ", start,
			  end, prot & PROT_READ ? 'r' : '-', prot & PROT_WRITE ? 'w' : '-',
			  prot & PROT_EXEC ? 'x' : '-',
			  ino ? start - current->proc->image_start : 0ul, 0, ino ? 1 : 0, ino);
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
	char exe[256];
};

/* A run of pages, cut where the program image, the heap and the stack begin and end. */
static void maps_range(void *ctx, uint64_t start, uint64_t end, int prot, uint64_t resident)
{
	struct maps_ctx *m = ctx;
	uint64_t heap_end = PAGE_ALIGN_UP(current->proc->brk);
	const uint64_t cuts[] = {current->proc->image_start, current->proc->brk_start, heap_end,
				 current->proc->stack_start, current->proc->stack_end};
	while (start < end) {
		uint64_t stop = end;
		for (size_t i = 0; i < ARRAY_LEN(cuts); i++)
			if (cuts[i] > start && cuts[i] < stop)
				stop = cuts[i];
		const char *name = "";
		uint64_t ino = 0;
		if (start >= current->proc->image_start && start < current->proc->brk_start) {
			name = m->exe;
			ino = current->proc->exe_node ? current->proc->exe_node->ino : 0;
		} else if (start >= current->proc->brk_start && start < heap_end) {
			name = "[heap]";
		} else if (start >= current->proc->stack_start &&
			   start < current->proc->stack_end) {
			name = "[stack]";
		}
		map_line(m->t, start, stop, prot, name, ino);
		start = stop;
	}
}

static void gen_maps(struct text *t)
{
	struct maps_ctx m = {t, ""};
	if (current->proc->exe_node && vfs_path(current->proc->exe_node, m.exe, sizeof(m.exe)) < 0)
		ksnprintf(m.exe, sizeof(m.exe), "%s (deleted)", current->proc->exe);
	vm_ranges(maps_range, &m);
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
	if (!p || p->state == P_DEAD)
		return -ESRCH;
	switch ((enum gen)n->gen) {
	case G_STAT:
		gen_pid_stat(t, p);
		break;
	case G_STATUS:
		gen_pid_status(t, p);
		break;
	case G_CMDLINE:
		tput(t, p->cmdline ? p->cmdline : "", p->cmdline_len);
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
	if (f->n->parent->gen == G_PID_DIR) {
		int e = fill_pid(&t, f->n);
		if (e) {
			kfree(t.buf);
			return e;
		}
		goto done;
	}
	switch ((enum gen)f->n->gen) {
	case G_CMDLINE:
		tput(&t, current->proc->cmdline ? current->proc->cmdline : "",
		     current->proc->cmdline_len);
		break;
	case G_ENVIRON:
		tput(&t, current->proc->environ ? current->proc->environ : "",
		     current->proc->environ_len);
		break;
	case G_STAT:
		gen_stat(&t);
		break;
	case G_STATUS:
		gen_status(&t);
		break;
	case G_MAPS:
		gen_maps(&t);
		break;
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
	case G_MOUNTINFO:
		gen_mountinfo(&t);
		break;
	case G_COMM:
		tprintf(&t, "%.15s\n", comm());
		break;
	case G_PID_DIR:
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

/* /proc/1/fd: one link per open descriptor, remade whenever it is looked at */
static void refresh_fds(struct node *dir)
{
	while (dir->child) {
		struct node *c = dir->child;
		vfs_remove(c);
		if (!c->opens)
			vfs_free(c);
	}
	for (int i = 0; i < NFD; i++) {
		struct file *f = fd_get(i);
		char name[12], target[512];
		if (!f)
			continue;
		ksnprintf(name, sizeof(name), "%d", i);
		fd_target(f, target, sizeof(target));
		struct node *l = vfs_create(dir, name, K_LINK, S_IFLNK | 0700);
		if (l) {
			l->fs = FS_PROC;
			set_link(l, target);
		}
	}
}

/* /proc/1: exe and cwd follow execve and chdir */
static void refresh_pid(struct node *dir)
{
	char path[4096];
	struct node *exe = vfs_lookup(dir, "exe"), *cwd = vfs_lookup(dir, "cwd");
	if (exe) {
		if (!current->proc->exe_node ||
		    vfs_path(current->proc->exe_node, path, sizeof(path)) < 0)
			ksnprintf(path, sizeof(path), "%s",
				  current->proc->exe ? current->proc->exe : "");
		set_link(exe, path);
	}
	if (cwd && vfs_path(vfs_cwd, path, sizeof(path)) > 0)
		set_link(cwd, path);
}

/* A numbered directory goes with its process: its files stay for descriptors still open. */
static void drop_pid_dir(struct node *dir)
{
	while (dir->child) {
		struct node *c = dir->child;
		vfs_remove(c);
		if (!c->opens)
			vfs_free(c);
	}
	vfs_remove(dir);
	if (!dir->opens)
		vfs_free(dir);
}

static bool pid_dir_live(const struct node *dir)
{
	const struct proc *p = proc_of_dir(dir);
	return p && p->state != P_DEAD;
}

/* /proc: a directory for each process but pid 1 (/proc/1 is the caller's own view), made as
 * it is looked at, and dropped once the process is gone. */
static void refresh_procs(struct node *procdir)
{
	static const struct {
		const char *name;
		enum gen gen;
	} files[] = {
	    {"stat", G_STAT}, {"status", G_STATUS}, {"cmdline", G_CMDLINE}, {"comm", G_COMM}};
	for (struct node *c = procdir->child, *next; c; c = next) {
		next = c->sibling;
		if (c->gen == G_PID_DIR && !pid_dir_live(c))
			drop_pid_dir(c);
	}
	for (struct proc *p = proc_list; p; p = p->next) {
		char name[12];
		ksnprintf(name, sizeof(name), "%d", p->pid);
		if (p->state == P_DEAD || p->pid == 1 || vfs_lookup(procdir, name))
			continue;
		struct node *dir = vfs_create(procdir, name, K_DIR, S_IFDIR | 0555);
		if (!dir)
			return; /* out of memory: the next look tries again */
		dir->fs = FS_PROC;
		dir->gen = G_PID_DIR;
		for (size_t i = 0; i < ARRAY_LEN(files); i++) {
			struct node *f = vfs_create(dir, files[i].name, K_PROC, S_IFREG | 0444);
			if (!f) {
				drop_pid_dir(dir);
				return;
			}
			f->fs = FS_PROC;
			f->gen = (int)files[i].gen;
		}
	}
}

void procfs_init(void)
{
	static const struct {
		const char *name;
		enum gen gen;
	} pid_files[] = {{"cmdline", G_CMDLINE},     {"environ", G_ENVIRON}, {"stat", G_STAT},
			 {"status", G_STATUS},	     {"maps", G_MAPS},	     {"mounts", G_MOUNTS},
			 {"mountinfo", G_MOUNTINFO}, {"comm", G_COMM}},
	  top_files[] = {{"meminfo", G_MEMINFO}, {"cpuinfo", G_CPUINFO}, {"stat", G_SYSSTAT},
			 {"uptime", G_UPTIME},	 {"loadavg", G_LOADAVG}, {"mounts", G_MOUNTS}};
	struct node *p = mk(vfs_root, "proc", K_DIR, S_IFDIR | 0555);
	p->fs = FS_PROC;
	p->refresh = refresh_procs;
	for (size_t i = 0; i < ARRAY_LEN(top_files); i++)
		mk(p, top_files[i].name, K_PROC, S_IFREG | 0444)->gen = (int)top_files[i].gen;
	set_link(mk(p, "self", K_LINK, S_IFLNK | 0777), "1");
	set_link(mk(p, "thread-self", K_LINK, S_IFLNK | 0777), "1/task/1");
	struct node *pid = mk(p, "1", K_DIR, S_IFDIR | 0555);
	for (size_t i = 0; i < ARRAY_LEN(pid_files); i++)
		mk(pid, pid_files[i].name, K_PROC, S_IFREG | 0444)->gen = (int)pid_files[i].gen;
	set_link(mk(pid, "exe", K_LINK, S_IFLNK | 0777), "");
	set_link(mk(pid, "cwd", K_LINK, S_IFLNK | 0777), "/");
	pid->refresh = refresh_pid;
	mk(pid, "fd", K_DIR, S_IFDIR | 0500)->refresh = refresh_fds;
	struct node *task = mk(pid, "task", K_DIR, S_IFDIR | 0555);
	set_link(mk(task, "1", K_LINK, S_IFLNK | 0777), "..");

	struct node *sys = mk(vfs_root, "sys", K_DIR, S_IFDIR | 0555);
	sys->fs = FS_SYS;
	struct node *cpu =
	    mk(mk(mk(sys, "devices", K_DIR, S_IFDIR | 0755), "system", K_DIR, S_IFDIR | 0755),
	       "cpu", K_DIR, S_IFDIR | 0755);
	mk(cpu, "online", K_PROC, S_IFREG | 0444)->gen = G_CPU_ONLINE;
	mk(cpu, "possible", K_PROC, S_IFREG | 0444)->gen = G_CPU_ONLINE;
}
