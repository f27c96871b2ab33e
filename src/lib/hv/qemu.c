// SPDX-License-Identifier: BSD-3-Clause
// The QEMU backend: a child process per instance, QMP on a unix socket in the instance folder.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/hv.h"
#include "capstan/proc.h"
#include "capstan/str.h"
#include "capstan/banned.h"

extern char **environ;

/*
 * Files QEMU keeps in the instance folder.  QEMU runs with the instance folder
 * as its working directory and gets these as relative names, so a deep
 * $CAPSTAN_ROOT never overflows sun_path.
 */
#define QMP_SOCK    "qmp.sock"
#define CONSOLE_LOG "console.log"
#define STATUS_LOG  "status"   /* the kernel's status channel (isa-debugcon) */
#define EXIT_FILE   "exit"     /* QEMU's raw exit status, written by whoever reaps it */
#define QEMU_LOG    "qemu.log" /* QEMU's own stderr when detached */
#define PID_FILE    "pid"      /* "PID START": QEMU's pid and start time, written at spawn */

/*
 * The kernel's exit channel (src/kernel/power.c, capstan-kernel(7)):
 * isa-debug-exit at 0xf4 makes QEMU exit 2v+1 with v = min(status, 127); the
 * precise status is the last "exit N" / "fault N ..." / "panic ..." line on
 * isa-debugcon at 0xe9.  ACPI power-off and a triple fault (-no-reboot) exit 0.
 */
#define DEBUG_EXIT_PORT "0xf4"
#define DEBUGCON_PORT	"0xe9"
#define EXIT_PANIC	255

struct qemu {
	char *bin;
	bool sandbox;
	pid_t child; /* a foreground QEMU we spawned and will reap, else 0 */
	pid_t pump;  /* the stdin pump of that QEMU (see start_pump), else 0 */
	int timeout; /* its --timeout, seconds */
};

static const char *const qemu_paths[] = {
    "/usr/bin/qemu-system-x86_64",
    "/usr/libexec/qemu-kvm",
    "/usr/local/bin/qemu-system-x86_64",
};

static int find_qemu(const struct cap_ctx *ctx, char **out)
{
	if (ctx->qemu_path) {
		if (access(ctx->qemu_path, X_OK) < 0)
			return cap_errf(CAP_E_UNAVAIL,
					"QEMU '%s' (CAPSTAN_QEMU_PATH) cannot be run: %s",
					ctx->qemu_path, strerror(errno));
		*out = xstrdup(ctx->qemu_path);
		return 0;
	}
	for (size_t i = 0; i < sizeof(qemu_paths) / sizeof(qemu_paths[0]); i++)
		if (access(qemu_paths[i], X_OK) == 0) {
			*out = xstrdup(qemu_paths[i]);
			return 0;
		}
	return cap_errf(CAP_E_UNAVAIL,
			"QEMU not found: install qemu-system-x86 or set CAPSTAN_QEMU_PATH");
}

/*
 * Whether this QEMU has -sandbox (seccomp) is asked once per binary and kept in
 * $CAPSTAN_ROOT/cache/qemu-caps keyed by path, size and mtime: asking costs a
 * QEMU start, which is more than everything else 'capstan run' does.
 */
static bool qemu_has_sandbox(const struct cap_ctx *ctx, const char *bin)
{
	struct stat st;
	char *cache = cap_path(ctx, "cache/qemu-caps"), *data = NULL, key[512];
	bool has = false;

	if (stat(bin, &st) < 0)
		goto out;
	snprintf(key, sizeof(key), "%s %lld %lld.%09ld sandbox=", bin, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (fs_read_all(cache, &data, NULL) == 0 && str_has_prefix(data, key)) {
		has = data[strlen(key)] == '1';
		goto out;
	}
	cap_errclear();
	struct strbuf help = STRBUF_INIT;
	const char *argv[] = {bin, "-help", NULL};
	if (proc_run(argv, NULL, &help) == 0)
		has = help.buf && strstr(help.buf, "\n-sandbox on") != NULL;
	sb_release(&help);
	char *line = xasprintf("%s%d\n", key, has);
	char *dir = cap_path(ctx, "cache");
	if (fs_mkdirs(dir, 0755) == 0)
		fs_write_atomic(cache, line, strlen(line), 0644);
	cap_errclear();
	free(dir);
	free(line);
out:
	free(data);
	free(cache);
	return has;
}

bool hv_kvm_usable(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, v;

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		snprintf(why, len, "/dev/kvm: API version %d, want %d", v, KVM_API_VERSION);
		close(fd);
		return false;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		snprintf(why, len, "/dev/kvm: cannot create a VM: %s", strerror(errno));
		close(fd);
		return false;
	}
	close(vm);
	close(fd);
	return true;
}

