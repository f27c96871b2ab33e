// SPDX-License-Identifier: BSD-3-Clause
// capstan stop: power an instance off, gracefully first.
#include <stdio.h>
#include <stdlib.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "cmd.h"
#include "capstan/banned.h"

struct stop_args {
	int secs;
};

static int parse_secs(const char *value, void *field)
{
	char *end;
	long v = strtol(value, &end, 10);

	if (!*value || *end || v < 0 || v > 3600)
		return cap_errf(CAP_E_USAGE, "'%s' is not a number of seconds from 0 to 3600",
				value);
	*(int *)field = (int)v;
	return 0;
}

static const struct cli_opt options[] = {
    CLI_OPT_PARSE('t', "time", "SECS", struct stop_args, secs, parse_secs, "10",
		  "how long to wait for a graceful power-off"),
    CLI_OPT_END,
};

static int stop(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct stop_args *a = args;
	int ret, rc = 0, secs = a->secs;

	for (int i = 0; i < argc; i++) {
		bool was, forced;
		if ((ret = inst_stop(ctx, argv[i], secs * 1000, &was, &forced))) {
			rc = cli_fail(ctx, ret);
			continue;
		}
		if (!was)
			cap_info(ctx, "Instance %s is not running", argv[i]);
		else if (forced)
			cap_info(ctx, "Stopped instance: %s (forced: no power-off within %ds)",
				 argv[i], secs);
		else
			cap_info(ctx, "Stopped instance: %s (powered off)", argv[i]);
	}
	return rc;
}

const struct cmd_spec spec_stop = {
    .fn = stop,
    .options = options,
    .args_size = sizeof(struct stop_args),
    .min_args = 1,
    .max_args = -1,
    .missing = "which instance? (see 'capstan instances')",
    .synopsis = "[-t SECS] NAME...",
    .about = "Stop instances.  Each VM is first asked to power off (the ACPI power button,\n"
	     "which the capstan kernel turns into SIGTERM for the program); if it is still\n"
	     "up after SECS seconds (default 10) it is ended by force.  The message says\n"
	     "which of the two happened.  Stopping an instance that is not running is not\n"
	     "an error.\n",
};
