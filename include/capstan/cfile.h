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
	char *rootfs;		  /* absolute host folder or NULL: see cfile_resolve_rootfs() */
	char *rootfs_at;	  /* "PATH:LINE:COL" of an explicit 'rootfs', for messages */
	struct cfile_file *files; /* in file order */
	size_t nfiles;
	struct cfile_env *env; /* in file order */
	size_t nenv;
	char **warnings; /* "PATH:LINE:COL: text" for what Capstan accepts and we adjust */
	size_t nwarnings;
};

/* A Capstanfile is a handful of lines; anything bigger than this is not one. */
#define CFILE_MAX (4u << 20)

/*
 * Parse PATH.  Errors: -CAP_E_DATA with "PATH:LINE:COL: message" (bad YAML,
 * invalid UTF-8, wrong type, unknown key, a Capstan key we do not support,
 * missing or empty cmdline, bad or duplicate guest path, non-string env
 * value), -CAP_E_DATA if PATH is not a regular file or is over CFILE_MAX,
 * -errno if unreadable.  On error cf holds nothing (no cfile_release()
 * needed, but it is harmless).  A relative guest path is put under '/' with
 * a warning in cf->warnings, as Capstan does.  Host paths and rootfs are not
 * checked: the build step may create them.
 */
int cfile_load(struct cfile *cf, const char *path);
/*
 * After the build step: an explicit rootfs must be a folder (-CAP_E_DATA
 * naming where it was set); without one, <dir>/ROOTFS is used if it is a folder.
 */
int cfile_resolve_rootfs(struct cfile *cf);
/* Parse a buffer; path is used for messages and dir for relative host paths. */
int cfile_parse(struct cfile *cf, const char *path, const char *dir, const char *data, size_t len);
void cfile_release(struct cfile *cf);

#endif
