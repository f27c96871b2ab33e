/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lginit: the init of the Linux guest the benchmarks compare our kernel with
 * (tests/bench/linuxguest.sh builds it into a minimal initramfs).
 *
 * It mounts /proc /sys /dev /tmp, loads the kernel modules /lg.conf lists (in
 * order: the script has resolved their dependencies), brings up lo and, when
 * asked, eth0 with a static address, runs the program as its child with the
 * console as stdio, reaps whatever else exits, and when the program ends
 * prints its status and powers off -- through isa-debug-exit when QEMU has
 * one, so QEMU's own exit status is (status << 1) | 1 as with our kernel.
 *
 * /lg.conf, one directive a line:
 *   module PATH           finit_module(PATH)
 *   net ADDR/LEN GATEWAY  eth0's address and the default route
 *   env NAME=VALUE        the program's environment
 *   arg WORD              the program's argv, in order (argv[0] is the path run)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORDS	256
#define DEBUG_EXIT_PORT 0xf4

static char *args[MAX_WORDS + 1];
static char *envs[MAX_WORDS + 1];
static int nargs, nenvs;

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("lginit: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

/* Milliseconds since the kernel started (what our kernel's --trace measures from). */
static double boot_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void power_off(int status)
{
	sync();
	/* QEMU's isa-debug-exit turns the byte into its exit status; without one, power off. */
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl((unsigned)status & 0xff, DEBUG_EXIT_PORT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void fail(const char *what)
{
	say("%s: %s", what, strerror(errno));
	power_off(127);
}

static void mount_one(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) != 0 && errno != EBUSY)
		fail(dir);
}

/* The kernel may start us without stdio when the initramfs has no /dev/console. */
static void console_stdio(void)
{
	int fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail(path);
	if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
		fail(path);
	close(fd);
}

static void set_addr(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	memset(in, 0, sizeof *in);
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = a;
}

static void if_up(int s, const char *name)
{
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		fail(name);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		fail(name);
}

/* eth0 appears when virtio_net has probed; the probe may finish after finit_module returns. */
static void wait_for_eth0(void)
{
	for (int i = 0; i < 500 && if_nametoindex("eth0") == 0; i++)
		usleep(10000);
	if (if_nametoindex("eth0") == 0) {
		errno = ENODEV;
		fail("eth0");
	}
}

static void net_up(char *spec)
{
	char *gw = strchr(spec, ' ');
	char *len = strchr(spec, '/');
	if (!gw || !len || len > gw) {
		errno = EINVAL;
		fail("net directive");
	}
	*gw++ = '\0';
	*len++ = '\0';
	int bits = atoi(len);
	in_addr_t mask = bits ? htonl(~0u << (32 - bits)) : 0;

	wait_for_eth0();
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail("socket");
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "eth0");
	set_addr(&ifr.ifr_addr, inet_addr(spec));
	if (ioctl(s, SIOCSIFADDR, &ifr) != 0)
		fail("eth0 address");
	set_addr(&ifr.ifr_netmask, mask);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
		fail("eth0 netmask");
	if_up(s, "eth0");

	struct rtentry rt = {0};
	set_addr(&rt.rt_dst, 0);
	set_addr(&rt.rt_genmask, 0);
	set_addr(&rt.rt_gateway, inet_addr(gw));
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(s, SIOCADDRT, &rt) != 0)
		fail("default route");
	close(s);
	say("eth0: %s/%d via %s at %.1f ms", spec, bits, gw, boot_ms());
}

static char *keep(const char *s)
{
	char *d = strdup(s);
	if (!d)
		fail("strdup");
	return d;
}

static void read_conf(void)
{
	FILE *f = fopen("/lg.conf", "r");
	if (!f)
		fail("/lg.conf");
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *val = strchr(line, ' ');
		if (!val)
			continue;
		*val++ = '\0';
		if (strcmp(line, "module") == 0)
			load_module(val);
		else if (strcmp(line, "net") == 0)
			net_up(val);
		else if (strcmp(line, "arg") == 0 && nargs < MAX_WORDS)
			args[nargs++] = keep(val);
		else if (strcmp(line, "env") == 0 && nenvs < MAX_WORDS)
			envs[nenvs++] = keep(val);
	}
	fclose(f);
	if (nargs == 0) {
		errno = EINVAL;
		fail("/lg.conf names no program");
	}
}

int main(void)
{
	mount_one("devtmpfs", "/dev", "devtmpfs");
	console_stdio();
	mount_one("proc", "/proc", "proc");
	mount_one("sysfs", "/sys", "sysfs");
	mount_one("tmpfs", "/tmp", "tmpfs");

	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail("socket");
	if_up(s, "lo");
	close(s);
	read_conf();

	say("program start at %.1f ms", boot_ms());
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		setsid();
		execve(args[0], args, envs);
		fail(args[0]);
	}
	/* pid 1 reaps every orphan; the program's own status decides the end. */
	for (;;) {
		int st;
		pid_t w = wait(&st);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail("wait");
		if (w != pid)
			continue;
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		say("exit %d at %.1f ms", code, boot_ms());
		power_off(code);
	}
}
