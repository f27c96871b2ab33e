/* SPDX-License-Identifier: BSD-3-Clause */
/* The 16550 console as a small tty (ONLCR, canonical input with echo), and the status channel. */
#include "../kernel.h"
#include "../net/knet.h"
#include "../proc/task.h"

#define COM1	 0x3f8
#define COM1_IRQ 4 /* an ISA IRQ: GSI 4, edge-triggered, on QEMU's pc, q35 and microvm */
#define DEBUGCON 0xe9

static bool have_status;
static bool irq_on;	      /* the UART interrupts when a byte comes */
static volatile bool irq_due; /* it did: console_irq_work takes the input */

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
 * Input by interrupt, so that a task waiting for it sleeps until it comes
 * instead of looking every IDLE_CONSOLE_NS.  Edge-triggered: the line stays
 * up while a byte waits unread (console_pump leaves it there while the
 * reader is far behind), and a level-triggered one would interrupt again
 * at once; every read of the console pumps first, and so lowers it.
 */
void console_irq_init(void)
{
	if (ioapic_route(COM1_IRQ, VEC_TTY, false, false))
		return; /* no I/O APIC has it: input is polled */
	irq_on = true;
	outb(COM1 + 1, 0x01); /* received data available */
}

bool console_has_irq(void)
{
	return irq_on;
}

void console_irq(void)
{
	irq_due = true;
}

static bool stage_input(void);
static void wake_readers(void);

/* Typed input waits unechoed (stage_input) until a reader or an idle CPU takes it, as it did
 * before the interrupt: its echo does not cut into what the program prints meanwhile.  Signal
 * characters act now. */
