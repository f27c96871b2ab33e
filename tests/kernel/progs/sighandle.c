/* SPDX-License-Identifier: BSD-3-Clause */
/* Signal delivery: handlers with siginfo, sigaltstack, a SIGSEGV handler that repairs the mapping,
 * SIGFPE, pending and blocked signals, per-thread masks and tgkill, timer signals, sigtimedwait. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t got, got_code, got_pid, on_alt, alarms;
static volatile pid_t handler_tid;
static void *volatile fault_addr;
static char *volatile page;
static char altstack[65536];
static sigjmp_buf jb;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	got_code = si->si_code;
	got_pid = si->si_pid;
	handler_tid = (pid_t)syscall(SYS_gettid);
	char here;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	volatile double x = 1.5; /* the handler's own FP use must not leak out */
	x = x * 3.25;
	/* last: main waits for got, then reads what the handler recorded (set
	 * first, main could see got while handler_tid was still the last one's) */
	got = sig;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void on_fpe(int sig)
{
	siglongjmp(jb, sig);
}

static void on_alarm(int sig)
{
	alarms++;
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static volatile int thread_ready, thread_stop;
static pid_t thread_tid;

static void *blocker(void *arg)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1); /* this thread blocks USR1; main does not */
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	thread_tid = (pid_t)syscall(SYS_gettid);
	thread_ready = 1;
	while (!thread_stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	volatile double before = 2.0 / 3.0;
	handle(SIGUSR1, on_info, 0);
	handle(SIGUSR2, on_info, SA_ONSTACK | SA_RESETHAND);

	CHECK(raise(SIGUSR1) == 0);
	CHECK(got == SIGUSR1 && got_code == SI_TKILL && got_pid == getpid());
	CHECK(before == 2.0 / 3.0);
	printf("sighandle: raise ran the handler, siginfo SI_TKILL\n");

	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0}, old;
	CHECK(sigaltstack(&ss, &old) == 0 && (old.ss_flags & SS_DISABLE));
	got = 0;
	CHECK(kill(getpid(), SIGUSR2) == 0);
	CHECK(got == SIGUSR2 && got_code == SI_USER && on_alt);
	struct sigaction cur;
	CHECK(sigaction(SIGUSR2, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL);
	printf("sighandle: kill, on the alternate stack, reset after one\n");

	page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED);
	handle(SIGSEGV, on_segv, 0);
	page[100] = 42;
	CHECK(page[100] == 42);
	CHECK(fault_addr == (void *)(page + 100));
	printf("sighandle: SIGSEGV handler repaired the mapping\n");

	signal(SIGFPE, on_fpe);
	volatile int zero = 0, r = 0;
	int sig = sigsetjmp(jb, 1);
	if (!sig)
		r = 10 / zero;
	CHECK(sig == SIGFPE && r == 0);
	printf("sighandle: SIGFPE from a division by zero\n");

	sigset_t s, pend;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	got = 0;
	CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(got == 0);
	CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1));
	CHECK(sigprocmask(SIG_UNBLOCK, &s, NULL) == 0);
	CHECK(got == SIGUSR1);
	printf("sighandle: blocked signal pending, delivered on unblock\n");

	pthread_t t;
	CHECK(pthread_create(&t, NULL, blocker, NULL) == 0);
	while (!thread_ready)
		usleep(1000);
	got = 0;
	handle(SIGUSR2, on_info, 0);
	CHECK(pthread_kill(t, SIGUSR2) == 0);
	while (!got)
		usleep(1000);
	CHECK(handler_tid == thread_tid);
	got = 0;
	CHECK(kill(getpid(), SIGUSR1) == 0); /* only main can take it */
	while (!got)
		usleep(1000);
	CHECK(handler_tid == getpid());
	thread_stop = 1;
	CHECK(pthread_join(t, NULL) == 0);
	printf("sighandle: tgkill to a thread, per-thread masks\n");

	signal(SIGALRM, on_alarm);
	struct itimerval it = {{0, 10000}, {0, 10000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	sigset_t none;
	sigemptyset(&none);
	while (alarms < 3)
		sigsuspend(&none);
	struct itimerval off = {{0, 0}, {0, 0}};
	CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
	printf("sighandle: setitimer raised SIGALRM 3 times\n");

	CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
	timer_t tm;
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	ev.sigev_value.sival_int = 77;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &tm) == 0);
	struct itimerspec its = {{0, 0}, {0, 20000000}};
	CHECK(timer_settime(tm, 0, &its, NULL) == 0);
	siginfo_t si;
	CHECK(sigwaitinfo(&s, &si) == SIGUSR1);
	CHECK(si.si_code == SI_TIMER && si.si_value.sival_int == 77);
	CHECK(timer_delete(tm) == 0);
	struct timespec short_wait = {0, 10000000};
	CHECK(sigtimedwait(&s, &si, &short_wait) == -1 && errno == EAGAIN);
	printf("sighandle: timer_create signal taken by sigwaitinfo\n");
	return check_done();
}
