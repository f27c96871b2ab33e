/* SPDX-License-Identifier: BSD-3-Clause */
/* Disk image formats found by their magic, and their headers read natively. */
#ifndef CAPSTAN_PROBE_H
#define CAPSTAN_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum probe_format {
	PROBE_RAW,   /* no known magic */
	PROBE_QCOW2, /* "QFI\xfb" */
	PROBE_VMDK,  /* "KDMV" sparse extent, or a "# Disk DescriptorFile" text descriptor */
	PROBE_VDI,   /* 0xbeda107f at 0x40 */
	PROBE_GZIP,  /* 1f 8b: a compressed download, not a disk */
};

struct probe_info {
	enum probe_format format;
	uint64_t virtual_size; /* bytes the guest sees (raw: the file size; gzip: 0, unknown) */
	uint64_t file_size;    /* bytes of the file */

	/* qcow2 only */
	uint32_t qcow2_version; /* 2 or 3 */
	uint32_t cluster_bits;	/* cluster size = 1 << cluster_bits */
	uint32_t crypt_method;	/* 0 none, 1 AES, 2 LUKS */
	uint32_t l1_size;	/* L1 table entries */
	uint32_t refcount_bits; /* 16 on v2 */
	uint32_t nb_snapshots;
	uint64_t incompatible;	 /* v3 feature bits */
	const char *compression; /* "zlib" or "zstd" */
	char *backing_file;	 /* NULL if none */
	char *backing_format;	 /* from the header extension, NULL if absent */

	/* VMDK only */
	bool vmdk_descriptor;	/* a text descriptor: the data lives in other files */
	char *vmdk_create_type; /* createType from a text descriptor, NULL if unknown */
};

/* qcow2 v3 incompatible feature bits */
#define QCOW2_INCOMPAT_DIRTY	   (1u << 0)
#define QCOW2_INCOMPAT_CORRUPT	   (1u << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1u << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1u << 3)
#define QCOW2_INCOMPAT_EXTL2	   (1u << 4)

/*
 * Probe an image.  buf holds the first len bytes of a file of file_size bytes;
 * name is used in messages.  A truncated or inconsistent header is -CAP_E_DATA
 * with a message naming the field, e.g. "'x.img': qcow2 header: cluster_bits
 * 30 is out of range (9..21)".  Returns 0, or 1 with *need set to the prefix
 * length required when the header refers to bytes past buf but inside the file
 * (the caller reads more and calls again; at most 2 MiB, one qcow2 cluster).
 * On success release info with probe_info_release().
 */
int probe_buf(const void *buf, size_t len, uint64_t file_size, const char *name,
	      struct probe_info *info, size_t *need);
/* Probe an open file (reads only the header region). */
int probe_fd(int fd, const char *name, struct probe_info *info);
/* Probe a file by path. */
int probe_file(const char *path, struct probe_info *info);
void probe_info_release(struct probe_info *info);

/*
 * Refuse an image whose reader would open another file of the image's
 * choosing (a qcow2 backing file or external data file, a VMDK descriptor):
 * -CAP_E_DATA naming the image (name) and the path it names.  Repository
 * images are checked at import, at pull and at run.
 */
int probe_standalone_fd(int fd, const char *name);
int probe_standalone(const char *path, const char *name);

/* "qcow2", "raw", "vmdk", "vdi", "gzip". */
const char *probe_format_name(enum probe_format f);
/*
 * Repository platform suffix for a format: qcow2 -> "qemu", raw -> "raw",
 * VDI -> "vbox", VMDK -> "vmw" (Capstan's import wrote "vmware" while its run
 * looked for "vmw"; we write vmw and read both).  NULL for gzip.
 */
const char *probe_platform(enum probe_format f);

#endif
