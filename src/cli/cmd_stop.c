// SPDX-License-Identifier: BSD-3-Clause
// capstan stop: power an instance off, gracefully first.
#include <stdio.h>
#include <stdlib.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_stop[] =
    "usage: capstan stop [-t SECS] NAME...\n"
    "\n"
    "Stop instances.  Each VM is first asked to power off (the ACPI power button,\n"
    "which the capstan kernel answers by ending the program); if it is still up\n"
    "after SECS seconds (default 10) it is ended by force.  The message says which\n"
    "of the two happened.  Stopping an instance that is not running is not an error.\n"
    "\n"
    "  -t, --time SECS   how long to wait for a graceful power-off\n";

static const struct option longopts[] = {
    {"time", required_argument, NULL, 't'},
    {NULL, 0, NULL, 0},
};

int cmd_stop(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	int c, ret, rc = 0, secs = 10;
	char *end;

	while ((c = cli_getopt(ctx, self, argc, argv, "t:", longopts)) != -1) {
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
		if (c == 't') {
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0 || v > 3600)
				return cli_usage_error(
				    ctx, self, "-t '%s': expected seconds from 0 to 3600", optarg);
			secs = (int)v;
		}
	}
	if (optind >= argc)
		return cli_usage_error(ctx, self, "which instance? (see 'capstan instances')");
	if ((ret = cli_load(ctx)))
		return ret;
	for (; optind < argc; optind++) {
		bool was, forced;
		if ((ret = inst_stop(ctx, argv[optind], secs * 1000, &was, &forced))) {
			rc = cli_fail(ctx, ret);
			continue;
		}
		if (!was)
			cap_info(ctx, "Instance %s is not running", argv[optind]);
		else if (forced)
			cap_info(ctx, "Stopped instance: %s (forced: no power-off within %ds)",
				 argv[optind], secs);
		else
			cap_info(ctx, "Stopped instance: %s (powered off)", argv[optind]);
	}
	return rc;
}
