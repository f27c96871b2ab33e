/* SPDX-License-Identifier: BSD-3-Clause */
/* The command table and the option parsing every command shares. */
#ifndef CAPSTAN_CLI_CMD_H
#define CAPSTAN_CLI_CMD_H

#include <getopt.h>

#include "capstan/ctx.h"

struct cmd;
/* self is the command's own table entry, for cli_getopt() and messages. */
typedef int (*cmd_fn)(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx);

struct cmd {
	const char *name;
	const char *alias; /* NULL if none */
	cmd_fn fn;
	const char *usage;   /* synopsis and options, shown by -h and 'help CMD' */
	const char *summary; /* one line for 'capstan help' */
};

extern const struct cmd commands[];
extern const unsigned ncommands;
const struct cmd *cmd_find(const char *name);

/*
 * getopt_long over the command's own options plus the global ones (--root,
 * -u/--repo-url, -v/--verbose, -q/--quiet, --json, -h/--help).  A short global
 * option is only taken when the command does not define the same letter
 * (import -v is the version, as in Capstan).  Global options are applied to
 * ctx and skipped.  Returns the command's option character, -1 at the end, or
 * CLI_EXIT + exit code when the command must end now (after -h, or on a usage
 * error already reported).
 */
#define CLI_EXIT 0x10000
int cli_getopt(struct cap_ctx *ctx, const struct cmd *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);

/* Print "capstan: <message>" for a libcapstan error and return its exit code. */
int cli_fail(struct cap_ctx *ctx, int code);
/* Print "capstan: <cmd>: <msg>" plus a usage hint; returns 64. */
int cli_usage_error(struct cap_ctx *ctx, const struct cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* SIGINT/SIGTERM set reg_interrupted, so transfers end cleanly (cmd_pull.c). */
void cli_catch_interrupts(void);
/* Load ctx (env, config.yaml, defaults); on failure print and return exit code, else 0. */
int cli_load(struct cap_ctx *ctx);

#define CMD_DECLARE(n)                                                                             \
	int cmd_##n(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx);           \
	extern const char usage_##n[]

CMD_DECLARE(build);
CMD_DECLARE(delete);
CMD_DECLARE(help);
CMD_DECLARE(images);
CMD_DECLARE(import);
CMD_DECLARE(info);
CMD_DECLARE(init);
CMD_DECLARE(instances);
CMD_DECLARE(logs);
CMD_DECLARE(pull);
CMD_DECLARE(push);
CMD_DECLARE(rmi);
CMD_DECLARE(run);
CMD_DECLARE(search);
CMD_DECLARE(stop);
CMD_DECLARE(version);

#endif
