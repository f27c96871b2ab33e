/* SPDX-License-Identifier: BSD-3-Clause */
/* Time: the TSC, calibrated against the local APIC timer (1 GHz in QEMU and KVM), and a wall clock.
 */
#include "kernel.h"
#include "proc/cpu.h"
#include "proc/task.h"

static uint64_t tsc_hz, mult; /* ns = (tsc * mult) >> 32 */
static int64_t wall_offset;
static bool wall_done;

#define LAPIC_DEFAULT 0xfee00000ul

static uint32_t lapic_r(uint64_t base, uint32_t reg)
{
	return mmio_r32(base + reg);
}
static void lapic_w(uint64_t base, uint32_t reg, uint32_t v)
{
	mmio_w32(base + reg, v);
}

static uint64_t lapic_base(void)
{
	uint64_t base = rdmsr(0x1b) & 0xffffff000ul;
	return base ? base : LAPIC_DEFAULT;
}

/*
 * Waiting without burning the host's CPU: a one-shot local APIC timer
 * interrupt (vector 32) ends a HLT after max_ns, at most IDLE_MAX_NS so that
 * the callers' power button checks stay timely; the caller then polls the
 * console, the clock and the power button again.  Interrupts are enabled only
 * inside this HLT.  An idle guest thus wakes ~20 times a second, not 1000:
 * under nested KVM each wakeup is a costly VM exit, for every idle instance.
 */

/* Whether this CPU's one-shot is armed to fire by `by` (time_ns): then arming another can wait. */
bool lapic_armed_by(uint64_t by)
{
	uint64_t due = this_cpu()->timer_due;
	return due && due > time_ns() && due <= by;
}

void lapic_enable(void)
{
	uint64_t b = lapic_base();
	lapic_w(b, 0xf0, 0x100 | 32); /* software enable; spurious vector 32 */
	lapic_w(b, 0x3e0, 0x3); /* divide by 16: 62.5 MHz on QEMU's and KVM's 1 GHz APIC bus */
	this_cpu()->lapic_on = true;
}

void lapic_oneshot(uint64_t ns)
{
	struct cpu *c = this_cpu();
	uint64_t b = lapic_base();
	if (!c->lapic_on)
		lapic_enable();
	uint64_t count = ns / 16;
	if (count > 0xffffffffu)
		count = 0xffffffffu;
	lapic_w(b, 0x320, 32); /* one-shot, vector 32 */
	lapic_w(b, 0x380, count ? (uint32_t)count : 1);
	c->timer_due = time_ns() + ns;
}

/*
 * HLT with the kernel lock released: the other CPUs go on meanwhile.  A
 * wakeup kick or the timer may come while interrupts are still off; STI
 * holds it back until HLT has begun, on hardware.  Emulated (nested KVM's
 * kvm_pvm emulates STI and HLT) it may come between the two: trap_entry
 * then steps over the HLT (idle_hlt), which would wait for an interrupt
 * that already came.  (An AP halted so for good while a task waited on
 * the run queue: two threads then shared one CPU for minutes.)
 */
__attribute__((noinline)) void cpu_idle(uint64_t max_ns)
{
	struct cpu *c = this_cpu();
	if (max_ns > IDLE_MAX_NS)
		max_ns = IDLE_MAX_NS;
	uint64_t t0 = time_ns();
	lapic_oneshot(max_ns);
	c->idle = true; /* before the lock goes: a CPU that makes a task runnable kicks this one */
	klock_release();
	__asm__ volatile("sti\n\t"
			 ".globl idle_hlt\n"
			 "idle_hlt: hlt\n\t"
			 "cli" ::
			     : "memory");
	c->idle = false;
	c->timer_due = 0;
	klock_acquire();
	tlb_flush_stale();
	c->idle_ns += time_ns() - t0;
	uint64_t unused[3];
	time_loadavg(unused); /* fold in each period while its idle time is fresh */
}

uint64_t time_idle_ns(void)
{
	uint64_t ns = 0;
	for (int i = 0; i < ncpus; i++)
		ns += cpus[i].idle_ns;
	return ns;
}

uint64_t time_cpu_idle_ns(int cpu)
{
	return cpus[cpu].idle_ns;
}

/*
 * The load average as Linux keeps it: every 5 s each of three averages
 * moves toward the number of runnable tasks (in 1/2048ths) by the factors
 * for 1, 5 and 15 minutes.  With one task, runnable is the share of the
 * period the CPU was not halted; idle time is counted to the oldest period
 * not yet folded in, so a long busy stretch reads as busy.
 */
#define LOAD_FIXED_1 2048
#define LOAD_PERIOD  5000000000ull
static uint64_t load[3], load_next = LOAD_PERIOD, load_idle_seen;

