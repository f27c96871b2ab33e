/* SPDX-License-Identifier: BSD-3-Clause */
/* The I/O APICs: a device's interrupt line (a GSI) delivered as a vector to the boot CPU. */
#include "../kernel.h"
#include "../proc/cpu.h"

#define MAX_IOAPICS  4
#define MAX_OVERRIDE 16
#define IOAPIC_FIRST 0xfec00000ul /* where the PC and microvm put it when there is no MADT */

static struct ioapic {
	uint64_t pa;
	uint32_t gsi_base, pins;
} ioapics[MAX_IOAPICS];
static int nioapics;

/* An ISA IRQ that reaches another GSI, or with other flags (the MADT's source overrides). */
static struct override {
	uint8_t irq;
	uint16_t flags; /* MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3 */
	uint32_t gsi;
} overrides[MAX_OVERRIDE];
static int noverrides;

static uint32_t reg_r(uint64_t pa, uint32_t reg)
{
	mmio_w32(pa, reg);
	return mmio_r32(pa + 0x10);
}

static void reg_w(uint64_t pa, uint32_t reg, uint32_t v)
{
	mmio_w32(pa, reg);
	mmio_w32(pa + 0x10, v);
}

static void add_ioapic(uint64_t pa, uint32_t gsi_base)
{
	if (nioapics == MAX_IOAPICS || pa >= (4ul << 30))
		return;
	uint32_t ver = reg_r(pa, 1);
	if (ver == 0xffffffffu || !ver)
		return; /* nothing answers there */
	ioapics[nioapics++] = (struct ioapic){pa, gsi_base, ((ver >> 16) & 0xff) + 1};
}

/* The I/O APICs and the ISA overrides from the MADT; its first I/O APIC when there is none. */
void ioapic_init(uint64_t rsdp_paddr)
{
	uint32_t len = 0;
	const uint8_t *m = acpi_madt(rsdp_paddr, &len);
	if (m) {
		const uint8_t *p = m + 44, *end = m + len;
		for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
			uint32_t a, g;
			uint16_t fl;
			if (p[0] == 1 && p[1] >= 12) { /* I/O APIC */
				memcpy(&a, p + 4, 4);
				memcpy(&g, p + 8, 4);
				add_ioapic(a, g);
			} else if (p[0] == 2 && p[1] >= 10 && noverrides < MAX_OVERRIDE) {
				memcpy(&g, p + 4, 4);
				memcpy(&fl, p + 8, 2);
				overrides[noverrides++] = (struct override){p[3], fl, g};
			}
		}
	}
	if (!nioapics)
		add_ioapic(IOAPIC_FIRST, 0);
}

bool ioapic_has_gsi(uint32_t gsi)
{
	for (int i = 0; i < nioapics; i++)
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].pins)
			return true;
	return false;
}

/* Deliver gsi as vec to the boot CPU (fixed, physical); -ENODEV when no I/O APIC has it. */
int ioapic_route(uint32_t gsi, uint8_t vec, bool level, bool active_low)
{
	for (int i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi < io->gsi_base || gsi >= io->gsi_base + io->pins)
			continue;
		uint32_t pin = gsi - io->gsi_base;
		uint32_t lo = vec | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0);
		reg_w(io->pa, 0x10 + 2 * pin, 1u << 16); /* masked while it changes */
		reg_w(io->pa, 0x11 + 2 * pin, cpus[0].apic_id << 24);
		reg_w(io->pa, 0x10 + 2 * pin, lo);
		return 0;
	}
	return -ENODEV;
}

/*
 * A PCI function's INTx, by its interrupt line register (the ISA IRQ the
 * firmware routed it to): the MADT may move it to another GSI or give it
 * other flags; without an override it is what PCI wants, level-triggered.
 * QEMU's override for its PCI lines says level, active high.
 */
int ioapic_route_isa(uint8_t irq, uint8_t vec, uint32_t *gsi_out)
{
	uint32_t gsi = irq;
	bool level = true, low = false;
	for (int i = 0; i < noverrides; i++) {
		if (overrides[i].irq != irq)
			continue;
		gsi = overrides[i].gsi;
		uint16_t pol = overrides[i].flags & 3, trig = (overrides[i].flags >> 2) & 3;
		if (pol)
			low = pol == 3;
		if (trig)
			level = trig == 3;
	}
	*gsi_out = gsi;
	return ioapic_route(gsi, vec, level, low);
}