static int qemu_probe(struct hv *hv, struct hv_config *cfg)
{
	struct qemu *q = hv->priv;
	char why[256];
	int ret;

	if (!q->bin) {
		if ((ret = find_qemu(hv->ctx, &q->bin)))
			return ret;
		q->sandbox = qemu_has_sandbox(hv->ctx, q->bin);
	}
	switch (cfg->accel) {
	case HV_ACCEL_KVM:
		if (!hv_kvm_usable(why, sizeof(why)))
			return cap_errf(CAP_E_UNAVAIL,
					"KVM was asked for but is not usable: %s (try --accel tcg)",
					why);
		break;
	case HV_ACCEL_AUTO:
		cfg->accel = hv->ctx->disable_kvm != 1 && hv_kvm_usable(why, sizeof(why))
				 ? HV_ACCEL_KVM
				 : HV_ACCEL_TCG;
		break;
	case HV_ACCEL_TCG:
		break;
	}
	if (cfg->boot == HV_BOOT_DIRECT && !cfg->kernel)
		return cap_errf(CAP_E_USAGE, "direct boot needs a kernel");
	if (cfg->net == HV_NET_VHOST) {
		/* vhost-net moves the NIC's data path into the host kernel: QEMU opens this. */
		int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return cap_errf(CAP_E_UNAVAIL,
					"-n vhost needs /dev/vhost-net (modprobe vhost_net): %s",
					strerror(errno));
		close(fd);
	}
	return 0;
}

struct argv {
	char **v;
	size_t n, cap;
};

static void add(struct argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	add(a, s);
	free(s);
}

void hv_qemu_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* QEMU's option syntax doubles a ',' inside a value. */
static char *qemu_escape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s == ',')
			sb_addc(&sb, ',');
		sb_addc(&sb, *s);
	}
	return sb_detach(&sb);
}

/* s as a JSON string (QEMU's -blockdev takes JSON, so no ',' doubling). */
static void qjson_str(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_addf(sb, "\\%c", c);
		else if (c < 0x20)
			sb_addf(sb, "\\u%04x", c);
		else
			sb_addc(sb, (char)c);
	}
	sb_addc(sb, '"');
}

/* One format node over one file node: node-name NODE over NODE-file. */
static void add_node(struct argv *a, const char *node, const char *path, const char *format,
		     const char *backing, bool ro)
{
	struct strbuf sb = STRBUF_INIT;
	const char *opts =
	    ro ? "\"read-only\":true" : "\"cache\":{\"no-flush\":true},\"discard\":\"unmap\"";

	sb_adds(&sb, "{\"driver\":\"file\",\"filename\":");
	qjson_str(&sb, path);
	sb_addf(&sb, ",\"node-name\":\"%s-file\",%s}", node, opts);
	add(a, "-blockdev");
	add(a, sb.buf);
	sb_release(&sb);
	sb_addf(&sb, "{\"driver\":\"%s\",\"file\":\"%s-file\",\"node-name\":\"%s\",%s", format,
		node, node, opts);
	if (!strcmp(format, "qcow2")) {
		if (backing)
			sb_addf(&sb, ",\"backing\":\"%s\"", backing);
		else
			sb_adds(&sb, ",\"backing\":null");
	}
	sb_addc(&sb, '}');
	add(a, "-blockdev");
	add(a, sb.buf);
	sb_release(&sb);
}

