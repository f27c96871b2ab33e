// SPDX-License-Identifier: BSD-3-Clause
// capstan instances: list instances, their state reconciled with the hypervisor.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "capstan/json.h"
#include "cmd.h"
#include "capstan/banned.h"

/* "1 minute ago", "5 minutes ago": the CREATED column, as docker ps words it */
static const char *ago(int64_t ms, char *buf, size_t len)
{
	static const struct {
		int64_t secs, below; /* the unit, and the age from which the next one is used */
		const char *name;
	} units[] = {{1, 60, "second"},
		     {60, 3600, "minute"},
		     {3600, 86400 * 2, "hour"},
		     {86400, INT64_MAX, "day"}};
	int64_t s = (db_now_ms() - ms) / 1000;
	size_t i = 0;

	if (s < 0)
		s = 0;
	while (s >= units[i].below)
		i++;
	long long n = (long long)(s / units[i].secs);
	snprintf(buf, len, "%lld %s%s ago", n, units[i].name, n == 1 ? "" : "s");
	return buf;
}

static void print_json(struct cap_ctx *ctx, const struct db_instance *v, size_t n)
{
	struct json j;
	char st[32], addr[64];

	json_init(&j, ctx->out);
	json_begin_arr(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		json_begin_obj(&j, NULL);
		json_str(&j, "name", v[i].name);
		json_str(&j, "image", v[i].image);
		json_str(&j, "backend", v[i].backend);
		json_str(&j, "state", db_state_name(v[i].state));
		json_str(&j, "status", inst_state_str(&v[i], st, sizeof(st)));
		if (v[i].exit_status >= 0)
			json_int(&j, "exit_status", v[i].exit_status);
		else
			json_str(&j, "exit_status", NULL);
		inst_address(ctx, &v[i], addr, sizeof(addr));
		json_str(&j, "address", addr[0] ? addr : NULL);
		json_str(&j, "ports", v[i].ports);
		json_str(&j, "boot", v[i].boot);
		json_str(&j, "accel", v[i].accel);
		json_str(&j, "network", v[i].net);
		json_int(&j, "memory", (int64_t)v[i].memory);
		json_int(&j, "cpus", v[i].cpus);
		json_int(&j, "pid", v[i].pid);
		json_str(&j, "uuid", v[i].uuid);
		json_str(&j, "connect", v[i].connect);
		json_int(&j, "created", v[i].created);
		json_int(&j, "started", v[i].started);
		json_int(&j, "stopped", v[i].stopped);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_finish(&j);
}

struct instances_args {
	bool all;
};

static const struct cli_opt options[] = {
    CLI_OPT_FLAG('a', "all", struct instances_args, all, "include instances that are not running"),
    CLI_OPT_GLOBAL("json", "print a JSON array of objects (times in ms since the epoch)"),
    CLI_OPT_END,
};

static int print_table(struct cap_ctx *ctx, const struct db_instance *v, size_t n)
{
	size_t w[6] = {4, 5, 7, 5, 7, 5};
	char st[32], when[32];
	char(*addr)[64] = calloc(n ? n : 1, sizeof(*addr));

	if (!addr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		inst_address(ctx, &v[i], addr[i], sizeof(addr[i]));
		size_t l[6] = {strlen(v[i].name),    strlen(v[i].image),
			       strlen(v[i].backend), strlen(inst_state_str(&v[i], st, sizeof(st))),
			       strlen(addr[i]),	     strlen(v[i].ports)};
		for (int k = 0; k < 6; k++)
			if (l[k] > w[k])
				w[k] = l[k];
	}
	fprintf(ctx->out, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "NAME", (int)w[1],
		"IMAGE", (int)w[2], "BACKEND", (int)w[3], "STATE", (int)w[4], "ADDRESS", (int)w[5],
		"PORTS", "CREATED");
	for (size_t i = 0; i < n; i++)
		fprintf(ctx->out, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], v[i].name,
			(int)w[1], v[i].image, (int)w[2], v[i].backend, (int)w[3],
			inst_state_str(&v[i], st, sizeof(st)), (int)w[4],
			addr[i][0] ? addr[i] : "-", (int)w[5], v[i].ports[0] ? v[i].ports : "-",
			ago(v[i].created, when, sizeof(when)));
	free(addr);
	return 0;
}

static int instances(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct instances_args *a = args;
	struct db_instance *v = NULL;
	size_t n = 0;
	int ret;

	if ((ret = inst_list(ctx, a->all, &v, &n)))
		return cli_fail(ctx, ret);
	if (ctx->json)
		print_json(ctx, v, n);
	else
		ret = print_table(ctx, v, n);
	db_instances_free(v, n);
	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_instances = {
    .fn = instances,
    .options = options,
    .args_size = sizeof(struct instances_args),
    .synopsis = "[-a] [--json]",
    .about = "List instances: NAME, IMAGE, BACKEND, STATE, ADDRESS, PORTS, CREATED.  ADDRESS is\n"
	     "the guest's IPv4 address as its kernel announced it on the console (eth0: ...).\n"
	     "By default only running ones (as 'docker ps'); -a adds those that exited, were\n"
	     "stopped or crashed.  A VM that went away since the last look is shown as it ended:\n"
	     "'exited (N)' with the program's status, or 'crashed'.\n",
};
