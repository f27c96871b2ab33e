// SPDX-License-Identifier: BSD-3-Clause
// capstan import: copy a disk image into the local repository under a name.
#include <stdio.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/repo.h"
#include "cmd.h"
#include "capstan/banned.h"

static int digits(const char **p, int n)
{
	for (int i = 0; i < n; i++, (*p)++)
		if (**p < '0' || **p > '9')
			return 0;
	return 1;
}

static int lit(const char **p, char c)
{
	if (**p != c)
		return 0;
	(*p)++;
	return 1;
}

/* RFC 3339 ("2024-05-01T10:00:00Z", "...+02:00", fractions) or Capstan's "2006-01-02 15:04". */
static int created_valid(const char *s)
{
	const char *p = s;

	if (!digits(&p, 4) || !lit(&p, '-') || !digits(&p, 2) || !lit(&p, '-') || !digits(&p, 2))
		return 0;
	if (lit(&p, ' '))
		return digits(&p, 2) && lit(&p, ':') && digits(&p, 2) && !*p;
	if (!lit(&p, 'T') && !lit(&p, 't'))
		return 0;
	if (!digits(&p, 2) || !lit(&p, ':') || !digits(&p, 2) || !lit(&p, ':') || !digits(&p, 2))
		return 0;
	if (lit(&p, '.')) {
		if (!digits(&p, 1))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (lit(&p, 'Z') || lit(&p, 'z'))
		return !*p;
	if (!lit(&p, '+') && !lit(&p, '-'))
		return 0;
	return digits(&p, 2) && lit(&p, ':') && digits(&p, 2) && !*p;
}

static int parse_created(const char *value, void *field)
{
	if (!created_valid(value))
		return cap_errf(CAP_E_USAGE,
				"created '%s' is not RFC 3339 (e.g. 2024-05-01T10:00:00Z)", value);
	*(const char **)field = value;
	return 0;
}

static const struct cli_opt options[] = {
    CLI_OPT_STR('v', "version", "VERSION", struct repo_meta, version,
		"version recorded in index.yaml"),
    CLI_OPT_PARSE('c', "created", "CREATED", struct repo_meta, created, parse_created, NULL,
		  "creation time, RFC 3339 or 'YYYY-MM-DD HH:MM'\n(default: now, UTC)"),
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
