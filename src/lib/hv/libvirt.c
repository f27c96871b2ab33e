// SPDX-License-Identifier: BSD-3-Clause
// The libvirt backend: a persistent domain per instance, from templates/libvirt-domain.xml.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/hv.h"
#include "capstan/str.h"
#include "lazylib.h"
#include "capstan/banned.h"

#if HAVE_LIBVIRT

/*
 * libvirt is loaded with dlopen() when a libvirt instance is first touched
 * (lazylib.h): linked in, it and its dependencies (glib, gnutls, libxml2,
 * ICU...) cost every capstan command tens of milliseconds of dynamic loading.
 */

struct lv {
	char *uri;
	virConnectPtr conn;
	bool test;  /* libvirt's test driver: domains of type 'test', nothing really runs */
	bool local; /* the instance folder is on this host (no host part in the URI) */
	char uuid[VIR_UUID_STRING_BUFLEN];
};

static int lv_fail(const char *what)
{
	const char *m = cap_libvirt.virGetLastErrorMessage();

	return cap_errf(CAP_E_UNAVAIL, "libvirt: %s: %s", what, m ? m : "unknown error");
}

/* libvirt prints its errors to stderr by default; they reach the user through cap_errf. */
static void quiet(void *data, virErrorPtr err)
{
}

static int lv_connect(struct lv *l)
{
	int ret;

	if (l->conn)
		return 0;
	if ((ret = cap_libvirt_load()))
		return ret;
	cap_libvirt.virSetErrorFunc(NULL, quiet);
	l->conn = cap_libvirt.virConnectOpen(l->uri);
	if (!l->conn)
		return lv_fail(l->uri);
	const char *type = cap_libvirt.virConnectGetType(l->conn);
	l->test = type && !strcmp(type, "TEST");
	/* "qemu:///session" is local; "qemu+ssh://host/system" is not. */
	const char *p = strstr(l->uri, "://");
	l->local = p && p[3] == '/';
	return 0;
}

static int lv_probe(struct hv *hv, struct hv_config *cfg)
{
	struct lv *l = hv->priv;
	char why[256];
	int ret;

	if ((ret = lv_connect(l)))
		return ret;
	switch (cfg->accel) {
	case HV_ACCEL_KVM:
		if (l->local && !l->test && !hv_kvm_usable(why, sizeof(why)))
			return cap_errf(CAP_E_UNAVAIL,
					"KVM was asked for but is not usable: %s (try --accel tcg)",
					why);
		break;
	case HV_ACCEL_AUTO:
		/* A remote host is asked nothing here: it says so at define time if KVM is missing.
		 */
		if (l->local)
			cfg->accel = hv->ctx->disable_kvm != 1 && hv_kvm_usable(why, sizeof(why))
					 ? HV_ACCEL_KVM
					 : HV_ACCEL_TCG;
		else
			cfg->accel = HV_ACCEL_KVM;
		break;
	case HV_ACCEL_TCG:
		break;
	}
	return 0;
}

#endif

/* The domain XML needs nothing from libvirt: built and unit-tested without it too. */

static void xml_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			sb_adds(sb, "&lt;");
			break;
		case '>':
			sb_adds(sb, "&gt;");
			break;
		case '&':
			sb_adds(sb, "&amp;");
			break;
		case '\'':
			sb_adds(sb, "&apos;");
			break;
		case '"':
			sb_adds(sb, "&quot;");
			break;
		default:
			sb_addc(sb, *s);
		}
	}
}

static char *esc(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	xml_escape(&sb, s ? s : "");
	sb_add(&sb, "", 0);
	return sb_detach(&sb);
}

/* Fill @KEY@ fields of the template; keys[i] is replaced by vals[i] (already XML). */
static char *fill(const char *tmpl, const char *const *keys, char *const *vals, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = tmpl;

	while (*p) {
		const char *at = strchr(p, '@');
		if (!at) {
			sb_adds(&sb, p);
			break;
		}
		sb_add(&sb, p, (size_t)(at - p));
		const char *end = strchr(at + 1, '@');
		size_t i = n;
		if (end)
			for (i = 0; i < n; i++)
				if (strlen(keys[i]) == (size_t)(end - at - 1) &&
				    !strncmp(at + 1, keys[i], (size_t)(end - at - 1)))
					break;
		if (i < n) {
			sb_adds(&sb, vals[i]);
			p = end + 1;
		} else {
			sb_addc(&sb, '@');
			p = at + 1;
		}
	}
	sb_add(&sb, "", 0);
	return sb_detach(&sb);
}

