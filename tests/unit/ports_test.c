// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for port forward specs: the accepted forms, every error path, the bound-port check.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/err.h"
#include "capstan/hv.h"

static void test_forms(void **state)
{
	struct hv_port p;
	char buf[48];

	assert_int_equal(hv_port_parse("8080:80", &p), 0);
	assert_string_equal(p.ip, "");
	assert_int_equal(p.host, 8080);
	assert_int_equal(p.guest, 80);
	assert_false(p.udp);
	assert_string_equal(hv_port_format(&p, buf, sizeof(buf)), "8080->80/tcp");

	assert_int_equal(hv_port_parse("127.0.0.1:2222:22/tcp", &p), 0);
	assert_string_equal(p.ip, "127.0.0.1");
	assert_string_equal(hv_port_format(&p, buf, sizeof(buf)), "127.0.0.1:2222->22/tcp");

	assert_int_equal(hv_port_parse("5353:53/udp", &p), 0);
	assert_true(p.udp);
	assert_string_equal(hv_port_format(&p, buf, sizeof(buf)), "5353->53/udp");

	assert_int_equal(hv_port_parse("0.0.0.0:1:65535", &p), 0);
	assert_string_equal(p.ip, "");
	assert_int_equal(p.host, 1);
	assert_int_equal(p.guest, 65535);

	/* 0.0.0.0 is no address at all: the same value, byte for byte (found by fuzz_ports) */
	struct hv_port q;
	assert_int_equal(hv_port_parse("1:65535", &q), 0);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void expect_bad(const char *spec, const char *why)
{
	struct hv_port p;

	assert_int_equal(hv_port_parse(spec, &p), -CAP_E_USAGE);
	const char *m = cap_errmsg(-CAP_E_USAGE);
	if (!strstr(m, why) || !strstr(m, spec))
		fail_msg("'%s': message '%s' lacks '%s'", spec, m, why);
}

static void test_errors(void **state)
{
	expect_bad("", "a host and a guest port are needed");
	expect_bad("8080", "a host and a guest port are needed");
	expect_bad("8080:", "guest port");
	expect_bad(":80", "host port");
	expect_bad("0:80", "host port");
	expect_bad("65536:80", "host port");
	expect_bad("8080:99999", "guest port");
	expect_bad("8080:80/sctp", "protocol must be tcp or udp");
	expect_bad("8080:80/", "protocol must be tcp or udp");
	expect_bad("8080:80/tcp/udp", "protocol must be tcp or udp");
	expect_bad("+80:80", "host port");
	expect_bad("80:-80", "guest port");
	expect_bad(" 80:80", "host port");
	expect_bad("1.2.3:80:80", "dotted IPv4");
	expect_bad("localhost:80:80", "dotted IPv4");
	expect_bad("999.0.0.1:80:80", "dotted IPv4");
	expect_bad(":80:80", "dotted IPv4");
	expect_bad("1.2.3.4:5:6:7", "too many ':'");
	expect_bad("[::1]:80:80", "too many ':'");
}

static void test_bound_port(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct hv_port p;
	char spec[32];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80", ntohs(sa.sin_port));
	assert_int_equal(hv_port_parse(spec, &p), 0);
	assert_int_equal(hv_port_check_free(&p), -CAP_E_UNAVAIL);
	assert_non_null(strstr(cap_errmsg(-CAP_E_UNAVAIL), "already in use"));
	close(fd);
	assert_int_equal(hv_port_check_free(&p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_bound_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
