/* SPDX-License-Identifier: BSD-3-Clause */
/* Files: the cpio root indexed in place, a RAM overlay for every change, devices, descriptors. */
#ifndef KERNEL_VFS_H
#define KERNEL_VFS_H

#include "../kernel.h"

enum node_kind {
	K_FILE,
	K_DIR,
	K_LINK,
	K_NULL,
	K_ZERO,
	K_RANDOM,
	K_TTY,
	K_SOCKET,
	K_EPOLL,
	K_EVENTFD,
	K_TIMERFD
};

struct node {
	struct node *parent, *child, *sibling, *hnext;
	char *name;
	enum node_kind kind;
	uint32_t mode; /* with S_IFMT */
	uint64_t size, ino;
	int64_t mtime;
	uint64_t disk_off; /* data on disk unless ram */
	bool ram;
	char *data;
	size_t cap;
	char *link;
	int opens;
	bool dead;
};

struct file {
	struct node *n;
	uint64_t off;
	int flags;
	int refs;
	uint32_t dirpos;
};

void vfs_init(void);
int vfs_index(uint64_t rootfs_off, uint64_t rootfs_size);
extern struct node *vfs_root, *vfs_cwd;
extern long vfs_nodes;

/* Resolve path from dir (absolute paths ignore it).  When parent is given and
 * only the last component is missing, returns -ENOENT with *parent set and
 * the name copied to last (256 bytes). */
int vfs_walk(struct node *dir, const char *path, bool follow, struct node **out,
	     struct node **parent, char *last);
int vfs_path(struct node *n, char *buf, size_t size);
struct node *vfs_create(struct node *parent, const char *name, enum node_kind kind, uint32_t mode);
void vfs_remove(struct node *n);
int vfs_truncate(struct node *n, uint64_t size);
long vfs_pread(struct node *n, void *buf, size_t len, uint64_t off);
long vfs_pwrite(struct node *n, const void *buf, size_t len, uint64_t off);
int vfs_rename(struct node *n, struct node *newparent, const char *newname);

#endif
