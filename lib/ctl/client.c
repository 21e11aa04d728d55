/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A blocking client of the control socket: one request, one reply. Used by
 * vswctl and by the DPDK telemetry bridge (which runs on DPDK's telemetry
 * thread and must not touch the control thread's state directly).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsw_util.h"
#include "vsw_ctl.h"


static int
send_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int
vsw_ctl_call(const char *path, const char *method, json_t *params, int timeout_ms,
	     json_t **result, char *err, size_t len)
{
	struct pollfd pfd;
	struct sockaddr_un sa;
	size_t cap = 65536, n = 0;
	char *buf = NULL, *text, *nl, *p;
	json_t *req, *resp, *e;
	json_error_t jerr;
	ssize_t r;
	int fd, ret;

	*result = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		json_decref(params);
		return vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE,
			    "control socket path too long: %s", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		json_decref(params);
		return vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE, "socket: %s", strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE,
			   "cannot reach vswd at %s: %s (is vswd running?)", path, strerror(errno));
		json_decref(params);
		close(fd);
		return ret;
	}
	req = json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
			"params", params != NULL ? params : json_array());
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL) {
		close(fd);
		return vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE, "cannot encode the request");
	}
	ret = send_all(fd, text, strlen(text));
	if (ret == 0)
		ret = send_all(fd, "\n", 1);
	free(text);
	if (ret < 0) {
		close(fd);
		return vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE, "cannot send to vswd: %s",
			    strerror(-ret));
	}
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE, "out of memory");
	}
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			ret = vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE,
				   "no answer from vswd within %d ms", timeout_ms);
			goto out;
		}
		if (cap - n < 4096) {
			p = realloc(buf, cap * 2);
			if (p == NULL) {
				ret = vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE, "out of memory");
				goto out;
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0) {
			ret = vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE,
				   "vswd closed the connection");
			goto out;
		}
		n += (size_t)r;
		buf[n] = '\0';
		nl = memchr(buf, '\n', n);
		if (nl != NULL)
			break;
	}
	resp = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	if (resp == NULL) {
		ret = vsw_errf(err, len, VSW_CTL_CALL_UNREACHABLE, "bad reply from vswd: %s",
			   jerr.text);
		goto out;
	}
	e = json_object_get(resp, "error");
	if (e != NULL) {
		ret = vsw_errf(err, len, VSW_CTL_CALL_REFUSED, "%s",
			   json_string_value(json_object_get(e, "message")) != NULL ?
			   json_string_value(json_object_get(e, "message")) : "error");
	} else {
		*result = json_incref(json_object_get(resp, "result"));
		ret = 0;
	}
	json_decref(resp);
out:
	free(buf);
	close(fd);
	return ret;
}
