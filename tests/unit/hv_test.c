// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for hv: QEMU command lines, exit status decoding, libvirt on its test:///default
// driver.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/ctx.h"
#include "capstan/err.h"
#include "capstan/hv.h"
#include "capstan/str.h"

static char *joined(char **argv)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; argv[i]; i++) {
		sb_adds(&sb, i ? " " : "");
		sb_adds(&sb, argv[i]);
	}
	return sb_detach(&sb);
}

static struct hv_config base_cfg(void)
{
	struct hv_config c = {0};

	c.name = "web";
	c.image = "capstan/hello";
	c.dir = "/r/instances/qemu/web";
	c.disk = "/r/instances/qemu/web/disk.qcow2";
	c.disk_format = "qcow2";
	c.kernel = "/r/cache/kernels/k-1";
	c.memory = 64 << 20;
	c.cpus = 1;
	c.boot = HV_BOOT_DIRECT;
	c.accel = HV_ACCEL_TCG;
	c.net = HV_NET_NAT;
	return c;
}

static void test_qemu_direct(void **state)
{
	struct hv_config c = base_cfg();
	struct hv_port p[2];
	char **argv, *s;

	assert_int_equal(hv_port_parse("127.0.0.1:8080:80", &p[0]), 0);
	assert_int_equal(hv_port_parse("5353:53/udp", &p[1]), 0);
	c.ports = p;
	c.nports = 2;
	c.cmdline = "/bin/hello a,b";
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", true, &argv), 0);
	s = joined(argv);
	assert_non_null(strstr(s, "qemu -nodefaults -no-user-config -display none -no-reboot"));
	assert_non_null(strstr(s, "-M microvm,"));
	assert_non_null(strstr(s, "-accel tcg -m 64M -smp 1"));
	assert_non_null(strstr(s, "-sandbox on,"));
	assert_non_null(strstr(s, "spawn=deny"));
	assert_non_null(strstr(s, "-kernel /r/cache/kernels/k-1 -append /bin/hello a,b"));
	assert_non_null(strstr(s, "virtio-blk-device,drive=hd0"));
	assert_non_null(
	    strstr(s, "-netdev user,id=n0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp::5353-:53"));
	assert_non_null(strstr(s, "-device virtio-net-device,netdev=n0"));
	assert_non_null(strstr(s, "-chardev file,id=con,path=console.log"));
	assert_non_null(strstr(s, "isa-debug-exit,iobase=0xf4"));
	assert_non_null(strstr(s, "isa-debugcon,iobase=0xe9"));
	assert_non_null(strstr(s, "-qmp unix:qmp.sock,server=on,wait=off"));
	assert_null(strstr(s, "vnc"));
	free(s);
	hv_qemu_argv_free(argv);

	c.cpus = 2; /* TCG runs the vCPUs in parallel */
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", true, &argv), 0);
	s = joined(argv);
	assert_non_null(strstr(s, "-accel tcg,thread=multi -m 64M -smp 2"));
	free(s);
	hv_qemu_argv_free(argv);
}

static void test_qemu_disk_kvm(void **state)
{
	struct hv_config c = base_cfg();
	char **argv, *s;

	c.boot = HV_BOOT_DISK;
	c.accel = HV_ACCEL_KVM;
	c.net = HV_NET_BRIDGE;
	c.netdev = "br0";
	c.foreground = true;
	c.disk = "/r/a,b/disk.qcow2";
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", false, &argv), 0);
	s = joined(argv);
	assert_non_null(strstr(s, "-M pc "));
	assert_non_null(strstr(s, "-accel kvm -cpu host,-arch-capabilities"));
	assert_null(strstr(s, "-kernel"));
	assert_null(strstr(s, "-sandbox"));
	/* JSON: no comma doubling; the overlay stands alone without a base */
	assert_non_null(strstr(s, "\"filename\":\"/r/a,b/disk.qcow2\""));
	assert_non_null(strstr(s, "\"node-name\":\"hd0\""));
	assert_non_null(strstr(s, "\"backing\":null"));
	assert_non_null(strstr(s, "virtio-blk-pci,drive=hd0"));
	assert_non_null(strstr(s, "-netdev bridge,id=n0,br=br0"));
	assert_non_null(strstr(s, "virtio-net-pci,romfile=,netdev=n0"));
	assert_non_null(strstr(s, "stdio,id=con,mux=on,signal=off,logfile=console.log"));
	free(s);
	hv_qemu_argv_free(argv);

	c.net = HV_NET_NONE;
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", true, &argv), 0);
	s = joined(argv);
	assert_null(strstr(s, "-netdev"));
	free(s);
	hv_qemu_argv_free(argv);
}

