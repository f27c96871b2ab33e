/* SPDX-License-Identifier: BSD-3-Clause */
/* The image ABI: the on-disk layout shared by libcapstan and the kernel (no libc here). */
#ifndef CAPSTAN_IMAGE_H
#define CAPSTAN_IMAGE_H

/*
 * A capstan image is one raw disk (stored as qcow2):
 *
 *   0          sector 0: MBR boot code, partition entry 1 covers the root fs
 *   512        the kernel command line, NUL-terminated (OSv/Capstan's place)
 *   32 KiB     struct cap_img_header (CAP_IMG_HEADER_OFFSET)
 *   64 KiB     the kernel (CAP_IMG_KERNEL_OFFSET), an ELF64 file with a PVH note
 *   1 MiB*n    the root file system: a cpio "newc" archive, 1 MiB aligned
 *
 * All integers are little-endian.  The kernel reads this header from the disk
 * to find its root fs; the host writes it (src/lib/image/compose.c).
 */

#define CAP_IMG_SECTOR	       512u
#define CAP_IMG_CMDLINE_OFFSET 512u
#define CAP_IMG_HEADER_OFFSET  (32u * 1024u)
#define CAP_IMG_CMDLINE_MAX    (CAP_IMG_HEADER_OFFSET - CAP_IMG_CMDLINE_OFFSET) /* with NUL */
#define CAP_IMG_KERNEL_OFFSET  (64u * 1024u)
#define CAP_IMG_ROOTFS_ALIGN   (1024u * 1024u)
#define CAP_IMG_MBR_PART_TYPE  0x83u

#define CAP_IMG_MAGIC	"CAPSTIMG" /* 8 bytes, no NUL stored */
#define CAP_IMG_VERSION 1u

struct cap_img_header {
	char magic[8];			  /* CAP_IMG_MAGIC */
	unsigned int version;		  /* CAP_IMG_VERSION */
	unsigned int header_size;	  /* sizeof(struct cap_img_header) */
	unsigned long long kernel_offset; /* bytes from start of disk */
	unsigned long long kernel_size;	  /* bytes */
	unsigned long long rootfs_offset; /* bytes, CAP_IMG_ROOTFS_ALIGN aligned */
	unsigned long long rootfs_size;	  /* bytes of the cpio archive */
	unsigned long long disk_size;	  /* virtual size of the whole disk */
	unsigned int kernel_crc32;	  /* zlib crc32 of the kernel bytes */
	unsigned int rootfs_crc32;	  /* zlib crc32 of the cpio bytes */
	unsigned int rootfs_entries;	  /* number of cpio entries, trailer excluded */
	unsigned int flags;		  /* CAP_IMG_F_* */
	char kernel_version[32];	  /* NUL-terminated, e.g. "0.1.0" */
	/*
	 * For the disk boot stage: the kernel ELF file is linked so that loading
	 * the whole file at kernel_load_addr puts every PT_LOAD segment in place
	 * (the kernel zeroes its own bss).  kernel_entry32 is the PVH entry point
	 * (32-bit protected mode, EBX = struct hvm_start_info), the one entry
	 * both boot paths use.
	 */
	unsigned int kernel_load_addr;
	unsigned int kernel_entry32;
	unsigned char reserved[36];
	unsigned int header_crc32; /* crc32 of this struct with this field = 0 */
} __attribute__((packed));

#define CAP_IMG_F_VERBOSE 0x1u /* kernel prints its init steps */

#ifdef __cplusplus
static_assert(sizeof(struct cap_img_header) == 152, "image header size");
#else
_Static_assert(sizeof(struct cap_img_header) == 152, "image header size");
#endif

#endif
