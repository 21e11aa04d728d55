/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the control plane's command machinery (lib/ctl): the
 * command table from VSW_CMD_LIST, usage-driven argument normalization,
 * argument helpers and JSON-RPC request handling (vsw_ctl_handle()).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "vsw_ctl.h"

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------ command table */

static const struct {
	const char *name;
	unsigned int min, max, flags;
	const char *usage, *help;
} list[] = {
#define ROW(id, name, min, max, flags, usage, help) { name, min, max, flags, usage, help },
	VSW_CMD_LIST(ROW)
#undef ROW
};

/* Positional words of a usage line: all, and those without brackets. */
static void
count_positional(const char *usage, unsigned int *all, unsigned int *required)
{
	char buf[512], *w, *save = NULL;

	*all = *required = 0;
	snprintf(buf, sizeof(buf), "%s", usage);
	for (w = strtok_r(buf, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		if (strchr(w, '=') != NULL || strncmp(w, "[--", 3) == 0)
			continue;
		(*all)++;
		if (w[0] != '[')
			(*required)++;
	}
}

static void
specs_match_list(void **state)
{
	const struct vsw_cmd *c;
	unsigned int i, j, all, req;

	(void)state;
	assert_int_equal(vsw_cmd_n_specs, DIM(list));
	assert_true(vsw_cmd_n_specs > 0);
	for (i = 0; i < DIM(list); i++) {
		c = vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, list[i].name);
		if (c == NULL) {
			fail_msg("command %s missing from vsw_cmd_specs", list[i].name);
			return;
		}
		assert_ptr_equal(c, &vsw_cmd_specs[i]);
		assert_string_equal(c->name, list[i].name);
		assert_int_equal(c->min_args, list[i].min);
		assert_int_equal(c->max_args, list[i].max);
		assert_int_equal(c->flags, list[i].flags);
		assert_string_equal(c->usage, list[i].usage);
		assert_string_equal(c->help, list[i].help);
		assert_null(c->handler);
		/* One sentence of help. */
		assert_non_null(c->help);
		if (strlen(c->help) < 10 || c->help[strlen(c->help) - 1] != '.')
			fail_msg("%s: help '%s' is not a sentence", c->name, c->help);
		assert_true(c->min_args <= c->max_args);
		/* The usage line is the schema: it must agree with min/max. */
		count_positional(c->usage, &all, &req);
		if (all != c->max_args || req != c->min_args)
			fail_msg("%s: usage '%s' has %u positional (%u required), table says %u..%u",
				 c->name, c->usage, all, req, c->min_args, c->max_args);
		assert_true(c->flags == VSW_CMD_RO || c->flags == VSW_CMD_RW ||
			    c->flags == VSW_CMD_CONF);
		for (j = 0; j < i; j++)
			assert_string_not_equal(c->name, vsw_cmd_specs[j].name);
	}
	assert_null(vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, NULL));
	assert_null(vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, "no-such-command"));
	assert_null(vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, "add"));
	assert_null(vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, "add-br "));
	assert_null(vsw_cmd_find(vsw_cmd_specs, 0, "add-br"));
	assert_non_null(vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, "add-br"));
}

/* ------------------------------------------------------ normalization */

static const struct vsw_cmd *
spec(const char *name)
{
	const struct vsw_cmd *c = vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, name);

	if (c == NULL)
		fail_msg("no command %s", name);
	return c;
}

static json_t *
js(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (j == NULL)
		fail_msg("bad test JSON '%s': %s", text, jerr.text);
	return j;
}

/* Normalize and compare with the expected object. */
static void
norm_ok(const char *cmd, const char *params, const char *expect)
{
	json_t *p = params != NULL ? js(params) : NULL, *out = NULL, *want = js(expect);
	char err[256] = "";
	char *got;

	if (vsw_cmd_args_normalize(spec(cmd), p, &out, err, sizeof(err)) != 0)
		fail_msg("%s %s: %s", cmd, params != NULL ? params : "(none)", err);
	assert_non_null(out);
	if (!json_equal(out, want)) {
		got = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("%s %s: got %s, want %s", cmd, params, got, expect);
	}
	json_decref(out);
	json_decref(want);
	json_decref(p);
}

/* Normalization must fail with -EINVAL and a message containing `want`. */
static void
norm_bad(const char *cmd, const char *params, const char *want)
{
	json_t *p = params != NULL ? js(params) : NULL;
	json_t *out = (json_t *)(uintptr_t)0x1;
	char err[256] = "";

	if (vsw_cmd_args_normalize(spec(cmd), p, &out, err, sizeof(err)) != -EINVAL)
		fail_msg("%s %s: accepted", cmd, params != NULL ? params : "(none)");
	assert_ptr_equal(out, (json_t *)(uintptr_t)0x1);
	if (strstr(err, want) == NULL)
		fail_msg("%s %s: error '%s' lacks '%s'", cmd, params, err, want);
	assert_null(strchr(err, '\n'));
	json_decref(p);
}

