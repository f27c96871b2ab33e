// SPDX-License-Identifier: BSD-3-Clause
// Instances: the run sequence (row, folder, overlay, kernel, backend), reconcile, stop, delete,
// logs.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/image.h"
#include "capstan/inst.h"
#include "capstan/probe.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "capstan/sha256.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/* A row still "created" this long after its creation lost its creator. */
#define CREATED_STALE_MS 120000

char *inst_default_name(const char *image)
{
	char *n = xstrdup(image);

	for (char *p = n; *p; p++)
		if (*p == '/')
			*p = '-';
	return n;
}

int inst_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return cap_errf(CAP_E_USAGE, "instance name '%s': must be 1 to 64 characters",
				name);
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return cap_errf(CAP_E_USAGE,
				"instance name '%s': must start with a letter or digit", name);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return cap_errf(
			    CAP_E_USAGE,
			    "instance name '%s': '%c' is not allowed (letters, digits, . _ -)",
			    name, c);
	}
	return 0;
}

static int open_db(const struct cap_ctx *ctx, struct db **db)
{
	char *path = cap_path(ctx, "capstan.db");
	int ret = cap_mkdirs(ctx, ctx->root, 0755);

	if (!ret)
		ret = db_open(path, db);
	free(path);
	return ret;
}

static char *inst_dir(const struct cap_ctx *ctx, const char *platform, const char *name)
{
	return cap_path(ctx, "instances/%s/%s", platform, name);
}

/* ---- reading the image ---- */

/* Read len bytes at off of an image (qcow2 or raw, through the disk backends). */
static int image_read(const char *path, uint64_t off, void *buf, size_t len)
{
	struct disk *d = NULL;
	int ret = disk_open(&d, path, DISK_RDONLY);

	if (ret)
		return ret;
	if (off > disk_size(d) || len > disk_size(d) - off)
		ret = cap_errf(CAP_E_DATA, "%s: the image is shorter than its header says", path);
	else
		ret = disk_read(d, buf, len, off);
	disk_close(d);
	return ret;
}

