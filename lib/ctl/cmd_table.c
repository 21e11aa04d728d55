/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command specs (from VSW_CMD_LIST), argument normalization and
 * JSON-RPC request handling.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsw_util.h"
#include "vsw_ctl.h"

const struct vsw_cmd vsw_cmd_specs[] = {
#define CMD_SPEC(id, name, min, max, flags, usage, help) \
	{ name, min, max, flags, usage, help, NULL },
	VSW_CMD_LIST(CMD_SPEC)
#undef CMD_SPEC
};
const size_t vsw_cmd_n_specs = sizeof(vsw_cmd_specs) / sizeof(vsw_cmd_specs[0]);

const struct vsw_cmd *
vsw_cmd_find(const struct vsw_cmd *table, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}


#define MAX_SCHEMA 48

/* The argument schema parsed out of a usage line. */
struct schema {
	unsigned int n_pos;			/* Positional arguments. */
	char pos[MAX_SCHEMA][32];		/* Their names, lower case. */
	unsigned int n_opt;			/* Options. */
	char opt[MAX_SCHEMA][32];		/* Their keys. */
	bool opt_required[MAX_SCHEMA];		/* Without brackets. */
	bool opt_flag[MAX_SCHEMA];		/* "--name": no value. */
};

static void
schema_parse(const char *usage, struct schema *s)
{
	const char *p = usage, *start, *eq;
	bool bracket;
	size_t n, i;

	memset(s, 0, sizeof(*s));
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		bracket = *p == '[';
		start = bracket ? p + 1 : p;
		while (*p != '\0' && *p != ' ')
			p++;
		n = (size_t)(p - start);
		if (bracket && n > 0 && start[n - 1] == ']')
			n--;
		eq = memchr(start, '=', n);
		if (n > 2 && start[0] == '-' && start[1] == '-') {
			/* A flag: "--rate" is option "rate" with value "true". */
			if (s->n_opt < MAX_SCHEMA) {
				snprintf(s->opt[s->n_opt], sizeof(s->opt[0]), "%.*s", (int)n - 2,
					 start + 2);
				s->opt_required[s->n_opt] = false;
				s->opt_flag[s->n_opt++] = true;
			}
		} else if (eq != NULL) {
			if (s->n_opt < MAX_SCHEMA) {
				snprintf(s->opt[s->n_opt], sizeof(s->opt[0]), "%.*s",
					 (int)(eq - start), start);
				s->opt_required[s->n_opt++] = !bracket;
			}
		} else if (s->n_pos < MAX_SCHEMA) {
			snprintf(s->pos[s->n_pos], sizeof(s->pos[0]), "%.*s", (int)n, start);
			for (i = 0; s->pos[s->n_pos][i] != '\0'; i++)
				s->pos[s->n_pos][i] = s->pos[s->n_pos][i] == '-' ? '_' :
					(char)tolower((unsigned char)s->pos[s->n_pos][i]);
			s->n_pos++;
		}
	}
}

static int
find_opt(const struct schema *s, const char *key, size_t keylen)
{
	unsigned int i;

	for (i = 0; i < s->n_opt; i++)
		if (strlen(s->opt[i]) == keylen && strncmp(s->opt[i], key, keylen) == 0)
			return (int)i;
	return -1;
}

static int
find_pos(const struct schema *s, const char *key)
{
	unsigned int i;

	for (i = 0; i < s->n_pos; i++)
		if (strcmp(s->pos[i], key) == 0)
			return (int)i;
	return -1;
}

/* An option key: non-empty, letters, digits, '-' and '_'. */
static bool
is_key(const char *w, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)w[i]) || w[i] == '-' || w[i] == '_'))
			return false;
	return true;
}

static void
opt_list(const struct schema *s, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < s->n_opt && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", s->opt[i]);
	if (s->n_opt == 0)
		snprintf(buf, len, "none");
}

