/* SPDX-License-Identifier: BSD-3-Clause */
/* Hypervisor backends: one ops table, one constructor per backend (QEMU, libvirt). */
#ifndef CAPSTAN_HV_H
#define CAPSTAN_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capstan/ctx.h"

/* ---- port forwards: Docker's [ip:]host:guest[/tcp|udp] ---- */

struct hv_port {
	char ip[16];	/* dotted IPv4 the host side binds, "" for all addresses */
	uint16_t host;	/* host port, 1..65535 */
	uint16_t guest; /* guest port, 1..65535 */
	bool udp;	/* else tcp */
};

/* Parse one -f value; -CAP_E_USAGE with a message quoting it and saying why. */
int hv_port_parse(const char *spec, struct hv_port *out);
/* "127.0.0.1:8080->80/tcp" (or "8080->80/udp"); buf >= 48 bytes. */
const char *hv_port_format(const struct hv_port *p, char *buf, size_t len);
/* Is the host side free?  Binds it briefly; -CAP_E_UNAVAIL with a message if taken. */
int hv_port_check_free(const struct hv_port *p);

/* ---- what to run ---- */

/* The libvirt connection when no --connect is given: the user's own session. */
#define HV_LIBVIRT_DEFAULT_URI "qemu:///session"

enum hv_boot { HV_BOOT_DIRECT, HV_BOOT_DISK };
enum hv_accel { HV_ACCEL_AUTO, HV_ACCEL_KVM, HV_ACCEL_TCG };
/* vhost: a tap device with QEMU's vhost-net (the data path in the host kernel). */
enum hv_net { HV_NET_NAT, HV_NET_BRIDGE, HV_NET_TAP, HV_NET_NONE, HV_NET_VHOST };

const char *hv_boot_name(enum hv_boot b);
const char *hv_accel_name(enum hv_accel a);
const char *hv_net_name(enum hv_net n);
/* The command line's names (direct, kvm, nat...); -CAP_E_USAGE with a message listing them. */
int hv_boot_parse(const char *s, enum hv_boot *out);
int hv_accel_parse(const char *s, enum hv_accel *out);
int hv_net_parse(const char *s, enum hv_net *out);
/* "qemu" or "libvirt": *out is the library's own copy of the name. */
int hv_backend_parse(const char *s, const char **out);
/*
 * Capstan's -p PLATFORM for run: the backend that runs it (qemu -> "qemu",
 * libvirt -> "libvirt"); vbox, vmw and gce are -CAP_E_UNAVAIL with a message
 * saying what capstan runs.
 */
int hv_platform_backend(const char *platform, const char **backend);
/* xx:xx:xx:xx:xx:xx, hex, unicast: -CAP_E_USAGE otherwise. */
int hv_mac_check(const char *mac);

struct hv_config {
	const char *name;	 /* instance name */
	const char *image;	 /* the image it runs ("ns/name"), for descriptions */
	const char *dir;	 /* instance folder (absolute): console.log, qmp.sock live here */
	const char *disk;	 /* the instance's disk (absolute), an overlay of the image */
	const char *disk_format; /* "qcow2" */
	/*
	 * The repository image the disk overlays (absolute), opened read-only
	 * with no backing of its own; NULL: the disk stands alone.
	 */
	const char *base;
	const char *base_format; /* "qcow2" or "raw" */
	const char *kernel;	 /* for HV_BOOT_DIRECT: the kernel ELF (absolute) */
	const char *cmdline;	 /* override of the image's command line, NULL to keep it */
	uint64_t memory;	 /* bytes */
	int cpus;
	enum hv_boot boot;
	enum hv_accel accel; /* HV_ACCEL_AUTO is resolved by probe() */
	enum hv_net net;
	const char *netdev; /* bridge or tap device, NULL for the default */
	const char *mac;    /* the NIC's MAC address (checked by hv_mac_check), NULL: default */
	const struct hv_port *ports;
	size_t nports;
	bool foreground; /* console on the caller's stdin/stdout, else console.log only */
	int timeout;	 /* seconds before the VM is powered off, 0 = none */
	bool verbose;	 /* print the hypervisor command line (or domain XML) */
};

/* A started instance, as the database remembers it. */
struct hv_ref {
	const char *name;
	const char *dir;
	int64_t pid; /* QEMU: the QEMU process */
	int64_t pid_start;
	const char *uuid; /* libvirt: the domain */
};

enum hv_state { HV_RUNNING, HV_EXITED, HV_STOPPED, HV_CRASHED };

struct hv_status {
	enum hv_state state;
	int exit_status; /* the program's exit status, -1 when unknown */
	bool timed_out;	 /* HV_STOPPED by the --timeout watchdog */
	int64_t pid;	 /* HV_RUNNING on QEMU: the process found (maybe unrecorded) */
	int64_t pid_start;
};

