/* SPDX-License-Identifier: BSD-3-Clause */
/* Scripts: a file starting "#!" runs its interpreter with the script's path, as Linux does. */
#include "exec.h"
#include "fs/vfs.h"

#define SCRIPT_HEAD  256 /* Linux reads this much of the first line (BINPRM_BUF_SIZE) */
#define SCRIPT_DEPTH 4	 /* an interpreter may itself be a script, this many times */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Split "#!interp [arg]" into interp and arg (empty when there is none); 1 for a script. */
static int parse(const char *path, char *interp, char *arg)
{
	char head[SCRIPT_HEAD + 1];
	struct node *n;
	if (vfs_walk(vfs_cwd, path, true, &n, NULL, NULL) || n->kind != K_FILE)
		return 0; /* exec_check reports it */
	long got = vfs_pread(n, head, SCRIPT_HEAD, 0);
	if (got < 2 || head[0] != '#' || head[1] != '!')
		return 0;
	head[got] = 0;
	char *nl = strchr(head, '\n');
	if (nl)
		*nl = 0;
	char *p = head + 2;
	while (blank(*p))
		p++;
	char *end = p;
	while (*end && !blank(*end))
		end++;
	if (end == p || (!nl && !*end && got == SCRIPT_HEAD))
		return -ENOEXEC; /* no interpreter, or its name cut off */
	memcpy(interp, p, (size_t)(end - p));
	interp[end - p] = 0;
	p = end;
	while (blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && (blank(end[-1]) || end[-1] == '\r'))
		end--;
	memcpy(arg, p, (size_t)(end - p));
	arg[end - p] = 0;
	return 1;
}

static char *keep(const char *s, char *pool, size_t *used, size_t cap)
{
	size_t l = strlen(s) + 1;
	if (*used + l > cap)
		return NULL;
	char *d = memcpy(pool + *used, s, l);
	*used += l;
	return d;
}

/*
 * While path names a script, make its interpreter the program:
 * argv becomes interp [arg] path argv[1]...  path (4096 bytes) is updated;
 * argv has room for KARGS entries; new strings go into pool.
 */
int exec_script(char *path, char **argv, int *argc, char *pool, size_t *used, size_t cap)
{
	char interp[SCRIPT_HEAD + 1], arg[SCRIPT_HEAD + 1];
	for (int depth = 0;; depth++) {
		int r = parse(path, interp, arg);
		if (r <= 0)
			return r;
		if (depth == SCRIPT_DEPTH)
			return -ELOOP;
		int extra = arg[0] ? 2 : 1, rest = *argc > 0 ? *argc - 1 : 0;
		if (rest + 1 + extra > KARGS)
			return -E2BIG;
		char *ip = keep(interp, pool, used, cap),
		     *ap = arg[0] ? keep(arg, pool, used, cap) : NULL,
		     *pp = keep(path, pool, used, cap);
		if (!ip || (arg[0] && !ap) || !pp)
			return -E2BIG;
		memmove(argv + 1 + extra, argv + 1, (size_t)rest * sizeof(char *));
		argv[0] = ip;
		if (ap)
			argv[1] = ap;
		argv[extra] = pp;
		*argc = rest + 1 + extra;
		argv[*argc] = NULL;
		if (strlen(interp) >= 4096)
			return -ENAMETOOLONG;
		memcpy(path, interp, strlen(interp) + 1);
	}
}