void console_irq_work(void)
{
	if (!irq_due)
		return;
	irq_due = false;
	if (stage_input()) {
		wake_readers();
		fasync_tty();
	}
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
#define ISTRIP	0x20
#define INLCR	0x40
#define IGNCR	0x80
#define ICRNL	0x100
#define OPOST	0x1
#define ONLCR	0x4
#define ISIG	0x1
#define ICANON	0x2
#define ECHO	0x8
#define ECHOE	0x10
#define ECHOK	0x20
#define ECHONL	0x40
#define NOFLSH	0x80
#define TOSTOP	0x100
#define ECHOCTL 0x200
#define ECHOKE	0x800
#define IEXTEN	0x8000
enum {
	VINTR,
	VQUIT,
	VERASE,
	VKILL,
	VEOF,
	VTIME,
	VMIN,
	VSWTC,
	VSTART,
	VSTOP,
	VSUSP,
	VEOL,
	VREPRINT,
	VDISCARD,
	VWERASE,
	VLNEXT,
	VEOL2
};

static struct ktermios tio = {
    .c_iflag = ICRNL,
    .c_oflag = OPOST | ONLCR,
    .c_cflag = 0x1002 | 0x30 | 0x80, /* B115200 CS8 CREAD */
    .c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    .c_cc = {[VINTR] = 3,
	     [VQUIT] = 0x1c,
	     [VERASE] = 0x7f,
	     [VKILL] = 0x15,
	     [VEOF] = 4,
	     [VMIN] = 1,
	     [VSTART] = 0x11,
	     [VSTOP] = 0x13,
	     [VSUSP] = 0x1a,
	     [VREPRINT] = 0x12,
	     [VDISCARD] = 0x0f,
	     [VWERASE] = 0x17,
	     [VLNEXT] = 0x16},
};

/*
 * Input, as Linux's line discipline keeps it: in[] holds what read may
 * return.  In canonical mode that is whole lines only, their lengths queued
 * in lines[] (a length of 0 is an end of file typed at the start of a line),
 * while the line being typed is in edit[] until newline or VEOF ends it.
 */
static char in[4096], edit[1024];
static size_t in_len, edit_len;
static size_t lines[64];
static int nlines;
static bool out_midline; /* the last byte written was not a newline */

static bool canonical(void)
{
	return tio.c_lflag & ICANON;
}

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

static bool is_ctl(char c)
{
	return ((uint8_t)c < 32 && c != '\n' && c != '\t') || c == 0x7f;
}

static void echo(char c)
{
	if (!(tio.c_lflag & ECHO))
		return;
	if ((tio.c_lflag & ECHOCTL) && is_ctl(c)) {
		char two[2] = {'^', (char)(c == 0x7f ? '?' : c + '@')};
		console_write(two, 2);
	} else {
		console_write(&c, 1);
	}
}

/* Takes the last typed character back off the screen. */
static void rubout(void)
{
	char c = edit[--edit_len];
	if (!(tio.c_lflag & ECHO))
		return;
	if (!(tio.c_lflag & ECHOE)) {
		echo(tio.c_cc[VERASE]);
		return;
	}
	int cols = (tio.c_lflag & ECHOCTL) && is_ctl(c) ? 2 : 1;
	for (int i = 0; i < cols; i++)
		console_write("\b \b", 3);
}

static size_t ahead_len;

static void flush_input(void)
{
	in_len = edit_len = ahead_len = 0;
	nlines = 0;
}

/* The line being typed becomes readable (len 0 when it is an end of file). */
static void end_line(void)
{
	if (nlines == (int)ARRAY_LEN(lines) || in_len + edit_len > sizeof(in))
		return; /* the reader is far behind: the line waits in edit[] */
	memcpy(in + in_len, edit, edit_len);
	in_len += edit_len;
	lines[nlines++] = edit_len;
	edit_len = 0;
}

static bool signal_char(char c)
{
	static const int sig[3] = {SIGINT, SIGQUIT, SIGTSTP};
	const int which[3] = {VINTR, VQUIT, VSUSP};
	if (!(tio.c_lflag & ISIG))
		return false;
	for (int i = 0; i < 3; i++)
		if (c && c == (char)tio.c_cc[which[i]]) {
			if (!(tio.c_lflag & NOFLSH))
				flush_input();
			echo(c);
			if (tio.c_lflag & ECHO)
				console_write("\n", 1);
			tty_signal(sig[i]);
			return true;
		}
	return false;
}

static void canon_char(char c)
{
	const uint8_t *cc = tio.c_cc;
	bool ext = tio.c_lflag & IEXTEN;
	if (c == (char)cc[VERASE] || c == '\b') {
		if (edit_len)
			rubout();
	} else if (c == (char)cc[VKILL]) {
		if ((tio.c_lflag & ECHOK) && !(tio.c_lflag & ECHOKE) && edit_len) {
			edit_len = 0;
			echo(c);
			console_write("\n", 1);
		}
		while (edit_len)
			rubout();
	} else if (ext && c == (char)cc[VWERASE]) {
		while (edit_len && edit[edit_len - 1] == ' ')
			rubout();
		while (edit_len && edit[edit_len - 1] != ' ')
			rubout();
	} else if (c == (char)cc[VEOF]) {
		end_line();
	} else if (c == '\n' || (c && (c == (char)cc[VEOL] || (ext && c == (char)cc[VEOL2])))) {
		if (edit_len < sizeof(edit))
			edit[edit_len++] = c;
		if (c == '\n' && (tio.c_lflag & (ECHO | ECHONL)))
			console_write("\n", 1);
		else
			echo(c);
		end_line();
	} else if (edit_len < sizeof(edit) - 1) { /* room is kept for the newline */
		edit[edit_len++] = c;
		echo(c);
	}
}

static void input_char(char c)
{
	if (tio.c_iflag & ISTRIP)
		c &= 0x7f;
	if (c == '\r' && (tio.c_iflag & IGNCR))
		return;
	if (c == '\r' && (tio.c_iflag & ICRNL))
		c = '\n';
	else if (c == '\n' && (tio.c_iflag & INLCR))
		c = '\r';
	if (signal_char(c))
		return;
	if (canonical()) {
		canon_char(c);
	} else if (in_len < sizeof(in)) {
		in[in_len++] = c;
		echo(c);
	}
}

/*
 * Input comes from the UART, which holds back the rest (QEMU sends a byte
 * only once the last was read), through ahead[]: staged there unechoed (a
 * signal character acts at once, as on Linux), it goes into the line
 * discipline, and is echoed, only when a reader or an idle CPU pumps.  In
 * canonical mode that stops at the end of a line until the line is read:
 * type-ahead is echoed when the program comes for it, so that input fed all
 * at once does not interleave with the output.
 */
static char ahead[256];
static bool uart_left = true; /* input may wait in the UART (from before the interrupt too) */

static bool room(void)
{
	return canonical() ? !nlines : in_len < sizeof(in);
}

/* What a task waiting for input sleeps on (task->wait_on). */
static char readers;

static void wake_readers(void)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->wait_on == &readers && t->state == T_SLEEP)
			task_wake(t, W_WOKEN);
	knet_wake(); /* poll, select and epoll waiters too */
}

