/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's command machinery, shared by vswd and vswctl.
 *
 * A command is one row of VSW_CMD_LIST (vsw_cmd_list.h): name, argument
 * counts, flags, usage line, help. The usage line is also the argument
 * schema: "BRIDGE" is a required positional argument named "bridge",
 * "[PORT]" an optional one, "type=A|B" a required option and "[mtu=N]" an
 * optional one. vsw_cmd_args_normalize() turns either form of JSON-RPC
 * params (array of words, or object) into one object of strings checked
 * against that schema, so handlers never see an unknown key or a missing
 * argument.
 *
 * The server is a single-threaded epoll loop on a Unix stream socket,
 * newline-delimited JSON-RPC 2.0 (docs/protocol.md). It runs on the
 * control thread, which is also the only thread that changes state.
 *
 * Thread-safety: everything here runs on the control thread (server) or in
 * the single-threaded CLI.
 */
#ifndef VSW_CTL_H
#define VSW_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "vsw_cmd_list.h"

/** JSON-RPC error codes. */
enum vsw_rpc_code {
	VSW_RPC_PARSE_ERROR = -32700,
	VSW_RPC_INVALID_REQUEST = -32600,
	VSW_RPC_METHOD_NOT_FOUND = -32601,
	VSW_RPC_INVALID_PARAMS = -32602,
	VSW_RPC_FAILED = -32000,
};

/** Longest request line accepted. */
#define VSW_CTL_MAX_LINE (1024 * 1024)
/** Most simultaneous clients. */
#define VSW_CTL_MAX_CLIENTS 64

/**
 * A command handler. args is the normalized object of strings.
 * @return 0 with *result set (or NULL for {}), or -errno with a one-line
 *   reason in err. -EINVAL is reported as invalid params.
 */
typedef int (*vsw_cmd_handler_t)(void *ctx, json_t *args, json_t **result, char *err,
				 size_t errlen);

/** One command. */
struct vsw_cmd {
	const char *name;		/**< "add-port". */
	uint8_t min_args;		/**< Positional arguments, at least. */
	uint8_t max_args;		/**< Positional arguments, at most. */
	uint8_t flags;			/**< enum vsw_cmd_flags. */
	const char *usage;		/**< "BRIDGE PORT type=...". */
	const char *help;		/**< One sentence. */
	vsw_cmd_handler_t handler;	/**< NULL in the CLI. */
};

/** The command table without handlers (for vswctl and tests). */
extern const struct vsw_cmd vsw_cmd_specs[];
extern const size_t vsw_cmd_n_specs;

/** Find a command by name. @return it or NULL. */
const struct vsw_cmd *vsw_cmd_find(const struct vsw_cmd *table, size_t n, const char *name);

/**
 * Check params against the command's usage and return them as one object
 * of strings in *out (new reference).
 * @return 0, or -EINVAL with a one-line reason in err.
 */
int vsw_cmd_args_normalize(const struct vsw_cmd *cmd, json_t *params, json_t **out,
			   char *err, size_t len);

/** Helpers for handlers: a string argument, or NULL when absent. */
const char *vsw_args_str(const json_t *args, const char *key);

/**
 * An unsigned argument in [min, max]; *val untouched when absent.
 * @return 1 when set, 0 when absent, -EINVAL with a reason in err.
 */
int vsw_args_uint(const json_t *args, const char *key, uint64_t min, uint64_t max,
		  uint64_t *val, char *err, size_t len);

/**
 * Handle one request (one line, without the newline) and return the reply
 * line (malloc'd, newline-terminated). Never NULL except out of memory.
 */
char *vsw_ctl_handle(const struct vsw_cmd *table, size_t n, void *ctx, const char *line,
		     size_t len);

/** vsw_ctl_call() results besides 0. */
enum {
	VSW_CTL_CALL_REFUSED = -1,	/**< The daemon answered with an error. */
	VSW_CTL_CALL_UNREACHABLE = -2,	/**< No daemon, or no usable answer. */
};

/**
 * Send one request to a control socket and wait for the reply.
 * @param params  JSON-RPC params, reference stolen (NULL for none).
 * @return 0 with *result (new reference), or VSW_CTL_CALL_REFUSED /
 *   VSW_CTL_CALL_UNREACHABLE with a one-line reason in err.
 */
int vsw_ctl_call(const char *path, const char *method, json_t *params, int timeout_ms,
		 json_t **result, char *err, size_t len);

struct vsw_ctl_server;

/**
 * Listen on a Unix socket path (mode 0660, group gid unless (gid_t)-1).
 * Removes a stale socket file; refuses when another server listens there.
 * @return the server, or NULL with a reason in err.
 */
struct vsw_ctl_server *vsw_ctl_server_create(const char *path, gid_t gid,
					     const struct vsw_cmd *table, size_t n, void *ctx,
					     char *err, size_t len);

/**
 * Also end vsw_ctl_server_poll()'s wait when eventfd `fd` is written (the
 * server reads it). @return 0 or -errno.
 */
int vsw_ctl_server_watch(struct vsw_ctl_server *s, int fd);

/** Serve what is ready, waiting up to timeout_ms. @return 0 or -errno. */
int vsw_ctl_server_poll(struct vsw_ctl_server *s, int timeout_ms);

/** Close every connection and remove the socket file. NULL is ignored. */
void vsw_ctl_server_destroy(struct vsw_ctl_server *s);

/** Connected clients (for tests and stats). */
unsigned int vsw_ctl_server_clients(const struct vsw_ctl_server *s);

#endif /* VSW_CTL_H */
