// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for index: per-image and catalog parsing, error positions, emit/parse round trips.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/str.h"

#define SHA_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int parse_img(const char *text, struct index_image *img)
{
	return index_parse_image("t/index.yaml", text, strlen(text), img);
}

static void test_image_full(void **state)
{
	struct index_image img;
	const char *text = "format_version: \"1\"\n"
			   "version: 0.2\n"
			   "created: 2026-11-26T17:00:00Z\n"
			   "description: Base image\n"
			   "build: make\n"
			   "future_key: [ignored]\n"
			   "platforms:\n"
			   "  qemu:\n"
			   "    file: base.qemu.gz\n"
			   "    size: 16777216\n"
			   "    sha256: " SHA_A "\n"
			   "  raw: {file: base.raw.gz, size: 1, sha256: "
			   "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855}\n";

	assert_int_equal(parse_img(text, &img), 0);
	assert_null(img.name);
	assert_string_equal(img.version, "0.2");
	assert_string_equal(img.created, "2026-11-26T17:00:00Z");
	assert_string_equal(img.description, "Base image");
	assert_string_equal(img.build, "make");
	assert_int_equal(img.nplatforms, 2);
	const struct index_platform *p = index_image_platform(&img, "qemu");
	assert_non_null(p);
	assert_string_equal(p->file, "base.qemu.gz");
	assert_int_equal(p->size, 16777216);
	assert_string_equal(p->sha256, SHA_A);
	p = index_image_platform(&img, "raw");
	assert_non_null(p);
	assert_string_equal(p->sha256, SHA_A); /* lowercased */
	assert_null(index_image_platform(&img, "vbox"));
	index_image_release(&img);
}

/* What an original Capstan registry serves: no platforms, so unverified. */
static void test_image_original(void **state)
{
	struct index_image img;
	const char *text = "format_version: \"1\"\nversion: \"v0.24\"\ncreated: 2016-03-02 13:10\n"
			   "description: OSv base\nbuild: scripts/build\n";

	assert_int_equal(parse_img(text, &img), 0);
	assert_int_equal(img.nplatforms, 0);
	assert_string_equal(img.created, "2016-03-02 13:10");
	index_image_release(&img);
}

struct bad {
	const char *text;
	const char *msg; /* expected substring, with position */
};

static const struct bad bad_images[] = {
    {"", "t/index.yaml:1:1: empty index"},
    {"- a\n- b\n", "t/index.yaml:1:1: expected a mapping"},
    {"version: 1\n", "no format_version"},
    {"format_version: \"2\"\n", "t/index.yaml:1:17: unsupported format_version"},
    {"format_version: \"1\"\nversion: [1]\n", "t/index.yaml:2:10: 'version' must be a string"},
    {"format_version: \"1\"\nversion: a\nversion: b\n",
     "t/index.yaml:3:1: duplicate key 'version'"},
    {"format_version: \"1\"\nplatforms: [qemu]\n",
     "t/index.yaml:2:12: 'platforms' must be a mapping"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {size: 1, sha256: " SHA_A "}\n",
     "3:9: platform 'qemu' has no 'file'"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {file: a.gz, sha256: " SHA_A "}\n",
     "has no 'size'"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {file: a.gz, size: 1}\n", "has no 'sha256'"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {file: ../x, size: 1, sha256: " SHA_A "}\n",
     "3:16: 'file' must be a plain file name"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {file: a, size: -1, sha256: " SHA_A "}\n",
     "'size' must be a number"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {file: a, size: 99999999999999999999999, "
     "sha256: " SHA_A "}\n",
     "'size' must be a number"},
    {"format_version: \"1\"\nplatforms:\n  qemu: {file: a, size: 1, sha256: abc}\n",
     "3:36: 'sha256' must be 64 hex"},
    {"format_version: \"1\"\nplatforms:\n  q/x: {file: a, size: 1, sha256: " SHA_A "}\n",
     "3:3: invalid platform name"},
    {"format_version: \"1\"\nplatforms:\n  q: {file: a, size: 1, sha256: " SHA_A
     "}\n  q: {file: b, size: 1, sha256: " SHA_A "}\n",
     "4:3: platform 'q' listed twice"},
    {"format_version: \"1\"\nversion: \"a\n", "t/index.yaml:"},
    {"format_version: \"1\"\n  bad indent: x\n", "t/index.yaml:2:"},
    {"format_version: \"1\"\ndescription: \"a\\0b\"\n", "contains a NUL byte"},
};

static void test_image_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad_images) / sizeof(bad_images[0]); i++) {
		struct index_image img;
		int ret = parse_img(bad_images[i].text, &img);
		if (ret != -CAP_E_DATA || !strstr(cap_errmsg(ret), bad_images[i].msg))
			fail_msg("case %zu: got %d '%s', wanted '%s'", i, ret, cap_errmsg(ret),
				 bad_images[i].msg);
		assert_null(img.platforms);
		assert_null(img.version);
	}
}

