/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared mappings across fork: parent and child see each other's stores in a
 * MAP_SHARED|MAP_ANONYMOUS mapping (touched before the fork and not), a memfd
 * mapping and a file mapping, ordered by a futex in the shared memory and a
 * pipe; private mappings stay private; the shared pages outlive the child.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define PG	   4096
#define FUTEX_WAIT 0 /* without FUTEX_PRIVATE_FLAG: across processes */
#define FUTEX_WAKE 1

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *t)
{
	return syscall(SYS_futex, word, op, val, t, NULL, 0);
}

/* Wait until *word is no longer val; false after 20 s (a store the other never saw). */
static bool wait_change(uint32_t *word, uint32_t val)
{
	struct timespec t = {1, 0};
	for (int i = 0; i < 20; i++) {
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != val)
			return true;
		futex(word, FUTEX_WAIT, val, &t);
	}
	return __atomic_load_n(word, __ATOMIC_SEQ_CST) != val;
}

static void set_wake(uint32_t *word, uint32_t val)
{
	__atomic_store_n(word, val, __ATOMIC_SEQ_CST);
	futex(word, FUTEX_WAKE, 1, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char *anon = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *priv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int mfd = (int)syscall(SYS_memfd_create, "capstan-fork", 0);
	CHECK(mfd >= 0 && ftruncate(mfd, 2 * PG) == 0);
	char *mem = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	const char *path = "/tmp/capstan-mmapfork";
	int ffd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	CHECK(ffd >= 0 && ftruncate(ffd, PG) == 0);
	char *file = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	char *fpriv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ffd, 0);
	CHECK(anon != MAP_FAILED && priv != MAP_FAILED && mem != MAP_FAILED && file != MAP_FAILED &&
	      fpriv != MAP_FAILED);
	if (anon == MAP_FAILED || priv == MAP_FAILED || mem == MAP_FAILED || file == MAP_FAILED ||
	    fpriv == MAP_FAILED)
		return check_done();
	uint32_t *turn = (uint32_t *)anon; /* 1: the child's turn, 2: the parent's, 3: done */
	strcpy(anon + 8, "parent");	   /* page 0 touched before the fork, pages 1 and 2 not */
	strcpy(priv, "parent");
	strcpy(mem, "parent");
	strcpy(file, "parent");
	CHECK(fpriv[0] == 'p'); /* read in before the fork */
	int pipefd[2];
	CHECK(pipe(pipefd) == 0);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int bad = !wait_change(turn, 0) || strcmp(anon + 8, "parent again") != 0;
		strcpy(anon + 8, "child");
		strcpy(anon + PG, "child, page 1");
		strcpy(priv, "child");
		strcpy(mem + PG, "child in memfd");
		strcpy(file + 100, "child in file");
		strcpy(fpriv, "child private");
		set_wake(turn, 2);
		bad |= !wait_change(turn, 2) || strcmp(anon + 2 * PG, "parent, page 2") != 0;
		char byte = bad ? 'b' : 'k';
		if (write(pipefd[1], &byte, 1) != 1)
			_exit(3);
		munmap(mem, 2 * PG); /* the parent keeps them */
		munmap(file, PG);
		_exit(bad);
	}
	strcpy(anon + 8, "parent again"); /* after the fork: the child sees it */
	set_wake(turn, 1);
	CHECK(wait_change(turn, 1) && !strcmp(anon + 8, "child"));
	CHECK(!strcmp(anon + PG, "child, page 1"));
	CHECK(!strcmp(mem + PG, "child in memfd"));
	CHECK(!strcmp(file + 100, "child in file"));
	CHECK(!strcmp(priv, "parent"));	 /* MAP_PRIVATE|MAP_ANONYMOUS: the child's copy */
	CHECK(!strcmp(fpriv, "parent")); /* MAP_PRIVATE file: the child's copy */
	strcpy(anon + 2 * PG, "parent, page 2");
	set_wake(turn, 3);
	char byte = 0;
	CHECK(read(pipefd[0], &byte, 1) == 1 && byte == 'k');
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("mmapfork: parent and child shared anonymous, memfd and file mappings\n");

	/* the child is gone: the shared pages are the parent's, and the files hold the stores */
	char buf[32] = {0};
	CHECK(!strcmp(mem + PG, "child in memfd") && !strcmp(anon + PG, "child, page 1"));
	CHECK(pread(mfd, buf, 14, PG) == 14 && !strcmp(buf, "child in memfd"));
	CHECK(munmap(file, PG) == 0);
	CHECK(pread(ffd, buf, 13, 100) == 13 && !memcmp(buf, "child in file", 13));
	char *again = mmap(NULL, PG, PROT_READ, MAP_SHARED, ffd, 0);
	CHECK(again != MAP_FAILED && !strcmp(again, "parent") &&
	      !strcmp(again + 100, "child in file"));
	munmap(again, PG);
	munmap(mem, 2 * PG);
	munmap(anon, 3 * PG);
	close(ffd);
	close(mfd);
	unlink(path);
	printf("mmapfork: private mappings stayed private\n");
	return check_done();
}
