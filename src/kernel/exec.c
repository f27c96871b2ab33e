/* SPDX-License-Identifier: BSD-3-Clause */
/* The ELF loader: map a program (static, static-pie or dynamic with its interpreter), build its
 * stack and auxv. */
#include "exec.h"
#include "fs/vfs.h"
#include "kelf.h"

#define PIE_BASE 0x555555554000ul
/* above the mmap area (which grows down from 0x7f0000000000), below the stack */
#define INTERP_BASE 0x7ff000000000ul
/* the vvar page and the vDSO: below the stack's 8 MiB */
#define VDSO_VVAR  0x7ffff0000000ul
#define STACK_TOP  0x7ffffffff000ul
#define STACK_SIZE (8ul << 20)

static int seg_prot(uint32_t flags)
{
	return (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) |
	       (flags & 1 ? PROT_EXEC : 0);
}

static uint64_t push(uint64_t *sp, const void *data, size_t len)
{
	*sp -= len;
	memcpy((void *)*sp, data, len);
	return *sp;
}

/* Read and check the ELF headers of node n. */
static int check_elf(struct node *n, struct kelf_info *info, char *why, size_t whylen)
{
	static char head[4096];
	long got = vfs_pread(n, head, sizeof(head), 0);
	if (got < 0) {
		ksnprintf(why, whylen, "%s", "read error");
		return -EIO;
	}
	int r = kelf_check(head, (size_t)got, n->size, info);
	if (r) {
		ksnprintf(why, whylen, "%s", kelf_strerror(r));
		return -ENOEXEC;
	}
	return 0;
}

/* The interpreter a dynamic program names: a shared object (ET_DYN) without one of its own. */
static int check_interp(struct exec_image *img, char *why, size_t whylen)
{
	char sub[200];
	size_t len = img->info.interp_size;
	if (len >= sizeof(img->interp_path) ||
	    vfs_pread(img->n, img->interp_path, len, img->info.interp_off) != (long)len) {
		ksnprintf(why, whylen, "%s", "bad interpreter path (PT_INTERP)");
		return -ENOEXEC;
	}
	img->interp_path[len] = 0;
	if (strlen(img->interp_path) != len - 1 || img->interp_path[0] != '/') {
		ksnprintf(why, whylen, "%s", "bad interpreter path (PT_INTERP)");
		return -ENOEXEC;
	}
	if (vfs_walk(vfs_root, img->interp_path, true, &img->interp, NULL, NULL) ||
	    img->interp->kind != K_FILE) {
		ksnprintf(why, whylen,
			  "interpreter %s not found in the image (capstan build adds it for "
			  "programs it collects)",
			  img->interp_path);
		img->interp = NULL;
		return -ENOENT;
	}
	int r = check_elf(img->interp, &img->interp_info, sub, sizeof(sub));
	if (!r && (!img->interp_info.pie || img->interp_info.interp_size)) {
		ksnprintf(sub, sizeof(sub), "%s", "not a shared object without an interpreter");
		r = -ENOEXEC;
	}
	if (r) {
		ksnprintf(why, whylen, "interpreter %s: %s", img->interp_path, sub);
		img->interp = NULL;
	}
	return r;
}

/* Check that path names a program we can load (and its interpreter, if it is
 * dynamic); 0 or a negative errno, with the reason in why. */
int exec_check(const char *path, struct exec_image *img, char *why, size_t whylen)
{
	struct node *n;
	memset(img, 0, sizeof(*img));
	ksnprintf(why, whylen, "%s", "");
	if (vfs_walk(vfs_cwd, path, true, &n, NULL, NULL)) {
		ksnprintf(why, whylen, "%s", "program not found in the image");
		return -ENOENT;
	}
	if (n->kind != K_FILE) {
		ksnprintf(why, whylen, "%s", "not a regular file");
		return -EACCES;
	}
	int r = check_elf(n, &img->info, why, whylen);
	if (r) {
		img->info.interp_size = 0;
		return r;
	}
	img->n = n;
	if (img->info.interp_size && (r = check_interp(img, why, whylen))) {
		img->n = NULL;
		return r;
	}
	return 0;
}

