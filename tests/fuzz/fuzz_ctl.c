/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control socket's request handling (JSON-RPC parse,
 * method lookup, argument normalization against the real command table,
 * reply encoding). The handlers are stand-ins that check the arguments the
 * dispatcher hands them, so the fuzzer explores everything between the
 * socket and a handler.
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
 *   build-fuzz/tests/fuzz_ctl -max_total_time=60 tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vsw_ctl.h"

static int
check_args(void *ctx, json_t *args, json_t **result, char *err, size_t len)
{
	const char *key;
	json_t *v;
	uint64_t n;

	(void)ctx;
	/* The dispatcher promises an object of strings. */
	if (!json_is_object(args))
		abort();
	json_object_foreach(args, key, v)
		if (!json_is_string(v))
			abort();
	if (vsw_args_uint(args, "n_rxq", 1, 8, &n, err, len) < 0)
		return -22;
	*result = json_pack("{s:O}", "args", args);
	return 0;
}

static struct vsw_cmd table[64];
static size_t n_table;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;
	char *out;

	if (n_table == 0) {
		for (i = 0; i < vsw_cmd_n_specs && i < 64; i++) {
			table[i] = vsw_cmd_specs[i];
			table[i].handler = check_args;
		}
		n_table = i;
	}
	out = vsw_ctl_handle(table, n_table, NULL, (const char *)data, size);
	if (out == NULL || out[0] != '{' || out[strlen(out) - 1] != '\n')
		abort();
	/* Every reply is valid JSON with a result or an error with a message. */
	{
		json_error_t e;
		json_t *r = json_loads(out, 0, &e);

		if (r == NULL)
			abort();
		if (json_object_get(r, "result") == NULL &&
		    !json_is_string(json_object_get(json_object_get(r, "error"), "message")))
			abort();
		json_decref(r);
	}
	free(out);
	return 0;
}
