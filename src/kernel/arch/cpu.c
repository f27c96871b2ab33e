/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU setup (GDT, TSS, IDT, SYSCALL MSRs, SSE/AVX) and the trap handler that reports faults. */
#include "../kernel.h"
#include "../proc/task.h"
#include "../syscall.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

/* every CPU gets a copy, with its own TSS in the last two entries */
static const uint64_t gdt_template[7] = {
    0,
    0x00af9a000000ffff, /* 0x08 kernel code */
    0x00cf92000000ffff, /* 0x10 kernel data */
    0x00cff2000000ffff, /* 0x18 user data */
    0x00affa000000ffff, /* 0x20 user code */
    0,
    0, /* 0x28 TSS */
};
static struct idt_gate idt[256];
static uint8_t kstack[32768] __attribute__((aligned(16), section(".stacks")));
extern const uint64_t isr_table[37];
extern void syscall_entry(void);

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint64_t base;
};

static void idt_build(void)
{
	for (int v = 0; v < (int)ARRAY_LEN(isr_table); v++) {
		uint64_t a = isr_table[v];
		idt[v] = (struct idt_gate){(uint16_t)a,
					   SEL_KCODE,
					   (v == 8 || v == 2) ? 1 : 0,
					   0x8e,
					   (uint16_t)(a >> 16),
					   (uint32_t)(a >> 32),
					   0};
	}
}

/* The boot CPU: its stack, the shared IDT, the legacy PIC silenced, then what every CPU sets up. */
void cpu_init(void)
{
	this_cpu()->kstack_top = (uint64_t)kstack + sizeof(kstack);
	idt_build();
	/* no legacy PIC interrupts: the kernel polls */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	cpu_setup(this_cpu());
}

/* What each CPU sets up for itself: descriptor tables, SYSCALL, the FPU. */
void cpu_setup(struct cpu *c)
{
	struct tss *tss = &c->tss;
	uint64_t t = (uint64_t)tss, *gdt = c->gdt;
	memcpy(gdt, gdt_template, sizeof(c->gdt));
	tss->rsp0 = c->kstack_top;
	tss->ist[0] = (uint64_t)c->ist_stack + sizeof(c->ist_stack);
	tss->iomap = sizeof(*tss);
	gdt[5] = (sizeof(*tss) - 1) | ((t & 0xffffff) << 16) | (0x89ul << 40) |
		 (((t >> 24) & 0xff) << 56);
	gdt[6] = t >> 32;
	struct dtr g = {sizeof(c->gdt) - 1, (uint64_t)gdt};
	/* loading GS would clear its base: it is left alone */
	__asm__ volatile("lgdt %0\n\t"
			 "pushq $0x08\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1: mov $0x10, %%eax\n\t"
			 "mov %%eax, %%ds\n\t"
			 "mov %%eax, %%es\n\t"
			 "mov %%eax, %%ss\n\t"
			 "mov $0x28, %%eax\n\t"
			 "ltr %%ax" ::"m"(g)
			 : "rax", "memory");
	struct dtr i = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(i));
	/* SYSCALL: SYSRET selectors from 0x10 (user data 0x1b, user code 0x23) */
	wrmsr(0xc0000081, (0x13ul << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(0xc0000082, (uint64_t)syscall_entry);
	wrmsr(0xc0000084, 0x47700); /* clear TF DF IF AC NT */

	/* SSE for the program (the kernel itself is built without it); CR0.WP off
	 * so the loader writes read-only program pages. */
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 & ~(0x4ul | 0x10000ul)) | 0x2 | 0x20;
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= 0x600;
	/*
	 * XSAVE on, with x87 and SSE state only: no AVX for the program.  Every
	 * switch between threads saves the user's FPU state, and nested KVM on
	 * some hosts (kvm_pvm) ends the VM on any XSAVE, XGETBV or AVX
	 * instruction the guest kernel runs, so AVX state could not be kept;
	 * FXSAVE works.  Libcs read XCR0 and use their SSE2 routines.
	 */
	uint32_t r[4];
	cpuid(1, 0, r);
	bool xsave = r[2] & (1u << 26);
	if (xsave)
		cr4 |= 1ul << 18;
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
	if (xsave)
		__asm__ volatile("xsetbv" ::"c"(0), "a"(3u), "d"(0));
	/* MXCSR is 0x1f80 from reset; ldmxcsr here trips nested KVM on this machine */
	__asm__ volatile("fninit");
}

