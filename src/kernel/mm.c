/* SPDX-License-Identifier: BSD-3-Clause */
/* Memory: a bitmap of physical pages, a size-class kernel heap, and the user address space. */
#include "kernel.h"
#include "fs/vfs.h"
#include "proc/cpu.h"

#define MAX_PAGES (1ul << 20) /* 4 GiB: what the boot page tables map */
static uint64_t *bitmap;      /* bit set = page used; sized to the RAM, placed after the kernel */
static uint16_t *shares; /* per page: how many address spaces share it beyond the first (COW) */
static uint64_t npages, total_pages, free_pages, hint;
static bool pcache_drop(void);

static uint64_t popcount(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ul);
	x = (x & 0x3333333333333333ul) + ((x >> 2) & 0x3333333333333333ul);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0ful;
	return (x * 0x0101010101010101ul) >> 56;
}

/* Set (used) or clear (free) bits [first, last), a word at a time where it can. */
static void mark(uint64_t first, uint64_t last, bool used)
{
	last = MIN(last, npages);
	for (uint64_t p = first; p < last;) {
		uint64_t *w = &bitmap[p / 64];
		uint64_t bits = (p % 64 == 0 && last - p >= 64) ? ~0ul : (1ul << (p % 64));
		uint64_t change = used ? bits & ~*w : bits & *w;
		uint64_t n = popcount(change);
		if (used) {
			*w |= bits;
			free_pages -= n;
		} else {
			*w &= ~bits;
			free_pages += n;
			total_pages += n;
		}
		p += bits == ~0ul ? 64 : 1;
	}
}

void pmm_add(uint64_t base, uint64_t len)
{
	mark(PAGE_ALIGN_UP(base) / PAGE_SIZE, PAGE_ALIGN_DOWN(base + len) / PAGE_SIZE, false);
}

void pmm_reserve(uint64_t base, uint64_t len)
{
	mark(PAGE_ALIGN_DOWN(base) / PAGE_SIZE, PAGE_ALIGN_UP(base + len) / PAGE_SIZE, true);
}

/* The bitmap and the share counts go at phys (page-aligned, below top); returns their size in
 * bytes. */
uint64_t pmm_init(uint64_t phys, uint64_t top)
{
	npages = MIN(top, MAX_PAGES * PAGE_SIZE) / PAGE_SIZE;
	npages = (npages + 63) & ~63ul;
	bitmap = p2v(phys);
	memset(bitmap, 0xff, npages / 8);
	shares = p2v(phys + npages / 8);
	memset(shares, 0, npages * sizeof(*shares));
	return npages / 8 + npages * sizeof(*shares);
}

uint64_t pmm_alloc(size_t n)
{
	uint64_t pa = pmm_alloc_raw(n);
	if (pa)
		memset(p2v(pa), 0, n * PAGE_SIZE);
	return pa;
}

/*
 * A debug check, off by default (MM_CHECK 1, and rebuild): a page the
 * allocator hands out must not be in use by the running address space, as a
 * page of the program or as one of its page tables.  It walks every table
 * at each allocation: slow, and meant for hunting memory corruption.
 */
#define MM_CHECK 0
static void check_unused(uint64_t pa);

/* n free pages in a row; when there are none, the page cache lets go of its pages first. */
static uint64_t alloc_run(size_t n);

uint64_t pmm_alloc_raw(size_t n)
{
	uint64_t pa = alloc_run(n);
	if (!pa && pcache_drop())
		pa = alloc_run(n);
	if (MM_CHECK && pa)
		for (size_t i = 0; i < n; i++)
			check_unused(pa + i * PAGE_SIZE);
	return pa;
}

static uint64_t alloc_run(size_t n)
{
	uint64_t run = 0, start = 0;
	if (!n || n > free_pages)
		return 0;
	if (n == 1) {
		for (int pass = 0; pass < 2; pass++)
			for (uint64_t w = pass ? 0 : hint / 64; w < npages / 64; w++) {
				if (bitmap[w] == ~0ul)
					continue;
				uint64_t p = w * 64 + (uint64_t)__builtin_ctzl(~bitmap[w]);
				bitmap[w] |= 1ul << (p % 64);
				free_pages--;
				hint = p + 1;
				return p * PAGE_SIZE;
			}
		return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		uint64_t from = pass ? 0 : hint;
		run = 0;
		for (uint64_t p = from; p < npages; p++) {
			if (!(p % 64) && bitmap[p / 64] == ~0ul) {
				run = 0;
				p += 63;
				continue;
			}
			if (bitmap[p / 64] & (1ul << (p % 64))) {
				run = 0;
				continue;
			}
			if (!run)
				start = p;
			if (++run == n) {
				for (uint64_t q = start; q < start + n; q++)
					bitmap[q / 64] |= 1ul << (q % 64);
				free_pages -= n;
				hint = start + n;
				return start * PAGE_SIZE;
			}
		}
	}
	return 0;
}

void pmm_free(uint64_t pa, size_t n)
{
	for (uint64_t p = pa / PAGE_SIZE; p < pa / PAGE_SIZE + n; p++) {
		if (!(bitmap[p / 64] & (1ul << (p % 64)))) /* its other holder would share it */
			panic("page 0x%lx freed twice", p * PAGE_SIZE);
		bitmap[p / 64] &= ~(1ul << (p % 64));
	}
	free_pages += n;
	if (pa / PAGE_SIZE < hint)
		hint = pa / PAGE_SIZE;
}

uint64_t pmm_free_pages(void)
{
	return free_pages;
}
uint64_t pmm_total_pages(void)
{
	return total_pages;
}

/*
 * Kernel heap: blocks of 32..2048 bytes carved from pages of one size class,
 * larger ones as page runs.  A 16-byte header says which.
 */
struct hdr {
	uint64_t size;	/* usable bytes */
	uint64_t pages; /* 0 for class blocks */
};
struct freeblk {
	struct freeblk *next;
};
static struct freeblk *freelist[8]; /* 32 << i */

