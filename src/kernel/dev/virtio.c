/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk over legacy/transitional PCI and over virtio-mmio (v1 legacy and v2), polled. */
#include "../kernel.h"

#define VIRTIO_ACK	   1
#define VIRTIO_DRIVER	   2
#define VIRTIO_DRIVER_OK   4
#define VIRTIO_FEATURES_OK 8

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define VDESC_NEXT  1
#define VDESC_WRITE 2

struct vblk {
	struct blkdev dev;
	bool mmio;
	uint64_t base; /* MMIO physical base, or the legacy I/O port base */
	uint16_t qsz, last_used;
	struct vdesc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[qsz] */
	volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[qsz] */
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} * req;		  /* MAX_BATCH headers */
	volatile uint8_t *status; /* MAX_BATCH status bytes */
};
#define MAX_SECTORS 128
#define MAX_BATCH   4 /* 3 descriptors each: fits the smallest queue (16) */

static struct vblk vb;

static void notify(struct vblk *v)
{
	if (v->mmio)
		mmio_w32(v->base + 0x50, 0);
	else
		outw((uint16_t)(v->base + 16), 0);
}

/* Up to MAX_BATCH requests of up to MAX_SECTORS each, one notify, polled to completion. */
static int vblk_batch(struct vblk *v, const struct blkreq *r, int n)
{
	uint16_t idx = v->avail[1];
	for (int i = 0; i < n; i++) {
		v->req[i].type = 0;
		v->req[i].reserved = 0;
		v->req[i].sector = r[i].sector;
		v->status[i] = 0xff;
		struct vdesc *d = &v->desc[3 * i];
		d[0] = (struct vdesc){v2p(&v->req[i]), 16, VDESC_NEXT, (uint16_t)(3 * i + 1)};
		d[1] = (struct vdesc){v2p(r[i].buf), r[i].count * 512, VDESC_NEXT | VDESC_WRITE,
				      (uint16_t)(3 * i + 2)};
		d[2] = (struct vdesc){v2p((void *)&v->status[i]), 1, VDESC_WRITE, 0};
		v->avail[2 + (uint16_t)(idx + i) % v->qsz] = (uint16_t)(3 * i);
	}
	mb();
	v->avail[1] = (uint16_t)(idx + n);
	mb();
	notify(v);
	while ((uint16_t)(v->used[1] - v->last_used) < n)
		cpu_relax();
	v->last_used = (uint16_t)(v->last_used + n);
	mb();
	for (int i = 0; i < n; i++)
		if (v->status[i] != 0)
			return -5;
	return 0;
}

static int vblk_readv(struct blkdev *d, const struct blkreq *r, int n)
{
	struct vblk *v = (struct vblk *)d;
	for (int i = 0; i < n; i++)
		if (!r[i].count || r[i].count > MAX_SECTORS ||
		    r[i].sector + r[i].count > d->sectors)
			return -5;
	while (n > 0) {
		int k = MIN(n, MAX_BATCH);
		int e = vblk_batch(v, r, k);
		if (e)
			return e;
		r += k;
		n -= k;
	}
	return 0;
}

/* The split ring in the legacy layout (used ring 4096-aligned): also valid for v2. */
static int ring_alloc(struct vblk *v)
{
	size_t avail_off = 16ul * v->qsz;
	size_t used_off = PAGE_ALIGN_UP(avail_off + 6 + 2ul * v->qsz);
	size_t total = used_off + PAGE_ALIGN_UP(6 + 8ul * v->qsz);
	uint64_t pa = pmm_alloc(total / PAGE_SIZE);
	uint64_t extra = pmm_alloc(1);
	if (!pa || !extra)
		return -12;
	v->desc = p2v(pa);
	v->avail = (volatile uint16_t *)((char *)p2v(pa) + avail_off);
	v->used = (volatile uint16_t *)((char *)p2v(pa) + used_off);
	/* polled: no interrupt, which on PCI could share the network device's line */
	v->avail[0] = 1; /* VRING_AVAIL_F_NO_INTERRUPT */
	v->req = p2v(extra);
	v->status = (volatile uint8_t *)p2v(extra) + 256;
	v->dev.readv = vblk_readv;
	return 0;
}

uint32_t pci_cfg(int dev, int reg)
{
	outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (reg & 0xfc));
	return inl(0xcfc);
}

void pci_cfg_w(int dev, int reg, uint32_t val)
{
	outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (reg & 0xfc));
	outl(0xcfc, val);
}

bool pci_present(void)
{
	return (pci_cfg(0, 0) & 0xffff) != 0xffff;
}

