// SPDX-License-Identifier: BSD-3-Clause
// capstan run: launch an image as a VM, in the terminal or detached.
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "capstan/build.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/inst.h"
#include "capstan/repo.h"
#include "capstan/size.h"
#include "capstan/str.h"
#include "cmd.h"
#include "capstan/banned.h"

/* The terminal, put back on every way out (normal return and the signals below). */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved, qemu_pid;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

/* Called by the interrupt handler (cmd.c) once ctx->interrupted is set. */
static void on_signal(int sig)
{
	restore_tty();
	/* The VM is asked to end; run then records it as stopped and exits 128+sig. */
	if (qemu_pid > 0)
		kill((pid_t)qemu_pid, SIGTERM);
}

/* Keep the terminal's settings before anything can change them. */
static void save_tty(void)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0)
		tio_saved = 1;
}

/*
 * Raw once the VM runs (messages before it, a pull's progress, stay readable):
 * keys reach the guest as typed, Ctrl-C included, and Ctrl-A X leaves.
 */
static void on_started(void *arg, int64_t pid)
{
	struct termios t;

	qemu_pid = (sig_atomic_t)pid;
	if (!tio_saved)
		return;
	t = saved_tio;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* a late message of ours still starts its line */
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

struct port_list {
	struct hv_port *v;
	size_t n;
};

struct env_list {
	const char **v;
	size_t n;
};

/* What the options fill: the instance's options, and what needs converting first. */
struct run_args {
	struct inst_opts o;
	struct port_list ports;
	struct env_list env;
};

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_memory(const char *value, void *field)
{
	uint64_t *mem = field;
	int ret = parse_size(value, 1 << 20, mem);

	if (ret)
		return ret;
	if (*mem < (2u << 20))
		return cap_errf(CAP_E_USAGE, "'%s' is too little (at least 2M)", value);
	return 0;
}

static int parse_cpus(const char *value, void *field)
{
	if (parse_int(value, 1, 255, field))
		return cap_errf(CAP_E_USAGE, "'%s' is not a number from 1 to 255", value);
	return 0;
}

static int parse_timeout(const char *value, void *field)
{
	if (parse_int(value, 1, 86400 * 365, field))
		return cap_errf(CAP_E_USAGE, "'%s' is not a number of seconds (1 or more)", value);
	return 0;
}

static int parse_net(const char *value, void *field)
{
	return hv_net_parse(value, field);
}

/* -f adds one forward; a host port may be forwarded once per protocol. */
static int parse_forward(const char *value, void *field)
{
	struct port_list *l = field;
	struct hv_port p;
	int ret = hv_port_parse(value, &p);

	if (ret)
		return ret;
	for (size_t k = 0; k < l->n; k++)
		if (l->v[k].host == p.host && l->v[k].udp == p.udp)
			return cap_errf(CAP_E_USAGE, "%s: host port %u is forwarded twice", value,
					p.host);
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = p;
	return 0;
}

static int parse_accel(const char *value, void *field)
{
	return hv_accel_parse(value, field);
}

static int parse_boot(const char *value, void *field)
{
	return hv_boot_parse(value, field);
}

static int parse_backend(const char *value, void *field)
{
	return hv_backend_parse(value, field);
}

/* Capstan's -p: the platform to run on, which is the backend here. */
static int parse_platform(const char *value, void *field)
{
	return hv_platform_backend(value, field);
}

/* --env adds one NAME=VALUE (checked by the library, with the others). */
static int parse_env(const char *value, void *field)
{
	struct env_list *l = field;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = value;
	return 0;
}

static int parse_mac(const char *value, void *field)
{
	int ret = hv_mac_check(value);

	if (!ret)
		*(const char **)field = value;
	return ret;
}

static const struct cli_opt options[] = {
    CLI_OPT_STR('i', "image", "IMAGE", struct run_args, o.image, "the image to run"),
    CLI_OPT_STR(0, "name", "NAME", struct run_args, o.name, "the instance name"),
    CLI_OPT_PARSE('m', "memory", "SIZE", struct run_args, o.memory, parse_memory, "64M",
		  "memory, e.g. 64M or 1G (a bare number is MiB; default 64M)"),
    CLI_OPT_PARSE('c', "cpus", "N", struct run_args, o.cpus, parse_cpus, "1",
		  "virtual CPUs (default 1)"),
    CLI_OPT_STR('e', "execute", "LINE", struct run_args, o.cmdline,
		"replace the image's command line (also with --boot disk)"),
    CLI_OPT_STR(0, "cmdline", "LINE", struct run_args, o.cmdline, "the same as -e"),
    CLI_OPT_PARSE(0, "env", "NAME=VALUE", struct run_args, env, parse_env, NULL,
		  "set a variable in the program's environment (repeatable)"),
    CLI_OPT_PARSE('n', "network", "MODE", struct run_args, o.net, parse_net, NULL,
		  "nat (default), bridge, tap, vhost (tap with vhost-net) or none"),
    CLI_OPT_PARSE(0, "mac", "ADDR", struct run_args, o.mac, parse_mac, NULL,
		  "the NIC's MAC address, e.g. 52:54:00:12:34:56"),
    CLI_OPT_STR('b', "bridge", "DEVICE", struct run_args, o.netdev,
		"the bridge or tap device (default virbr0 / tap0)"),
    CLI_OPT_PARSE('f', "forward", "SPEC", struct run_args, ports, parse_forward, NULL,
		  "forward [IP:]HOST:GUEST[/tcp|udp] (repeatable, nat only)"),
    CLI_OPT_PARSE(0, "accel", "MODE", struct run_args, o.accel, parse_accel, NULL,
		  "auto (default: KVM when /dev/kvm works), kvm or tcg"),
    CLI_OPT_PARSE(0, "boot", "MODE", struct run_args, o.boot, parse_boot, NULL,
		  "direct (QEMU -kernel, default) or disk (firmware boot)"),
    CLI_OPT_FLAG('d', "detach", struct run_args, o.detach,
		 "run in the background, console in the instance's log"),
    CLI_OPT_PARSE(0, "timeout", "SECS", struct run_args, o.timeout, parse_timeout, NULL,
		  "power the VM off after SECS seconds (run exits 124)"),
    CLI_OPT_FLAG(0, "rm", struct run_args, o.rm, "delete the instance when it ends (foreground)"),
    CLI_OPT_FLAG('v', "verbose", struct run_args, o.verbose, "print the hypervisor command line"),
    CLI_OPT_PARSE(0, "backend", "NAME", struct run_args, o.backend, parse_backend, NULL,
		  "qemu (default) or libvirt"),
    CLI_OPT_PARSE('p', "platform", "PLATFORM", struct run_args, o.backend, parse_platform, NULL,
		  "Capstan's platform: qemu (default) or libvirt, as --backend;\n"
		  "vbox, vmw and gce are not run here"),
    CLI_OPT_STR(0, "connect", "URI", struct run_args, o.connect,
		"libvirt connection (default " HV_LIBVIRT_DEFAULT_URI ")"),
    CLI_OPT_END,
};

/* What the options cannot say alone: combinations, and the image and name from the operands. */
static int check(const struct cmd *self, struct cap_ctx *ctx, struct inst_opts *o, int argc,
		 char **argv, char **image)
{
	if (o->connect && (!o->backend || strcmp(o->backend, "libvirt")))
		return cli_usage_error(ctx, self, "--connect needs --backend libvirt");
	if (o->rm && o->detach)
		return cli_usage_error(
		    ctx, self, "--rm and -d do not go together (delete it with 'capstan delete')");
	if (o->image) {
		if (argc > 1)
			return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[1]);
		if (argc && o->name)
			return cli_usage_error(ctx, self, "give the name once (NAME or --name)");
		if (argc)
			o->name = argv[0];
	} else if (argc > 1) {
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[1]);
	} else if (argc) {
		o->image = argv[0];
	} else if (fs_exists("Capstanfile")) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return cli_usage_error(ctx, self, "cannot tell the current folder");
		*image = xstrdup(basename(cwd));
		o->image = *image;
	} else {
		return cli_usage_error(ctx, self, "no image given and no Capstanfile here");
	}
	return 0;
}

