/* SPDX-License-Identifier: BSD-3-Clause */
/* The Linux x86-64 ABI constants and structures the kernel speaks: one place for all of them. */
#ifndef KERNEL_LINUX_H
#define KERNEL_LINUX_H

#include <stdint.h>

/* errno values */
#define EPERM		1
#define ENOENT		2
#define ESRCH		3
#define EINTR		4
#define EIO		5
#define ENXIO		6
#define E2BIG		7
#define ENOEXEC		8
#define EBADF		9
#define ECHILD		10
#define EAGAIN		11
#define ENOMEM		12
#define EACCES		13
#define EFAULT		14
#define EBUSY		16
#define EEXIST		17
#define EXDEV		18
#define ENODEV		19
#define ENOTDIR		20
#define EISDIR		21
#define EINVAL		22
#define ENFILE		23
#define EMFILE		24
#define ENOTTY		25
#define EFBIG		27
#define ENOSPC		28
#define ESPIPE		29
#define EROFS		30
#define EMLINK		31
#define EPIPE		32
#define EDOM		33
#define ERANGE		34
#define EDEADLK		35
#define ENAMETOOLONG	36
#define ENOSYS		38
#define ENOTEMPTY	39
#define ELOOP		40
#define ENODATA		61
#define ETIME		62
#define EOVERFLOW	75
#define ENOTSOCK	88
#define EDESTADDRREQ	89
#define EMSGSIZE	90
#define EPROTOTYPE	91
#define ENOPROTOOPT	92
#define EPROTONOSUPPORT 93
#define ESOCKTNOSUPPORT 94
#define EOPNOTSUPP	95
#define EAFNOSUPPORT	97
#define EADDRINUSE	98
#define EADDRNOTAVAIL	99
#define ENETDOWN	100
#define ENETUNREACH	101
#define ECONNABORTED	103
#define ECONNRESET	104
#define ENOBUFS		105
#define EISCONN		106
#define ENOTCONN	107
#define ETIMEDOUT	110
#define ECONNREFUSED	111
#define EHOSTUNREACH	113
#define EALREADY	114
#define EINPROGRESS	115
#define ERESTARTSYS	512 /* kernel-internal: restart the call after a handler (SA_RESTART) */

/* ioctls on any descriptor */
#define FIONREAD 0x541b
#define FIONBIO	 0x5421

/* *at() calls */
#define AT_FDCWD	    (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR	    0x200
#define AT_SYMLINK_FOLLOW   0x400
#define AT_EMPTY_PATH	    0x1000

/* file types and open flags */
#define S_IFMT	 0170000
#define S_IFSOCK 0140000
#define S_IFLNK	 0120000
#define S_IFREG	 0100000
#define S_IFDIR	 0040000
#define S_IFCHR	 0020000
#define S_IFIFO	 0010000

#define O_ACCMODE   3
#define O_RDONLY    0
#define O_WRONLY    1
#define O_RDWR	    2
#define O_CREAT	    0100
#define O_EXCL	    0200
#define O_NOCTTY    0400
#define O_TRUNC	    01000
#define O_APPEND    02000
#define O_NONBLOCK  04000
#define O_ASYNC	    020000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW  0400000
#define O_CLOEXEC   02000000
#define O_PATH	    010000000

/* fcntl */
#define F_DUPFD		0
#define F_GETFD		1
#define F_SETFD		2
#define F_GETFL		3
#define F_SETFL		4
#define F_GETLK		5
#define F_SETLK		6
#define F_SETLKW	7
#define F_DUPFD_CLOEXEC 1030
#define F_SETPIPE_SZ	1031
#define F_GETPIPE_SZ	1032
#define FD_CLOEXEC	1

/* memory */
#define PROT_READ	    1
#define PROT_WRITE	    2
#define PROT_EXEC	    4
#define MAP_SHARED	    1
#define MAP_PRIVATE	    2
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_POPULATE	    0x8000
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE	    1
#define MREMAP_FIXED	    2
#define MADV_DONTNEED	    4

/* clocks */
#define CLOCK_REALTIME		 0
#define CLOCK_MONOTONIC		 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID	 3
#define CLOCK_MONOTONIC_RAW	 4
#define CLOCK_REALTIME_COARSE	 5
#define CLOCK_MONOTONIC_COARSE	 6
#define CLOCK_BOOTTIME		 7
#define CLOCK_TAI		 11
#define TIMER_ABSTIME		 1

/* signals */
#define SIGHUP	    1
#define SIGINT	    2
#define SIGQUIT	    3
#define SIGILL	    4
#define SIGTRAP	    5
#define SIGABRT	    6
#define SIGBUS	    7
#define SIGFPE	    8
#define SIGKILL	    9
#define SIGUSR1	    10
#define SIGSEGV	    11
#define SIGUSR2	    12
#define SIGPIPE	    13
#define SIGALRM	    14
#define SIGTERM	    15
#define SIGCHLD	    17
#define SIGCONT	    18
#define SIGSTOP	    19
#define SIGTSTP	    20
#define SIGTTIN	    21
#define SIGTTOU	    22
#define SIGURG	    23
#define SIGVTALRM   26
#define SIGPROF	    27
#define SIGWINCH    28
#define NSIG	    64
#define SIG_DFL	    0
#define SIG_IGN	    1
#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_DISABLE  2

/* arch_prctl */
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

/* resource limits */
#define RLIMIT_STACK  3
#define RLIMIT_CORE   4
#define RLIMIT_NOFILE 7
#define RLIM_NLIMITS  16

/* poll */
#define POLLIN	   0x001
#define POLLPRI	   0x002
#define POLLOUT	   0x004
#define POLLERR	   0x008
#define POLLHUP	   0x010
#define POLLNVAL   0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100

/* ioctl */
#define FIONREAD 0x541b
#define FIONBIO	 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX	 0x5451
#define FIOASYNC 0x5452

/* The structures user memory holds, laid out as the x86-64 ABI has them. */
struct linux_timespec {
	int64_t sec, nsec;
};

struct linux_timeval {
	int64_t sec, usec;
};

struct linux_iovec {
	uint64_t base, len;
};

struct linux_pollfd {
	int fd;
	int16_t events, revents;
};

struct linux_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t unused[3];
};

struct linux_rlimit {
	uint64_t cur, max;
};

#endif