static int pci_probe(struct vblk *v)
{
	for (int dev = 0; dev < 32; dev++) {
		uint32_t id = pci_cfg(dev, 0);
		if (id != 0x10011af4)
			continue;
		uint32_t bar0 = pci_cfg(dev, 0x10);
		if (!(bar0 & 1))
			continue;
		pci_cfg_w(dev, 4, pci_cfg(dev, 4) | 0x5); /* I/O space, bus master */
		uint16_t io = bar0 & ~3u;
		v->base = io;
		outb(io + 18, 0);
		outb(io + 18, VIRTIO_ACK);
		outb(io + 18, VIRTIO_ACK | VIRTIO_DRIVER);
		(void)inl(io + 0);
		outl(io + 4, 0);
		outw(io + 14, 0);
		v->qsz = inw(io + 12);
		if (!v->qsz || ring_alloc(v))
			return -5;
		outl(io + 8, (uint32_t)(v2p(v->desc) >> 12));
		outb(io + 18, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_DRIVER_OK);
		v->dev.sectors = inl(io + 20) | (uint64_t)inl(io + 24) << 32;
		v->dev.name = "virtio-blk-pci";
		return 0;
	}
	return -19;
}

/*
 * Give an MMIO device the selected queue: its size, and where its rings are
 * (version 2: each ring's address; the legacy version 1: the page frame of
 * one contiguous area starting with the descriptors).
 */
void virtio_mmio_ring(uint64_t b, uint32_t version, uint16_t qsz, void *desc, void *avail,
		      void *used)
{
	mmio_w32(b + 0x38, qsz);
	if (version == 2) {
		uint64_t d = v2p(desc), a = v2p(avail), u = v2p(used);
		mmio_w32(b + 0x80, (uint32_t)d);
		mmio_w32(b + 0x84, (uint32_t)(d >> 32));
		mmio_w32(b + 0x90, (uint32_t)a);
		mmio_w32(b + 0x94, (uint32_t)(a >> 32));
		mmio_w32(b + 0xa0, (uint32_t)u);
		mmio_w32(b + 0xa4, (uint32_t)(u >> 32));
		mmio_w32(b + 0x44, 1);
	} else {
		mmio_w32(b + 0x3c, 4096);
		mmio_w32(b + 0x40, (uint32_t)(v2p(desc) >> 12));
	}
}

static int mmio_init(struct vblk *v, uint64_t b)
{
	uint32_t version = mmio_r32(b + 4);
	v->base = b;
	v->mmio = true;
	mmio_w32(b + 0x70, 0);
	mmio_w32(b + 0x70, VIRTIO_ACK);
	mmio_w32(b + 0x70, VIRTIO_ACK | VIRTIO_DRIVER);
	if (version == 2) {
		mmio_w32(b + 0x24, 1); /* driver features, word 1: VIRTIO_F_VERSION_1 */
		mmio_w32(b + 0x20, 1);
		mmio_w32(b + 0x24, 0);
		mmio_w32(b + 0x20, 0);
		mmio_w32(b + 0x70, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK);
		if (!(mmio_r32(b + 0x70) & VIRTIO_FEATURES_OK))
			return -5;
	} else {
		mmio_w32(b + 0x24, 0);
		mmio_w32(b + 0x20, 0);
		mmio_w32(b + 0x28, 4096); /* guest page size */
	}
	mmio_w32(b + 0x30, 0);
	uint32_t max = mmio_r32(b + 0x34);
	if (!max)
		return -5;
	v->qsz = (uint16_t)MIN(max, 16u);
	if (ring_alloc(v))
		return -12;
	virtio_mmio_ring(b, version, v->qsz, v->desc, (void *)v->avail, (void *)v->used);
	mmio_w32(b + 0x70, mmio_r32(b + 0x70) | VIRTIO_DRIVER_OK);
	v->dev.sectors = mmio_r32(b + 0x100) | (uint64_t)mmio_r32(b + 0x104) << 32;
	v->dev.name = "virtio-blk-mmio";
	return 0;
}

/* microvm: up to 24 slots of 512 bytes from 0xfeb00000; the first -device takes the top one. */
static int mmio_probe(struct vblk *v)
{
	for (int i = 23; i >= 0; i--) {
		uint64_t b = 0xfeb00000ul + (uint64_t)i * 0x200;
		if (mmio_r32(b) != 0x74726976 || mmio_r32(b + 8) != 2)
			continue;
		return mmio_init(v, b);
	}
	return -19;
}

int virtio_probe(struct blkdev **out)
{
	int r = pci_present() ? pci_probe(&vb) : mmio_probe(&vb);
	if (r)
		return r;
	*out = &vb.dev;
	return 0;
}
