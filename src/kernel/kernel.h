/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel-wide declarations: types, the small libc, devices, memory, files, exit. */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asm.h"
#include "klib.h"
#include "linux.h"

#define PAGE_SIZE	   4096ul
#define PAGE_ALIGN_UP(x)   (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ALIGN_DOWN(x) ((x) & ~(PAGE_SIZE - 1))
#define ARRAY_LEN(a)	   (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	   ((a) < (b) ? (a) : (b))
#define MAX(a, b)	   ((a) > (b) ? (a) : (b))
#define NORETURN	   __attribute__((noreturn))

static inline void *p2v(uint64_t p)
{
	return (void *)(p + DMAP_BASE);
}
static inline uint64_t v2p(const void *v)
{
	uint64_t a = (uint64_t)v;
	return a >= KVBASE ? a - KVBASE : a - DMAP_BASE;
}

/* port and MSR access */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}
static inline void mmio_w32(uint64_t pa, uint32_t v)
{
	*(volatile uint32_t *)p2v(pa) = v;
}
static inline uint32_t mmio_r32(uint64_t pa)
{
	return *(volatile uint32_t *)p2v(pa);
}
static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}
#define barrier() __asm__ volatile("" ::: "memory")
#define mb()	  __asm__ volatile("mfence" ::: "memory")

/* lib.c: formatted output */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* kernel options from the cmdline */
struct kopts {
	bool verbose, trace, nosys, quiet, strace, netstat;
};
extern struct kopts kopt;
struct trace_mark {
	const char *what;
	uint64_t tsc;
};
extern struct trace_mark trace_marks[16];
extern int trace_nmarks;
#define kverbose(...)                                                                              \
	do {                                                                                       \
		if (kopt.verbose)                                                                  \
			kprintf(__VA_ARGS__);                                                      \
	} while (0)

/* uart.c and console.c */
void uart_init(void);
void uart_putc(char c);
int uart_getc(void); /* -1 when nothing is waiting */
void status_init(void);
bool status_present(void);
void status_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long console_write(const char *buf, size_t len);
long console_write_user(const char *buf,
			size_t len); /* a program's: TOSTOP stops a background job */
long console_read(char *buf, size_t len, bool nonblock);
void console_pump(void); /* run the line discipline over the input that arrived */
/* the UART's received-data interrupt (VEC_TTY): routed once the I/O APICs are known; the
 * handler's part without the kernel lock; the work it left, under the lock */
void console_irq_init(void);
void console_irq(void);
void console_irq_work(void);
bool console_has_irq(void); /* else input is noticed only by polling (IDLE_CONSOLE_NS) */
void fasync_tty(void);	    /* sys/fasync.c: input can be read: SIGIO for the console's O_ASYNC */
void fasync_net(void);	    /* sys/fasync.c: the stack ran: SIGIO for sockets that changed */
int console_ioctl(unsigned long req, uint64_t arg);
bool console_readable(void);
void console_start_line(void);

/* cpu.c */
void cpu_init(void);
extern uint64_t boot_tsc;
void enter_user(uint64_t rip, uint64_t rsp) NORETURN;
void cpu_set_kstack(uint64_t top);
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vec, err, rip, cs, rflags, rsp, ss;
};
struct sysframe {
	uint64_t r15, r14, r13, r12, rbp, rbx, r9, r8, r10, rdx, rsi, rdi, rax, rip, rflags, rsp;
};

/* time.c */
void time_init(void);
uint64_t time_ns(void); /* monotonic since boot */
uint64_t time_tsc_hz(void);
int64_t time_realtime_offset(void); /* ns to add to time_ns for CLOCK_REALTIME */
bool time_mult(uint64_t *mult);	    /* ns = ((tsc - boot_tsc) * mult) >> 32, once calibrated */
bool time_wall(int64_t *offset);    /* time_realtime_offset(), once it has been read */

/* the vDSO (vdso/kvdso.c) */
uint64_t vdso_map(uint64_t va);
void vdso_update(void);
#define IDLE_MAX_NS 50000000ull /* longest HLT: the power button is noticed within this */
/* what has no interrupt (the console, a NIC without one) is polled this often while waited for */
#define IDLE_CONSOLE_NS 10000000ull
#define WAIT_FOREVER	UINT64_MAX  /* kwait: no deadline, only a wakeup or a signal ends it */
uint64_t time_idle_ns(void);	    /* time spent halted since boot, all CPUs */
uint64_t time_cpu_idle_ns(int cpu); /* and by one CPU */
void time_loadavg(uint64_t out[3]); /* 1, 5 and 15 minutes, in 1/2048ths */
void cpu_idle(uint64_t max_ns);	    /* HLT for up to max_ns (capped at IDLE_MAX_NS) */
/* Wait for some event: sleep up to max_ns (WAIT_FOREVER: no limit; other tasks run), then take
 * console input.  True when a signal (the power button's SIGTERM too) interrupted the wait. */
bool kwait(uint64_t max_ns);
void lapic_eoi(void);		  /* the timer's interrupt */
void lapic_ack(void);		  /* another interrupt's */
void lapic_oneshot(uint64_t ns);  /* one timer interrupt (vector 32) after ns */
bool lapic_armed_by(uint64_t by); /* a one-shot armed fires no later than by (time_ns) */

