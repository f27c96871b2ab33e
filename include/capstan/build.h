/* SPDX-License-Identifier: BSD-3-Clause */
/* Building images from a Capstanfile, and starting projects from templates. */
#ifndef CAPSTAN_BUILD_H
#define CAPSTAN_BUILD_H

#include <stdint.h>

#include "capstan/ctx.h"

struct build_opts {
	const char *name;     /* image name; NULL: the Capstanfile folder's name */
	const char *file;     /* Capstanfile; NULL: ./Capstanfile */
	const char *platform; /* qemu (default), raw, vbox, vmw, gce */
	uint64_t memory;      /* Capstan's -m: accepted; build boots no VM, so unused */
};

/*
 * Run the build step, make the image (base image + files + cmdline) and
 * install it in the local repository as (o->name) for (o->platform).  Nothing
 * is installed on failure.  Errors: -CAP_E_DATA (Capstanfile, files, base
 * image), -CAP_E_CHILD (build step failed, message names its exit status),
 * -CAP_E_NOTFOUND (base image), -errno.
 */
int build_image(const struct cap_ctx *ctx, const struct build_opts *o);

struct compose_opts {
	const char *name;    /* image name */
	const char *source;  /* a folder (its content goes to '/') or a file (goes to /NAME) */
	const char *cmdline; /* NULL: "/NAME" of a file source; required for a folder */
	uint64_t min_size;   /* 0, or the disk's size in bytes (-s): the content must fit */
};

/*
 * Capstan's 'compose': an image of the bundled kernel with a folder's or a
 * file's content and a cmdline, installed as o->name (qemu), no Capstanfile.
 * Errors: -CAP_E_USAGE (name, a folder without a cmdline), -CAP_E_DATA (not a
 * file or folder, content larger than min_size, paths the image cannot hold),
 * -errno.
 */
int build_compose(const struct cap_ctx *ctx, const struct compose_opts *o);

/*
 * Create a project in (dir) (created if missing) from template (tmpl) under
 * $datadir/templates, substituting @NAME@ (the folder's name) and @BINARY@.
 * Errors: -CAP_E_NOTFOUND (no such template), -CAP_E_EXISTS (a file of the
 * template is already there; nothing is written), -errno.
 */
int build_init_project(const struct cap_ctx *ctx, const char *tmpl, const char *dir);

#endif
