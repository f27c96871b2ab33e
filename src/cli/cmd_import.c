// SPDX-License-Identifier: BSD-3-Clause
// capstan import: copy a disk image into the local repository under a name.
#include <stdio.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/repo.h"
#include "cmd.h"
#include "capstan/banned.h"

static int parse_created(const char *value, void *field)
{
	if (!repo_created_valid(value))
		return cap_errf(CAP_E_USAGE,
				"created '%s' is not a date and time (e.g. 2024-05-01T10:00:00Z, "
				"2019-12-15T17:31:12, 2006-01-02 15:04)",
				value);
	*(const char **)field = value;
	return 0;
}

static const struct cli_opt options[] = {
    CLI_OPT_STR('v', "version", "VERSION", struct repo_meta, version,
		"version recorded in index.yaml"),
    CLI_OPT_PARSE('c', "created", "CREATED", struct repo_meta, created, parse_created, NULL,
		  "creation time: RFC 3339, the same without a zone\n"
		  "(2019-12-15T17:31:12, as OSv's scripts write) or\n"
		  "'YYYY-MM-DD HH:MM'; kept as written (default: now, UTC)"),
    CLI_OPT_STR('d', "description", "DESCRIPTION", struct repo_meta, description,
		"one-line description"),
    CLI_OPT_STR('b', "build", "BUILD", struct repo_meta, build, "how the image was built"),
    CLI_OPT_END,
};

static int import(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	int ret = repo_import(ctx, argv[0], argv[1], args);

	if (ret) {
		cap_errctx(ret, "import '%s'", argv[0]);
		return cli_fail(ctx, ret);
	}
	cap_info(ctx, "imported '%s'", argv[0]);
	return 0;
}

const struct cmd_spec spec_import = {
    .fn = import,
    .options = options,
    .args_size = sizeof(struct repo_meta),
    .min_args = 2,
    .max_args = 2,
    .missing = "expected NAME and FILE",
    .synopsis = "NAME FILE [-v VERSION] [-c CREATED] [-d DESCRIPTION] [-b BUILD]",
    .about = "Copy the disk image FILE into the local repository as NAME ([namespace/]name).\n"
	     "The format is found from the contents: qcow2 is stored for platform\n"
	     "qemu, raw for raw, VDI for vbox and VMDK for vmw.\n",
};
