/* SPDX-License-Identifier: BSD-3-Clause */
/* Thread-local storage (arch_prctl ARCH_SET_FS): initialised data, zeroed data, errno. */
#include <pthread.h>
#include "check.h"

static __thread int tdata = 42;
static __thread char tbss[100];
static __thread long tarr[4] = {1, 2, 3, 4};

int main(void)
{
	CHECK(tdata == 42);
	tdata++;
	CHECK(tdata == 43);
	for (int i = 0; i < 100; i++)
		CHECK(tbss[i] == 0);
	CHECK(tarr[0] + tarr[1] + tarr[2] + tarr[3] == 10);
	CHECK(pthread_self() != 0);
	errno = 0;
	CHECK(strtol("99999999999999999999999", NULL, 10) > 0 && errno == ERANGE);
	printf("tls: %d\n", tdata);
	return check_done();
}