/*
 * The disk's backing chain spelled out, ending in an empty <backingStore/>:
 * libvirt then never follows a backing file name written in an image.
 */
static char *backing_xml(const struct hv_config *cfg)
{
	if (!cfg->base)
		return xstrdup("      <backingStore/>");
	char *f = esc(cfg->base_format ? cfg->base_format : "qcow2"), *b = esc(cfg->base);
	char *x = xasprintf("      <backingStore type='file'>\n"
			    "        <format type='%s'/>\n"
			    "        <source file='%s'/>\n"
			    "        <backingStore/>\n"
			    "      </backingStore>",
			    f, b);
	free(f);
	free(b);
	return x;
}

int hv_libvirt_domain_xml(const struct cap_ctx *ctx, const struct hv_config *cfg, bool test,
			  char **out)
{
	static const char *const keys[] = {"TYPE",    "NAME", "IMAGE", "MEMORY_KIB",  "CPUS",
					   "MACHINE", "OS",   "CPU",   "DISK_FORMAT", "DISK",
					   "CONSOLE", "NET",  "EXTRA", "BACKING"};
	char *vals[sizeof(keys) / sizeof(keys[0])] = {0};
	char *path = xasprintf("%s/templates/libvirt-domain.xml", ctx->datadir), *tmpl = NULL;
	struct strbuf sb = STRBUF_INIT;
	int ret;

	if ((ret = fs_read_all(path, &tmpl, NULL)))
		goto out;
	vals[0] = xstrdup(test ? "test" : cfg->accel == HV_ACCEL_KVM ? "kvm" : "qemu");
	{
		char *n = xasprintf("capstan-%s", cfg->name);
		vals[1] = esc(n);
		free(n);
	}
	vals[2] = esc(cfg->image ? cfg->image : cfg->name);
	vals[3] = xasprintf("%llu", (unsigned long long)(cfg->memory >> 10));
	vals[4] = xasprintf("%d", cfg->cpus);
	vals[5] = xstrdup("pc");
	if (cfg->boot == HV_BOOT_DIRECT && cfg->kernel) {
		sb_adds(&sb, "    <kernel>");
		xml_escape(&sb, cfg->kernel);
		sb_adds(&sb, "</kernel>\n");
		if (cfg->cmdline) {
			sb_adds(&sb, "    <cmdline>");
			xml_escape(&sb, cfg->cmdline);
			sb_adds(&sb, "</cmdline>\n");
		}
	} else {
		sb_adds(&sb, "    <boot dev='hd'/>\n");
	}
	sb_add(&sb, "", 0);
	vals[6] = sb_detach(&sb);
	vals[7] = xstrdup(cfg->accel == HV_ACCEL_KVM && !test
			      ? "  <cpu mode='host-passthrough'>\n    <feature policy='disable' "
				"name='arch-capabilities'/>\n  </cpu>"
			      : "");
	vals[8] = esc(cfg->disk_format ? cfg->disk_format : "qcow2");
	vals[9] = esc(cfg->disk);
	char *con = hv_console_path(cfg->dir);
	vals[10] = esc(con);
	free(con);
	char *mac = xstrdup("");
	if (cfg->mac) {
		char *m = esc(cfg->mac);
		free(mac);
		mac = xasprintf("      <mac address='%s'/>\n", m);
		free(m);
	}
	switch (cfg->net) {
	case HV_NET_NONE:
		vals[11] = xstrdup("");
		break;
	case HV_NET_NAT:
		vals[11] = xasprintf("    <interface type='user'>\n%s      <model "
				     "type='virtio'/>\n    </interface>",
				     mac);
		break;
	case HV_NET_BRIDGE:
	case HV_NET_TAP:
	case HV_NET_VHOST: {
		char *dev = esc(cfg->netdev		    ? cfg->netdev
				: cfg->net == HV_NET_BRIDGE ? "virbr0"
							    : "tap0");
		vals[11] =
		    cfg->net == HV_NET_BRIDGE
			? xasprintf("    <interface type='bridge'>\n%s      <source bridge='%s'/>\n"
				    "      <model type='virtio'/>\n    </interface>",
				    mac, dev)
			: xasprintf("    <interface type='ethernet'>\n%s      <target dev='%s' "
				    "managed='no'/>\n"
				    "      <model type='virtio'/>\n%s    </interface>",
				    mac, dev,
				    cfg->net == HV_NET_VHOST ? "      <driver name='vhost'/>\n"
							     : "");
		free(dev);
		break;
	}
	}
	free(mac);
	/*
	 * The kernel's status channel (isa-debugcon at 0xe9) carries the exact
	 * exit status; libvirt only adds it through the qemu namespace.
	 */
	if (!test) {
		char *st = xasprintf("%s/status", cfg->dir);
		char *e = esc(st);
		vals[12] =
		    xasprintf("  <qemu:commandline>\n"
			      "    <qemu:arg value='-chardev'/>\n"
			      "    <qemu:arg value='file,id=capstatus,path=%s'/>\n"
			      "    <qemu:arg value='-device'/>\n"
			      "    <qemu:arg value='isa-debugcon,iobase=0xe9,chardev=capstatus'/>\n"
			      "  </qemu:commandline>",
			      e);
		free(e);
		free(st);
	} else {
		vals[12] = xstrdup("");
	}
	vals[13] = backing_xml(cfg);
	*out = fill(tmpl, keys, vals, sizeof(keys) / sizeof(keys[0]));
out:
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		free(vals[i]);
	free(tmpl);
	free(path);
	return ret;
}

