/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared file mappings (MAP_SHARED), msync and memfd_create. */
#include "sys.h"

/*
 * A shared mapping maps pages that belong to the file: every mapping of the
 * same page of a file maps the same physical page.  The file's bytes also
 * stay in its overlay buffer, which read and write use; the two are kept
 * equal at those calls (vfs.c calls shm_sync_in before it reads and
 * shm_sync_out after it writes), so a store through a mapping is what read
 * sees next, and a write is what the mapping shows.  When a page's last
 * mapping goes, its bytes go back into the buffer and the page is freed.
 * fork shares the pages with the child at the same addresses (shm_share),
 * so the mappings of a page are counted across processes.
 */
struct shpages {
	size_t cap;   /* pages the arrays hold */
	uint64_t *pa; /* physical page per page of the file, 0 when not mapped */
	uint32_t *ref;
};

struct shmap {
	uint64_t va, len, pgoff;
	struct node *n;
	uint64_t live; /* pages still mapped */
	struct shmap *next;
};
static struct shmap *maps;

static int grow(struct node *n, size_t pages)
{
	struct shpages *s = n->sh;
	if (!s && !(s = n->sh = kzalloc(sizeof(*s))))
		return -ENOMEM;
	if (pages <= s->cap)
		return 0;
	size_t cap = MAX(pages, s->cap * 2);
	uint64_t *pa = kzalloc(cap * sizeof(*pa));
	uint32_t *ref = kzalloc(cap * sizeof(*ref));
	if (!pa || !ref) {
		kfree(pa);
		kfree(ref);
		return -ENOMEM;
	}
	if (s->cap) {
		memcpy(pa, s->pa, s->cap * sizeof(*pa));
		memcpy(ref, s->ref, s->cap * sizeof(*ref));
	}
	kfree(s->pa);
	kfree(s->ref);
	s->pa = pa, s->ref = ref, s->cap = cap;
	return 0;
}

/* Copy between the buffer and the mapped pages over [off, off+len), within the file's size. */
static void sync(struct node *n, uint64_t off, uint64_t len, bool into_buffer)
{
	struct shpages *s = n->sh;
	if (!s || !n->ram)
		return;
	uint64_t end = off + len < off ? ~0ull : off + len;
	for (uint64_t pg = off / PAGE_SIZE; pg < s->cap && pg * PAGE_SIZE < end; pg++) {
		if (!s->pa[pg])
			continue;
		uint64_t start = pg * PAGE_SIZE;
		char *page = p2v(s->pa[pg]);
		if (start >= n->size) {
			if (!into_buffer)
				memset(page, 0, PAGE_SIZE);
			continue;
		}
		uint64_t l = MIN(PAGE_SIZE, n->size - start);
		if (into_buffer) {
			memcpy(n->data + start, page, l);
		} else {
			memcpy(page, n->data + start, l);
			memset(page + l, 0,
			       PAGE_SIZE - l); /* past the end of the file reads as zeros */
		}
	}
}

void shm_forget(struct node *n)
{
	if (!n->sh)
		return;
	kfree(n->sh->pa);
	kfree(n->sh->ref);
	kfree(n->sh);
	n->sh = NULL;
}

void shm_sync_in(struct node *n, uint64_t off, uint64_t len)
{
	sync(n, off, len, true);
}

void shm_sync_out(struct node *n, uint64_t off, uint64_t len)
{
	sync(n, off, len, false);
}