/*
 * The repository image is a node of its own whose backing is null: a backing
 * file name written in the image never reaches QEMU.
 */
static void test_qemu_backing_chain(void **state)
{
	struct hv_config c = base_cfg();
	char **argv, *s;

	c.base = "/r/repository/x/\"q\"/x.qemu";
	c.base_format = "qcow2";
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", false, &argv), 0);
	s = joined(argv);
	assert_null(strstr(s, "-drive"));
	assert_non_null(strstr(s,
			       "-blockdev {\"driver\":\"file\",\"filename\":"
			       "\"/r/repository/x/\\\"q\\\"/x.qemu\",\"node-name\":\"base-file\","
			       "\"read-only\":true}"));
	assert_non_null(strstr(s, "-blockdev {\"driver\":\"qcow2\",\"file\":\"base-file\","
				  "\"node-name\":\"base\",\"read-only\":true,\"backing\":null}"));
	assert_non_null(strstr(s, "\"node-name\":\"hd0\",\"cache\":{\"no-flush\":true},"
				  "\"discard\":\"unmap\",\"backing\":\"base\"}"));
	free(s);
	hv_qemu_argv_free(argv);

	/* A raw base has no backing to disable. */
	c.base_format = "raw";
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", false, &argv), 0);
	s = joined(argv);
	assert_non_null(strstr(s,
			       "{\"driver\":\"raw\",\"file\":\"base-file\",\"node-name\":\"base\","
			       "\"read-only\":true}"));
	free(s);
	hv_qemu_argv_free(argv);
}

static void test_decode(void **state)
{
	assert_int_equal(hv_qemu_decode_exit(0), 0);   /* ACPI off or triple fault */
	assert_int_equal(hv_qemu_decode_exit(85), 42); /* isa-debug-exit 2v+1 */
	assert_int_equal(hv_qemu_decode_exit(255), 127);
	assert_int_equal(hv_qemu_decode_exit(1), -1); /* QEMU's own failure */
	assert_int_equal(hv_qemu_decode_exit(2), -1);
	assert_int_equal(hv_qemu_decode_exit(265), -1); /* killed by a signal */
}

static void test_names(void **state)
{
	enum hv_net n;

	assert_int_equal(hv_net_parse("tap", &n), 0);
	assert_int_equal(n, HV_NET_TAP);
	assert_string_equal(hv_net_name(n), "tap");
	assert_int_equal(hv_net_parse("vpnkit", &n), -CAP_E_USAGE);
	assert_string_equal(cap_errmsg(-CAP_E_USAGE),
			    "unknown network mode 'vpnkit' (nat, bridge, tap, none or vhost)");
	assert_string_equal(hv_boot_name(HV_BOOT_DISK), "disk");
	assert_string_equal(hv_accel_name(HV_ACCEL_KVM), "kvm");
	struct hv *hv = NULL;
	struct cap_ctx ctx;
	cap_ctx_init(&ctx);
	assert_int_equal(hv_open(&ctx, "vbox", NULL, &hv), -CAP_E_USAGE);
	assert_int_equal(hv_open(&ctx, "qemu", "test:///default", &hv), -CAP_E_USAGE);
	assert_int_equal(hv_open(&ctx, "qemu", NULL, &hv), 0);
	assert_string_equal(hv->ops->name, "qemu");
	hv_free(hv);
}

