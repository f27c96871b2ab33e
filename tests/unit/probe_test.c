// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for image probing: headers crafted here, one per format and per validation.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/probe.h"

#define MiB    (1ull << 20)
#define BUFLEN (256u << 10)
static uint8_t buf[BUFLEN];

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static void be64(uint8_t *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

static void le32(uint8_t *p, uint32_t v)
{
	p[3] = (uint8_t)(v >> 24), p[2] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8),
	p[0] = (uint8_t)v;
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

/* A consistent qcow2 v3 header like qemu-img writes: 64K clusters, refcount table at 64K, L1 at
 * 192K. */
static void qcow2(uint32_t version, uint64_t size)
{
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "QFI\xfb", 4);
	be32(buf + 4, version);
	be32(buf + 20, 16);
	be64(buf + 24, size);
	be32(buf + 36, (uint32_t)((size + (512ull << 20) - 1) / (512ull << 20)));
	be64(buf + 40, 3 * 65536);
	be64(buf + 48, 65536);
	be32(buf + 56, 1);
	if (version == 3) {
		be32(buf + 96, 4);
		be32(buf + 100, 112);
	}
}

static int probe(size_t len, struct probe_info *in)
{
	size_t need = 0;
	int ret = probe_buf(buf, len, BUFLEN, "x.img", in, &need);
	assert_int_not_equal(ret, 1);
	return ret;
}

static void bad(const char *what)
{
	struct probe_info in;
	int ret = probe(BUFLEN, &in);

	assert_int_equal(ret, -CAP_E_DATA);
	if (!strstr(cap_errmsg(ret), what))
		fail_msg("got '%s', want '%s'", cap_errmsg(ret), what);
	assert_null(in.backing_file);
}

static void test_qcow2_ok(void **state)
{
	struct probe_info in;

	qcow2(3, 10ull << 30);
	assert_int_equal(probe(BUFLEN, &in), 0);
	assert_int_equal(in.format, PROBE_QCOW2);
	assert_int_equal(in.qcow2_version, 3);
	assert_int_equal(in.cluster_bits, 16);
	assert_int_equal(in.virtual_size, 10ull << 30);
	assert_int_equal(in.file_size, BUFLEN);
	assert_int_equal(in.l1_size, 20);
	assert_string_equal(in.compression, "zlib");
	assert_null(in.backing_file);
	assert_string_equal(probe_platform(in.format), "qemu");
	assert_string_equal(probe_format_name(in.format), "qcow2");
	probe_info_release(&in);

	/* version 2, backing file and its format extension, zstd on v3 */
	qcow2(2, 1 << 20);
	be64(buf + 8, 0x200);
	be32(buf + 16, 8);
	memcpy(buf + 0x200, "base.img", 8);
	be32(buf + 72, 0xe2792aca);
	be32(buf + 76, 5);
	memcpy(buf + 80, "qcow2", 5);
	assert_int_equal(probe(BUFLEN, &in), 0);
	assert_int_equal(in.qcow2_version, 2);
	assert_string_equal(in.backing_file, "base.img");
	assert_string_equal(in.backing_format, "qcow2");
	assert_int_equal(in.refcount_bits, 16);
	probe_info_release(&in);

	qcow2(3, 1 << 20);
	be64(buf + 72, 1u << 3);
	buf[104] = 1;
	assert_int_equal(probe(BUFLEN, &in), 0);
	assert_string_equal(in.compression, "zstd");
	probe_info_release(&in);
}

static void test_qcow2_needs_more(void **state)
{
	struct probe_info in;
	size_t need = 0;

	/* the backing name sits past the bytes given but inside the first cluster */
	qcow2(3, 1 << 20);
	be64(buf + 8, 0x9000);
	be32(buf + 16, 4);
	memcpy(buf + 0x9000, "back", 4);
	assert_int_equal(probe_buf(buf, 4096, BUFLEN, "x.img", &in, &need), 1);
	assert_int_equal(need, 65536);
	assert_int_equal(probe_buf(buf, need, BUFLEN, "x.img", &in, &need), 0);
	assert_string_equal(in.backing_file, "back");
	probe_info_release(&in);
}

