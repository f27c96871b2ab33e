// SPDX-License-Identifier: BSD-3-Clause
// The sorted command table, the global options, and the option parsing every command shares.
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/str.h"
#include "cmd.h"
#include "capstan/banned.h"

/* Sorted by name; tests/cli/t-help.sh checks the order. */
const struct cmd commands[] = {
    {"build", NULL, &spec_build, CMD_LOAD | CMD_INTR, "make an image from a Capstanfile"},
    {"delete", NULL, &spec_delete, CMD_LOAD, "stop and remove instances"},
    {"help", NULL, &spec_help, 0, "show help for capstan or one command"},
    {"images", "i", &spec_images, CMD_LOAD, "list the images in the local repository"},
    {"import", NULL, &spec_import, CMD_LOAD, "add a disk image file to the local repository"},
    {"info", NULL, &spec_info, CMD_LOAD, "describe an image file or repository image"},
    {"init", NULL, &spec_init, CMD_LOAD, "start a project from a template"},
    {"instances", "I", &spec_instances, CMD_LOAD, "list instances and their state"},
    {"logs", NULL, &spec_logs, CMD_LOAD, "print an instance's console output"},
    {"pull", NULL, &spec_pull, CMD_LOAD | CMD_INTR, "download an image from a registry"},
    {"push", NULL, &spec_push, CMD_LOAD | CMD_INTR, "publish a local image to a registry"},
    {"rmi", NULL, &spec_rmi, CMD_LOAD, "remove images from the local repository"},
    {"run", NULL, &spec_run, CMD_LOAD | CMD_INTR, "run an image as a VM"},
    {"search", NULL, &spec_search, CMD_LOAD | CMD_INTR, "list the images of a registry"},
    {"stop", NULL, &spec_stop, CMD_LOAD, "power instances off"},
    {"version", NULL, &spec_version, 0, "print the version"},
};
const unsigned ncommands = sizeof(commands) / sizeof(commands[0]);

const struct cmd *cmd_find(const char *name)
{
	for (unsigned i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].name, name) ||
		    (commands[i].alias && !strcmp(commands[i].alias, name)))
			return &commands[i];
	return NULL;
}

#define CTX(field) offsetof(struct cap_ctx, field)

const struct cli_opt cli_globals[] = {
    {0, "root", CLI_OWNED, "DIR", CTX(root), NULL,
     "local state folder (CAPSTAN_ROOT, default ~/.capstan)"},
    {'u', "repo-url", CLI_OWNED, "URL", CTX(repo_url), NULL,
     "registry (http://, https://, file://); default:\nCAPSTAN_REPO_URL, config.yaml, the bundled "
     "registry"},
    {'v', "verbose", CLI_COUNT, NULL, CTX(verbose), NULL,
     "say more (where a command has no -v of its own)"},
    {'q', "quiet", CLI_FLAG, NULL, CTX(quiet), NULL, "say only what was asked for"},
    {0, "json", CLI_FLAG, NULL, CTX(json), NULL, "machine-readable output for listings and info"},
    {0, "insecure", CLI_FLAG, NULL, CTX(insecure), NULL, "do not verify TLS certificates"},
    {'h', "help", CLI_HELP, NULL, 0, NULL, "show help"},
    {0, "version", CLI_VERSION, NULL, 0, NULL, "print the version"},
    CLI_OPT_END,
};

/* getopt_long's values for long options: the entry's index above these bases. */
enum { LONG_OWN = 0x100, LONG_GLOBAL = 0x200 };

static const struct cli_opt *by_letter(const struct cli_opt *v, int letter)
{
	for (; v->name; v++)
		if (v->letter == letter && v->kind != CLI_GLOBAL)
			return v;
	return NULL;
}

static const struct cli_opt *by_name(const struct cli_opt *v, const char *name)
{
	for (; v->name; v++)
		if (!strcmp(v->name, name) && v->kind != CLI_GLOBAL)
			return v;
	return NULL;
}

struct getopt_tables {
	char shortopts[128];
	struct option longopts[64];
};

