/* SPDX-License-Identifier: BSD-3-Clause */
/* Starting the other CPUs: their local APIC ids from the ACPI MADT, INIT-SIPI-SIPI, ap_main. */
#include "cpu.h"
#include "task.h"

extern const char ap_trampoline[], ap_trampoline_end[], ap_args[];
extern uint64_t boot_pml4[512];

struct ap_args { /* boot/ap.S, at its ap_args */
	uint64_t cr3, efer, stack, cpu;
};

struct acpi_hdr {
	char sig[4];
	uint32_t len;
	uint8_t rev, sum;
	char oem[6], table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

/* ACPI tables lie in RAM below 4 GiB, which the kernel's direct map covers. */
static const void *phys(uint64_t pa, uint64_t len)
{
	return pa && pa + len <= (4ul << 30) ? p2v(pa) : NULL;
}

static bool checksum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

/* The RSDP where PVH says, else where a BIOS puts it (EBDA, 0xe0000-0xfffff). */
static const uint8_t *find_rsdp(uint64_t hint)
{
	const uint8_t *p = phys(hint, 36);
	if (p && !memcmp(p, "RSD PTR ", 8) && checksum_ok(p, 20))
		return p;
	uint64_t ebda = (uint64_t)(*(const uint16_t *)p2v(0x40e)) << 4;
	const uint64_t areas[2][2] = {{ebda, 1024}, {0xe0000, 0x20000}};
	for (int a = 0; a < 2; a++) {
		if (areas[a][0] < 0x80000 || areas[a][0] >= 0x100000)
			continue;
		for (uint64_t pa = areas[a][0]; pa + 20 <= areas[a][0] + areas[a][1]; pa += 16) {
			p = p2v(pa);
			if (!memcmp(p, "RSD PTR ", 8) && checksum_ok(p, 20))
				return p;
		}
	}
	return NULL;
}

static const struct acpi_hdr *table(uint64_t pa)
{
	const struct acpi_hdr *h = phys(pa, sizeof(*h));
	if (!h || h->len < sizeof(*h) || !phys(pa, h->len) || !checksum_ok(h, h->len))
		return NULL;
	return h;
}

/* The MADT through the XSDT (ACPI 2) or the RSDT. */
static const struct acpi_hdr *find_madt(uint64_t rsdp_hint)
{
	const uint8_t *rsdp = find_rsdp(rsdp_hint);
	if (!rsdp)
		return NULL;
	uint32_t rsdt;
	uint64_t xsdt = 0;
	memcpy(&rsdt, rsdp + 16, 4);
	if (rsdp[15] >= 2)
		memcpy(&xsdt, rsdp + 24, 8);
	const struct acpi_hdr *root = table(xsdt ? xsdt : rsdt);
	if (!root)
		return NULL;
	size_t esize = xsdt ? 8 : 4, n = (root->len - sizeof(*root)) / esize;
	for (size_t i = 0; i < n; i++) {
		uint64_t pa = 0;
		memcpy(&pa, (const uint8_t *)(root + 1) + i * esize, esize);
		const struct acpi_hdr *h = table(pa);
		if (h && !memcmp(h->sig, "APIC", 4))
			return h;
	}
	return NULL;
}

/* The local APIC ids of the enabled processors, the boot one included; how many. */
static int madt_apic_ids(const struct acpi_hdr *madt, uint32_t *ids, int max)
{
	const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8,
		      *end = (const uint8_t *)madt + madt->len;
	int n = 0;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t flags, id = ~0u;
		if (p[0] == 0 && p[1] >= 8) { /* processor local APIC */
			memcpy(&flags, p + 4, 4);
			if (flags & 1)
				id = p[3];
		} else if (p[0] == 9 && p[1] >= 16) { /* processor local x2APIC */
			memcpy(&flags, p + 8, 4);
			if (flags & 1)
				memcpy(&id, p + 4, 4);
		}
		if (id != ~0u && id < 255 && n < max)
			ids[n++] = id;
		p += p[1];
	}
	return n;
}

static void wait_us(uint64_t us)
{
	uint64_t end = time_ns() + us * 1000;
	while (time_ns() < end)
		cpu_relax();
}