/* The stack the next entry from user mode runs on: the current task's. */
void cpu_set_kstack(uint64_t top)
{
	struct cpu *c = this_cpu();
	c->kstack_top = top;
	c->tss.rsp0 = top;
}

static const char *const vec_names[] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 error",
    "alignment check",
    "machine check",
    "SIMD error",
    "virtualization",
    "control protection",
};

static int vec_signal(uint64_t v)
{
	switch (v) {
	case 0:
	case 16:
	case 19:
		return 8; /* SIGFPE */
	case 1:
	case 3:
		return 5; /* SIGTRAP */
	case 6:
		return 4; /* SIGILL */
	case 17:
		return 7; /* SIGBUS */
	default:
		return 11; /* SIGSEGV */
	}
}

/* si_code of a fault: SEGV_MAPERR/ACCERR, FPE_INTDIV, ILL_ILLOPN, BUS_ADRALN, TRAP_BRKPT */
static int fault_code(const struct trapframe *f, int sig)
{
	switch (sig) {
	case SIGSEGV:
		return f->vec == 14 && (f->err & 1) ? 2 : 1;
	case SIGFPE:
		return f->vec == 0 ? 1 : 7; /* FPE_INTDIV, else FPE_FLTINV */
	case SIGILL:
		return 2;
	case SIGBUS:
		return 1;
	default:
		return 1;
	}
}

