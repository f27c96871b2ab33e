// SPDX-License-Identifier: BSD-3-Clause
// libcurl and libarchive loaded with dlopen() on first use (see capstan/lazylib.h).
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/lazylib.h"
#include "capstan/banned.h"

/*
 * The sonames come from meson (those of the libraries the build found);
 * the fallbacks are Debian's libcurl4 and libarchive13.
 */
#ifndef CURL_SONAME
#define CURL_SONAME "libcurl.so.4"
#endif
#ifndef ARCHIVE_SONAME
#define ARCHIVE_SONAME "libarchive.so.13"
#endif

struct cap_curl_fns cap_curl;
struct cap_archive_fns cap_archive;

/* Why loading failed, kept for every later call (cap_errf's record is per call). */
static char curl_why[512], archive_why[512];
static pthread_once_t curl_once = PTHREAD_ONCE_INIT, archive_once = PTHREAD_ONCE_INIT;

/*
 * Sanitizer builds link both libraries (LAZYLIB_LINKED): ASan's interceptors
 * resolve the real functions at start-up, which breaks some libraries that
 * dlopen() brings in later.
 */
static void curl_load_once(void)
{
#if LAZYLIB_LINKED
#define X(f) cap_curl.f = f;
	CAP_CURL_FUNCS(X)
#undef X
#else
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(curl_why, sizeof(curl_why), "cannot load %s: %s (install libcurl4)",
			 CURL_SONAME, dlerror());
		return;
	}
#define X(f)                                                                                       \
	if (!(cap_curl.f = (__typeof__(f) *)dlsym(lib, #f))) {                                     \
		snprintf(curl_why, sizeof(curl_why), "%s lacks %s", CURL_SONAME, #f);              \
		dlclose(lib);                                                                      \
		return;                                                                            \
	}
	CAP_CURL_FUNCS(X)
#undef X
#endif
	cap_curl.curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void archive_load_once(void)
{
#if LAZYLIB_LINKED
#define X(f) cap_archive.f = f;
	CAP_ARCHIVE_FUNCS(X)
#undef X
#else
	void *lib = dlopen(ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(archive_why, sizeof(archive_why),
			 "cannot load %s: %s (install libarchive13)", ARCHIVE_SONAME, dlerror());
		return;
	}
#define X(f)                                                                                       \
	if (!(cap_archive.f = (__typeof__(f) *)dlsym(lib, #f))) {                                  \
		snprintf(archive_why, sizeof(archive_why), "%s lacks %s", ARCHIVE_SONAME, #f);     \
		dlclose(lib);                                                                      \
		return;                                                                            \
	}
	CAP_ARCHIVE_FUNCS(X)
#undef X
#endif
}

int cap_curl_load(void)
{
	pthread_once(&curl_once, curl_load_once);
	return curl_why[0] ? cap_errf(CAP_E_UNAVAIL, "%s", curl_why) : 0;
}

int cap_archive_load(void)
{
	pthread_once(&archive_once, archive_load_once);
	return archive_why[0] ? cap_errf(CAP_E_UNAVAIL, "%s", archive_why) : 0;
}