static void test_image_roundtrip(void **state)
{
	struct index_image img = {0}, back;
	struct strbuf sb = STRBUF_INIT;
	struct index_platform p = {
	    .name = "qemu", .file = "x.qemu.gz", .size = 42, .has_size = true, .sha256 = SHA_A};

	img.version = "1: \"quoted\" # not a comment";
	img.created = "2026-11-26T17:00:00Z";
	img.description = "line1\nline2 ünïcode";
	img.build = "true";
	struct index_image work = {0};
	index_image_set_platform(&work, &p);
	p.name = "raw";
	p.size = 7;
	index_image_set_platform(&work, &p);
	p.size = 8; /* replaces, does not add */
	index_image_set_platform(&work, &p);
	img.platforms = work.platforms;
	img.nplatforms = work.nplatforms;
	assert_int_equal(img.nplatforms, 2);
	assert_int_equal(index_emit_image(&img, &sb), 0);
	assert_int_equal(index_parse_image("emitted", sb.buf, sb.len, &back), 0);
	assert_string_equal(back.version, img.version);
	assert_string_equal(back.description, img.description);
	assert_string_equal(back.build, "true");
	assert_int_equal(back.nplatforms, 2);
	assert_int_equal(index_image_platform(&back, "raw")->size, 8);
	assert_string_equal(index_image_platform(&back, "qemu")->file, "x.qemu.gz");
	index_image_release(&back);
	index_image_release(&work);
	sb_release(&sb);
}

static void test_catalog(void **state)
{
	struct index_catalog cat, back;
	struct index_image img = {0};
	struct strbuf sb = STRBUF_INIT;
	const char *text =
	    "format_version: \"1\"\nimages:\n"
	    "  - name: capstan/base\n    version: \"0.1\"\n    platforms: [qemu, raw]\n"
	    "  - name: hello\n    description: Hi\n    platforms: []\n";

	assert_int_equal(index_parse_catalog("c.yaml", text, strlen(text), &cat), 0);
	assert_int_equal(cat.n, 2);
	assert_string_equal(cat.images[0].name, "capstan/base");
	assert_int_equal(cat.images[0].nplatforms, 2);
	assert_string_equal(cat.images[0].platforms[1].name, "raw");
	assert_string_equal(cat.images[1].description, "Hi");

	img.version = "2";
	struct index_platform p = {
	    .name = "qemu", .file = "a.qemu.gz", .size = 1, .has_size = true, .sha256 = SHA_A};
	index_image_set_platform(&img, &p);
	img.version = NULL;
	index_catalog_set(&cat, "alpha/app", &img);
	index_catalog_set(&cat, "hello", &img);
	assert_int_equal(cat.n, 3);
	assert_int_equal(index_emit_catalog(&cat, &sb), 0);
	assert_int_equal(index_parse_catalog("emitted", sb.buf, sb.len, &back), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(back.images[0].name, "alpha/app");
	assert_string_equal(back.images[2].name, "hello");
	assert_null(back.images[2].description); /* replaced, not merged */
	assert_int_equal(back.images[2].nplatforms, 1);
	index_catalog_release(&back);
	index_catalog_release(&cat);
	index_image_release(&img);
	sb_release(&sb);

	/* An empty catalog round-trips too. */
	struct index_catalog empty = {0};
	sb_init(&sb);
	assert_int_equal(index_emit_catalog(&empty, &sb), 0);
	assert_int_equal(index_parse_catalog("e", sb.buf, sb.len, &back), 0);
	assert_int_equal(back.n, 0);
	index_catalog_release(&back);
	sb_release(&sb);
	assert_int_equal(index_parse_catalog("e", "format_version: '1'\nimages:\n", 28, &back), 0);
	assert_int_equal(back.n, 0);
	index_catalog_release(&back);
}

static const struct bad bad_catalogs[] = {
    {"images: []\n", "c.yaml:1:1: no format_version"},
    {"format_version: \"1\"\n", "no 'images' list"},
    {"format_version: \"1\"\nimages: {a: b}\n", "c.yaml:2:9: 'images' must be a list"},
    {"format_version: \"1\"\nimages:\n  - version: 1\n", "c.yaml:3:5: image entry has no 'name'"},
    {"format_version: \"1\"\nimages:\n  - name: ../etc\n", "c.yaml:3:11: invalid image name"},
    {"format_version: \"1\"\nimages:\n  - name: a/b/c\n", "invalid image name"},
    {"format_version: \"1\"\nimages:\n  - name: a\n  - name: a\n",
     "c.yaml:4:5: image 'a' listed twice"},
    {"format_version: \"1\"\nimages:\n  - name: a\n    platforms: qemu\n",
     "4:16: 'platforms' must be a list"},
    {"format_version: \"1\"\nimages:\n  - name: a\n    platforms: [qemu, qemu]\n",
     "platform 'qemu' listed twice"},
    {"format_version: \"1\"\nimages:\n  - 3\n", "c.yaml:3:5: each image must be a mapping"},
};

static void test_catalog_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad_catalogs) / sizeof(bad_catalogs[0]); i++) {
		struct index_catalog cat;
		int ret = index_parse_catalog("c.yaml", bad_catalogs[i].text,
					      strlen(bad_catalogs[i].text), &cat);
		if (ret != -CAP_E_DATA || !strstr(cap_errmsg(ret), bad_catalogs[i].msg))
			fail_msg("case %zu: got %d '%s', wanted '%s'", i, ret, cap_errmsg(ret),
				 bad_catalogs[i].msg);
		assert_int_equal(cat.n, 0);
		assert_null(cat.images);
	}
}

