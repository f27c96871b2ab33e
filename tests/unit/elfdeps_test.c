// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the shared library resolver, on the ELF files tests/unit/elfdeps/mkfix.sh builds.
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/elfdeps.h"
#include "capstan/err.h"

#define INTERP "/lib64/ld-linux-x86-64.so.2"

static const char *fix; /* the fixtures folder: bin/ and lib/ */
static char tmpdir[] = "/tmp/elfdeps_test.XXXXXX";

/* The image of the tests: /app/bin/<name> from fix/bin, plus the guest paths listed in image[]. */
static const char *image[8][2];
static bool image_has_interp = true;

static const char *has(void *arg, const char *guest)
{
	static char host[4096];
	(void)arg;
	for (size_t i = 0; i < 8 && image[i][0]; i++)
		if (!strcmp(image[i][0], guest))
			return image[i][1];
	if (!strncmp(guest, "/app/bin/", 9)) {
		snprintf(host, sizeof(host), "%s/bin/%s", fix, guest + 9);
		return access(host, F_OK) ? NULL : host;
	}
	if (!strcmp(guest, INTERP) && image_has_interp)
		return ""; /* the image has an interpreter: these tests need nothing of the host */
	return NULL;
}

static const char *const no_dirs[] = {NULL};

static void conf_none(struct elfdeps_conf *c)
{
	c->cache = NULL;
	c->dirs = no_dirs;
	c->musl_path = NULL;
	c->musl_dirs = no_dirs;
}

static int scan_prog(struct elfdeps *d, const struct elfdeps_conf *c, const char *name)
{
	char guest[256], host[4096];
	snprintf(guest, sizeof(guest), "/app/bin/%s", name);
	snprintf(host, sizeof(host), "%s/bin/%s", fix, name);
	return elfdeps_scan(d, c, has, NULL, guest, host, false);
}

static const struct elfdeps_add *find(const struct elfdeps *d, const char *guest)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].guest, guest))
			return &d->v[i];
	return NULL;
}

static void host_is(const struct elfdeps_add *a, const char *file)
{
	char want[4096], got[4096], real[4096];
	assert_non_null(a);
	snprintf(want, sizeof(want), "%s/%s", fix, file);
	assert_non_null(realpath(want, real));
	assert_non_null(realpath(a->host, got)); /* the host path keeps $ORIGIN/.. as written */
	assert_string_equal(got, real);
}

/* RUNPATH $ORIGIN/../lib is read against the guest path, and the cycle a <-> b ends. */
static void test_runpath_origin_cycle(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	(void)state;
	conf_none(&c);
	assert_int_equal(scan_prog(&d, &c, "prog"), 0);
	assert_int_equal(d.n, 2);
	host_is(find(&d, "/app/lib/libfixa.so"), "lib/libfixa.so");
	host_is(find(&d, "/app/lib/libfixb.so"), "lib/libfixb.so");
	assert_string_equal(d.v[0].how, "RUNPATH");
	assert_string_equal(d.v[0].by, "/app/bin/prog");
	assert_string_equal(d.v[1].by, "/app/lib/libfixa.so");
	/* scanning a library again (as a file of the image) adds nothing */
	char host[4096];
	snprintf(host, sizeof(host), "%s/lib/libfixb.so", fix);
	assert_int_equal(elfdeps_scan(&d, &c, has, NULL, "/app/lib/libfixb.so", host, false), 0);
	assert_int_equal(d.n, 2);
	elfdeps_release(&d);
}

/* The program's RPATH also serves the libraries it loads (glibc), not a RUNPATH. */
static void test_rpath_inherited(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	(void)state;
	conf_none(&c);
	assert_int_equal(scan_prog(&d, &c, "rpathprog"), 0);
	assert_int_equal(d.n, 2);
	host_is(find(&d, "/app/lib/libfixc.so"), "lib/libfixc.so");
	host_is(find(&d, "/app/lib/libfixd.so"), "lib/libfixd.so");
	assert_string_equal(find(&d, "/app/lib/libfixd.so")->how, "RPATH");
	assert_string_equal(find(&d, "/app/lib/libfixd.so")->by, "/app/lib/libfixc.so");
	elfdeps_release(&d);
}

static void test_missing(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	(void)state;
	conf_none(&c);
	assert_int_equal(scan_prog(&d, &c, "missing"), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA),
			    "/app/bin/missing: library 'libnothere.so' not found");
	elfdeps_release(&d);
	/* a library that cannot find its own: the program and the library are named */
	memset(&d, 0, sizeof(d));
	char host[4096];
	snprintf(host, sizeof(host), "%s/lib/libfixc.so", fix);
	image[0][0] = "/app/lib/libfixa.so";
	image[0][1] = host;
	assert_int_equal(scan_prog(&d, &c, "prog"), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "/app/bin/prog: library 'libfixd.so' not "
						     "found (needed by /app/lib/libfixa.so)");
	image[0][0] = NULL;
	elfdeps_release(&d);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Without search folders in the program: the default folders, then the cache first. */
