// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the kernel's command line parser, compiled for the host.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcmdline.h"

static struct kcmdline c;

static void test_words_and_quotes(void **state)
{
	assert_int_equal(kcmdline_parse(&c, "/bin/sh -c 'echo $((6*7))'"), 0);
	assert_int_equal(c.argc, 3);
	assert_string_equal(c.argv[0], "/bin/sh");
	assert_string_equal(c.argv[1], "-c");
	assert_string_equal(c.argv[2], "echo $((6*7))");
	assert_null(c.argv[3]);

	assert_int_equal(
	    kcmdline_parse(
		&c,
		"  /p one 'two  words' \"dq \\\"x\\\" 'y'\" back\\\\slash '' a\\ b x\"y\"'z'  "),
	    0);
	assert_int_equal(c.argc, 8);
	assert_string_equal(c.argv[2], "two  words");
	assert_string_equal(c.argv[3], "dq \"x\" 'y'");
	assert_string_equal(c.argv[4], "back\\slash");
	assert_string_equal(c.argv[5], "");
	assert_string_equal(c.argv[6], "a b");
	assert_string_equal(c.argv[7], "xyz");
	/* inside double quotes a backslash before other characters stays */
	assert_int_equal(kcmdline_parse(&c, "/p \"a\\nb\""), 0);
	assert_string_equal(c.argv[1], "a\\nb");
}

static void test_options_and_env(void **state)
{
	assert_int_equal(
	    kcmdline_parse(
		&c, "--verbose --trace --nosys --netstat --env=A=1 '--env=B=b c' --cwd=/data /p x"),
	    0);
	assert_int_equal(c.flags, KCMD_VERBOSE | KCMD_TRACE | KCMD_NOSYS | KCMD_NETSTAT);
	assert_int_equal(c.envc, 2);
	assert_string_equal(c.envp[0], "A=1");
	assert_string_equal(c.envp[1], "B=b c");
	assert_null(c.envp[2]);
	assert_string_equal(c.cwd, "/data");
	assert_null(c.ip);
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "/p");

	/* "--" ends the options; options after the program are its own */
	assert_int_equal(kcmdline_parse(&c, "--quiet -- --weird --verbose"), 0);
	assert_int_equal(c.flags, KCMD_QUIET);
	assert_string_equal(c.argv[0], "--weird");
	assert_string_equal(c.argv[1], "--verbose");
	assert_int_equal(kcmdline_parse(&c, "/p --verbose"), 0);
	assert_int_equal(c.flags, 0);
	/* an env value may hold '=' */
	assert_int_equal(kcmdline_parse(&c, "--env=X=a=b /p"), 0);
	assert_string_equal(c.envp[0], "X=a=b");
}

static void test_qemu_suffix(void **state)
{
	assert_int_equal(kcmdline_parse(&c, "/p a virtio_mmio.device=512@0xfeb00e00:12"), 0);
	assert_int_equal(c.argc, 2);
	assert_int_equal(kcmdline_parse(&c, " virtio_mmio.device=512@0xfeb00e00:12"), -1);
	assert_non_null(strstr(c.err, "no program"));
}

static void test_errors(void **state)
{
	assert_int_equal(kcmdline_parse(&c, ""), -1);
	assert_non_null(strstr(c.err, "no program"));
	assert_int_equal(kcmdline_parse(&c, "--verbose"), -1);
	assert_int_equal(kcmdline_parse(&c, "/p 'open"), -1);
	assert_non_null(strstr(c.err, "single quote"));
	assert_int_equal(kcmdline_parse(&c, "/p \"open"), -1);
	assert_non_null(strstr(c.err, "double quote"));
	assert_int_equal(kcmdline_parse(&c, "/p end\\"), -1);
	assert_int_equal(kcmdline_parse(&c, "--bogus /p"), -1);
	assert_string_equal(c.err, "unknown kernel option: --bogus");
	assert_int_equal(kcmdline_parse(&c, "--env=NOVALUE /p"), -1);
	assert_int_equal(kcmdline_parse(&c, "--env==x /p"), -1);
	assert_int_equal(kcmdline_parse(&c, "--cwd=rel /p"), -1);
	assert_int_equal(kcmdline_parse(&c, "--ip= /p"), -1);
	assert_int_equal(kcmdline_parse(&c, "--ip=10.0.0.5/8,10.0.0.1 /p"), 0);
	assert_string_equal(c.ip, "10.0.0.5/8,10.0.0.1");

	char *many = malloc(KCMD_ARGS * 2 + 16);
	size_t o = 0;
	many[o++] = '/';
	many[o++] = 'p';
	for (int i = 0; i < KCMD_ARGS + 1; i++) {
		many[o++] = ' ';
		many[o++] = 'x';
	}
	many[o] = 0;
	assert_int_equal(kcmdline_parse(&c, many), -1);
	assert_non_null(strstr(c.err, "too many"));
	free(many);

	char *big = malloc(KCMD_MAX + 16);
	memset(big, 'a', KCMD_MAX + 8);
	big[0] = '/';
	big[KCMD_MAX + 8] = 0;
	assert_int_equal(kcmdline_parse(&c, big), -1);
	assert_non_null(strstr(c.err, "too long"));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words_and_quotes),
	    cmocka_unit_test(test_options_and_env),
	    cmocka_unit_test(test_qemu_suffix),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