/*
 * The disk as an explicit chain: the instance's overlay over the repository
 * image, whose own backing is null.  QEMU never follows a backing file name
 * written in an image, so an image cannot make it open a host path.
 */
static void add_disk_chain(struct argv *a, const struct hv_config *cfg)
{
	const char *fmt = cfg->disk_format ? cfg->disk_format : "qcow2";

	if (cfg->base) {
		add_node(a, "base", cfg->base, cfg->base_format ? cfg->base_format : "qcow2", NULL,
			 true);
		add_node(a, "hd0", cfg->disk, fmt, "base", false);
	} else {
		add_node(a, "hd0", cfg->disk, fmt, NULL, false);
	}
}

int hv_qemu_build_argv(const struct hv_config *cfg, const char *bin, bool sandbox, char ***out)
{
	struct argv a = {0};
	bool mmio = cfg->boot == HV_BOOT_DIRECT;

	add(&a, bin);
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add(&a, "-display");
	add(&a, "none");
	add(&a, "-no-reboot");
	addf(&a, "-name");
	addf(&a, "capstan-%s", cfg->name);
	add(&a, "-M");
	add(&a, mmio ? "microvm,x-option-roms=off,pit=off,pic=off,rtc=on" : "pc");
	if (cfg->accel == HV_ACCEL_KVM) {
		add(&a, "-accel");
		add(&a, "kvm");
		/* Nested KVM refuses MSR 0x10a (arch-capabilities) with a plain -cpu host. */
		add(&a, "-cpu");
		add(&a, "host,-arch-capabilities");
	} else {
		/* several vCPUs: one host thread each (QEMU's default for x86 hosts, made sure) */
		add(&a, "-accel");
		add(&a, cfg->cpus > 1 ? "tcg,thread=multi" : "tcg");
	}
	add(&a, "-m");
	addf(&a, "%lluM", (unsigned long long)((cfg->memory + (1 << 20) - 1) >> 20));
	add(&a, "-smp");
	addf(&a, "%d", cfg->cpus);
	if (sandbox) {
		add(&a, "-sandbox");
		/* The bridge helper is a child process, so spawn stays allowed with -n bridge. */
		add(&a, cfg->net == HV_NET_BRIDGE
			    ? "on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny"
			    : "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
			      "resourcecontrol=deny");
	}
	if (mmio) {
		add(&a, "-kernel");
		add(&a, cfg->kernel);
		if (cfg->cmdline) {
			add(&a, "-append");
			add(&a, cfg->cmdline);
		}
	}
	add_disk_chain(&a, cfg);
	add(&a, "-device");
	add(&a, mmio ? "virtio-blk-device,drive=hd0" : "virtio-blk-pci,drive=hd0,bootindex=0");
	if (!mmio)
		add(&a, "-boot"), add(&a, "strict=on");

	/* The console: the terminal (tee'd to console.log) or console.log alone. */
	add(&a, "-chardev");
	if (cfg->foreground)
		add(&a, "stdio,id=con,mux=on,signal=off,logfile=" CONSOLE_LOG);
	else
		add(&a, "file,id=con,path=" CONSOLE_LOG);
	add(&a, "-serial");
	add(&a, "chardev:con");
	add(&a, "-chardev");
	add(&a, "file,id=status,path=" STATUS_LOG);
	add(&a, "-device");
	add(&a, "isa-debugcon,iobase=" DEBUGCON_PORT ",chardev=status");
	add(&a, "-device");
	add(&a, "isa-debug-exit,iobase=" DEBUG_EXIT_PORT ",iosize=4");
	add(&a, "-qmp");
	add(&a, "unix:" QMP_SOCK ",server=on,wait=off");

	char *nic = xasprintf("%s%s%s", mmio ? "virtio-net-device" : "virtio-net-pci,romfile=",
			      cfg->mac ? ",mac=" : "", cfg->mac ? cfg->mac : "");
	switch (cfg->net) {
	case HV_NET_NONE:
		break;
	case HV_NET_NAT: {
		struct strbuf sb = STRBUF_INIT;
		sb_adds(&sb, "user,id=n0");
		for (size_t i = 0; i < cfg->nports; i++) {
			const struct hv_port *p = &cfg->ports[i];
			sb_addf(&sb, ",hostfwd=%s:%s:%u-:%u", p->udp ? "udp" : "tcp", p->ip,
				p->host, p->guest);
		}
		add(&a, "-netdev");
		add(&a, sb.buf);
		sb_release(&sb);
		add(&a, "-device");
		addf(&a, "%s,netdev=n0", nic);
		break;
	}
	case HV_NET_BRIDGE: {
		char *br = qemu_escape(cfg->netdev ? cfg->netdev : "virbr0");
		add(&a, "-netdev");
		addf(&a, "bridge,id=n0,br=%s", br);
		add(&a, "-device");
		addf(&a, "%s,netdev=n0", nic);
		free(br);
		break;
	}
	case HV_NET_TAP:
	case HV_NET_VHOST: {
		char *tap = qemu_escape(cfg->netdev ? cfg->netdev : "tap0");
		add(&a, "-netdev");
		addf(&a, "tap,id=n0,ifname=%s,script=no,downscript=no%s", tap,
		     cfg->net == HV_NET_VHOST ? ",vhost=on" : "");
		add(&a, "-device");
		addf(&a, "%s,netdev=n0", nic);
		free(tap);
		break;
	}
	}
	free(nic);
	*out = a.v;
	return 0;
}