static void test_parse(void **state)
{
	enum hv_accel a;
	enum hv_boot b;
	enum hv_net n;
	const char *be;

	assert_int_equal(hv_accel_parse("kvm", &a), 0);
	assert_int_equal(a, HV_ACCEL_KVM);
	assert_int_equal(hv_accel_parse("hvf", &a), -CAP_E_USAGE);
	assert_int_equal(hv_boot_parse("disk", &b), 0);
	assert_int_equal(b, HV_BOOT_DISK);
	assert_int_equal(hv_boot_parse("pxe", &b), -CAP_E_USAGE);
	assert_int_equal(hv_backend_parse("libvirt", &be), 0);
	assert_string_equal(be, "libvirt");
	assert_int_equal(hv_backend_parse("fake", &be), -CAP_E_USAGE);
	assert_int_equal(hv_net_parse("vhost", &n), 0);
	assert_int_equal(n, HV_NET_VHOST);
	/* Capstan's -p: what we run selects the backend, the others say what we run */
	assert_int_equal(hv_platform_backend("qemu", &be), 0);
	assert_string_equal(be, "qemu");
	assert_int_equal(hv_platform_backend("vbox", &be), -CAP_E_UNAVAIL);
	assert_non_null(strstr(cap_errmsg(-CAP_E_UNAVAIL), "capstan runs qemu"));
	assert_int_equal(hv_platform_backend("xen", &be), -CAP_E_USAGE);
	assert_int_equal(hv_mac_check("52:54:00:12:34:56"), 0);
	assert_int_equal(hv_mac_check("52:54:00:12:34"), -CAP_E_USAGE);
	assert_int_equal(hv_mac_check("52:54:00:12:34:5g"), -CAP_E_USAGE);
	assert_int_equal(hv_mac_check("01:00:5e:00:00:01"), -CAP_E_USAGE); /* multicast */
	assert_int_equal(hv_mac_check("52:54:00:12:34:56,x"), -CAP_E_USAGE);
}

static void test_qemu_mac_vhost(void **state)
{
	struct hv_config c = base_cfg();
	char **argv, *s;

	c.mac = "52:54:00:ab:cd:ef";
	c.net = HV_NET_VHOST;
	c.netdev = "tap7";
	assert_int_equal(hv_qemu_build_argv(&c, "qemu", false, &argv), 0);
	s = joined(argv);
	assert_non_null(
	    strstr(s, "-netdev tap,id=n0,ifname=tap7,script=no,downscript=no,vhost=on"));
	assert_non_null(strstr(s, "-device virtio-net-device,mac=52:54:00:ab:cd:ef,netdev=n0"));
	free(s);
	hv_qemu_argv_free(argv);
}

/* Every name the command line takes parses back to the value it names. */
static void test_parse_names(void **state)
{
	enum hv_boot b;
	enum hv_accel a;
	const char *backend = NULL;

	for (b = HV_BOOT_DIRECT; b <= HV_BOOT_DISK; b++) {
		enum hv_boot got = HV_BOOT_DIRECT;
		assert_int_equal(hv_boot_parse(hv_boot_name(b), &got), 0);
		assert_int_equal(got, b);
	}
	for (a = HV_ACCEL_AUTO; a <= HV_ACCEL_TCG; a++) {
		enum hv_accel got = HV_ACCEL_AUTO;
		assert_int_equal(hv_accel_parse(hv_accel_name(a), &got), 0);
		assert_int_equal(got, a);
	}
	assert_int_equal(hv_boot_parse("pxe", &b), -CAP_E_USAGE);
	assert_string_equal(cap_errmsg(-CAP_E_USAGE), "unknown boot mode 'pxe' (direct or disk)");
	assert_int_equal(hv_accel_parse("hvf", &a), -CAP_E_USAGE);
	assert_string_equal(cap_errmsg(-CAP_E_USAGE),
			    "unknown accelerator 'hvf' (auto, kvm or tcg)");
	assert_int_equal(hv_accel_parse("KVM", &a), -CAP_E_USAGE);
	assert_int_equal(hv_backend_parse("libvirt", &backend), 0);
	assert_string_equal(backend, "libvirt");
	assert_int_equal(hv_backend_parse("xen", &backend), -CAP_E_USAGE);
	assert_string_equal(cap_errmsg(-CAP_E_USAGE), "unknown backend 'xen' (qemu or libvirt)");
}