static int size_class(size_t n)
{
	for (int c = 0; c < 8; c++)
		if (n + sizeof(struct hdr) <= (32ul << c))
			return c;
	return -1;
}

void *kmalloc(size_t n)
{
	int c = size_class(n);
	struct hdr *h;
	if (c < 0) {
		size_t pages = (n + sizeof(struct hdr) + PAGE_SIZE - 1) / PAGE_SIZE;
		uint64_t pa = pmm_alloc(pages);
		if (!pa)
			return NULL;
		h = p2v(pa);
		h->size = pages * PAGE_SIZE - sizeof(struct hdr);
		h->pages = pages;
		return h + 1;
	}
	if (!freelist[c]) {
		uint64_t pa = pmm_alloc(1);
		if (!pa)
			return NULL;
		char *pg = p2v(pa);
		for (size_t off = 0; off + (32ul << c) <= PAGE_SIZE; off += 32ul << c) {
			struct freeblk *b = (struct freeblk *)(pg + off);
			b->next = freelist[c];
			freelist[c] = b;
		}
	}
	struct freeblk *b = freelist[c];
	freelist[c] = b->next;
	h = (struct hdr *)b;
	h->size = (32ul << c) - sizeof(struct hdr);
	h->pages = 0;
	return h + 1;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);
	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	if (h->pages) {
		pmm_free(v2p(h), h->pages);
		return;
	}
	int c = size_class(h->size);
	struct freeblk *b = (struct freeblk *)h;
	b->next = freelist[c];
	freelist[c] = b;
}

void *krealloc(void *p, size_t n)
{
	if (!p)
		return kmalloc(n);
	struct hdr *h = (struct hdr *)p - 1;
	if (n <= h->size)
		return p;
	void *q = kmalloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->size);
	kfree(p);
	return q;
}

char *kstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = kmalloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/*
 * Address spaces: the lower half of a page table, one per process (threads
 * and a vfork child share their parent's).  The upper half, the kernel's, is
 * the same in every one.  Pages are 4 KiB.  A non-present PTE with PTE_LAZY
 * gets a zeroed page on first touch, or, with PTE_FILE too, a page read from
 * the file mapping that covers it; PROT_NONE is a present page without PTE_U
 * (or a lazy one marked PTE_NONE).  After fork a private page is shared
 * read-only by both processes and counted in shares[]; PTE_COW marks the
 * ones the program may write, which the first write copies.  The pages of
 * shared mappings are shared by fork as they are, never copied.
 */
#define PTE_P	   0x1ul
#define PTE_W	   0x2ul
#define PTE_U	   0x4ul
#define PTE_PS	   0x80ul
#define PTE_LAZY   0x200ul
#define PTE_NONE   0x400ul
#define PTE_FILE   0x800ul
#define PTE_SHARED (1ul << 52) /* a page of a shared file mapping: sys/shm.c owns it */
#define PTE_COW	   (1ul << 53) /* writable once copied: the page may be shared since a fork */
#define PTE_PINNED                                                                                 \
	(1ul << 54) /* the kernel's page (the vDSO), in every address space, never freed */
#define PTE_SHANON (1ul << 55) /* MAP_SHARED|MAP_ANONYMOUS: fork shares it, counted in shares[] */
#define PTE_NX	   (1ul << 63)
#define PTE_ADDR   0x000ffffffffff000ul
#define USER_TOP   0x800000000000ul

/*
 * Private file mappings, read a page at a time on first touch: a shared
 * library is mapped whole but only partly used, and every page the kernel
 * does not write costs nothing.  Each entry holds its file open; the newest
 * entry covering an address is the one its PTE_FILE page comes from.
 */
#define NFMAP 256
struct fmap {
	uint64_t start, end, off;
	struct node *n;
};

/*
 * Reservations: a lazy mapping is kept as a range with the lazy entry its
 * pages would hold (PTE_LAZY and the protection, or PTE_NONE, maybe
 * PTE_FILE), and the PTE is written on first touch.  Under nested KVM every
 * page-table write traps, and a 1 GiB PROT_NONE arena (Go's, Erlang's)
 * would be 262,144 of them.  A non-zero PTE overrides the reservation under
 * it.  The ranges are sorted, disjoint, and merged with equal neighbours.
 */
struct resv {
	uint64_t start, end, e;
};

struct mm {
	int refs;
	uint64_t *pml4;
	int nfmaps;
	struct fmap fmaps[NFMAP];
	int nres, capres;
	struct resv *res;
};

extern uint64_t boot_pml4[512];
static uint64_t nx_bit;
static struct mm boot_mm; /* pid 1's: the boot page table (in .bss: it is 8 KiB) */
/* The address space this CPU's CR3 holds; every CPU starts on the first one. */
static struct mm **cur_slot(void)
{
	struct cpu *c = this_cpu();
	if (!c->mm)
		c->mm = &boot_mm;
	return &c->mm;
}
#define cur (*cur_slot())

/* MM_CHECK: panic if table (at level, mapping from base) or a page under it is pa. */
static void check_table(const uint64_t *table, int level, uint64_t base, uint64_t pa)
{
	int shift = 12 + 9 * (level - 1);
	for (int i = 0; i < (level == 4 ? 256 : 512); i++) {
		uint64_t e = table[i], va = base + ((uint64_t)i << shift);
		if (!(e & PTE_P) || (level == 1 && (e & PTE_PINNED)) || (level > 1 && (e & PTE_PS)))
			continue; /* (large pages: the boot identity map) */
		if ((e & PTE_ADDR) == pa)
			panic("page 0x%lx handed out while in use at 0x%lx (level %d)", pa, va,
			      level);
		if (level > 1)
			check_table(p2v(e & PTE_ADDR), level - 1, va, pa);
	}
}

static bool vm_ready; /* vm_init ran: the lower half is the program's */

static void check_unused(uint64_t pa)
{
	if (vm_ready)
		check_table(vm_current()->pml4, 4, 0, pa);
}