struct hv;

struct hv_ops {
	const char *name; /* "qemu", "libvirt" */
	/*
	 * Check the backend can run cfg (binary present, accelerator usable,
	 * connection open) and resolve cfg->accel.  Errors say what is missing:
	 * -CAP_E_UNAVAIL.
	 */
	int (*probe)(struct hv *hv, struct hv_config *cfg);
	/* Launch; fills the pid or UUID of ref (strings owned by hv until release). */
	int (*start)(struct hv *hv, const struct hv_config *cfg, struct hv_ref *ref);
	/*
	 * Graceful power-off, forced after timeout_ms.  *forced tells which
	 * happened.  An instance that is already gone is not an error.
	 */
	int (*stop)(struct hv *hv, const struct hv_ref *ref, int timeout_ms, bool *forced);
	/* Is it still running; if not, how did it end. */
	int (*status)(struct hv *hv, const struct hv_ref *ref, struct hv_status *st);
	/*
	 * Stay with a started instance until it ends, its console reaching the
	 * user (already on stdio for a foreground QEMU, else the log is followed
	 * to ctx->out); fills st with how it ended.
	 */
	int (*console)(struct hv *hv, const struct hv_ref *ref, struct hv_status *st);
	/* Forget the instance on the backend side (libvirt: undefine). */
	int (*release)(struct hv *hv, const struct hv_ref *ref);
	void (*free)(struct hv *hv);
};

struct hv {
	const struct hv_ops *ops;
	const struct cap_ctx *ctx;
	void *priv;
};

/* Constructors.  ctx is borrowed and must outlive hv. */
int hv_qemu_new(const struct cap_ctx *ctx, struct hv **out);
/* uri NULL: HV_LIBVIRT_DEFAULT_URI. */
int hv_libvirt_new(const struct cap_ctx *ctx, const char *uri, struct hv **out);
/* The domain XML for cfg from $datadir/templates/libvirt-domain.xml (test: the test driver's type).
 */
int hv_libvirt_domain_xml(const struct cap_ctx *ctx, const struct hv_config *cfg, bool test,
			  char **xml);
/*
 * A scripted backend for unit tests: no process, no VM.  hv_open() knows the
 * name "fake" only while a test has installed one, so the CLI never reaches it.
 */
struct hv_fake {
	int fail_probe, fail_start, fail_stop; /* codes those calls fail with, 0: succeed */
	enum hv_state end_state;	       /* how the VM ends (console(), or after stop()) */
	int exit_status;
	int64_t pid;			     /* the pid start() reports */
	void (*on_start)(struct hv_fake *f); /* called once start() succeeded */
	void *arg;			     /* for on_start */
	/* what happened */
	bool running;
	int starts, stops, releases;
	char cmdline[256]; /* cfg->cmdline of the last start() */
};
void hv_fake_install(struct hv_fake *f); /* NULL uninstalls */
int hv_fake_new(const struct cap_ctx *ctx, struct hv **out);
/* By backend name ("qemu", "libvirt"); the one place that chooses. */
int hv_open(const struct cap_ctx *ctx, const char *backend, const char *uri, struct hv **out);
void hv_free(struct hv *hv);

/* Console log path inside an instance folder (malloc'd). */
char *hv_console_path(const char *dir);
/*
 * Copy the console log to fd out; with follow, keep copying while alive()
 * says the instance runs (checked between reads), then drain what is left.
 */
int hv_console_follow(const char *path, int out, bool follow, bool (*alive)(void *arg), void *arg);

/* ---- QEMU specifics other code needs ---- */

/*
 * The QEMU command line for cfg (argv[0] = bin), NULL-terminated; free with
 * hv_qemu_argv_free().  Paths in it are relative to the instance folder,
 * QEMU's working directory.
 */
int hv_qemu_build_argv(const struct hv_config *cfg, const char *bin, bool sandbox, char ***argv);
void hv_qemu_argv_free(char **argv);
/* Does /dev/kvm really work here (open + KVM_GET_API_VERSION + KVM_CREATE_VM)? */
bool hv_kvm_usable(char *why, size_t len);
/*
 * The live QEMU an instance folder's pid file names: 1 with *pid and *start
 * set, 0 if none (no file, or that process is gone or another one now).
 */
int hv_qemu_pid_of(const char *dir, int64_t *pid, int64_t *start);
/* Start time of pid (field 22 of /proc/PID/stat), 0 if no such process. */
int64_t hv_pid_start(int64_t pid);
/*
 * Turn QEMU's exit status into the program's (the kernel's documented
 * mapping, see hv_qemu_decode_exit in qemu.c); -1 if the status means QEMU
 * itself failed.
 */
int hv_qemu_decode_exit(int qemu_status);

#endif