static void test_libvirt_xml(void **state)
{
	struct cap_ctx ctx;
	struct hv_config c = base_cfg();
	char *xml = NULL;

	cap_ctx_init(&ctx);
	ctx.datadir = xstrdup(CAPSTAN_BUILD_ROOT);
	c.name = "a<b";
	c.cmdline = "/bin/x 'q' & more";
	c.accel = HV_ACCEL_KVM;
	assert_int_equal(hv_libvirt_domain_xml(&ctx, &c, false, &xml), 0);
	assert_non_null(strstr(xml, "<domain type='kvm'"));
	assert_non_null(strstr(xml, "<name>capstan-a&lt;b</name>"));
	assert_non_null(strstr(xml, "<memory unit='KiB'>65536</memory>"));
	assert_non_null(strstr(xml, "<kernel>/r/cache/kernels/k-1</kernel>"));
	assert_non_null(strstr(xml, "<cmdline>/bin/x &apos;q&apos; &amp; more</cmdline>"));
	assert_non_null(strstr(xml, "<source file='/r/instances/qemu/web/disk.qcow2'/>\n"
				    "      <backingStore/>"));
	assert_non_null(
	    strstr(xml, "<source path='/r/instances/qemu/web/console.log' append='off'/>"));
	assert_non_null(strstr(xml, "name='arch-capabilities'"));
	assert_non_null(strstr(xml, "isa-debugcon,iobase=0xe9"));
	assert_null(strstr(xml, "@"));
	free(xml);
	c.boot = HV_BOOT_DISK;
	c.net = HV_NET_NONE;
	assert_int_equal(hv_libvirt_domain_xml(&ctx, &c, true, &xml), 0);
	assert_non_null(strstr(xml, "<domain type='test'"));
	assert_non_null(strstr(xml, "<boot dev='hd'/>"));
	assert_null(strstr(xml, "<kernel>"));
	assert_null(strstr(xml, "<interface"));
	free(xml);
	/* The repository image spelled out, its own backing empty. */
	c.base = "/r/repository/x/x.qemu";
	c.base_format = "qcow2";
	assert_int_equal(hv_libvirt_domain_xml(&ctx, &c, true, &xml), 0);
	assert_non_null(strstr(xml, "<backingStore type='file'>\n"
				    "        <format type='qcow2'/>\n"
				    "        <source file='/r/repository/x/x.qemu'/>\n"
				    "        <backingStore/>\n"
				    "      </backingStore>"));
	free(xml);
	cap_ctx_release(&ctx);
}

/* The whole life of a domain on libvirt's in-process test driver. */
static void test_libvirt_test_driver(void **state)
{
	struct cap_ctx ctx;
	struct hv_config c = base_cfg();
	struct hv_ref ref = {0};
	struct hv_status st;
	struct hv *hv = NULL;
	bool forced;

	if (!HAVE_LIBVIRT) /* meson -Dlibvirt=disabled: the backend says so, nothing to drive */
		skip();
	cap_ctx_init(&ctx);
	ctx.datadir = xstrdup(CAPSTAN_BUILD_ROOT);
	assert_int_equal(hv_open(&ctx, "libvirt", "test:///default", &hv), 0);
	assert_string_equal(hv->ops->name, "libvirt");
	c.accel = HV_ACCEL_AUTO;
	assert_int_equal(hv->ops->probe(hv, &c), 0);
	assert_true(c.accel != HV_ACCEL_AUTO);
	assert_int_equal(hv->ops->start(hv, &c, &ref), 0);
	assert_non_null(ref.uuid);
	assert_int_equal(strlen(ref.uuid), 36);
	ref.name = c.name;
	ref.dir = c.dir;
	char *uuid = xstrdup(ref.uuid);
	ref.uuid = uuid;
	assert_int_equal(hv->ops->status(hv, &ref, &st), 0);
	assert_int_equal(st.state, HV_RUNNING);

	/* The name is taken while the domain exists. */
	struct hv_ref ref2 = {0};
	assert_true(hv->ops->start(hv, &c, &ref2) < 0);
	assert_non_null(strstr(cap_errmsg(-CAP_E_UNAVAIL), "libvirt"));

	/* The test driver answers the power button at once: a graceful stop. */
	assert_int_equal(hv->ops->stop(hv, &ref, 1000, &forced), 0);
	assert_false(forced);
	assert_int_equal(hv->ops->status(hv, &ref, &st), 0);
	assert_int_equal(st.state, HV_EXITED);
	assert_int_equal(hv->ops->stop(hv, &ref, 1000, &forced), 0); /* already off: fine */

	assert_int_equal(hv->ops->release(hv, &ref), 0);
	assert_int_equal(hv->ops->status(hv, &ref, &st), 0);
	assert_int_equal(st.state, HV_CRASHED); /* gone without a trace */
	free(uuid);
	hv_free(hv);

	assert_int_equal(hv_open(&ctx, "libvirt", "nosuch:///x", &hv), 0);
	c.accel = HV_ACCEL_TCG;
	assert_int_equal(hv->ops->probe(hv, &c), -CAP_E_UNAVAIL);
	assert_non_null(strstr(cap_errmsg(-CAP_E_UNAVAIL), "nosuch:///x"));
	hv_free(hv);
	cap_ctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qemu_direct),
	    cmocka_unit_test(test_qemu_disk_kvm),
	    cmocka_unit_test(test_qemu_backing_chain),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_qemu_mac_vhost),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_parse_names),
	    cmocka_unit_test(test_libvirt_xml),
	    cmocka_unit_test(test_libvirt_test_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
