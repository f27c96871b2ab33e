/* SPDX-License-Identifier: BSD-3-Clause */
/* Extended attributes: the root fs has none (ls, cp and libselinux ask for them). */
#include "sys.h"

/* The file must exist, as on Linux; then it has no attribute of that name. */
static long no_attr(long r)
{
	return r ? r : -ENODATA;
}

static long path_ok(uint64_t path, bool follow)
{
	struct node *n;
	return lookup_at(AT_FDCWD, path, follow, &n);
}

static long fd_ok(long fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL4(getxattr, uint64_t, path, uint64_t, name, uint64_t, value, size_t, size)
{
	return no_attr(path_ok(path, true));
}

SYSCALL4(lgetxattr, uint64_t, path, uint64_t, name, uint64_t, value, size_t, size)
{
	return no_attr(path_ok(path, false));
}

SYSCALL4(fgetxattr, long, fd, uint64_t, name, uint64_t, value, size_t, size)
{
	return no_attr(fd_ok(fd));
}

/* An empty list: 0 bytes. */
SYSCALL3(listxattr, uint64_t, path, uint64_t, list, size_t, size)
{
	return path_ok(path, true);
}

SYSCALL3(llistxattr, uint64_t, path, uint64_t, list, size_t, size)
{
	return path_ok(path, false);
}

SYSCALL3(flistxattr, long, fd, uint64_t, list, size_t, size)
{
	return fd_ok(fd);
}

/* Setting or removing one: the file system does not support them, as Linux says for such. */
static long unsupported(long r)
{
	return r ? r : -EOPNOTSUPP;
}

SYSCALL5(setxattr, uint64_t, path, uint64_t, name, uint64_t, value, size_t, size, long, flags)
{
	return unsupported(path_ok(path, true));
}

SYSCALL5(lsetxattr, uint64_t, path, uint64_t, name, uint64_t, value, size_t, size, long, flags)
{
	return unsupported(path_ok(path, false));
}

SYSCALL5(fsetxattr, long, fd, uint64_t, name, uint64_t, value, size_t, size, long, flags)
{
	return unsupported(fd_ok(fd));
}

SYSCALL2(removexattr, uint64_t, path, uint64_t, name)
{
	return unsupported(path_ok(path, true));
}

SYSCALL2(lremovexattr, uint64_t, path, uint64_t, name)
{
	return unsupported(path_ok(path, false));
}

SYSCALL2(fremovexattr, long, fd, uint64_t, name)
{
	return unsupported(fd_ok(fd));
}
