// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for sha256: the FIPS 180-2 example vectors, streaming splits, both block functions.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capstan/sha256.h"

struct vec {
	const char *msg;
	size_t repeat;
	const char *hex;
};

static const struct vec vecs[] = {
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnop"
     "qrsmnopqrs"
     "tnopqrstu",
     1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    /* 55, 56 and 64 bytes: the padding boundaries. */
    {"0123456789012345678901234567890123456789012345678901234", 1,
     "f34d5a0f80c0cbf84c8c0b90218c22637abd199965249da736a20143c8c9c9d9"},
    {"01234567890123456789012345678901234567890123456789012345", 1,
     "83aa034bda83e458a0dc9cbce0d4e354716aa0ff770ed37ac0ed2b292052e4af"},
    {"0123456789012345678901234567890123456789012345678901234567890123", 1,
     "9674d9e078535b7cec43284387a6ee39956188e735a85452b0050b55341cda56"},
};

static void check_vectors(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct sha256 s;
		char hex[SHA256_HEX_LEN + 1];
		size_t len = strlen(vecs[i].msg);

		sha256_init(&s);
		for (size_t r = 0; r < vecs[i].repeat; r++)
			sha256_update(&s, vecs[i].msg, len);
		sha256_final_hex(&s, hex);
		assert_string_equal(hex, vecs[i].hex);
	}
}

static void test_vectors_default(void **state)
{
	sha256_force_generic(false);
	check_vectors();
}

static void test_vectors_generic(void **state)
{
	sha256_force_generic(true);
	assert_string_equal(sha256_impl(), "generic");
	check_vectors();
	sha256_force_generic(false);
}

/* Any split of the input gives the same digest, and both block functions agree. */
static void test_splits(void **state)
{
	size_t n = 100003;
	uint8_t *buf = malloc(n);
	char want[SHA256_HEX_LEN + 1], got[SHA256_HEX_LEN + 1];
	uint32_t x = 12345;

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	sha256_force_generic(true);
	sha256_hex(buf, n, want);
	sha256_force_generic(false);
	sha256_hex(buf, n, got);
	assert_string_equal(got, want);
	static const size_t steps[] = {1, 3, 63, 64, 65, 127, 4096, 65537};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct sha256 s;
		sha256_init(&s);
		for (size_t off = 0; off < n; off += steps[k])
			sha256_update(&s, buf + off, n - off < steps[k] ? n - off : steps[k]);
		sha256_final_hex(&s, got);
		assert_string_equal(got, want);
	}
	free(buf);
}

static void test_hex_valid(void **state)
{
	assert_true(sha256_hex_valid(vecs[0].hex));
	assert_true(
	    sha256_hex_valid("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	assert_false(sha256_hex_valid(""));
	assert_false(sha256_hex_valid("e3b0"));
	assert_false(
	    sha256_hex_valid("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	assert_false(
	    sha256_hex_valid("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_default),
	    cmocka_unit_test(test_vectors_generic),
	    cmocka_unit_test(test_splits),
	    cmocka_unit_test(test_hex_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
