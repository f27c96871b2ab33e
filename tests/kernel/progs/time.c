/* SPDX-License-Identifier: BSD-3-Clause */
/* Clocks and sleeps: clock_gettime, gettimeofday, time, nanosleep, clock_nanosleep. */
#include <sys/time.h>
#include <time.h>
#include "check.h"

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	struct timespec rt, res, t;
	struct timeval tv;

	CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0);
	CHECK(rt.tv_sec > 1600000000); /* after 2020: the clock was set */
	CHECK(rt.tv_nsec >= 0 && rt.tv_nsec < 1000000000);
	CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK(tv.tv_sec - rt.tv_sec >= 0 && tv.tv_sec - rt.tv_sec <= 2);
	time_t now = time(NULL); /* Linux reads the coarse clock: it may lag by a tick */
	CHECK(now - rt.tv_sec >= -1 && now - rt.tv_sec <= 2);
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
	CHECK(clock_gettime(CLOCK_MONOTONIC, &t) == 0);
	CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 || errno == EINVAL);

	double a = mono(), b = mono();
	CHECK(b >= a);
	struct timespec d = {0, 30 * 1000 * 1000};
	CHECK(nanosleep(&d, NULL) == 0);
	double c = mono();
	CHECK(c - b >= 0.030 && c - b < 2.0);
	d.tv_nsec = 20 * 1000 * 1000;
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL) == 0);
	double e = mono();
	CHECK(e - c >= 0.020 && e - c < 2.0);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 10 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t);
	CHECK(t.tv_sec > abs.tv_sec || (t.tv_sec == abs.tv_sec && t.tv_nsec >= abs.tv_nsec));
	d.tv_nsec = 1000000000; /* out of range */
	CHECK(nanosleep(&d, NULL) == -1 && errno == EINVAL);

	/* a busy second of monotonic time is close to a second of realtime */
	struct timespec r0, r1;
	double m0 = mono();
	clock_gettime(CLOCK_REALTIME, &r0);
	while (mono() - m0 < 0.2)
		;
	clock_gettime(CLOCK_REALTIME, &r1);
	double dr = (double)(r1.tv_sec - r0.tv_sec) + (double)(r1.tv_nsec - r0.tv_nsec) / 1e9;
	CHECK(dr > 0.15 && dr < 0.5);
	printf("time: clocks advance, sleeps last\n");
	return check_done();
}