static void
normalize_array(void **state)
{
	(void)state;
	norm_ok("list-br", "[]", "{}");
	norm_ok("add-br", "[\"br0\"]", "{\"bridge\": \"br0\"}");
	norm_ok("add-br", "[\"br0\", \"aging=10\", \"max-macs=4096\", \"port-max-macs=8\"]",
		"{\"bridge\": \"br0\", \"aging\": \"10\", \"max-macs\": \"4096\","
		" \"port-max-macs\": \"8\"}");
	/* Options anywhere, values keep every '=' and ':' after the first '='. */
	norm_ok("add-port",
		"[\"br0\", \"p0\", \"type=dpdk\", \"devargs=net_pcap0,rx_pcap=/tmp/a.pcap\"]",
		"{\"bridge\": \"br0\", \"port\": \"p0\", \"type\": \"dpdk\","
		" \"devargs\": \"net_pcap0,rx_pcap=/tmp/a.pcap\"}");
	norm_ok("add-port",
		"[\"type=dpdk\", \"br0\", \"devargs=0000:01:00.0\", \"p1\", \"n_rxq=2\","
		" \"mtu=9000\", \"mac=02:00:00:00:00:01\"]",
		"{\"bridge\": \"br0\", \"port\": \"p1\", \"type\": \"dpdk\","
		" \"devargs\": \"0000:01:00.0\", \"n_rxq\": \"2\", \"mtu\": \"9000\","
		" \"mac\": \"02:00:00:00:00:01\"}");
	norm_ok("add-port",
		"[\"br0\", \"vm1\", \"type=vhost-user\", \"path=/run/vsw/vm1.sock\"]",
		"{\"bridge\": \"br0\", \"port\": \"vm1\", \"type\": \"vhost-user\","
		" \"path\": \"/run/vsw/vm1.sock\"}");
	norm_ok("add-port", "[\"br0\", \"p0\", \"type=dpdk\", \"devargs=\"]",
		"{\"bridge\": \"br0\", \"port\": \"p0\", \"type\": \"dpdk\", \"devargs\": \"\"}");
	/* A word whose text before '=' is not an option key is positional. */
	norm_ok("del-port", "[\"/tmp/a=b\"]", "{\"port\": \"/tmp/a=b\"}");
	norm_ok("del-port", "[\"=x\"]", "{\"port\": \"=x\"}");
	/* Flags: "--rate" is the option rate=true, anywhere among the words. */
	norm_ok("port-stats", "[\"--rate\"]", "{\"rate\": \"true\"}");
	norm_ok("port-stats", "[\"vm1\", \"--rate\"]", "{\"port\": \"vm1\", \"rate\": \"true\"}");
	/* Optional positionals. */
	norm_ok("fdb-flush", "[\"br0\"]", "{\"bridge\": \"br0\"}");
	norm_ok("fdb-flush", "[\"br0\", \"vm1\"]", "{\"bridge\": \"br0\", \"port\": \"vm1\"}");
	norm_ok("fdb-stats", "[]", "{}");
	norm_ok("fdb-stats", "[\"br0\"]", "{\"bridge\": \"br0\"}");
	norm_ok("fdb-add", "[\"br0\", \"02:00:00:00:00:01\", \"vm1\"]",
		"{\"bridge\": \"br0\", \"mac\": \"02:00:00:00:00:01\", \"port\": \"vm1\"}");
	/* Unicode passes through. */
	norm_ok("del-br", "[\"br\\u00e9\"]", "{\"bridge\": \"br\\u00e9\"}");
	/* No params, null params. */
	norm_ok("show", NULL, "{}");
	norm_ok("show", "null", "{}");
	norm_ok("port-stats", NULL, "{}");
}

