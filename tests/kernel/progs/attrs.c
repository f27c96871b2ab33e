/* SPDX-License-Identifier: BSD-3-Clause */
/* Modes, owners, times and sizes kept and shown by stat; sync, statfs, groups and dropping root. */
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <stdint.h>
#include <utime.h>
#include "check.h"

static struct stat st;

static int mode_is(const char *path, mode_t mode)
{
	return stat(path, &st) == 0 && (st.st_mode & 07777) == mode;
}

static void modes(const char *f)
{
	CHECK(chmod(f, 0640) == 0 && mode_is(f, 0640));
	int fd = open(f, O_RDONLY);
	CHECK(fchmod(fd, 04755) == 0 && mode_is(f, 04755));
	CHECK(fchmodat(AT_FDCWD, f, 0600, 0) == 0 && mode_is(f, 0600));
	CHECK(chmod("/tmp/capstan-attr-missing", 0600) == -1 && errno == ENOENT);
	close(fd);
	mode_t old = umask(027);
	CHECK(umask(old) == 027);
}

static void owners(const char *f)
{
	if (geteuid() != 0)
		return; /* natively as a user: only root may give files away */
	CHECK(chown(f, 1234, 5678) == 0 && stat(f, &st) == 0 && st.st_uid == 1234 &&
	      st.st_gid == 5678);
	CHECK(chmod(f, 06755) == 0 && chown(f, -1, 42) == 0 && stat(f, &st) == 0);
	CHECK(st.st_uid == 1234 && st.st_gid == 42 && (st.st_mode & 07777) == 0755);
	CHECK(symlink(f, "/tmp/capstan-attr-link") == 0);
	CHECK(lchown("/tmp/capstan-attr-link", 7, 8) == 0 &&
	      lstat("/tmp/capstan-attr-link", &st) == 0 && st.st_uid == 7);
	CHECK(stat(f, &st) == 0 && st.st_uid == 1234);
	int fd = open(f, O_RDONLY);
	CHECK(fchown(fd, 0, 0) == 0 && fchownat(AT_FDCWD, f, 0, 0, 0) == 0);
	close(fd);
	unlink("/tmp/capstan-attr-link");
}

static void times(const char *f)
{
	struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
	CHECK(utimensat(AT_FDCWD, f, ts, 0) == 0 && stat(f, &st) == 0);
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789);
	CHECK(st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 987654321);
	/* statx says the same: uid at byte 20, atime at 0x40, mtime at 0x70 (seconds, nanoseconds)
	 */
	unsigned char sx[256];
	int64_t sec;
	uint32_t ns, uid;
	CHECK(syscall(SYS_statx, AT_FDCWD, f, 0, 0x7ff, sx) == 0);
	memcpy(&sec, sx + 0x70, 8), memcpy(&ns, sx + 0x78, 4), memcpy(&uid, sx + 20, 4);
	CHECK(sec == 1200000000 && ns == 987654321 && uid == geteuid());
	memcpy(&sec, sx + 0x40, 8), memcpy(&ns, sx + 0x48, 4);
	CHECK(sec == 1000000000 && ns == 123456789);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = (struct timespec){1300000000, 0};
	CHECK(utimensat(AT_FDCWD, f, ts, 0) == 0 && stat(f, &st) == 0);
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1300000000);
	struct timeval tv[2] = {{1400000000, 5}, {1500000000, 7}};
	CHECK(utimes(f, tv) == 0 && stat(f, &st) == 0 && st.st_mtim.tv_sec == 1500000000 &&
	      st.st_mtim.tv_nsec == 7000);
	struct utimbuf ub = {1600000000, 1700000000};
	CHECK(utime(f, &ub) == 0 && stat(f, &st) == 0 && st.st_mtime == 1700000000);
	int fd = open(f, O_RDWR);
	CHECK(futimens(fd, NULL) == 0 && fstat(fd, &st) == 0 && st.st_mtime > 1700000000);
	ts[1].tv_nsec = 1000000000;
	CHECK(futimens(fd, ts) == -1 && errno == EINVAL);
	close(fd);
}

static void sizes(const char *f)
{
	int fd = open(f, O_RDWR);
	CHECK(truncate(f, 10000) == 0 && stat(f, &st) == 0 && st.st_size == 10000);
	CHECK(ftruncate(fd, 3) == 0 && fstat(fd, &st) == 0 && st.st_size == 3);
	CHECK(fallocate(fd, 0, 0, 8192) == 0 && fstat(fd, &st) == 0 && st.st_size == 8192);
	CHECK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536) == 0 && fstat(fd, &st) == 0 &&
	      st.st_size == 8192);
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0 && syncfs(fd) == 0);
	sync();
	close(fd);
	CHECK(truncate("/tmp", 0) == -1 && errno == EISDIR);
	int c = creat("/tmp/capstan-attr-creat", 0600);
	CHECK(c >= 0 && write(c, "x", 1) == 1 && read(c, &st, 1) == -1 && errno == EBADF);
	close(c);
	unlink("/tmp/capstan-attr-creat");
}

static void filesystems(void)
{
	struct statfs sf;
	CHECK(statfs("/tmp", &sf) == 0 && sf.f_bsize > 0 && sf.f_blocks > 0 && sf.f_namelen == 255);
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK(fstatfs(fd, &sf) == 0 && sf.f_bfree <= sf.f_blocks);
	close(fd);
	CHECK(statfs("/tmp/capstan-attr-missing", &sf) == -1 && errno == ENOENT);
}

/* root gives up its ids the way a daemon does, and cannot take them back */
static void drop_root(void)
{
	if (geteuid() != 0)
		return;
	gid_t g[2] = {10, 20}, got[4];
	CHECK(setgroups(2, g) == 0 && getgroups(4, got) == 2 && got[1] == 20);
	CHECK(getgroups(1, got) == -1 && errno == EINVAL);
	CHECK(setresgid(100, 100, 100) == 0 && getegid() == 100);
	CHECK(setresuid(1000, 1000, 0) == 0 && getuid() == 1000 && geteuid() == 1000);
	CHECK(seteuid(0) == 0 && geteuid() == 0); /* the saved id allows it */
	CHECK(setuid(1000) == 0 && getuid() == 1000 && geteuid() == 1000);
	CHECK(setuid(0) == -1 && errno == EPERM);
	CHECK(setgroups(0, NULL) == -1 && errno == EPERM);
	uid_t r, e, s;
	CHECK(getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1000 && s == 1000);
	int fd = open("/tmp/capstan-attr-user", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == 1000 && st.st_gid == 100);
	close(fd);
	unlink("/tmp/capstan-attr-user");
}

int main(void)
{
	const char *f = "/tmp/capstan-attr";
	int fd = open(f, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	modes(f);
	owners(f);
	times(f);
	sizes(f);
	filesystems();
	unlink(f);
	drop_root();
	printf("attrs: modes, owners, times, sizes, statfs, ids ok\n");
	return check_done();
}
