/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Optional Prometheus endpoint (--metrics ADDR:PORT, off by default):
 * GET /metrics answers in the text exposition format (version 0.0.4).
 *
 * It runs on the control thread, polled from the main loop with a zero
 * timeout: non-blocking sockets, at most MAX_CONN connections, a request
 * must arrive within 5 s, so a silent client holds nothing up. The numbers
 * come from the same command handlers as vswctl's (port-stats, pmd-stats,
 * fdb-stats, mempool-stats, show), so the two never disagree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vsw_ctl.h"
#include "vswd.h"

#define MAX_CONN 16
#define MAX_REQ 8192

struct conn {
	int fd;			/* -1 when free. */
	time_t since;		/* Accepted at. */
	size_t in_len;
	char in[MAX_REQ];
	char *out;		/* Response still to send. */
	size_t out_len, out_off;
};

static int lfd = -1;
static struct conn conns[MAX_CONN];

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
	c->in[0] = '\0';	/* The next client must not see this one's request. */
}

int
vswd_metrics_init(const char *spec, char *err, size_t len)
{
	struct sockaddr_in sa;
	char host[64];
	unsigned int port;
	const char *colon = strrchr(spec, ':');
	int one = 1, i;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host) ||
	    sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535) {
		snprintf(err, len, "bad --metrics '%s': want ADDR:PORT, e.g. 127.0.0.1:9180", spec);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, len, "bad --metrics address '%s' (an IPv4 address)", host);
		return -EINVAL;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 16) != 0) {
		snprintf(err, len, "cannot listen on %s for metrics: %s", spec, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		lfd = -1;
		return -errno;
	}
	for (i = 0; i < MAX_CONN; i++)
		conns[i].fd = -1;
	return 0;
}

/* A growing text buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static void
bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
}

static json_t *
run(const char *name)
{
	const struct vsw_cmd *c = vsw_cmd_find(vswd_cmds, vswd_n_cmds, name);
	json_t *args = json_object(), *res = NULL;
	char err[256];

	if (c == NULL || c->handler(&vsw_sw, args, &res, err, sizeof(err)) < 0)
		res = NULL;
	json_decref(args);
	return res != NULL ? res : json_array();
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are our own names ([A-Za-z0-9._-]), no escaping needed. */
static void
port_counter(struct buf *b, json_t *ports, const char *name, const char *key, const char *help)
{
	json_t *p;
	size_t i;

	family(b, name, "counter", help);
	json_array_foreach(ports, i, p)
		bprintf(b, "%s{bridge=\"%s\",port=\"%s\"} %lld\n", name,
			json_string_value(json_object_get(p, "bridge")),
			json_string_value(json_object_get(p, "port")),
			(long long)json_integer_value(json_object_get(p, key)));
}

