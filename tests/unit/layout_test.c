// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for image/layout and image/rootfs: write an image, read it back, refuse bad input.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/layout.h"

static char dir[64];

static char *path(const char *name)
{
	static char buf[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* A minimal kernel ELF: one PT_LOAD from offset 0 at 1 MiB, a PVH note. */
static void write_kernel(const char *p, bool note)
{
	unsigned char k[512] = {0};
	uint16_t h16;
	uint32_t h32;
	uint64_t h64;
	memcpy(k, "\177ELF", 4);
	k[4] = 2, k[5] = 1, k[6] = 1;
	h16 = 2, memcpy(k + 16, &h16, 2);
	h16 = 62, memcpy(k + 18, &h16, 2);
	h64 = 64, memcpy(k + 32, &h64, 8);
	h16 = 56, memcpy(k + 54, &h16, 2);
	h16 = 2, memcpy(k + 56, &h16, 2);
	/* PT_LOAD */
	h32 = 1, memcpy(k + 64, &h32, 4);
	h64 = 0x100000, memcpy(k + 64 + 24, &h64, 8);
	h64 = sizeof(k), memcpy(k + 64 + 32, &h64, 8);
	/* PT_NOTE at 256: Xen, type 18, 8-byte entry */
	h32 = 4, memcpy(k + 120, &h32, 4);
	h64 = 256, memcpy(k + 120 + 8, &h64, 8);
	h64 = 24, memcpy(k + 120 + 32, &h64, 8);
	uint32_t n[3] = {4, 8, note ? 18 : 17};
	memcpy(k + 256, n, 12);
	memcpy(k + 268, "Xen", 4);
	h64 = 0x1000d0, memcpy(k + 272, &h64, 8);
	assert_int_equal(fs_write_atomic(p, k, sizeof(k), 0644), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/capstan-layout-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_kernel(path("k.elf"), true);
	write_kernel(path("nonote.elf"), false);
	assert_int_equal(fs_mkdirs(path("tree/sub"), 0755), 0);
	assert_int_equal(fs_write_atomic(path("tree/a.txt"), "aaa", 3, 0600), 0);
	assert_int_equal(fs_write_atomic(path("tree/sub/run"), "#!x", 3, 0755), 0);
	assert_int_equal(symlink("a.txt", path("tree/ln")), 0);
	assert_int_equal(fs_write_atomic(path("mbr.bin"), "\xfa\xeb\xfe", 3, 0644), 0);
	return 0;
}

static int teardown(void **state)
{
	fs_rm_rf(dir);
	return 0;
}

struct listing {
	char text[2048];
	size_t len;
};

static int add_line(void *ctx, const struct layout_entry *e)
{
	struct listing *l = ctx;
	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%o %llu %s%s%s\n",
				   e->mode, (unsigned long long)e->size, e->name,
				   e->link ? " -> " : "", e->link ? e->link : "");
	return 0;
}

static void test_roundtrip(void **state)
{
	struct rootfs *rf = rootfs_new();
	struct layout_info info;
	struct listing l = {{0}, 0};
	assert_int_equal(rootfs_add_host(rf, "/data", path("tree")), 0);
	assert_int_equal(rootfs_add_data(rf, "bin/hello", "v1", 2, 0755), 0);
	assert_int_equal(rootfs_add_data(rf, "/bin//./hello", "version2", 8, 0700),
			 0); /* overrides */
	assert_int_equal(rootfs_add_symlink(rf, "/usr/bin/hi", "/bin/hello"), 0);
	assert_int_equal(rootfs_add_dir(rf, "/tmp", 01777), 0);
	struct layout_spec spec = {path("k.elf"), path("mbr.bin"), "/bin/hello 'a b'", rf,
				   CAP_IMG_F_VERBOSE};
	assert_int_equal(layout_write(path("out.img"), &spec), 0);
	rootfs_free(rf);

	assert_int_equal(layout_read(path("out.img"), &info), 0);
	assert_string_equal(info.cmdline, "/bin/hello 'a b'");
	assert_int_equal(info.hdr.kernel_offset, CAP_IMG_KERNEL_OFFSET);
	assert_int_equal(info.hdr.kernel_size, 512);
	assert_int_equal(info.hdr.kernel_load_addr, 0x100000);
	assert_int_equal(info.hdr.kernel_entry32, 0x1000d0);
	assert_int_equal(info.hdr.rootfs_offset, CAP_IMG_ROOTFS_ALIGN);
	assert_int_equal(info.hdr.disk_size % CAP_IMG_ROOTFS_ALIGN, 0);
	assert_int_equal(info.hdr.flags, CAP_IMG_F_VERBOSE);
	assert_int_equal(info.hdr.rootfs_entries, 11);
	assert_string_equal(info.hdr.kernel_version, CAPSTAN_VERSION);

	void *k;
	size_t klen;
	assert_int_equal(layout_read_kernel(path("out.img"), &info, &k, &klen), 0);
	assert_int_equal(klen, 512);
	assert_memory_equal(k, "\177ELF", 4);
	free(k);

	assert_int_equal(layout_list(path("out.img"), &info, add_line, &l), 0);
	assert_string_equal(l.text, "40755 0 data\n"
				    "100600 3 data/a.txt\n"
				    "120777 5 data/ln -> a.txt\n"
				    "40755 0 data/sub\n"
				    "100755 3 data/sub/run\n"
				    "40755 0 bin\n"
				    "100700 8 bin/hello\n"
				    "40755 0 usr\n"
				    "40755 0 usr/bin\n"
				    "120777 10 usr/bin/hi -> /bin/hello\n"
				    "41777 0 tmp\n");

	/* the MBR: code, partition 1 over the root fs, signature */
	unsigned char mbr[512];
	int fd = open(path("out.img"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, mbr, sizeof(mbr)), 512);
	close(fd);
	assert_memory_equal(mbr, "\xfa\xeb\xfe", 3);
	assert_int_equal(mbr[446], 0x80);
	assert_int_equal(mbr[446 + 4], CAP_IMG_MBR_PART_TYPE);
	uint32_t lba;
	memcpy(&lba, mbr + 446 + 8, 4);
	assert_int_equal(lba, CAP_IMG_ROOTFS_ALIGN / 512);
	assert_int_equal(mbr[510], 0x55);
	assert_int_equal(mbr[511], 0xaa);
}

static void test_bad_input(void **state)
{
	struct rootfs *rf = rootfs_new();
	struct layout_info info;
	struct layout_spec spec = {path("nonote.elf"), NULL, "/x", rf, 0};

	assert_int_equal(rootfs_add_data(rf, "../etc/passwd", "x", 1, 0644), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), ".."));
	assert_int_equal(rootfs_add_data(rf, "/", "x", 1, 0644), -CAP_E_DATA);
	assert_int_equal(rootfs_add_host(rf, "/x", path("missing")), -ENOENT);
	assert_non_null(strstr(cap_errmsg(-ENOENT), "missing"));

	assert_int_equal(layout_write(path("bad.img"), &spec), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "PVH"));
	assert_false(fs_exists(path("bad.img")));

	spec.kernel_path = path("k.elf");
	char *longline = malloc(CAP_IMG_CMDLINE_MAX + 1);
	memset(longline, 'a', CAP_IMG_CMDLINE_MAX);
	longline[CAP_IMG_CMDLINE_MAX] = 0;
	spec.cmdline = longline;
	assert_int_equal(layout_write(path("bad.img"), &spec), -CAP_E_DATA);
	free(longline);
	spec.cmdline = "/x";
	spec.mbr_path = path("k.elf"); /* 512 bytes is fine, 600 is not */
	assert_int_equal(layout_write(path("ok.img"), &spec), 0);
	char big[600] = {0};
	assert_int_equal(fs_write_atomic(path("big.bin"), big, sizeof(big), 0644), 0);
	spec.mbr_path = path("big.bin");
	assert_int_equal(layout_write(path("bad.img"), &spec), -CAP_E_DATA);
	assert_false(fs_exists(path("bad.img")));
	rootfs_free(rf);

	/* reading: not an image, a damaged header, a damaged root fs */
	assert_int_equal(layout_read(path("k.elf"), &info), -CAP_E_DATA);
	int fd = open(path("ok.img"), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, CAP_IMG_HEADER_OFFSET + 60), 1);
	assert_int_equal(layout_read(path("ok.img"), &info), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "checksum"));
	close(fd);
}

static void test_damaged_rootfs(void **state)
{
	struct rootfs *rf = rootfs_new();
	struct layout_info info;
	struct listing l = {{0}, 0};
	assert_int_equal(rootfs_add_data(rf, "f", "data", 4, 0644), 0);
	struct layout_spec spec = {path("k.elf"), NULL, "/f", rf, 0};
	assert_int_equal(layout_write(path("d.img"), &spec), 0);
	rootfs_free(rf);
	assert_int_equal(layout_read(path("d.img"), &info), 0);
	int fd = open(path("d.img"), O_RDWR);
	assert_int_equal(pwrite(fd, "Z", 1, (off_t)info.hdr.rootfs_offset + 112), 1);
	close(fd);
	assert_int_equal(layout_list(path("d.img"), &info, add_line, &l), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "root fs checksum"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_damaged_rootfs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
