/* SPDX-License-Identifier: BSD-3-Clause */
/* The local image repository under $CAPSTAN_ROOT/repository (Capstan's layout). */
#ifndef CAPSTAN_REPO_H
#define CAPSTAN_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "capstan/ctx.h"
#include "capstan/fs.h"

/*
 * repository/<ns>/<name>/<name>.<platform> plus index.yaml, or un-namespaced
 * repository/<name>/<name>.<platform>.  Platforms: qemu (qcow2), raw, vbox
 * (VDI), vmw (VMDK), gce (tar.gz with disk.raw).  Capstan's own import wrote
 * VMDK as <name>.vmware; such files are read and listed as platform vmw.
 * A bad index.yaml is a warning when listing (its fields show as missing).
 */

struct repo_meta {
	char *version; /* free text, e.g. "1.0" */
	char *created; /* RFC 3339 or "2006-01-02 15:04" */
	char *description;
	char *build; /* how it was built */
};

struct repo_image {
	char *name;	/* "ns/name" or "name" */
	char *platform; /* "qemu", "raw", ... */
	char *path;	/* absolute path of the image file */
	uint64_t size;	/* bytes on disk */
	struct repo_meta meta;
};

/* Valid names: [ns/]name, each part [A-Za-z0-9][A-Za-z0-9._-]*, no "..". */
int repo_name_valid(const char *name);
/* malloc'd "$root/repository/<name>" (not created). */
char *repo_image_dir(const struct cap_ctx *ctx, const char *name);

/* All images, sorted by name then platform.  Free with repo_images_free(). */
int repo_list(const struct cap_ctx *ctx, struct repo_image **out, size_t *n);
void repo_images_free(struct repo_image *imgs, size_t n);
void repo_image_release(struct repo_image *img);
void repo_meta_release(struct repo_meta *m);
/*
 * Parse an image's index.yaml (Capstan's fields; other keys are ignored).
 * -CAP_E_DATA with "PATH:LINE:COL: message" if it is not a YAML mapping or a
 * field is not a string.
 */
int repo_meta_parse(const char *path, const char *data, size_t len, struct repo_meta *m);

/*
 * Find NAME for PLATFORM (NULL: "qemu").  -CAP_E_NOTFOUND with a message if
 * absent, -CAP_E_USAGE if NAME is not a valid name.
 */
int repo_find(const struct cap_ctx *ctx, const char *name, const char *platform,
	      struct repo_image *out);

/*
 * Install an image: tmp is an open fs_tmp whose final_path is ignored; it is
 * renamed to repository/<name>/<name>.<platform> and index.yaml is rewritten,
 * under the repository lock, so concurrent installs never corrupt each other.
 * Takes ownership of tmp (committed or aborted).
 */
int repo_install(const struct cap_ctx *ctx, const char *name, const char *platform,
		 struct fs_tmp *tmp, const struct repo_meta *meta);
/*
 * Open a temp file inside $root/repository (created if missing) for a later
 * repo_install(): same file system, so installing is a rename.
 */
int repo_tmp_open(const struct cap_ctx *ctx, struct fs_tmp *tmp);
/*
 * Import FILE (format found by magic, never by name) as NAME: qcow2 -> qemu,
 * raw -> raw, VDI -> vbox, VMDK -> vmw.  meta->created NULL means now (RFC
 * 3339 UTC).  Replaces an image of the same name and platform.
 */
int repo_import(const struct cap_ctx *ctx, const char *name, const char *file,
		const struct repo_meta *meta);
/* Remove NAME (all platforms). */
int repo_remove(const struct cap_ctx *ctx, const char *name);

#endif
