/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vsw commands in DPDK telemetry, so the standard client reads them:
 *   dpdk-telemetry.py -f PREFIX   then   /vsw/ports, /vsw/port/stats,vm1,
 *                                        /vsw/fdb,br0, /vsw/pmd
 *
 * Telemetry callbacks run on DPDK's telemetry thread. They never touch the
 * switch's state: each one is a client of vswd's own control socket, so
 * the control thread stays the only reader and writer of the registry.
 */
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "vsw_ctl.h"
#include "vswd.h"

static char ctl_path[VSW_PATH_MAX];

static json_t *
call(const char *method, json_t *params)
{
	json_t *res = NULL;
	char err[256];

	if (vsw_ctl_call(ctl_path, method, params, 5000, &res, err, sizeof(err)) != 0)
		return NULL;
	return res;
}

/* Add a flat JSON object's numbers and strings to a telemetry dict. */
static void
add_flat(struct rte_tel_data *d, const char *prefix, json_t *o)
{
	const char *key;
	char name[RTE_TEL_MAX_STRING_LEN];
	json_t *v;

	json_object_foreach(o, key, v) {
		snprintf(name, sizeof(name), "%s%s", prefix, key);
		if (json_is_integer(v))
			rte_tel_data_add_dict_u64(d, name, (uint64_t)json_integer_value(v));
		else if (json_is_real(v))
			rte_tel_data_add_dict_u64(d, name, (uint64_t)json_real_value(v));
		else if (json_is_string(v))
			rte_tel_data_add_dict_string(d, name, json_string_value(v));
		else if (json_is_boolean(v))
			rte_tel_data_add_dict_int(d, name, json_is_true(v));
	}
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *res = call("port-stats", NULL), *p;
	size_t i;

	(void)cmd, (void)params;
	if (res == NULL)
		return -1;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	json_array_foreach(res, i, p)
		rte_tel_data_add_array_string(d, json_string_value(json_object_get(p, "port")));
	json_decref(res);
	return 0;
}

static int
tel_port_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *res, *p;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -1;
	res = call("port-stats", json_pack("[s]", params));
	if (res == NULL)
		return -1;
	p = json_array_get(res, 0);
	rte_tel_data_start_dict(d);
	add_flat(d, "", p);
	add_flat(d, "drop_", json_object_get(p, "drops"));
	json_decref(res);
	return 0;
}

static int
tel_fdb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *table;
	char line[RTE_TEL_MAX_STRING_LEN];
	json_t *res, *e;
	size_t i;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -1;
	res = call("fdb-show", json_pack("[s]", params));
	if (res == NULL)
		return -1;
	/*
	 * Dict keys may not contain ':', so the table is a list of
	 * "MAC PORT" strings (at most RTE_TEL_MAX_ARRAY_ENTRIES of them).
	 */
	table = rte_tel_data_alloc();
	if (table == NULL) {
		json_decref(res);
		return -1;
	}
	rte_tel_data_start_array(table, RTE_TEL_STRING_VAL);
	json_array_foreach(res, i, e) {
		if (i >= RTE_TEL_MAX_ARRAY_ENTRIES)
			break;
		snprintf(line, sizeof(line), "%s %s", json_string_value(json_object_get(e, "mac")),
			 json_string_value(json_object_get(e, "port")));
		rte_tel_data_add_array_string(table, line);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", json_array_size(res));
	rte_tel_data_add_dict_container(d, "table", table, 0);
	json_decref(res);
	return 0;
}

static int
tel_pmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *res = call("pmd-stats", NULL), *p;
	char prefix[32];
	size_t i;

	(void)cmd, (void)params;
	if (res == NULL)
		return -1;
	rte_tel_data_start_dict(d);
	json_array_foreach(res, i, p) {
		snprintf(prefix, sizeof(prefix), "lcore%lld_",
			 (long long)json_integer_value(json_object_get(p, "lcore")));
		add_flat(d, prefix, p);
	}
	json_decref(res);
	return 0;
}

void
vswd_telemetry_init(const char *ctl)
{
	snprintf(ctl_path, sizeof(ctl_path), "%s", ctl);
	rte_telemetry_register_cmd("/vsw/ports", tel_ports, "Names of the vsw ports.");
	rte_telemetry_register_cmd("/vsw/port/stats", tel_port_stats,
				   "Counters of a vsw port. Parameters: string port name");
	rte_telemetry_register_cmd("/vsw/fdb", tel_fdb,
				   "Learning table of a bridge: entries, and \"MAC PORT\" "
				   "strings. Parameters: string bridge name");
	rte_telemetry_register_cmd("/vsw/pmd", tel_pmd, "Counters of the vsw PMD threads.");
}
