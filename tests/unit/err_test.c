// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for err: recorded messages, the errno variant, save/restore, codes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "capstan/err.h"

static void test_errnof(void **state)
{
	/* either sign of the errno value, one return convention */
	assert_int_equal(cap_errnof(ENOENT, "cannot read '%s'", "a"), -ENOENT);
	assert_string_equal(cap_errmsg(-ENOENT), "cannot read 'a': No such file or directory");
	assert_int_equal(cap_errnof(-ENOSPC, "cannot write '%s'", "b"), -ENOSPC);
	assert_string_equal(cap_errmsg(-ENOSPC), "cannot write 'b': No space left on device");
	/* errno left at 0 by a failing call must still read as a failure */
	assert_int_equal(cap_errnof(0, "short read"), -EIO);
	assert_string_equal(cap_errmsg(-EIO), "short read: Input/output error");
}

static void test_errnof_long(void **state)
{
	char big[2000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cap_errnof(EACCES, "%s", big), -EACCES);
	assert_true(strlen(cap_errmsg(-EACCES)) < 1024);
	assert_int_equal(strncmp(cap_errmsg(-EACCES), "xxxx", 4), 0);
}

static void test_errmsg_belongs_to_code(void **state)
{
	cap_errclear();
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "bad data");
	cap_errf(CAP_E_DATA, "index.yaml:3:1: bad key");
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "index.yaml:3:1: bad key");
	assert_string_equal(cap_errmsg(CAP_E_DATA), "index.yaml:3:1: bad key");
	/* another code does not get a stale message that is not about it */
	assert_string_equal(cap_errmsg(-ENOENT), strerror(ENOENT));
	assert_string_equal(cap_errmsg(-CAP_E_UNAVAIL), "service unavailable");
	cap_errclear();
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "bad data");
}

static void test_errctx(void **state)
{
	cap_errf(CAP_E_DATA, "x %d", 1);
	assert_int_equal(cap_errctx(-CAP_E_DATA, "reading '%s'", "f"), -CAP_E_DATA);
	assert_string_equal(cap_errmsg(-CAP_E_DATA), "reading 'f': x 1");
	/* context over a code with no message of its own builds on its strerror */
	assert_int_equal(cap_errctx(-ENOENT, "rmi '%s'", "a"), -ENOENT);
	assert_string_equal(cap_errmsg(-ENOENT), "rmi 'a': No such file or directory");
}

static void test_save_restore(void **state)
{
	struct cap_errsaved saved;
	int ret = cap_errnof(ENOSPC, "cannot write '%s'", "disk.qcow2");

	cap_errsave(&saved);
	/* the rollback fails in its own way and records its own message */
	cap_errnof(EBUSY, "cannot remove '%s'", "dir");
	assert_string_equal(cap_errmsg(ret), strerror(ENOSPC));
	cap_errrestore(&saved);
	assert_string_equal(cap_errmsg(ret), "cannot write 'disk.qcow2': No space left on device");
	assert_string_equal(cap_errmsg(-EBUSY), strerror(EBUSY));
}

static void test_exit_codes(void **state)
{
	assert_int_equal(cap_exit_code(0), 0);
	assert_int_equal(cap_exit_code(-CAP_E_USAGE), 64);
	assert_int_equal(cap_exit_code(-CAP_E_NOTFOUND), 65);
	assert_int_equal(cap_exit_code(-CAP_E_UNAVAIL), 69);
	assert_int_equal(cap_exit_code(-CAP_E_INTR), 74);
	assert_int_equal(cap_exit_code(-ENOSPC), 74);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errnof),
	    cmocka_unit_test(test_errnof_long),
	    cmocka_unit_test(test_errmsg_belongs_to_code),
	    cmocka_unit_test(test_errctx),
	    cmocka_unit_test(test_save_restore),
	    cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