/* Set out[key] from a JSON value that must be a string or a number. */
static int
set_value(json_t *out, const char *key, const json_t *v, const char *cmd, char *err, size_t len)
{
	char num[32];

	if (json_is_string(v))
		return json_object_set_new(out, key, json_string(json_string_value(v))) == 0 ?
			0 : vsw_errf(err, len, -EINVAL, "out of memory");
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		json_object_set_new(out, key, json_string(num));
		return 0;
	}
	if (json_is_boolean(v)) {
		json_object_set_new(out, key, json_string(json_is_true(v) ? "true" : "false"));
		return 0;
	}
	return vsw_errf(err, len, -EINVAL, "%s: argument '%s' must be a string or a number", cmd, key);
}

int
vsw_cmd_args_normalize(const struct vsw_cmd *cmd, json_t *params, json_t **out,
		       char *err, size_t len)
{
	unsigned int n_pos = 0, i;
	struct schema s;
	const char *w, *eq, *key;
	const json_t *v;
	char opts[256];
	json_t *o;
	size_t idx;
	int ret = 0;

	schema_parse(cmd->usage, &s);
	o = json_object();
	if (o == NULL)
		return vsw_errf(err, len, -EINVAL, "out of memory");
	if (params == NULL || json_is_null(params)) {
		/* No arguments. */
	} else if (json_is_array(params)) {
		json_array_foreach(params, idx, v) {
			if (!json_is_string(v)) {
				ret = vsw_errf(err, len, -EINVAL, "%s: arguments must be strings", cmd->name);
				goto out;
			}
			w = json_string_value(v);
			if (w[0] == '-' && w[1] == '-') {
				int f = find_opt(&s, w + 2, strlen(w + 2));

				if (f < 0 || !s.opt_flag[f]) {
					opt_list(&s, opts, sizeof(opts));
					ret = vsw_errf(err, len, -EINVAL, "%s: unknown flag '%s' (options: %s)",
						   cmd->name, w, opts);
					goto out;
				}
				json_object_set_new(o, s.opt[f], json_string("true"));
				continue;
			}
			eq = strchr(w, '=');
			if (eq != NULL && is_key(w, (size_t)(eq - w))) {
				if (find_opt(&s, w, (size_t)(eq - w)) < 0) {
					opt_list(&s, opts, sizeof(opts));
					ret = vsw_errf(err, len, -EINVAL, "%s: unknown option '%.*s' (options: %s)",
						   cmd->name, (int)(eq - w), w, opts);
					goto out;
				}
				char k[64];

				snprintf(k, sizeof(k), "%.*s", (int)(eq - w), w);
				if (json_object_get(o, k) != NULL) {
					ret = vsw_errf(err, len, -EINVAL, "%s: option '%s' given twice",
						   cmd->name, k);
					goto out;
				}
				json_object_set_new(o, k, json_string(eq + 1));
				continue;
			}
			if (n_pos >= cmd->max_args || n_pos >= s.n_pos) {
				ret = vsw_errf(err, len, -EINVAL, "%s: too many arguments (usage: %s %s)",
					   cmd->name, cmd->name, cmd->usage);
				goto out;
			}
			json_object_set_new(o, s.pos[n_pos++], json_string(w));
		}
	} else if (json_is_object(params)) {
		json_object_foreach(params, key, v) {
			int p = find_pos(&s, key);

			if (p < 0 && find_opt(&s, key, strlen(key)) < 0) {
				ret = vsw_errf(err, len, -EINVAL, "%s: unknown argument '%s'", cmd->name, key);
				goto out;
			}
			ret = set_value(o, key, v, cmd->name, err, len);
			if (ret < 0)
				goto out;
		}
		for (i = 0; i < s.n_pos; i++)
			if (json_object_get(o, s.pos[i]) != NULL)
				n_pos = i + 1;
		for (i = 0; i < n_pos; i++) {
			if (json_object_get(o, s.pos[i]) == NULL) {
				ret = vsw_errf(err, len, -EINVAL, "%s: missing argument '%s'", cmd->name,
					   s.pos[i]);
				goto out;
			}
		}
	} else {
		ret = vsw_errf(err, len, -EINVAL, "%s: params must be an array or an object", cmd->name);
		goto out;
	}
	if (n_pos < cmd->min_args) {
		ret = vsw_errf(err, len, -EINVAL, "%s: missing arguments (usage: %s %s)", cmd->name, cmd->name,
			   cmd->usage);
		goto out;
	}
	for (i = 0; i < s.n_opt; i++) {
		if (s.opt_required[i] && json_object_get(o, s.opt[i]) == NULL) {
			ret = vsw_errf(err, len, -EINVAL, "%s: %s= is required", cmd->name, s.opt[i]);
			goto out;
		}
	}
out:
	if (ret < 0) {
		json_decref(o);
		return ret;
	}
	*out = o;
	return 0;
}