/* The boot code maps the first and the last GiB; RAM beyond 1 GiB gets the middle two. */
void vm_map_ram(uint64_t top)
{
	extern uint64_t boot_pd[4][512];
	for (uint64_t i = 512; i < 1536 && (i << 21) < top; i++)
		boot_pd[i / 512][i % 512] = (i << 21) | 0x83;
}

void vm_init(void)
{
	if (rdmsr(0xc0000080) & 0x800)
		nx_bit = PTE_NX;
	boot_mm.refs = 1;
	boot_mm.pml4 = boot_pml4;
	boot_pml4[0] = 0; /* drop the boot identity map: the lower half is the program's */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	vm_ready = true;
}

struct mm *vm_current(void)
{
	return cur;
}

struct mm *vm_first(void)
{
	return &boot_mm;
}

/* The one place CR3 is loaded: the scheduler calls it when the next task's address space differs.
 */
void vm_switch(struct mm *mm)
{
	if (mm == cur)
		return;
	cur = mm;
	__asm__ volatile("mov %0, %%cr3" ::"r"(v2p(mm->pml4)) : "memory");
}

/* An address space with nothing in its lower half; NULL when out of memory. */
struct mm *vm_new(void)
{
	struct mm *mm = kzalloc(sizeof(*mm));
	uint64_t pa = pmm_alloc(1);
	if (!mm || !pa) {
		kfree(mm);
		if (pa)
			pmm_free(pa, 1);
		return NULL;
	}
	mm->refs = 1;
	mm->pml4 = p2v(pa);
	memcpy(mm->pml4 + 256, boot_pml4 + 256, 256 * sizeof(uint64_t));
	return mm;
}

void vm_get(struct mm *mm)
{
	mm->refs++;
}

bool vm_shared(const struct mm *mm)
{
	return mm->refs > 1;
}

/* A page one address space lets go of: freed unless another still maps it. */
static void page_put(uint64_t e)
{
	uint64_t pa = e & PTE_ADDR;
	if (e & PTE_PINNED)
		return;
	if (shares[pa / PAGE_SIZE])
		shares[pa / PAGE_SIZE]--;
	else
		pmm_free(pa, 1);
}

/*
 * The page cache: pages of the image's files as they are on its disk, read
 * once and then mapped by every private file mapping of them (the segments
 * of the programs exec loads, shared libraries), read-only, and copied only
 * when a process writes one.  A page is keyed by where its bytes start on
 * the disk, which never changes (what a program writes goes to the overlay
 * in RAM, and a file there is not cached).  The cache is one holder of its
 * pages and each mapping another (shares[]), so letting go of a page is
 * page_put: the mappings keep theirs.  It lets go of every page when it has
 * an eighth of the memory, and when memory runs out.
 */
struct pc_slot {
	uint64_t key; /* disk offset + 1; 0 when empty */
	uint64_t pa;
};
static struct pc_slot *pc;
static uint64_t pc_mask, pc_pages, pc_max;

static bool pcache_drop(void)
{
	if (!pc_pages)
		return false;
	for (uint64_t i = 0; i <= pc_mask; i++)
		if (pc[i].key)
			page_put(pc[i].pa);
	memset(pc, 0, (pc_mask + 1) * sizeof(*pc));
	pc_pages = 0;
	return true;
}

static bool pcache_init(void)
{
	uint64_t slots = 64;
	pc_max = MAX(total_pages / 8, 16ul);
	while (slots < pc_max * 2)
		slots *= 2;
	if (!(pc = kzalloc(slots * sizeof(*pc))))
		return false;
	pc_mask = slots - 1;
	return true;
}

/* The slot of key, or the empty one where it would go (the table is never full). */
static struct pc_slot *pc_slot(uint64_t key)
{
	uint64_t i = (key * 0x9e3779b97f4a7c15ul) >> 20;
	while (pc[i & pc_mask].key && pc[i & pc_mask].key != key)
		i++;
	return &pc[i & pc_mask];
}

/* The cached page of disk-backed file n at off (page-aligned): its bytes, zeros past its end;
 * 0 when out of memory or on a read error. */
static uint64_t pcache_page(const struct node *n, uint64_t off)
{
	uint64_t key = n->disk_off + off + 1, pa;
	if (!pc && !pcache_init())
		return 0;
	struct pc_slot *s = pc_slot(key);
	if (s->key)
		return s->pa;
	if (pc_pages >= pc_max)
		pcache_drop();
	if (!(pa = pmm_alloc_raw(1)))
		return 0;
	size_t len = off < n->size ? MIN(PAGE_SIZE, n->size - off) : 0;
	if (len && blk_read(n->disk_off + off, p2v(pa), len)) {
		pmm_free(pa, 1);
		return 0;
	}
	memset((char *)p2v(pa) + len, 0, PAGE_SIZE - len);
	s = pc_slot(key); /* the allocation may have emptied the table */
	*s = (struct pc_slot){key, pa};
	pc_pages++;
	return pa;
}

static uint64_t *walk_in(uint64_t *table, uint64_t va, bool create)
{
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &table[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t pa = pmm_alloc(1);
			if (!pa)
				return NULL;
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		table = p2v(*e & PTE_ADDR);
	}
	return &table[(va >> 12) & 511];
}

static uint64_t *walk(uint64_t va, bool create)
{
	return walk_in(cur->pml4, va, create);
}

/* The PTE for va, reusing the previous one while in the same page table. */
static uint64_t *next_pte(uint64_t va, uint64_t *prev, bool create)
{
	if (prev && (va & 0x1ff000))
		return prev + 1;
	return walk(va, create);
}

/* The PTE for va if its page table exists; else NULL, and *skip is where the next table that
 * could exist begins. */
static uint64_t *pte_or_skip(uint64_t va, uint64_t *skip)
{
	uint64_t *table = cur->pml4;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t e = table[(va >> shift) & 511];
		if (!(e & PTE_P)) {
			*skip = (va | ((1ul << shift) - 1)) + 1;
			return NULL;
		}
		table = p2v(e & PTE_ADDR);
	}
	return &table[(va >> 12) & 511];
}