#if HAVE_LIBVIRT

static int lv_start(struct hv *hv, const struct hv_config *cfg, struct hv_ref *ref)
{
	struct lv *l = hv->priv;
	virDomainPtr dom = NULL;
	char *xml = NULL;
	int ret;

	if ((ret = lv_connect(l)))
		return ret;
	if ((ret = hv_libvirt_domain_xml(hv->ctx, cfg, l->test, &xml)))
		return ret;
	if (cfg->verbose)
		fprintf(hv->ctx->out, "libvirt %s domain:\n%s", l->uri, xml);
	dom = cap_libvirt.virDomainDefineXML(l->conn, xml);
	if (!dom) {
		ret = lv_fail("cannot define the domain");
		goto out;
	}
	if (cap_libvirt.virDomainCreate(dom) < 0) {
		ret = lv_fail("cannot start the domain");
		cap_libvirt.virDomainUndefine(dom);
		goto out;
	}
	cap_libvirt.virDomainGetUUIDString(dom, l->uuid);
	ref->uuid = l->uuid;
	ref->pid = 0;
	ref->pid_start = 0;
out:
	if (dom)
		cap_libvirt.virDomainFree(dom);
	free(xml);
	return ret;
}

static int lookup(struct lv *l, const struct hv_ref *ref, virDomainPtr *dom)
{
	int ret;

	*dom = NULL;
	if ((ret = lv_connect(l)))
		return ret;
	if (ref->uuid)
		*dom = cap_libvirt.virDomainLookupByUUIDString(l->conn, ref->uuid);
	if (!*dom) {
		char *n = xasprintf("capstan-%s", ref->name);
		*dom = cap_libvirt.virDomainLookupByName(l->conn, n);
		free(n);
	}
	return 0;
}

static bool dom_active(virDomainPtr dom)
{
	return cap_libvirt.virDomainIsActive(dom) == 1;
}

static int lv_stop(struct hv *hv, const struct hv_ref *ref, int timeout_ms, bool *forced)
{
	struct lv *l = hv->priv;
	struct timespec nap = {0, 20 * 1000 * 1000};
	virDomainPtr dom;
	int ret;

	*forced = false;
	if ((ret = lookup(l, ref, &dom)) || !dom)
		return ret;
	if (dom_active(dom)) {
		/* ACPI power button; the test driver powers off at once. */
		if (cap_libvirt.virDomainShutdown(dom) == 0)
			for (int waited = 0; waited < timeout_ms && dom_active(dom); waited += 20)
				nanosleep(&nap, NULL);
		if (dom_active(dom)) {
			*forced = true;
			if (cap_libvirt.virDomainDestroy(dom) < 0 && dom_active(dom))
				ret = lv_fail("cannot destroy the domain");
		}
	}
	cap_libvirt.virDomainFree(dom);
	return ret;
}

