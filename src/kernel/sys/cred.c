/* SPDX-License-Identifier: BSD-3-Clause */
/* Credentials: real, effective, saved and file-system ids, and groups. */
#include "sys.h"

/*
 * The process starts as root.  The ids follow Linux's rules for who may set
 * what (root may set any; others only their real, effective or saved id),
 * so a program that drops root cannot take it back; files it creates are
 * owned by its effective ids.  Access checks on files are not made: the
 * kernel runs one application and keeps no users apart.
 */
#define cred (current->proc->cred) /* the calling process's; fork copies them */

uint32_t cred_fsuid(void)
{
	return cred.euid;
}

uint32_t cred_fsgid(void)
{
	return cred.egid;
}

SYSCALL0(getuid)
{
	return cred.uid;
}

SYSCALL0(geteuid)
{
	return cred.euid;
}

SYSCALL0(getgid)
{
	return cred.gid;
}

SYSCALL0(getegid)
{
	return cred.egid;
}

static bool may_become(uint32_t id, uint32_t r, uint32_t e, uint32_t s)
{
	return cred.euid == 0 || id == r || id == e || id == s;
}

/* setresuid and setresgid: -1 keeps an id */
static long set_res(uint32_t *ids, uint32_t r, uint32_t e, uint32_t s)
{
	uint32_t want[3] = {r, e, s};
	for (int i = 0; i < 3; i++)
		if (want[i] != (uint32_t)-1 && !may_become(want[i], ids[0], ids[1], ids[2]))
			return -EPERM;
	for (int i = 0; i < 3; i++)
		if (want[i] != (uint32_t)-1)
			ids[i] = want[i];
	return 0;
}

static uint32_t *uids(void)
{
	return &cred.uid; /* uid, euid, suid in order */
}

static uint32_t *gids(void)
{
	return &cred.gid;
}

SYSCALL3(setresuid, uint32_t, r, uint32_t, e, uint32_t, s)
{
	return set_res(uids(), r, e, s);
}

SYSCALL3(setresgid, uint32_t, r, uint32_t, e, uint32_t, s)
{
	/* changing group ids needs root, or one of the process's own */
	uint32_t *g = gids();
	uint32_t want[3] = {r, e, s};
	for (int i = 0; i < 3; i++)
		if (want[i] != (uint32_t)-1 && cred.euid && want[i] != g[0] && want[i] != g[1] &&
		    want[i] != g[2])
			return -EPERM;
	for (int i = 0; i < 3; i++)
		if (want[i] != (uint32_t)-1)
			g[i] = want[i];
	return 0;
}

static long put_res(const uint32_t *ids, uint64_t ur, uint64_t ue, uint64_t us)
{
	uint64_t p[3] = {ur, ue, us};
	for (int i = 0; i < 3; i++)
		UOK(p[i], 4);
	for (int i = 0; i < 3; i++)
		*(uint32_t *)p[i] = ids[i];
	return 0;
}

SYSCALL3(getresuid, uint64_t, r, uint64_t, e, uint64_t, s)
{
	return put_res(uids(), r, e, s);
}

SYSCALL3(getresgid, uint64_t, r, uint64_t, e, uint64_t, s)
{
	return put_res(gids(), r, e, s);
}

/* setuid: root sets all three ids; others only the effective one */
SYSCALL1(setuid, uint32_t, id)
{
	if (cred.euid == 0)
		return set_res(uids(), id, id, id);
	return id == cred.uid || id == cred.suid ? set_res(uids(), -1u, id, -1u) : -EPERM;
}

SYSCALL1(setgid, uint32_t, id)
{
	if (cred.euid == 0)
		return do_setresgid(id, id, id);
	return id == cred.gid || id == cred.sgid ? do_setresgid(-1u, id, -1u) : -EPERM;
}

/* setreuid: the saved id follows the effective one when the real one is set or it changes */
SYSCALL2(setreuid, uint32_t, r, uint32_t, e)
{
	uint32_t s = (r != (uint32_t)-1 || (e != (uint32_t)-1 && e != cred.uid))
			 ? (e != (uint32_t)-1 ? e : cred.euid)
			 : (uint32_t)-1;
	if (r != (uint32_t)-1 && cred.euid && r != cred.uid && r != cred.euid)
		return -EPERM;
	return set_res(uids(), r, e, s);
}

SYSCALL2(setregid, uint32_t, r, uint32_t, e)
{
	uint32_t s = (r != (uint32_t)-1 || (e != (uint32_t)-1 && e != cred.gid))
			 ? (e != (uint32_t)-1 ? e : cred.egid)
			 : (uint32_t)-1;
	return do_setresgid(r, e, s);
}

/* setfsuid and setfsgid answer the old value; the file-system ids follow the effective ones */
SYSCALL1(setfsuid, uint32_t, id)
{
	return cred.euid;
}

SYSCALL1(setfsgid, uint32_t, id)
{
	return cred.egid;
}

SYSCALL2(getgroups, long, size, uint64_t, ulist)
{
	if (size < 0)
		return -EINVAL;
	if (!size)
		return cred.ngroups;
	if (size < cred.ngroups)
		return -EINVAL;
	UOK(ulist, (uint64_t)cred.ngroups * 4);
	memcpy((void *)ulist, cred.groups, (size_t)cred.ngroups * 4);
	return cred.ngroups;
}

SYSCALL2(setgroups, long, size, uint64_t, ulist)
{
	if (cred.euid)
		return -EPERM;
	if (size < 0 || size > NGROUPS)
		return -EINVAL;
	UOK(ulist, (uint64_t)size * 4);
	memcpy(cred.groups, (void *)ulist, (size_t)size * 4);
	cred.ngroups = (int)size;
	return 0;
}
