/* SPDX-License-Identifier: BSD-3-Clause */
/* cpio "newc" index: validation and walking, with no allocation (kernel and host). */
#include "kcpio.h"
#include "../klib.h"

static int hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static uint64_t pad4(uint64_t x)
{
	return (x + 3) & ~3ull;
}

long kcpio_scan(kcpio_read_fn rd, void *rctx, uint64_t size, kcpio_entry_fn fn, void *fctx,
		char *namebuf, uint64_t *bad_off)
{
	uint64_t off = 0;
	long count = 0;
	char h[KCPIO_HDR_SIZE];
	uint32_t f[13];

	for (;;) {
		*bad_off = off;
		if (off + KCPIO_HDR_SIZE > size || off + KCPIO_HDR_SIZE < off)
			return KCPIO_E_NOTRAILER;
		int r = rd(rctx, off, h, sizeof(h));
		if (r)
			return r;
		if (memcmp(h, "07070", 5) || (h[5] != '1' && h[5] != '2'))
			return KCPIO_E_MAGIC;
		for (int i = 0; i < 13; i++)
			if (hex8(h + 6 + 8 * i, &f[i]))
				return KCPIO_E_FIELD;
		/* f: ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin namesize
		 * check */
		uint32_t namesize = f[11];
		if (namesize == 0 || namesize > KCPIO_NAME_MAX)
			return KCPIO_E_NAME;
		if (off + KCPIO_HDR_SIZE + namesize > size)
			return KCPIO_E_TRUNC;
		r = rd(rctx, off + KCPIO_HDR_SIZE, namebuf, namesize);
		if (r)
			return r;
		if (namebuf[namesize - 1] != 0 || strlen(namebuf) != namesize - 1)
			return KCPIO_E_NAME;
		uint64_t data = pad4(off + KCPIO_HDR_SIZE + namesize);
		uint64_t next = pad4(data + f[6]);
		if (data + f[6] > size)
			return KCPIO_E_TRUNC;
		if (!strcmp(namebuf, "TRAILER!!!"))
			return count;
		const char *name = namebuf;
		for (;;) {
			if (name[0] == '/')
				name++;
			else if (name[0] == '.' && name[1] == '/')
				name += 2;
			else if (name[0] == '.' && name[1] == 0)
				name++;
			else
				break;
		}
		struct kcpio_entry e = {name, f[1], f[2], f[3], f[4], f[5], f[0], f[6], data};
		r = fn(fctx, &e);
		if (r)
			return r;
		count++;
		off = next;
	}
}

const char *kcpio_strerror(long code)
{
	switch (code) {
	case KCPIO_E_MAGIC:
		return "not a cpio newc header";
	case KCPIO_E_FIELD:
		return "header field is not hexadecimal";
	case KCPIO_E_NAME:
		return "bad name size or unterminated name";
	case KCPIO_E_TRUNC:
		return "entry runs past the end of the archive";
	case KCPIO_E_NOTRAILER:
		return "archive ends without a trailer";
	}
	return "read error";
}
