// SPDX-License-Identifier: BSD-3-Clause
// libcurl, libarchive and libvirt loaded with dlopen() on first use (see lazylib.h): one loader.
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "capstan/err.h"
#include "lazylib.h"
#include "capstan/banned.h"

/*
 * The sonames come from meson (those of the libraries the build found);
 * the fallbacks are Debian's libcurl4, libarchive13 and libvirt0.
 */
#ifndef CURL_SONAME
#define CURL_SONAME "libcurl.so.4"
#endif
#ifndef ARCHIVE_SONAME
#define ARCHIVE_SONAME "libarchive.so.13"
#endif
#define LIBVIRT_SONAME "libvirt.so.0"

/*
 * Sanitizer builds link the libraries (LAZYLIB_LINKED, LIBVIRT_LINKED):
 * ASan's interceptors resolve the real functions at start-up, which breaks
 * libraries that dlopen() brings in later (libvirt's RPC through libtirpc
 * crashes).  Then each symbol's address is taken from the link instead.
 */
struct lazy_sym {
	const char *name;
	void **slot;  /* the table's field, written as dlsym(3) shows */
	void *linked; /* the linked function, or NULL to look it up */
};

struct lazylib {
	const char *soname;
	const char *package; /* what to install when it is missing */
	const struct lazy_sym *syms;
	size_t nsyms;
	char why[512]; /* why loading failed, kept for every later call */
};

static void load(struct lazylib *l)
{
	void *lib = NULL;

	if (!l->syms[0].linked && !(lib = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(l->why, sizeof(l->why), "cannot load %s: %s (install %s)", l->soname,
			 dlerror(), l->package);
		return;
	}
	for (size_t i = 0; i < l->nsyms; i++) {
		*l->syms[i].slot = lib ? dlsym(lib, l->syms[i].name) : l->syms[i].linked;
		if (!*l->syms[i].slot) {
			snprintf(l->why, sizeof(l->why), "%s lacks %s", l->soname, l->syms[i].name);
			if (lib)
				dlclose(lib);
			return;
		}
	}
}

static int loaded(const struct lazylib *l, const char *prefix)
{
	return l->why[0] ? cap_errf(CAP_E_UNAVAIL, "%s%s", prefix, l->why) : 0;
}

#define SYM_LOOKUP(f) {#f, (void **)&TABLE.f, NULL},
#define SYM_LINKED(f) {#f, (void **)&TABLE.f, (void *)f},
#define NSYMS(v)      (sizeof(v) / sizeof(v[0]))

/* ---- libcurl ---- */

struct cap_curl_fns cap_curl;
#define TABLE cap_curl
static const struct lazy_sym curl_syms[] = {
#if LAZYLIB_LINKED
    CAP_CURL_FUNCS(SYM_LINKED)
#else
    CAP_CURL_FUNCS(SYM_LOOKUP)
#endif
};
#undef TABLE
static struct lazylib curl_lib = {CURL_SONAME, "libcurl4", curl_syms, NSYMS(curl_syms), ""};
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load_once(void)
{
	load(&curl_lib);
	if (!curl_lib.why[0])
		cap_curl.curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cap_curl_load(void)
{
	pthread_once(&curl_once, curl_load_once);
	return loaded(&curl_lib, "");
}

/* ---- libarchive ---- */

struct cap_archive_fns cap_archive;
#define TABLE cap_archive
static const struct lazy_sym archive_syms[] = {
#if LAZYLIB_LINKED
    CAP_ARCHIVE_FUNCS(SYM_LINKED)
#else
    CAP_ARCHIVE_FUNCS(SYM_LOOKUP)
#endif
};
#undef TABLE
static struct lazylib archive_lib = {ARCHIVE_SONAME, "libarchive13", archive_syms,
				     NSYMS(archive_syms), ""};
static pthread_once_t archive_once = PTHREAD_ONCE_INIT;

static void archive_load_once(void)
{
	load(&archive_lib);
}

int cap_archive_load(void)
{
	pthread_once(&archive_once, archive_load_once);
	return loaded(&archive_lib, "");
}

/* ---- libvirt ---- */

#if HAVE_LIBVIRT
struct cap_libvirt_fns cap_libvirt;
#define TABLE cap_libvirt
static const struct lazy_sym libvirt_syms[] = {
#if LIBVIRT_LINKED
    CAP_LIBVIRT_FUNCS(SYM_LINKED)
#else
    CAP_LIBVIRT_FUNCS(SYM_LOOKUP)
#endif
};
#undef TABLE
static struct lazylib libvirt_lib = {LIBVIRT_SONAME, "libvirt0", libvirt_syms, NSYMS(libvirt_syms),
				     ""};
static pthread_once_t libvirt_once = PTHREAD_ONCE_INIT;

static void libvirt_load_once(void)
{
	load(&libvirt_lib);
}

int cap_libvirt_load(void)
{
	pthread_once(&libvirt_once, libvirt_load_once);
	return loaded(&libvirt_lib, "libvirt: ");
}
#endif