void exec_program(int argc, char **argv, char **envp, uint64_t t_kernel)
{
	static struct exec_image img;
	static char path[4096], pool[4096];
	static char *av[KARGS + 1];
	char why[400], msg[700];
	size_t used = 0;
	ksnprintf(path, sizeof(path), "%s", argv[0]);
	argc = MIN(argc, KARGS);
	memcpy(av, argv, (size_t)argc * sizeof(char *));
	av[argc] = NULL;
	int r = exec_script(path, av, &argc, pool, &used, sizeof(pool));
	if (r < 0) {
		ksnprintf(msg, sizeof(msg), "%s: bad #! line", argv[0]);
		kexit(EXIT_NOEXEC, msg);
	}
	r = exec_check(path, &img, why, sizeof(why));
	if (r) {
		ksnprintf(msg, sizeof(msg), "%s: %s", path, why);
		kexit(r == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, msg);
	}
	exec_enter(&img, path, argc, av, envp, t_kernel);
}

/* A NUL-separated copy of argv or envp (n < 0: up to the NULL), as /proc shows them. */
static void keep_strings(char **out, size_t *len, char **v, int n)
{
	size_t total = 0;
	for (int i = 0; n < 0 ? v[i] != NULL : i < n; i++)
		total += strlen(v[i]) + 1;
	kfree(*out);
	*len = 0;
	if (!(*out = kmalloc(total + 1)))
		return;
	for (int i = 0; n < 0 ? v[i] != NULL : i < n; i++) {
		size_t l = strlen(v[i]) + 1;
		memcpy(*out + *len, v[i], l);
		*len += l;
	}
}

/*
 * What the page at va of segment ph (loaded at base) holds.  A page only of
 * the file's bytes (or the file's last page of a segment with no bss, past
 * p_filesz the bytes that follow in the file, as Linux maps them) is the
 * file's page; one wholly past p_filesz is zeros.  The rest are MIXED: the
 * end of the file's bytes then zeros (bytes after p_filesz are the bss, not
 * the file's), or parts of two segments.
 */
enum seg_page { PG_FILE, PG_ZERO, PG_MIXED };

static enum seg_page page_kind(const struct kelf_info *ip, int seg, uint64_t base, uint64_t va)
{
	const struct kelf_phdr *ph = &ip->load[seg];
	uint64_t fbeg = base + ph->vaddr, fend = fbeg + ph->filesz;
	for (int j = 0; j < ip->nload; j++) {
		const struct kelf_phdr *o = &ip->load[j];
		if (j != seg && o->memsz && va < PAGE_ALIGN_UP(base + o->vaddr + o->memsz) &&
		    va + PAGE_SIZE > PAGE_ALIGN_DOWN(base + o->vaddr))
			return PG_MIXED;
	}
	if (va >= fend)
		return PG_ZERO;
	return va + PAGE_SIZE <= fend || ph->memsz == ph->filesz ? PG_FILE : PG_MIXED;
}

/* A MIXED page: a page of its own now, with each segment's file bytes in it and zeros. */
static bool load_mixed(struct node *n, const struct kelf_info *ip, uint64_t base, uint64_t va)
{
	if (vm_map(va, PAGE_SIZE, PROT_READ | PROT_WRITE, false))
		return false;
	for (int j = 0; j < ip->nload; j++) {
		const struct kelf_phdr *o = &ip->load[j];
		uint64_t from = MAX(va, base + o->vaddr),
			 to = MIN(va + PAGE_SIZE, base + o->vaddr + o->filesz);
		if (from < to &&
		    vfs_pread(n, (void *)from, to - from, o->offset + (from - (base + o->vaddr))) !=
			(long)(to - from))
			return false;
	}
	return true;
}

/* Pages [va, end) of segment ph from its file: mapped lazily (through the page cache), or, when
 * the address space has no room for another file mapping, read now. */
