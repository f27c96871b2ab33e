// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for port forward specs: parse, and a parsed spec formats and re-parses the
// same.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/hv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct hv_port p, q;
	char buf[48], spec[64];

	memcpy(s, data, size);
	s[size] = '\0';
	if (hv_port_parse(s, &p) == 0) {
		/* The canonical form is HOST->GUEST; rebuild the -f form and parse it again. */
		snprintf(spec, sizeof(spec), "%s%s%u:%u/%s", p.ip, p.ip[0] ? ":" : "", p.host,
			 p.guest, p.udp ? "udp" : "tcp");
		if (hv_port_parse(spec, &q) != 0 || memcmp(&p, &q, sizeof(p)) != 0)
			abort();
		hv_port_format(&p, buf, sizeof(buf));
	}
	free(s);
	return 0;
}
