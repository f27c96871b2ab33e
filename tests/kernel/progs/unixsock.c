/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_UNIX with names (paths, abstract, autobind), stream and datagram; SCM_RIGHTS and credentials.
 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "check.h"

#define SRV "/tmp/capstan-srv.sock"
#define DGS "/tmp/capstan-dgs.sock"
#define DGC "/tmp/capstan-dgc.sock"

static socklen_t sun_of(struct sockaddr_un *a, const char *path, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, path, len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

static void stream_path(void)
{
	unlink(SRV);
	struct sockaddr_un a, b;
	socklen_t al = sun_of(&a, SRV, sizeof(SRV)), bl;
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(l >= 0);
	CHECK(bind(l, (struct sockaddr *)&a, al) == 0);
	struct stat st;
	CHECK(stat(SRV, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK(open(SRV, O_RDONLY) == -1 && errno == ENXIO);
	int dup = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(dup, (struct sockaddr *)&a, al) == -1 && errno == EADDRINUSE);
	close(dup);
	/* nobody listens yet */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, al) == -1 && errno == ECONNREFUSED);
	CHECK(listen(l, 4) == 0);
	int v = 0;
	socklen_t vl = sizeof(v);
	CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1);
	CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
	bl = sizeof(b);
	int s = accept(l, (struct sockaddr *)&b, &bl);
	CHECK(s >= 0 && bl == sizeof(sa_family_t) && b.sun_family == AF_UNIX);
	bl = sizeof(b);
	CHECK(getsockname(l, (struct sockaddr *)&b, &bl) == 0 && bl == al &&
	      !strcmp(b.sun_path, SRV));
	bl = sizeof(b);
	CHECK(getpeername(c, (struct sockaddr *)&b, &bl) == 0 && bl == al &&
	      !strcmp(b.sun_path, SRV));
	bl = sizeof(b);
	CHECK(getsockname(s, (struct sockaddr *)&b, &bl) == 0 && !strcmp(b.sun_path, SRV));
	CHECK(write(c, "over a path", 11) == 11);
	char buf[32];
	CHECK(read(s, buf, sizeof(buf)) == 11 && !memcmp(buf, "over a path", 11));
	CHECK(write(s, "back", 4) == 4);
	CHECK(read(c, buf, sizeof(buf)) == 4 && !memcmp(buf, "back", 4));
	close(c);
	CHECK(read(s, buf, sizeof(buf)) == 0);
	close(s);
	close(l);
	/* the name stays in the file system until unlinked; then it is gone */
	CHECK(stat(SRV, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK(unlink(SRV) == 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, al) == -1 && errno == ENOENT);
	al = sun_of(&a, "/tmp", 5);
	CHECK(connect(c, (struct sockaddr *)&a, al) == -1 && errno == ECONNREFUSED);
	close(c);
	printf("unix: stream over %s, names, ENOENT once unlinked\n", SRV);
}

static void abstract_names(void)
{
	static const char name[] = "\0capstan-abstract";
	struct sockaddr_un a, b;
	socklen_t al = sun_of(&a, name, sizeof(name) - 1), bl = sizeof(b);
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, al) == 0 && listen(l, 1) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&b, &bl) == 0 && bl == al);
	CHECK(!memcmp(b.sun_path, name, sizeof(name) - 1));
	CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0 && write(c, "x", 1) == 1);
	char ch;
	CHECK(read(s, &ch, 1) == 1 && ch == 'x');
	close(s);
	close(c);
	close(l);
	/* the name goes with the socket */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, al) == -1 && errno == ECONNREFUSED);
	/* bind with no name: an abstract one of five hex digits */
	al = sun_of(&a, "", 0);
	CHECK(bind(c, (struct sockaddr *)&a, al) == 0);
	bl = sizeof(b);
	CHECK(getsockname(c, (struct sockaddr *)&b, &bl) == 0 && bl == al + 6 &&
	      b.sun_path[0] == 0);
	close(c);
	printf("unix: abstract names and autobind\n");
}

static void datagrams(void)
{
	unlink(DGS);
	unlink(DGC);
	struct sockaddr_un srv, cli, from;
	socklen_t sl = sun_of(&srv, DGS, sizeof(DGS)), cl = sun_of(&cli, DGC, sizeof(DGC)), fl;
	int s = socket(AF_UNIX, SOCK_DGRAM, 0), c = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(s, (struct sockaddr *)&srv, sl) == 0 &&
	      bind(c, (struct sockaddr *)&cli, cl) == 0);
	CHECK(sendto(c, "one", 3, 0, (struct sockaddr *)&srv, sl) == 3);
	CHECK(sendto(c, "two!", 4, 0, (struct sockaddr *)&srv, sl) == 4);
	char buf[16];
	fl = sizeof(from);
	CHECK(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 3);
	CHECK(fl == cl && !strcmp(from.sun_path, DGC) && !memcmp(buf, "one", 3));
	CHECK(recv(s, buf, 2, MSG_TRUNC) == 4); /* bounds kept */
	CHECK(sendto(s, "reply", 5, 0, (struct sockaddr *)&from, fl) == 5);
	CHECK(recv(c, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "reply", 5));
	/* connected: send() goes to the name, getpeername shows it */
	CHECK(connect(c, (struct sockaddr *)&srv, sl) == 0);
	CHECK(send(c, "conn", 4, 0) == 4);
	CHECK(recv(s, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "conn", 4));
	fl = sizeof(from);
	CHECK(getpeername(c, (struct sockaddr *)&from, &fl) == 0 && !strcmp(from.sun_path, DGS));
	/* an unnamed sender has no address to show */
	int u = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(sendto(u, "anon", 4, 0, (struct sockaddr *)&srv, sl) == 4);
	fl = sizeof(from);
	CHECK(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 4 && fl == 0);
	/* a stream socket's name is the wrong type */
	struct sockaddr_un a;
	socklen_t al = sun_of(&a, SRV, sizeof(SRV));
	unlink(SRV);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, al) == 0);
	CHECK(sendto(u, "x", 1, 0, (struct sockaddr *)&a, al) == -1 && errno == EPROTOTYPE);
	close(l);
	unlink(SRV);
	close(u);
	close(c);
	close(s);
	unlink(DGS);
	unlink(DGC);
	printf("unix: datagrams between names, connected and unnamed\n");
}