/* An AP, in long mode on its idle task's stack (ap.S). */
void ap_main(struct cpu *c) NORETURN;
void ap_main(struct cpu *c)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v2p(boot_pml4)) : "memory");
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS, 0);
	cpu_setup(c);
	lapic_enable();
	/* the boot CPU waits for this, holding the kernel lock, and may have given up */
	int waiting = AP_WAITING;
	if (!__atomic_compare_exchange_n(&c->boot_state, &waiting, AP_UP, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		for (;;)
			__asm__ volatile("cli; hlt");
	c->online = true;
	sched_start_cpu();
}

/* Start one AP; whether it came up. */
static bool start_ap(struct cpu *c)
{
	struct task *idle = sched_new_idle();
	if (!idle)
		return false;
	c->self = c;
	c->lock_id = (uint32_t)c->id + 1;
	c->idle_task = idle;
	c->cur = idle;
	c->kstack_top = idle->kstack_top;
	struct ap_args *a = p2v(AP_TRAMPOLINE + (uint64_t)(ap_args - ap_trampoline));
	a->stack = idle->kstack_top;
	a->cpu = (uint64_t)c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_ipi(c->apic_id, 0x4500); /* INIT, assert */
	wait_us(10000);
	for (int sipi = 0; sipi < 2 && c->boot_state == AP_WAITING; sipi++) {
		lapic_ipi(c->apic_id, 0x4600 | (AP_TRAMPOLINE >> 12)); /* STARTUP */
		for (int i = 0; i < 1000 && c->boot_state == AP_WAITING; i++)
			wait_us(sipi ? 1000 : 200); /* up to 0.2 s, then 1 s */
	}
	int waiting = AP_WAITING;
	if (__atomic_compare_exchange_n(&c->boot_state, &waiting, AP_ABANDONED, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false; /* if it starts after all, it halts (ap_main) */
	while (!c->online)
		cpu_relax();
	return true;
}

/*
 * Run once, by the boot CPU, before the program starts.  The start code
 * runs in low memory with a page table of its own: the kernel's upper half
 * plus the first GiB mapped at 0 too, for the switch to paging.
 */
const char *cpu_start_aps(uint64_t rsdp_paddr)
{
	uint32_t ids[MAXCPU];
	const struct acpi_hdr *madt = find_madt(rsdp_paddr);
	cpus[0].apic_id = lapic_id();
	if (!madt)
		return " (no ACPI MADT: the other CPUs, if any, stay unused)";
	int n = madt_apic_ids(madt, ids, MAXCPU);
	uint32_t me = cpus[0].apic_id;
	if (n < 2)
		return "";
	memcpy(p2v(AP_TRAMPOLINE), ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
	uint64_t *pml4 = p2v(AP_TRAMPOLINE + PAGE_SIZE);
	memcpy(pml4, boot_pml4, PAGE_SIZE);
	pml4[0] = boot_pml4[256];
	struct ap_args *a = p2v(AP_TRAMPOLINE + (uint64_t)(ap_args - ap_trampoline));
	a->cr3 = AP_TRAMPOLINE + PAGE_SIZE;
	a->efer = rdmsr(0xc0000080) & 0x901; /* SCE, LME, NXE */
	for (int i = 0; i < n; i++) {
		if (ids[i] == me)
			continue;
		struct cpu *c = &cpus[ncpus];
		c->id = ncpus;
		c->apic_id = ids[i];
		if (!start_ap(c)) {
			kprintf("capstan: CPU with APIC id %u did not start\n", ids[i]);
			break; /* its idle stack stays: the CPU may yet wake up and use it to halt
				*/
		}
		ncpus++;
	}
	return ncpus < n ? " (some did not start)" : "";
}

/* The MADT, for the I/O APICs and the interrupt overrides it lists (arch/ioapic.c). */
const uint8_t *acpi_madt(uint64_t rsdp_paddr, uint32_t *len)
{
	const struct acpi_hdr *madt = find_madt(rsdp_paddr);
	if (!madt)
		return NULL;
	*len = madt->len;
	return (const uint8_t *)madt;
}
