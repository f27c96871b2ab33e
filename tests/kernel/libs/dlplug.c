/* SPDX-License-Identifier: BSD-3-Clause */
/* The library dlopen.c loads: a constructor, data relocations and a symbol of the program. */
#include <string.h>

extern int dl_host_value;
int dlplug_inits;
static const char *names[] = {"plugin", "dlplug"}; /* pointers relocated at load time */

__attribute__((constructor)) static void init(void)
{
	dlplug_inits++;
}

const char *dlplug_name(void)
{
	return strlen(names[1]) == 6 ? names[1] : names[0];
}

int dlplug_add(int x)
{
	return dl_host_value + x;
}