/* Steps through the non-zero PTEs of [va, end), reading only the page tables that exist. */
struct pte_iter {
	uint64_t va, end;
	uint64_t *pte; /* the PTE of va - PAGE_SIZE, NULL when unknown */
	uint64_t at;   /* the address of the PTE pte_next returned */
};

static uint64_t *pte_next(struct pte_iter *it)
{
	while (it->va < it->end) {
		uint64_t a = it->va, skip = 0;
		uint64_t *pte = it->pte && (a & 0x1ff000) ? it->pte + 1 : pte_or_skip(a, &skip);
		if (!pte) {
			it->va = skip;
			it->pte = NULL;
			continue;
		}
		it->pte = pte;
		it->va = a + PAGE_SIZE;
		if (*pte) {
			it->at = a;
			return pte;
		}
	}
	return NULL;
}

/* The first reservation of mm that ends after va (nres when none). */
static int res_after(const struct mm *mm, uint64_t va)
{
	int lo = 0, hi = mm->nres;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (mm->res[mid].end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The reservation holding va, NULL when none does. */
static const struct resv *res_at(uint64_t va)
{
	int i = res_after(cur, va);
	return i < cur->nres && cur->res[i].start <= va ? &cur->res[i] : NULL;
}

/* The lazy entry of the page at va: its PTE's, else its reservation's (0: not mapped). */
static uint64_t entry_at(const uint64_t *pte, uint64_t va)
{
	if (pte && *pte)
		return *pte;
	const struct resv *r = res_at(va);
	return r ? r->e : 0;
}

static bool res_room(int more)
{
	if (cur->nres + more <= cur->capres)
		return true;
	int cap = MAX(cur->capres * 2, cur->nres + more + 14);
	struct resv *r = krealloc(cur->res, (size_t)cap * sizeof(*r));
	if (!r)
		return false;
	cur->res = r;
	cur->capres = cap;
	return true;
}

static void res_remove(int i, int n)
{
	memmove(&cur->res[i], &cur->res[i + n], (size_t)(cur->nres - i - n) * sizeof(cur->res[0]));
	cur->nres -= n;
}

/* Cut the reservation that holds va past its start in two at va; false when out of memory. */
static bool res_split(uint64_t va)
{
	int i = res_after(cur, va);
	if (i == cur->nres || cur->res[i].start >= va)
		return true;
	if (!res_room(1))
		return false;
	i = res_after(cur, va); /* (the same index in the grown table) */
	memmove(&cur->res[i + 1], &cur->res[i], (size_t)(cur->nres - i) * sizeof(cur->res[0]));
	cur->nres++;
	cur->res[i].end = va;
	cur->res[i + 1].start = va;
	return true;
}

/* Join reservation i and the next one when they touch and hold the same entry. */
static void res_merge(int i)
{
	if (i < 0 || i + 1 >= cur->nres)
		return;
	struct resv *r = &cur->res[i];
	if (r->end == r[1].start && r->e == r[1].e) {
		r->end = r[1].end;
		res_remove(i + 1, 1);
	}
}

/* Drop [va, end) from the reservations; false when out of memory. */
static bool res_cut(uint64_t va, uint64_t end)
{
	if (!res_split(va) || !res_split(end))
		return false;
	int i = res_after(cur, va), j = i;
	while (j < cur->nres && cur->res[j].end <= end)
		j++;
	res_remove(i, j - i);
	return true;
}

/* Reserve [va, end) with lazy entry e, over what was reserved there. */
static bool res_add(uint64_t va, uint64_t end, uint64_t e)
{
	if (!res_room(3) || !res_cut(va, end))
		return false;
	int i = res_after(cur, va);
	memmove(&cur->res[i + 1], &cur->res[i], (size_t)(cur->nres - i) * sizeof(cur->res[0]));
	cur->nres++;
	cur->res[i] = (struct resv){va, end, e};
	res_merge(i);
	res_merge(i - 1);
	return true;
}

/* Write the reservations of [va, end) into its empty PTEs and drop them (before moving pages). */
static bool res_fill(uint64_t va, uint64_t end)
{
	for (int i = res_after(cur, va); i < cur->nres && cur->res[i].start < end; i++) {
		uint64_t *pte = NULL, to = MIN(end, cur->res[i].end);
		for (uint64_t a = MAX(va, cur->res[i].start); a < to; a += PAGE_SIZE) {
			if (!(pte = next_pte(a, pte, true)))
				return false;
			if (!*pte)
				*pte = cur->res[i].e;
		}
	}
	return res_cut(va, end);
}

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/*
 * A present entry changed or went: other CPUs may hold it in their TLBs.
 * The functions that change mappings flush them once, at their end, before
 * the freed pages can be handed out again (proc/cpu.c).
 */
static bool tlb_stale;

static void tlb_sync(void)
{
	if (tlb_stale) {
		tlb_stale = false;
		tlb_shootdown();
	}
}

/* Every CPU forgets every user translation: after a fork or an address space went. */
static void flush_tlb(void)
{
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	tlb_stale = false;
	tlb_shootdown();
}

static uint64_t prot_bits(int prot)
{
	uint64_t b = 0;
	if (prot & PROT_WRITE)
		b |= PTE_W;
	if (!(prot & PROT_EXEC))
		b |= nx_bit;
	return b;
}

/* Entry e (present, lazy or a reservation's) with protection prot. */
static uint64_t with_prot(uint64_t e, int prot)
{
	e &= ~(PTE_W | PTE_NX | PTE_U | PTE_NONE | PTE_COW);
	if (e & PTE_P)
		e |= prot ? PTE_U | prot_bits(prot) : 0;
	else
		e |= prot ? prot_bits(prot) : PTE_NONE;
	if ((e & PTE_P) && (e & PTE_W) && !(e & (PTE_SHARED | PTE_SHANON | PTE_PINNED)) &&
	    shares[(e & PTE_ADDR) / PAGE_SIZE])
		e = (e & ~PTE_W) | PTE_COW; /* still shared with another process */
	return e;
}

/* A write to a COW page: copy it unless this address space is the last to hold it. */
static bool cow_break(uint64_t *pte, uint64_t va)
{
	uint64_t e = *pte, pa = e & PTE_ADDR;
	if (shares[pa / PAGE_SIZE]) {
		uint64_t copy = pmm_alloc_raw(1);
		if (!copy)
			return false;
		memcpy(p2v(copy), p2v(pa), PAGE_SIZE);
		page_put(e); /* (the allocation may have left this the last holder) */
		e = copy | (e & ~PTE_ADDR);
	}
	bool copied = (e & PTE_ADDR) != pa;
	*pte = (e & ~PTE_COW) | PTE_W;
	invlpg(PAGE_ALIGN_DOWN(va));
	if (copied) { /* the process's other threads may still read the old page */
		tlb_stale = true;
		tlb_sync();
	}
	return true;
}

bool vm_is_free(uint64_t va, uint64_t len)
{
	if (va + len < va || va + len > USER_TOP)
		return false;
	int i = res_after(cur, va);
	if (i < cur->nres && cur->res[i].start < va + len)
		return false;
	struct pte_iter it = {va, va + len, NULL, 0};
	return !pte_next(&it);
}

static void pte_clear(uint64_t *pte, uint64_t va)
{
	uint64_t old = *pte;
	*pte = 0;
	if (old & PTE_P) { /* the TLB holds present entries only */
		if (old & PTE_SHARED)
			shm_release(va, old & PTE_ADDR);
		else
			page_put(old);
		invlpg(va);
		tlb_stale = true;
	}
}

/* Clear the PTEs of [va, end) that are in use. */
static void clear_range(uint64_t va, uint64_t end)
{
	struct pte_iter it = {va, end, NULL, 0};
	for (uint64_t *pte; (pte = pte_next(&it));)
		pte_clear(pte, it.at);
}

static void fmap_drop(struct mm *mm, int i)
{
	struct node *n = mm->fmaps[i].n;
	if (--n->opens == 0 && n->dead && n->kind == K_FILE) {
		kfree(n->data);
		n->data = NULL;
		n->cap = 0;
	}
	memmove(&mm->fmaps[i], &mm->fmaps[i + 1],
		(size_t)(mm->nfmaps - i - 1) * sizeof(mm->fmaps[0]));
	mm->nfmaps--;
}

/* Forget the entries that [va, va+len) covers whole. */
static void fmap_forget(uint64_t va, uint64_t len)
{
	for (int i = cur->nfmaps - 1; i >= 0; i--)
		if (cur->fmaps[i].start >= va && cur->fmaps[i].end <= va + len)
			fmap_drop(cur, i);
}

static const struct fmap *fmap_find(uint64_t va)
{
	for (int i = cur->nfmaps - 1; i >= 0; i--)
		if (va >= cur->fmaps[i].start && va < cur->fmaps[i].end)
			return &cur->fmaps[i];
	return NULL;
}

/*
 * Map [va, va+len): lazily, or backed now; kind is 0, PTE_FILE (a private
 * file mapping) or PTE_SHANON.  Existing present pages are kept when keep is
 * set in prot bit 8 (the ELF loader's shared boundary pages).  A lazy range
 * becomes a reservation; a shared anonymous one gets its PTEs now, as fork
 * looks for them there.
 */
static int map_range(uint64_t va, uint64_t len, int prot, bool lazy, uint64_t kind)
{
	bool keep = prot & 0x100;
	prot &= 7;
	if (va % PAGE_SIZE || va + len < va || va + len > USER_TOP)
		return -22;
	uint64_t end = va + len,
		 lazy_e = (prot ? PTE_LAZY | prot_bits(prot) : PTE_LAZY | PTE_NONE) | kind;
	if ((lazy || !prot) && !keep && kind != PTE_SHANON) {
		clear_range(va, end);
		tlb_sync();
		if (res_add(va, end, lazy_e))
			return 0;
		/* no memory for the table: the PTEs, as for the other kinds */
	}
	if (!res_cut(va, end))
		return -12;
	uint64_t *pte = NULL;
	int r = 0;
	for (uint64_t a = va; a < end && !r; a += PAGE_SIZE) {
		pte = next_pte(a, pte, true);
		if (!pte) {
			r = -12;
			break;
		}
		if (keep && (*pte & PTE_P))
			continue;
		pte_clear(pte, a);
		if (lazy || !prot) {
			*pte = lazy_e;
		} else {
			uint64_t pa = pmm_alloc(1);
			if (!pa)
				r = -12;
			else
				*pte = pa | PTE_P | PTE_U | prot_bits(prot) | (kind & PTE_SHANON);
		}
	}
	tlb_sync();
	return r;
}

int vm_map(uint64_t va, uint64_t len, int prot, bool lazy)
{
	return map_range(va, len, prot, lazy, 0);
}

/* MAP_SHARED|MAP_ANONYMOUS: pages on first touch (or at fork), shared by fork. */
int vm_map_anon_shared(uint64_t va, uint64_t len, int prot)
{
	return map_range(va, len, prot, true, PTE_SHANON);
}

/* Map [va, va+len) of file n from offset off, pages read on first touch; -12 when the table is
 * full (the caller then reads the file in now). */
int vm_map_file(uint64_t va, uint64_t len, int prot, struct node *n, uint64_t off)
{
	fmap_forget(va, len);
	if (cur->nfmaps == NFMAP)
		return -12;
	int r = map_range(va, len, prot, true, PTE_FILE);
	if (r)
		return r;
	cur->fmaps[cur->nfmaps++] = (struct fmap){va, va + len, off, n};
	n->opens++;
	return 0;
}

/*
 * Back the lazy file page at va (its PTE holds the lazy entry).  A file on
 * the image's disk maps the page cache's page: read-only, and copy-on-write
 * where the mapping is writable.  A page about to be written (write) gets a
 * copy of its own now, as does every page of a file in the overlay: the
 * file's bytes, zeros past its end.  The kernel writes with CR0.WP off, so
 * it must never be handed the cache's page for a write.
 */
static bool file_page(uint64_t *pte, uint64_t va, bool write)
{
	const struct fmap *m = fmap_find(va);
	uint64_t bits = PTE_P | PTE_U | (*pte & (PTE_W | PTE_NX)), off, pa, cached = 0;
	if (!m)
		return false;
	off = m->off + (va - m->start);
	if (!m->n->ram && !m->n->sh && (cached = pcache_page(m->n, off)) && !write) {
		shares[cached / PAGE_SIZE]++;
		*pte = cached | (bits & PTE_W ? (bits & ~PTE_W) | PTE_COW : bits);
		return true;
	}
	if (cached) /* held while copied: the allocation may empty the cache */
		shares[cached / PAGE_SIZE]++;
	pa = cached ? pmm_alloc_raw(1) : pmm_alloc(1);
	if (pa && cached)
		memcpy(p2v(pa), p2v(cached), PAGE_SIZE);
	if (cached)
		page_put(cached);
	if (!pa)
		return false;
	if (!cached && vfs_pread(m->n, p2v(pa), PAGE_SIZE, off) < 0) {
		pmm_free(pa, 1);
		return false;
	}
	*pte = pa | bits;
	return true;
}

/* Map one page of a shared file mapping: the page stays shm's, never freed here. */
int vm_map_shared(uint64_t va, uint64_t pa, int prot)
{
	uint64_t *pte = walk(va, true);
	if (!pte)
		return -12;
	pte_clear(pte, va);
	*pte = pa | PTE_P | PTE_SHARED | (prot ? PTE_U | prot_bits(prot) : 0);
	return 0;
}

/* Map one of the kernel's own pages (the vDSO's) that every address space holds. */
int vm_map_pinned(uint64_t va, uint64_t pa, int prot)
{
	uint64_t *pte = walk(va, true);
	if (!pte)
		return -12;
	pte_clear(pte, va);
	*pte = pa | PTE_P | PTE_PINNED | PTE_U | prot_bits(prot);
	return 0;
}

/* Does [va, va+len) hold a page of a shared mapping?  mremap cannot move them, and a futex
 * there is every process's: fork keeps them at the same address. */
bool vm_has_shared(uint64_t va, uint64_t len)
{
	struct pte_iter it = {va, MIN(va + len, USER_TOP), NULL, 0};
	for (uint64_t *pte; (pte = pte_next(&it));)
		if (*pte & (PTE_SHARED | PTE_SHANON))
			return true;
	return false;
}

void vm_unmap(uint64_t va, uint64_t len)
{
	uint64_t end = va + len < va ? USER_TOP : MIN(va + len, USER_TOP);
	if (va >= end)
		return;
	fmap_forget(va, len);
	if (!res_cut(va, end))
		kexit(128 + 9, "out of memory");
	clear_range(va, end);
	tlb_sync();
}

int vm_protect(uint64_t va, uint64_t len, int prot)
{
	if (va % PAGE_SIZE || va + len < va || va + len > USER_TOP)
		return -22;
	uint64_t end = va + len;
	for (uint64_t a = va; a < end;) { /* every page is mapped: reserved, or with a PTE */
		int i = res_after(cur, a);
		if (i < cur->nres && cur->res[i].start <= a) {
			a = cur->res[i].end;
			continue;
		}
		uint64_t stop = i < cur->nres ? MIN(end, cur->res[i].start) : end, *pte = NULL;
		for (; a < stop; a += PAGE_SIZE) {
			pte = next_pte(a, pte, false);
			if (!pte || !*pte)
				return -12;
		}
	}
	if (!res_split(va) || !res_split(end))
		return -12;
	int first = res_after(cur, va), last = first;
	for (; last < cur->nres && cur->res[last].start < end; last++)
		cur->res[last].e = with_prot(cur->res[last].e, prot);
	for (int i = last - 1; i >= first - 1; i--)
		res_merge(i);
	struct pte_iter it = {va, end, NULL, 0};
	for (uint64_t *pte; (pte = pte_next(&it));) {
		*pte = with_prot(*pte, prot);
		if (*pte & PTE_P) {
			invlpg(it.at);
			tlb_stale = true;
		}
	}
	tlb_sync();
	return 0;
}

int vm_move(uint64_t from, uint64_t to, uint64_t len)
{
	if (!res_fill(from, from + len))
		return -12;
	int r = 0;
	for (uint64_t off = 0; off < len && !r; off += PAGE_SIZE) {
		uint64_t *src = walk(from + off, false);
		uint64_t *dst = walk(to + off, true);
		if (!dst) {
			r = -12;
			break;
		}
		src = walk(from + off, false); /* the tables may have grown */
		if (src && (*src & PTE_FILE) && !(*src & PTE_P) && !(*src & PTE_NONE) &&
		    !file_page(src, from + off,
			       false)) { /* its offset belongs to the old address */
			r = -12;
			break;
		}
		pte_clear(dst, to + off);
		if (src) {
			*dst = *src;
			*src = 0;
			invlpg(from + off);
			tlb_stale = true;
		}
	}
	tlb_sync();
	return r;
}

/* Give the lazy page at pte (entry e) memory: zeroed, or its file's (a copy when written). */
static bool fill_page(uint64_t *pte, uint64_t va, uint64_t e, bool write)
{
	*pte = e;
	if (e & PTE_FILE)
		return file_page(pte, va, write);
	uint64_t pa = pmm_alloc(1);
	if (!pa)
		return false;
	*pte = pa | PTE_P | PTE_U | (e & (PTE_W | PTE_NX | PTE_SHANON));
	return true;
}

static bool lazy_page(uint64_t e)
{
	return !(e & PTE_P) && (e & PTE_LAZY) && !(e & PTE_NONE);
}

bool vm_fault(uint64_t va, bool write, bool user)
{
	if (va >= USER_TOP)
		return false;
	uint64_t *pte = walk(va, false);
	if (pte && (*pte & PTE_P) && (*pte & PTE_COW) && write) {
		if (!cow_break(pte, va))
			kexit(128 + 9, "out of memory");
		return true;
	}
	uint64_t e = entry_at(pte, va), page = PAGE_ALIGN_DOWN(va);
	if (!lazy_page(e) || (write && user && !(e & PTE_W)))
		return false;
	if ((!pte && !(pte = walk(va, true))) || !fill_page(pte, page, e, write))
		kexit(128 + 9, "out of memory");
	invlpg(page);
	/* fault-around: the next few lazy pages of the same page table and kind (a loader reads
	 * a file in order), while memory is plentiful */
	for (int i = 1; i < 8 && ((va >> 12) + i) % 512 && pmm_free_pages() > 1024; i++) {
		uint64_t next = entry_at(&pte[i], page + (uint64_t)i * PAGE_SIZE);
		if (!lazy_page(next) || (next & PTE_FILE) != (e & PTE_FILE) ||
		    !fill_page(&pte[i], page + (uint64_t)i * PAGE_SIZE, next, false))
			break;
	}
	return true;
}

/* Whether an access that found no page would now succeed: another CPU filled it in while
 * this one waited for the kernel lock. */
bool vm_present(uint64_t va, bool write, bool user)
{
	uint64_t *pte = va < USER_TOP ? walk(va, false) : NULL;
	return pte && (*pte & PTE_P) && (!write || (*pte & PTE_W)) && (!user || (*pte & PTE_U));
}

/* A read-only private page others hold too (the page cache, a process since fork): a copy of
 * the process's own, with the same protection. */
static bool unshare(uint64_t *pte, uint64_t va)
{
	uint64_t e = *pte, copy = pmm_alloc_raw(1);
	if (!copy)
		return false;
	memcpy(p2v(copy), p2v(e & PTE_ADDR), PAGE_SIZE);
	page_put(e);
	*pte = copy | (e & ~PTE_ADDR);
	invlpg(va);
	tlb_stale = true; /* the process's other threads may still read the old page */
	tlb_sync();
	return true;
}

static bool shared_ro(uint64_t e)
{
	return (e & PTE_P) && !(e & (PTE_W | PTE_COW | PTE_SHARED | PTE_SHANON | PTE_PINNED)) &&
	       shares[(e & PTE_ADDR) / PAGE_SIZE];
}

/*
 * Is [va, va+len) user memory the kernel may touch on the program's behalf?
 * The kernel runs with CR0.WP off, so its stores would go straight into a
 * page still shared since a fork or with the page cache: the COW pages of
 * the range are copied here, before any handler writes to them, and so are
 * shared read-only ones (where Linux would fail a write with EFAULT).
 */
bool vm_user_ok(uint64_t va, uint64_t len)
{
	if (va + len < va || va + len > USER_TOP)
		return false;
	if (!len)
		return true;
	uint64_t *pte = NULL;
	for (uint64_t a = PAGE_ALIGN_DOWN(va); a < va + len; a += PAGE_SIZE) {
		pte = next_pte(a, pte, false);
		uint64_t e = entry_at(pte, a);
		if (!e || (e & PTE_NONE) || ((e & PTE_P) && !(e & PTE_U)))
			return false;
		if ((e & PTE_COW) && !cow_break(pte, a))
			return false;
		if (shared_ro(e) && !unshare(pte, a))
			return false;
	}
	return true;
}

void vm_zero_page(uint64_t va)
{
	uint64_t *pte = walk(va, false);
	if (!pte || (*pte & (PTE_SHARED | PTE_SHANON)))
		return; /* a shared page keeps its bytes, as Linux keeps them in the shared object
			 */
	if ((*pte & PTE_COW) && !cow_break(pte, va)) {
		pte_clear(pte, va); /* no memory for a copy: a lazy zero page instead */
		*pte = PTE_LAZY | PTE_W;
		return;
	}
	if (*pte & PTE_P)
		memset(p2v(*pte & PTE_ADDR), 0, PAGE_SIZE);
}

void *vm_kernel_addr(uint64_t va)
{
	uint64_t *pte = walk(va, false);
	return pte && (*pte & PTE_P) ? p2v(*pte & PTE_ADDR) : NULL;
}

/* Free the pages and tables under table; its entries are only read (the tables go whole). */
static void free_table(uint64_t *table, int level, uint64_t base)
{
	int shift = 12 + 9 * (level - 1);
	for (int i = 0; i < 512; i++) {
		uint64_t e = table[i], va = base + ((uint64_t)i << shift);
		if (!(e & PTE_P))
			continue;
		if (level > 1) {
			free_table(p2v(e & PTE_ADDR), level - 1, va);
			pmm_free(e & PTE_ADDR, 1);
		} else if (e & PTE_SHARED) {
			shm_release(va, e & PTE_ADDR);
		} else {
			page_put(e);
		}
	}
}

/* Share the page of entry src[i] with a child (fork); the entry the child gets. */
static uint64_t share_page(uint64_t *src, int i, uint64_t va, bool *oom)
{
	uint64_t e = src[i];
	if ((e & PTE_SHANON) && !(e & PTE_P)) { /* untouched: both must see the same page */
		uint64_t pa = pmm_alloc(1);
		if (!pa) {
			*oom = true;
			return 0;
		}
		e = pa | PTE_P | (e & (PTE_W | PTE_NX | PTE_SHANON)) | ((e & PTE_NONE) ? 0 : PTE_U);
		src[i] = e;
	}
	if (!(e & PTE_P) || (e & PTE_PINNED))
		return e;
	if (e & PTE_SHARED) {
		shm_share(va, e & PTE_ADDR);
		return e;
	}
	if ((e & PTE_W) && !(e & PTE_SHANON))
		src[i] = e = (e & ~PTE_W) | PTE_COW;
	shares[(e & PTE_ADDR) / PAGE_SIZE]++;
	return e;
}

/*
 * fork: the child's tables are a copy of the parent's, without the tables
 * that hold nothing.  Every private page is shared by both, read-only;
 * writable ones become PTE_COW in both.  The pages of shared mappings are
 * shared writable.  Returns the entries copied, -12 when out of memory.
 */
static long copy_table(uint64_t *src, uint64_t *dst, int level, uint64_t base)
{
	int shift = 12 + 9 * (level - 1);
	long n = 0;
	for (int i = 0; i < (level == 4 ? 256 : 512); i++) { /* the upper half is the kernel's */
		uint64_t e = src[i], va = base + ((uint64_t)i << shift);
		if (!e)
			continue;
		if (level == 1) {
			bool oom = false;
			dst[i] = share_page(src, i, va, &oom);
			if (oom)
				return -12;
			n++;
			continue;
		}
		if (!(e & PTE_P))
			continue;
		uint64_t pa = pmm_alloc(1);
		if (!pa)
			return -12;
		dst[i] = pa | (e & ~PTE_ADDR);
		long r = copy_table(p2v(e & PTE_ADDR), p2v(pa), level - 1, va);
		if (r < 0)
			return r;
		if (r) {
			n++;
		} else { /* a table of nothing (its pages were unmapped): the child goes without */
			dst[i] = 0;
			pmm_free(pa, 1);
		}
	}
	return n;
}

static void release_user(struct mm *mm)
{
	while (mm->nfmaps)
		fmap_drop(mm, mm->nfmaps - 1);
	kfree(mm->res);
	mm->res = NULL;
	mm->nres = mm->capres = 0;
	for (int i = 0; i < 256; i++) {
		uint64_t e = mm->pml4[i];
		if (!(e & PTE_P))
			continue;
		mm->pml4[i] = 0;
		free_table(p2v(e & PTE_ADDR), 3, (uint64_t)i << 39);
		pmm_free(e & PTE_ADDR, 1);
	}
}

/* A copy-on-write copy of the current address space; NULL when out of memory. */
struct mm *vm_fork(void)
{
	struct mm *mm = vm_new();
	if (!mm)
		return NULL;
	for (int i = 0; i < cur->nfmaps; i++) {
		mm->fmaps[i] = cur->fmaps[i];
		mm->fmaps[i].n->opens++;
	}
	mm->nfmaps = cur->nfmaps;
	if (cur->nres) {
		if (!(mm->res = kmalloc((size_t)cur->nres * sizeof(*mm->res)))) {
			vm_put(mm);
			return NULL;
		}
		memcpy(mm->res, cur->res, (size_t)cur->nres * sizeof(*mm->res));
		mm->nres = mm->capres = cur->nres;
	}
	long r = copy_table(cur->pml4, mm->pml4, 4, 0);
	flush_tlb(); /* the parent's pages lost PTE_W */
	if (r < 0) {
		vm_put(mm);
		return NULL;
	}
	return mm;
}

/* Let go of an address space; the last holder frees it (not while CR3 holds it). */
void vm_put(struct mm *mm)
{
	if (--mm->refs)
		return;
	if (mm == &boot_mm)
		panic("the first address space was freed");
	if (cur == mm)
		vm_switch(&boot_mm);
	release_user(mm);
	pmm_free(v2p(mm->pml4), 1);
	kfree(mm);
}

/*
 * The program's mappings as /proc/PID/maps lists them: maximal runs of pages
 * with the same protection, each with how many of its pages are in memory.
 */
struct range_walk {
	void (*fn)(void *ctx, uint64_t start, uint64_t end, int prot, uint64_t resident);
	void *ctx;
	uint64_t start, end, resident;
	int prot;
	int res;      /* the next reservation to list */
	uint64_t pos; /* where the pages listed so far end */
};

static void range_add(struct range_walk *w, uint64_t va, uint64_t end, uint64_t e)
{
	int p = (e & PTE_NONE) || ((e & PTE_P) && !(e & PTE_U))
		    ? 0
		    : PROT_READ | ((e & (PTE_W | PTE_COW)) ? PROT_WRITE : 0) |
			  (nx_bit && (e & PTE_NX) ? 0 : PROT_EXEC);
	if (p != w->prot || va != w->end) {
		if (w->prot >= 0)
			w->fn(w->ctx, w->start, w->end, w->prot, w->resident);
		w->start = va, w->resident = 0, w->prot = p;
	}
	w->end = end;
	w->resident += (e & PTE_P) ? 1 : 0;
}

/* List the reserved pages below limit that no PTE overrides (those from w->pos on). */
static void range_reserved(struct range_walk *w, uint64_t limit)
{
	for (; w->res < cur->nres && cur->res[w->res].start < limit; w->res++) {
		const struct resv *r = &cur->res[w->res];
		uint64_t from = MAX(r->start, w->pos), to = MIN(r->end, limit);
		if (from < to)
			range_add(w, from, to, r->e);
		if (r->end > limit)
			break;
	}
	w->pos = MAX(w->pos, limit);
}

static void range_table(struct range_walk *w, uint64_t *table, int level, uint64_t base)
{
	int shift = 12 + 9 * (level - 1);
	for (int i = 0; i < 512; i++) {
		uint64_t e = table[i], va = base + ((uint64_t)i << shift);
		if (level == 1) {
			if (e) {
				range_reserved(w, va);
				range_add(w, va, va + PAGE_SIZE, e);
				w->pos = va + PAGE_SIZE;
			}
		} else if (e & PTE_P) {
			range_table(w, p2v(e & PTE_ADDR), level - 1, va);
		}
	}
}

void vm_ranges(void (*fn)(void *ctx, uint64_t start, uint64_t end, int prot, uint64_t resident),
	       void *ctx)
{
	struct range_walk w = {fn, ctx, 0, 0, 0, -1, 0, 0};
	for (int i = 0; i < 256; i++)
		if (cur->pml4[i] & PTE_P)
			range_table(&w, p2v(cur->pml4[i] & PTE_ADDR), 3, (uint64_t)i << 39);
	range_reserved(&w, USER_TOP);
	if (w.prot >= 0)
		fn(ctx, w.start, w.end, w.prot, w.resident);
}

/* Drop every user mapping and the page tables under them (execve). */
void vm_release_user(void)
{
	release_user(cur);
	flush_tlb();
}
