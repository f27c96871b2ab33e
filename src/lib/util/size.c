// SPDX-License-Identifier: BSD-3-Clause
// Parsing and printing of sizes such as 64M, 1G, 512MB.
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "capstan/err.h"
#include "capstan/size.h"
#include "capstan/banned.h"

int parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
	    {"", 0},
	    {"b", 1},
	    {"k", 1ull << 10},
	    {"kb", 1ull << 10},
	    {"kib", 1ull << 10},
	    {"m", 1ull << 20},
	    {"mb", 1ull << 20},
	    {"mib", 1ull << 20},
	    {"g", 1ull << 30},
	    {"gb", 1ull << 30},
	    {"gib", 1ull << 30},
	    {"t", 1ull << 40},
	    {"tb", 1ull << 40},
	    {"tib", 1ull << 40},
	};
	uint64_t v = 0;
	const char *p = s;
	size_t i;

	if (!s || !isdigit((unsigned char)*p))
		return cap_errf(CAP_E_USAGE,
				"invalid size '%s': expected a number such as 64M or 1G",
				s ? s : "");
	while (isdigit((unsigned char)*p)) {
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return cap_errf(CAP_E_USAGE, "invalid size '%s': too large", s);
		v = v * 10 + d;
		p++;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].suffix) == 0) {
			uint64_t mult =
			    units[i].mult ? units[i].mult : (default_unit ? default_unit : 1);
			if (v && mult > UINT64_MAX / v)
				return cap_errf(CAP_E_USAGE, "invalid size '%s': too large", s);
			*out = v * mult;
			return 0;
		}
	}
	return cap_errf(CAP_E_USAGE, "invalid size '%s': unknown unit '%s' (use K, M, G or T)", s,
			p);
}

const char *fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (v < 10)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}