static void add_short(struct getopt_tables *t, size_t *n, const struct cli_opt *o)
{
	if (!o->letter || *n + 3 > sizeof(t->shortopts))
		return;
	t->shortopts[(*n)++] = (char)o->letter;
	if (o->value)
		t->shortopts[(*n)++] = ':';
	t->shortopts[*n] = '\0';
}

static void add_long(struct getopt_tables *t, size_t *n, const struct cli_opt *o, int val)
{
	if (*n + 1 >= sizeof(t->longopts) / sizeof(t->longopts[0]))
		return;
	t->longopts[(*n)++] =
	    (struct option){o->name, o->value ? required_argument : no_argument, NULL, val};
	memset(&t->longopts[*n], 0, sizeof(t->longopts[*n]));
}

/* The command's own options first; a global one only where the command has no namesake. */
static void build_tables(struct getopt_tables *t, const struct cli_opt *own)
{
	size_t ns = 1, nl = 0;

	t->shortopts[0] = ':'; /* a missing value is reported as ':' */
	t->shortopts[1] = '\0';
	memset(&t->longopts[0], 0, sizeof(t->longopts[0]));
	for (int i = 0; own[i].name; i++) {
		if (own[i].kind == CLI_GLOBAL)
			continue;
		add_short(t, &ns, &own[i]);
		add_long(t, &nl, &own[i], LONG_OWN + i);
	}
	for (int i = 0; cli_globals[i].name; i++) {
		if (!by_letter(own, cli_globals[i].letter))
			add_short(t, &ns, &cli_globals[i]);
		if (!by_name(own, cli_globals[i].name))
			add_long(t, &nl, &cli_globals[i], LONG_GLOBAL + i);
	}
}

/* How the option is named in messages: its letter if it has one. */
static const char *display(const struct cli_opt *o, char *buf, size_t len)
{
	if (o->letter)
		snprintf(buf, len, "-%c", o->letter);
	else
		snprintf(buf, len, "--%s", o->name);
	return buf;
}

/* Store one value; -1 to go on, or an exit status. */
static int apply(struct cap_ctx *ctx, const struct cmd *cmd, const struct cli_opt *o, void *base,
		 const char *value)
{
	void *field = (char *)base + o->offset;
	char name[64];
	int ret;

	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)field = true;
		break;
	case CLI_COUNT:
		(*(int *)field)++;
		break;
	case CLI_STR:
		*(const char **)field = value;
		break;
	case CLI_OWNED:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		break;
	case CLI_PARSE:
		if ((ret = o->parse(value, field)))
			return cli_usage_error(ctx, cmd, "%s: %s", display(o, name, sizeof(name)),
					       cap_errmsg(ret));
		break;
	case CLI_HELP:
		cli_print_usage(ctx->out, cmd);
		return 0;
	case CLI_VERSION:
		fprintf(ctx->out, "capstan version %s\n", CAPSTAN_VERSION);
		return 0;
	case CLI_GLOBAL:
		break;
	}
	return -1;
}

