// SPDX-License-Identifier: BSD-3-Clause
// capstan push: publish a local image to a registry (file:// tree or HTTP server accepting PUT).
#include "capstan/err.h"
#include "capstan/registry.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_push[] =
    "usage: capstan push [-p PLATFORM] [--insecure] [-q] NAME URL\n"
    "\n"
    "Publish local image NAME to the registry at URL: NAME/<name>.PLATFORM.gz, the\n"
    "image's index.yaml (size and SHA-256; other platforms kept) and the catalog\n"
    "index.yaml at the root.  URL is a file:// folder (updated atomically) or an\n"
    "http(s):// server that accepts PUT (nginx with WebDAV, for example).\n"
    "\n"
    "  -p, --platform PLATFORM  qemu (default), raw, vbox, vmw, gce\n"
    "      --insecure           do not verify the server's TLS certificate\n"
    "  -q, --quiet              no messages\n";

int cmd_push(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	static const struct option longopts[] = {
	    {"platform", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const char *platform = "qemu";
	int c, ret;

	while ((c = cli_getopt(ctx, self, argc, argv, "p:", longopts)) != -1) {
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
		if (c == 'p')
			platform = optarg;
	}
	if (argc - optind < 2)
		return cli_usage_error(ctx, self,
				       argc - optind ? "missing registry URL"
						     : "missing image name and URL");
	if (argc - optind > 2)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind + 2]);
	if ((ret = cli_load(ctx)))
		return ret;
	cli_catch_interrupts();
	ret = reg_push(ctx, argv[optind], platform, argv[optind + 1]);
	return ret ? cli_fail(ctx, ret) : 0;
}
