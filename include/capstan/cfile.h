/* SPDX-License-Identifier: BSD-3-Clause */
/* Capstanfile: what an image is made of (parsed with libyaml into a plain struct). */
#ifndef CAPSTAN_CFILE_H
#define CAPSTAN_CFILE_H

#include <stddef.h>

struct cfile_file {
	char *guest; /* absolute guest path, normalised */
	char *host;  /* host path, absolute (resolved against the Capstanfile's folder) */
};

struct cfile_env {
	char *key;
	char *value;
};

struct cfile {
	char *path;		  /* the Capstanfile itself */
	char *dir;		  /* its folder (absolute) */
	char *base;		  /* base image name, NULL if none */
	char *cmdline;		  /* required */
	char *build;		  /* shell command or NULL */
	char *rootfs;		  /* absolute host folder or NULL (default ROOTFS if it exists) */
	struct cfile_file *files; /* in file order */
	size_t nfiles;
	struct cfile_env *env; /* in file order */
	size_t nenv;
};

/*
 * Parse PATH.  Errors: -CAP_E_DATA with "PATH:LINE:COL: message" (bad YAML,
 * wrong type, unknown key, missing or empty cmdline, bad or duplicate guest
 * path, non-string env value, rootfs set but missing), -errno if unreadable.
 * On error cf holds nothing (no cfile_release() needed, but it is harmless).
 * rootfs defaults to <dir>/ROOTFS when that folder exists.  Host paths are not
 * checked: the build step may create them.
 */
int cfile_load(struct cfile *cf, const char *path);
/* Parse a buffer; path is used for messages and dir for relative host paths. */
int cfile_parse(struct cfile *cf, const char *path, const char *dir, const char *data, size_t len);
void cfile_release(struct cfile *cf);

#endif