static void
normalize_array_errors(void **state)
{
	(void)state;
	/* Missing positionals. */
	norm_bad("add-br", "[]", "missing arguments");
	norm_bad("add-br", NULL, "missing arguments");
	norm_bad("add-br", "null", "missing arguments");
	norm_bad("add-port", "[\"br0\", \"type=dpdk\"]", "missing arguments");
	norm_bad("fdb-add", "[\"br0\", \"02:00:00:00:00:01\"]", "missing arguments");
	/* Options do not count as positionals. */
	norm_bad("add-br", "[\"aging=10\"]", "missing arguments");
	/* Missing required option. */
	norm_bad("add-port", "[\"br0\", \"p0\"]", "type= is required");
	/* Unknown flags, and repeated options. */
	norm_bad("port-stats", "[\"--bogus\"]", "unknown flag");
	norm_bad("list-br", "[\"--rate\"]", "unknown flag");
	norm_bad("add-port", "[\"br0\", \"p0\", \"type=dpdk\", \"type=vhost-user\"]",
		 "given twice");
	norm_bad("add-port", "[\"br0\", \"p0\", \"path=/tmp/x\"]", "type=");
	/* Too many. */
	norm_bad("list-br", "[\"x\"]", "too many arguments");
	norm_bad("del-br", "[\"br0\", \"br1\"]", "too many arguments");
	norm_bad("fdb-flush", "[\"br0\", \"p0\", \"p1\"]", "too many arguments");
	norm_bad("add-port", "[\"br0\", \"p0\", \"p1\", \"type=dpdk\"]", "too many");
	/* Unknown options, named, with the list of known ones. */
	norm_bad("add-br", "[\"br0\", \"foo=1\"]", "unknown option 'foo'");
	norm_bad("add-br", "[\"br0\", \"foo=1\"]", "aging");
	norm_bad("del-br", "[\"br0\", \"force=yes\"]", "unknown option 'force'");
	norm_bad("add-port", "[\"br0\", \"p0\", \"type=dpdk\", \"Type=dpdk\"]", "'Type'");
	/* Positional names are not option keys. */
	norm_bad("add-br", "[\"bridge=br0\"]", "unknown option 'bridge'");
	/* Non-string items. */
	norm_bad("del-br", "[5]", "must be strings");
	norm_bad("del-br", "[null]", "must be strings");
	norm_bad("del-br", "[true]", "must be strings");
	norm_bad("del-br", "[[\"br0\"]]", "must be strings");
	norm_bad("del-br", "[{\"bridge\": \"br0\"}]", "must be strings");
	norm_bad("add-br", "[\"br0\", 10]", "must be strings");
	/* Params neither array nor object. */
	norm_bad("del-br", "\"br0\"", "array or an object");
	norm_bad("del-br", "7", "array or an object");
	norm_bad("del-br", "false", "array or an object");
}

static void
normalize_object(void **state)
{
	(void)state;
	norm_ok("list-br", "{}", "{}");
	norm_ok("add-br", "{\"bridge\": \"br0\"}", "{\"bridge\": \"br0\"}");
	/* Numbers and booleans become strings. */
	norm_ok("add-br", "{\"bridge\": \"br0\", \"aging\": 10, \"max-macs\": 4096}",
		"{\"bridge\": \"br0\", \"aging\": \"10\", \"max-macs\": \"4096\"}");
	norm_ok("add-br", "{\"bridge\": \"br0\", \"aging\": -1}",
		"{\"bridge\": \"br0\", \"aging\": \"-1\"}");
	norm_ok("set-port", "{\"port\": \"vm1\", \"n_rxq\": true}",
		"{\"port\": \"vm1\", \"n_rxq\": \"true\"}");
	norm_ok("add-port",
		"{\"type\": \"dpdk\", \"port\": \"p0\", \"bridge\": \"br0\","
		" \"devargs\": \"net_pcap0,rx_pcap=/tmp/a.pcap\", \"n_rxq\": 2}",
		"{\"bridge\": \"br0\", \"port\": \"p0\", \"type\": \"dpdk\","
		" \"devargs\": \"net_pcap0,rx_pcap=/tmp/a.pcap\", \"n_rxq\": \"2\"}");
	norm_ok("fdb-flush", "{\"bridge\": \"br0\"}", "{\"bridge\": \"br0\"}");
	norm_ok("fdb-flush", "{\"bridge\": \"br0\", \"port\": \"p0\"}",
		"{\"bridge\": \"br0\", \"port\": \"p0\"}");
	norm_ok("fdb-add", "{\"port\": \"vm1\", \"mac\": \"02:00:00:00:00:01\", \"bridge\": \"b\"}",
		"{\"bridge\": \"b\", \"mac\": \"02:00:00:00:00:01\", \"port\": \"vm1\"}");

	norm_bad("add-br", "{}", "missing");
	norm_bad("add-br", "{\"aging\": 10}", "missing");
	norm_bad("add-port", "{\"port\": \"p0\", \"type\": \"dpdk\"}", "missing argument 'bridge'");
	norm_bad("add-port", "{\"bridge\": \"br0\", \"type\": \"dpdk\"}", "missing");
	norm_bad("add-port", "{\"bridge\": \"br0\", \"port\": \"p0\"}", "type= is required");
	norm_bad("fdb-flush", "{\"port\": \"p0\"}", "missing argument 'bridge'");
	norm_bad("add-br", "{\"bridge\": \"br0\", \"colour\": \"red\"}",
		 "unknown argument 'colour'");
	norm_bad("list-br", "{\"x\": \"1\"}", "unknown argument 'x'");
	/* Keys are the lower-case names, not the usage words. */
	norm_bad("del-br", "{\"BRIDGE\": \"br0\"}", "unknown argument 'BRIDGE'");
	/* Values must be strings or numbers. */
	norm_bad("add-br", "{\"bridge\": \"br0\", \"aging\": 1.5}", "'aging'");
	norm_bad("add-br", "{\"bridge\": \"br0\", \"aging\": null}", "'aging'");
	norm_bad("add-br", "{\"bridge\": [\"br0\"]}", "'bridge'");
	norm_bad("add-br", "{\"bridge\": {\"name\": \"br0\"}}", "'bridge'");
}

