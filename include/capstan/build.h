/* SPDX-License-Identifier: BSD-3-Clause */
/* Building images from a Capstanfile, and starting projects from templates. */
#ifndef CAPSTAN_BUILD_H
#define CAPSTAN_BUILD_H

#include "capstan/ctx.h"

struct build_opts {
	const char *name;     /* image name; NULL: the Capstanfile folder's name */
	const char *file;     /* Capstanfile; NULL: ./Capstanfile */
	const char *platform; /* qemu (default), raw, vbox, vmw, gce */
};

/*
 * Run the build step, make the image (base image + files + cmdline) and
 * install it in the local repository as (o->name) for (o->platform).  Nothing
 * is installed on failure.  Errors: -CAP_E_DATA (Capstanfile, files, base
 * image), -CAP_E_CHILD (build step failed, message names its exit status),
 * -CAP_E_NOTFOUND (base image), -errno.
 */
int build_image(const struct cap_ctx *ctx, const struct build_opts *o);

/*
 * Create a project in (dir) (created if missing) from template (tmpl) under
 * $datadir/templates, substituting @NAME@ (the folder's name) and @BINARY@.
 * Errors: -CAP_E_NOTFOUND (no such template), -CAP_E_EXISTS (a file of the
 * template is already there; nothing is written), -errno.
 */
int build_init_project(const struct cap_ctx *ctx, const char *tmpl, const char *dir);

#endif