static void test_default_and_cache(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	char libdir[4096], cache[4096], lib[4096];
	(void)state;
	conf_none(&c);
	snprintf(libdir, sizeof(libdir), "%s/lib", fix);
	const char *const dirs[] = {"/nowhere", libdir, NULL};
	c.dirs = dirs;
	assert_int_equal(scan_prog(&d, &c, "plain"), 0);
	assert_int_equal(d.n, 1);
	host_is(&d.v[0], "lib/libfixd.so");
	assert_string_equal(d.v[0].guest, d.v[0].host); /* the same path in the guest */
	assert_string_equal(d.v[0].how, "default folder");
	elfdeps_release(&d);

	/* a cache in glibc's format naming libfixd.so (and a 32-bit entry to skip) */
	unsigned char buf[48 + 2 * 24 + 512] = {0};
	size_t strs = 48 + 2 * 24, off = strs;
	snprintf(lib, sizeof(lib), "%s/lib/libfixd.so", fix);
	memcpy(buf, "glibc-ld.so.cache1.1", 20);
	buf[20] = 2;
	for (int i = 0; i < 2; i++) {
		unsigned char *e = buf + 48 + 24 * i;
		uint32_t flags = i == 0 ? 0x0003 : 0x0303, key = (uint32_t)off;
		memcpy(e, &flags, 4);
		memcpy(buf + off, "libfixd.so", 11);
		off += 11;
		uint32_t value = (uint32_t)off;
		const char *path = i == 0 ? "/lib32/libfixd.so" : lib;
		memcpy(buf + off, path, strlen(path) + 1);
		off += strlen(path) + 1;
		memcpy(e + 4, &key, 4);
		memcpy(e + 8, &value, 4);
	}
	snprintf(cache, sizeof(cache), "%s/ld.so.cache", tmpdir);
	FILE *f = fopen(cache, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, off, f), off);
	fclose(f);
	c.cache = cache;
	c.dirs = no_dirs;
	memset(&d, 0, sizeof(d));
	assert_int_equal(scan_prog(&d, &c, "plain"), 0);
	assert_int_equal(d.n, 1);
	host_is(&d.v[0], "lib/libfixd.so");
	assert_string_equal(d.v[0].how, "ld.so.cache");

	/* outside the default folders: the guest gets a cache of its own, which reads back */
	unsigned char *data;
	size_t len;
	assert_int_equal(elfdeps_guest_cache(&d, &c, &data, &len), 1);
	write_file(cache, data, len);
	free(data);
	elfdeps_release(&d);
	memset(&d, 0, sizeof(d));
	assert_int_equal(scan_prog(&d, &c, "plain"), 0);
	assert_int_equal(d.n, 1);
	host_is(&d.v[0], "lib/libfixd.so");
	assert_string_equal(d.v[0].how, "ld.so.cache");
	c.dirs = dirs; /* in a default folder: no cache needed */
	assert_int_equal(elfdeps_guest_cache(&d, &c, &data, &len), 0);
	elfdeps_release(&d);
}

/* A library the image holds already is not added, but what it needs is. */
static void test_image_has_lib(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	char host[4096];
	(void)state;
	conf_none(&c);
	snprintf(host, sizeof(host), "%s/lib/libfixa.so", fix);
	image[0][0] = "/app/lib/libfixa.so";
	image[0][1] = host;
	assert_int_equal(scan_prog(&d, &c, "prog"), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].guest, "/app/lib/libfixb.so");
	image[0][0] = NULL;
	elfdeps_release(&d);
}

/* The interpreter comes from the host at its own path when the image has none. */
static void test_interpreter(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	char host[4096];
	(void)state;
	if (access(INTERP, R_OK))
		skip();
	conf_none(&c);
	snprintf(host, sizeof(host), "%s/bin/plain", fix);
	char libdir[4096];
	snprintf(libdir, sizeof(libdir), "%s/lib", fix);
	const char *const dirs[] = {libdir, NULL};
	c.dirs = dirs;
	image_has_interp = false;
	assert_int_equal(elfdeps_scan(&d, &c, has, NULL, "/plain", host, false), 0);
	image_has_interp = true;
	assert_true(d.n >= 2);
	assert_string_equal(d.v[0].guest, INTERP);
	assert_string_equal(d.v[0].how, "interpreter");
	elfdeps_release(&d);
}

/* Not ELF, another machine's ELF: nothing needed.  A broken x86-64 ELF: an error. */
static void test_not_elf_and_malformed(void **state)
{
	struct elfdeps_conf c;
	struct elfdeps d = {0};
	char path[4096];
	unsigned char eh[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
	(void)state;
	conf_none(&c);
	snprintf(path, sizeof(path), "%s/text", tmpdir);
	write_file(path, "#!/bin/sh\n", 10);
	assert_int_equal(elfdeps_scan(&d, &c, has, NULL, "/text", path, false), 0);
	eh[16] = 3;  /* ET_DYN */
	eh[18] = 40; /* EM_ARM */
	eh[54] = 56;
	eh[56] = 1;
	eh[32] = 200; /* program headers past the end */
	snprintf(path, sizeof(path), "%s/arm", tmpdir);
	write_file(path, eh, sizeof(eh));
	assert_int_equal(elfdeps_scan(&d, &c, has, NULL, "/arm", path, false), 0);
	eh[18] = 62; /* EM_X86_64 */
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	write_file(path, eh, sizeof(eh));
	assert_int_equal(elfdeps_scan(&d, &c, has, NULL, "/bad", path, false), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "malformed ELF file"));
	assert_int_equal(d.n, 0);
	elfdeps_release(&d);
}

static int setup(void **state)
{
	(void)state;
	fix = getenv("ELFDEPS_FIXTURES");
	return !fix || !mkdtemp(tmpdir);
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) != 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runpath_origin_cycle),
	    cmocka_unit_test(test_rpath_inherited),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_default_and_cache),
	    cmocka_unit_test(test_image_has_lib),
	    cmocka_unit_test(test_interpreter),
	    cmocka_unit_test(test_not_elf_and_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
