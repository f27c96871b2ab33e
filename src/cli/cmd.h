/* SPDX-License-Identifier: BSD-3-Clause */
/* The command table, the option tables, and what main sets up for every command. */
#ifndef CAPSTAN_CLI_CMD_H
#define CAPSTAN_CLI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "capstan/ctx.h"

/*
 * One option, declared once: the usage text, the getopt tables and the
 * parsing all come from it.  The value lands in the command's argument
 * struct (or, for the global options, in struct cap_ctx) at `offset`.
 */
enum cli_kind {
	CLI_FLAG,    /* bool = true */
	CLI_COUNT,   /* int += 1 */
	CLI_STR,     /* const char * = the value, borrowed from argv */
	CLI_OWNED,   /* char * = a copy of the value; the previous one is freed */
	CLI_PARSE,   /* parse(value, field) checks and converts the value */
	CLI_GLOBAL,  /* no option of its own: shows global option `name` in this usage */
	CLI_HELP,    /* print the usage and end with status 0 */
	CLI_VERSION, /* print the version and end with status 0 */
};

struct cli_opt {
	int letter;	  /* short option, 0 for none */
	const char *name; /* long option (without "--") */
	enum cli_kind kind;
	const char *value; /* the value's name in the usage; NULL: takes no value */
	size_t offset;	   /* where the value goes */
	/* CLI_PARSE: 0, or a negative code with a message naming the value. */
	int (*parse)(const char *value, void *field);
	const char *help; /* usage text; '\n' continues it on the next line */
	const char *def;  /* CLI_PARSE: parsed before argv, as if given first; or NULL */
};

/* clang-format off */
#define CLI_OPT_FLAG(l, n, type, field, help) \
	{l, n, CLI_FLAG, NULL, offsetof(type, field), NULL, help, NULL}
#define CLI_OPT_STR(l, n, val, type, field, help) \
	{l, n, CLI_STR, val, offsetof(type, field), NULL, help, NULL}
/* fn converts and checks the value; def (or NULL) is the default, parsed the same way. */
#define CLI_OPT_PARSE(l, n, val, type, field, fn, def, help) \
	{l, n, CLI_PARSE, val, offsetof(type, field), fn, help, def}
/* Show a global option in a command's usage, with the global help text if help is NULL. */
#define CLI_OPT_GLOBAL(n, help) {0, n, CLI_GLOBAL, NULL, 0, NULL, help, NULL}
#define CLI_OPT_END {0, NULL, CLI_FLAG, NULL, 0, NULL, NULL, NULL}
/* clang-format on */

/* The options pull, push and build share: which platform, and the registry's. */
#define CLI_OPTS_PLATFORM(type, field)                                                             \
	CLI_OPT_PARSE('p', "platform", "PLATFORM", type, field, cli_parse_platform, "qemu",        \
		      "qemu (qcow2, default), raw, vbox (VDI), vmw (VMDK),\n"                      \
		      "gce (disk.raw in a tar.gz)")
#define CLI_OPTS_REGISTRY CLI_OPT_GLOBAL("repo-url", NULL), CLI_OPT_GLOBAL("insecure", NULL)

/* A platform name (qemu, raw, vbox, vmw, gce) into a const char *. */
int cli_parse_platform(const char *value, void *field);

struct cmd;
/*
 * A command's work, after main has parsed its options into args (zeroed,
 * then the options' defaults) and done the setup its table row asks for.
 * argv holds only the operands.
 */
typedef int (*cmd_fn)(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc,
		      char **argv);

/* How a command is called: written in its cmd_<name>.c. */
struct cmd_spec {
	cmd_fn fn;
	const struct cli_opt *options; /* ends with CLI_OPT_END */
	size_t args_size;	       /* of the struct the options fill */
	void (*release)(void *args);   /* frees what the options allocated, or NULL */
	int min_args, max_args;	       /* operands; max -1: no limit */
	const char *missing;	       /* the message when fewer than min_args */
	const char *synopsis;	       /* after "usage: capstan NAME "; '\n' for more forms */
	const char *about;	       /* what it does, before the options */
};

/* What main sets up before calling a command. */
enum {
	CMD_LOAD = 1 << 0, /* load the context: environment, config.yaml, defaults */
	CMD_INTR = 1 << 1, /* SIGINT and SIGTERM set ctx->interrupted instead of killing */
};

struct cmd {
	const char *name;
	const char *alias; /* NULL if none */
	const struct cmd_spec *spec;
	unsigned flags;	     /* CMD_* */
	const char *summary; /* one line for 'capstan help' */
};

extern const struct cmd commands[];
extern const unsigned ncommands;
const struct cmd *cmd_find(const char *name);

/* The options every command takes (--root, -u, -v, -q, --json, --insecure, -h). */
extern const struct cli_opt cli_globals[];

/*
 * Parse argv (argv[0] is the command) into args and ctx.  A short global
 * option is only taken when the command has no option of that letter (import
 * -v is the version, as in Capstan).  Returns -1 when the command should run,
 * with *first the index of the first operand, or an exit status when it must
 * end now (after -h, or a usage error already reported).
 */
int cli_parse(struct cap_ctx *ctx, const struct cmd *cmd, int argc, char **argv, void *args,
	      int *first);

/* The command's usage: synopsis, description, and a line per option. */
void cli_print_usage(FILE *f, const struct cmd *cmd);
/* The global options, one a line, for 'capstan help'. */
void cli_print_globals(FILE *f);

/* Print "capstan: <message>" for a libcapstan error and return its exit code. */
int cli_fail(struct cap_ctx *ctx, int code);
/* Print "capstan: <cmd>: <msg>" plus a usage hint; returns 64. */
int cli_usage_error(struct cap_ctx *ctx, const struct cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * SIGINT and SIGTERM (and any signal given to cli_catch_signal) set
 * ctx->interrupted to the signal's number; the library's long operations
 * check it and end cleanly with CAP_E_INTR.  hook, if not NULL, is also
 * called from the handler (async-signal-safe code only).
 */
void cli_catch_interrupts(struct cap_ctx *ctx);
void cli_catch_signal(int sig);
void cli_on_interrupt(void (*hook)(int sig));

#define CMD_DECLARE(n) extern const struct cmd_spec spec_##n

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