/* A large catalog parses (the old walk refused ~25,000 entries and grew quadratically). */
static void test_catalog_large(void **state)
{
	enum { N = 150000 };
	struct strbuf sb = STRBUF_INIT;
	struct index_catalog cat;

	sb_adds(&sb, "format_version: \"1\"\nimages:\n");
	for (int i = 0; i < N; i++)
		sb_addf(&sb,
			"  - name: ns%d/image%d\n    version: \"1.%d\"\n    platforms: [qemu]\n",
			i % 100, i, i);
	assert_true(sb.len < INDEX_MAX_BYTES);
	assert_int_equal(index_parse_catalog("big", sb.buf, sb.len, &cat), 0);
	assert_int_equal(cat.n, N);
	assert_string_equal(cat.images[N - 1].name, "ns99/image149999");
	assert_string_equal(cat.images[N - 1].platforms[0].name, "qemu");
	index_catalog_release(&cat);

	/* The same name at the end is still found, by a set rather than a scan. */
	sb_addf(&sb, "  - name: ns7/image7\n");
	int ret = index_parse_catalog("big", sb.buf, sb.len, &cat);
	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "image 'ns7/image7' listed twice"));
	sb_release(&sb);
}

/* Aliases cannot multiply the walk, and anchors are bounded before libyaml's loader sees them. */
static void test_catalog_aliases(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct index_catalog cat;
	int ret;

	sb_adds(&sb, "format_version: \"1\"\nplist: &p [");
	for (int i = 0; i < 20000; i++)
		sb_addf(&sb, "%sp%d", i ? ", " : "", i);
	sb_adds(&sb, "]\nimages:\n");
	for (int i = 0; i < 20000; i++)
		sb_addf(&sb, "  - {name: i%d, platforms: *p}\n", i);
	ret = index_parse_catalog("alias", sb.buf, sb.len, &cat);
	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "index too complex"));
	sb_release(&sb);

	sb_init(&sb);
	sb_adds(&sb, "format_version: \"1\"\nimages:\n");
	for (int i = 0; i < 1000; i++)
		sb_addf(&sb, "  - {name: &a%d i%d}\n", i, i);
	ret = index_parse_catalog("anchors", sb.buf, sb.len, &cat);
	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "anchors:67:"));
	assert_non_null(strstr(cap_errmsg(ret), "more than 64 YAML anchors"));
	sb_release(&sb);
}

/* Registry strings quoted in a message lose their control characters (terminal escapes). */
static void test_error_sanitized(void **state)
{
	struct index_catalog cat;
	const char *text = "format_version: \"1\"\nimages:\n  - name: \"\\e[31mred\\x07\"\n";
	int ret = index_parse_catalog("c", text, strlen(text), &cat);

	assert_int_equal(ret, -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(ret), "invalid image name '?[31mred?'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_full),	    cmocka_unit_test(test_image_original),
	    cmocka_unit_test(test_image_errors),    cmocka_unit_test(test_image_roundtrip),
	    cmocka_unit_test(test_catalog),	    cmocka_unit_test(test_catalog_errors),
	    cmocka_unit_test(test_catalog_large),   cmocka_unit_test(test_catalog_aliases),
	    cmocka_unit_test(test_error_sanitized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