static bool load_file(struct node *n, const struct kelf_phdr *ph, uint64_t base, uint64_t va,
		      uint64_t end)
{
	uint64_t off = ph->offset - (base + ph->vaddr - va); /* congruent: kelf_check */
	int prot = seg_prot(ph->flags);
	if (!vm_map_file(va, end - va, prot, n, off))
		return true;
	return !vm_map(va, end - va, PROT_READ | PROT_WRITE, false) &&
	       vfs_pread(n, (void *)va, end - va, off) >= 0 && !vm_protect(va, end - va, prot);
}

/*
 * Map the PT_LOAD segments of ELF file n at base, with their protections.
 * Nothing is copied that need not be: the file's pages come from the page
 * cache on first touch (shared by every process running the file; a write
 * copies), the bss is zero pages on first touch, and only the pages that
 * are neither (the one holding the end of the data and the start of the
 * bss) are filled now.
 */
static void map_elf(struct node *n, const struct kelf_info *ip, uint64_t base, const char *name)
{
	bool ok = true;
	for (int i = 0; i < ip->nload && ok; i++) {
		const struct kelf_phdr *ph = &ip->load[i];
		if (!ph->memsz)
			continue;
		uint64_t end = PAGE_ALIGN_UP(base + ph->vaddr + ph->memsz);
		for (uint64_t va = PAGE_ALIGN_DOWN(base + ph->vaddr), run; va < end && ok;
		     va = run) {
			enum seg_page k = page_kind(ip, i, base, va);
			for (run = va + PAGE_SIZE;
			     run < end && k != PG_MIXED && page_kind(ip, i, base, run) == k;)
				run += PAGE_SIZE;
			if (k == PG_FILE)
				ok = load_file(n, ph, base, va, run);
			else if (k == PG_ZERO)
				ok = !vm_map(va, run - va, seg_prot(ph->flags), true);
			else if (vm_is_free(va, PAGE_SIZE)) /* (a page of two: filled once) */
				ok = load_mixed(n, ip, base, va);
		}
	}
	if (!ok) {
		char msg[300];
		ksnprintf(msg, sizeof(msg), "%s: out of memory or a read error loading it", name);
		kexit(128 + 9, msg);
	}
	uint64_t prev_end = 0;
	int prev_prot = 0;
	for (int i = 0; i < ip->nload; i++) {
		const struct kelf_phdr *ph = &ip->load[i];
		if (!ph->memsz)
			continue;
		uint64_t start = PAGE_ALIGN_DOWN(base + ph->vaddr),
			 end = PAGE_ALIGN_UP(base + ph->vaddr + ph->memsz);
		int prot = seg_prot(ph->flags);
		vm_protect(start, end - start, prot);
		if (start < prev_end) /* a page shared with the previous segment gets both */
			vm_protect(start, PAGE_SIZE, prot | prev_prot);
		prev_end = end;
		prev_prot = prot;
	}
}

/* Map the checked program, build its stack and jump to it.  The lower half
 * must hold nothing: at boot, or after exec_release(). */