static char *
render(size_t *len)
{
	json_t *ports = run("port-stats"), *pmds = run("pmd-stats"), *fdbs = run("fdb-stats");
	json_t *pools = run("mempool-stats"), *show = run("show"), *p, *v, *b, *q;
	struct buf out = { NULL, 0, 0 };
	const char *reason;
	size_t i, j;

	port_counter(&out, ports, "vsw_port_rx_packets_total", "rx_packets",
		     "Frames received by the port.");
	port_counter(&out, ports, "vsw_port_rx_bytes_total", "rx_bytes",
		     "Bytes received by the port.");
	port_counter(&out, ports, "vsw_port_tx_packets_total", "tx_packets",
		     "Frames sent by the port.");
	port_counter(&out, ports, "vsw_port_tx_bytes_total", "tx_bytes",
		     "Bytes sent by the port.");
	family(&out, "vsw_port_drops_total", "counter", "Frames dropped, by reason.");
	json_array_foreach(ports, i, p)
		json_object_foreach(json_object_get(p, "drops"), reason, v)
			bprintf(&out, "vsw_port_drops_total{bridge=\"%s\",port=\"%s\","
				"reason=\"%s\"} %lld\n",
				json_string_value(json_object_get(p, "bridge")),
				json_string_value(json_object_get(p, "port")), reason,
				(long long)json_integer_value(v));
	port_counter(&out, ports, "vsw_port_unlearned_total", "unlearned",
		     "Frames forwarded from MACs not learned (port at its MAC limit, "
		     "on-limit=flood|log).");
	port_counter(&out, ports, "vsw_port_mirrored_total", "mirrored",
		     "Copies of the port's frames sent to its mirror port.");
	port_counter(&out, ports, "vsw_port_csum_passed_total", "csum_passed",
		     "Frames sent with a partial TCP/UDP checksum for the receiving guest "
		     "to complete.");
	port_counter(&out, ports, "vsw_port_csum_filled_total", "csum_filled",
		     "Partial TCP/UDP checksums from offloading guests that vsw completed "
		     "before sending on this port.");
	port_counter(&out, ports, "vsw_port_tso_passed_total", "tso_passed",
		     "TCP segmentation offload frames sent whole to a guest that takes them.");
	port_counter(&out, ports, "vsw_port_tso_cut_total", "tso_cut",
		     "TCP segmentation offload frames vsw cut into segments for this port.");
	family(&out, "vsw_port_up", "gauge", "1 when the port's link (vhost peer) is up.");
	json_array_foreach(json_object_get(show, "bridges"), i, b)
		json_array_foreach(json_object_get(b, "ports"), j, q)
			bprintf(&out, "vsw_port_up{bridge=\"%s\",port=\"%s\"} %d\n",
				json_string_value(json_object_get(b, "name")),
				json_string_value(json_object_get(q, "name")),
				strcmp(json_string_value(json_object_get(q, "state")), "up") == 0);
	family(&out, "vsw_pmd_packets_total", "counter", "Frames received by the PMD.");
	json_array_foreach(pmds, i, p)
		bprintf(&out, "vsw_pmd_packets_total{lcore=\"%lld\"} %lld\n",
			(long long)json_integer_value(json_object_get(p, "lcore")),
			(long long)json_integer_value(json_object_get(p, "packets")));
	family(&out, "vsw_pmd_cycles_total", "counter",
	       "TSC cycles of the PMD, busy (polls that returned frames) or idle.");
	json_array_foreach(pmds, i, p) {
		bprintf(&out, "vsw_pmd_cycles_total{lcore=\"%lld\",state=\"busy\"} %lld\n",
			(long long)json_integer_value(json_object_get(p, "lcore")),
			(long long)json_integer_value(json_object_get(p, "busy_cycles")));
		bprintf(&out, "vsw_pmd_cycles_total{lcore=\"%lld\",state=\"idle\"} %lld\n",
			(long long)json_integer_value(json_object_get(p, "lcore")),
			(long long)json_integer_value(json_object_get(p, "idle_cycles")));
	}
	family(&out, "vsw_fdb_entries", "gauge", "Entries in the bridge's learning table.");
	json_array_foreach(fdbs, i, p)
		bprintf(&out, "vsw_fdb_entries{bridge=\"%s\"} %lld\n",
			json_string_value(json_object_get(p, "bridge")),
			(long long)json_integer_value(json_object_get(p, "entries")));
	family(&out, "vsw_fdb_events_total", "counter",
	       "Learning table events: learned, moved, aged, limit_hits, flushed, flaps, "
	       "frozen, frozen_refused.");
	json_array_foreach(fdbs, i, p) {
		static const char *const ev[] = { "learned", "moved", "aged", "limit_hits",
						  "flushed", "flaps", "frozen", "frozen_refused" };

		for (j = 0; j < RTE_DIM(ev); j++)
			bprintf(&out, "vsw_fdb_events_total{bridge=\"%s\",event=\"%s\"} %lld\n",
				json_string_value(json_object_get(p, "bridge")), ev[j],
				(long long)json_integer_value(json_object_get(p, ev[j])));
	}
	family(&out, "vsw_mbuf_in_use", "gauge", "mbufs in use in the pool.");
	json_array_foreach(pools, i, p)
		bprintf(&out, "vsw_mbuf_in_use{pool=\"%s\"} %lld\n",
			json_string_value(json_object_get(p, "name")),
			(long long)json_integer_value(json_object_get(p, "in_use")));
	family(&out, "vsw_mbuf_size", "gauge", "mbufs in the pool.");
	json_array_foreach(pools, i, p)
		bprintf(&out, "vsw_mbuf_size{pool=\"%s\"} %lld\n",
			json_string_value(json_object_get(p, "name")),
			(long long)json_integer_value(json_object_get(p, "size")));
	json_decref(ports);
	json_decref(pmds);
	json_decref(fdbs);
	json_decref(pools);
	json_decref(show);
	*len = out.len;
	return out.p;
}

static void
respond(struct conn *c)
{
	struct buf r = { NULL, 0, 0 };
	char *body = NULL;
	size_t blen = 0;

	if (strncmp(c->in, "GET /metrics ", 13) == 0 || strncmp(c->in, "GET / ", 6) == 0) {
		body = render(&blen);
		bprintf(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
			"charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
			blen, (int)blen, body != NULL ? body : "");
	} else if (strncmp(c->in, "GET ", 4) == 0) {
		bprintf(&r, "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n"
			"Connection: close\r\n\r\nnot found\n");
	} else {
		bprintf(&r, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 19\r\n"
			"Connection: close\r\n\r\nmethod not allowed\n");
	}
	free(body);
	c->out = r.p;
	c->out_len = r.len;
	c->out_off = 0;
}

void
vswd_metrics_poll(void)
{
	struct conn *c;
	time_t now;
	ssize_t n;
	int fd, i;

	if (lfd < 0)
		return;
	now = time(NULL);
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < MAX_CONN && conns[i].fd >= 0; i++)
			;
		if (i == MAX_CONN) {
			close(fd);
			continue;
		}
		conns[i].fd = fd;
		conns[i].since = now;
	}
	for (i = 0; i < MAX_CONN; i++) {
		c = &conns[i];
		if (c->fd < 0)
			continue;
		if (c->out == NULL) {
			n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len,
				 MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				conn_close(c);
				continue;
			}
			if (n > 0)
				c->in_len += (size_t)n;
			c->in[c->in_len] = '\0';
			if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") != NULL ||
			    c->in_len >= sizeof(c->in) - 1)
				respond(c);
			else if (now - c->since > 5)
				conn_close(c);
		}
		if (c->out != NULL) {
			n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				c->out_off += (size_t)n;
			if ((n < 0 && errno != EAGAIN) || c->out_off == c->out_len ||
			    now - c->since > 30)
				conn_close(c);
		}
	}
}

void
vswd_metrics_close(void)
{
	int i;

	for (i = 0; i < MAX_CONN; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	if (lfd >= 0)
		close(lfd);
	lfd = -1;
}
