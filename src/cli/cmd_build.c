// SPDX-License-Identifier: BSD-3-Clause
// capstan build: make an image from ./Capstanfile and put it in the local repository.
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "capstan/build.h"
#include "capstan/disk.h"
#include "capstan/layout.h"
#include "capstan/registry.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_build[] =
    "usage: capstan build [-f FILE] [-p PLATFORM] [-v] [NAME]\n"
    "\n"
    "Run the Capstanfile's build step, write its files on top of its base image\n"
    "with its cmdline, and install the result in the local repository as NAME\n"
    "(default: the Capstanfile folder's name).  Nothing is booted.\n"
    "\n"
    "  -f, --file FILE       the Capstanfile (default: ./Capstanfile)\n"
    "  -p, --platform P      qemu (qcow2, default), raw, vbox (VDI), vmw (VMDK),\n"
    "                        gce (disk.raw in a tar.gz)\n"
    "  -v, --verbose         show the build step's output and the libraries added\n"
    "\n"
    "The same inputs give a byte-identical image; file times in the image are\n"
    "SOURCE_DATE_EPOCH, or 0 when it is unset.\n";

static void on_signal(int sig)
{
	layout_interrupted = 1;
	reg_interrupted = 1;
}

int cmd_build(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"platform", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct build_opts o = {NULL, NULL, "qemu"};
	int c, ret;

	while ((c = cli_getopt(ctx, self, argc, argv, "f:p:", longopts)) != -1) {
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
		if (c == 'f')
			o.file = optarg;
		else if (c == 'p')
			o.platform = optarg;
	}
	if (optind < argc)
		o.name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind]);
	if (!disk_platform_valid(o.platform))
		return cli_usage_error(
		    ctx, self, "unknown platform '%s' (qemu, raw, vbox, vmw, gce)", o.platform);
	if ((ret = cli_load(ctx)))
		return ret;
	/* Ctrl-C stops the build cleanly: no temporary file is left in the repository */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = build_image(ctx, &o);
	return ret ? cli_fail(ctx, ret) : 0;
}
