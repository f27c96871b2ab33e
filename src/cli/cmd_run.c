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

#include "capstan/err.h"
#include "capstan/inst.h"
#include "capstan/util.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_run[] =
    "usage: capstan run [OPTIONS] [IMAGE]\n"
    "       capstan run [OPTIONS] -i IMAGE [NAME]\n"
    "\n"
    "Run an image from the local repository as a VM.  Without IMAGE, in a folder\n"
    "with a Capstanfile, run the image built from it (named after the folder).\n"
    "The instance is named after the image ('/' becomes '-') unless --name or\n"
    "NAME says otherwise.  In the foreground the console is the terminal (Ctrl-A X\n"
    "leaves) and run exits with the program's exit status; with -d it prints the\n"
    "instance name and returns once the VM is up.\n"
    "\n"
    "  -i, --image IMAGE     the image to run\n"
    "      --name NAME       the instance name\n"
    "  -m, --memory SIZE     memory, e.g. 64M or 1G (a bare number is MiB; default 64M)\n"
    "  -c, --cpus N          virtual CPUs (default 1)\n"
    "  -e, --cmdline LINE    replace the image's command line\n"
    "  -n, --network MODE    nat (default), bridge, tap or none\n"
    "  -b, --bridge DEVICE   the bridge or tap device (default virbr0 / tap0)\n"
    "  -f, --forward SPEC    forward [IP:]HOST:GUEST[/tcp|udp] (repeatable, nat only)\n"
    "      --accel MODE      auto (default: KVM when /dev/kvm works), kvm or tcg\n"
    "      --boot MODE       direct (QEMU -kernel, default) or disk (firmware boot)\n"
    "  -d, --detach          run in the background, console in the instance's log\n"
    "      --timeout SECS    power the VM off after SECS seconds (run exits 124)\n"
    "      --rm              delete the instance when it ends (foreground)\n"
    "  -v, --verbose         print the hypervisor command line\n"
    "      --backend NAME    qemu (default) or libvirt\n"
    "      --connect URI     libvirt connection (default qemu:///session)\n";

enum { OPT_NAME = 0x100, OPT_ACCEL, OPT_BOOT, OPT_TIMEOUT, OPT_RM, OPT_BACKEND, OPT_CONNECT };

static const struct option longopts[] = {
    {"image", required_argument, NULL, 'i'},
    {"name", required_argument, NULL, OPT_NAME},
    {"memory", required_argument, NULL, 'm'},
    {"cpus", required_argument, NULL, 'c'},
    {"cmdline", required_argument, NULL, 'e'},
    {"network", required_argument, NULL, 'n'},
    {"bridge", required_argument, NULL, 'b'},
    {"forward", required_argument, NULL, 'f'},
    {"accel", required_argument, NULL, OPT_ACCEL},
    {"boot", required_argument, NULL, OPT_BOOT},
    {"detach", no_argument, NULL, 'd'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"rm", no_argument, NULL, OPT_RM},
    {"verbose", no_argument, NULL, 'v'},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {NULL, 0, NULL, 0},
};

