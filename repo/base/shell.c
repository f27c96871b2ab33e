// SPDX-License-Identifier: BSD-3-Clause
// shell.c: the little interactive shell of capstan/base, read from the console.
/*
 * A static program like any other the kernel runs.  It reads one line at a
 * time from stdin, splits it on blanks (single and double quotes group words),
 * and runs a built-in.  `run PATH [ARGS]` starts another program: with fork
 * where the kernel has it (the shell waits and shows the exit status), else by
 * replacing the shell with execve, so the VM ends with the program's status.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 64

static int last_status;

static int cmd_help(int argc, char **argv);

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "");
	printf("\n");
	return 0;
}

static int cmd_env(int argc, char **argv)
{
	for (char **e = environ; e && *e; e++)
		printf("%s\n", *e);
	return 0;
}

static int cmd_uname(int argc, char **argv)
{
	struct utsname u;

	if (uname(&u) < 0) {
		fprintf(stderr, "uname: %s\n", strerror(errno));
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "-a"))
		printf("%s %s %s %s %s\n", u.sysname, u.nodename, u.release, u.version, u.machine);
	else
		printf("%s\n", u.sysname);
	return 0;
}

static int cmd_free(int argc, char **argv)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0) {
		fprintf(stderr, "free: %s\n", strerror(errno));
		return 1;
	}
	unsigned long long unit = si.mem_unit ? si.mem_unit : 1;
	unsigned long long total = si.totalram * unit / 1024, fr = si.freeram * unit / 1024;
	printf("%-6s %12s %12s %12s\n", "", "total", "used", "free");
	printf("%-6s %12llu %12llu %12llu\n", "Mem:", total, total - fr, fr);
	return 0;
}

static int cmd_date(int argc, char **argv)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S UTC %Y", &tm);
	printf("%s\n", buf);
	return 0;
}

static void mode_string(mode_t m, char *s)
{
	const char *rwx = "rwxrwxrwx";

	s[0] = S_ISDIR(m)    ? 'd'
	       : S_ISLNK(m)  ? 'l'
	       : S_ISCHR(m)  ? 'c'
	       : S_ISBLK(m)  ? 'b'
	       : S_ISFIFO(m) ? 'p'
			     : '-';
	for (int i = 0; i < 9; i++)
		s[i + 1] = (m & (0400 >> i)) ? rwx[i] : '-';
	s[10] = '\0';
}

static int ls_one(const char *dir, const char *name, int lng)
{
	char path[4096], mode[11], target[4096];
	struct stat st;

	if (!lng) {
		printf("%s\n", name);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) < 0) {
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	mode_string(st.st_mode, mode);
	printf("%s %10lld %s", mode, (long long)st.st_size, name);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			printf(" -> %s", target);
		}
	}
	printf("\n");
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ls_path(const char *path, int lng)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int ret = 0;
	DIR *d;

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return ls_one(".", path, lng);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		ret |= ls_one(path, names[i], lng);
		free(names[i]);
	}
	free(names);
	return ret;
}

static int cmd_ls(int argc, char **argv)
{
	int lng = 0, i = 1, ret = 0;

	if (i < argc && !strcmp(argv[i], "-l")) {
		lng = 1;
		i++;
	}
	if (i == argc)
		return ls_path(".", lng);
	for (; i < argc; i++) {
		if (argc - i > 1 || i > 2)
			printf("%s:\n", argv[i]);
		ret |= ls_path(argv[i], lng);
	}
	return ret;
}

static int cmd_cat(int argc, char **argv)
{
	char buf[4096];
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		ssize_t n;
		if (fd < 0) {
			fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
			ret = 1;
			continue;
		}
		fflush(stdout);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(1, buf, (size_t)n) != n)
				break;
		if (n < 0) {
			fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
			ret = 1;
		}
		close(fd);
	}
	return ret;
}

static int cmd_cd(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/";

	if (chdir(dir) < 0) {
		fprintf(stderr, "cd: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_pwd(int argc, char **argv)
{
	char buf[4096];

	if (!getcwd(buf, sizeof(buf))) {
		fprintf(stderr, "pwd: %s\n", strerror(errno));
		return 1;
	}
	printf("%s\n", buf);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: run PATH [ARGS]\n");
		return 2;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execve(argv[1], argv + 1, environ);
		fprintf(stderr, "run: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	if (pid > 0) {
		if (waitpid(pid, &status, 0) < 0) {
			fprintf(stderr, "run: wait: %s\n", strerror(errno));
			return 1;
		}
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	/* one process only (capstan's kernel): the program replaces the shell,
	 * and the VM ends with its status */
	execve(argv[1], argv + 1, environ);
	int err = errno;
	if (err == ENOSYS) {
		fprintf(stderr,
			"run: this kernel runs one program per VM (no fork, no execve): "
			"make %s the image's cmdline instead\n",
			argv[1]);
		return 126;
	}
	fprintf(stderr, "run: %s: %s\n", argv[1], strerror(err));
	return err == ENOENT ? 127 : 126;
}

