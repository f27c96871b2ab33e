// SPDX-License-Identifier: BSD-3-Clause
// capstan info: what an image file or a repository image is (format, sizes, qcow2 header).
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/json.h"
#include "capstan/layout.h"
#include "capstan/probe.h"
#include "capstan/repo.h"
#include "capstan/size.h"
#include "capstan/str.h"
#include "cmd.h"
#include "capstan/banned.h"

/*
 * The output is a list of fields built first and printed last, as text or
 * JSON, so more sources (the image's own header) can add fields.
 */
struct field {
	const char *key;   /* JSON key */
	const char *label; /* text label */
	char *text;	   /* NULL: unknown, shown as "-" / null */
	int is_num;
	int64_t num;
	uint64_t bytes; /* is_num == 2: a size shown as "1.0G (N bytes)" */
};

struct fields {
	struct field v[32];
	size_t n;
};

static void add_str(struct fields *f, const char *key, const char *label, const char *text)
{
	if (f->n == sizeof(f->v) / sizeof(f->v[0]))
		return;
	f->v[f->n++] = (struct field){key, label, text ? xstrdup(text) : NULL, 0, 0, 0};
}

static void add_num(struct fields *f, const char *key, const char *label, int64_t num)
{
	if (f->n == sizeof(f->v) / sizeof(f->v[0]))
		return;
	f->v[f->n++] = (struct field){key, label, xasprintf("%" PRId64, num), 1, num, 0};
}

static void add_size(struct fields *f, const char *key, const char *label, uint64_t bytes)
{
	char h[32];

	if (f->n == sizeof(f->v) / sizeof(f->v[0]))
		return;
	f->v[f->n++] = (struct field){
	    key,
	    label,
	    xasprintf("%s (%" PRIu64 " bytes)", fmt_size(bytes, h, sizeof(h)), bytes),
	    2,
	    (int64_t)bytes,
	    bytes};
}

static void fields_release(struct fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	f->n = 0;
}

static void add_probe_fields(struct fields *f, const struct probe_info *in)
{
	static const char *const crypt[] = {"none", "aes", "luks"};

	add_str(f, "format", "format", probe_format_name(in->format));
	if (in->format == PROBE_GZIP)
		add_str(f, "virtual_size", "virtual size", NULL);
	else
		add_size(f, "virtual_size", "virtual size", in->virtual_size);
	add_size(f, "file_size", "file size", in->file_size);
	if (in->format == PROBE_QCOW2) {
		add_num(f, "qcow2_version", "qcow2 version", in->qcow2_version);
		add_num(f, "cluster_size", "cluster size", (int64_t)1 << in->cluster_bits);
		add_str(f, "backing_file", "backing file", in->backing_file);
		if (in->backing_format)
			add_str(f, "backing_format", "backing format", in->backing_format);
		add_str(f, "compression", "compression", in->compression);
		add_str(f, "encryption", "encryption",
			crypt[in->crypt_method < 3 ? in->crypt_method : 0]);
		add_num(f, "refcount_bits", "refcount bits", in->refcount_bits);
		if (in->nb_snapshots)
			add_num(f, "snapshots", "snapshots", in->nb_snapshots);
		if (in->incompatible & QCOW2_INCOMPAT_DIRTY)
			add_str(f, "dirty", "dirty", "yes (not closed cleanly)");
	}
	if (in->format == PROBE_VMDK)
		add_str(f, "vmdk_type", "VMDK type",
			in->vmdk_descriptor
			    ? (in->vmdk_create_type ? in->vmdk_create_type : "descriptor")
			    : "monolithicSparse");
}

/* A capstan image (image.h) read through the disk backends: its header, and its files if asked. */
static int add_image_fields(struct fields *f, const char *path, bool files,
			    struct layout_image *img)
{
	struct cap_img_header h;
	struct disk *d = NULL;
	int ret = disk_open(&d, path, DISK_RDONLY);

	if (ret) /* a disk our backends cannot read (zstd, missing backing file) is no capstan image
		  */
		return files ? ret : 0;
	ret = layout_image_header(d, &h);
	if (ret == -CAP_E_DATA && str_has_prefix(cap_errmsg(ret), "not a capstan image")) {
		ret = 0; /* some other disk */
		goto out;
	}
	if (ret)
		goto out;
	add_str(f, "kernel_version", "kernel version", h.kernel_version);
	if (files) {
		if ((ret = layout_image_read(d, img)))
			goto out;
		add_str(f, "cmdline", "cmdline", img->cmdline);
	} else {
		char cmd[CAP_IMG_CMDLINE_MAX];
		if ((ret = disk_read(d, cmd, sizeof(cmd), CAP_IMG_CMDLINE_OFFSET)))
			goto out;
		cmd[sizeof(cmd) - 1] = '\0';
		add_str(f, "cmdline", "cmdline", cmd);
	}
	add_num(f, "rootfs_entries", "root fs entries", h.rootfs_entries);
	add_size(f, "rootfs_size", "root fs size", h.rootfs_size);
out:
	disk_close(d);
	return ret;
}