/* power.c: leaving the machine */
#define EXIT_FAULT_BASE 128
#define EXIT_PANIC	255
#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127
void power_init(void);
void power_poll(void); /* the power button pressed: SIGTERM for pid 1 */
void power_use_ged(bool on);
void kexit(int status, const char *why) NORETURN;
void signal_raise(int sig); /* sys/signal.c: a signal the kernel sends the program */
void panic(const char *fmt, ...) NORETURN __attribute__((format(printf, 1, 2)));

/* mm.c: physical pages, kernel heap, the user address space */
uint64_t pmm_init(uint64_t phys, uint64_t top);
void pmm_add(uint64_t base, uint64_t len);
void pmm_reserve(uint64_t base, uint64_t len);
uint64_t pmm_alloc(size_t npages);     /* physical address, zeroed; 0 when out of memory */
uint64_t pmm_alloc_raw(size_t npages); /* not zeroed */
void pmm_free(uint64_t pa, size_t npages);
uint64_t pmm_free_pages(void);
uint64_t pmm_total_pages(void);
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void *krealloc(void *p, size_t n);
void kfree(void *p);
char *kstrdup(const char *s);

void vm_init(void);
void vm_map_ram(uint64_t top);
int vm_map(uint64_t va, uint64_t len, int prot, bool lazy);
struct node;
int vm_map_file(uint64_t va, uint64_t len, int prot, struct node *n, uint64_t off);
void vm_unmap(uint64_t va, uint64_t len);
int vm_protect(uint64_t va, uint64_t len, int prot);
int vm_move(uint64_t from, uint64_t to, uint64_t len);
bool vm_is_free(uint64_t va, uint64_t len);
bool vm_fault(uint64_t va, bool write, bool user);
bool vm_present(uint64_t va, bool write, bool user); /* a not-present fault's page is there now */
void tlb_shootdown(void); /* proc/cpu.c: the other CPUs flush their TLBs */
bool vm_user_ok(uint64_t va, uint64_t len);
void vm_zero_page(uint64_t va);
void *vm_kernel_addr(uint64_t va); /* a present user page, through the kernel's map of RAM */
void vm_release_user(void);
/* address spaces: one per process; the scheduler switches them (vm_switch loads CR3) */
struct mm;
struct mm *vm_current(void);
struct mm *vm_first(void); /* pid 1's first, never freed: what an idle CPU holds */
void vm_switch(struct mm *mm);
struct mm *vm_new(void);  /* empty; NULL when out of memory */
struct mm *vm_fork(void); /* a copy-on-write copy of the current one */
void vm_get(struct mm *mm);
void vm_put(struct mm *mm);
bool vm_shared(const struct mm *mm); /* held by more than one process (vfork) */
int vm_map_pinned(uint64_t va, uint64_t pa, int prot);
int vm_map_shared(uint64_t va, uint64_t pa, int prot);
int vm_map_anon_shared(uint64_t va, uint64_t len, int prot); /* MAP_SHARED|MAP_ANONYMOUS */
bool vm_has_shared(uint64_t va, uint64_t len);
void shm_release(uint64_t va, uint64_t pa); /* sys/shm.c: a shared page's mapping went away */
void shm_share(uint64_t va, uint64_t pa);   /* sys/shm.c: fork mapped it in the child too */
void vm_ranges(void (*fn)(void *ctx, uint64_t start, uint64_t end, int prot, uint64_t resident),
	       void *ctx);
uint32_t crc32(uint32_t crc, const void *buf, size_t len);

/* dev/blk.c: the image disk */
struct blkreq {
	uint64_t sector;
	void *buf;	/* physically contiguous kernel memory (the direct map) */
	uint32_t count; /* sectors, 1..128 */
};
struct blkdev {
	uint64_t sectors;
	/* read all of r[0..n) (one device round trip where it can) */
	int (*readv)(struct blkdev *d, const struct blkreq *r, int n);
	const char *name;
};
int virtio_probe(struct blkdev **out);
void virtio_mmio_ring(uint64_t base, uint32_t version, uint16_t qsz, void *desc, void *avail,
		      void *used);
int blk_read(uint64_t off, void *buf, size_t len); /* byte-granular, through a small cache */
const void *blk_peek(uint64_t off, size_t len);
void blk_prefetch(const uint64_t *offs, int n); /* bring chunks in with one round trip */
extern struct blkdev *rootdev;
bool pci_present(void);
uint32_t pci_cfg(int dev, int reg); /* bus 0, function 0 */
void pci_cfg_w(int dev, int reg, uint32_t val);

/* arch/ioapic.c: device interrupts, delivered to the boot CPU */
void ioapic_init(uint64_t rsdp_paddr);
bool ioapic_has_gsi(uint32_t gsi);
int ioapic_route(uint32_t gsi, uint8_t vec, bool level, bool active_low);
int ioapic_route_isa(uint8_t irq, uint8_t vec, uint32_t *gsi_out); /* a PCI interrupt line */
/* dev/net.c: the network device's interrupt (VEC_NET), acknowledged without the kernel lock */
void netdev_irq(void);
/* net/knet.c: the work an interrupt left, run under the kernel lock (every wait and tick) */
void knet_irq_work(void);

#endif
