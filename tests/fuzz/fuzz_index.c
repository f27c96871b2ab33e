// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for the registry index parsers (per-image and catalog), with an emit round
// trip.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_same_image(const struct index_image *a, const struct index_image *b)
{
	if (!same(a->name, b->name) || !same(a->version, b->version) ||
	    !same(a->created, b->created) || !same(a->description, b->description) ||
	    a->nplatforms != b->nplatforms)
		__builtin_trap();
	for (size_t i = 0; i < a->nplatforms; i++) {
		const struct index_platform *p = &a->platforms[i],
					    *q = index_image_platform(b, p->name);
		if (!q || !same(p->file, q->file) || !same(p->sha256, q->sha256) ||
		    p->size != q->size)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct index_image img, back;
	struct index_catalog cat, cback;
	struct strbuf sb = STRBUF_INIT;

	/* Whatever parses must emit text that parses back to the same values. */
	if (index_parse_image("fuzz", (const char *)data, size, &img) == 0) {
		for (size_t i = 0; i < img.nplatforms; i++)
			if (!img.platforms[i].file || !img.platforms[i].sha256 ||
			    strlen(img.platforms[i].sha256) != 64)
				__builtin_trap();
		if (index_emit_image(&img, &sb) ||
		    index_parse_image("emitted", sb.buf, sb.len, &back))
			__builtin_trap();
		if (!same(img.build, back.build))
			__builtin_trap();
		check_same_image(&img, &back);
		index_image_release(&back);
		index_image_release(&img);
	}
	sb.len = 0;
	if (index_parse_catalog("fuzz", (const char *)data, size, &cat) == 0) {
		if (index_emit_catalog(&cat, &sb) ||
		    index_parse_catalog("emitted", sb.buf, sb.len, &cback))
			__builtin_trap();
		if (cback.n != cat.n)
			__builtin_trap();
		for (size_t i = 0; i < cat.n; i++)
			check_same_image(&cat.images[i], &cback.images[i]);
		index_catalog_release(&cback);
		index_catalog_release(&cat);
	}
	sb_release(&sb);
	cap_errclear();
	return 0;
}