static void mode_string(uint32_t m, char *s)
{
	const char *rwx = "rwxrwxrwx";

	s[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISREG(m) ? '-' : '?';
	for (int i = 0; i < 9; i++)
		s[i + 1] = (m & (0400u >> i)) ? rwx[i] : '-';
	s[10] = '\0';
}

static void print_fields(struct cap_ctx *ctx, const struct fields *f,
			 const struct layout_image *img)
{
	size_t w = 0;

	if (ctx->json) {
		struct json j;
		json_init(&j, ctx->out);
		json_begin_obj(&j, NULL);
		for (size_t i = 0; i < f->n; i++) {
			if (f->v[i].is_num && f->v[i].text)
				json_int(&j, f->v[i].key, f->v[i].num);
			else
				json_str(&j, f->v[i].key, f->v[i].text);
		}
		if (img) {
			json_begin_arr(&j, "files");
			for (size_t i = 0; i < img->nfiles; i++) {
				char mode[16];
				snprintf(mode, sizeof(mode), "%o", img->files[i].mode);
				json_begin_obj(&j, NULL);
				json_str(&j, "path", img->files[i].path);
				json_str(&j, "mode", mode);
				json_int(&j, "size", (int64_t)img->files[i].size);
				if (img->files[i].target)
					json_str(&j, "target", img->files[i].target);
				json_end_obj(&j);
			}
			json_end_arr(&j);
		}
		json_end_obj(&j);
		json_finish(&j);
		return;
	}
	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->v[i].label) > w)
			w = strlen(f->v[i].label);
	for (size_t i = 0; i < f->n; i++)
		fprintf(ctx->out, "%s:%*s %s\n", f->v[i].label, (int)(w - strlen(f->v[i].label)),
			"", f->v[i].text ? f->v[i].text : "-");
	if (img) {
		fprintf(ctx->out, "files:\n");
		for (size_t i = 0; i < img->nfiles; i++) {
			const struct layout_file *e = &img->files[i];
			char mode[11];
			mode_string(e->mode, mode);
			fprintf(ctx->out, "  %s %10" PRIu64 " %s%s%s\n", mode, e->size, e->path,
				e->target ? " -> " : "", e->target ? e->target : "");
		}
	}
}

/* NAME in the repository: the platform asked for, else qemu, else the only one. */
static int find_image(struct cap_ctx *ctx, const char *name, const char *platform,
		      struct repo_image *out)
{
	struct repo_image *all = NULL;
	size_t n = 0, hits = 0, pick = 0;
	int ret;

	if (platform || (ret = repo_find(ctx, name, NULL, out)) != -CAP_E_NOTFOUND)
		return platform ? repo_find(ctx, name, platform, out) : ret;
	if ((ret = repo_list(ctx, &all, &n)))
		return ret;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].name, name))
			hits++, pick = i;
	if (hits == 1) {
		*out = all[pick];
		memset(&all[pick], 0, sizeof(all[pick]));
		ret = 0;
	} else if (hits > 1) {
		ret = cap_errf(CAP_E_USAGE, "image '%s' has several platforms: choose one with -p",
			       name);
	} else {
		ret = cap_errf(CAP_E_NOTFOUND, "no file or image named '%s'", name);
	}
	repo_images_free(all, n);
	return ret;
}

struct info_args {
	const char *platform;
	bool files;
};

static const struct cli_opt options[] = {
    CLI_OPT_FLAG(0, "files", struct info_args, files, "list the root fs of a capstan image"),
    CLI_OPT_STR(
	'p', "platform", "PLATFORM", struct info_args, platform,
	"which platform of a repository image (default:\nqemu, else the only one there is)"),
    CLI_OPT_GLOBAL("json", "print one JSON object"),
    CLI_OPT_END,
};

static int info(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct info_args *a = args;
	struct fields f = {.n = 0};
	struct probe_info in;
	struct repo_image img;
	struct layout_image limg;
	bool files = a->files;
	const char *platform = a->platform, *arg = argv[0], *path;
	struct stat st;
	int ret;

	memset(&in, 0, sizeof(in));
	memset(&img, 0, sizeof(img));
	memset(&limg, 0, sizeof(limg));
	path = arg;
	if (stat(arg, &st) < 0) {
		if (errno != ENOENT || !repo_name_valid(arg)) {
			ret = cap_errnof(errno, "cannot read '%s'", arg);
			goto out;
		}
		if ((ret = find_image(ctx, arg, platform, &img)))
			goto out;
		path = img.path;
		add_str(&f, "name", "name", img.name);
		add_str(&f, "platform", "platform", img.platform);
		add_str(&f, "version", "version", img.meta.version);
		add_str(&f, "created", "created", img.meta.created);
		add_str(&f, "description", "description", img.meta.description);
	}
	if ((ret = probe_file(path, &in)))
		goto out;
	add_str(&f, "file", "file", path);
	add_probe_fields(&f, &in);
	if ((in.format == PROBE_QCOW2 || in.format == PROBE_RAW) &&
	    (ret = add_image_fields(&f, path, files, &limg)))
		goto out;
	if (files && !limg.kernel) {
		ret = cap_errf(CAP_E_DATA, "'%s' is not a capstan image: it has no root fs to list",
			       path);
		goto out;
	}
	print_fields(ctx, &f, files ? &limg : NULL);
out:
	if (ret) {
		cap_errctx(ret, "info '%s'", arg);
		ret = cli_fail(ctx, ret);
	}
	fields_release(&f);
	probe_info_release(&in);
	repo_image_release(&img);
	layout_image_release(&limg);
	return ret;
}

const struct cmd_spec spec_info = {
    .fn = info,
    .options = options,
    .args_size = sizeof(struct info_args),
    .min_args = 1,
    .max_args = 1,
    .missing = "expected one FILE or NAME",
    .synopsis = "[-p PLATFORM] [--files] [--json] FILE|NAME",
    .about = "Describe a disk image: a file, or an image of the local repository when no\n"
	     "file of that name exists.  Shows the format (found from the contents), the\n"
	     "virtual and file sizes, and for qcow2 the header's version, cluster size,\n"
	     "backing file and compression type.  For a capstan image also the kernel\n"
	     "version, the cmdline and the root fs (entries, bytes).\n",
};