static int cmd_status(int argc, char **argv)
{
	printf("%d\n", last_status);
	return last_status;
}

static const struct builtin {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} builtins[] = {
    {"cat", cmd_cat, "cat FILE...          print files"},
    {"cd", cmd_cd, "cd [DIR]             change folder"},
    {"date", cmd_date, "date                 print the time (UTC)"},
    {"echo", cmd_echo, "echo [WORD...]       print words"},
    {"env", cmd_env, "env                  print the environment"},
    {"exit", NULL, "exit [CODE]          leave the shell (and the VM) with CODE"},
    {"free", cmd_free, "free                 memory in KiB"},
    {"help", cmd_help, "help                 this list"},
    {"ls", cmd_ls, "ls [-l] [PATH...]    list folders"},
    {"pwd", cmd_pwd, "pwd                  print the current folder"},
    {"run", cmd_run, "run PATH [ARGS]      run a program and wait for it"},
    {"status", cmd_status, "status               exit status of the last command"},
    {"uname", cmd_uname, "uname [-a]           system name"},
};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static int cmd_help(int argc, char **argv)
{
	printf("capstan shell commands:\n");
	for (size_t i = 0; i < NBUILTINS; i++)
		printf("  %s\n", builtins[i].help);
	return 0;
}

/* Split line in place into argv; returns argc, -1 on an unclosed quote. */
static int split(char *line, char **argv)
{
	int argc = 0;
	char *r = line, *w = line;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (!*r || *r == '#' || argc == MAX_ARGS - 1)
			break;
		argv[argc++] = w;
		char quote = 0;
		while (*r && (quote || (*r != ' ' && *r != '\t' && *r != '\n' && *r != '\r'))) {
			if (!quote && (*r == '"' || *r == '\'')) {
				quote = *r++;
				continue;
			}
			if (quote && *r == quote) {
				quote = 0;
				r++;
				continue;
			}
			*w++ = *r++;
		}
		if (quote)
			return -1;
		if (*r)
			r++;
		*w++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

int main(int argc, char **argv)
{
	char line[4096];
	char *av[MAX_ARGS];
	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("capstan shell; 'help' lists the commands\n");
	for (;;) {
		printf("$ ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			break;
		int n = split(line, av);
		if (n < 0) {
			fprintf(stderr, "unclosed quote\n");
			last_status = 2;
			continue;
		}
		if (n == 0)
			continue;
		if (!strcmp(av[0], "exit")) {
			int code = n > 1 ? (int)strtol(av[1], NULL, 10) : last_status;
			fflush(stdout);
			return code & 255;
		}
		size_t i;
		for (i = 0; i < NBUILTINS; i++)
			if (builtins[i].fn && !strcmp(av[0], builtins[i].name))
				break;
		if (i == NBUILTINS) {
			fprintf(stderr, "%s: unknown command; 'help' lists them\n", av[0]);
			last_status = 127;
			continue;
		}
		last_status = builtins[i].fn(n, av);
		fflush(stdout);
	}
	printf("\n");
	return last_status;
}
