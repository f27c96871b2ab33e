/* SPDX-License-Identifier: BSD-3-Clause */
/* Files: the cpio root indexed in place, a RAM overlay for every change, devices, descriptors. */
#ifndef KERNEL_VFS_H
#define KERNEL_VFS_H

#include "../kernel.h"

enum { FS_ROOT, FS_PROC, FS_SYS };

enum node_kind {
	K_FILE,
	K_DIR,
	K_LINK,
	K_NULL,
	K_ZERO,
	K_RANDOM,
	K_URANDOM,
	K_TTY,
	K_FIFO,
	K_PROC,
	K_HLINK,
	/* last, the descriptors without a file (sys/event.c): every kind from K_SOCKET on */
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
	uint32_t uid, gid;
	uint64_t size, ino;
	struct linux_timespec atime, mtime, ctime;
	uint64_t disk_off; /* data on disk unless ram */
	bool ram;
	char *data;
	size_t cap;
	char *link;
	int opens;
	bool dead;
	bool unnamed;	    /* an anonymous pipe's node: freed with its last descriptor */
	struct pipe *pipe;  /* K_FIFO while open */
	int gen;	    /* K_PROC: which text it shows (sys/procfs.c) */
	int pid;	    /* under /proc/PID: the process it shows, else 0 */
	struct shpages *sh; /* pages of shared mappings (sys/shm.c) */
	/* hard links: a K_HLINK node is a further name of target (whose nlink counts its names),
	 * chained from target->aliases through next_alias */
	struct node *target, *aliases, *next_alias;
	uint32_t nlink;
	uint8_t fs; /* the file system it belongs to: FS_ROOT, FS_PROC, FS_SYS */
	/* a directory whose entries change (/proc/PID/fd): brought up to date before each use */
	void (*refresh)(struct node *dir);
};

struct file {
	struct node *n;
	uint64_t off;
	int flags;
	int refs;
	uint32_t dirpos;
	char *text; /* K_PROC: the text made when it was opened */
	size_t text_len;
	struct fown *own; /* F_SETOWN, O_ASYNC (sys/fasync.c); NULL until used */
};

/* descriptions of open files (sys/fd.c) */
struct file *file_new(struct node *n, int flags);
void file_put(struct file *f);

/* signal-driven I/O (sys/fasync.c): an event on a description's object, for O_ASYNC's owner;
 * band: POLLIN for readers, POLLOUT for writers, POLLHUP */
void fasync_node(const struct node *n, unsigned band); /* a pipe or FIFO */
void fasync_sock(const void *s, unsigned band);	       /* a socket, by its state (node->data) */
void fasync_release(struct file *f);		       /* the description's last reference went */

/* pipes and FIFOs (pipe.c) */
int pipe_new(struct file **rd, struct file **wr);
int pipe_open(struct file *f);
void pipe_close(struct file *f);
long pipe_read(struct file *f, char *buf, size_t len);
long pipe_write(struct file *f, const char *buf, size_t len);
short pipe_poll(const struct file *f);
size_t pipe_pending(const struct file *f);
size_t pipe_capacity(void);

struct linux_timespec vfs_now(void);
void vfs_touch(struct node *n, bool modified); /* ctime, and mtime when modified */

void vfs_init(void);
int vfs_index(uint64_t rootfs_off, uint64_t rootfs_size);
extern struct node *vfs_root;
struct node **proc_cwd(void); /* proc/fork.c: the calling process's working directory */
#define vfs_cwd (*proc_cwd())
extern long vfs_nodes;
uint32_t cred_fsuid(void); /* owner of new nodes: the process's effective ids (sys/cred.c) */
uint32_t cred_fsgid(void);

/* Resolve path from dir (absolute paths ignore it).  When parent is given and
 * only the last component is missing, returns -ENOENT with *parent set and
 * the name copied to last (256 bytes). */
int vfs_walk(struct node *dir, const char *path, bool follow, struct node **out,
	     struct node **parent, char *last);
/* the same, but a last component that is a hard link is that name's own node (unlink, rename) */
int vfs_walk_entry(struct node *dir, const char *path, struct node **out, struct node **parent,
		   char *last);
int vfs_link(struct node *target, struct node *parent, const char *name);
int vfs_path(struct node *n, char *buf, size_t size);
struct node *vfs_lookup(struct node *dir, const char *name); /* one entry, no refresh */
struct node *vfs_create(struct node *parent, const char *name, enum node_kind kind, uint32_t mode);
void vfs_remove(struct node *n);
void vfs_free(struct node *n); /* a removed node nobody has open */
int vfs_truncate(struct node *n, uint64_t size);
int vfs_make_ram(struct node *n); /* bring its data into the overlay */
/* shared mappings (sys/shm.c): the mapped pages and the buffer kept equal */
void shm_sync_in(struct node *n, uint64_t off, uint64_t len);
void shm_sync_out(struct node *n, uint64_t off, uint64_t len);
void shm_forget(struct node *n); /* the node goes: drop its (unmapped) page table */
long vfs_pread(struct node *n, void *buf, size_t len, uint64_t off);
long vfs_pwrite(struct node *n, const void *buf, size_t len, uint64_t off);
int vfs_rename(struct node *n, struct node *newparent, const char *newname);

#endif
