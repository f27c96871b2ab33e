/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared libraries and ELF interpreter a dynamic program needs, found as the host's ld.so
 * would. */
#ifndef CAPSTAN_ELFDEPS_H
#define CAPSTAN_ELFDEPS_H

#include <stdbool.h>
#include <stddef.h>

/* Where the loaders look, besides DT_RPATH/DT_RUNPATH. */
struct elfdeps_conf {
	const char *cache;	      /* glibc's ld.so.cache, or NULL for none */
	const char *const *dirs;      /* glibc's default folders, NULL-terminated */
	const char *musl_path;	      /* musl's ld-musl-x86_64.path, or NULL for none */
	const char *const *musl_dirs; /* musl's folders when that file is missing */
};

/* The host's: /etc/ld.so.cache, Debian's multiarch folders, musl's defaults. */
void elfdeps_conf_host(struct elfdeps_conf *c);

/*
 * Whether the image already holds guest path (a file the Capstanfile puts
 * there): returns its host file for a regular file, "" for anything else
 * that is there, NULL when nothing is.
 */
typedef const char *(*elfdeps_has_fn)(void *arg, const char *guest);

struct elfdeps_add {
	char *guest; /* the path the loader opens in the guest */
	char *host;  /* the host file with its content */
	char *link;  /* when not NULL: a symbolic link to this earlier guest path, same file */
	char *by;    /* the guest path of the program or library that needs it */
	char *how;   /* "interpreter", "RUNPATH", "RPATH", "ld.so.cache", "default folder" */
	char *name;  /* the name asked for (DT_NEEDED, or the interpreter's path) */
};

struct elfdeps {
	struct elfdeps_add *v; /* in the order found: the same inputs give the same list */
	size_t n, cap;
	/* private: guest paths already looked at, and the files added (dev, ino) */
	char **seen;
	size_t nseen, capseen;
	unsigned long long *ids;
	size_t nids;
	char *cache_data;
	size_t cache_len;
	bool cache_loaded;
};

/*
 * Read the program or library at host (placed at guest) and add what it
 * needs, recursively: its PT_INTERP and its DT_NEEDED libraries, looked up
 * through DT_RPATH/DT_RUNPATH ($ORIGIN, $LIB, $PLATFORM), then the cache,
 * then the default folders (glibc), or the ld-musl path file and folders
 * (musl, whose own libc names are the interpreter).  A file that is not a
 * dynamic x86-64 ELF needs nothing.  Call it for each file of the image; d
 * remembers what it has seen.  With programs set, only a file with a PT_INTERP
 * is looked at: scanning the programs first lets a library of the image be
 * found with its program's RPATH, as the loader finds it.  Errors: -CAP_E_DATA naming the program
 * and the library (or interpreter) that cannot be found, or a malformed ELF file.
 */
int elfdeps_scan(struct elfdeps *d, const struct elfdeps_conf *c, elfdeps_has_fn has, void *arg,
		 const char *guest, const char *host, bool programs);

/* The guest path a symbolic link at guest path from with target names ('.' and '..' resolved). */
char *elfdeps_guest_path(const char *from, const char *target);

/*
 * A guest /etc/ld.so.cache, when glibc's loader needs one: when the host's
 * cache gave a library in a folder outside c->dirs, which the loader does not
 * search on its own.  It names every library found through the host's cache.
 * Returns 1 with (*data, *len) allocated, or 0 when no cache is needed.
 */
int elfdeps_guest_cache(const struct elfdeps *d, const struct elfdeps_conf *c, unsigned char **data,
			size_t *len);
void elfdeps_release(struct elfdeps *d);

#endif