static void test_qcow2_bad(void **state)
{
	struct probe_info in;

	qcow2(3, 1 << 20);
	assert_int_equal(probe(40, &in), -CAP_E_DATA);
	assert_non_null(
	    strstr(cap_errmsg(-CAP_E_DATA), "'x.img': qcow2 header: truncated (40 bytes"));
	assert_int_equal(probe(90, &in), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "a version 3 header needs 104"));

	qcow2(4, 1 << 20);
	bad("version 4 is not supported");
	qcow2(3, 1 << 20);
	be32(buf + 20, 30);
	bad("cluster_bits 30 is out of range (9..21)");
	qcow2(3, 1 << 20);
	be32(buf + 20, 8);
	bad("cluster_bits 8 is out of range");
	qcow2(3, 1 << 20);
	be32(buf + 32, 7);
	bad("crypt_method 7 is unknown");
	qcow2(3, 100ull << 30);
	be32(buf + 36, 1);
	bad("l1_size 1 is too small for size 107374182400 (needs 200)");
	qcow2(3, 1 << 20);
	be32(buf + 36, 0x1000000);
	bad("l1_size 16777216 is too large");
	qcow2(3, 1 << 20);
	be64(buf + 40, 3 * 65536 + 8);
	bad("l1_table_offset 0x30008 is not a cluster");
	qcow2(3, 1 << 20);
	be64(buf + 40, 4 * 65536);
	bad("l1_table_offset 0x40000 is past the end of the file (truncated?)");
	qcow2(3, 1 << 20);
	be64(buf + 48, 0);
	bad("refcount_table_offset 0x0");
	qcow2(3, 1 << 20);
	be64(buf + 48, 8 * 65536);
	bad("refcount_table_offset 0x80000 is past the end of the file");
	qcow2(3, 1 << 20);
	be32(buf + 56, 0);
	bad("refcount_table_clusters 0 is out of range");
	qcow2(3, 1 << 20);
	be64(buf + 72, 1u << 7);
	bad("incompatible_features 0x80 has unknown bits");
	qcow2(3, 1 << 20);
	be64(buf + 72, 1u << 1);
	bad("marked corrupt");
	qcow2(3, 1 << 20);
	be32(buf + 96, 7);
	bad("refcount_order 7 is out of range");
	qcow2(3, 1 << 20);
	be32(buf + 100, 100);
	bad("header_length 100 is invalid");
	qcow2(3, 1 << 20);
	be32(buf + 100, 110);
	bad("header_length 110 is invalid");
	qcow2(3, 1 << 20);
	buf[104] = 2;
	bad("compression_type 2 is unknown");
	qcow2(3, 1 << 20);
	buf[104] = 1;
	bad("compression_type 1 disagrees with incompatible feature bit 3");
	qcow2(3, 1 << 20);
	be64(buf + 72, 1u << 3);
	bad("compression_type 0 disagrees");
	qcow2(3, 1 << 20);
	be64(buf + 8, 0x200);
	be32(buf + 16, 2000);
	bad("backing_file_size 2000 is out of range (1..1023)");
	qcow2(3, 1 << 20);
	be64(buf + 8, 65530);
	be32(buf + 16, 100);
	bad("backing_file_offset 65530 is outside the header cluster");
	qcow2(3, 1 << 20);
	be64(buf + 8, 0x200);
	be32(buf + 16, 4);
	memcpy(buf + 0x200, "a\0b", 4);
	bad("backing file name contains a NUL byte");
	qcow2(3, 1 << 20);
	be32(buf + 112, 0x1234);
	be32(buf + 116, 70000);
	bad("header extension 0x00001234 length 70000 runs past the cluster");
	qcow2(3, 1 << 20);
	be32(buf + 60, 1);
	be64(buf + 64, 100);
	bad("snapshots_offset 0x64 is invalid");

	/* the whole file shorter than the header: truncated, not "need more" */
	qcow2(3, 1 << 20);
	size_t need = 0;
	assert_int_equal(probe_buf(buf, 60, 60, "x.img", &in, &need), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "truncated (60 bytes"));
}

static void test_vdi(void **state)
{
	struct probe_info in;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "<<< QEMU VM Virtual Disk Image >>>\n", 35);
	le32(buf + 0x40, 0xbeda107f);
	le32(buf + 0x44, 0x00010001);
	le32(buf + 0x48, 0x190);
	le32(buf + 0x4c, 1);
	le32(buf + 0x168, 512);
	le64(buf + 0x170, 64 * MiB);
	le32(buf + 0x178, 1 << 20);
	le32(buf + 0x180, 64);
	assert_int_equal(probe(BUFLEN, &in), 0);
	assert_int_equal(in.format, PROBE_VDI);
	assert_int_equal(in.virtual_size, 64 * MiB);
	assert_string_equal(probe_platform(in.format), "vbox");
	assert_int_equal(probe(0x100, &in), -CAP_E_DATA);
	assert_non_null(
	    strstr(cap_errmsg(-CAP_E_DATA), "'x.img': VDI header: truncated (256 bytes"));
	le32(buf + 0x180, 63);
	bad("VDI header: disk_size 67108864 exceeds blocks_in_image 63");
	le32(buf + 0x180, 64);
	le32(buf + 0x168, 4096);
	bad("sector_size 4096 is not 512");
	le32(buf + 0x168, 512);
	le32(buf + 0x44, 0x00020000);
	bad("version 2.0 is not supported");
	le32(buf + 0x44, 0x00010001);
	le32(buf + 0x4c, 3);
	bad("image_type 3 is unknown");
	le32(buf + 0x4c, 2);
	le32(buf + 0x178, 1000);
	bad("block_size 1000 is not a power of two");
}