static uint32_t le32(const void *p)
{
	const unsigned char *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/*
 * The kernel of an image, extracted once into cache/kernels/k-<sha256 of its
 * bytes>: an image can only ever reach the kernel its own bytes hash to, so a
 * hostile image cannot plant a kernel that another image then boots.
 * cache/kernels/img-<sha256 of path, inode, size, mtime> remembers which one
 * an image file holds, so a repeated run reads nothing from the image.
 */
static int kernel_extract(const char *image, const char *label, void **kbuf, size_t *klen)
{
	struct cap_img_header h;
	int ret;

	if ((ret = image_read(image, CAP_IMG_HEADER_OFFSET, &h, sizeof(h))))
		return cap_errctx(ret, "image '%s'", label);
	uint32_t want = h.header_crc32;
	h.header_crc32 = 0;
	if (memcmp(h.magic, CAP_IMG_MAGIC, 8) != 0)
		return cap_errf(
		    CAP_E_DATA,
		    "image '%s': not a capstan image (no header at %u); try --boot disk", label,
		    CAP_IMG_HEADER_OFFSET);
	if (le32(&h.version) != CAP_IMG_VERSION || crc32(0, (const Bytef *)&h, sizeof(h)) != want ||
	    h.kernel_size == 0 || h.kernel_size > (64u << 20))
		return cap_errf(CAP_E_DATA,
				"image '%s': the image header is damaged or of another version",
				label);
	*kbuf = xmalloc((size_t)h.kernel_size + 512);
	*klen = (size_t)h.kernel_size;
	if ((ret = image_read(image, h.kernel_offset, *kbuf, *klen)))
		return cap_errctx(ret, "image '%s'", label);
	if (crc32(0, *kbuf, (uInt)h.kernel_size) != h.kernel_crc32)
		return cap_errf(CAP_E_DATA, "image '%s': the kernel does not match its checksum",
				label);
	return 0;
}

static bool kernel_name_valid(const char *s)
{
	return str_has_prefix(s, "k-") && sha256_hex_valid(s + 2);
}

static int kernel_of(const struct cap_ctx *ctx, const char *image, const char *label, char **out)
{
	struct stat st;
	char *dir = cap_path(ctx, "cache/kernels"), *idx = NULL, *kpath = NULL, *data = NULL;
	char key[PATH_MAX + 128], hex[SHA256_HEX_LEN + 1], kname[SHA256_HEX_LEN + 3];
	void *kbuf = NULL;
	size_t klen = 0;
	int ret;

	if (stat(image, &st) < 0) {
		ret = cap_errnof(errno, "cannot stat '%s'", image);
		goto out;
	}
	int kl = snprintf(key, sizeof(key), "%s|%llu|%llu|%lld|%lld.%09ld", image,
			  (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			  (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	sha256_hex(key, (size_t)kl < sizeof(key) ? (size_t)kl : sizeof(key) - 1, hex);
	idx = xasprintf("%s/img-%s", dir, hex);
	if (fs_read_all(idx, &data, NULL) == 0 && kernel_name_valid(data)) {
		kpath = xasprintf("%s/%s", dir, data);
		if (fs_exists(kpath)) {
			*out = kpath;
			kpath = NULL;
			ret = 0;
			goto out;
		}
	}
	cap_errclear();
	if ((ret = kernel_extract(image, label, &kbuf, &klen)))
		goto out;
	sha256_hex(kbuf, klen, hex);
	snprintf(kname, sizeof(kname), "k-%s", hex);
	kpath = xasprintf("%s/%s", dir, kname);
	if ((ret = fs_mkdirs(dir, 0755)))
		goto out;
	/* Written whole under a temp name, then renamed: never half a kernel. */
	if (!fs_exists(kpath) && (ret = fs_write_atomic(kpath, kbuf, klen, 0644)))
		goto out;
	if ((ret = fs_write_atomic(idx, kname, strlen(kname), 0644)))
		goto out;
	*out = kpath;
	kpath = NULL;
out:
	free(kbuf);
	free(data);
	free(kpath);
	free(idx);
	free(dir);
	return ret;
}

/* The copy-on-write overlay: O(1) whatever the image's size. */
static int make_overlay(const char *image, const char *format, const char *disk)
{
	struct disk_qcow2_opts opts = {.backing = image, .backing_format = format};
	struct disk *d = NULL;
	int ret = disk_qcow2_create(&d, disk, 0, &opts);

	if (!ret)
		ret = disk_commit(d);
	disk_close(d);
	if (ret)
		ret = cap_errctx(ret, "cannot create the overlay '%s'", disk);
	return ret;
}

/* Write cmdline where the image keeps its own (byte 512, NUL-terminated). */
static int set_disk_cmdline(const char *disk, const char *cmdline)
{
	size_t n = strlen(cmdline) + 1;
	struct disk *d = NULL;
	int ret;

	if (n > CAP_IMG_CMDLINE_MAX)
		return cap_errf(CAP_E_USAGE, "the command line is %zu bytes; --boot disk holds %u",
				n - 1, CAP_IMG_CMDLINE_MAX - 1);
	if ((ret = disk_qcow2_open(&d, disk, DISK_RDWR)))
		return ret;
	ret = disk_write(d, cmdline, n, CAP_IMG_CMDLINE_OFFSET);
	if (!ret)
		ret = disk_commit(d);
	disk_close(d);
	return ret ? cap_errctx(ret, "cannot write the command line into '%s'", disk) : 0;
}

/* ---- run, in stages ---- */

static char *ports_str(const struct hv_port *p, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[48];

	sb_add(&sb, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&sb, ',');
		sb_adds(&sb, hv_port_format(&p[i], buf, sizeof(buf)));
	}
	return sb_detach(&sb);
}

static enum db_state db_state_of(enum hv_state s)
{
	switch (s) {
	case HV_RUNNING:
		return DB_RUNNING;
	case HV_EXITED:
		return DB_EXITED;
	case HV_STOPPED:
		return DB_STOPPED;
	case HV_CRASHED:
		break;
	}
	return DB_CRASHED;
}

static int get_reconciled(struct cap_ctx *ctx, struct db *db, const char *name,
			  struct db_instance *i);

static int replace_ended(struct cap_ctx *ctx, const char *name)
{
	struct db *db = NULL;
	struct db_instance i = {0};
	int ret;

	if ((ret = open_db(ctx, &db)))
		return ret;
	ret = get_reconciled(ctx, db, name, &i);
	db_close(db);
	if (ret == -CAP_E_NOTFOUND) {
		cap_errclear();
		return 0;
	}
	if (ret)
		goto out;
	if (db_state_live(i.state)) {
		ret = cap_errf(CAP_E_EXISTS,
			       "instance '%s' is %s (see 'capstan stop %s' or use --name)", name,
			       db_state_name(i.state), name);
		goto out;
	}
	cap_verbose(ctx, "Replacing ended instance '%s'", name);
	ret = inst_delete(ctx, name, 0);
out:
	db_instance_release(&i);
	return ret;
}

/*
 * One run: what each stage made, so the rollback undoes exactly the stages
 * that ran, in reverse.
 */
struct run {
	struct cap_ctx *ctx;
	const struct inst_opts *o;
	char *name;
	struct repo_image img;
	const char *format; /* of the repository image: "qcow2" or "raw" */
	struct hv *hv;
	struct hv_config cfg;
	struct hv_ref ref;
	struct db *db;
	char *dir, *disk, *kernel, *ports;
	char *cmdline; /* what the kernel gets: --env options and -e, or NULL for the image's */
	/* Relaunching an ended instance: its row, and the options it gives. */
	struct db_instance old;
	struct inst_opts again;
	struct hv_port *old_ports;
	/* Stages done, in order; the rollback walks back from the last. */
	bool claimed;  /* the row exists (state created) */
	bool prepared; /* the folder and overlay exist */
	bool started;  /* the backend runs the VM */
	bool recorded; /* the row says running: from here the instance is kept */
};

/* Platforms we can find an image under though we cannot run it. */
static const char *const foreign_platforms[] = {"vbox", "vmw", "vmware", "gce"};

/* Not runnable here but present for another platform: say which. */
static int only_foreign(struct cap_ctx *ctx, const char *image)
{
	struct repo_image img = {0};

	for (size_t i = 0; i < sizeof(foreign_platforms) / sizeof(foreign_platforms[0]); i++) {
		if (repo_find(ctx, image, foreign_platforms[i], &img) == 0) {
			int ret = cap_errf(
			    CAP_E_DATA,
			    "image '%s' is in the local repository for %s only; capstan runs "
			    "qemu (qcow2) and raw images (import a qcow2 or raw disk)",
			    image, img.platform);
			repo_image_release(&img);
			return ret;
		}
		cap_errclear();
	}
	return 0;
}

/*
 * 'capstan run NAME' where NAME is no local image but an ended instance:
 * relaunch it as it was (image, memory, CPUs, boot, network, forwards,
 * backend), as Capstan does.  1 if so, 0 if NAME is no such instance.
 */
static int relaunch_of(struct run *r)
{
	const struct inst_opts *o = r->o;
	struct db *db = NULL;
	int ret;

	if (o->name || inst_name_valid(o->image) || open_db(r->ctx, &db)) {
		cap_errclear();
		return 0;
	}
	ret = db_get(db, o->image, &r->old);
	db_close(db);
	cap_errclear();
	if (ret)
		return 0;
	if (db_state_live(r->old.state))
		return cap_errf(CAP_E_EXISTS, "instance '%s' is %s (see 'capstan stop %s')",
				r->old.name, db_state_name(r->old.state), r->old.name);
	struct inst_opts *a = &r->again;
	*a = *o;
	a->image = r->old.image;
	a->name = r->old.name;
	a->memory = r->old.memory;
	a->cpus = r->old.cpus;
	a->backend = r->old.backend;
	a->connect = r->old.connect;
	if (hv_boot_parse(r->old.boot, &a->boot) || hv_net_parse(r->old.net, &a->net))
		return cap_errf(CAP_E_DATA, "instance '%s': its record cannot be relaunched",
				r->old.name);
	/* The forwards as recorded, "[ip:]host->guest/proto", comma-separated. */
	a->nports = 0;
	for (char *p = r->old.ports, *next; p && *p; p = next) {
		char spec[64], *arrow;
		next = strchr(p, ',');
		size_t n = next ? (size_t)(next - p) : strlen(p);
		next = next ? next + 1 : NULL;
		if (n >= sizeof(spec))
			return cap_errf(CAP_E_DATA, "instance '%s': bad forward record", a->name);
		memcpy(spec, p, n);
		spec[n] = '\0';
		if ((arrow = strstr(spec, "->")))
			memmove(arrow + 1, arrow + 2, strlen(arrow + 2) + 1), *arrow = ':';
		r->old_ports = xrealloc(r->old_ports, (a->nports + 1) * sizeof(*r->old_ports));
		if ((ret = hv_port_parse(spec, &r->old_ports[a->nports++])))
			return ret;
	}
	a->ports = r->old_ports;
	r->o = a;
	cap_verbose(r->ctx, "Relaunching instance '%s' of '%s'", a->name, a->image);
	return 1;
}

/* The image's own command line, from byte 512 of its disk. */
static int image_cmdline(const struct run *r, char **out)
{
	char *buf = xcalloc(1, CAP_IMG_CMDLINE_MAX + 1);
	int ret = image_read(r->img.path, CAP_IMG_CMDLINE_OFFSET, buf, CAP_IMG_CMDLINE_MAX);

	if (ret) {
		free(buf);
		return cap_errctx(ret, "image '%s'", r->o->image);
	}
	*out = buf;
	return 0;
}

/* The kernel's --env= word for NAME=VALUE, single-quoted as its command line reads it. */
static int add_env(struct strbuf *sb, const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv)
		return cap_errf(CAP_E_USAGE, "--env '%s': want NAME=VALUE", kv);
	for (const char *p = kv; p < eq; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (p > kv && *p >= '0' && *p <= '9')))
			return cap_errf(CAP_E_USAGE, "--env '%s': '%.*s' is not a variable name",
					kv, (int)(eq - kv), kv);
	sb_adds(sb, "--env='");
	for (const char *p = kv; *p; p++)
		if (*p == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_addc(sb, *p);
	sb_adds(sb, "' ");
	return 0;
}

/* -e and --env into the one command line the kernel gets; NULL keeps the image's. */
static int compose_cmdline(struct run *r)
{
	const struct inst_opts *o = r->o;
	struct strbuf sb = STRBUF_INIT;
	char *own = NULL;
	int ret = 0;

	if (!o->nenv) {
		r->cmdline = o->cmdline ? xstrdup(o->cmdline) : NULL;
		return 0;
	}
	for (size_t i = 0; i < o->nenv && !ret; i++)
		ret = add_env(&sb, o->env[i]);
	if (!ret && !o->cmdline)
		ret = image_cmdline(r, &own);
	if (ret) {
		sb_release(&sb);
		return ret;
	}
	sb_adds(&sb, o->cmdline ? o->cmdline : own);
	free(own);
	r->cmdline = sb_detach(&sb);
	return 0;
}

/* Stage 1: the image, pulled if missing, checked to stand alone; its kernel for direct boot. */
static int stage_resolve(struct run *r)
{
	const struct inst_opts *o = r->o;
	int ret;

	/* A bad --name is said before anything is pulled. */
	if (o->name && (ret = inst_name_valid(o->name)))
		return ret;
	if ((ret = repo_find(r->ctx, o->image, "qemu", &r->img)) != -CAP_E_NOTFOUND) {
		if (ret)
			return ret;
	} else if (cap_errclear(), repo_find(r->ctx, o->image, "raw", &r->img)) {
		cap_errclear();
		if ((ret = relaunch_of(r)))
			return ret < 0 ? ret : stage_resolve(r);
		if ((ret = only_foreign(r->ctx, o->image)))
			return ret;
		/* Not here: pull it from the registry, as 'docker run' does. */
		if ((ret = reg_ensure(r->ctx, o->image, "qemu"))) {
			if (ret == -CAP_E_NOTFOUND)
				ret = cap_errf(CAP_E_NOTFOUND,
					       "image '%s' is not in the local repository nor in "
					       "the registry %s (see 'capstan images' and 'capstan "
					       "search')",
					       o->image, r->ctx->repo_url);
			return ret;
		}
		if ((ret = repo_find(r->ctx, o->image, "qemu", &r->img)))
			return ret;
	}
	r->name = o->name ? xstrdup(o->name) : inst_default_name(o->image);
	if ((ret = inst_name_valid(r->name)))
		return ret;
	r->format = !strcmp(r->img.platform, "raw") ? "raw" : "qcow2";
	/* An image put in the repository by hand gets the check import and pull make. */
	if ((ret = probe_standalone(r->img.path, o->image)))
		return ret;
	if (o->boot == HV_BOOT_DIRECT &&
	    (ret = kernel_of(r->ctx, r->img.path, o->image, &r->kernel)))
		return ret;
	return compose_cmdline(r);
}

/* Stage 2: the backend, checked against the configuration before anything is claimed. */
static int stage_backend(struct run *r)
{
	const struct inst_opts *o = r->o;
	struct hv_config *c = &r->cfg;
	int ret;

	for (size_t i = 0; i < o->nports; i++)
		if ((ret = hv_port_check_free(&o->ports[i])))
			return ret;
	if (o->nports && o->net != HV_NET_NAT)
		return cap_errf(CAP_E_USAGE, "port forwards (-f) need -n nat");
	if ((ret = hv_open(r->ctx, o->backend, o->connect, &r->hv)))
		return ret;
	c->name = r->name;
	c->image = o->image;
	c->memory = o->memory;
	c->cpus = o->cpus;
	c->cmdline = r->cmdline;
	c->mac = o->mac;
	if (o->mac && (ret = hv_mac_check(o->mac)))
		return ret;
	c->boot = o->boot;
	c->accel = o->accel;
	c->net = o->net;
	c->netdev = o->netdev;
	c->ports = o->ports;
	c->nports = o->nports;
	c->foreground = !o->detach;
	c->timeout = o->timeout;
	c->verbose = o->verbose;
	c->disk_format = "qcow2";
	c->base = r->img.path;
	c->base_format = r->format;
	c->kernel = r->kernel;
	return r->hv->ops->probe(r->hv, c);
}

/* Stage 3: the name, as a row in state created. */
static int stage_claim(struct run *r)
{
	const struct inst_opts *o = r->o;
	struct db_instance row = {0};
	int ret;

	/*
	 * An ended instance of the same name is replaced, as Capstan relaunches
	 * it (its disk holds nothing: the kernel keeps writes in RAM); a live
	 * one is an error.
	 */
	if ((ret = replace_ended(r->ctx, r->name)))
		return ret;
	if ((ret = open_db(r->ctx, &r->db)))
		return ret;
	r->ports = ports_str(o->ports, o->nports);
	row.name = r->name;
	row.image = r->img.name;
	row.backend = (char *)r->hv->ops->name;
	row.platform = "qemu";
	row.boot = (char *)hv_boot_name(o->boot);
	row.accel = (char *)hv_accel_name(r->cfg.accel);
	row.net = (char *)hv_net_name(o->net);
	row.ports = r->ports;
	row.connect = (char *)(o->backend && !strcmp(o->backend, "libvirt")
				   ? (o->connect ? o->connect : HV_LIBVIRT_DEFAULT_URI)
				   : NULL);
	row.memory = o->memory;
	row.cpus = o->cpus;
	row.exit_status = -1;
	row.state = DB_CREATED;
	if ((ret = db_insert(r->db, &row)))
		return ret;
	r->claimed = true;
	return 0;
}

/* Stage 4: the instance folder and the overlay disk. */
static int stage_prepare(struct run *r)
{
	int64_t pid, start;
	int ret;

	r->dir = inst_dir(r->ctx, "qemu", r->name);
	/*
	 * A folder without a row is a leftover of a killed run, ours now -
	 * unless its QEMU still runs (a lost database): never pull a disk from
	 * under a live VM.
	 */
	if (hv_qemu_pid_of(r->dir, &pid, &start))
		return cap_errf(CAP_E_EXISTS,
				"instance folder '%s' belongs to a running QEMU (pid %lld); stop "
				"it with 'capstan stop %s' or use --name",
				r->dir, (long long)pid, r->name);
	if ((ret = fs_rm_rf(r->dir)) || (ret = fs_mkdirs(r->dir, 0700)))
		return ret;
	r->prepared = true;
	chmod(r->dir, 0700);
	r->disk = xasprintf("%s/disk.qcow2", r->dir);
	if ((ret = make_overlay(r->img.path, r->format, r->disk)))
		return cap_errctx(ret, "image '%s'", r->o->image);
	/* Disk boot reads the command line from the disk: the overlay carries ours. */
	if (r->o->boot == HV_BOOT_DISK && r->cmdline &&
	    (ret = set_disk_cmdline(r->disk, r->cmdline)))
		return ret;
	r->cfg.dir = r->dir;
	r->cfg.disk = r->disk;
	r->ref.name = r->name;
	r->ref.dir = r->dir;
	return 0;
}

/* Stage 5: the VM. */
static int stage_start(struct run *r)
{
	int ret;

	/* Ctrl-C during the pull or the preparation: no VM, no row, no folder. */
	if (r->ctx->interrupted)
		return cap_errf(CAP_E_INTR, "run of '%s' interrupted before the VM started",
				r->name);
	if (!r->o->detach)
		cap_info(r->ctx, "Created instance: %s", r->name);
	if ((ret = r->hv->ops->start(r->hv, &r->cfg, &r->ref)))
		return ret;
	r->started = true;
	return 0;
}

/* Stage 6: the row says running, with the pid (and its start time) or the domain. */
static int stage_record(struct run *r)
{
	int ret =
	    db_set_running(r->db, r->name, r->ref.pid, r->ref.pid_start, r->ref.uuid, db_now_ms());

	if (!ret)
		r->recorded = true;
	return ret;
}

/* Stage 7: detached, print the name; else stay with the VM until it ends. */
static int stage_attach(struct run *r, int *exit_status)
{
	const struct inst_opts *o = r->o;
	struct hv_status st = {0};
	int ret;

	if (o->detach) {
		fprintf(r->ctx->out, "%s\n", r->name);
		fflush(r->ctx->out);
		return 0;
	}
	if (o->started)
		o->started(o->started_arg, r->ref.pid);
	if ((ret = r->hv->ops->console(r->hv, &r->ref, &st)))
		return ret;
	enum hv_state s = st.state;
	if (r->ctx->interrupted)
		s = HV_STOPPED;
	int w = db_set_ended(r->db, r->name, db_state_of(s), st.exit_status, db_now_ms());
	if (w < 0)
		cap_warn(r->ctx, "%s", cap_errmsg(w));
	if (st.state == HV_CRASHED)
		return cap_errf(
		    CAP_E_UNAVAIL,
		    "the VM of '%s' ended abnormally (QEMU status %d); see 'capstan logs %s'",
		    r->name, st.exit_status, r->name);
	if (st.timed_out)
		*exit_status = 124; /* --timeout struck, as timeout(1) says */
	else
		*exit_status = st.exit_status < 0 ? 0 : st.exit_status;
	if (o->rm) {
		r->hv->ops->release(r->hv, &r->ref);
		if (fs_rm_rf(r->dir) == 0)
			db_delete(r->db, r->name);
	}
	return 0;
}

/* Undo the stages that ran and did not finish the instance, last first. */
static void rollback(struct run *r)
{
	bool forced;

	if (r->recorded)
		return;
	if (r->started) {
		r->hv->ops->stop(r->hv, &r->ref, 0, &forced);
		r->hv->ops->release(r->hv, &r->ref);
	}
	if (r->prepared)
		fs_rm_rf(r->dir);
	if (r->claimed)
		db_delete(r->db, r->name);
}

static void run_release(struct run *r)
{
	free(r->cmdline);
	free(r->old_ports);
	db_instance_release(&r->old);
	free(r->ports);
	free(r->kernel);
	free(r->disk);
	free(r->dir);
	free(r->name);
	db_close(r->db);
	hv_free(r->hv);
	repo_image_release(&r->img);
}

int inst_run(struct cap_ctx *ctx, const struct inst_opts *o, int *exit_status, char **name_out)
{
	struct run r = {.ctx = ctx, .o = o};
	int ret;

	*exit_status = 0;
	if (!(ret = stage_resolve(&r)) && !(ret = stage_backend(&r)) && !(ret = stage_claim(&r)) &&
	    !(ret = stage_prepare(&r)) && !(ret = stage_start(&r)) && !(ret = stage_record(&r)))
		ret = stage_attach(&r, exit_status);
	if (ret) {
		/* The rollback's own calls must not replace the message of what failed. */
		struct cap_errsaved saved;
		cap_errsave(&saved);
		rollback(&r);
		cap_errrestore(&saved);
	}
	if (!ret && name_out) {
		*name_out = r.name;
		r.name = NULL;
	}
	run_release(&r);
	return ret;
}

/* ---- list, stop, delete, logs ---- */

static void ref_of(const struct cap_ctx *ctx, const struct db_instance *i, struct hv_ref *ref,
		   char **dir)
{
	*dir = inst_dir(ctx, i->platform, i->name);
	ref->name = i->name;
	ref->dir = *dir;
	ref->pid = i->pid;
	ref->pid_start = i->pid_start;
	ref->uuid = i->uuid;
}

static void set_state(struct db_instance *i, enum db_state s, int exit_status, int64_t when)
{
	i->state = s;
	i->exit_status = exit_status;
	i->stopped = when;
}

/*
 * A row whose VM the backend finds running is running, whatever the row
 * says: a 'capstan run -d' killed between spawning QEMU and recording it
 * leaves "created" (later "crashed") over a live QEMU.
 */
static void adopt_live(struct db *db, struct db_instance *i, const struct hv_status *st)
{
	if (st->pid <= 0 || st->pid == i->pid)
		return;
	if (db_set_running(db, i->name, st->pid, st->pid_start, i->uuid, db_now_ms()) == 0) {
		i->state = DB_RUNNING;
		i->pid = st->pid;
		i->pid_start = st->pid_start;
	}
	cap_errclear();
}

/* Ask the backend how a row is really doing; record what it finds. */
static int reconcile(struct cap_ctx *ctx, struct db *db, struct db_instance *i)
{
	struct hv *hv = NULL;
	struct hv_ref ref = {0};
	struct hv_status st = {0};
	char *dir = NULL;
	int ret;

	if (i->state == DB_EXITED || i->state == DB_STOPPED)
		return 0;
	if ((ret = hv_open(ctx, i->backend, i->connect, &hv)))
		return ret;
	ref_of(ctx, i, &ref, &dir);
	/* A crashed row's recorded QEMU is gone: ask only about one it never recorded. */
	if (i->state == DB_CRASHED)
		ref.pid = ref.pid_start = 0;
	ret = hv->ops->status(hv, &ref, &st);
	int64_t now = db_now_ms();
	if (ret) {
		/* created or crashed: nothing the backend knows of; not an error */
		if (i->state == DB_CREATED || i->state == DB_CRASHED) {
			cap_errclear();
			ret = 0;
		}
	} else if (st.state == HV_RUNNING) {
		adopt_live(db, i, &st);
	} else if (i->state == DB_CREATED) {
		/* Not started yet, or its starter is gone: give it CREATED_STALE_MS. */
		if (now - i->created > CREATED_STALE_MS &&
		    db_set_ended(db, i->name, DB_CRASHED, -1, now) > 0)
			set_state(i, DB_CRASHED, -1, now);
	} else if (i->state != DB_CRASHED) {
		enum db_state s = i->state == DB_STOPPING ? DB_STOPPED : db_state_of(st.state);
		int w = db_set_ended(db, i->name, s, st.exit_status, now);
		if (w > 0)
			set_state(i, s, st.exit_status, now);
		else if (w < 0)
			ret = w;
	}
	free(dir);
	hv_free(hv);
	return ret;
}

int inst_list(struct cap_ctx *ctx, bool all, struct db_instance **v, size_t *n)
{
	struct db *db = NULL;
	int ret;

	if ((ret = open_db(ctx, &db)))
		return ret;
	/* Every row: a crashed one may turn out to be running. */
	if ((ret = db_list(db, true, v, n)))
		goto out;
	for (size_t i = 0; i < *n; i++) {
		int r = reconcile(ctx, db, &(*v)[i]);
		if (r)
			cap_warn(ctx, "%s: %s", (*v)[i].name, cap_errmsg(r));
	}
	if (!all) {
		/* Keep the live rows. */
		size_t k = 0;
		for (size_t i = 0; i < *n; i++) {
			if (db_state_live((*v)[i].state))
				(*v)[k++] = (*v)[i];
			else
				db_instance_release(&(*v)[i]);
		}
		*n = k;
	}
out:
	db_close(db);
	return ret;
}

const char *inst_state_str(const struct db_instance *i, char *buf, size_t len)
{
	if (i->state == DB_EXITED && i->exit_status >= 0)
		snprintf(buf, len, "exited (%d)", i->exit_status);
	else
		snprintf(buf, len, "%s", db_state_name(i->state));
	return buf;
}

static int get_reconciled(struct cap_ctx *ctx, struct db *db, const char *name,
			  struct db_instance *i)
{
	int ret = db_get(db, name, i);

	if (ret)
		return ret;
	return reconcile(ctx, db, i);
}

/* The instance's row, or, with the database lost, one made up from its folder. */
static int find_instance(struct cap_ctx *ctx, struct db *db, const char *name,
			 struct db_instance *i)
{
	int64_t pid, start;
	int ret = get_reconciled(ctx, db, name, i);

	if (ret != -CAP_E_NOTFOUND || inst_name_valid(name))
		return ret;
	char *dir = inst_dir(ctx, "qemu", name);
	bool live = hv_qemu_pid_of(dir, &pid, &start);
	free(dir);
	if (!live)
		return cap_errf(CAP_E_NOTFOUND,
				"no instance named '%s' (see 'capstan instances -a')", name);
	cap_errclear();
	memset(i, 0, sizeof(*i));
	i->name = xstrdup(name);
	i->backend = xstrdup("qemu");
	i->platform = xstrdup("qemu");
	i->state = DB_RUNNING;
	i->pid = pid;
	i->pid_start = start;
	i->exit_status = -1;
	return 0;
}

/*
 * Power off; the database only records it.  A full disk must not keep a VM
 * running: a record that cannot be written is a warning, and the next
 * reconcile finds the VM gone anyway.
 */
static int power_off(struct cap_ctx *ctx, struct db *db, struct db_instance *i, int timeout_ms,
		     bool *forced)
{
	struct hv *hv = NULL;
	struct hv_ref ref = {0};
	struct hv_status st = {0};
	char *dir = NULL;
	int ret;

	if ((ret = hv_open(ctx, i->backend, i->connect, &hv)))
		return ret;
	ref_of(ctx, i, &ref, &dir);
	/* Whoever sees the VM go from now on records it as stopped, not exited. */
	if ((ret = db_set_stopping(db, i->name, true)) < 0)
		cap_warn(ctx, "%s", cap_errmsg(ret));
	if ((ret = hv->ops->stop(hv, &ref, timeout_ms, forced)) ||
	    (hv->ops->status(hv, &ref, &st) == 0 && st.state == HV_RUNNING)) {
		struct cap_errsaved saved;
		ret =
		    ret ? ret : cap_errf(CAP_E_UNAVAIL, "instance '%s' is still running", i->name);
		cap_errsave(&saved);
		db_set_stopping(db, i->name, false);
		cap_errrestore(&saved);
		goto out;
	}
	if ((ret = db_set_ended(db, i->name, DB_STOPPED, st.exit_status, db_now_ms())) < 0)
		cap_warn(ctx, "instance '%s' is stopped, but %s", i->name, cap_errmsg(ret));
	cap_errclear();
	ret = 0;
out:
	free(dir);
	hv_free(hv);
	return ret;
}

int inst_stop(struct cap_ctx *ctx, const char *name, int timeout_ms, bool *was_running,
	      bool *forced)
{
	struct db *db = NULL;
	struct db_instance i = {0};
	int ret;

	*was_running = *forced = false;
	if ((ret = open_db(ctx, &db)))
		return ret;
	if ((ret = find_instance(ctx, db, name, &i)))
		goto out;
	/* Reconciled: a live VM is running or stopping, whatever the row said before. */
	if (i.state != DB_RUNNING && i.state != DB_STOPPING)
		goto out;
	*was_running = true;
	ret = power_off(ctx, db, &i, timeout_ms, forced);
out:
	db_instance_release(&i);
	db_close(db);
	return ret;
}

int inst_delete(struct cap_ctx *ctx, const char *name, int timeout_ms)
{
	struct db *db = NULL;
	struct db_instance i = {0};
	struct hv *hv = NULL;
	struct hv_ref ref = {0};
	char *dir = NULL;
	bool forced;
	int ret;

	if ((ret = open_db(ctx, &db)))
		return ret;
	if ((ret = find_instance(ctx, db, name, &i)))
		goto out;
	if ((i.state == DB_RUNNING || i.state == DB_STOPPING) &&
	    (ret = power_off(ctx, db, &i, timeout_ms, &forced)))
		goto out;
	if ((ret = hv_open(ctx, i.backend, i.connect, &hv)))
		goto out;
	ref_of(ctx, &i, &ref, &dir);
	if ((ret = hv->ops->release(hv, &ref)))
		goto out;
	/* The folder first: on a full disk it is what frees the space the row needs. */
	if ((ret = fs_rm_rf(dir)))
		goto out;
	ret = db_delete(db, name);
out:
	free(dir);
	hv_free(hv);
	db_instance_release(&i);
	db_close(db);
	return ret;
}

struct follow_arg {
	struct cap_ctx *ctx;
	const char *name;
};

static bool still_running(void *arg)
{
	struct follow_arg *a = arg;
	struct db *db = NULL;
	struct db_instance i = {0};
	bool on = false;

	if (open_db(a->ctx, &db) == 0 && get_reconciled(a->ctx, db, a->name, &i) == 0)
		on = db_state_live(i.state);
	db_instance_release(&i);
	db_close(db);
	return on;
}

int inst_logs(struct cap_ctx *ctx, const char *name, bool follow)
{
	struct db *db = NULL;
	struct db_instance i = {0};
	struct follow_arg a = {ctx, name};
	char *dir = NULL, *path = NULL;
	int ret;

	if ((ret = open_db(ctx, &db)))
		return ret;
	ret = db_get(db, name, &i);
	db_close(db);
	if (ret)
		return ret;
	dir = inst_dir(ctx, i.platform, i.name);
	path = hv_console_path(dir);
	fflush(ctx->out);
	ret = hv_console_follow(path, fileno(ctx->out), follow, still_running, &a);
	free(path);
	free(dir);
	db_instance_release(&i);
	return ret;
}

void inst_address(const struct cap_ctx *ctx, const struct db_instance *i, char *buf, size_t len)
{
	char *dir = inst_dir(ctx, i->platform, i->name);
	char *path = dir ? hv_console_path(dir) : NULL;
	FILE *f = path ? fopen(path, "re") : NULL;
	char line[256];
	size_t seen = 0;

	buf[0] = 0;
	while (f && seen < 65536 && fgets(line, sizeof(line), f)) {
		seen += strlen(line);
		if (strncmp(line, "eth0: ", 6))
			continue;
		char *a = line + 6;
		a[strcspn(a, "\r\n")] = 0;
		struct in_addr ia;
		if (strlen(a) < len && inet_pton(AF_INET, a, &ia) == 1)
			memcpy(buf, a, strlen(a) + 1);
	}
	if (f)
		fclose(f);
	free(path);
	free(dir);
}