void time_loadavg(uint64_t out[3])
{
	static const uint64_t factor[3] = {1884, 2014, 2037};
	uint64_t now = time_ns();
	while (now >= load_next) {
		uint64_t idle = MIN(time_idle_ns() - load_idle_seen, LOAD_PERIOD * ncpus);
		load_idle_seen += idle;
		uint64_t active = (LOAD_PERIOD * ncpus - idle) * LOAD_FIXED_1 / LOAD_PERIOD;
		for (int i = 0; i < 3; i++)
			load[i] = (load[i] * factor[i] + active * (LOAD_FIXED_1 - factor[i])) /
				  LOAD_FIXED_1;
		load_next += LOAD_PERIOD;
	}
	for (int i = 0; i < 3; i++)
		out[i] = load[i];
}

bool kwait(uint64_t max_ns)
{
	uint64_t deadline = max_ns == WAIT_FOREVER ? 0 : time_ns() + max_ns;
	bool signalled = task_sleep(deadline, true) == W_SIGNAL;
	console_pump();
	return signalled;
}

/* The timer interrupt came: nothing is armed any more, whatever the TSC says about its due
 * time (under TCG the APIC's clock and the TSC drift apart). */
void lapic_eoi(void)
{
	this_cpu()->timer_due = 0;
	lapic_ack();
}

void lapic_ack(void)
{
	lapic_w(lapic_base(), 0xb0, 0);
}

uint32_t lapic_id(void)
{
	return lapic_r(lapic_base(), 0x20) >> 24;
}

/* Send an interrupt command (ICR low word) to one CPU, once the last one left. */
void lapic_ipi(uint32_t apic_id, uint32_t icr)
{
	uint64_t b = lapic_base();
	while (lapic_r(b, 0x300) & 0x1000) /* delivery pending */
		cpu_relax();
	lapic_w(b, 0x310, apic_id << 24);
	lapic_w(b, 0x300, icr);
}

/* Lazily: calibration costs ~200 us, which boot should not pay. */
static void calibrate(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			tsc_hz = (uint64_t)r[2] * r[1] / r[0];
			goto done;
		}
	}
	uint64_t base = lapic_base();
	lapic_w(base, 0xf0, 0x100 | 32); /* software enable, spurious vector 32 */
	lapic_w(base, 0x320, 0x10000);	 /* timer masked, one-shot */
	lapic_w(base, 0x3e0, 0xb);	 /* divide by 1 */
	lapic_w(base, 0x380, 0xffffffff);
	uint32_t c0 = lapic_r(base, 0x390);
	uint64_t t0 = rdtsc();
	uint32_t c1;
	do
		c1 = lapic_r(base, 0x390);
	while (c0 - c1 < 200000);
	uint64_t t1 = rdtsc();
	lapic_w(base, 0x380, 0);
	lapic_w(base, 0x3e0, 0x3); /* back to what cpu_idle expects */
	tsc_hz = (t1 - t0) * 1000000000ull / (c0 - c1);
done:
	if (!tsc_hz)
		tsc_hz = 1000000000ull;
	mult = (1000000000ull << 32) / tsc_hz;
	vdso_update();
}

bool time_mult(uint64_t *m)
{
	*m = mult;
	return tsc_hz != 0;
}

bool time_wall(int64_t *offset)
{
	*offset = wall_offset;
	return wall_done;
}

void time_init(void)
{
}

uint64_t time_tsc_hz(void)
{
	if (!tsc_hz)
		calibrate();
	return tsc_hz;
}

uint64_t time_ns(void)
{
	if (!tsc_hz)
		calibrate();
	return (uint64_t)(((unsigned __int128)(rdtsc() - boot_tsc) * mult) >> 32);
}

static int bcd(int v)
{
	return (v & 15) + (v >> 4) * 10;
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* CLOCK_REALTIME: the CMOS RTC where there is one, else the epoch plus uptime. */
int64_t time_realtime_offset(void)
{
	if (wall_done)
		return wall_offset;
	wall_done = true;
	if (cmos(0x0d) == 0xff) {
		vdso_update();
		return 0;
	}
	for (int i = 0; i < 1000 && (cmos(0x0a) & 0x80); i++)
		cpu_relax();
	int sec = cmos(0), min = cmos(2), hour = cmos(4), day = cmos(7), mon = cmos(8),
	    year = cmos(9);
	int cent = cmos(0x32);
	if (!(cmos(0x0b) & 4)) {
		sec = bcd(sec), min = bcd(min), hour = bcd(hour & 0x7f), day = bcd(day),
		mon = bcd(mon), year = bcd(year);
		cent = bcd(cent);
	}
	if (cent < 19 || cent > 30)
		cent = 20;
	int64_t t =
	    days_from_civil(cent * 100 + year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
	wall_offset = t * 1000000000ll - (int64_t)time_ns();
	vdso_update();
	return wall_offset;
}