static void trap_handler(struct trapframe *f)
{
	uint64_t cr2 = 0;
	const char *name = f->vec < ARRAY_LEN(vec_names) ? vec_names[f->vec] : "interrupt";
	if (f->vec == 14) {
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		if (vm_fault(cr2, f->err & 2, f->cs & 3))
			return;
		/* Another CPU mapped the page, or gave it the access that faulted (a COW copy,
		 * mprotect), while this one waited for the lock or held an older TLB entry: the
		 * fault flushed that entry, and the access is tried again. */
		if (!(f->err & 8) && (!(f->err & 1) || !(f->err & 16)) &&
		    vm_present(cr2, f->err & 2, f->cs & 3))
			return;
		/*
		 * A SYSCALL that reached the entry point without leaving ring 3:
		 * nested KVM on some hosts emulates SYSCALL without loading CS.
		 * RCX and R11 are set as SYSCALL sets them; serve the call here
		 * and return with IRETQ.
		 */
		if ((f->cs & 3) && f->rip == (uint64_t)syscall_entry && cr2 == f->rip) {
			struct sysframe s = {.r15 = f->r15,
					     .r14 = f->r14,
					     .r13 = f->r13,
					     .r12 = f->r12,
					     .rbp = f->rbp,
					     .rbx = f->rbx,
					     .r9 = f->r9,
					     .r8 = f->r8,
					     .r10 = f->r10,
					     .rdx = f->rdx,
					     .rsi = f->rsi,
					     .rdi = f->rdi,
					     .rax = f->rax,
					     .rip = f->rcx,
					     .rflags = f->r11,
					     .rsp = f->rsp};
			syscall_dispatch(&s);
			f->rax = s.rax; /* and what a signal handler's frame changed */
			f->rip = s.rip;
			f->rsp = s.rsp;
			f->rdi = s.rdi;
			f->rsi = s.rsi;
			f->rdx = s.rdx;
			f->rflags = (s.rflags & 0x3c0fd5) | 0x2;
			f->cs = SEL_UCODE;
			f->ss = SEL_UDATA;
			return;
		}
	}
	if (f->vec == 7 && (f->cs & 3)) { /* lazy FPU switching (sched.c) */
		fpu_trap();
		return;
	}
	if (f->vec == VEC_TIMER) { /* a slice ended or a sleeper is due (or a spurious one) */
		if (f->cs & 3) {
			sched_tick(&f->rip);
			signal_trap_exit(f);
		}
		return;
	}
	if (f->vec == VEC_NET) { /* frames came: the stack takes them, their waiters wake */
		if (f->cs & 3) {
			knet_irq_work();
			sched_tick(&f->rip);
			signal_trap_exit(f);
		}
		return;
	}
	if (f->vec == VEC_TTY) { /* typed input: its readers and pollers wake */
		if (f->cs & 3) {
			console_irq_work();
			sched_tick(&f->rip);
			signal_trap_exit(f);
		}
		return;
	}
	if (f->vec == VEC_KICK) { /* another CPU: a task to run, or a signal for this one */
		if (f->cs & 3) {
			sched_tick(&f->rip);
			signal_trap_exit(f);
		}
		return;
	}
	char what[96];
	if (f->vec == 14)
		ksnprintf(what, sizeof(what), "%s at 0x%lx (%s, %s)", name, cr2,
			  f->err & 2	? "write"
			  : f->err & 16 ? "exec"
					: "read",
			  f->err & 1 ? "protection" : "not mapped");
	else
		ksnprintf(what, sizeof(what), "%s (error 0x%lx)", name, f->err);
	if (f->cs & 3) {
		int sig = vec_signal(f->vec);
		if (signal_fault(f, sig, fault_code(f, sig), f->vec == 14 ? cr2 : f->rip))
			return;
		kprintf("capstan: program fault: %s, rip 0x%lx, rsp 0x%lx, cs 0x%lx, last syscall "
			"%s (%ld)\n",
			what, f->rip, f->rsp, f->cs, syscall_name(sys_last), sys_last);
		status_printf("fault %d %s rip=0x%lx last-syscall=%ld\n", 128 + sig, what, f->rip,
			      sys_last);
		kexit(128 + sig, NULL);
	}
	panic("kernel %s, rip 0x%lx rsp 0x%lx rax 0x%lx rdi 0x%lx rsi 0x%lx, in syscall %s (%ld)",
	      what, f->rip, f->rsp, f->rax, f->rdi, f->rsi, syscall_name(sys_last), sys_last);
}

/*
 * Every interrupt and exception (entry.S).  A TLB shootdown is answered
 * without the kernel lock: its sender holds the lock while it waits.  The
 * other interrupts are acknowledged before the lock is taken: one in
 * service would hold back the shootdown (the same priority class).  The
 * network device's and the console's interrupts taken in kernel mode (in
 * HLT, or while waiting for the lock) only leave a flag: the next wait or
 * tick does the work.
 */
void trap_entry(struct trapframe *f);
void trap_entry(struct trapframe *f)
{
	extern const char idle_hlt[]; /* time.c: cpu_idle's HLT */
	if (!(f->cs & 3) && f->rip == (uint64_t)idle_hlt) {
		f->rip++; /* the HLT (one byte) would wait for what just came */
	}
	if (f->vec == VEC_TLB) {
		tlb_flush_ipi();
		return;
	}
	if (f->vec == VEC_TIMER) {
		lapic_eoi();
	} else if (f->vec == VEC_KICK) {
		lapic_ack();
	} else if (f->vec == VEC_NET) {
		netdev_irq(); /* the device lowers its level-triggered line before the EOI */
		lapic_ack();
	} else if (f->vec == VEC_TTY) {
		console_irq(); /* edge-triggered: reading the input lowers the line */
		lapic_ack();
	}
	if (f->cs & 3)
		klock_enter();
	trap_handler(f);
}
