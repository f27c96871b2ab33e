/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ITIMER_VIRTUAL and ITIMER_PROF: they count down the process's CPU time, not the time it
 * sleeps; SIGVTALRM and SIGPROF come on expiry, again and again with an interval; setitimer
 * gives the old value; a bad timer or timeval is EINVAL.  Every wait is for a condition.
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t vtalrms, profs, usr1s;
static volatile unsigned long sink;

static void on_signal(int sig)
{
	if (sig == SIGVTALRM)
		vtalrms++;
	else if (sig == SIGPROF)
		profs++;
	else
		usr1s++;
}

static long long usecs(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static long long remaining(int which)
{
	struct itimerval it;
	CHECK(getitimer(which, &it) == 0);
	return usecs(&it.it_value);
}

static void spin_a_little(void)
{
	for (int i = 0; i < 100000; i++)
		sink += (unsigned long)i;
}

static void arm(int which, long value_us, long interval_us)
{
	struct itimerval it = {{interval_us / 1000000, interval_us % 1000000},
			       {value_us / 1000000, value_us % 1000000}};
	CHECK(setitimer(which, &it, NULL) == 0);
}

static void bad_arguments(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	errno = 0;
	CHECK(getitimer(3, &it) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(setitimer(-1, &it, NULL) == -1 && errno == EINVAL);
	it.it_value.tv_usec = 1000000;
	errno = 0;
	CHECK(setitimer(ITIMER_VIRTUAL, &it, NULL) == -1 && errno == EINVAL);
	it.it_value.tv_usec = 0;
	it.it_interval.tv_usec = -1;
	errno = 0;
	CHECK(setitimer(ITIMER_PROF, &it, NULL) == -1 && errno == EINVAL);
	CHECK(remaining(ITIMER_VIRTUAL) == 0 && remaining(ITIMER_PROF) == 0);
	printf("itimers: EINVAL for a bad timer or timeval, both unarmed at start\n");
}

/* The value falls while the program spins, and the signal comes when it reaches zero. */
static void counts_down(int which, volatile sig_atomic_t *count, const char *name)
{
	arm(which, 200000, 0);
	long long last = remaining(which), first = last;
	int fell = 0, rose = 0;
	while (!*count) {
		spin_a_little();
		long long now = remaining(which);
		if (*count)
			break;
		rose |= now > last;
		fell |= now < first;
		last = now;
	}
	CHECK(fell && !rose);
	CHECK(*count == 1);
	CHECK(remaining(which) == 0); /* a one-shot: disarmed once it fired */
	printf("itimers: %s counted down while spinning, then came once\n", name);
}

static void sleeping_is_free(void)
{
	arm(ITIMER_VIRTUAL, 100000, 0);
	arm(ITIMER_PROF, 100000, 0);
	struct timespec half = {0, 500000000};
	CHECK(nanosleep(&half, NULL) == 0);
	CHECK(vtalrms == 1 && profs == 1); /* none more while asleep 5 times as long */
	CHECK(remaining(ITIMER_VIRTUAL) > 0 && remaining(ITIMER_PROF) > 0);
	printf("itimers: a 500 ms sleep did not use a 100 ms ITIMER_VIRTUAL or ITIMER_PROF\n");
}

static void old_values(void)
{
	arm(ITIMER_VIRTUAL, 10000000, 1500000);
	struct itimerval off = {{0, 0}, {0, 0}}, old;
	CHECK(setitimer(ITIMER_VIRTUAL, &off, &old) == 0);
	CHECK(usecs(&old.it_interval) == 1500000);
	/* Linux adds a scheduler tick to a CPU timer's value */
	CHECK(usecs(&old.it_value) > 9000000 && usecs(&old.it_value) < 10100000);
	CHECK(setitimer(ITIMER_VIRTUAL, &off, &old) == 0);
	CHECK(usecs(&old.it_interval) == 0 && usecs(&old.it_value) == 0);
	CHECK(getitimer(ITIMER_PROF, &old) == 0 && usecs(&old.it_value) > 0);
	CHECK(setitimer(ITIMER_PROF, &off, NULL) == 0 && remaining(ITIMER_PROF) == 0);
	struct itimerval only_interval = {{1, 500000}, {0, 0}};
	CHECK(setitimer(ITIMER_PROF, &only_interval, NULL) == 0);
	CHECK(getitimer(ITIMER_PROF, &old) == 0);
	CHECK(usecs(&old.it_value) == 0 && usecs(&old.it_interval) == 1500000);
	CHECK(setitimer(ITIMER_PROF, &off, &old) == 0 && usecs(&old.it_interval) == 1500000);
	printf("itimers: setitimer gave the old value and interval, a zero value disarms\n");
}

static void intervals(void)
{
	vtalrms = profs = 0;
	arm(ITIMER_VIRTUAL, 20000, 20000);
	arm(ITIMER_PROF, 30000, 30000);
	while (vtalrms < 3 || profs < 3)
		spin_a_little();
	struct itimerval off = {{0, 0}, {0, 0}}, old;
	CHECK(setitimer(ITIMER_VIRTUAL, &off, &old) == 0 && usecs(&old.it_interval) == 20000);
	CHECK(setitimer(ITIMER_PROF, &off, &old) == 0 && usecs(&old.it_interval) == 30000);
	printf("itimers: the intervals reloaded, SIGVTALRM and SIGPROF 3 times each\n");
}

/* Another thread's CPU time counts; this one waits in pthread_join meanwhile. */
static void *spinner(void *arg)
{
	(void)arg;
	while (!profs)
		spin_a_little();
	return NULL;
}

static void threads(void)
{
	profs = 0;
	arm(ITIMER_PROF, 50000, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, spinner, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(profs == 1);
	printf("itimers: a spinning thread's time reached the process's ITIMER_PROF\n");
}

static long long cpu_clock_ns(clockid_t clk)
{
	struct timespec ts;
	CHECK(clock_gettime(clk, &ts) == 0);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cpu_clocks(void)
{
	long long proc0 = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	long long thread0 = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	struct timespec fifth = {0, 200000000};
	CHECK(nanosleep(&fifth, NULL) == 0);
	CHECK(cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - proc0 < 100000000);
	CHECK(cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID) - thread0 < 100000000);
	long long proc1 = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - proc1 < 50000000)
		spin_a_little();
	CHECK(cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID) - thread0 >= 50000000);
	printf("itimers: the CPU-time clocks stood still in a 200 ms sleep, ran while spinning\n");
}

/* timer_create on this process's CPU time, then on this thread's while another spins. */
static void *spin_until_prof(void *arg)
{
	(void)arg;
	while (!profs)
		spin_a_little();
	return NULL;
}

static void cpu_timers(void)
{
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	timer_t tm;
	if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &tm) != 0) {
		CHECK(!"timer_create(CLOCK_PROCESS_CPUTIME_ID)");
		return;
	}
	struct itimerspec its = {{0, 0}, {0, 100000000}}, cur;
	if (timer_settime(tm, 0, &its, NULL) != 0) {
		CHECK(!"timer_settime");
		return;
	}
	struct timespec fifth = {0, 200000000};
	CHECK(nanosleep(&fifth, NULL) == 0);
	CHECK(usr1s == 0);
	while (!usr1s)
		spin_a_little();
	CHECK(timer_gettime(tm, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	      cur.it_value.tv_nsec == 0);
	CHECK(timer_delete(tm) == 0);

	usr1s = profs = 0;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &tm) != 0) {
		CHECK(!"timer_create(CLOCK_THREAD_CPUTIME_ID)");
		return;
	}
	its.it_value.tv_nsec = 400000000; /* twice the spinner's 200 ms, which must not count */
	if (timer_settime(tm, 0, &its, NULL) != 0) {
		CHECK(!"timer_settime");
		return;
	}
	long long mine0 = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	arm(ITIMER_PROF, 200000, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, spin_until_prof, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(profs == 1 && usr1s == 0);
	/* The timer spent only this thread's own time (creating and joining the other, which
	 * under nested KVM costs milliseconds of kernel time), never the spinner's 200 ms: what
	 * is left plus what this thread used is the 400 ms it was given, give or take a tick. */
	long long mine = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID) - mine0;
	CHECK(timer_gettime(tm, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	      cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec + mine > 380000000);
	while (!usr1s)
		spin_a_little();
	CHECK(timer_delete(tm) == 0);
	printf("itimers: timer_create on the process's and on this thread's CPU time\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	CHECK(sigaction(SIGVTALRM, &sa, NULL) == 0);
	CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

	bad_arguments();
	counts_down(ITIMER_VIRTUAL, &vtalrms, "ITIMER_VIRTUAL");
	counts_down(ITIMER_PROF, &profs, "ITIMER_PROF");
	sleeping_is_free();
	old_values();
	intervals();
	threads();
	cpu_clocks();
	cpu_timers();
	return check_done();
}
