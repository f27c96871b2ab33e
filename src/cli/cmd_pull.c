// SPDX-License-Identifier: BSD-3-Clause
// capstan pull: download an image from the registry into the local repository.
#include <signal.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/registry.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_pull[] =
    "usage: capstan pull [-p PLATFORM] [-u URL] [--insecure] [-q] NAME\n"
    "\n"
    "Download image NAME (ns/name) from the registry into the local repository,\n"
    "checking its size and SHA-256.  An interrupted pull resumes where it stopped.\n"
    "\n"
    "  -p, --platform PLATFORM  qemu (default), raw, vbox, vmw, gce\n"
    "  -u, --repo-url URL       registry (http://, https://, file://); default:\n"
    "                           CAPSTAN_REPO_URL, config.yaml, the bundled registry\n"
    "      --insecure           do not verify the server's TLS certificate\n"
    "  -q, --quiet              no progress bar or messages\n";

static void on_signal(int sig)
{
	reg_interrupted = 1;
}

/* Ctrl-C and SIGTERM end the transfer cleanly: the partial download stays for a resume. */
void cli_catch_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cmd_pull(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
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
	if (optind >= argc)
		return cli_usage_error(ctx, self, "missing image name");
	if (optind + 1 < argc)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind + 1]);
	if ((ret = cli_load(ctx)))
		return ret;
	cli_catch_interrupts();
	ret = reg_pull(ctx, argv[optind], platform);
	return ret ? cli_fail(ctx, ret) : 0;
}
