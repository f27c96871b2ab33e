/* SPDX-License-Identifier: BSD-3-Clause */
/* The 16550 console as a small tty (ONLCR, canonical input with echo), and the status channel. */
#include "../kernel.h"
#include "../proc/task.h"

#define COM1	 0x3f8
#define DEBUGCON 0xe9

static bool have_status;

void uart_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts: the kernel polls */
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01); /* 115200 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0x00); /* no FIFO: enabling it would drop input that already arrived */
	outb(COM1 + 4, 0x0b);
}

void uart_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

int uart_getc(void)
{
	if (inb(COM1 + 5) & 0x01)
		return inb(COM1);
	return -1;
}

/*
 * The status channel: QEMU's isa-debugcon (default port 0xe9) reads back 0xe9
 * when present.  The kernel writes its final "exit"/"fault"/"panic" line there
 * so the host gets the precise status that an 8-bit exit code cannot carry.
 */
void status_init(void)
{
	have_status = inb(DEBUGCON) == DEBUGCON;
}

bool status_present(void)
{
	return have_status;
}

void status_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	if (!have_status)
		return;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (int i = 0; i < n && i < (int)sizeof(buf) - 1; i++)
		outb(DEBUGCON, (uint8_t)buf[i]);
}

/* Linux struct termios as TCGETS sees it */
struct ktermios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
#define ICRNL  0x100
#define OPOST  0x1
#define ONLCR  0x4
#define ISIG   0x1
#define ICANON 0x2
#define ECHO   0x8
#define ECHOE  0x10
#define ECHOK  0x20
#define IEXTEN 0x8000

static struct ktermios tio = {
    .c_iflag = ICRNL,
    .c_oflag = OPOST | ONLCR,
    .c_cflag = 0x1002 | 0x30 | 0x80, /* B115200 CS8 CREAD */
    .c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN,
    .c_cc = {3, 0x1c, 0x7f, 0x15, 4, 0, 1},
};
static char line[1024];
static size_t line_len, line_ready; /* line_ready: bytes of a finished line still to deliver */
static bool line_eof;
static bool out_midline; /* the last byte written was not a newline */

long console_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' && (tio.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR))
			uart_putc('\r');
		uart_putc(buf[i]);
	}
	if (len)
		out_midline = buf[len - 1] != '\n';
	return (long)len;
}

/* The kernel's own lines start on a line of their own, whatever the program left. */
void console_start_line(void)
{
	if (out_midline)
		console_write("\n", 1);
}

static void echo(char c)
{
	if (tio.c_lflag & ECHO)
		console_write(&c, 1);
}

/* The next character typed, or -ERESTARTSYS when a signal comes first. */
static int wait_char(void)
{
	int c;
	while ((c = uart_getc()) < 0) {
		if (power_stop_requested())
			kexit(128 + 15, "stopped by power button");
		/* the UART is polled: look again after a while, other threads running meanwhile */
		if (task_sleep(time_ns() + IDLE_CONSOLE_NS, true) == W_SIGNAL)
			return -ERESTARTSYS;
	}
	if (c == '\r' && (tio.c_iflag & ICRNL))
		c = '\n';
	return c;
}

long console_read(char *buf, size_t len)
{
	if (!len)
		return 0;
	if (!(tio.c_lflag & ICANON)) {
		size_t n = 0;
		int c = wait_char();
		if (c < 0)
			return c;
		buf[n++] = (char)c;
		while (n < len && (c = uart_getc()) >= 0)
			buf[n++] = (char)c;
		for (size_t i = 0; i < n; i++)
			echo(buf[i]);
		return (long)n;
	}
	while (!line_ready && !line_eof) {
		int c = wait_char();
		if (c < 0)
			return c;
		if (c == tio.c_cc[4]) { /* VEOF */
			if (line_len)
				line_ready = line_len;
			else
				line_eof = true;
		} else if (c == tio.c_cc[2] || c == 8) { /* VERASE */
			if (line_len) {
				line_len--;
				if (tio.c_lflag & ECHO)
					console_write("\b \b", 3);
			}
		} else if (c == tio.c_cc[0] && (tio.c_lflag & ISIG)) {
			echo('^');
			echo('C');
			echo('\n');
			line_len = 0; /* the line typed so far is dropped, as Linux flushes it */
			struct linux_sigaction *a = &current->proc->sigact[SIGINT];
			if (a->handler == SIG_DFL && !(current->sigmask & SIGBIT(SIGINT)))
				kexit(128 + SIGINT, "interrupted by ^C on the console");
			struct ksiginfo k = {.code = SI_KERNEL};
			signal_send(NULL, SIGINT, &k);
			if (signal_pending(current))
				return -ERESTARTSYS;
		} else if (line_len < sizeof(line)) {
			line[line_len++] = (char)c;
			echo((char)c);
			if (c == '\n' || line_len == sizeof(line))
				line_ready = line_len;
		}
	}
	if (line_eof && !line_ready) {
		line_eof = false;
		return 0;
	}
	size_t n = MIN(len, line_ready);
	memcpy(buf, line, n);
	memmove(line, line + n, line_len - n);
	line_len -= n;
	line_ready -= n;
	return (long)n;
}

#define TCGETS	   0x5401
#define TCSETS	   0x5402
#define TCSETSW	   0x5403
#define TCSETSF	   0x5404
#define TIOCGPGRP  0x540f
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541b

int console_ioctl(unsigned long req, uint64_t arg)
{
	switch (req) {
	case TCGETS:
		if (!vm_user_ok(arg, sizeof(tio)))
			return -14;
		memcpy((void *)arg, &tio, sizeof(tio));
		return 0;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		if (!vm_user_ok(arg, sizeof(tio)))
			return -14;
		memcpy(&tio, (void *)arg, sizeof(tio));
		return 0;
	case TIOCGWINSZ: {
		uint16_t ws[4] = {24, 80, 0, 0};
		if (!vm_user_ok(arg, sizeof(ws)))
			return -14;
		memcpy((void *)arg, ws, sizeof(ws));
		return 0;
	}
	case TIOCSWINSZ:
		return 0;
	case TIOCGPGRP:
		if (!vm_user_ok(arg, 4))
			return -14;
		*(int *)arg = 1;
		return 0;
	case FIONREAD:
		if (!vm_user_ok(arg, 4))
			return -14;
		*(int *)arg = (int)line_ready;
		return 0;
	}
	return -25; /* ENOTTY */
}

bool console_readable(void)
{
	if (line_ready || line_eof)
		return true;
	return !(tio.c_lflag & ICANON) && (inb(COM1 + 5) & 0x01);
}
