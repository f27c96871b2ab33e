/* SPDX-License-Identifier: BSD-3-Clause */
/* Built dynamically linked: dlopen()s a library of ours (data/dlplug.<libc>.so), calls it, closes
 * it. */
#include <dlfcn.h>

#include "check.h"

#ifdef __GLIBC__
#define PLUGIN "data/dlplug.glibc.so"
#else
#define PLUGIN "data/dlplug.musl.so"
#endif

int dl_host_value = 40; /* the plugin reads it: a symbol of the program, bound at load time */

int main(void)
{
	CHECK(!dlopen("data/no-such-plugin.so", RTLD_NOW));
	CHECK(dlerror() != NULL);
	void *h = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("FAIL: dlopen %s: %s\n", PLUGIN, dlerror());
		return 1;
	}
	int (*add)(int) = (int (*)(int))dlsym(h, "dlplug_add");
	const char *(*name)(void) = (const char *(*)(void))dlsym(h, "dlplug_name");
	int *inits = dlsym(h, "dlplug_inits");
	CHECK(add && name && inits);
	CHECK(!dlsym(h, "dlplug_missing"));
	CHECK(*inits == 1);
	printf("dlopen: %s says %d\n", name(), add(2));
	CHECK(dlclose(h) == 0);
	return check_done();
}
