// SPDX-License-Identifier: BSD-3-Clause
// A scripted backend for unit tests: no process, no VM; hv_open() knows it once a test installs it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/hv.h"
#include "capstan/str.h"
#include "capstan/banned.h"

static struct hv_fake *installed;

void hv_fake_install(struct hv_fake *f)
{
	installed = f;
}

static int fake_probe(struct hv *hv, struct hv_config *cfg)
{
	struct hv_fake *f = hv->priv;

	if (cfg->accel == HV_ACCEL_AUTO)
		cfg->accel = HV_ACCEL_TCG;
	return f->fail_probe ? cap_errf(f->fail_probe, "fake: probe fails") : 0;
}

static int fake_start(struct hv *hv, const struct hv_config *cfg, struct hv_ref *ref)
{
	struct hv_fake *f = hv->priv;

	f->starts++;
	snprintf(f->cmdline, sizeof(f->cmdline), "%s", cfg->cmdline ? cfg->cmdline : "");
	if (f->fail_start)
		return cap_errf(f->fail_start, "fake: start fails");
	f->running = true;
	ref->pid = f->pid;
	ref->pid_start = f->pid ? 1 : 0;
	if (f->on_start)
		f->on_start(f);
	return 0;
}

static int fake_stop(struct hv *hv, const struct hv_ref *ref, int timeout_ms, bool *forced)
{
	struct hv_fake *f = hv->priv;

	*forced = false;
	f->stops++;
	if (f->fail_stop)
		return cap_errf(f->fail_stop, "fake: stop fails");
	if (f->running) {
		f->running = false;
		f->end_state = HV_STOPPED;
		f->exit_status = -1;
	}
	return 0;
}

static int fake_status(struct hv *hv, const struct hv_ref *ref, struct hv_status *st)
{
	struct hv_fake *f = hv->priv;

	memset(st, 0, sizeof(*st));
	st->state = f->running ? HV_RUNNING : f->end_state;
	st->exit_status = f->running ? -1 : f->exit_status;
	st->pid = f->running ? f->pid : 0;
	st->pid_start = st->pid ? 1 : 0;
	return 0;
}

/* The VM runs its course at once: it ends as the test scripted. */
static int fake_console(struct hv *hv, const struct hv_ref *ref, struct hv_status *st)
{
	struct hv_fake *f = hv->priv;

	f->running = false;
	return fake_status(hv, ref, st);
}

static int fake_release(struct hv *hv, const struct hv_ref *ref)
{
	struct hv_fake *f = hv->priv;

	f->releases++;
	return 0;
}

static void fake_free(struct hv *hv)
{
	free(hv);
}

static const struct hv_ops fake_ops = {
    .name = "fake",
    .probe = fake_probe,
    .start = fake_start,
    .stop = fake_stop,
    .status = fake_status,
    .console = fake_console,
    .release = fake_release,
    .free = fake_free,
};

int hv_fake_new(const struct cap_ctx *ctx, struct hv **out)
{
	struct hv *hv;

	if (!installed)
		return cap_errf(CAP_E_USAGE, "unknown backend 'fake' (qemu or libvirt)");
	hv = xcalloc(1, sizeof(*hv));
	hv->ops = &fake_ops;
	hv->ctx = ctx;
	hv->priv = installed;
	*out = hv;
	return 0;
}