int64_t hv_pid_start(int64_t pid)
{
	char path[64], buf[1024], *p;
	int fd;
	ssize_t n;
	long long start = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X') /* a zombie is gone, only not yet reaped */
		return 0;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%lld", &start) != 1)
		return 0;
	return start;
}

static bool pid_alive(int64_t pid, int64_t start)
{
	int64_t s = hv_pid_start(pid);

	return s != 0 && (start == 0 || s == start);
}

/* The precise status from the kernel's status channel, or -1 if it wrote none. */
static int status_line(const char *dir)
{
	char *path = xasprintf("%s/" STATUS_LOG, dir), *data = NULL;
	int st = -1;

	if (fs_read_all(path, &data, NULL) == 0) {
		char *line = data, *next;
		for (; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			int v;
			if (sscanf(line, "exit %d", &v) == 1 || sscanf(line, "fault %d", &v) == 1)
				st = v;
			else if (str_has_prefix(line, "panic"))
				st = EXIT_PANIC;
		}
	}
	cap_errclear();
	free(data);
	free(path);
	return st;
}

int hv_qemu_decode_exit(int s)
{
	if (s == 0)
		return 0;
	if (s >= 3 && s <= 255 && (s & 1))
		return (s - 1) / 2;
	return -1;
}

/* How QEMU's raw status (or -1 if unknown) and the status channel add up. */
static void decode(const char *dir, int raw, struct hv_status *st)
{
	int line = status_line(dir);

	st->timed_out = false;
	if (raw == -2) { /* powered off by --timeout */
		st->state = HV_STOPPED;
		st->exit_status = line;
		st->timed_out = true;
		return;
	}
	if (raw == 0 && line < 0) {
		/*
		 * The kernel always leaves a status line; QEMU ending cleanly
		 * without one was told to (Ctrl-A X, QMP quit, SIGTERM).
		 */
		st->state = HV_STOPPED;
		st->exit_status = -1;
		return;
	}
	st->state = HV_EXITED;
	if (line >= 0 && raw >= 0 && (raw & 1)) {
		st->exit_status = line;
	} else if (raw >= 0 && hv_qemu_decode_exit(raw) >= 0) {
		st->exit_status = line >= 0 ? line : hv_qemu_decode_exit(raw);
	} else {
		st->state = HV_CRASHED;
		st->exit_status = raw;
	}
}

/*
 * Renamed into place so a reader never sees half a number; not fsynced: after
 * a host crash the VM is gone anyway and "crashed" is the truth.
 */
