/* SPDX-License-Identifier: BSD-3-Clause */
/* Registry index files: the catalog at the root and the per-image index.yaml (parser and emitter).
 */
#ifndef CAPSTAN_INDEX_H
#define CAPSTAN_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capstan/str.h"

/*
 * Per-image index, <url>/<ns>/<name>/index.yaml (documented in capstan-registry(5)):
 *
 *   format_version: "1"
 *   version: "0.1.0"
 *   created: "2026-11-26T17:00:00Z"
 *   description: "..."
 *   build: "..."
 *   platforms:
 *     qemu:
 *       file: base.qemu.gz
 *       size: 16777216          # bytes of the uncompressed image
 *       sha256: "<64 hex>"      # of the uncompressed image
 *
 * The first five keys are Capstan's; an index without "platforms" (an
 * original Capstan registry) is valid and means "<name>.<platform>.gz,
 * unverified".  Catalog, <url>/index.yaml:
 *
 *   format_version: "1"
 *   images:
 *     - name: capstan/base
 *       version: "0.1.0"
 *       created: "..."
 *       description: "..."
 *       platforms: [qemu]
 *
 * Unknown keys are ignored (later versions may add some); known keys with the
 * wrong type or value are errors "SRC:LINE:COL: what" with -CAP_E_DATA.
 */

#define INDEX_MAX_BYTES (16u << 20) /* refuse larger index files */

struct index_platform {
	char *name;    /* "qemu", "raw", ... */
	char *file;    /* plain file name beside index.yaml; NULL in a catalog */
	uint64_t size; /* uncompressed bytes; 0 with has_size false if absent */
	bool has_size;
	char *sha256; /* lowercase hex of the uncompressed image; NULL: unverified */
};

struct index_image {
	char *name; /* catalog entries only: "ns/name"; NULL in a per-image index */
	char *version, *created, *description, *build; /* NULL when absent */
	struct index_platform *platforms;
	size_t nplatforms;
};

struct index_catalog {
	struct index_image *images; /* sorted by name when emitted */
	size_t n;
};

/* src names the input in messages (a path or URL).  data need not be NUL-terminated. */
int index_parse_image(const char *src, const char *data, size_t len, struct index_image *out);
int index_parse_catalog(const char *src, const char *data, size_t len, struct index_catalog *out);

/* Append the YAML text to out.  The result parses back to the same values. */
int index_emit_image(const struct index_image *img, struct strbuf *out);
int index_emit_catalog(const struct index_catalog *cat, struct strbuf *out);

/* The entry for platform, or NULL. */
const struct index_platform *index_image_platform(const struct index_image *img,
						  const char *platform);
/* Add platform p (copied) to img, replacing an entry of the same name. */
void index_image_set_platform(struct index_image *img, const struct index_platform *p);
/*
 * Add or replace the catalog entry for name from a per-image index (copied;
 * platform names only).  Keeps the catalog sorted by name.
 */
void index_catalog_set(struct index_catalog *cat, const char *name, const struct index_image *img);
/* Names and platforms are valid: [A-Za-z0-9][A-Za-z0-9._-]* per part. */
bool index_file_name_valid(const char *file);

void index_image_release(struct index_image *img);
void index_catalog_release(struct index_catalog *cat);

#endif