/* Send fds (n of them) with one byte over sock. */
static int send_fds(int sock, const int *fds, int n)
{
	char byte = 'F';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = CMSG_SPACE((size_t)n * sizeof(int))};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
	memcpy(CMSG_DATA(h), fds, (size_t)n * sizeof(int));
	return (int)sendmsg(sock, &m, 0);
}

/* Receive up to room fds into out; returns how many, -1 on error; *flags gets msg_flags. */
static int recv_fds(int sock, int *out, int room, int *flags)
{
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = CMSG_SPACE((size_t)room * sizeof(int))};
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1 || byte != 'F')
		return -1;
	*flags = m.msg_flags;
	int n = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			n = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(out, CMSG_DATA(h), (size_t)n * sizeof(int));
		}
	return n;
}

static void rights(void)
{
	int sv[2], p[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0);
	/* the pipe's read end travels, and our own copy is closed before it arrives */
	CHECK(send_fds(sv[0], &p[0], 1) == 1);
	close(p[0]);
	CHECK(write(p[1], "through a passed pipe", 21) == 21);
	int got[4], flags;
	CHECK(recv_fds(sv[1], got, 4, &flags) == 1 && !(flags & MSG_CTRUNC));
	char buf[32];
	CHECK(read(got[0], buf, sizeof(buf)) == 21 && !memcmp(buf, "through a passed pipe", 21));
	CHECK(fcntl(got[0], F_GETFD) == FD_CLOEXEC);
	close(got[0]);
	/* a file's open description is shared: the offset moves for both */
	int f = open("/tmp/capstan-rights.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(f >= 0 && write(f, "0123456789", 10) == 10 && lseek(f, 2, SEEK_SET) == 2);
	CHECK(send_fds(sv[1], &f, 1) == 1);
	CHECK(recv_fds(sv[0], got, 4, &flags) == 1);
	CHECK(read(got[0], buf, 3) == 3 && !memcmp(buf, "234", 3));
	CHECK(lseek(f, 0, SEEK_CUR) == 5);
	close(got[0]);
	/* room (CMSG_SPACE of one int, 8 bytes of data) for two of three: the third is
	 * closed, MSG_CTRUNC says so */
	int three[3] = {f, p[1], f};
	CHECK(send_fds(sv[0], three, 3) == 1);
	CHECK(recv_fds(sv[1], got, 1, &flags) == 2 && (flags & MSG_CTRUNC));
	close(got[0]);
	close(got[1]);
	/* a bad descriptor fails the whole send */
	int bad = 999;
	CHECK(send_fds(sv[0], &bad, 1) == -1 && errno == EBADF);
	/* over a named stream connection too, and read(2) drops what it does not take */
	struct sockaddr_un a;
	socklen_t al = sun_of(&a, "\0capstan-rights", 15);
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, al) == 0 && listen(l, 1) == 0);
	CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(send_fds(c, &p[1], 1) == 1);
	CHECK(read(s, buf, 1) == 1 && buf[0] == 'F');
	CHECK(send_fds(c, &f, 1) == 1);
	CHECK(recv_fds(s, got, 4, &flags) == 1);
	CHECK(lseek(got[0], 0, SEEK_CUR) == 5);
	close(got[0]);
	close(s);
	close(c);
	close(l);
	close(f);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	unlink("/tmp/capstan-rights.txt");
	printf("unix: SCM_RIGHTS passes pipes and files, truncation closes the rest\n");
}

static void credentials(void)
{
	int sv[2], one = 1;
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	struct ucred pc;
	socklen_t pl = sizeof(pc);
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &pc, &pl) == 0 && pl == sizeof(pc));
	CHECK(pc.pid == getpid() && pc.uid == geteuid() && pc.gid == getegid());
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0);
	CHECK(send(sv[0], "who", 3, 0) == 3);
	char buf[8];
	struct iovec iov = {buf, sizeof(buf)};
	union {
		char b[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	CHECK(recvmsg(sv[1], &m, 0) == 3);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	CHECK(h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS);
	if (h) {
		struct ucred uc;
		memcpy(&uc, CMSG_DATA(h), sizeof(uc));
		CHECK(uc.pid == getpid() && uc.uid == geteuid() && uc.gid == getegid());
	}
	/* a sender may state its own credentials, not another's */
	struct ucred mine = {getpid(), geteuid(), getegid()};
	struct msghdr sm = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	h = CMSG_FIRSTHDR(&sm);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_CREDENTIALS;
	h->cmsg_len = CMSG_LEN(sizeof(mine));
	memcpy(CMSG_DATA(h), &mine, sizeof(mine));
	iov.iov_len = 2;
	CHECK(sendmsg(sv[0], &sm, 0) == 2);
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 2);
	close(sv[0]);
	close(sv[1]);
	printf("unix: SO_PEERCRED and SCM_CREDENTIALS name this process\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	stream_path();
	abstract_names();
	datagrams();
	rights();
	credentials();
	return check_done();
}