static int write_exit(const char *dir, int raw)
{
	char *path = xasprintf("%s/" EXIT_FILE, dir), *tmp = xasprintf("%s/" EXIT_FILE ".tmp", dir),
	     buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", raw), ret = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || fs_write_full(fd, buf, (size_t)n) || rename(tmp, path) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return ret;
}

static int read_exit(const char *dir)
{
	char *path = xasprintf("%s/" EXIT_FILE, dir), *data = NULL;
	int raw = -1;

	if (fs_read_all(path, &data, NULL) == 0)
		raw = (int)strtol(data, NULL, 10);
	cap_errclear();
	free(data);
	free(path);
	return raw;
}

/*
 * Written the moment QEMU is spawned, before anyone can be killed: whoever
 * finds the folder (a stale row, a lost database) can reach that QEMU, and the
 * start time keeps a reused pid from being mistaken for it.
 */
static void write_pid(const char *dir, int64_t pid)
{
	char *path = xasprintf("%s/" PID_FILE, dir), buf[64];
	int n =
	    snprintf(buf, sizeof(buf), "%lld %lld\n", (long long)pid, (long long)hv_pid_start(pid));

	fs_write_atomic(path, buf, (size_t)n, 0600);
	cap_errclear();
	free(path);
}

int hv_qemu_pid_of(const char *dir, int64_t *pid, int64_t *start)
{
	char *path = xasprintf("%s/" PID_FILE, dir), *data = NULL;
	long long p = 0, s = 0;
	int ret = 0;

	*pid = *start = 0;
	if (fs_read_all(path, &data, NULL) == 0 && sscanf(data, "%lld %lld", &p, &s) == 2 &&
	    p > 0 && s > 0 && hv_pid_start(p) == s) {
		*pid = p;
		*start = s;
		ret = 1;
	}
	cap_errclear();
	free(data);
	free(path);
	return ret;
}

/* The QEMU of ref: the recorded pid, else the one the folder's pid file names. */
static void ref_pid(const struct hv_ref *ref, int64_t *pid, int64_t *start)
{
	*pid = ref->pid;
	*start = ref->pid_start;
	if (*pid <= 0 && ref->dir)
		hv_qemu_pid_of(ref->dir, pid, start);
}

static int raw_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 256 + WTERMSIG(wstatus); /* killed: never a guest exit */
}

/* ---- QMP ---- */

static int qmp_connect(const char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;

	if (dfd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" QMP_SOCK, dfd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		fd = -e;
	}
	close(dfd);
	return fd;
}

/* Read until a line holding key arrives (QMP sends one JSON object per line). */
static int qmp_expect(int fd, const char *key, int timeout_ms)
{
	char buf[4096];
	size_t len = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, timeout_ms);
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\"error\""))
			return -EPROTO;
		if (strstr(buf, key))
			return 0;
		char *nl = strrchr(buf, '\n');
		if (nl) {
			len = strlen(nl + 1);
			memmove(buf, nl + 1, len + 1);
		}
		if (len >= sizeof(buf) - 1)
			len = 0;
	}
}

static int qmp_command_expect(const char *dir, const char *cmd, const char *want);

static int qmp_command(const char *dir, const char *cmd)
{
	return qmp_command_expect(dir, cmd, "\"return\"");
}

/* Send cmd; 0 once an answer holding want arrives. */
static int qmp_command_expect(const char *dir, const char *cmd, const char *want)
{
	int fd = qmp_connect(dir), ret;
	char line[128];

	if (fd < 0)
		return fd;
	if ((ret = qmp_expect(fd, "\"QMP\"", 2000)))
		goto out;
	snprintf(line, sizeof(line), "{\"execute\":\"qmp_capabilities\"}\n");
	if ((ret = fs_write_full(fd, line, strlen(line))) ||
	    (ret = qmp_expect(fd, "\"return\"", 2000)))
		goto out;
	snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\n", cmd);
	if ((ret = fs_write_full(fd, line, strlen(line))))
		goto out;
	ret = qmp_expect(fd, want, 2000);
	if (ret == -ECONNRESET && !strcmp(cmd, "quit"))
		ret = 0;
out:
	close(fd);
	return ret;
}

