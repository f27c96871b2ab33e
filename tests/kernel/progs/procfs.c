/* SPDX-License-Identifier: BSD-3-Clause */
/* /proc/self and the machine-wide files of /proc and /sys, checked against the program's own view.
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "check.h"

static char buf[65536];

static ssize_t slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = 0, r;
	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* the value after "key" at the start of a line, or NULL */
static const char *field(const char *key)
{
	size_t l = strlen(key);
	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, l))
			return p + l;
	return NULL;
}

static void self(int argc, char **argv)
{
	char link[4096], exe[4096];
	ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	CHECK(n > 0 && link[0] == '/');
	link[n > 0 ? n : 0] = 0;
	snprintf(exe, sizeof(exe), "%s", argv[0]);
	CHECK(!strcmp(basename(link), basename(exe)));

	n = slurp("/proc/self/cmdline");
	ssize_t want = 0;
	for (int i = 0; i < argc; i++)
		want += (ssize_t)strlen(argv[i]) + 1;
	CHECK(n == want && !strcmp(buf + strlen(buf) + 1, argv[1]));
	n = slurp("/proc/self/environ");
	int seen = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		seen |= !strcmp(buf + i, "CAPSTAN_P=proc");
	CHECK(seen);

	char head[64], comm[16];
	snprintf(comm, sizeof(comm), "%s", basename(exe));
	snprintf(head, sizeof(head), "%d (%s) R ", getpid(), comm);
	CHECK(slurp("/proc/self/stat") > 0 && !strncmp(buf, head, strlen(head)));
	char line[32];
	snprintf(line, sizeof(line), "%s\n", comm);
	CHECK(slurp("/proc/self/comm") > 0 && !strcmp(buf, line));
	umask(027);
	CHECK(slurp("/proc/self/status") > 0);
	CHECK(field("Umask:\t") && !strcmp(strtok(strdup(field("Umask:\t")), "\n"), "0027"));
	CHECK(field("Pid:\t") && atoi(field("Pid:\t")) == getpid());
	CHECK(field("Uid:\t") && (uid_t)atoi(field("Uid:\t")) == getuid());
	CHECK(field("VmRSS:") && atol(field("VmRSS:")) > 0);
}

static void maps(void)
{
	int local = 0, stack = 0, code = 0;
	char line[512], *save;
	CHECK(slurp("/proc/self/maps") > 0);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		char perms[8];
		snprintf(line, sizeof(line), "%s", l);
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		if ((uintptr_t)&local >= lo && (uintptr_t)&local < hi)
			stack = strstr(line, "[stack]") && perms[1] == 'w';
		if ((uintptr_t)maps >= lo && (uintptr_t)maps < hi)
			code = perms[2] == 'x' && strchr(line, '/');
	}
	CHECK(stack);
	CHECK(code);
}

static void fds(void)
{
	char link[4096], path[64];
	int fd = open("data/hello.txt", O_RDONLY), p[2];
	CHECK(fd >= 0 && pipe(p) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && link[0] == '/' && strstr(link, "/data/hello.txt"));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 6 && !strncmp(link, "pipe:[", 6));
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)))
		found += atoi(e->d_name) == fd || atoi(e->d_name) == p[1];
	CHECK(found == 2);
	closedir(d);
	/* /dev/fd/N and /dev/stdout (a log "file" of nginx) go through /proc/self/fd */
	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	int again = open(path, O_RDONLY);
	CHECK(again >= 0 && read(again, link, 12) == 12 && !memcmp(link, "hello, file\n", 12));
	close(again);
	n = readlink("/dev/stdout", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK(!strcmp(link, "/proc/self/fd/1"));
	n = readlink("/dev/stderr", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK(!strcmp(link, "/proc/self/fd/2"));
	struct stat st;
	CHECK(stat("/run", &st) == 0 && S_ISDIR(st.st_mode)); /* pid files go there */
	close(p[0]);
	close(p[1]);
	close(fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(readlink(path, link, sizeof(link)) == -1 && errno == ENOENT);
}

static void machine(void)
{
	CHECK(slurp("/proc/meminfo") > 0 && field("MemTotal:") && field("MemFree:"));
	CHECK(atol(field("MemTotal:")) > 0 && atol(field("MemFree:")) <= atol(field("MemTotal:")));
	CHECK(field("MemAvailable:") && field("SwapTotal:"));
	CHECK(slurp("/proc/cpuinfo") > 0 && field("processor\t: 0") && field("flags"));
	CHECK(slurp("/proc/stat") > 0 && field("cpu ") && field("btime "));
	double up, idle, l1, l5, l15;
	int run, all, last;
	CHECK(slurp("/proc/uptime") > 0 && sscanf(buf, "%lf %lf", &up, &idle) == 2 && idle <= up);
	CHECK(slurp("/proc/loadavg") > 0 &&
	      sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &all, &last) == 6);
	CHECK(slurp("/proc/mounts") > 0 && strstr(buf, " / "));
	CHECK(slurp("/proc/self/mountinfo") > 0 && strstr(buf, " / / ") && strstr(buf, " - proc "));
	CHECK(slurp("/sys/devices/system/cpu/online") > 0 && buf[0] == '0');
	struct stat r, u;
	CHECK(stat("/dev/random", &r) == 0 && stat("/dev/urandom", &u) == 0);
	CHECK(major(r.st_rdev) == 1 && minor(r.st_rdev) == 8 && minor(u.st_rdev) == 9);
}

int main(int argc, char **argv)
{
	CHECK(argc == 3);
	if (argc != 3)
		return check_done();
	self(argc, argv);
	maps();
	fds();
	machine();
	printf("procfs: self, maps, fd, machine files ok\n");
	return check_done();
}