/* Wait for input until deadline (0: none); true when a signal came.  Without the interrupt
 * nothing wakes the sleeper: it looks again every IDLE_CONSOLE_NS. */
static bool wait_input(uint64_t deadline)
{
	uint64_t now = time_ns(),
		 ns = deadline ? (deadline > now ? deadline - now : 0) : WAIT_FOREVER;
	if (!irq_on)
		ns = MIN(ns, IDLE_CONSOLE_NS);
	current->wait_on = &readers;
	bool signalled = kwait(ns);
	current->wait_on = NULL;
	return signalled;
}

/* What the UART holds, into ahead (signal characters act at once); true when bytes came. */
static bool stage_input(void)
{
	int c;
	size_t had = ahead_len;
	while (ahead_len < sizeof(ahead) && (c = uart_getc()) >= 0) {
		if (signal_char((char)c)) /* flushed the input, unless NOFLSH */
			continue;
		ahead[ahead_len++] = (char)c;
	}
	uart_left = ahead_len == sizeof(ahead);
	return ahead_len > had;
}

/* The staged bytes into the line discipline, while it has room. */
static void unstage(void)
{
	size_t used = 0;
	while (used < ahead_len && room())
		input_char(ahead[used++]);
	memmove(ahead, ahead + used, ahead_len - used);
	ahead_len -= used;
}

void console_pump(void)
{
	size_t in_before = in_len;
	int lines_before = nlines;
	/* With the interrupt the UART is read only when it said so, or when it was left
	 * holding input: each look is an exit to the hypervisor, costly under nested KVM. */
	bool look = !irq_on || irq_due || uart_left;
	do {
		if (look) {
			irq_due = false;
			stage_input();
		}
		unstage();
		look = true; /* ahead was full: the UART may hold more */
	} while (uart_left && room());
	if (canonical() ? nlines > lines_before : in_len > in_before) {
		wake_readers();
		fasync_tty(); /* a line, or bytes, to read */
	}
}

/* Bytes a read may take now: the first queued line in canonical mode, else all. */
static size_t available(void)
{
	return canonical() ? (nlines ? lines[0] : 0) : in_len;
}

static size_t take(char *buf, size_t len)
{
	size_t n = MIN(len, available());
	memcpy(buf, in, n);
	memmove(in, in + n, in_len - n);
	in_len -= n;
	if (canonical() && (lines[0] -= n) == 0) {
		memmove(lines, lines + 1, (size_t)--nlines * sizeof(lines[0]));
	}
	return n;
}

/* Non-canonical reads follow VMIN and VTIME (in tenths of a second) as termios(3) says. */
static long raw_read(char *buf, size_t len, bool nonblock)
{
	size_t vmin = tio.c_cc[VMIN], want = MIN(MAX(vmin, 1), len);
	uint64_t vtime = tio.c_cc[VTIME] * 100000000ull, deadline = 0;
	console_pump();
	if (nonblock && !in_len)
		return -EAGAIN;
	if (!vmin && vtime)
		deadline = time_ns() + vtime;
	while (in_len < want && (vmin || vtime) && !nonblock) {
		size_t had = in_len;
		uint64_t now = time_ns();
		if (deadline && now >= deadline)
			break;
		if (wait_input(deadline))
			return in_len ? (long)take(buf, len) : -ERESTARTSYS;
		if (vmin && vtime && in_len > had) /* VTIME times the gap between bytes */
			deadline = time_ns() + vtime;
	}
	return (long)take(buf, len);
}

