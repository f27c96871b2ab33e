// SPDX-License-Identifier: BSD-3-Clause
// Instances: the run sequence (row, folder, overlay, kernel, backend), reconcile, stop, delete,
// logs.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/image.h"
#include "capstan/inst.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
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
	int ret = fs_mkdirs(ctx->root, 0755);

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
 * The kernel of an image, extracted once into cache/kernels/k-<crc32>-<size>;
 * cache/kernels/img-<hash of path, inode, size, mtime> remembers which one an
 * image file holds, so a repeated run reads nothing from the image.
 */
static int kernel_of(const struct cap_ctx *ctx, const char *image, char **out)
{
	struct cap_img_header h;
	struct stat st;
	char *dir = cap_path(ctx, "cache/kernels"), *idx = NULL, *kpath = NULL, *data = NULL;
	void *kbuf = NULL;
	int ret;

	if (stat(image, &st) < 0) {
		ret = cap_errf(errno, "cannot stat '%s': %s", image, strerror(errno));
		goto out;
	}
	char key[1024];
	int kl = snprintf(key, sizeof(key), "%s|%llu|%llu|%lld|%lld.%09ld", image,
			  (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			  (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	uLong hash = crc32(0, (const Bytef *)key, (uInt)kl);
	uLong hash2 = adler32(1, (const Bytef *)key, (uInt)kl);
	idx = xasprintf("%s/img-%08lx%08lx", dir, hash, hash2);
	if (fs_read_all(idx, &data, NULL) == 0 && data[0] && !strchr(data, '/')) {
		kpath = xasprintf("%s/%s", dir, data);
		if (fs_exists(kpath)) {
			*out = kpath;
			kpath = NULL;
			ret = 0;
			goto out;
		}
	}
	cap_errclear();
	if ((ret = image_read(image, CAP_IMG_HEADER_OFFSET, &h, sizeof(h))))
		goto out;
	uint32_t want = h.header_crc32;
	h.header_crc32 = 0;
	if (memcmp(h.magic, CAP_IMG_MAGIC, 8) != 0) {
		ret = cap_errf(CAP_E_DATA,
			       "%s: not a capstan image (no header at %u); try --boot disk", image,
			       CAP_IMG_HEADER_OFFSET);
		goto out;
	}
	if (le32(&h.version) != CAP_IMG_VERSION || crc32(0, (const Bytef *)&h, sizeof(h)) != want ||
	    h.kernel_size == 0 || h.kernel_size > (64u << 20)) {
		ret = cap_errf(CAP_E_DATA, "%s: the image header is damaged or of another version",
			       image);
		goto out;
	}
	kbuf = xmalloc((size_t)h.kernel_size + 512);
	if ((ret = image_read(image, h.kernel_offset, kbuf, (size_t)h.kernel_size)))
		goto out;
	if (crc32(0, kbuf, (uInt)h.kernel_size) != h.kernel_crc32) {
		ret = cap_errf(CAP_E_DATA, "%s: the kernel does not match its checksum", image);
		goto out;
	}
	char kname[64];
	snprintf(kname, sizeof(kname), "k-%08x-%llu", h.kernel_crc32,
		 (unsigned long long)h.kernel_size);
	kpath = xasprintf("%s/%s", dir, kname);
	if ((ret = fs_mkdirs(dir, 0755)))
		goto out;
	if (!fs_exists(kpath) && (ret = fs_write_atomic(kpath, kbuf, (size_t)h.kernel_size, 0644)))
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

/* ---- run ---- */

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

static enum hv_state ended_state(const struct hv_status *st)
{
	return st->state;
}

static const char *db_state(enum hv_state s)
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
	if (!strcmp(i.state, DB_RUNNING) || !strcmp(i.state, DB_STOPPING) ||
	    !strcmp(i.state, DB_CREATED)) {
		ret = cap_errf(CAP_E_EXISTS,
			       "instance '%s' is %s (see 'capstan stop %s' or use --name)", name,
			       i.state, name);
		goto out;
	}
	cap_verbose(ctx, "Replacing ended instance '%s'", name);
	ret = inst_delete(ctx, name, 0);
out:
	db_instance_release(&i);
	return ret;
}

int inst_run(struct cap_ctx *ctx, const struct inst_opts *o, int *exit_status, char **name_out)
{
	struct repo_image img = {0};
	struct hv_config cfg = {0};
	struct hv_ref ref = {0};
	struct hv_status st = {0};
	struct db_instance row = {0};
	struct hv *hv = NULL;
	struct db *db = NULL;
	char *name = NULL, *dir = NULL, *disk = NULL, *kernel = NULL, *ports = NULL;
	const char *format;
	bool claimed = false, keep = false;
	int ret;

	*exit_status = 0;
	name = o->name ? xstrdup(o->name) : inst_default_name(o->image);
	if ((ret = inst_name_valid(name)))
		goto out;
	if ((ret = repo_find(ctx, o->image, "qemu", &img))) {
		if (ret != -CAP_E_NOTFOUND)
			goto out;
		cap_errclear();
		if (repo_find(ctx, o->image, "raw", &img)) {
			/* Not here: pull it from the registry, as 'docker run' does. */
			cap_errclear();
			if ((ret = reg_ensure(ctx, o->image, "qemu"))) {
				if (ret == -CAP_E_NOTFOUND)
					ret =
					    cap_errf(CAP_E_NOTFOUND,
						     "image '%s' is not in the local repository "
						     "nor in the registry %s"
						     " (see 'capstan images' and 'capstan search')",
						     o->image, ctx->repo_url);
				goto out;
			}
			if ((ret = repo_find(ctx, o->image, "qemu", &img)))
				goto out;
		}
	}
	format = !strcmp(img.platform, "raw") ? "raw" : "qcow2";
	for (size_t i = 0; i < o->nports; i++)
		if ((ret = hv_port_check_free(&o->ports[i])))
			goto out;
	if (o->nports && o->net != HV_NET_NAT) {
		ret = cap_errf(CAP_E_USAGE, "port forwards (-f) need -n nat");
		goto out;
	}
	if ((ret = hv_open(ctx, o->backend, o->connect, &hv)))
		goto out;

	cfg.name = name;
	cfg.image = o->image;
	cfg.memory = o->memory;
	cfg.cpus = o->cpus;
	cfg.cmdline = o->cmdline;
	cfg.boot = o->boot;
	cfg.accel = o->accel;
	cfg.net = o->net;
	cfg.netdev = o->netdev;
	cfg.ports = o->ports;
	cfg.nports = o->nports;
	cfg.foreground = !o->detach;
	cfg.timeout = o->timeout;
	cfg.verbose = o->verbose;
	cfg.disk_format = "qcow2";
	/* Direct boot needs the kernel before probe() checks the config. */
	if (o->boot == HV_BOOT_DIRECT && (ret = kernel_of(ctx, img.path, &kernel)))
		goto out;
	cfg.kernel = kernel;
	if ((ret = hv->ops->probe(hv, &cfg)))
		goto out;

	/*
	 * An ended instance of the same name is replaced, as Capstan relaunches
	 * it (its disk holds nothing: the kernel keeps writes in RAM); a live
	 * one is an error.
	 */
	if ((ret = replace_ended(ctx, name)))
		goto out;
	/* Claim the name: from here on a failure removes the row and the folder. */
	if ((ret = open_db(ctx, &db)))
		goto out;
	ports = ports_str(o->ports, o->nports);
	row.name = name;
	row.image = img.name;
	row.backend = (char *)hv->ops->name;
	row.platform = "qemu";
	row.boot = (char *)hv_boot_name(o->boot);
	row.accel = (char *)hv_accel_name(cfg.accel);
	row.net = (char *)hv_net_name(o->net);
	row.ports = ports;
	row.connect = (char *)(o->backend && !strcmp(o->backend, "libvirt")
				   ? (o->connect ? o->connect : "qemu:///session")
				   : NULL);
	row.memory = o->memory;
	row.cpus = o->cpus;
	row.exit_status = -1;
	row.state = DB_CREATED;
	if ((ret = db_insert(db, &row)))
		goto out;
	claimed = true;

	dir = inst_dir(ctx, "qemu", name);
	/* A folder without a row is a leftover of a killed run: ours now. */
	if ((ret = fs_rm_rf(dir)) || (ret = fs_mkdirs(dir, 0700)))
		goto out;
	chmod(dir, 0700);
	disk = xasprintf("%s/disk.qcow2", dir);
	if ((ret = make_overlay(img.path, format, disk)))
		goto out;
	cfg.dir = dir;
	cfg.disk = disk;
	ref.name = name;
	ref.dir = dir;

	if (!o->detach)
		cap_info(ctx, "Created instance: %s", name);
	if ((ret = hv->ops->start(hv, &cfg, &ref)))
		goto out;
	keep = true;
	if ((ret = db_set_running(db, name, ref.pid, ref.pid_start, ref.uuid, db_now_ms())))
		goto out;
	if (o->detach) {
		fprintf(ctx->out, "%s\n", name);
		fflush(ctx->out);
		goto out;
	}
	if (o->started)
		o->started(o->started_arg, ref.pid);
	if ((ret = hv->ops->console(hv, &ref, &st)))
		goto out;
	enum hv_state s = ended_state(&st);
	if (o->interrupted && *o->interrupted)
		s = HV_STOPPED;
	db_set_ended(db, name, db_state(s), st.exit_status, db_now_ms());
	if (st.state == HV_CRASHED) {
		ret = cap_errf(
		    CAP_E_UNAVAIL,
		    "the VM of '%s' ended abnormally (QEMU status %d); see 'capstan logs %s'", name,
		    st.exit_status, name);
		goto out;
	}
	if (st.timed_out)
		*exit_status = 124; /* --timeout struck, as timeout(1) says */
	else
		*exit_status = st.exit_status < 0 ? 0 : st.exit_status;
	if (o->rm) {
		hv->ops->release(hv, &ref);
		if (fs_rm_rf(dir) == 0)
			db_delete(db, name);
	}
out:
	if (ret && claimed && !keep) {
		int saved = ret;
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", cap_errmsg(ret));
		if (dir)
			fs_rm_rf(dir);
		db_delete(db, name);
		cap_errf(saved, "%s", msg);
	}
	if (!ret && name_out) {
		*name_out = name;
		name = NULL;
	}
	free(ports);
	free(kernel);
	free(disk);
	free(dir);
	free(name);
	db_close(db);
	hv_free(hv);
	repo_image_release(&img);
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

/* Ask the backend how a running row is really doing; record an end it finds. */
static int reconcile(struct cap_ctx *ctx, struct db *db, struct db_instance *i)
{
	struct hv *hv = NULL;
	struct hv_ref ref = {0};
	struct hv_status st = {0};
	char *dir = NULL;
	int ret;

	if (!strcmp(i->state, DB_CREATED)) {
		if (db_now_ms() - i->created > CREATED_STALE_MS &&
		    db_set_ended(db, i->name, DB_CRASHED, -1, db_now_ms()) > 0) {
			free(i->state);
			i->state = xstrdup(DB_CRASHED);
		}
		return 0;
	}
	if (strcmp(i->state, DB_RUNNING) && strcmp(i->state, DB_STOPPING))
		return 0;
	if ((ret = hv_open(ctx, i->backend, i->connect, &hv)))
		return ret;
	ref_of(ctx, i, &ref, &dir);
	ret = hv->ops->status(hv, &ref, &st);
	if (!ret && st.state != HV_RUNNING) {
		int64_t now = db_now_ms();
		const char *s = !strcmp(i->state, DB_STOPPING) ? DB_STOPPED : db_state(st.state);
		if (db_set_ended(db, i->name, s, st.exit_status, now) > 0) {
			free(i->state);
			i->state = xstrdup(s);
			i->exit_status = st.exit_status;
			i->stopped = now;
		}
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
	if ((ret = db_list(db, all, v, n)))
		goto out;
	for (size_t i = 0; i < *n; i++) {
		if (reconcile(ctx, db, &(*v)[i]))
			cap_warn(ctx, "%s: %s", (*v)[i].name, cap_errmsg(-EIO));
	}
	if (!all) {
		/* Drop rows the reconcile found ended. */
		size_t k = 0;
		for (size_t i = 0; i < *n; i++) {
			if (!strcmp((*v)[i].state, DB_RUNNING) ||
			    !strcmp((*v)[i].state, DB_CREATED) ||
			    !strcmp((*v)[i].state, DB_STOPPING))
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
	if (!strcmp(i->state, DB_EXITED) && i->exit_status >= 0)
		snprintf(buf, len, "exited (%d)", i->exit_status);
	else
		snprintf(buf, len, "%s", i->state);
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

int inst_stop(struct cap_ctx *ctx, const char *name, int timeout_ms, bool *was_running,
	      bool *forced)
{
	struct db *db = NULL;
	struct db_instance i = {0};
	struct hv *hv = NULL;
	struct hv_ref ref = {0};
	struct hv_status st = {0};
	char *dir = NULL;
	int ret;

	*was_running = *forced = false;
	if ((ret = open_db(ctx, &db)))
		return ret;
	if ((ret = get_reconciled(ctx, db, name, &i)))
		goto out;
	if (strcmp(i.state, DB_RUNNING) && strcmp(i.state, DB_STOPPING))
		goto out;
	*was_running = true;
	if ((ret = hv_open(ctx, i.backend, i.connect, &hv)))
		goto out;
	ref_of(ctx, &i, &ref, &dir);
	/* Whoever sees the VM go from now on records it as stopped, not exited. */
	if ((ret = db_set_stopping(db, name, true)) < 0)
		goto out;
	if ((ret = hv->ops->stop(hv, &ref, timeout_ms, forced)) ||
	    (hv->ops->status(hv, &ref, &st) == 0 && st.state == HV_RUNNING)) {
		int saved =
		    ret ? ret : cap_errf(CAP_E_UNAVAIL, "instance '%s' is still running", name);
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", cap_errmsg(saved));
		db_set_stopping(db, name, false);
		ret = cap_errf(saved, "%s", msg);
		goto out;
	}
	db_set_ended(db, name, DB_STOPPED, st.exit_status, db_now_ms());
out:
	free(dir);
	hv_free(hv);
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
	bool was, forced;
	int ret;

	if ((ret = inst_stop(ctx, name, timeout_ms, &was, &forced)))
		return ret;
	if ((ret = open_db(ctx, &db)))
		return ret;
	if ((ret = db_get(db, name, &i)))
		goto out;
	if ((ret = hv_open(ctx, i.backend, i.connect, &hv)))
		goto out;
	ref_of(ctx, &i, &ref, &dir);
	if ((ret = hv->ops->release(hv, &ref)))
		goto out;
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
		on = !strcmp(i.state, DB_RUNNING) || !strcmp(i.state, DB_CREATED) ||
		     !strcmp(i.state, DB_STOPPING);
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