/* Wait up to timeout_ms for pid to go away. */
static bool wait_gone(int64_t pid, int64_t start, int timeout_ms)
{
	struct timespec t0, now, nap = {0, 5 * 1000 * 1000};

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (!pid_alive(pid, start))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms)
			return false;
		nanosleep(&nap, NULL);
	}
}

/* Power-off request, then quit, then SIGKILL.  Shared by stop() and the --timeout watchdog. */
static int power_off(const char *dir, int64_t pid, int64_t start, int timeout_ms, bool *forced)
{
	*forced = false;
	if (!pid_alive(pid, start))
		return 0;
	/* The kernel polls the ACPI power button (pc) and the GED event (microvm). */
	if (qmp_command(dir, "system_powerdown") == 0 && wait_gone(pid, start, timeout_ms))
		return 0;
	*forced = true;
	if (qmp_command(dir, "quit") == 0 && wait_gone(pid, start, 2000))
		return 0;
	if (pid_alive(pid, start))
		kill((pid_t)pid, SIGKILL);
	if (!wait_gone(pid, start, 5000))
		return cap_errf(CAP_E_UNAVAIL, "QEMU (pid %lld) does not go away", (long long)pid);
	return 0;
}

/* ---- start ---- */

static void print_argv(const struct cap_ctx *ctx, char **argv)
{
	fprintf(ctx->out, "Invoking QEMU:");
	for (size_t i = 0; argv[i]; i++) {
		bool plain = argv[i][0] && !strpbrk(argv[i], " \t\"'\\$`!*?;&|<>()");
		fprintf(ctx->out, plain ? " %s" : " '%s'", argv[i]);
	}
	fprintf(ctx->out, "\n");
	fflush(ctx->out);
}

static int spawn(char **argv, const char *dir, int in, int out, int err, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (err >= 0)
		posix_spawn_file_actions_adddup2(&fa, err, 2);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	ret = posix_spawn(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (ret)
		return cap_errf(CAP_E_UNAVAIL, "cannot run '%s': %s", argv[0], strerror(ret));
	return 0;
}

/*
 * Wait for QEMU to run the guest or be gone; true if it ran.  The QMP socket
 * exists before QEMU has set up its devices (a -n bridge without its helper
 * fails after it), so only a "running" answer to query-status counts - or an
 * exit status only the guest gives (a program that ended at once).  *reaped
 * tells whether QEMU ended here, *ws then holds its wait status.
 */
static bool wait_ready(const char *dir, pid_t pid, bool *reaped, int *ws)
{
	struct timespec nap = {0, 2 * 1000 * 1000};

	*reaped = false;
	for (int i = 0; i < 15000; i++) {
		if (qmp_command_expect(dir, "query-status", "\"running\": true") == 0)
			return true;
		if (waitpid(pid, ws, WNOHANG) == pid) {
			*reaped = true;
			return hv_qemu_decode_exit(raw_status(*ws)) >= 0 && status_line(dir) >= 0;
		}
		nanosleep(&nap, NULL);
	}
	return false;
}

/*
 * Block until child ends (or timeout_s passes: then power it off); its wait
 * status.  Returns 1 if the timeout struck.
 */
static int wait_child(const char *dir, pid_t pid, int timeout_s, int *wstatus)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), timed_out = 0;

	if (timeout_s > 0 && pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, timeout_s * 1000)) < 0 && errno == EINTR)
			;
		if (r == 0) {
			bool forced;
			timed_out = 1;
			power_off(dir, pid, hv_pid_start(pid), 5000, &forced);
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return timed_out;
}

/*
 * Detached: a small supervisor (its own session) spawns QEMU, tells the caller
 * through a pipe once QMP answers, then reaps QEMU and leaves its exit status
 * in the instance folder, where status() finds it.
 */
