// SPDX-License-Identifier: BSD-3-Clause
// What the hypervisor backends share: choosing one by name, option names, following a console log.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/hv.h"
#include "capstan/str.h"
#include "capstan/banned.h"

int hv_open(const struct cap_ctx *ctx, const char *backend, const char *uri, struct hv **out)
{
	if (!backend || !strcmp(backend, "qemu")) {
		if (uri)
			return cap_errf(CAP_E_USAGE, "--connect is for --backend libvirt");
		return hv_qemu_new(ctx, out);
	}
	if (!strcmp(backend, "libvirt"))
		return hv_libvirt_new(ctx, uri, out);
	if (!strcmp(backend, "fake"))
		return hv_fake_new(ctx, out);
	return cap_errf(CAP_E_USAGE, "unknown backend '%s' (qemu or libvirt)", backend);
}

void hv_free(struct hv *hv)
{
	if (hv)
		hv->ops->free(hv);
}

/* The names the command line, the database and the messages use, by enum value. */
static const char *const boot_names[] = {[HV_BOOT_DIRECT] = "direct", [HV_BOOT_DISK] = "disk"};
static const char *const accel_names[] = {
    [HV_ACCEL_AUTO] = "auto", [HV_ACCEL_KVM] = "kvm", [HV_ACCEL_TCG] = "tcg"};
static const char *const net_names[] = {
    [HV_NET_NAT] = "nat",   [HV_NET_BRIDGE] = "bridge", [HV_NET_TAP] = "tap",
    [HV_NET_NONE] = "none", [HV_NET_VHOST] = "vhost",
};
static const char *const backend_names[] = {"qemu", "libvirt"};
#define NNAMES(v) (sizeof(v) / sizeof(v[0]))

/* The index of s in names, or -CAP_E_USAGE with a message listing them. */
static int find_name(const char *s, const char *const *names, size_t n, const char *what)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
	ret = cap_errf(CAP_E_USAGE, "unknown %s '%s' (%s)", what, s, sb.buf);
	sb_release(&sb);
	return ret;
}

const char *hv_boot_name(enum hv_boot b)
{
	return boot_names[b];
}

const char *hv_accel_name(enum hv_accel a)
{
	return accel_names[a];
}

const char *hv_net_name(enum hv_net n)
{
	return net_names[n];
}

int hv_boot_parse(const char *s, enum hv_boot *out)
{
	int i = find_name(s, boot_names, NNAMES(boot_names), "boot mode");

	if (i < 0)
		return i;
	*out = (enum hv_boot)i;
	return 0;
}

int hv_accel_parse(const char *s, enum hv_accel *out)
{
	int i = find_name(s, accel_names, NNAMES(accel_names), "accelerator");

	if (i < 0)
		return i;
	*out = (enum hv_accel)i;
	return 0;
}

int hv_net_parse(const char *s, enum hv_net *out)
{
	int i = find_name(s, net_names, NNAMES(net_names), "network mode");

	if (i < 0)
		return i;
	*out = (enum hv_net)i;
	return 0;
}

int hv_backend_parse(const char *s, const char **out)
{
	int i = find_name(s, backend_names, NNAMES(backend_names), "backend");

	if (i < 0)
		return i;
	*out = backend_names[i];
	return 0;
}

int hv_platform_backend(const char *platform, const char **backend)
{
	static const char *const foreign[] = {"vbox", "vmw", "vmware", "gce"};

	if (hv_backend_parse(platform, backend) == 0)
		return 0;
	cap_errclear();
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (!strcmp(platform, foreign[i]))
			return cap_errf(CAP_E_UNAVAIL,
					"platform '%s' cannot be run here: capstan runs qemu "
					"(QEMU directly, or through libvirt with -p libvirt)",
					platform);
	return cap_errf(CAP_E_USAGE,
			"'%s' is not a platform (qemu or libvirt; vbox, vmw and "
			"gce are not run here)",
			platform);
}

int hv_mac_check(const char *mac)
{
	unsigned b[6];
	char end;

	if (strlen(mac) != 17 || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
					&b[3], &b[4], &b[5], &end) != 6)
		return cap_errf(CAP_E_USAGE,
				"MAC address '%s': want six hex bytes like 52:54:00:12:34:56", mac);
	for (int i = 0; i < 17; i++)
		if ((i % 3 == 2) != (mac[i] == ':') ||
		    (i % 3 != 2 && !strchr("0123456789abcdefABCDEF", mac[i])))
			return cap_errf(
			    CAP_E_USAGE,
			    "MAC address '%s': want six hex bytes like 52:54:00:12:34:56", mac);
	if (b[0] & 1)
		return cap_errf(CAP_E_USAGE, "MAC address '%s' is a multicast address", mac);
	return 0;
}

char *hv_console_path(const char *dir)
{
	return xasprintf("%s/console.log", dir);
}

static int copy_avail(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int r = fs_write_full(out, buf, (size_t)n);
		if (r)
			return r;
	}
	return 0;
}

int hv_console_follow(const char *path, int out, bool follow, bool (*alive)(void *arg), void *arg)
{
	struct timespec nap = {0, 20 * 1000 * 1000};
	int fd = -1, ret = 0;

	for (;;) {
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && (ret = copy_avail(fd, out)))
			break;
		if (!follow)
			break;
		if (!alive(arg)) {
			/* Drain what was written between the last read and the end. */
			if (fd < 0)
				fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				ret = copy_avail(fd, out);
			break;
		}
		nanosleep(&nap, NULL);
	}
	if (fd < 0 && !follow && errno == ENOENT)
		ret = 0; /* no output yet */
	if (fd >= 0)
		close(fd);
	if (ret == -EPIPE)
		ret = 0;
	if (ret)
		return cap_errnof(ret, "console of '%s'", path);
	return 0;
}