static int bad_option(struct cap_ctx *ctx, const struct cmd *cmd, int c, char **argv, int prev)
{
	if (c == ':')
		return cli_usage_error(ctx, cmd, "option '%s' needs a value",
				       argv[optind - 1] ? argv[optind - 1] : "?");
	if (optopt)
		return cli_usage_error(ctx, cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(ctx, cmd, "unknown option '%s'",
			       argv[optind - 1 >= prev ? optind - 1 : prev]);
}

int cli_parse(struct cap_ctx *ctx, const struct cmd *cmd, int argc, char **argv, void *args,
	      int *first)
{
	const struct cli_opt *own = cmd->spec->options;
	struct getopt_tables t;
	int c, ret;

	for (const struct cli_opt *o = own; o->name; o++)
		if (o->def && (ret = apply(ctx, cmd, o, args, o->def)) >= 0)
			return ret;
	build_tables(&t, own);
	opterr = 0;
	optind = 1;
	for (;;) {
		int prev = optind;
		const struct cli_opt *o;
		void *base = args;

		c = getopt_long(argc, argv, t.shortopts, t.longopts, NULL);
		if (c == -1)
			break;
		if (c == ':' || c == '?')
			return bad_option(ctx, cmd, c, argv, prev);
		if (c >= LONG_GLOBAL)
			o = &cli_globals[c - LONG_GLOBAL], base = ctx;
		else if (c >= LONG_OWN)
			o = &own[c - LONG_OWN];
		else if (!(o = by_letter(own, c)))
			o = by_letter(cli_globals, c), base = ctx;
		if ((ret = apply(ctx, cmd, o, base, optarg)) >= 0)
			return ret;
	}
	*first = optind;
	return -1;
}

int cli_parse_platform(const char *value, void *field)
{
	if (!disk_platform_valid(value))
		return cap_errf(CAP_E_USAGE, "unknown platform '%s' (qemu, raw, vbox, vmw, gce)",
				value);
	*(const char **)field = value;
	return 0;
}

/* ---- usage text ---- */

/* "  -p, --platform PLATFORM" or "      --name NAME" */
static void opt_left(const struct cli_opt *o, char *buf, size_t len)
{
	snprintf(buf, len, "  %c%c%s--%s%s%s", o->letter ? '-' : ' ', o->letter ? o->letter : ' ',
		 o->letter ? ", " : "  ", o->name, o->value ? " " : "", o->value ? o->value : "");
}

/* A CLI_GLOBAL entry stands for the global option of that name. */
static const struct cli_opt *shown(const struct cli_opt *o)
{
	return o->kind == CLI_GLOBAL ? by_name(cli_globals, o->name) : o;
}

static void print_opts(FILE *f, const struct cli_opt *v)
{
	char left[96];
	size_t w = 0;

	for (const struct cli_opt *o = v; o->name; o++) {
		opt_left(shown(o), left, sizeof(left));
		if (strlen(left) > w)
			w = strlen(left);
	}
	for (const struct cli_opt *o = v; o->name; o++) {
		const char *help = o->help ? o->help : shown(o)->help;
		opt_left(shown(o), left, sizeof(left));
		fprintf(f, "%-*s  ", (int)w, left);
		for (; *help; help++) {
			fputc(*help, f);
			if (*help == '\n')
				fprintf(f, "%*s", (int)w + 2, "");
		}
		fputc('\n', f);
	}
}

static void print_synopsis(FILE *f, const char *name, const char *syn, bool *started)
{
	do {
		size_t n = strcspn(syn, "\n");
		fprintf(f, "%s capstan %s%s%.*s\n", *started ? "      " : "usage:", name,
			n ? " " : "", (int)n, syn);
		*started = true;
		syn += n;
	} while (*syn++);
}

void cli_print_usage(FILE *f, const struct cmd *cmd)
{
	const struct cmd_spec *s = cmd->spec;
	bool started = false;

	print_synopsis(f, cmd->name, s->synopsis, &started);
	if (cmd->alias)
		print_synopsis(f, cmd->alias, s->synopsis, &started);
	fprintf(f, "\n%s", s->about);
	if (s->options[0].name) {
		fputc('\n', f);
		print_opts(f, s->options);
	}
}

void cli_print_globals(FILE *f)
{
	print_opts(f, cli_globals);
}

/* ---- errors ---- */

int cli_fail(struct cap_ctx *ctx, int code)
{
	fprintf(ctx->err, "capstan: %s\n", cap_errmsg(code));
	fflush(ctx->err);
	return cap_exit_code(code);
}

int cli_usage_error(struct cap_ctx *ctx, const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->err, "capstan: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fprintf(ctx->err, " (see 'capstan %s -h')\n", cmd->name);
	fflush(ctx->err);
	return CAP_EXIT_USAGE;
}

/* ---- interrupts ---- */

static struct cap_ctx *intr_ctx;
static void (*intr_hook)(int sig);

static void on_interrupt(int sig)
{
	intr_ctx->interrupted = sig;
	if (intr_hook)
		intr_hook(sig);
}

void cli_catch_signal(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void cli_catch_interrupts(struct cap_ctx *ctx)
{
	intr_ctx = ctx;
	cli_catch_signal(SIGINT);
	cli_catch_signal(SIGTERM);
}

void cli_on_interrupt(void (*hook)(int sig))
{
	intr_hook = hook;
}
