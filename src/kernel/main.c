/* SPDX-License-Identifier: BSD-3-Clause */
/* kmain: the kernel's init order, top to bottom. */
#include <capstan/image.h>

#include "exec.h"
#include "fs/vfs.h"
#include "kcmdline.h"
#include "kernel.h"
#include "net/knet.h"
#include "proc/task.h"
#include "syscall.h"

struct kopts kopt;

/* boot-trace marks: TSC values of the init steps, printed at program entry */
struct trace_mark trace_marks[16];
int trace_nmarks;

static void mark(const char *what)
{
	if (trace_nmarks < (int)ARRAY_LEN(trace_marks))
		trace_marks[trace_nmarks++] = (struct trace_mark){what, rdtsc()};
}

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
extern char _end[];

static uint64_t memory_init(const struct hvm_start_info *si)
{
	uint64_t top = 0;
	const struct hvm_memmap_entry *m = p2v(si->memmap_paddr);
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		panic("no memory map in the PVH start info");
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (m[i].type == 1)
			top = MAX(top, m[i].addr + m[i].size);
	vm_map_ram(top);
	/* the page bitmap sits right after the kernel */
	uint64_t bm = PAGE_ALIGN_UP(v2p(_end));
	uint64_t bmsize = pmm_init(bm, top);
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (m[i].type == 1)
			pmm_add(m[i].addr, m[i].size);
	/* the real-mode area, the kernel and the bitmap stay out of the allocator */
	pmm_reserve(0, KLOAD);
	pmm_reserve(KLOAD, bm + bmsize - KLOAD);
	return top;
}

static void read_header(struct cap_img_header *h)
{
	if (blk_read(CAP_IMG_HEADER_OFFSET, h, sizeof(*h)))
		panic("%s: cannot read the image header", rootdev->name);
	if (memcmp(h->magic, CAP_IMG_MAGIC, 8))
		panic("%s: not a capstan image (no %s header at %u)", rootdev->name, CAP_IMG_MAGIC,
		      CAP_IMG_HEADER_OFFSET);
	uint32_t want = h->header_crc32;
	h->header_crc32 = 0;
	if (crc32(0, h, sizeof(*h)) != want)
		panic("%s: image header checksum mismatch", rootdev->name);
	if (h->version != CAP_IMG_VERSION)
		panic("%s: image version %u, this kernel reads %u", rootdev->name, h->version,
		      CAP_IMG_VERSION);
	if (h->rootfs_offset + h->rootfs_size > rootdev->sectors * 512)
		panic("%s: root fs runs past the end of the disk", rootdev->name);
}

static const char *pvh_cmdline(const struct hvm_start_info *si)
{
	if (!si->cmdline_paddr)
		return NULL;
	const char *c = p2v(si->cmdline_paddr);
	const char *p = c;
	while (*p == ' ')
		p++;
	/* QEMU's own addition alone (microvm, acpi=off) does not count as a command line */
	if (!*p || !strncmp(p, "virtio_mmio.device=", 19))
		return NULL;
	return c;
}

static void fmt_size(char *buf, size_t size, uint64_t bytes)
{
	if (bytes >= (10ul << 20))
		ksnprintf(buf, size, "%lu MiB", bytes >> 20);
	else
		ksnprintf(buf, size, "%lu KiB", bytes >> 10);
}

