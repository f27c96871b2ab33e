/* SPDX-License-Identifier: BSD-3-Clause */
/* mkimage: write a raw capstan image from a kernel, a cmdline and files (for the kernel tests). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/elfdeps.h"
#include "capstan/err.h"
#include "capstan/layout.h"
#include "capstan/banned.h"

static const char usage[] =
    "usage: mkimage OUT.img --kernel K.elf [--mbr mbr.bin] [--cmdline 'LINE'] [--deps] "
    "[GUEST=HOST ...]\n"
    "       mkimage --list IMG\n"
    "GUEST=HOST adds a host file or folder (recursively) at GUEST; later ones override earlier.\n"
    "--deps adds the interpreter and libraries of the dynamic files as capstan build does.\n"
    "GUEST=@TARGET adds a symlink, GUEST/=: an empty folder.\n";

static int print_entry(void *ctx, const struct layout_entry *e)
{
	(void)ctx;
	printf("%06o %10llu %s%s%s\n", e->mode, (unsigned long long)e->size, e->name,
	       e->link ? " -> " : "", e->link ? e->link : "");
	return 0;
}

static int list(const char *img)
{
	struct layout_info *info = calloc(1, sizeof(*info));
	int r = info ? layout_read(img, info) : -12;
	if (!r) {
		printf("cmdline: %s\nkernel: %llu bytes, load 0x%x, entry 0x%x\nrootfs: %llu bytes "
		       "at %llu, %u entries\n",
		       info->cmdline, (unsigned long long)info->hdr.kernel_size,
		       info->hdr.kernel_load_addr, info->hdr.kernel_entry32,
		       (unsigned long long)info->hdr.rootfs_size,
		       (unsigned long long)info->hdr.rootfs_offset, info->hdr.rootfs_entries);
		r = layout_list(img, info, print_entry, NULL);
	}
	free(info);
	return r;
}

/* The files given on the command line, for the resolver. */
static const char **given;
static int ngiven;

static const char *has_given(void *arg, const char *guest)
{
	(void)arg;
	for (int i = ngiven; i-- > 0;) {
		size_t gl = strcspn(given[i], "=");
		if (strlen(guest) == gl && !strncmp(given[i], guest, gl))
			return given[i][gl + 1] == '@' ? "" : given[i] + gl + 1;
	}
	return NULL;
}

/* Add what the dynamic GUEST=HOST files need (their interpreter and libraries). */
static int add_deps(struct rootfs *rf)
{
	struct elfdeps_conf conf;
	struct elfdeps d = {0};
	int r = 0;

	elfdeps_conf_host(&conf);
	for (int pass = 0; pass < 2 && !r; pass++)
		for (int i = 0; i < ngiven && !r; i++) {
			char *guest = strdup(given[i]);
			char *eq = strchr(guest, '=');
			*eq = 0;
			if (eq[1] && eq[1] != '@')
				r = elfdeps_scan(&d, &conf, has_given, NULL, guest, eq + 1,
						 pass == 0);
			free(guest);
		}
	for (size_t i = 0; i < d.n && !r; i++) {
		char *real =
		    d.v[i].link ? NULL : realpath(d.v[i].host, NULL); /* a file, not its link */
		r = d.v[i].link ? rootfs_add_symlink(rf, d.v[i].guest, d.v[i].link)
		    : real	? rootfs_add_host(rf, d.v[i].guest, real)
				: cap_errf(CAP_E_DATA, "cannot read '%s'", d.v[i].host);
		free(real);
	}
	elfdeps_release(&d);
	return r;
}

int main(int argc, char **argv)
{
	struct layout_spec spec = {0};
	const char *out = NULL;
	int r = 0, deps = 0;

	if (argc == 3 && !strcmp(argv[1], "--list")) {
		r = list(argv[2]);
		goto done;
	}
	struct rootfs *rf = rootfs_new();
	spec.rootfs = rf;
	for (int i = 1; i < argc && !r; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "--kernel") || !strcmp(a, "--mbr") || !strcmp(a, "--cmdline")) &&
		    i + 1 < argc) {
			const char **dst = a[2] == 'k'	 ? &spec.kernel_path
					   : a[2] == 'm' ? &spec.mbr_path
							 : &spec.cmdline;
			*dst = argv[++i];
		} else if (!strcmp(a, "--deps")) {
			deps = 1;
		} else if (a[0] == '-') {
			fputs(usage, stderr);
			rootfs_free(rf);
			return 64;
		} else if (strchr(a, '=')) {
			char *guest = strdup(a);
			char *eq = strchr(guest, '=');
			*eq = 0;
			const char *host = eq + 1;
			size_t gl = strlen(guest);
			if (host[0] == '@')
				r = rootfs_add_symlink(rf, guest, host + 1);
			else if (!*host && gl && guest[gl - 1] == '/')
				r = rootfs_add_dir(rf, guest, 0755);
			else
				r = rootfs_add_host(rf, guest, host);
			free(guest);
			given = realloc(given, (size_t)(ngiven + 1) * sizeof(*given));
			given[ngiven++] = a;
		} else if (!out) {
			out = a;
		} else {
			fputs(usage, stderr);
			rootfs_free(rf);
			return 64;
		}
	}
	if (!r && (!out || !spec.kernel_path)) {
		fputs(usage, stderr);
		rootfs_free(rf);
		return 64;
	}
	if (!r && deps)
		r = add_deps(rf);
	if (!r)
		r = layout_write(out, &spec);
	rootfs_free(rf);
done:
	if (r) {
		fprintf(stderr, "mkimage: %s\n", cap_errmsg(r));
		return cap_exit_code(r);
	}
	return 0;
}