static int start_detached(struct hv *hv, const struct hv_config *cfg, char **argv,
			  struct hv_ref *ref)
{
	int pfd[2], ret = 0;
	pid_t sup;
	struct {
		int64_t pid;
		int ok;
	} msg = {0, 0};

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return cap_errnof(errno, "pipe");
	fflush(NULL);
	sup = fork();
	if (sup < 0) {
		ret = cap_errnof(errno, "fork");
		close(pfd[0]);
		close(pfd[1]);
		return ret;
	}
	if (sup == 0) {
		pid_t qpid;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		char *log = xasprintf("%s/" QEMU_LOG, cfg->dir);
		int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		close(pfd[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		if (spawn(argv, cfg->dir, null, lfd, lfd, &qpid)) {
			fs_write_full(pfd[1], &msg, sizeof(msg));
			_exit(1);
		}
		write_pid(cfg->dir, qpid);
		msg.pid = qpid;
		bool reaped;
		int ws = 0, w = 0;
		msg.ok = wait_ready(cfg->dir, qpid, &reaped, &ws);
		if (reaped && msg.ok)
			write_exit(cfg->dir, raw_status(ws));
		if (!msg.ok && !reaped) { /* never came up: leave no QEMU behind */
			kill(qpid, SIGKILL);
			waitpid(qpid, NULL, 0);
		}
		fs_write_full(pfd[1], &msg, sizeof(msg));
		close(pfd[1]);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (!msg.ok || reaped)
			_exit(msg.ok ? 0 : 1);
		w = wait_child(cfg->dir, qpid, cfg->timeout, &ws);
		if (w >= 0)
			write_exit(cfg->dir, w == 1 ? -2 : raw_status(ws));
		_exit(0);
	}
	close(pfd[1]);
	ssize_t n;
	while ((n = read(pfd[0], &msg, sizeof(msg))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	/* The supervisor lives on; reaping it is init's job (it is in its own session). */
	if (n != (ssize_t)sizeof(msg) || !msg.ok) {
		char *log = xasprintf("%s/" QEMU_LOG, cfg->dir), *data = NULL;
		waitpid(sup, NULL, 0);
		if (fs_read_all(log, &data, NULL) == 0 && data[0]) {
			char *nl = strchr(data, '\n');
			if (nl)
				*nl = '\0';
			ret = cap_errf(CAP_E_UNAVAIL, "QEMU failed to start: %s", data);
		} else {
			ret = cap_errf(CAP_E_UNAVAIL, "QEMU failed to start (see %s)", log);
		}
		free(data);
		free(log);
		return ret;
	}
	ref->pid = msg.pid;
	ref->pid_start = hv_pid_start(msg.pid);
	return 0;
}

/*
 * Standard input that is no terminal (a pipe, a file, /dev/null) reaches the
 * guest through a pipe fed by a small child: at its end the child sends the
 * terminal's end-of-file character (VEOF, Ctrl-D) - twice if the last line
 * had no newline, as a terminal user would type it - so a program reading
 * its console sees end of file.  QEMU's own stdio backend just stops reading.
 * Returns the read end for QEMU's stdin, or -1 to give QEMU ours.
 */
static int start_pump(struct qemu *q)
{
	int p[2];
	pid_t pid;

	if (isatty(STDIN_FILENO) || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		char buf[4096], last = '\n';
		ssize_t n;
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (fs_write_full(p[1], buf, (size_t)n))
				_exit(0);
			last = buf[n - 1];
		}
		fs_write_full(p[1], "\x04\x04", last == '\n' ? 1 : 2);
		_exit(0);
	}
	close(p[1]);
	q->pump = pid;
	return p[0];
}

static void stop_pump(struct qemu *q)
{
	if (q->pump > 0) {
		kill(q->pump, SIGKILL);
		waitpid(q->pump, NULL, 0);
		q->pump = 0;
	}
}

static int qemu_start(struct hv *hv, const struct hv_config *cfg, struct hv_ref *ref)
{
	struct qemu *q = hv->priv;
	char **argv = NULL;
	int ret;

	if ((ret = hv_qemu_build_argv(cfg, q->bin, q->sandbox, &argv)))
		return ret;
	if (cfg->verbose)
		print_argv(hv->ctx, argv);
	ref->pid = 0;
	if (cfg->foreground) {
		pid_t pid;
		int in = start_pump(q);
		fflush(NULL);
		ret = spawn(argv, cfg->dir, in, -1, -1, &pid);
		if (in >= 0)
			close(in);
		if (ret)
			stop_pump(q);
		if (ret == 0) {
			write_pid(cfg->dir, pid);
			q->child = pid;
			q->timeout = cfg->timeout;
			ref->pid = pid;
			ref->pid_start = hv_pid_start(pid);
		}
	} else {
		ret = start_detached(hv, cfg, argv, ref);
	}
	hv_qemu_argv_free(argv);
	return ret;
}

static int qemu_stop(struct hv *hv, const struct hv_ref *ref, int timeout_ms, bool *forced)
{
	int64_t pid, start;

	ref_pid(ref, &pid, &start);
	*forced = false;
	if (pid <= 0)
		return 0;
	return power_off(ref->dir, pid, start, timeout_ms, forced);
}

static int qemu_status(struct hv *hv, const struct hv_ref *ref, struct hv_status *st)
{
	int64_t pid, start;

	ref_pid(ref, &pid, &start);
	st->pid = st->pid_start = 0;
	if (pid > 0 && pid_alive(pid, start)) {
		st->state = HV_RUNNING;
		st->exit_status = -1;
		st->pid = pid;
		st->pid_start = start;
		return 0;
	}
	/*
	 * The supervisor writes the exit file right after reaping: give it a
	 * moment - when a recorded QEMU just went, not for a row that never had one.
	 */
	int raw = read_exit(ref->dir);
	for (int i = 0; raw == -1 && ref->pid > 0 && i < 20; i++) {
		struct timespec nap = {0, 5 * 1000 * 1000};
		nanosleep(&nap, NULL);
		raw = read_exit(ref->dir);
	}
	if (raw == -1) {
		st->state = HV_CRASHED;
		st->exit_status = -1;
		return 0;
	}
	decode(ref->dir, raw, st);
	return 0;
}

static bool ref_alive(void *arg)
{
	const struct hv_ref *ref = arg;

	return pid_alive(ref->pid, ref->pid_start);
}

static int qemu_console(struct hv *hv, const struct hv_ref *ref, struct hv_status *st)
{
	struct qemu *q = hv->priv;
	int ret, ws;

	if (q->child && q->child == ref->pid) {
		if ((ret = wait_child(ref->dir, q->child, q->timeout, &ws)) < 0)
			return cap_errnof(ret, "waiting for QEMU");
		q->child = 0;
		stop_pump(q);
		write_exit(ref->dir, ret == 1 ? -2 : raw_status(ws));
		cap_errclear();
		decode(ref->dir, ret == 1 ? -2 : raw_status(ws), st);
		return 0;
	}
	char *path = hv_console_path(ref->dir);
	fflush(hv->ctx->out);
	ret = hv_console_follow(path, fileno(hv->ctx->out), true, ref_alive, (void *)ref);
	free(path);
	if (ret)
		return ret;
	return qemu_status(hv, ref, st);
}

static int qemu_release(struct hv *hv, const struct hv_ref *ref)
{
	return 0;
}

static void qemu_free(struct hv *hv)
{
	struct qemu *q = hv->priv;

	stop_pump(q);
	free(q->bin);
	free(q);
	free(hv);
}

static const struct hv_ops qemu_ops = {
    .name = "qemu",
    .probe = qemu_probe,
    .start = qemu_start,
    .stop = qemu_stop,
    .status = qemu_status,
    .console = qemu_console,
    .release = qemu_release,
    .free = qemu_free,
};

int hv_qemu_new(const struct cap_ctx *ctx, struct hv **out)
{
	struct hv *hv = xcalloc(1, sizeof(*hv));

	hv->ops = &qemu_ops;
	hv->ctx = ctx;
	hv->priv = xcalloc(1, sizeof(struct qemu));
	*out = hv;
	return 0;
}
