// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for images on disk backends (compose.c) and the cpio of entry lists (cpio.c).
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/layout.h"
#include "capstan/str.h"
#include "fixture.h"

static char tmpdir[] = "/tmp/compose-test.XXXXXX";
static char *kpath, *mpath;

static int setup(void **state)
{
	unsigned char mbr[512] = {0xfa, 0xeb, 0xfe};

	if (!mkdtemp(tmpdir))
		return -1;
	kpath = xasprintf("%s/kernel.elf", tmpdir);
	mpath = xasprintf("%s/mbr.bin", tmpdir);
	fixture_kernel(kpath, true, 0x100800);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	return fs_write_atomic(mpath, mbr, sizeof(mbr), 0644);
}

static int teardown(void **state)
{
	fs_rm_rf(tmpdir);
	free(kpath);
	free(mpath);
	return 0;
}

static struct disk *write_image(const char *name, struct layout_image *img)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	struct disk *d = NULL;

	assert_int_equal(disk_qcow2_create(&d, p, layout_image_size(img), NULL), 0);
	assert_int_equal(layout_image_write(d, img), 0);
	free(p);
	return d;
}

static void test_round_trip(void **state)
{
	struct layout_image img, back, again;
	char *host = xasprintf("%s/data.bin", tmpdir);
	unsigned char data[100000];
	struct disk *d;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31);
	assert_int_equal(fs_write_atomic(host, data, sizeof(data), 0644), 0);
	memset(&img, 0, sizeof(img));
	assert_int_equal(layout_image_kernel(&img, kpath, mpath, "9.9.9"), 0);
	assert_int_equal(img.kernel_load_addr, 0x100000);
	assert_int_equal(img.kernel_entry32, 0x100400);
	struct layout_file files[] = {
	    {.path = "/usr/lib/data.bin",
	     .mode = S_IFREG | 0640,
	     .mtime = 5,
	     .size = sizeof(data),
	     .host = host},
	    {.path = "/etc/motd",
	     .mode = S_IFREG | 0644,
	     .mtime = 5,
	     .size = 3,
	     .data = (unsigned char *)"hi\n"},
	    {.path = "/lib", .mode = S_IFLNK | 0777, .mtime = 5, .size = 7, .target = "usr/lib"},
	    {.path = "/empty", .mode = S_IFREG | 0600, .mtime = 5},
	};
	layout_image_merge(&img, files, 4, 7);
	/* parents were added before their children */
	assert_int_equal(img.nfiles, 7);
	assert_string_equal(img.files[0].path, "/usr");
	assert_int_equal(img.files[0].mode, S_IFDIR | 0755);
	assert_int_equal(img.files[0].mtime, 7);
	assert_string_equal(img.files[1].path, "/usr/lib");
	assert_string_equal(img.files[2].path, "/usr/lib/data.bin");
	img.cmdline = xstrdup("/usr/lib/data.bin --x");
	d = write_image("rt.qcow2", &img);

	assert_int_equal(layout_image_read(d, &back), 0);
	assert_string_equal(back.cmdline, "/usr/lib/data.bin --x");
	assert_string_equal(back.kernel_version, "9.9.9");
	assert_int_equal(back.kernel_size, 4096);
	assert_memory_equal(back.kernel, img.kernel, 4096);
	assert_int_equal(back.mbr[0], 0xfa);
	assert_int_equal(back.mbr[446], 0x80);
	assert_int_equal(back.mbr[450], CAP_IMG_MBR_PART_TYPE);
	assert_int_equal(back.nfiles, 7);
	assert_int_equal(back.files[2].size, sizeof(data));
	assert_memory_equal(back.files[2].data, data, sizeof(data));
	assert_int_equal(back.files[2].mode, S_IFREG | 0640);
	assert_string_equal(back.files[5].path, "/lib");
	assert_string_equal(back.files[5].target, "usr/lib");
	assert_int_equal(back.files[6].size, 0);
	assert_int_equal(back.rootfs_size, cpio_size(img.files, img.nfiles));
	assert_int_equal(back.disk_size, disk_size(d));
	struct cap_img_header h;
	assert_int_equal(layout_image_header(d, &h), 0);
	assert_int_equal(h.rootfs_offset % CAP_IMG_ROOTFS_ALIGN, 0);
	assert_int_equal(h.rootfs_entries, 7);

	/* an override replaces the entry in place; the data of read entries survives a rewrite */
	struct layout_file over = {.path = "/etc/motd",
				   .mode = S_IFREG | 0600,
				   .size = 4,
				   .data = (unsigned char *)"bye\n"};
	layout_image_merge(&back, &over, 1, 0);
	assert_int_equal(back.nfiles, 7);
	assert_string_equal(back.files[4].path, "/etc/motd");
	disk_close(d);
	d = write_image("rt2.qcow2", &back);
	assert_int_equal(layout_image_read(d, &again), 0);
	assert_int_equal(again.files[4].size, 4);
	assert_memory_equal(again.files[4].data, "bye\n", 4);
	assert_memory_equal(again.files[2].data, data, sizeof(data));
	disk_close(d);
	layout_image_release(&again);
	layout_image_release(&back);
	layout_image_release(&img);
	free(host);
}