/* In a Capstanfile folder, an image not built yet is built first, as Capstan does. */
static int build_if_missing(struct cap_ctx *ctx, const char *image)
{
	struct repo_image img = {0};
	struct build_opts b = {.name = image};
	int ret = repo_find(ctx, image, "qemu", &img);

	repo_image_release(&img);
	if (ret != -CAP_E_NOTFOUND)
		return ret;
	cap_errclear();
	cap_info(ctx, "Building '%s' from the Capstanfile first", image);
	return build_image(ctx, &b);
}

static int run(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	struct run_args *a = args;
	struct inst_opts *o = &a->o;
	char *image = NULL, *created = NULL;
	int ret, status = 0;

	if ((ret = check(self, ctx, o, argc, argv, &image)))
		goto out;
	if (image && (ret = build_if_missing(ctx, image))) {
		ret = cli_fail(ctx, ret);
		goto out;
	}
	o->ports = a->ports.v;
	o->nports = a->ports.n;
	o->env = a->env.v;
	o->nenv = a->env.n;
	o->started = on_started;
	if (!o->detach) {
		/* beside SIGINT and SIGTERM (CMD_INTR): the terminal closing, Ctrl-\ */
		cli_on_interrupt(on_signal);
		cli_catch_signal(SIGHUP);
		cli_catch_signal(SIGQUIT);
		save_tty();
	}
	ret = inst_run(ctx, o, &status, &created);
	restore_tty();
	if (ret)
		status = cli_fail(ctx, ret);
	/*
	 * Interrupted (during the pull, before the start, or the VM asked to end):
	 * 128 + the signal, as a shell reports it; a detached VM that is up stays up.
	 */
	if (ctx->interrupted && (ret || !o->detach))
		status = 128 + ctx->interrupted;
	ret = status;
out:
	free(created);
	free(image);
	return ret;
}

static void release(void *args)
{
	free(((struct run_args *)args)->ports.v);
	free(((struct run_args *)args)->env.v);
}

const struct cmd_spec spec_run = {
    .fn = run,
    .options = options,
    .args_size = sizeof(struct run_args),
    .release = release,
    .max_args = 2,
    .synopsis = "[OPTIONS] [IMAGE | INSTANCE]\n[OPTIONS] -i IMAGE [NAME]",
    .about = "Run an image from the local repository as a VM (pulled from the registry if\n"
	     "missing).  INSTANCE, the name of an ended instance that is no image here,\n"
	     "relaunches it as it was.  Without IMAGE, in a folder with a Capstanfile, run\n"
	     "the image built from it (named after the folder; built first if missing).\n"
	     "The instance is named after the image ('/' becomes '-') unless --name or\n"
	     "NAME says otherwise.  In the foreground the console is the terminal (Ctrl-A X\n"
	     "leaves; when standard input is no terminal, its end reaches the program as\n"
	     "end of file) and run exits with the program's exit status; with -d it prints\n"
	     "the instance name and returns once the VM runs.\n",
};
