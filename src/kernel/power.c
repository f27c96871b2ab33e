/* SPDX-License-Identifier: BSD-3-Clause */
/* Leaving the machine (exit status to the host) and noticing a graceful stop request. */
#include "kernel.h"
#include "proc/task.h"
#include "net/knet.h"
#include "syscall.h"

/*
 * Exit status mapping (documented in capstan-kernel(7)):
 *  - status line "exit N" / "fault N ..." / "panic ..." on the status channel
 *    (isa-debugcon, port 0xe9) when present: the precise value;
 *  - isa-debug-exit (port 0xf4): v = N for N < 127, else 127; QEMU exits 2v+1;
 *  - otherwise ACPI S5 (PIIX4/ICH9 PM at 0x600, microvm GED) or a triple fault:
 *    QEMU exits 0.
 */
#define PM_BASE	  0x600
#define GED_EVT	  0xfea00000ul
#define GED_SLEEP 0xfea00200ul

static bool have_pm, have_ged;
static uint64_t next_poll;

void power_init(void)
{
	/* PIIX4/ICH9 ACPI PM (SeaBIOS puts it at 0x600): enable the power button status */
	outw(PM_BASE + 2, 0x100);
	have_pm = inw(PM_BASE + 2) == 0x100;
	if (have_pm)
		outw(PM_BASE, 0x100); /* clear a stale PWRBTN_STS */
}

void power_use_ged(bool on)
{
	have_ged = on;
}

/* Rate-limited: the PM and GED registers cost a VM exit each.  Reading GED's event clears it. */
static bool pressed(void)
{
	uint64_t now = rdtsc();
	if (now < next_poll)
		return false;
	next_poll = now + 20 * 1000 * 1000; /* ~10 ms at 2 GHz, exactness does not matter */
	if (have_pm && (inw(PM_BASE) & 0x100)) {
		outw(PM_BASE, 0x100); /* write 1 to clear: the next press is seen again */
		return true;
	}
	if (have_ged && (*(volatile uint32_t *)p2v(GED_EVT) & 0x2))
		return true;
	return false;
}

/*
 * The power button is SIGTERM for pid 1, as a Linux init gets it from its
 * ACPI daemon: a server with a handler shuts itself down and exits with its
 * own status; one without dies of it (143, "stopped by power button").
 */
void power_poll(void)
{
	if (!pressed())
		return;
	struct ksiginfo k = {.code = SI_KERNEL};
	signal_to_proc(&proc, SIGTERM, &k);
}

static void NORETURN power_off(int status)
{
	outl(0xf4, status < 127 ? (uint32_t)status : 127u);
	outw(PM_BASE + 4, 0x2000);
	if (have_ged)
		*(volatile uint8_t *)p2v(GED_SLEEP) = (5 << 2) | (1 << 5);
	/* triple fault: with -no-reboot QEMU exits 0 */
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = {0, 0};
	__asm__ volatile("lidt %0; int3" ::"m"(none));
	for (;;)
		__asm__ volatile("hlt");
}

void kexit(int status, const char *why)
{
	if (why || kopt.nosys || kopt.netstat)
		console_start_line();
	if (why)
		kprintf("capstan: %s\n", why);
	if (kopt.nosys)
		syscall_report();
	if (kopt.netstat)
		sock_report();
	knet_exit();
	if (why)
		status_printf("exit %d %s\n", status, why);
	else
		status_printf("exit %d\n", status);
	power_off(status);
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("capstan: panic: %s\n", buf);
	status_printf("panic %s\n", buf);
	power_off(EXIT_PANIC);
}