static void test_kernel_errors(void **state)
{
	struct layout_image img;
	char *p = xasprintf("%s/bad", tmpdir);

	memset(&img, 0, sizeof(img));
	assert_int_equal(fs_write_atomic(p, "not an elf file at all", 22, 0644), 0);
	assert_int_equal(layout_image_kernel(&img, p, mpath, "1"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "not an x86-64 ELF64 file"));
	assert_int_equal(layout_image_kernel(&img, kpath, p, "1"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "not 512 bytes ending in 55aa"));
	fixture_kernel(p, false, 0x100800);
	assert_int_equal(layout_image_kernel(&img, p, mpath, "1"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "no PVH entry note"));
	fixture_kernel(p, true, 0x200000);
	assert_int_equal(layout_image_kernel(&img, p, mpath, "1"), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "not laid out as in the file"));
	assert_int_equal(layout_image_kernel(&img, "/nonexistent", mpath, "1"), -ENOENT);
	assert_null(img.kernel);
	free(p);
}

static void test_read_errors(void **state)
{
	struct layout_image img, out;
	struct cap_img_header h;
	char *p = xasprintf("%s/r.raw", tmpdir);
	struct disk *d = NULL;

	memset(&img, 0, sizeof(img));
	assert_int_equal(layout_image_kernel(&img, kpath, mpath, "1"), 0);
	img.cmdline = xstrdup("/x");
	/* another disk */
	assert_int_equal(disk_raw_create(&d, p, 1 << 20), 0);
	assert_int_equal(layout_image_read(d, &out), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "not a capstan image"));
	disk_close(d);
	assert_int_equal(disk_raw_create(&d, p, 4096), 0);
	assert_int_equal(layout_image_header(d, &h), -CAP_E_DATA);
	disk_close(d);
	/* a disk too small to write to, a cmdline too long */
	assert_int_equal(disk_raw_create(&d, p, 65536), 0);
	assert_int_equal(layout_image_write(d, &img), -EINVAL);
	disk_close(d);
	/* damage: header checksum, version, kernel, root fs */
	static const struct {
		uint64_t off;
		const char *msg;
	} damage[] = {
	    {CAP_IMG_HEADER_OFFSET + 100, "header is damaged"},
	    {CAP_IMG_HEADER_OFFSET + 8, "version"},
	    {CAP_IMG_KERNEL_OFFSET + 100, "kernel checksum"},
	    {CAP_IMG_ROOTFS_ALIGN + 50, "root fs checksum"},
	};
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		assert_int_equal(disk_raw_create(&d, p, layout_image_size(&img)), 0);
		assert_int_equal(layout_image_write(d, &img), 0);
		unsigned char b = 0x5a;
		assert_int_equal(disk_write(d, &b, 1, damage[i].off), 0);
		assert_int_equal(layout_image_read(d, &out), -CAP_E_DATA);
		if (!strstr(cap_errmsg(-CAP_E_DATA), damage[i].msg))
			fail_msg("damage %zu: '%s' lacks '%s'", i, cap_errmsg(-CAP_E_DATA),
				 damage[i].msg);
		disk_close(d);
	}
	free(img.cmdline);
	img.cmdline = xmalloc(CAP_IMG_CMDLINE_MAX + 1);
	memset(img.cmdline, 'a', CAP_IMG_CMDLINE_MAX);
	img.cmdline[CAP_IMG_CMDLINE_MAX] = '\0';
	assert_int_equal(disk_raw_create(&d, p, layout_image_size(&img)), 0);
	assert_int_equal(layout_image_write(d, &img), -CAP_E_DATA);
	disk_close(d);
	layout_image_release(&img);
	free(p);
}

static void test_cpio_errors(void **state)
{
	struct layout_file *f = NULL;
	size_t n = 0;
	char buf[512];

	assert_int_equal(cpio_parse((const unsigned char *)"0707", 4, &f, &n), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "truncated header"));
	memset(buf, '0', sizeof(buf));
	assert_int_equal(cpio_parse((unsigned char *)buf, sizeof(buf), &f, &n), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "bad magic"));
	memcpy(buf, "070701", 6);
	memcpy(buf + 6, "zz", 2);
	assert_int_equal(cpio_parse((unsigned char *)buf, sizeof(buf), &f, &n), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "bad header field"));
	/* a member whose name size runs past the end */
	memset(buf, '0', sizeof(buf));
	memcpy(buf, "070701", 6);
	memcpy(buf + 6 + 8 * 11, "0000ffff", 8);
	assert_int_equal(cpio_parse((unsigned char *)buf, 200, &f, &n), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "bad name size"));
	/* file size past the end */
	memcpy(buf + 6 + 8 * 11, "00000002", 8);
	memcpy(buf + 110, "a", 2);
	memcpy(buf + 6 + 8 * 6, "00001000", 8);
	assert_int_equal(cpio_parse((unsigned char *)buf, 200, &f, &n), -CAP_E_DATA);
	assert_non_null(strstr(cap_errmsg(-CAP_E_DATA), "runs past the end"));
	/* the empty archive is the trailer alone */
	assert_int_equal(cpio_size(NULL, 0), 124);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_kernel_errors),
	    cmocka_unit_test(test_read_errors),
	    cmocka_unit_test(test_cpio_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
