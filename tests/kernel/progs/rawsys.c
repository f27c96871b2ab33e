/* SPDX-License-Identifier: BSD-3-Clause */
/* The legacy system calls that libcs route through *at or newer calls, made by number. */
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	struct stat st;
	char buf[64] = {0};

	long fd = syscall(SYS_open, "data/hello.txt", O_RDONLY, 0);
	CHECK(fd >= 3);
	CHECK(syscall(SYS_read, fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK(syscall(SYS_lseek, fd, 0, SEEK_SET) == 0);
	CHECK(syscall(SYS_pread64, fd, buf, 4, 7) == 4 && memcmp(buf, "file", 4) == 0);
	CHECK(syscall(SYS_fstat, fd, &st) == 0 && st.st_size == 24);
	CHECK(syscall(SYS_dup2, fd, 20) == 20);
	CHECK(syscall(SYS_dup3, fd, 21, O_CLOEXEC) == 21);
	CHECK(syscall(SYS_close, 20) == 0 && syscall(SYS_close, 21) == 0);
	CHECK(syscall(SYS_close, fd) == 0);
	CHECK(syscall(SYS_stat, "data/link", &st) == 0 && S_ISREG(st.st_mode));
	CHECK(syscall(SYS_lstat, "data/link", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(syscall(SYS_newfstatat, AT_FDCWD, "data/dir", &st, 0) == 0 && S_ISDIR(st.st_mode));
	CHECK(syscall(SYS_access, "data/hello.txt", R_OK) == 0);
	CHECK(syscall(SYS_faccessat, AT_FDCWD, "data/none", F_OK) == -1 && errno == ENOENT);
	CHECK(syscall(SYS_readlink, "data/link", buf, sizeof(buf)) == 9);
	CHECK(syscall(SYS_mkdir, "/tmp/capstan-raw", 0755) == 0 || errno == EEXIST);
	CHECK(syscall(SYS_chdir, "/tmp/capstan-raw") == 0);
	CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) > 0 && strcmp(buf, "/tmp/capstan-raw") == 0);
	fd = syscall(SYS_openat, AT_FDCWD, "f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0);
	struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
	CHECK(syscall(SYS_writev, fd, iov, 2) == 4);
	CHECK(syscall(SYS_pwrite64, fd, "X", 1, 0) == 1);
	CHECK(syscall(SYS_write, fd, "e", 1) == 1);
	CHECK(syscall(SYS_pread64, fd, buf, 5, 0) == 5 && memcmp(buf, "Xbcde", 5) == 0);
	CHECK(syscall(SYS_close, fd) == 0);
	CHECK(syscall(SYS_rename, "f", "g") == 0);
	CHECK(syscall(SYS_renameat, AT_FDCWD, "g", AT_FDCWD, "h") == 0);
	CHECK(syscall(SYS_unlink, "h") == 0);
	CHECK(syscall(SYS_unlink, "h") == -1 && errno == ENOENT);
	CHECK(syscall(SYS_fcntl, 1, F_GETFD) == 0);
	CHECK(syscall(SYS_chdir, "/") == 0);

	struct rlimit rl;
	CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 0);
	CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur > 0);
	time_t t = 0;
	long r = syscall(SYS_time, &t);
	CHECK(r > 1600000000 && r == t);
	struct timeval tv;
	CHECK(syscall(SYS_gettimeofday, &tv, NULL) == 0 && tv.tv_sec >= r && tv.tv_sec - r < 3);
	struct timespec ts;
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
	struct timespec d = {0, 1000000};
	CHECK(syscall(SYS_nanosleep, &d, NULL) == 0);
	CHECK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &d, NULL) == 0);
	struct pollfd p = {.fd = 1, .events = POLLOUT};
	CHECK(syscall(SYS_poll, &p, 1, 0) == 1 && (p.revents & POLLOUT));
	CHECK(syscall(SYS_getpid) > 0 && syscall(SYS_gettid) == syscall(SYS_getpid));
	CHECK(syscall(SYS_getppid) >= 0);
	CHECK(syscall(SYS_getuid) == syscall(SYS_geteuid) &&
	      syscall(SYS_getgid) == syscall(SYS_getegid));
	CHECK(syscall(SYS_set_tid_address, &t) == syscall(SYS_gettid));
	printf("rawsys: legacy calls ok\n");
	return check_done();
}