static void test_vmdk(void **state)
{
	struct probe_info in;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "KDMV", 4);
	le32(buf + 4, 1);
	le64(buf + 12, 131072);
	le64(buf + 20, 128);
	assert_int_equal(probe(BUFLEN, &in), 0);
	assert_int_equal(in.format, PROBE_VMDK);
	assert_false(in.vmdk_descriptor);
	assert_int_equal(in.virtual_size, 64 * MiB);
	assert_string_equal(probe_platform(in.format), "vmw");
	assert_int_equal(probe(100, &in), -CAP_E_DATA);
	le32(buf + 4, 9);
	bad("VMDK header: version 9 is not supported");
	le32(buf + 4, 3);
	le64(buf + 20, 100);
	bad("grainSize 100 is not a power of two");

	const char *desc = "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\n\n"
			   "RW 2048 FLAT \"a-flat.vmdk\" 0\nRDONLY 2048 FLAT \"b-flat.vmdk\" 0\n";
	memset(buf, 0, sizeof(buf));
	memcpy(buf, desc, strlen(desc));
	assert_int_equal(probe_buf(buf, strlen(desc), strlen(desc), "d.vmdk", &in, NULL), 0);
	assert_true(in.vmdk_descriptor);
	assert_string_equal(in.vmdk_create_type, "monolithicFlat");
	assert_int_equal(in.virtual_size, 2 * MiB);
	probe_info_release(&in);
	const char *none = "# Disk DescriptorFile\nversion=1\n";
	assert_int_equal(probe_buf(none, strlen(none), strlen(none), "d.vmdk", &in, NULL),
			 -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "descriptor lists no extents"));
	const char *nonum = "# Disk DescriptorFile\nRW many FLAT \"x\" 0\n";
	assert_int_equal(probe_buf(nonum, strlen(nonum), strlen(nonum), "d.vmdk", &in, NULL),
			 -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "has no sector count"));
}

static void test_raw_and_gzip(void **state)
{
	struct probe_info in;

	/* Never by name: a raw file named .qcow2 is raw, a qcow2 named .img is qcow2. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(probe_buf(buf, 4096, 1ull << 30, "disk.qcow2", &in, NULL), 0);
	assert_int_equal(in.format, PROBE_RAW);
	assert_int_equal(in.virtual_size, 1ull << 30);
	assert_string_equal(probe_platform(in.format), "raw");
	assert_int_equal(probe_buf(buf, 0, 0, "empty", &in, NULL), 0);
	assert_int_equal(in.format, PROBE_RAW);
	buf[0] = 0x1f, buf[1] = 0x8b;
	assert_int_equal(probe_buf(buf, 4096, 4096, "x.qcow2", &in, NULL), 0);
	assert_int_equal(in.format, PROBE_GZIP);
	assert_null(probe_platform(in.format));
	/* 3 bytes of a qcow2 magic is not qcow2 */
	assert_int_equal(probe_buf("QFI", 3, 3, "x", &in, NULL), 0);
	assert_int_equal(in.format, PROBE_RAW);
}

static void test_probe_file(void **state)
{
	char path[] = "/tmp/probe-test.XXXXXX";
	int fd = mkstemp(path);
	struct probe_info in;

	assert_true(fd >= 0);
	qcow2(3, 1 << 20);
	be64(buf + 8, 0x9000);
	be32(buf + 16, 4);
	memcpy(buf + 0x9000, "back", 4);
	assert_int_equal(fs_write_full(fd, buf, BUFLEN), 0);
	assert_int_equal(probe_fd(fd, path, &in), 0);
	assert_string_equal(in.backing_file, "back");
	probe_info_release(&in);
	/* truncate inside the L1 table: the header now points past the end */
	assert_int_equal(ftruncate(fd, 3 * 65536 + 4), 0);
	assert_int_equal(probe_file(path, &in), -CAP_E_DATA);
	assert_non_null(
	    strstr(cap_errmsg(-CAP_E_DATA), "l1_table_offset 0x30000 is past the end of the file"));
	close(fd);
	unlink(path);
	assert_true(probe_file(path, &in) < 0);
	assert_non_null(strstr(cap_errmsg(-2), "cannot read"));
	assert_int_equal(probe_file("/tmp", &in), -21);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qcow2_ok),   cmocka_unit_test(test_qcow2_needs_more),
	    cmocka_unit_test(test_qcow2_bad),  cmocka_unit_test(test_vdi),
	    cmocka_unit_test(test_vmdk),       cmocka_unit_test(test_raw_and_gzip),
	    cmocka_unit_test(test_probe_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