void kmain(uint32_t start_info);
void kmain(uint32_t start_info)
{
	static char *envp[KCMD_ENVS + 4];
	const char *disk_cmdline = NULL;
	struct cap_img_header hdr;
	const struct hvm_start_info *si = p2v(start_info);

	cpu_early_init(); /* first: `current` and the kernel lock go through it */
	uart_init();
	status_init();
	mark("uart");
	uint64_t mem = memory_init(si);
	mark("memory");
	cpu_init();
	sched_init();
	mark("cpu");
	vm_init();
	mark("vm");
	power_init();
	if (!pci_present())
		power_use_ged(true);
	if (virtio_probe(&rootdev))
		panic("no virtio-blk disk: attach the image as virtio-blk (PCI or MMIO)");
	mark("virtio");
	/* the header's chunk and, speculatively, where a small kernel puts the root fs */
	static const uint64_t first[] = {0, CAP_IMG_ROOTFS_ALIGN};
	blk_prefetch(first, 2);
	read_header(&hdr);
	mark("header");

	const char *line = pvh_cmdline(si);
	if (!line) {
		/* read in place from the block cache: the header's chunk holds it */
		disk_cmdline = blk_peek(CAP_IMG_CMDLINE_OFFSET, CAP_IMG_CMDLINE_MAX);
		if (!disk_cmdline || !memchr(disk_cmdline, 0, CAP_IMG_CMDLINE_MAX))
			panic("%s: cannot read the command line at byte %u", rootdev->name,
			      CAP_IMG_CMDLINE_OFFSET);
		line = disk_cmdline;
	}
	/* not zeroed: the parser writes what it uses, and untouched pages stay untouched */
	uint64_t cmpa = pmm_alloc_raw(PAGE_ALIGN_UP(sizeof(struct kcmdline)) / PAGE_SIZE);
	if (!cmpa)
		panic("out of memory for the command line");
	struct kcmdline *cm = p2v(cmpa);
	if (kcmdline_parse(cm, line)) {
		char msg[160];
		ksnprintf(msg, sizeof(msg), "command line: %s", cm->err);
		kexit(EXIT_NOEXEC, msg);
	}
	kopt.verbose = cm->flags & KCMD_VERBOSE;
	kopt.trace = cm->flags & KCMD_TRACE;
	kopt.nosys = cm->flags & KCMD_NOSYS;
	kopt.netstat = cm->flags & KCMD_NETSTAT;
	kopt.quiet = cm->flags & KCMD_QUIET;
	kopt.strace = cm->flags & KCMD_STRACE;
	kverbose("capstan: command line from %s: %s\n", line == disk_cmdline ? "the disk" : "PVH",
		 line);

	vfs_init();
	int files = vfs_index(hdr.rootfs_offset, hdr.rootfs_size);
	procfs_init();
	mark("cpio index");
	const char *cpu_note = cpu_start_aps(si->rsdp_paddr);
	ioapic_init(si->rsdp_paddr); /* after the boot CPU's APIC id is known: it takes them */
	console_irq_init();
	mark("cpus");
	if (!kopt.quiet) {
		char m[24], d[24];
		fmt_size(m, sizeof(m), mem);
		fmt_size(d, sizeof(d), rootdev->sectors * 512);
		kprintf("capstan %s: %s RAM, %d CPU%s%s, %s %s, %d files\n", CAPSTAN_VERSION, m,
			ncpus, ncpus == 1 ? "" : "s", cpu_note, rootdev->name, d, files);
	}
	kverbose("capstan: memory: %lu KiB free of %lu KiB usable\n", pmm_free_pages() * 4,
		 pmm_total_pages() * 4);
	kverbose("capstan: disk: %s, %lu sectors; image kernel %s, root fs %lu bytes at %lu, %u "
		 "entries\n",
		 rootdev->name, rootdev->sectors, hdr.kernel_version,
		 (unsigned long)hdr.rootfs_size, (unsigned long)hdr.rootfs_offset,
		 hdr.rootfs_entries);
	kverbose("capstan: status channel %s, power button %s\n",
		 status_present() ? "isa-debugcon 0xe9" : "absent",
		 pci_present() ? "ACPI PM 0x600" : "ACPI GED");
	if (cm->cwd) {
		struct node *n;
		if (vfs_walk(vfs_root, cm->cwd, true, &n, NULL, NULL) || n->kind != K_DIR)
			kexit(EXIT_NOEXEC, "--cwd: no such directory in the image");
		vfs_cwd = n;
	}
	syscall_init();
	int ne = knet_init(cm->ip, kopt.quiet);
	if (ne)
		kexit(EXIT_NOEXEC, ne == -ENODEV ? "--ip: no virtio-net device"
						 : "--ip: expected ADDR/PREFIX[,GATEWAY[,DNS]]");
	mark("net");

	/* the environment: --env values, plus PATH, HOME and TERM unless given */
	int envc = 0;
	static const char *const defaults[] = {"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "HOME=/",
					       "TERM=linux"};
	for (int i = 0; i < cm->envc; i++)
		envp[envc++] = cm->envp[i];
	for (size_t i = 0; i < ARRAY_LEN(defaults); i++) {
		size_t klen = (size_t)(strchr(defaults[i], '=') - defaults[i]) + 1;
		bool given = false;
		for (int j = 0; j < cm->envc; j++)
			given |= !strncmp(cm->envp[j], defaults[i], klen);
		if (!given)
			envp[envc++] = (char *)defaults[i];
	}
	envp[envc] = NULL;
	exec_program(cm->argc, cm->argv, envp, rdtsc());
}