/* Map [va, va+len) to the file's pages from page pgoff on. */
long shm_map(struct file *f, uint64_t va, uint64_t len, int prot, uint64_t pgoff)
{
	struct node *n = f->n;
	size_t pages = len / PAGE_SIZE;
	if ((prot & PROT_WRITE) && (f->flags & O_ACCMODE) != O_RDWR)
		return -EACCES;
	struct shmap *m = kzalloc(sizeof(*m));
	int r = m ? vfs_make_ram(n) : -ENOMEM;
	if (!r)
		r = grow(n, pgoff + pages);
	if (r) {
		kfree(m);
		return r;
	}
	*m = (struct shmap){va, len, pgoff, n, 0, maps};
	maps = m;
	struct shpages *s = n->sh;
	for (size_t i = 0; i < pages; i++) {
		uint64_t pg = pgoff + i;
		if (!s->pa[pg]) {
			/* not zeroed: sync fills the whole page, with the file's bytes and zeros */
			if (!(s->pa[pg] = pmm_alloc_raw(1)))
				return -ENOMEM; /* the pages mapped so far stay until munmap */
			n->opens++; /* a mapped page keeps the file, as an open descriptor does */
			sync(n, pg * PAGE_SIZE, PAGE_SIZE, false);
		}
		if ((r = vm_map_shared(va + i * PAGE_SIZE, s->pa[pg], prot)))
			return r;
		s->ref[pg]++;
		m->live++;
	}
	return (long)va;
}

/* The mapping that put page pa at va (one of equal ones: they map the same page of a file). */
static struct shmap **shmap_of(uint64_t va, uint64_t pa)
{
	for (struct shmap **pp = &maps; *pp; pp = &(*pp)->next) {
		struct shmap *m = *pp;
		if (va < m->va || va >= m->va + m->len)
			continue;
		uint64_t pg = m->pgoff + (va - m->va) / PAGE_SIZE;
		if (pg < m->n->sh->cap && m->n->sh->pa[pg] == pa)
			return pp;
		/* else an older mapping of this address, unmapped there already */
	}
	panic("shared page 0x%lx at 0x%lx belongs to no mapping", pa, va);
}

/* fork: the child maps the page too, at the same address; the mappings are counted together. */
void shm_share(uint64_t va, uint64_t pa)
{
	struct shmap *m = *shmap_of(va, pa);
	m->n->sh->ref[m->pgoff + (va - m->va) / PAGE_SIZE]++;
	m->live++;
}

void shm_release(uint64_t va, uint64_t pa)
{
	struct shmap **pp = shmap_of(va, pa), *m = *pp;
	struct node *n = m->n;
	uint64_t pg = m->pgoff + (va - m->va) / PAGE_SIZE;
	if (!--n->sh->ref[pg]) {
		sync(n, pg * PAGE_SIZE, PAGE_SIZE, true);
		pmm_free(pa, 1);
		n->sh->pa[pg] = 0;
		n->opens--;
		if (n->dead && !n->opens) {
			kfree(n->data);
			n->data = NULL;
			if (n->unnamed) {
				vfs_nodes--;
				vfs_free(n);
			}
		}
	}
	if (!--m->live) {
		*pp = m->next;
		kfree(m);
	}
}

SYSCALL3(msync, uint64_t, addr, uint64_t, len, long, flags)
{
	if ((addr & (PAGE_SIZE - 1)) || (flags & ~7l) || (flags & 5) == 5)
		return -EINVAL;
	/* the mapped pages are the file: there is nothing to write back */
	return vm_user_ok(addr, PAGE_ALIGN_UP(len)) ? 0 : -ENOMEM;
}

/* memfd_create: a file in no directory, freed with its last descriptor and mapping */
SYSCALL2(memfd_create, uint64_t, uname, long, flags)
{
	char name[256], full[300];
	if (flags & ~3l) /* MFD_CLOEXEC, MFD_ALLOW_SEALING; no huge pages */
		return -EINVAL;
	int r = ustr(uname, name, 250);
	if (r)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	ksnprintf(full, sizeof(full), "memfd:%s", name);
	struct node *n = vfs_create(NULL, full, K_FILE, S_IFREG | 0777);
	if (!n)
		return -ENOMEM;
	n->dead = n->unnamed = true;
	struct file *f = file_new(n, O_RDWR);
	if (!f) {
		vfs_free(n);
		vfs_nodes--;
		return -ENOMEM;
	}
	r = fd_alloc(f, 0, flags & 1);
	if (r < 0) {
		f->refs = 1;
		file_put(f);
	}
	return r;
}