static void
normalize_err_truncated(void **state)
{
	json_t *p = js("[\"br0\", \"a-very-long-unknown-option-name=1\"]"), *out = NULL;
	char err[16];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(vsw_cmd_args_normalize(spec("add-br"), p, &out, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'Z');
	assert_null(out);
	json_decref(p);
}

/* --------------------------------------------------------- arguments */

static void
args_uint(void **state)
{
	json_t *a = js("{\"ten\": \"10\", \"zero\": \"0\", \"abc\": \"abc\", \"empty\": \"\","
		       " \"neg\": \"-1\", \"negzero\": \"-0\", \"max\": \"18446744073709551615\","
		       " \"over\": \"18446744073709551616\", \"tail\": \"10x\","
		       " \"hex\": \"0x10\", \"real\": \"1.5\", \"int\": 7}");
	uint64_t v;
	char err[256];

	(void)state;
	v = 99;
	assert_int_equal(vsw_args_uint(a, "absent", 0, 100, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 99);
	assert_int_equal(vsw_args_uint(a, "ten", 0, 100, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 10);
	assert_int_equal(vsw_args_uint(a, "ten", 10, 10, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 10);
	assert_int_equal(vsw_args_uint(a, "zero", 0, 0, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 0);
	assert_int_equal(vsw_args_uint(a, "max", 0, UINT64_MAX, &v, err, sizeof(err)), 1);
	assert_true(v == UINT64_MAX);

	/* Out of range: -EINVAL, a message with the key and range, v untouched. */
	v = 99;
	err[0] = '\0';
	assert_int_equal(vsw_args_uint(a, "ten", 11, 100, &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ten"));
	assert_non_null(strstr(err, "11..100"));
	assert_int_equal(v, 99);
	assert_int_equal(vsw_args_uint(a, "ten", 0, 9, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "zero", 1, 9, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "max", 0, UINT64_MAX - 1, &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(v, 99);

	/* Not an unsigned decimal. */
	assert_int_equal(vsw_args_uint(a, "abc", 0, 100, &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'abc'"));
	assert_int_equal(vsw_args_uint(a, "empty", 0, 100, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "neg", 0, UINT64_MAX, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "negzero", 0, 100, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "over", 0, UINT64_MAX, &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(vsw_args_uint(a, "tail", 0, 100, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "hex", 0, 100, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_args_uint(a, "real", 0, 100, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(v, 99);

	/* vsw_args_str sees strings only. */
	assert_string_equal(vsw_args_str(a, "ten"), "10");
	assert_null(vsw_args_str(a, "int"));
	assert_null(vsw_args_str(a, "absent"));
	json_decref(a);
}

/* strtoull() skips blanks and negates: " -1" must not become UINT64_MAX. */
static void
args_uint_rejects_blank_minus(void **state)
{
	json_t *a = js("{\"bm\": \" -1\", \"tm\": \"\\t-5\"}");
	char err[256] = "";
	uint64_t v = 42;
	int r1, r2;

	(void)state;
	r1 = vsw_args_uint(a, "bm", 0, UINT64_MAX, &v, err, sizeof(err));
	if (r1 != -EINVAL)
		print_error("vsw_args_uint(\" -1\", 0..UINT64_MAX) = %d, value %llu\n", r1,
			    (unsigned long long)v);
	v = 42;
	r2 = vsw_args_uint(a, "tm", 0, UINT64_MAX, &v, err, sizeof(err));
	if (r2 != -EINVAL)
		print_error("vsw_args_uint(\"\\t-5\", 0..UINT64_MAX) = %d, value %llu\n", r2,
			    (unsigned long long)v);
	json_decref(a);
	assert_int_equal(r1, -EINVAL);
	assert_int_equal(r2, -EINVAL);
}

/* ---------------------------------------------------------- JSON-RPC */

struct ctx {
	unsigned int calls;
	char last[64];
};

static int
h_echo(void *p, json_t *args, json_t **result, char *err, size_t len)
{
	struct ctx *c = p;
	uint64_t n = 0;
	int ret;

	c->calls++;
	snprintf(c->last, sizeof(c->last), "echo");
	ret = vsw_args_uint(args, "n", 0, 1000, &n, err, len);
	if (ret < 0)
		return ret;
	*result = json_pack("{s:O, s:I}", "args", args, "n", (json_int_t)n);
	return 0;
}

static int
h_busy(void *p, json_t *args, json_t **result, char *err, size_t len)
{
	struct ctx *c = p;

	(void)args;
	(void)result;
	c->calls++;
	snprintf(c->last, sizeof(c->last), "busy");
	snprintf(err, len, "port vm1 is busy");
	return -EBUSY;
}

static int
h_noerr(void *p, json_t *args, json_t **result, char *err, size_t len)
{
	(void)args;
	(void)result;
	(void)err;
	(void)len;
	((struct ctx *)p)->calls++;
	return -EIO;
}

static int
h_leak(void *p, json_t *args, json_t **result, char *err, size_t len)
{
	(void)args;
	((struct ctx *)p)->calls++;
	/* A handler that fails after building a result: it must be freed. */
	*result = json_pack("{s:s}", "partial", "yes");
	snprintf(err, len, "no such port");
	return -ENOENT;
}

static int
h_empty(void *p, json_t *args, json_t **result, char *err, size_t len)
{
	(void)args;
	(void)err;
	(void)len;
	((struct ctx *)p)->calls++;
	*result = NULL;
	return 0;
}

static const struct vsw_cmd table[] = {
	{ "echo", 0, 1, VSW_CMD_RO, "[WORD] [n=N]", "Echo.", h_echo },
	{ "busy", 0, 0, VSW_CMD_RW, "", "Fail.", h_busy },
	{ "noerr", 0, 0, VSW_CMD_RW, "", "Fail without a reason.", h_noerr },
	{ "leak", 0, 0, VSW_CMD_RW, "", "Fail with a result.", h_leak },
	{ "empty", 0, 0, VSW_CMD_RO, "", "Succeed with nothing.", h_empty },
	{ "need", 1, 1, VSW_CMD_RO, "NAME type=T", "Arguments required.", h_echo },
	{ "nohandler", 0, 0, VSW_CMD_RO, "", "Known but not served.", NULL },
};

/* Send one request, check the reply's framing, return it parsed. */
static json_t *
call_len(struct ctx *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *r, *id;
	char *out;
	size_t n;

	out = vsw_ctl_handle(table, DIM(table), c, line, len);
	assert_non_null(out);
	n = strlen(out);
	/* One line: a single newline, at the end. */
	assert_true(n > 1);
	assert_int_equal(out[n - 1], '\n');
	if (memchr(out, '\n', n - 1) != NULL)
		fail_msg("reply has an inner newline: %s", out);
	r = json_loadb(out, n, 0, &jerr);
	if (r == NULL)
		fail_msg("reply is not JSON (%s): %.200s", jerr.text, out);
	free(out);
	assert_true(json_is_object(r));
	assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
	id = json_object_get(r, "id");
	assert_non_null(id);
	/* Exactly one of result and error. */
	assert_true((json_object_get(r, "result") != NULL) !=
		    (json_object_get(r, "error") != NULL));
	return r;
}

static json_t *
call(struct ctx *c, const char *line)
{
	return call_len(c, line, strlen(line));
}

/* Check an error reply: code, and message containing `msg` (or any). */
static void
expect_error(json_t *r, int code, const char *msg)
{
	json_t *e = json_object_get(r, "error");
	const char *m;

	assert_non_null(e);
	assert_null(json_object_get(r, "result"));
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	m = json_string_value(json_object_get(e, "message"));
	if (m == NULL) {
		fail_msg("error %d has no message string", code);
		return;
	}
	assert_true(strlen(m) > 0);
	if (msg != NULL && strstr(m, msg) == NULL)
		fail_msg("error message '%s' lacks '%s'", m, msg);
	assert_true(json_is_integer(json_object_get(json_object_get(e, "data"), "errno")));
}

static int
err_errno(json_t *r)
{
	return (int)json_integer_value(json_object_get(json_object_get(json_object_get(r, "error"),
								       "data"), "errno"));
}

static void
rpc_parse_errors(void **state)
{
	struct ctx c = { 0 };
	json_t *r;

	(void)state;
	r = call(&c, "{");
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call(&c, "");
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);
	r = call(&c, "{\"method\": \"echo\", \"id\": 1,}");
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	/* The id of an unparsable request is unknown. */
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call(&c, "not json at all");
	expect_error(r, VSW_RPC_PARSE_ERROR, "column");
	json_decref(r);
	/* Duplicate keys are refused, not silently resolved. */
	r = call(&c, "{\"method\": \"echo\", \"method\": \"busy\", \"id\": 1}");
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);
	/* Two requests on one line. */
	r = call(&c, "{\"method\": \"echo\"}{\"method\": \"echo\"}");
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);
	/* Invalid UTF-8. */
	r = call(&c, "{\"method\": \"ech\xff\"}");
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);
	assert_int_equal(c.calls, 0);
}

static void
rpc_invalid_requests(void **state)
{
	struct ctx c = { 0 };
	json_t *r;

	(void)state;
	r = call(&c, "[]");
	expect_error(r, VSW_RPC_INVALID_REQUEST, "object");
	json_decref(r);
	r = call(&c, "[{\"method\": \"echo\", \"id\": 1}]");
	expect_error(r, VSW_RPC_INVALID_REQUEST, NULL);
	json_decref(r);

	r = call(&c, "{\"id\": 1}");
	expect_error(r, VSW_RPC_INVALID_REQUEST, "method");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = call(&c, "{\"method\": 5, \"id\": \"a\"}");
	expect_error(r, VSW_RPC_INVALID_REQUEST, "method");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "a");
	json_decref(r);
	r = call(&c, "{\"method\": null, \"id\": 2}");
	expect_error(r, VSW_RPC_INVALID_REQUEST, NULL);
	json_decref(r);
	r = call(&c, "{}");
	expect_error(r, VSW_RPC_INVALID_REQUEST, NULL);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	assert_int_equal(c.calls, 0);
}

/* JSON-RPC 2.0: valid JSON that is not an object is an invalid request. */
static void
rpc_scalar_is_invalid_request(void **state)
{
	static const char *const lines[] = { "42", "\"echo\"", "null", "true" };
	struct ctx c = { 0 };
	unsigned int i, n_bad = 0;
	json_int_t code;
	json_t *r;

	(void)state;
	for (i = 0; i < DIM(lines); i++) {
		r = call(&c, lines[i]);
		code = json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
		if (code != VSW_RPC_INVALID_REQUEST) {
			print_error("request %s: code %lld, want %d\n", lines[i], (long long)code,
				    VSW_RPC_INVALID_REQUEST);
			n_bad++;
		}
		json_decref(r);
	}
	assert_int_equal(n_bad, 0);
	assert_int_equal(c.calls, 0);
}

static void
rpc_method_not_found(void **state)
{
	struct ctx c = { 0 };
	json_t *r;

	(void)state;
	r = call(&c, "{\"jsonrpc\": \"2.0\", \"method\": \"frobnicate\", \"id\": 7}");
	expect_error(r, VSW_RPC_METHOD_NOT_FOUND, "frobnicate");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_int_equal(err_errno(r), ENOENT);
	json_decref(r);
	/* In the table but without a handler. */
	r = call(&c, "{\"method\": \"nohandler\", \"id\": 8}");
	expect_error(r, VSW_RPC_METHOD_NOT_FOUND, "nohandler");
	json_decref(r);
	/* Case matters. */
	r = call(&c, "{\"method\": \"ECHO\", \"id\": 9}");
	expect_error(r, VSW_RPC_METHOD_NOT_FOUND, NULL);
	json_decref(r);
	/* A long name is cut in the message, the reply stays one line. */
	{
		char line[4096];
		char name[2001];

		memset(name, 'x', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		snprintf(line, sizeof(line), "{\"method\": \"%s\", \"id\": 10}", name);
		r = call(&c, line);
		expect_error(r, VSW_RPC_METHOD_NOT_FOUND, "xxxx");
		assert_true(strlen(json_string_value(json_object_get(
			json_object_get(r, "error"), "message"))) < 200);
		json_decref(r);
	}
	/* A method name with a newline in it does not break the framing. */
	r = call(&c, "{\"method\": \"a\\nb\", \"id\": 11}");
	expect_error(r, VSW_RPC_METHOD_NOT_FOUND, "a\nb");
	json_decref(r);
	assert_int_equal(c.calls, 0);
}

static void
rpc_invalid_params(void **state)
{
	struct ctx c = { 0 };
	json_t *r;

	(void)state;
	r = call(&c, "{\"method\": \"echo\", \"params\": [\"a\", \"b\"], \"id\": 3}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "too many");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
	assert_int_equal(err_errno(r), EINVAL);
	json_decref(r);
	r = call(&c, "{\"method\": \"echo\", \"params\": {\"zz\": \"1\"}, \"id\": 4}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "zz");
	json_decref(r);
	r = call(&c, "{\"method\": \"echo\", \"params\": 5, \"id\": 5}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, NULL);
	json_decref(r);
	r = call(&c, "{\"method\": \"echo\", \"params\": [\"zz=1\"], \"id\": 6}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "unknown option 'zz'");
	json_decref(r);
	r = call(&c, "{\"method\": \"need\", \"params\": [\"x\"], \"id\": 7}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "type= is required");
	json_decref(r);
	r = call(&c, "{\"method\": \"need\", \"params\": [\"type=a\"], \"id\": 8}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "missing");
	json_decref(r);
	r = call(&c, "{\"method\": \"need\", \"id\": 9}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "missing");
	json_decref(r);
	/* The handler never runs on bad params. */
	assert_int_equal(c.calls, 0);
	/* A handler's -EINVAL is an invalid-params error too. */
	r = call(&c, "{\"method\": \"echo\", \"params\": [\"n=5000\"], \"id\": 10}");
	expect_error(r, VSW_RPC_INVALID_PARAMS, "n must be an integer in 0..1000");
	json_decref(r);
	assert_int_equal(c.calls, 1);
}

static void
rpc_handler_errors(void **state)
{
	struct ctx c = { 0 };
	json_t *r;

	(void)state;
	r = call(&c, "{\"jsonrpc\": \"2.0\", \"method\": \"busy\", \"id\": 12}");
	expect_error(r, VSW_RPC_FAILED, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"),
							      "message")), "port vm1 is busy");
	assert_int_equal(err_errno(r), EBUSY);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 12);
	assert_string_equal(c.last, "busy");
	json_decref(r);

	/* Without a reason: the command name and strerror(). */
	r = call(&c, "{\"method\": \"noerr\", \"id\": 13}");
	expect_error(r, VSW_RPC_FAILED, "noerr: ");
	expect_error(r, VSW_RPC_FAILED, strerror(EIO));
	assert_int_equal(err_errno(r), EIO);
	json_decref(r);

	/* A result built before the failure is dropped (and freed). */
	r = call(&c, "{\"method\": \"leak\", \"id\": 14}");
	expect_error(r, VSW_RPC_FAILED, "no such port");
	assert_int_equal(err_errno(r), ENOENT);
	json_decref(r);
	assert_int_equal(c.calls, 3);
}

static void
rpc_success(void **state)
{
	struct ctx c = { 0 };
	json_t *r, *res, *want;

	(void)state;
	r = call(&c, "{\"jsonrpc\": \"2.0\", \"method\": \"echo\", \"params\": [\"hi\", \"n=3\"],"
		 " \"id\": 1}");
	assert_null(json_object_get(r, "error"));
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	res = json_object_get(r, "result");
	want = js("{\"args\": {\"word\": \"hi\", \"n\": \"3\"}, \"n\": 3}");
	assert_true(json_equal(res, want));
	json_decref(want);
	json_decref(r);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.last, "echo");

	/* Object params. */
	r = call(&c, "{\"method\": \"echo\", \"params\": {\"word\": \"x\", \"n\": 0}, \"id\": 2}");
	want = js("{\"args\": {\"word\": \"x\", \"n\": \"0\"}, \"n\": 0}");
	assert_true(json_equal(json_object_get(r, "result"), want));
	json_decref(want);
	json_decref(r);

	/* A NULL result is an empty object. */
	r = call(&c, "{\"method\": \"empty\", \"id\": 3}");
	res = json_object_get(r, "result");
	assert_true(json_is_object(res));
	assert_int_equal(json_object_size(res), 0);
	json_decref(r);

	/* Ids: string, null, absent, large, and an invalid type become null. */
	r = call(&c, "{\"method\": \"empty\", \"id\": \"req-\\u00e9\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "req-\xc3\xa9");
	json_decref(r);
	r = call(&c, "{\"method\": \"empty\", \"id\": null}");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call(&c, "{\"method\": \"empty\"}");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call(&c, "{\"method\": \"empty\", \"id\": 9007199254740993}");
	assert_true(json_integer_value(json_object_get(r, "id")) == 9007199254740993LL);
	json_decref(r);
	r = call(&c, "{\"method\": \"empty\", \"id\": {\"a\": 1}}");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call(&c, "{\"method\": \"empty\", \"id\": 1.5}");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);

	/* Unicode arguments round-trip (the reply is ASCII-escaped). */
	r = call(&c, "{\"method\": \"echo\", \"params\": [\"br\\u00e9\\u4e2d\"], \"id\": 4}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_object_get(r, "result"), "args"), "word")), "br\xc3\xa9\xe4\xb8\xad");
	json_decref(r);

	/* Only len bytes are read: the line need not be NUL-terminated. */
	{
		static const char req[] = "{\"method\": \"empty\", \"id\": 5}";
		char *buf = malloc(sizeof(req) - 1 + 8);

		assert_non_null(buf);
		memcpy(buf, req, sizeof(req) - 1);
		/* bytes past the given length, deliberately not a C string */
		memcpy(buf + sizeof(req) - 1, "garbage!", 8); /* NOLINT(bugprone-not-null-terminated-result) */
		r = call_len(&c, buf, sizeof(req) - 1);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
		assert_non_null(json_object_get(r, "result"));
		json_decref(r);
		free(buf);
	}
}

/*
 * Error messages echo user input cut to a byte length ("%.64s", the 512
 * byte err buffer). A cut inside a UTF-8 sequence must not lose the
 * message: JSON-RPC requires error.message to be a string.
 */
/* The error reply has a message string; report it when it does not. */
static bool
has_message(struct ctx *c, const char *line, int code, const char *what)
{
	const char *m;
	json_t *r, *e;
	bool ok;

	r = call(c, line);
	e = json_object_get(r, "error");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	m = json_string_value(json_object_get(e, "message"));
	ok = m != NULL && m[0] != '\0';
	if (!ok) {
		char *dump = json_dumps(r, JSON_COMPACT);

		print_error("%s: error without message: %s\n", what, dump);
		free(dump);
	}
	json_decref(r);
	return ok;
}

static void
rpc_message_survives_utf8_cut(void **state)
{
	char line[4096], name[256], key[2048];
	struct ctx c = { 0 };
	unsigned int i, n_bad = 0;
	size_t o;

	(void)state;
	/* "a" then 2-byte characters: "%.64s" cuts in the middle of one. */
	o = 0;
	name[o++] = 'a';
	for (i = 0; i < 40; i++) {
		name[o++] = '\xc3';
		name[o++] = '\xa9';
	}
	name[o] = '\0';
	snprintf(line, sizeof(line), "{\"method\": \"%s\", \"id\": 1}", name);
	n_bad += !has_message(&c, line, VSW_RPC_METHOD_NOT_FOUND, "unknown method 'a\\u00e9...'");
	/* Same with the cut between two characters: always fine. */
	snprintf(line, sizeof(line), "{\"method\": \"%s\", \"id\": 1}", name + 1);
	n_bad += !has_message(&c, line, VSW_RPC_METHOD_NOT_FOUND, "unknown method '\\u00e9...'");

	/* An unknown object key longer than the 512-byte err buffer, both parities. */
	o = 0;
	for (i = 0; i < 600; i++) {
		key[o++] = '\xc3';
		key[o++] = '\xa9';
	}
	key[o] = '\0';
	for (i = 0; i < 2; i++) {
		snprintf(line, sizeof(line),
			 "{\"method\": \"echo\", \"params\": {\"%s%s\": \"1\"}, \"id\": 2}",
			 i ? "x" : "", key);
		n_bad += !has_message(&c, line, VSW_RPC_INVALID_PARAMS,
				      i ? "object key 'x\\u00e9...'" : "object key '\\u00e9...'");
	}
	assert_int_equal(n_bad, 0);
}

static void
rpc_garbage_lines(void **state)
{
	const size_t n = VSW_CTL_MAX_LINE;
	struct ctx c = { 0 };
	uint32_t x = 12345;
	char *buf;
	json_t *r;
	size_t i;

	(void)state;
	buf = malloc(n + 64);
	assert_non_null(buf);

	/* Random bytes. */
	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (char)(x >> 16);
	}
	r = call_len(&c, buf, n);
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);

	/* Random printable ASCII starting like a request. */
	memcpy(buf, "{\"method\": \"", 12);
	for (i = 12; i < n; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (char)(0x20 + (x >> 16) % 95);
	}
	r = call_len(&c, buf, n);
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);

	/* Deep nesting must not blow the stack. */
	memset(buf, '[', n);
	r = call_len(&c, buf, n);
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);
	for (i = 0; i + 5 <= n; i += 5)
		memcpy(buf + i, "{\"a\":", 5); /* NOLINT(bugprone-not-null-terminated-result): a byte pattern */
	r = call_len(&c, buf, i);
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);

	/* NUL bytes. */
	memset(buf, 0, n);
	r = call_len(&c, buf, n);
	expect_error(r, VSW_RPC_PARSE_ERROR, NULL);
	json_decref(r);

	/* A valid request of about 1 MiB is served whole. */
	i = (size_t)snprintf(buf, 64, "{\"method\": \"echo\", \"id\": 1, \"params\": [\"");
	memset(buf + i, 'w', n - i - 4);
	memcpy(buf + n - 4, "\"]}", 3); /* NOLINT(bugprone-not-null-terminated-result): length-delimited */
	r = call_len(&c, buf, n - 1);
	assert_non_null(json_object_get(r, "result"));
	assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(
		json_object_get(r, "result"), "args"), "word"))), n - i - 4);
	json_decref(r);
	assert_int_equal(c.calls, 1);
	free(buf);
}

/* A watched eventfd ends the server's wait, and the server drains it. */
static void
server_watch_fd(void **state)
{
	char path[64], err[256];
	struct vsw_ctl_server *srv;
	uint64_t v = 1;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vsw-test-ctl-%d.sock", (int)getpid());
	srv = vsw_ctl_server_create(path, (gid_t)-1, NULL, 0, NULL, err, sizeof(err));
	assert_non_null(srv);
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(vsw_ctl_server_watch(srv, fd), 0);
	assert_int_equal(write(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	assert_int_equal(vsw_ctl_server_poll(srv, 10000), 0);
	/* Drained by the server: nothing left to read. */
	assert_int_equal(read(fd, &v, sizeof(v)), -1);
	assert_int_equal(errno, EAGAIN);
	close(fd);
	vsw_ctl_server_destroy(srv);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(specs_match_list),
		cmocka_unit_test(normalize_array),
		cmocka_unit_test(normalize_array_errors),
		cmocka_unit_test(normalize_object),
		cmocka_unit_test(normalize_err_truncated),
		cmocka_unit_test(args_uint),
		cmocka_unit_test(args_uint_rejects_blank_minus),
		cmocka_unit_test(rpc_parse_errors),
		cmocka_unit_test(rpc_invalid_requests),
		cmocka_unit_test(rpc_scalar_is_invalid_request),
		cmocka_unit_test(rpc_method_not_found),
		cmocka_unit_test(rpc_invalid_params),
		cmocka_unit_test(rpc_handler_errors),
		cmocka_unit_test(rpc_success),
		cmocka_unit_test(rpc_message_survives_utf8_cut),
		cmocka_unit_test(rpc_garbage_lines),
		cmocka_unit_test(server_watch_fd),
	};

	/* ./test_x 'pattern': run only the matching tests. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