static int status_line(const char *dir)
{
	char *path = xasprintf("%s/status", dir), *data = NULL;
	int st = -1;

	if (fs_read_all(path, &data, NULL) == 0) {
		for (char *line = data, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			int v;
			if (sscanf(line, "exit %d", &v) == 1 || sscanf(line, "fault %d", &v) == 1)
				st = v;
			else if (str_has_prefix(line, "panic"))
				st = 255;
		}
	}
	cap_errclear();
	free(data);
	free(path);
	return st;
}

static int lv_status(struct hv *hv, const struct hv_ref *ref, struct hv_status *st)
{
	struct lv *l = hv->priv;
	virDomainPtr dom;
	int ret, state = 0, reason = 0;

	st->exit_status = -1;
	if ((ret = lookup(l, ref, &dom)))
		return ret;
	if (!dom) {
		st->state = HV_CRASHED;
		return 0;
	}
	if (cap_libvirt.virDomainGetState(dom, &state, &reason, 0) < 0) {
		ret = lv_fail("cannot get the domain state");
		goto out;
	}
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
	case VIR_DOMAIN_SHUTDOWN:
		st->state = HV_RUNNING;
		break;
	case VIR_DOMAIN_SHUTOFF:
		if (reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN) {
			st->state = HV_EXITED;
			st->exit_status = l->local ? status_line(ref->dir) : -1;
		} else if (reason == VIR_DOMAIN_SHUTOFF_DESTROYED) {
			st->state = HV_STOPPED;
		} else {
			st->state = HV_CRASHED;
		}
		break;
	default:
		st->state = HV_CRASHED;
	}
out:
	cap_libvirt.virDomainFree(dom);
	return ret;
}

struct alive_arg {
	struct lv *l;
	const struct hv_ref *ref;
};

static bool alive(void *arg)
{
	struct alive_arg *a = arg;
	virDomainPtr dom;
	bool on = false;

	if (lookup(a->l, a->ref, &dom) == 0 && dom) {
		on = dom_active(dom);
		cap_libvirt.virDomainFree(dom);
	}
	return on;
}

static int lv_console(struct hv *hv, const struct hv_ref *ref, struct hv_status *st)
{
	struct alive_arg a = {hv->priv, ref};
	char *path = hv_console_path(ref->dir);
	int ret;

	fflush(hv->ctx->out);
	ret = hv_console_follow(path, fileno(hv->ctx->out), true, alive, &a);
	free(path);
	if (ret)
		return ret;
	return lv_status(hv, ref, st);
}

static int lv_release(struct hv *hv, const struct hv_ref *ref)
{
	struct lv *l = hv->priv;
	virDomainPtr dom;
	int ret;

	if ((ret = lookup(l, ref, &dom)) || !dom)
		return ret;
	if (dom_active(dom))
		cap_libvirt.virDomainDestroy(dom);
	if (cap_libvirt.virDomainUndefine(dom) < 0)
		ret = lv_fail("cannot undefine the domain");
	cap_libvirt.virDomainFree(dom);
	return ret;
}

static void lv_free(struct hv *hv)
{
	struct lv *l = hv->priv;

	if (l->conn)
		cap_libvirt.virConnectClose(l->conn);
	free(l->uri);
	free(l);
	free(hv);
}

static const struct hv_ops libvirt_ops = {
    .name = "libvirt",
    .probe = lv_probe,
    .start = lv_start,
    .stop = lv_stop,
    .status = lv_status,
    .console = lv_console,
    .release = lv_release,
    .free = lv_free,
};

int hv_libvirt_new(const struct cap_ctx *ctx, const char *uri, struct hv **out)
{
	struct hv *hv = xcalloc(1, sizeof(*hv));
	struct lv *l = xcalloc(1, sizeof(*l));

	l->uri = xstrdup(uri ? uri : HV_LIBVIRT_DEFAULT_URI);
	hv->ops = &libvirt_ops;
	hv->ctx = ctx;
	hv->priv = l;
	*out = hv;
	return 0;
}

#else

int hv_libvirt_new(const struct cap_ctx *ctx, const char *uri, struct hv **out)
{
	return cap_errf(CAP_E_UNAVAIL,
			"this capstan was built without libvirt (meson -Dlibvirt=enabled)");
}

#endif
