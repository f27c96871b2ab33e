/* SPDX-License-Identifier: BSD-3-Clause */
/* The segments execve maps: initialized data, a zeroed bss (from the byte after p_filesz on, in
 * the data's last file page too), private data across fork, text that a write faults on, and a
 * fresh copy of everything for a program that runs the file again after this one changed its
 * pages (execve maps the file's pages, which must never be the ones a process wrote). */
#include <elf.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define PAGE 4096ul

extern char **environ;

/* initialized data over several pages, with values at both ends */
static unsigned data_pat[3000] = {[0] = 0x12345678, [1500] = 0x9abcdef0, [2999] = 0x0badcafe};
static char data_str[] = "initialized data";
/* the bss: the first object in it after the C runtime's few bytes, so it begins in the data
 * segment's last file page, where the file has other bytes (the sections that follow) */
static unsigned char zeros[3 * PAGE];
static const char text_str[] = "read-only data";
static const char *volatile text_p = text_str; /* read through this: not folded at build time */
static sigjmp_buf on_segv;

static void segv(int sig)
{
	(void)sig;
	siglongjmp(on_segv, 1);
}

/* Does a write of one byte at p fault (SIGSEGV), leaving the byte as it was? */
static int write_faults(volatile char *p)
{
	char was = *p;
	if (sigsetjmp(on_segv, 1))
		return *p == was;
	*p = (char)(was + 1);
	*p = was;
	return 0;
}

static int fresh(void)
{
	return data_pat[0] == 0x12345678 && data_pat[1500] == 0x9abcdef0 &&
	       data_pat[2999] == 0x0badcafe && !strcmp(data_str, "initialized data") &&
	       !strcmp(text_p, "read-only data");
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* dl_iterate_phdr's first object is the program: where its writable PT_LOAD's file bytes end. */
static int find_data_end(struct dl_phdr_info *info, size_t size, void *out)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			*(uintptr_t *)out = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
	}
	return 1;
}

/* Runs this program again with argument arg; its exit status (-1 when it did not exit). */
static int run_again(const char *self, const char *arg)
{
	char *argv[] = {(char *)self, (char *)arg, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execve(self, argv, environ);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--fresh")) /* run again: as the file has it */
		return fresh() && all_zero(zeros, sizeof(zeros)) ? 0 : 3;
	const char *self = argv[0][0] == '/' ? argv[0] : "/proc/self/exe";

	CHECK(fresh());
	uintptr_t fend = 0, z = (uintptr_t)zeros;
	dl_iterate_phdr(find_data_end, &fend);
	CHECK(fend % PAGE == 0 || (z >= fend && z < (fend | (PAGE - 1)) + 1));
	CHECK(all_zero(zeros, sizeof(zeros)));
	printf("execseg: initialized data, and a zero bss from p_filesz on\n");

	/* fork: each side writes its data and bss pages; neither sees the other's */
	int sync[2], back[2];
	CHECK(pipe(sync) == 0 && pipe(back) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		data_pat[0] = 1, data_str[0] = 'C', zeros[0] = 'c';
		if (read(sync[0], &c, 1) != 1)
			_exit(10);
		int bad = data_pat[0] != 1 || data_str[0] != 'C' || zeros[0] != 'c' ||
			  data_pat[2999] != 0x0badcafe;
		if (write(back[1], "k", 1) != 1)
			_exit(11);
		_exit(bad ? 12 : 0);
	}
	CHECK(pid > 0);
	data_pat[2999] = 2, zeros[1] = 'p';
	CHECK(write(sync[1], "g", 1) == 1);
	char c;
	CHECK(read(back[0], &c, 1) == 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(data_pat[0] == 0x12345678 && data_str[0] == 'i' && zeros[0] == 0 &&
	      data_pat[2999] == 2 && zeros[1] == 'p');
	printf("execseg: data and bss written after fork stayed each process's own\n");

	/* the text and the read-only data: a write faults */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = segv;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	CHECK(write_faults((volatile char *)(uintptr_t)&fresh));
	CHECK(write_faults((volatile char *)(uintptr_t)text_str));
	printf("execseg: writing the text or read-only data faults\n");

	/* made writable, a read-only page takes the write; the file's page keeps its bytes */
	uintptr_t ro = (uintptr_t)text_str & ~(PAGE - 1);
	CHECK(mprotect((void *)ro, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) == 0);
	((char *)(uintptr_t)text_str)[0] = 'R';
	zeros[sizeof(zeros) - 1] = 'z';
	CHECK(text_p[0] == 'R');
	CHECK(run_again(self, "--fresh") == 0);
	printf("execseg: the program run again after writes has its file's data and a zero bss\n");
	return check_done();
}