long console_read(char *buf, size_t len, bool nonblock)
{
	int r = tty_job_check(SIGTTIN); /* a background job stops here */
	if (r)
		return r;
	if (!len)
		return 0;
	if (!canonical())
		return raw_read(buf, len, nonblock);
	console_pump();
	while (!nlines) {
		if (nonblock)
			return -EAGAIN;
		if (wait_input(0))
			return -ERESTARTSYS;
	}
	if (!lines[0]) { /* VEOF at the start of a line: end of file, once */
		memmove(lines, lines + 1, (size_t)--nlines * sizeof(lines[0]));
		return 0;
	}
	return (long)take(buf, len);
}

/* A switch of mode keeps what was typed: the line being edited becomes readable bytes. */
static void set_termios(const struct ktermios *t, bool flush)
{
	bool was = canonical();
	tio = *t;
	if (flush)
		flush_input();
	if (was && !canonical()) {
		memcpy(in + in_len, edit, MIN(edit_len, sizeof(in) - in_len));
		in_len += MIN(edit_len, sizeof(in) - in_len);
		edit_len = 0;
		nlines = 0;
	} else if (!was && canonical()) {
		nlines = 0;
		if (in_len)
			lines[nlines++] = in_len;
	}
}

#define TCGETS	   0x5401
#define TCSETS	   0x5402
#define TCSETSW	   0x5403
#define TCSETSF	   0x5404
#define TCFLSH	   0x540b
#define TIOCOUTQ   0x5411
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414

/* A program's write to the console: a background job with TOSTOP set stops first. */
long console_write_user(const char *buf, size_t len)
{
	int r = tio.c_lflag & TOSTOP ? tty_job_check(SIGTTOU) : 0;
	return r ? r : console_write(buf, len);
}

/* The calls that change the terminal: a background job stops first (SIGTTOU). */
static bool changes_tty(unsigned long req)
{
	return req == TCSETS || req == TCSETSW || req == TCSETSF || req == TCFLSH ||
	       req == TIOCSPGRP;
}

int console_ioctl(unsigned long req, uint64_t arg)
{
	int r = changes_tty(req) ? tty_job_check(SIGTTOU) : 0;
	if (r)
		return r;
	switch (req) {
	case TCGETS:
		if (!vm_user_ok(arg, sizeof(tio)))
			return -EFAULT;
		memcpy((void *)arg, &tio, sizeof(tio));
		return 0;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		if (!vm_user_ok(arg, sizeof(tio)))
			return -EFAULT;
		set_termios((const struct ktermios *)arg, req == TCSETSF);
		return 0;
	case TCFLSH:
		if (arg > 2)
			return -EINVAL;
		if (arg != 1) /* TCIFLUSH, TCIOFLUSH: output is never queued */
			flush_input();
		return 0;
	case TIOCGWINSZ: {
		uint16_t ws[4] = {24, 80, 0, 0};
		if (!vm_user_ok(arg, sizeof(ws)))
			return -EFAULT;
		memcpy((void *)arg, ws, sizeof(ws));
		return 0;
	}
	case TIOCSWINSZ:
		return 0;
	case TIOCGPGRP:
	case TIOCGSID:
	case TIOCSPGRP:
	case TIOCSCTTY:
		return tty_ioctl_pgrp(req, arg); /* proc/pgrp.c */
	case FIONREAD:
	case TIOCOUTQ:
		if (!vm_user_ok(arg, 4))
			return -EFAULT;
		console_pump();
		*(int *)arg = req == FIONREAD ? (int)in_len : 0;
		return 0;
	}
	return -ENOTTY;
}

/* Readable exactly when read would not wait (Linux's rule: VMIN bytes, or one, in raw mode). */
bool console_readable(void)
{
	console_pump();
	if (canonical())
		return nlines > 0;
	return in_len >= MAX((size_t)tio.c_cc[VMIN], 1);
}