void exec_enter(struct exec_image *img, const char *path, int argc, char **argv, char **envp,
		uint64_t t_kernel)
{
	static char exe[4096];
	struct kelf_info *ip = &img->info;
	ksnprintf(exe, sizeof(exe), "%s", path);
	const char *prog = exe;
	uint64_t base = ip->pie ? PIE_BASE - ip->lo : 0;
	map_elf(img->n, ip, base, prog);
	uint64_t ibase = 0, entry = base + ip->entry;
	if (img->interp) {
		ibase = INTERP_BASE - img->interp_info.lo;
		map_elf(img->interp, &img->interp_info, ibase, img->interp_path);
		entry = ibase + img->interp_info.entry;
	}
	current->proc->brk_start = current->proc->brk = PAGE_ALIGN_UP(base + ip->hi);
	kfree(current->proc->exe);
	current->proc->exe = kstrdup(prog);
	current->proc->exe_node = img->n;
	current->proc->image_start = PAGE_ALIGN_DOWN(base + ip->lo);
	current->proc->stack_start = STACK_TOP - STACK_SIZE;
	current->proc->stack_end = STACK_TOP;
	current->proc->start_ns = time_ns();
	keep_strings(&current->proc->cmdline, &current->proc->cmdline_len, argv, argc);
	keep_strings(&current->proc->environ, &current->proc->environ_len, envp, -1);

	uint64_t vdso = vdso_map(VDSO_VVAR);

	/* the stack: 8 MiB reserved, pages on first touch */
	if (vm_map(STACK_TOP - STACK_SIZE, STACK_SIZE,
		   PROT_READ | PROT_WRITE | (ip->exec_stack ? PROT_EXEC : 0), true))
		kexit(128 + 9, "out of memory for the stack");
	uint64_t sp = STACK_TOP;
	uint64_t zero = 0;
	push(&sp, &zero, 8);
	uint64_t execfn = push(&sp, prog, strlen(prog) + 1);
	uint64_t platform = push(&sp, "x86_64", 7);
	uint64_t rnd[2] = {0, 0};
	random_fill(rnd, sizeof(rnd));
	uint64_t random = push(&sp, rnd, 16);
	static uint64_t argp[KARGS + 1], envpp[KARGS + 1];
	int envc = 0;
	for (int i = 0; i < argc; i++)
		argp[i] = push(&sp, argv[i], strlen(argv[i]) + 1);
	for (; envp[envc]; envc++)
		envpp[envc] = push(&sp, envp[envc], strlen(envp[envc]) + 1);
	sp &= ~15ul;

	uint32_t id[4];
	cpuid(1, 0, id);
	uint64_t auxv[] = {
	    3,	base + ip->phdr_vaddr,
	    4,	56,
	    5,	ip->phnum,
	    6,	PAGE_SIZE,
	    7,	ibase,
	    8,	0,
	    9,	base + ip->entry,
	    11, 0,
	    12, 0,
	    13, 0,
	    14, 0,
	    15, platform,
	    16, id[3],
	    17, 100,
	    23, 0,
	    25, random,
	    26, 0,
	    31, execfn,
	    33, vdso,
	    0,	0,
	};
	size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + ARRAY_LEN(auxv);
	if (words % 2)
		sp -= 8;
	push(&sp, auxv, sizeof(auxv));
	push(&sp, &zero, 8);
	for (int i = envc - 1; i >= 0; i--)
		push(&sp, &envpp[i], 8);
	push(&sp, &zero, 8);
	for (int i = argc - 1; i >= 0; i--)
		push(&sp, &argp[i], 8);
	uint64_t ac = (uint64_t)argc;
	push(&sp, &ac, 8);

	if (kopt.trace && t_kernel) {
		uint64_t now = rdtsc(), hz = time_tsc_hz();
		char steps[384];
		size_t o = 0;
		for (int i = 0; i < trace_nmarks && o < sizeof(steps); i++)
			o += (size_t)ksnprintf(steps + o, sizeof(steps) - o, "%s %s %lu",
					       i ? "," : "", trace_marks[i].what,
					       (trace_marks[i].tsc - boot_tsc) * 1000000 / hz);
		kprintf("capstan: boot trace: program entry at %lu us after the kernel's first "
			"instruction (init%s; load %lu us; TSC %lu MHz)\n",
			(now - boot_tsc) * 1000000 / hz, steps, (now - t_kernel) * 1000000 / hz,
			hz / 1000000);
	}
	if (img->interp)
		kverbose("capstan: exec %s (dynamic, interpreter %s at 0x%lx, entry 0x%lx)\n", prog,
			 img->interp_path, ibase, base + ip->entry);
	else
		kverbose("capstan: exec %s (%s, entry 0x%lx)\n", prog,
			 ip->pie ? "static-pie" : "static", base + ip->entry);
	enter_user(entry, sp);
}