const char *
vsw_args_str(const json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

int
vsw_args_uint(const json_t *args, const char *key, uint64_t min, uint64_t max, uint64_t *val,
	      char *err, size_t len)
{
	const char *s = vsw_args_str(args, key);
	unsigned long long v;
	char *end;

	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 || v < min || v > max)
		return vsw_errf(err, len, -EINVAL, "%s must be an integer in %llu..%llu, not '%s'", key,
			    (unsigned long long)min, (unsigned long long)max, s);
	*val = v;
	return 1;
}

/*
 * A message as a JSON string. Messages echo user input and may have been
 * cut in the middle of a UTF-8 sequence: such bytes become '?', so the
 * reply always has its message.
 */
static json_t *
message(const char *msg)
{
	json_t *j = json_string(msg);
	char *copy;
	size_t i;

	if (j != NULL)
		return j;
	copy = strdup(msg);
	if (copy == NULL)
		return json_string("out of memory");
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static char *
reply(json_t *id, json_t *result, int code, const char *msg, int errnum)
{
	json_t *r = json_object();
	json_t *e;
	char *s, *line;
	size_t n;

	json_object_set_new(r, "jsonrpc", json_string("2.0"));
	json_object_set(r, "id", id != NULL ? id : json_null());
	if (code == 0) {
		json_object_set_new(r, "result", result != NULL ? result : json_object());
	} else {
		e = json_object();
		json_object_set_new(e, "code", json_integer(code));
		json_object_set_new(e, "message", message(msg));
		json_object_set_new(e, "data", json_pack("{s:i}", "errno", errnum));
		json_object_set_new(r, "error", e);
	}
	s = json_dumps(r, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(r);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (line == NULL) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *
vsw_ctl_handle(const struct vsw_cmd *table, size_t n, void *ctx, const char *line, size_t len)
{
	json_t *req, *id = NULL, *args = NULL, *result = NULL;
	const struct vsw_cmd *cmd;
	const char *method;
	json_error_t jerr;
	char err[512] = "";
	char *out;
	int ret;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (req == NULL) {
		snprintf(err, sizeof(err), "parse error at column %d: %s", jerr.column, jerr.text);
		return reply(NULL, NULL, VSW_RPC_PARSE_ERROR, err, EINVAL);
	}
	if (!json_is_object(req)) {
		out = reply(NULL, NULL, VSW_RPC_INVALID_REQUEST, "request must be an object",
			    EINVAL);
		goto done;
	}
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id))
		id = NULL;
	method = json_string_value(json_object_get(req, "method"));
	if (method == NULL) {
		out = reply(id, NULL, VSW_RPC_INVALID_REQUEST, "request has no method", EINVAL);
		goto done;
	}
	cmd = vsw_cmd_find(table, n, method);
	if (cmd == NULL || cmd->handler == NULL) {
		snprintf(err, sizeof(err), "unknown command '%.64s'", method);
		out = reply(id, NULL, VSW_RPC_METHOD_NOT_FOUND, err, ENOENT);
		goto done;
	}
	if (vsw_cmd_args_normalize(cmd, json_object_get(req, "params"), &args, err,
				   sizeof(err)) < 0) {
		out = reply(id, NULL, VSW_RPC_INVALID_PARAMS, err, EINVAL);
		goto done;
	}
	ret = cmd->handler(ctx, args, &result, err, sizeof(err));
	if (ret < 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "%s: %s", cmd->name, strerror(-ret));
		out = reply(id, NULL, ret == -EINVAL ? VSW_RPC_INVALID_PARAMS : VSW_RPC_FAILED,
			    err, -ret);
		json_decref(result);
	} else {
		out = reply(id, result, 0, NULL, 0);
	}
done:
	json_decref(args);
	json_decref(req);
	return out;
}
