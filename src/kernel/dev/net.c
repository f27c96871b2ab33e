/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net over legacy/transitional PCI, modern (virtio 1.0) PCI and virtio-mmio (v1
 * legacy and v2).  Receive buffers stay posted and are reaped by netdev_poll, which the
 * stack runs on every wait and which the device's interrupt brings about at once: INTx
 * through the I/O APIC on PCI (the line the firmware routed), the slot's line on microvm.
 * Sent buffers are reclaimed on the next send; the send-complete interrupt is asked for
 * only while the ring is full and a send waits for room.  Without a routed line the
 * device is polled, as it was before interrupts (knet.c).  Offered features taken: MAC,
 * MRG_RXBUF (one buffer per frame suffices without GSO, but the header grows and
 * num_buffers must be honoured), GUEST_CSUM (frames the device marks DATA_VALID or
 * NEEDS_CSUM skip the stack's checksum check).
 */
#include "../kernel.h"
#include "../net/net.h"
#include "../proc/cpu.h"

#define VIRTIO_ACK	   1
#define VIRTIO_DRIVER	   2
#define VIRTIO_DRIVER_OK   4
#define VIRTIO_FEATURES_OK 8

#define F_GUEST_CSUM 1
#define F_MAC	     5
#define F_MRG_RXBUF  15

#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2

#define BUF_SIZE   2048 /* a full frame and the header, in one buffer */
#define MAX_Q	   256
#define TX_WAIT_NS 100000000ull

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define VDESC_WRITE 2

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY     1

struct vq {
	uint16_t qsz, last_used;
	struct vdesc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[qsz] */
	volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[qsz] */
	uint8_t *bufs;		  /* qsz buffers of BUF_SIZE */
	uint16_t free_tx;	  /* tx: descriptors not in the device's hands */
};

static struct vnet {
	struct netif nif;
	bool mmio, modern;
	uint64_t base;	       /* legacy PCI: the I/O port; MMIO and modern PCI: common config */
	uint64_t notify_pa[2]; /* modern PCI: where each queue is notified */
	uint32_t hdr_len;
	bool mrg;
	struct vq rx, tx;
	uint16_t tx_next;
	bool irq;	       /* the device interrupts (on VEC_NET); else it is polled */
	uint32_t gsi;	       /* its line */
	uint64_t isr_pa;       /* modern PCI: the ISR status byte, read to acknowledge */
	uint64_t irqs;	       /* interrupts taken */
	volatile bool pending; /* one came: the stack has frames to take */
} vn;
static bool present;

static void notify_now(uint16_t q)
{
	if (vn.modern)
		*(volatile uint16_t *)p2v(vn.notify_pa[q]) = q;
	else if (vn.mmio)
		mmio_w32(vn.base + 0x50, q);
	else
		outw((uint16_t)(vn.base + 16), q);
}

/* Tell the device about new buffers, unless it said it does not need telling (it is busy). */
static void notify(uint16_t qi)
{
	struct vq *q = qi ? &vn.tx : &vn.rx;
	mb();
	if (!(q->used[0] & USED_F_NO_NOTIFY))
		notify_now(qi);
}

/* The split ring in the legacy layout (used ring 4096-aligned), buffers after it. */
static int vq_alloc(struct vq *q, uint16_t qsz)
{
	q->qsz = qsz;
	size_t avail_off = 16ul * qsz;
	size_t used_off = PAGE_ALIGN_UP(avail_off + 6 + 2ul * qsz);
	size_t total = used_off + PAGE_ALIGN_UP(6 + 8ul * qsz);
	uint64_t pa = pmm_alloc(total / PAGE_SIZE);
	uint64_t bp = pmm_alloc_raw((size_t)qsz * BUF_SIZE / PAGE_SIZE);
	if (!pa || !bp)
		return -ENOMEM;
	q->desc = p2v(pa);
	q->avail = (volatile uint16_t *)((char *)p2v(pa) + avail_off);
	q->used = (volatile uint16_t *)((char *)p2v(pa) + used_off);
	q->avail[0] = AVAIL_F_NO_INTERRUPT; /* until an interrupt line is set up (rx) or wanted */
	q->bufs = p2v(bp);
	for (uint16_t i = 0; i < qsz; i++)
		q->desc[i] = (struct vdesc){v2p(q->bufs + (size_t)i * BUF_SIZE), BUF_SIZE, 0, 0};
	return 0;
}

static void rx_post(uint16_t id)
{
	struct vq *q = &vn.rx;
	q->desc[id].len = BUF_SIZE;
	q->desc[id].flags = VDESC_WRITE;
	uint16_t idx = q->avail[1];
	q->avail[2 + idx % q->qsz] = id;
	mb();
	q->avail[1] = (uint16_t)(idx + 1);
}

static void rx_fill(void)
{
	for (uint16_t i = 0; i < vn.rx.qsz; i++)
		rx_post(i);
	mb();
	notify(0);
}

/* Reclaim what the device sent. */
static void tx_reap(void)
{
	struct vq *q = &vn.tx;
	while (q->last_used != q->used[1]) {
		q->last_used++;
		q->free_tx++;
	}
}

/*
 * The ring is full: wait up to TX_WAIT_NS for the device to send (under KVM
 * it drains the ring from another thread).  With an interrupt line, the boot
 * CPU halts until the send-complete interrupt (asked for only now) or a
 * timer, which leaves the host's CPU to the device; else it spins.  The kernel lock stays
 * held, and the interrupt taken here only flags work for later, so the stack
 * is not re-entered.  The one-shot timer armed as a bound is re-armed for
 * whatever the scheduler had asked of it.
 */
static void tx_wait(void)
{
	struct vq *q = &vn.tx;
	uint64_t until = time_ns() + TX_WAIT_NS;
	uint64_t due = this_cpu()->timer_due;
	bool halt = vn.irq && this_cpu() == &cpus[0]; /* the interrupt comes to the boot CPU */
	if (halt)
		q->avail[0] = 0;
	mb();
	tx_reap();
	while (!q->free_tx && time_ns() < until) {
		if (halt) {
			if (!lapic_armed_by(until))
				lapic_oneshot(until - time_ns());
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		} else {
			cpu_relax();
		}
		tx_reap();
	}
	q->avail[0] = AVAIL_F_NO_INTERRUPT;
	uint64_t now = time_ns();
	if (halt && due > now && !lapic_armed_by(due))
		lapic_oneshot(due - now);
}

static int vnet_xmit(struct netif *nif, const void *frame, size_t len)
{
	struct vq *q = &vn.tx;
	if (len + vn.hdr_len > BUF_SIZE)
		return -EMSGSIZE;
	tx_reap();
	if (!q->free_tx) {
		tx_wait(); /* the device is behind: before dropping the frame */
		if (!q->free_tx) {
			nif->rx_dropped++;
			return -EAGAIN;
		}
	}
	uint16_t id = vn.tx_next;
	vn.tx_next = (uint16_t)((id + 1) % q->qsz);
	uint8_t *b = q->bufs + (size_t)id * BUF_SIZE;
	memset(b, 0, vn.hdr_len);
	if (vn.mrg)
		b[10] = 0; /* num_buffers is the device's to fill on receive */
	memcpy(b + vn.hdr_len, frame, len);
	q->desc[id].len = (uint32_t)(vn.hdr_len + len);
	q->desc[id].flags = 0;
	uint16_t idx = q->avail[1];
	q->avail[2 + idx % q->qsz] = id;
	mb();
	q->avail[1] = (uint16_t)(idx + 1);
	q->free_tx--;
	notify(1);
	return 0;
}

/* Deliver every frame the device has written; returns how many. */
int netdev_poll(void)
{
	if (!present)
		return 0;
	static uint8_t joined[65536 + 64];
	struct vq *q = &vn.rx;
	int n = 0;
	vn.pending = false; /* before the ring is read: a frame after this interrupts again */
	mb();
	tx_reap();
	while (q->last_used != q->used[1]) {
		mb();
		volatile uint32_t *e =
		    (volatile uint32_t *)(q->used + 2) + 2 * (q->last_used % q->qsz);
		uint16_t id = (uint16_t)e[0];
		uint32_t len = e[1];
		q->last_used++;
		if (id >= q->qsz || len < vn.hdr_len || len > BUF_SIZE) {
			vn.nif.rx_dropped++;
			if (id < q->qsz)
				rx_post(id);
			continue;
		}
		uint8_t *b = q->bufs + (size_t)id * BUF_SIZE;
		bool csum_ok = b[0] & (HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID);
		uint16_t nbuf = vn.mrg ? (uint16_t)(b[10] | b[11] << 8) : 1;
		if (nbuf <= 1) {
			net_input(&vn.nif, b + vn.hdr_len, len - vn.hdr_len, csum_ok);
			rx_post(id);
		} else {
			/* a frame spread over several buffers (merged receive buffers) */
			uint32_t total = len - vn.hdr_len;
			memcpy(joined, b + vn.hdr_len, total);
			rx_post(id);
			for (uint16_t k = 1; k < nbuf && q->last_used != q->used[1]; k++) {
				e = (volatile uint32_t *)(q->used + 2) +
				    2 * (q->last_used % q->qsz);
				uint16_t id2 = (uint16_t)e[0];
				uint32_t l2 = e[1];
				q->last_used++;
				if (id2 >= q->qsz)
					continue;
				if (l2 <= BUF_SIZE && total + l2 <= sizeof(joined)) {
					memcpy(joined + total, q->bufs + (size_t)id2 * BUF_SIZE,
					       l2);
					total += l2;
				}
				rx_post(id2);
			}
			net_input(&vn.nif, joined, total, csum_ok);
		}
		n++;
	}
	if (n)
		notify(0);
	return n;
}

/*
 * VEC_NET, on the boot CPU, maybe without the kernel lock: reading the
 * interrupt status acknowledges it, and the device lowers its line.
 */
void netdev_irq(void)
{
	if (!vn.irq)
		return;
	if (vn.mmio) {
		uint32_t st = mmio_r32(vn.base + 0x60);
		mmio_w32(vn.base + 0x64, st);
	} else if (vn.modern) {
		(void)*(volatile uint8_t *)p2v(vn.isr_pa);
	} else {
		(void)inb((uint16_t)(vn.base + 19));
	}
	vn.irqs++;
	vn.pending = true;
}

bool netdev_irq_pending(void)
{
	return vn.pending;
}

/* Interrupts from now on: the line routed, the receive ring asks for them. */
static void irq_on(int r)
{
	if (r)
		return;
	vn.irq = true;
	vn.rx.avail[0] = 0;
	mb();
}

/* A PCI function's INTx, where the firmware routed it (0 or 0xff: nowhere). */
static void pci_irq(int dev)
{
	uint8_t line = (uint8_t)pci_cfg(dev, 0x3c);
	if (line && line != 0xff)
		irq_on(ioapic_route_isa(line, VEC_NET, &vn.gsi));
}

static uint32_t want_features(uint32_t offered)
{
	return offered & ((1u << F_MAC) | (1u << F_MRG_RXBUF) | (1u << F_GUEST_CSUM));
}

static void set_features(uint32_t f)
{
	vn.mrg = f & (1u << F_MRG_RXBUF);
	vn.hdr_len = vn.mrg ? 12 : 10;
	if (!(f & (1u << F_MAC))) /* locally administered, fixed: QEMU always offers MAC */
		memcpy(vn.nif.mac, "\x52\x54\x00\x12\x34\x56", 6);
}

static int modern_init(int dev);

static int pci_init(void)
{
	for (int dev = 0; dev < 32; dev++) {
		if (pci_cfg(dev, 0) == 0x10411af4)
			return modern_init(dev);
		if (pci_cfg(dev, 0) != 0x10001af4)
			continue;
		uint32_t bar0 = pci_cfg(dev, 0x10);
		if (!(bar0 & 1))
			continue;
		pci_cfg_w(dev, 4, pci_cfg(dev, 4) | 0x5); /* I/O space, bus master */
		uint16_t io = bar0 & ~3u;
		vn.base = io;
		outb(io + 18, 0);
		outb(io + 18, VIRTIO_ACK);
		outb(io + 18, VIRTIO_ACK | VIRTIO_DRIVER);
		uint32_t f = want_features(inl(io + 0));
		outl(io + 4, f);
		set_features(f);
		for (uint16_t qi = 0; qi < 2; qi++) {
			struct vq *q = qi ? &vn.tx : &vn.rx;
			outw(io + 14, qi);
			uint16_t qsz = inw(io + 12);
			if (!qsz || qsz > 1024 || vq_alloc(q, qsz))
				return -EIO;
			outl(io + 8, (uint32_t)(v2p(q->desc) >> 12));
		}
		if (f & (1u << F_MAC))
			for (int i = 0; i < 6; i++)
				vn.nif.mac[i] = inb(io + 20 + i);
		outb(io + 18, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_DRIVER_OK);
		pci_irq(dev);
		return 0;
	}
	return -ENODEV;
}

/* ---- modern PCI (virtio 1.0, 4.1): the registers are found through capabilities ---- */

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR	   3
#define CAP_DEVICE 4

/* common configuration offsets */
#define C_DFSEL	  0x00
#define C_DF	  0x04
#define C_GFSEL	  0x08
#define C_GF	  0x0c
#define C_STATUS  0x14
#define C_QSEL	  0x16
#define C_QSIZE	  0x18
#define C_QENABLE 0x1c
#define C_QNOTIFY 0x1e
#define C_QDESC	  0x20
#define C_QDRIVER 0x28
#define C_QDEVICE 0x30

static uint8_t rd8(uint64_t pa)
{
	return *(volatile uint8_t *)p2v(pa);
}
static void wr8(uint64_t pa, uint8_t v)
{
	*(volatile uint8_t *)p2v(pa) = v;
}
static uint16_t rd16m(uint64_t pa)
{
	return *(volatile uint16_t *)p2v(pa);
}
static void wr16m(uint64_t pa, uint16_t v)
{
	*(volatile uint16_t *)p2v(pa) = v;
}
static void wr64m(uint64_t pa, uint64_t v)
{
	mmio_w32(pa, (uint32_t)v);
	mmio_w32(pa + 4, (uint32_t)(v >> 32));
}

/* A memory BAR's address; 0 when it is not a memory BAR or lies above what is mapped. */
static uint64_t bar_addr(int dev, int bar)
{
	uint32_t lo = pci_cfg(dev, 0x10 + 4 * bar);
	if (lo & 1)
		return 0;
	uint64_t a = lo & ~0xfull;
	if ((lo & 6) == 4)
		a |= (uint64_t)pci_cfg(dev, 0x14 + 4 * bar) << 32;
	return a && a < (4ull << 30) ? a : 0;
}

/* Walk the vendor capabilities for the common, notify and device configuration. */
static int modern_caps(int dev, uint64_t *common, uint64_t *notify, uint32_t *mult,
		       uint64_t *devcfg, uint64_t *isr)
{
	if (!(pci_cfg(dev, 4) & (1u << 20))) /* no capability list */
		return -ENODEV;
	*common = *notify = *devcfg = *isr = 0;
	int guard = 48;
	for (uint8_t at = pci_cfg(dev, 0x34) & 0xfc; at && guard--;) {
		uint32_t w0 = pci_cfg(dev, at);
		uint8_t next = (uint8_t)(w0 >> 8) & 0xfc;
		if ((w0 & 0xff) == 0x09) { /* vendor-specific: virtio_pci_cap */
			uint8_t type = (uint8_t)(w0 >> 24), bar = pci_cfg(dev, at + 4) & 0xff;
			uint64_t base = bar < 6 ? bar_addr(dev, bar) : 0;
			uint64_t pa = base ? base + pci_cfg(dev, at + 8) : 0;
			if (type == CAP_COMMON && !*common)
				*common = pa;
			else if (type == CAP_NOTIFY && !*notify) {
				*notify = pa;
				*mult = pci_cfg(dev, at + 16);
			} else if (type == CAP_DEVICE && !*devcfg) {
				*devcfg = pa;
			} else if (type == CAP_ISR && !*isr) {
				*isr = pa;
			}
		}
		at = next;
	}
	return *common && *notify && *devcfg ? 0 : -ENODEV;
}

static int modern_queue(uint64_t c, uint16_t qi, uint64_t notify, uint32_t mult)
{
	struct vq *q = qi ? &vn.tx : &vn.rx;
	wr16m(c + C_QSEL, qi);
	uint16_t max = rd16m(c + C_QSIZE);
	if (!max)
		return -EIO;
	if (vq_alloc(q, (uint16_t)MIN(max, (uint16_t)MAX_Q)))
		return -ENOMEM;
	wr16m(c + C_QSIZE, q->qsz);
	wr64m(c + C_QDESC, v2p(q->desc));
	wr64m(c + C_QDRIVER, v2p((void *)q->avail));
	wr64m(c + C_QDEVICE, v2p((void *)q->used));
	vn.notify_pa[qi] = notify + (uint64_t)rd16m(c + C_QNOTIFY) * mult;
	wr16m(c + C_QENABLE, 1);
	return 0;
}

/* A modern-only device (PCI id 0x1041, e.g. virtio-net-pci,disable-legacy=on). */
static int modern_init(int dev)
{
	uint64_t c, notify, devcfg;
	uint32_t mult = 0;
	if (modern_caps(dev, &c, &notify, &mult, &devcfg, &vn.isr_pa))
		return -ENODEV;
	pci_cfg_w(dev, 4, pci_cfg(dev, 4) | 0x6); /* memory space, bus master */
	vn.base = c;
	vn.modern = true;
	wr8(c + C_STATUS, 0);
	while (rd8(c + C_STATUS)) /* the reset is done when it reads back 0 */
		cpu_relax();
	wr8(c + C_STATUS, VIRTIO_ACK);
	wr8(c + C_STATUS, VIRTIO_ACK | VIRTIO_DRIVER);
	mmio_w32(c + C_DFSEL, 0);
	uint32_t f = want_features(mmio_r32(c + C_DF));
	mmio_w32(c + C_DFSEL, 1);
	if (!(mmio_r32(c + C_DF) & 1)) /* VIRTIO_F_VERSION_1 */
		return -EIO;
	mmio_w32(c + C_GFSEL, 0);
	mmio_w32(c + C_GF, f);
	mmio_w32(c + C_GFSEL, 1);
	mmio_w32(c + C_GF, 1);
	set_features(f);
	vn.hdr_len = 12; /* VERSION_1: the header always has num_buffers */
	wr8(c + C_STATUS, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK);
	if (!(rd8(c + C_STATUS) & VIRTIO_FEATURES_OK))
		return -EIO;
	if (modern_queue(c, 0, notify, mult) || modern_queue(c, 1, notify, mult))
		return -EIO;
	if (f & (1u << F_MAC))
		for (int i = 0; i < 6; i++)
			vn.nif.mac[i] = rd8(devcfg + (uint64_t)i);
	wr8(c + C_STATUS, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
	if (vn.isr_pa) /* INTx: without MSI-X configured, the device raises its line */
		pci_irq(dev);
	return 0;
}

static int mmio_queue(uint64_t b, uint16_t qi, uint32_t version)
{
	struct vq *q = qi ? &vn.tx : &vn.rx;
	mmio_w32(b + 0x30, qi);
	uint32_t max = mmio_r32(b + 0x34);
	if (!max)
		return -EIO;
	if (vq_alloc(q, (uint16_t)MIN(max, (uint32_t)MAX_Q)))
		return -ENOMEM;
	virtio_mmio_ring(b, version, q->qsz, q->desc, (void *)q->avail, (void *)q->used);
	return 0;
}

/*
 * microvm wires virtio-mmio slot i to GSI 5 + i, or, with its second I/O
 * APIC (ACPI on: 24 slots), to GSI 24 + i; level-triggered, active high.
 */
static void mmio_irq(int slot)
{
	vn.gsi = (uint32_t)slot + (ioapic_has_gsi(24) ? 24 : 5);
	irq_on(ioapic_route(vn.gsi, VEC_NET, true, false));
}

static int mmio_init(uint64_t b, int slot)
{
	uint32_t version = mmio_r32(b + 4);
	vn.base = b;
	vn.mmio = true;
	mmio_w32(b + 0x70, 0);
	mmio_w32(b + 0x70, VIRTIO_ACK);
	mmio_w32(b + 0x70, VIRTIO_ACK | VIRTIO_DRIVER);
	mmio_w32(b + 0x14, 0);
	uint32_t f = want_features(mmio_r32(b + 0x10));
	mmio_w32(b + 0x24, 0);
	mmio_w32(b + 0x20, f);
	set_features(f);
	if (version == 2) {
		vn.hdr_len = 12; /* VIRTIO_F_VERSION_1: the header always has num_buffers */
		mmio_w32(b + 0x24, 1);
		mmio_w32(b + 0x20, 1);
		mmio_w32(b + 0x70, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK);
		if (!(mmio_r32(b + 0x70) & VIRTIO_FEATURES_OK))
			return -EIO;
	} else {
		mmio_w32(b + 0x28, 4096);
	}
	if (mmio_queue(b, 0, version) || mmio_queue(b, 1, version))
		return -EIO;
	if (f & (1u << F_MAC))
		for (int i = 0; i < 6; i++)
			vn.nif.mac[i] = *(volatile uint8_t *)p2v(b + 0x100 + (uint64_t)i);
	mmio_w32(b + 0x70, mmio_r32(b + 0x70) | VIRTIO_DRIVER_OK);
	mmio_irq(slot);
	return 0;
}

static int mmio_probe(void)
{
	for (int i = 23; i >= 0; i--) {
		uint64_t b = 0xfeb00000ul + (uint64_t)i * 0x200;
		if (mmio_r32(b) == 0x74726976 && mmio_r32(b + 8) == 1)
			return mmio_init(b, i);
	}
	return -ENODEV;
}

/* The first virtio-net device, as eth0; NULL when there is none. */
struct netif *netdev_probe(void)
{
	int r = pci_present() ? pci_init() : mmio_probe();
	if (r)
		return NULL;
	vn.tx.free_tx = vn.tx.qsz;
	rx_fill();
	memcpy(vn.nif.name, "eth0", 5);
	vn.nif.mtu = ETH_MTU;
	vn.nif.xmit = vnet_xmit;
	present = true;
	return &vn.nif;
}

/* The interrupt line (GSI), or -1 when the device is polled; how many interrupts came. */
int netdev_gsi(uint64_t *count)
{
	*count = vn.irqs;
	return vn.irq ? (int)vn.gsi : -1;
}

const char *netdev_name(void)
{
	return vn.mmio	   ? "virtio-net-mmio"
	       : vn.modern ? "virtio-net-pci (modern)"
			   : "virtio-net-pci";
}