/* The terminal, put back on every way out (normal return and the signals below). */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved, qemu_pid, interrupted;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static void on_signal(int sig)
{
	interrupted = sig;
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

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int cmd_run(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	struct inst_opts o = {0};
	struct hv_port *ports = NULL;
	char *image = NULL, *name = NULL, *created = NULL;
	uint64_t mem = 64ull << 20;
	int c, ret, status = 0;

	o.cpus = 1;
	o.net = HV_NET_NAT;
	o.accel = HV_ACCEL_AUTO;
	o.boot = HV_BOOT_DIRECT;
	while ((c = cli_getopt(ctx, self, argc, argv, "i:m:c:e:n:b:f:dv", longopts)) != -1) {
		switch (c) {
		case 'i':
			o.image = optarg;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case 'm':
			if (parse_size(optarg, 1 << 20, &mem) < 0) {
				ret =
				    cli_usage_error(ctx, self, "-m: %s", cap_errmsg(-CAP_E_USAGE));
				goto out;
			}
			if (mem < (2u << 20)) {
				ret = cli_usage_error(ctx, self, "-m %s: at least 2M is needed",
						      optarg);
				goto out;
			}
			break;
		case 'c':
			if (parse_int(optarg, 1, 255, &o.cpus)) {
				ret = cli_usage_error(
				    ctx, self, "-c '%s': expected a number from 1 to 255", optarg);
				goto out;
			}
			break;
		case 'e':
			o.cmdline = optarg;
			break;
		case 'n':
			if (hv_net_parse(optarg, &o.net)) {
				ret =
				    cli_usage_error(ctx, self, "-n: %s", cap_errmsg(-CAP_E_USAGE));
				goto out;
			}
			break;
		case 'b':
			o.netdev = optarg;
			break;
		case 'f':
			ports = xrealloc(ports, (o.nports + 1) * sizeof(*ports));
			if (hv_port_parse(optarg, &ports[o.nports])) {
				ret = cli_usage_error(ctx, self, "%s", cap_errmsg(-CAP_E_USAGE));
				goto out;
			}
			for (size_t k = 0; k < o.nports; k++)
				if (ports[k].host == ports[o.nports].host &&
				    ports[k].udp == ports[o.nports].udp) {
					ret = cli_usage_error(
					    ctx, self, "-f %s: host port %u is forwarded twice",
					    optarg, ports[k].host);
					goto out;
				}
			o.nports++;
			break;
		case OPT_ACCEL:
			if (!strcmp(optarg, "auto"))
				o.accel = HV_ACCEL_AUTO;
			else if (!strcmp(optarg, "kvm"))
				o.accel = HV_ACCEL_KVM;
			else if (!strcmp(optarg, "tcg"))
				o.accel = HV_ACCEL_TCG;
			else {
				ret = cli_usage_error(
				    ctx, self, "--accel '%s': expected auto, kvm or tcg", optarg);
				goto out;
			}
			break;
		case OPT_BOOT:
			if (!strcmp(optarg, "direct"))
				o.boot = HV_BOOT_DIRECT;
			else if (!strcmp(optarg, "disk"))
				o.boot = HV_BOOT_DISK;
			else {
				ret = cli_usage_error(
				    ctx, self, "--boot '%s': expected direct or disk", optarg);
				goto out;
			}
			break;
		case 'd':
			o.detach = true;
			break;
		case OPT_TIMEOUT:
			if (parse_int(optarg, 1, 86400 * 365, &o.timeout)) {
				ret = cli_usage_error(
				    ctx, self, "--timeout '%s': expected seconds (1 or more)",
				    optarg);
				goto out;
			}
			break;
		case OPT_RM:
			o.rm = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "qemu") && strcmp(optarg, "libvirt")) {
				ret = cli_usage_error(
				    ctx, self, "--backend '%s': expected qemu or libvirt", optarg);
				goto out;
			}
			o.backend = optarg;
			break;
		case OPT_CONNECT:
			o.connect = optarg;
			break;
		default:
			ret = c - CLI_EXIT;
			goto out;
		}
	}
	if (o.connect && (!o.backend || strcmp(o.backend, "libvirt"))) {
		ret = cli_usage_error(ctx, self, "--connect needs --backend libvirt");
		goto out;
	}
	if (o.rm && o.detach) {
		ret = cli_usage_error(
		    ctx, self, "--rm and -d do not go together (delete it with 'capstan delete')");
		goto out;
	}
	if (o.image) {
		if (optind < argc) {
			if (o.name) {
				ret = cli_usage_error(ctx, self,
						      "give the name once (NAME or --name)");
				goto out;
			}
			o.name = argv[optind++];
		}
	} else if (optind < argc) {
		o.image = argv[optind++];
	} else if (fs_exists("Capstanfile")) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			ret = cli_usage_error(ctx, self, "cannot tell the current folder");
			goto out;
		}
		image = xstrdup(basename(cwd));
		o.image = image;
	} else {
		ret = cli_usage_error(ctx, self, "no image given and no Capstanfile here");
		goto out;
	}
	if (optind < argc) {
		ret = cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if ((ret = cli_load(ctx)))
		goto out;
	o.memory = mem;
	o.ports = ports;
	o.started = on_started;
	o.interrupted = &interrupted;

	if (!o.detach) {
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGQUIT, &sa, NULL);
		save_tty();
	}
	ret = inst_run(ctx, &o, &status, &created);
	restore_tty();
	if (ret) {
		ret = cli_fail(ctx, ret);
		goto out;
	}
	ret = interrupted ? 128 + interrupted : status;
out:
	free(created);
	free(name);
	free(image);
	free(ports);
	return ret;
}
