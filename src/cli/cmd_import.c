// SPDX-License-Identifier: BSD-3-Clause
// capstan import: copy a disk image into the local repository under a name.
#include <stdio.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/repo.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_import[] =
    "usage: capstan import NAME FILE [-v VERSION] [-c CREATED] [-d DESCRIPTION] [-b BUILD]\n"
    "\n"
    "Copy the disk image FILE into the local repository as NAME ([namespace/]name).\n"
    "The format is found from the file's contents: qcow2 is stored for platform\n"
    "qemu, raw for raw, VDI for vbox and VMDK for vmw.\n"
    "\n"
    "  -v, --version VERSION          version recorded in index.yaml\n"
    "  -c, --created CREATED          creation time, RFC 3339 or 'YYYY-MM-DD HH:MM'\n"
    "                                 (default: now, UTC)\n"
    "  -d, --description DESCRIPTION  one-line description\n"
    "  -b, --build BUILD              how the image was built\n";

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

int cmd_import(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	static const struct option opts[] = {
	    {"version", required_argument, NULL, 'v'},
	    {"created", required_argument, NULL, 'c'},
	    {"description", required_argument, NULL, 'd'},
	    {"build", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	struct repo_meta meta = {NULL, NULL, NULL, NULL};
	int c, ret;

	while ((c = cli_getopt(ctx, self, argc, argv, "v:c:d:b:", opts)) != -1) {
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
		switch (c) {
		case 'v':
			meta.version = optarg;
			break;
		case 'c':
			meta.created = optarg;
			break;
		case 'd':
			meta.description = optarg;
			break;
		case 'b':
			meta.build = optarg;
			break;
		default:
			return cli_usage_error(ctx, self, "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(ctx, self, "expected NAME and FILE");
	const char *name = argv[optind], *file = argv[optind + 1];
	if (meta.created && !created_valid(meta.created))
		return cli_usage_error(ctx, self,
				       "created '%s' is not RFC 3339 (e.g. 2024-05-01T10:00:00Z)",
				       meta.created);
	if ((ret = cli_load(ctx)))
		return ret;
	if ((ret = repo_import(ctx, name, file, &meta))) {
		cap_errctx(ret, "import '%s'", name);
		return cli_fail(ctx, ret);
	}
	cap_info(ctx, "imported '%s'", name);
	return 0;
}
