/* SPDX-License-Identifier: BSD-3-Clause */
/* The memory calls: the heap break and mappings of the program's address space. */
#include "sys.h"

#define MMAP_TOP 0x7f0000000000ul
static uint64_t mmap_next = MMAP_TOP;

void mm_reset(void)
{
	mmap_next = MMAP_TOP;
	current->proc->brk_start = current->proc->brk = 0;
}

SYSCALL1(brk, uint64_t, addr)
{
	if (addr < current->proc->brk_start)
		return (long)current->proc->brk;
	uint64_t old = PAGE_ALIGN_UP(current->proc->brk), want = PAGE_ALIGN_UP(addr);
	if (addr > current->proc->brk_start + (1ul << 40))
		return (long)current->proc->brk;
	if (want > old) {
		if (!vm_is_free(old, want - old) ||
		    vm_map(old, want - old, PROT_READ | PROT_WRITE, true))
			return (long)current->proc->brk;
	} else if (want < old) {
		vm_unmap(want, old - want);
	}
	current->proc->brk = addr;
	return (long)current->proc->brk;
}

SYSCALL6(mmap, uint64_t, addr, uint64_t, len, long, prot, long, flags, long, fd, int64_t, off)
{
	if (!len || (off & 4095) || off < 0)
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (!len || len > (1ul << 46))
		return -ENOMEM;
	struct file *f = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		if (!(f = fd_get(fd)))
			return -EBADF;
		if (f->n->kind != K_FILE && f->n->kind != K_ZERO)
			return -ENODEV;
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & 4095)
			return -EINVAL;
		if ((flags & MAP_FIXED_NOREPLACE) && !vm_is_free(addr, len))
			return -EEXIST;
		if (addr + len < addr || addr + len > 0x800000000000ul)
			return -ENOMEM;
	} else if (!addr || (addr & 4095) || !vm_is_free(addr, len)) {
		if (mmap_next - len < 0x100000000ul || !vm_is_free(mmap_next - len, len)) {
			uint64_t a = mmap_next - len;
			while (a > 0x100000000ul && !vm_is_free(a, len))
				a -= len;
			if (a <= 0x100000000ul)
				return -ENOMEM;
			mmap_next = a + len;
		}
		addr = mmap_next - len;
		mmap_next = addr;
	}
	bool file = f && f->n->kind == K_FILE;
	if (file && (flags & 3) == MAP_SHARED) /* shm.c: the file's own pages */
		return shm_map(f, addr, len, (int)prot & 7, (uint64_t)off / PAGE_SIZE);
	if (!file && (flags & 3) == MAP_SHARED) { /* anonymous or /dev/zero: shared with children */
		int r = vm_map_anon_shared(addr, len, (int)prot & 7);
		return r ? r : (long)addr;
	}
	if (file && !(flags & MAP_POPULATE) &&
	    !vm_map_file(addr, len, (int)prot & 7, f->n, (uint64_t)off))
		return (long)addr;
	int r = vm_map(addr, len, file ? PROT_READ | PROT_WRITE : (int)prot & 7,
		       !file && !(flags & MAP_POPULATE));
	if (r)
		return r;
	if (file) {
		long got = vfs_pread(f->n, (void *)addr, len, (uint64_t)off);
		if (got < 0) {
			vm_unmap(addr, len);
			return got;
		}
		vm_protect(addr, len, (int)prot & 7);
	}
	return (long)addr;
}

SYSCALL2(munmap, uint64_t, addr, uint64_t, len)
{
	if ((addr & 4095) || !len)
		return -EINVAL;
	vm_unmap(addr, PAGE_ALIGN_UP(len));
	return 0;
}

SYSCALL3(mprotect, uint64_t, addr, uint64_t, len, long, prot)
{
	if (addr & 4095)
		return -EINVAL;
	return vm_protect(addr, PAGE_ALIGN_UP(len), (int)prot & 7);
}

SYSCALL5(mremap, uint64_t, old, uint64_t, oldlen, uint64_t, newlen, long, flags, uint64_t, newaddr)
{
	if ((old & 4095) || !newlen || (flags & ~3l) || ((flags & 2) && !(flags & 1)))
		return -EINVAL;
	oldlen = PAGE_ALIGN_UP(oldlen);
	newlen = PAGE_ALIGN_UP(newlen);
	if (!vm_user_ok(old, oldlen))
		return -EFAULT;
	if (vm_has_shared(old, oldlen))
		return -EINVAL; /* shared file mappings stay where they were made */
	if (flags & 2) {
		if (newaddr & 4095)
			return -EINVAL;
		vm_unmap(newaddr, newlen);
		vm_move(old, newaddr, MIN(oldlen, newlen));
		if (newlen > oldlen)
			vm_map(newaddr + oldlen, newlen - oldlen, PROT_READ | PROT_WRITE, true);
		vm_unmap(old, oldlen);
		return (long)newaddr;
	}
	if (newlen <= oldlen) {
		vm_unmap(old + newlen, oldlen - newlen);
		return (long)old;
	}
	if (vm_is_free(old + oldlen, newlen - oldlen)) {
		int r = vm_map(old + oldlen, newlen - oldlen, PROT_READ | PROT_WRITE, true);
		return r ? r : (long)old;
	}
	if (!(flags & 1))
		return -ENOMEM;
	long to = do_mmap(0, newlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to < 0)
		return to;
	vm_move(old, (uint64_t)to, oldlen);
	return to;
}

SYSCALL3(madvise, uint64_t, addr, uint64_t, len, long, advice)
{
	if (addr & 4095)
		return -EINVAL;
	if (advice == 4) /* MADV_DONTNEED: private anonymous memory reads back as zeros */
		for (uint64_t a = addr; a < addr + len; a += PAGE_SIZE)
			if (vm_user_ok(a, 1))
				vm_zero_page(a);
	return 0;
}
