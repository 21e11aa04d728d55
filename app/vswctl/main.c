/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswctl: command-line client of vswd's control socket.
 *
 * It checks the words against the same command table the daemon uses
 * (lib/ctl/vsw_cmd_list.h), sends one JSON-RPC request, and prints the
 * result as aligned tables (or raw JSON with --json).
 *
 * Exit status: 0 success, 1 the daemon refused the command, 2 usage error,
 * 3 the daemon could not be reached.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vsw_common.h"
#include "vsw_ctl.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: vswctl [--ctl PATH] [--json] [--timeout S] COMMAND [ARGS...]\n\n"
		"Options:\n"
		"  --ctl PATH     control socket (default $VSW_CTL, or $VSW_RUNDIR/vswd.ctl,\n"
		"                 or /run/vsw/vswd.ctl)\n"
		"  --json, -j     print the result as JSON\n"
		"  --timeout S    seconds to wait for the daemon (default 30)\n\n"
		"Commands:\n");
	for (i = 0; i < vsw_cmd_n_specs; i++)
		fprintf(f, "  %s %s\n      %s\n", vsw_cmd_specs[i].name, vsw_cmd_specs[i].usage,
			vsw_cmd_specs[i].help);
	fprintf(f, "  top [iterations=N] [interval=S]\n"
		"      Live view of port rates, PMD load and table sizes; q or Ctrl-C quits.\n");
	fprintf(f, "  help [COMMAND]\n      This text, or one command's.\n");
}

/* ------------------------------------------------------------- tables */

#define MAX_COLS 24

struct table {
	size_t n_cols;
	const char *head[MAX_COLS];
	size_t width[MAX_COLS];
	bool right[MAX_COLS];
	size_t n_rows;
	char **cells;		/* n_rows * n_cols strings. */
};

static void
table_init(struct table *t, size_t n_cols, const char *const *head, const bool *right)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->n_cols = n_cols;
	for (i = 0; i < n_cols; i++) {
		t->head[i] = head[i];
		t->width[i] = strlen(head[i]);
		t->right[i] = right != NULL && right[i];
	}
}

static void
table_row(struct table *t, char **vals)
{
	char **cells;
	size_t i;

	cells = realloc(t->cells, sizeof(char *) * t->n_cols * (t->n_rows + 1));
	if (cells == NULL)
		exit(1);
	t->cells = cells;
	memcpy(&cells[t->n_rows * t->n_cols], vals, sizeof(char *) * t->n_cols);
	for (i = 0; i < t->n_cols; i++) {
		if (strlen(vals[i]) > t->width[i])
			t->width[i] = strlen(vals[i]);
	}
	t->n_rows++;
}

static void
table_print_indent(struct table *t, const char *indent)
{
	size_t r, i;

	printf("%s", indent);
	for (i = 0; i < t->n_cols; i++) {
		if (i + 1 == t->n_cols && !t->right[i])
			printf("%s\n", t->head[i]);
		else
			printf(t->right[i] ? "%*s%s" : "%-*s%s", (int)t->width[i], t->head[i],
			       i + 1 < t->n_cols ? "  " : "\n");
	}
	for (r = 0; r < t->n_rows; r++) {
		printf("%s", indent);
		for (i = 0; i < t->n_cols; i++) {
			char *c = t->cells[r * t->n_cols + i];

			if (i + 1 == t->n_cols && !t->right[i])
				printf("%s\n", c);
			else
				printf(t->right[i] ? "%*s%s" : "%-*s%s", (int)t->width[i], c,
				       i + 1 < t->n_cols ? "  " : "\n");
			free(c);
		}
	}
	free(t->cells);
	t->cells = NULL;
}

static void
table_print(struct table *t)
{
	table_print_indent(t, "");
}

static char *
str_of(const json_t *v)
{
	char *s = NULL;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			exit(1);
		return s;
	}
	if (json_is_real(v)) {
		if (asprintf(&s, "%.1f", json_real_value(v)) < 0)
			exit(1);
		return s;
	}
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "yes" : "no");
	if (v == NULL || json_is_null(v))
		return strdup("-");
	s = json_dumps(v, JSON_COMPACT);
	return s != NULL ? s : strdup("?");
}

/* Human form of a byte or packet count: 1234567 -> "1.2M". */
static char *
human(json_int_t v, const char *unit)
{
	static const char *const suffix[] = { "", "k", "M", "G", "T", "P" };
	double d = (double)v;
	unsigned int i = 0;
	char *s;

	while (d >= 1000.0 && i < 5) {
		d /= 1000.0;
		i++;
	}
	int r;

	if (i == 0)
		r = asprintf(&s, "%lld%s%s", (long long)v, *unit ? " " : "", unit);
	else
		r = asprintf(&s, "%.1f %s%s", d, suffix[i], unit);
	if (r < 0)
		exit(1);
	return s;
}

/* Generic: an array of flat objects becomes a table, keys as headers. */
static void
print_generic(json_t *r)
{
	const char *head[MAX_COLS];
	bool right[MAX_COLS];
	char *vals[MAX_COLS];
	const json_t *row, *v;
	struct table t;
	const char *key;
	size_t i, n = 0, j;

	if (json_is_array(r) && json_array_size(r) > 0 && json_is_object(json_array_get(r, 0))) {
		json_object_foreach(json_array_get(r, 0), key, v) {
			if (n < MAX_COLS) {
				right[n] = json_is_number(v);
				head[n++] = key;
			}
		}
		table_init(&t, n, head, right);
		json_array_foreach(r, i, row) {
			for (j = 0; j < n; j++)
				vals[j] = str_of(json_object_get(row, head[j]));
			table_row(&t, vals);
		}
		table_print(&t);
		return;
	}
	if (json_is_array(r)) {
		json_array_foreach(r, i, v) {
			char *s = str_of(v);

			printf("%s\n", s);
			free(s);
		}
		return;
	}
	if (json_is_object(r)) {
		json_object_foreach(r, key, v) {
			char *s = str_of(v);

			printf("%s: %s\n", key, s);
			free(s);
		}
		return;
	}
}

static void
print_show(json_t *r)
{
	static const char *const head[] = { "PORT", "TYPE", "STATE", "RXQ", "MTU", "ENDPOINT",
					    "L2" };
	const json_t *b, *p, *pmd, *mb, *v;
	const char *k;
	struct table t;
	size_t i, j, n;
	char *vals[7];

	json_array_foreach(json_object_get(r, "bridges"), i, b) {
		printf("bridge %s: aging %llds, max-macs %lld, port-max-macs %lld, %lld MACs, "
		       "flap %lld moves/%llds freeze %llds\n",
		       json_string_value(json_object_get(b, "name")),
		       (long long)json_integer_value(json_object_get(b, "aging")),
		       (long long)json_integer_value(json_object_get(b, "max_macs")),
		       (long long)json_integer_value(json_object_get(b, "port_max_macs")),
		       (long long)json_integer_value(json_object_get(b, "fdb_entries")),
		       (long long)json_integer_value(json_object_get(b, "flap_moves")),
		       (long long)json_integer_value(json_object_get(b, "flap_window")),
		       (long long)json_integer_value(json_object_get(b, "flap_freeze")));
		if (json_array_size(json_object_get(b, "ports")) == 0) {
			printf("  (no ports)\n");
			continue;
		}
		table_init(&t, 7, head, NULL);
		json_array_foreach(json_object_get(b, "ports"), j, p) {
			const char *type = json_string_value(json_object_get(p, "type"));
			const char *err = json_string_value(json_object_get(p, "error"));

			vals[0] = str_of(json_object_get(p, "name"));
			vals[1] = str_of(json_object_get(p, "type"));
			vals[2] = str_of(json_object_get(p, "state"));
			vals[3] = str_of(json_object_get(p, "n_rxq"));
			vals[4] = json_integer_value(json_object_get(p, "mtu")) ?
				str_of(json_object_get(p, "mtu")) : strdup("default");
			if (strcmp(type, "dpdk") == 0)
				vals[5] = str_of(json_object_get(p, "devargs"));
			else
				vals[5] = str_of(json_object_get(p, "path"));
			if (err != NULL && *err != '\0' &&
			    strcmp(json_string_value(json_object_get(p, "state")), "failed") == 0) {
				char *s;

				if (asprintf(&s, "%s  (error: %s)", vals[5], err) < 0)
					exit(1);
				free(vals[5]);
				vals[5] = s;
			}
			/* L2 options as set-port takes them: "tag=10 storm-bcast=100". */
			vals[6] = strdup("");
			json_object_foreach(json_object_get(p, "l2"), k, v) {
				char *s;

				n = strlen(vals[6]);
				if (asprintf(&s, "%s%s%s=%s", vals[6], n ? " " : "", k,
					     json_string_value(v) ? json_string_value(v) : "") < 0)
					exit(1);
				free(vals[6]);
				vals[6] = s;
			}
			table_row(&t, vals);
		}
		table_print_indent(&t, "  ");
	}
	json_array_foreach(json_object_get(r, "pmds"), i, pmd)
		printf("pmd lcore %lld on cpu %lld: %lld rx queues\n",
		       (long long)json_integer_value(json_object_get(pmd, "lcore")),
		       (long long)json_integer_value(json_object_get(pmd, "cpu")),
		       (long long)json_integer_value(json_object_get(pmd, "rxqs")));
	mb = json_object_get(r, "mbuf");
	printf("mbufs: %lld in use of %lld\n",
	       (long long)json_integer_value(json_object_get(mb, "in_use")),
	       (long long)json_integer_value(json_object_get(mb, "size")));
}

static void
print_port_stats(json_t *r)
{
	static const char *const head[] = { "PORT", "RX-PKTS", "RX-BYTES", "TX-PKTS",
					    "TX-BYTES", "DROPS", "DROP-REASONS" };
	static const bool right[] = { false, true, true, true, true, true, false };
	const json_t *p, *v;
	struct table t;
	const char *key;
	char *vals[7], reasons[512];
	size_t i, off;

	table_init(&t, 7, head, right);
	json_array_foreach(r, i, p) {
		vals[0] = str_of(json_object_get(p, "port"));
		vals[1] = str_of(json_object_get(p, "rx_packets"));
		vals[2] = human(json_integer_value(json_object_get(p, "rx_bytes")), "B");
		vals[3] = str_of(json_object_get(p, "tx_packets"));
		vals[4] = human(json_integer_value(json_object_get(p, "tx_bytes")), "B");
		vals[5] = str_of(json_object_get(p, "drops_total"));
		off = 0;
		reasons[0] = '\0';
		json_object_foreach(json_object_get(p, "drops"), key, v) {
			if (json_integer_value(v) != 0 && off < sizeof(reasons))
				off += (size_t)snprintf(reasons + off, sizeof(reasons) - off,
							"%s%s=%lld", off ? " " : "", key,
							(long long)json_integer_value(v));
		}
		vals[6] = strdup(off ? reasons : "-");
		table_row(&t, vals);
	}
	table_print(&t);
}

static void
print_pmd_stats(json_t *r)
{
	static const char *const head[] = { "LCORE", "CPU", "RXQS", "PACKETS", "BUSY%",
					    "CYCLES/PKT", "BUSY-CYCLES", "IDLE-CYCLES" };
	static const bool right[] = { true, true, true, true, true, true, true, true };
	const json_t *p;
	struct table t;
	char *vals[8];
	size_t i;

	table_init(&t, 8, head, right);
	json_array_foreach(r, i, p) {
		vals[0] = str_of(json_object_get(p, "lcore"));
		vals[1] = str_of(json_object_get(p, "cpu"));
		vals[2] = str_of(json_object_get(p, "rxqs"));
		vals[3] = str_of(json_object_get(p, "packets"));
		vals[4] = str_of(json_object_get(p, "busy_pct"));
		vals[5] = str_of(json_object_get(p, "cycles_per_packet"));
		vals[6] = human(json_integer_value(json_object_get(p, "busy_cycles")), "");
		vals[7] = human(json_integer_value(json_object_get(p, "idle_cycles")), "");
		table_row(&t, vals);
	}
	table_print(&t);
	printf("\nbursts by size (non-empty polls):\n");
	json_array_foreach(r, i, p) {
		json_t *h = json_object_get(p, "burst_sizes"), *v;
		const char *k;

		printf("  lcore %lld:", (long long)json_integer_value(json_object_get(p, "lcore")));
		json_object_foreach(h, k, v)
			printf("  %s: %lld", k, (long long)json_integer_value(v));
		printf("\n");
	}
}

static char *
since(json_int_t t)
{
	long d = (long)(time(NULL) - (time_t)t);
	char *s;

	if (asprintf(&s, d < 120 ? "%lds ago" : d < 7200 ? "%ldm ago" : "%ldh ago",
		     d < 120 ? d : d < 7200 ? d / 60 : d / 3600) < 0)
		exit(1);
	return s;
}

/*
 * An array's elements joined with commas ("-" when empty): strings, or
 * with key, that integer member of each object.
 */
static char *
join(json_t *arr, const char *key)
{
	char buf[256];
	size_t i, off = 0;
	json_t *e;

	buf[0] = '\0';
	json_array_foreach(arr, i, e) {
		if (off >= sizeof(buf))
			break;
		if (key != NULL)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%lld",
						off ? "," : "",
						(long long)json_integer_value(json_object_get(e, key)));
		else
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
						off ? "," : "",
						json_is_string(e) ? json_string_value(e) : "?");
	}
	return strdup(off ? buf : "-");
}

/* "ENABLED/TOTAL" vrings of a vhost-show entry, "-" when not attached. */
static char *
vrings_on(json_t *p)
{
	json_t *rings = json_object_get(p, "rings"), *e;
	char buf[32];
	size_t i, on = 0;

	if (json_object_get(p, "vrings") == NULL)
		return strdup("-");
	json_array_foreach(rings, i, e)
		on += json_is_true(json_object_get(e, "enabled"));
	snprintf(buf, sizeof(buf), "%zu/%lld", on,
		 (long long)json_integer_value(json_object_get(p, "vrings")));
	return strdup(buf);
}

static void
print_vhost(json_t *r)
{
	static const char *const head[] = { "PORT", "MODE", "STATE", "SINCE", "RECONNECTS",
					    "VRINGS-ON", "WALK", "RING-SIZES", "FEATURES",
					    "OFFLOADS", "TX-FULL", "PATH" };
	static const bool right[] = { false, false, false, false, true, true, false, false,
				      false, false, true, false };
	json_t *p;
	struct table t;
	char *vals[12];
	size_t i;

	table_init(&t, 12, head, right);
	json_array_foreach(r, i, p) {
		vals[0] = str_of(json_object_get(p, "port"));
		vals[1] = str_of(json_object_get(p, "mode"));
		vals[2] = strdup(json_is_true(json_object_get(p, "connected")) ?
				 "connected" : "waiting");
		vals[3] = since(json_integer_value(json_object_get(p, "state_since")));
		vals[4] = str_of(json_object_get(p, "reconnects"));
		vals[5] = vrings_on(p);
		vals[6] = json_object_get(p, "walk") != NULL ?
			  str_of(json_object_get(p, "walk")) : strdup("-");
		vals[7] = join(json_object_get(p, "rings"), "size");
		vals[8] = str_of(json_object_get(p, "features"));
		vals[9] = join(json_object_get(p, "offloads"), NULL);
		vals[10] = str_of(json_object_get(p, "tx_full_drops"));
		vals[11] = str_of(json_object_get(p, "path"));
		table_row(&t, vals);
	}
	table_print(&t);
}

static void
print_port_rates(json_t *r)
{
	static const char *const head[] = { "PORT", "RX-PPS", "RX-BIT/S", "TX-PPS", "TX-BIT/S",
					    "DROPS/S" };
	static const bool right[] = { false, true, true, true, true, true };
	json_t *p, *rt;
	struct table t;
	char *vals[6];
	size_t i;

	table_init(&t, 6, head, right);
	json_array_foreach(r, i, p) {
		rt = json_object_get(p, "rate");
		vals[0] = str_of(json_object_get(p, "port"));
		vals[1] = human((json_int_t)json_real_value(json_object_get(rt, "rx_pps")), "");
		vals[2] = human((json_int_t)json_real_value(json_object_get(rt, "rx_bps")), "b/s");
		vals[3] = human((json_int_t)json_real_value(json_object_get(rt, "tx_pps")), "");
		vals[4] = human((json_int_t)json_real_value(json_object_get(rt, "tx_bps")), "b/s");
		vals[5] = human((json_int_t)json_real_value(json_object_get(rt, "drops_ps")), "");
		table_row(&t, vals);
	}
	table_print(&t);
}

static void
print_result(const char *method, json_t *r)
{
	if (strcmp(method, "show") == 0)
		print_show(r);
	else if (strcmp(method, "port-stats") == 0 && json_array_size(r) > 0 &&
		 json_object_get(json_array_get(r, 0), "rate") != NULL)
		print_port_rates(r);
	else if (strcmp(method, "port-stats") == 0)
		print_port_stats(r);
	else if (strcmp(method, "vhost-show") == 0)
		print_vhost(r);
	else if (strcmp(method, "pmd-stats") == 0)
		print_pmd_stats(r);
	else if (strcmp(method, "version") == 0)
		printf("vswd %s (%s)\n", json_string_value(json_object_get(r, "version")),
		       json_string_value(json_object_get(r, "dpdk")));
	else
		print_generic(r);
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig);

static json_t *
call_or_null(const char *ctl, const char *method, json_t *params)
{
	json_t *res = NULL;
	char err[512];

	if (vsw_ctl_call(ctl, method, params, 5000, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "vswctl: %s\n", err);
		return NULL;
	}
	return res;
}

static int
by_load(const void *a, const void *b)
{
	json_t *ra = json_object_get(*(json_t *const *)a, "rate");
	json_t *rb = json_object_get(*(json_t *const *)b, "rate");
	double la = json_real_value(json_object_get(ra, "rx_pps")) +
		    json_real_value(json_object_get(ra, "tx_pps"));
	double lb = json_real_value(json_object_get(rb, "rx_pps")) +
		    json_real_value(json_object_get(rb, "tx_pps"));

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* One screen of `vswctl top`. @return 0, or -1 when the daemon is gone. */
static int
top_screen(const char *ctl, bool clear)
{
	json_t *ports, *pmds, *fdbs, *p, *sorted[VSW_MAX_PORTS];
	size_t i, n;
	char when[32];
	time_t now = time(NULL);

	ports = call_or_null(ctl, "port-stats", json_pack("[s]", "--rate"));
	pmds = call_or_null(ctl, "pmd-stats", NULL);
	fdbs = call_or_null(ctl, "fdb-stats", NULL);
	if (ports == NULL || pmds == NULL || fdbs == NULL) {
		json_decref(ports);
		json_decref(pmds);
		json_decref(fdbs);
		return -1;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (clear)
		printf("\033[H\033[2J");
	printf("vsw top - %s   (q or Ctrl-C to quit)\n\n", when);
	json_array_foreach(pmds, i, p)
		printf("pmd lcore %lld (cpu %lld): busy %5.1f%%, %6.1f cycles/pkt, %lld rx queues\n",
		       (long long)json_integer_value(json_object_get(p, "lcore")),
		       (long long)json_integer_value(json_object_get(p, "cpu")),
		       json_real_value(json_object_get(p, "busy_pct")),
		       json_real_value(json_object_get(p, "cycles_per_packet")),
		       (long long)json_integer_value(json_object_get(p, "rxqs")));
	json_array_foreach(fdbs, i, p)
		printf("bridge %s: %lld MACs (max %lld), learned %lld, moved %lld, aged %lld\n",
		       json_string_value(json_object_get(p, "bridge")),
		       (long long)json_integer_value(json_object_get(p, "entries")),
		       (long long)json_integer_value(json_object_get(p, "capacity")),
		       (long long)json_integer_value(json_object_get(p, "learned")),
		       (long long)json_integer_value(json_object_get(p, "moved")),
		       (long long)json_integer_value(json_object_get(p, "aged")));
	printf("\n");
	n = 0;
	json_array_foreach(ports, i, p)
		if (n < VSW_MAX_PORTS)
			sorted[n++] = p;
	qsort(sorted, n, sizeof(sorted[0]), by_load); /* NOLINT(bugprone-sizeof-expression): an array of pointers */
	json_decref(pmds);
	json_decref(fdbs);
	pmds = json_array();
	for (i = 0; i < n; i++)
		json_array_append(pmds, sorted[i]);
	if (n > 0)
		print_port_rates(pmds);
	else
		printf("(no ports)\n");
	fflush(stdout);
	json_decref(pmds);
	json_decref(ports);
	return 0;
}

/* vswctl top [iterations=N] [interval=S]: a live view, sorted by load. */
static int
cmd_top(const char *ctl, int argc, char **argv)
{
	struct termios old, raw;
	long iterations = 0, interval = 1, k;
	bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		if (sscanf(argv[i], "iterations=%ld", &iterations) == 1 && iterations > 0)
			continue;
		if (sscanf(argv[i], "interval=%ld", &interval) == 1 && interval > 0)
			continue;
		fprintf(stderr, "vswctl: top [iterations=N] [interval=S]: bad '%s'\n", argv[i]);
		return EXIT_USAGE;
	}
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	if (tty) {
		tcgetattr(STDIN_FILENO, &old);
		raw = old;
		raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (k = 0; !interrupted && (iterations == 0 || k < iterations); k++) {
		if (top_screen(ctl, tty) < 0) {
			rc = EXIT_UNREACHABLE;
			break;
		}
		if (iterations != 0 && k + 1 == iterations)
			break;
		if (!tty) {
			sleep((unsigned int)interval);
			continue;
		}
		if (poll(&pfd, 1, (int)(interval * 1000)) > 0 && read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q'))
			break;
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	return rc;
}

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The capture file is written by vswd: make a relative path absolute. */
static void
absolute_capture_file(int argc, char **argv, int first)
{
	char cwd[PATH_MAX], *abs;
	int i, pos = 0;

	for (i = first; i < argc; i++) {
		if (strchr(argv[i], '=') != NULL)
			continue;
		pos++;
		if (pos == 1 || strcmp(argv[i], "rx") == 0 || strcmp(argv[i], "tx") == 0 ||
		    strcmp(argv[i], "both") == 0 || argv[i][0] == '/')
			continue;
		if (getcwd(cwd, sizeof(cwd)) == NULL || asprintf(&abs, "%s/%s", cwd, argv[i]) < 0)
			return;
		argv[i] = abs;
	}
}

/* Wait for the capture of a port to end (count, duration) or for Ctrl-C. */
static int
wait_capture(const char *ctl, const char *port, int timeout)
{
	char err[512];
	json_t *res, *c;
	size_t i;
	int rc;

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	fprintf(stderr, "capturing on %s; Ctrl-C to stop\n", port);
	for (;;) {
		if (interrupted) {
			rc = vsw_ctl_call(ctl, "capture-stop", json_pack("[s]", port), timeout * 1000,
					  &res, err, sizeof(err));
			if (rc != 0) {
				fprintf(stderr, "vswctl: %s\n", err);
				return EXIT_REFUSED;
			}
			printf("%lld frames written to %s (stopped)\n",
			       (long long)json_integer_value(json_object_get(res, "captured")),
			       json_string_value(json_object_get(res, "file")));
			json_decref(res);
			return 0;
		}
		rc = vsw_ctl_call(ctl, "capture-show", NULL, timeout * 1000, &res, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "vswctl: %s\n", err);
			return rc == VSW_CTL_CALL_REFUSED ? EXIT_REFUSED : EXIT_UNREACHABLE;
		}
		json_array_foreach(res, i, c) {
			if (strcmp(json_string_value(json_object_get(c, "port")), port) != 0 ||
			    json_is_true(json_object_get(c, "active")))
				continue;
			printf("%lld frames written to %s (%s)\n",
			       (long long)json_integer_value(json_object_get(c, "captured")),
			       json_string_value(json_object_get(c, "file")),
			       json_string_value(json_object_get(c, "ended")));
			json_decref(res);
			return 0;
		}
		json_decref(res);
		usleep(200 * 1000);
	}
}

static const char *
default_ctl(void)
{
	static char buf[4096];
	const char *s = getenv("VSW_CTL");

	if (s != NULL && *s != '\0')
		return s;
	s = getenv("VSW_RUNDIR");
	snprintf(buf, sizeof(buf), "%s/vswd.ctl", s != NULL && *s != '\0' ? s : "/run/vsw");
	return buf;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ctl = default_ctl(), *method;
	const struct vsw_cmd *cmd;
	json_t *params, *args, *res;
	int opt, i, timeout = 30, rc;
	bool json_out = false;
	char err[1024], *text;

	while ((opt = getopt_long(argc, argv, "+jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': ctl = optarg; break;
		case 'j': json_out = true; break;
		case 't': timeout = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	method = argv[optind];
	if (strcmp(method, "top") == 0)
		return cmd_top(ctl, argc - optind - 1, argv + optind + 1);
	if (strcmp(method, "help") == 0) {
		if (optind + 1 < argc) {
			cmd = vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, argv[optind + 1]);
			if (cmd == NULL) {
				fprintf(stderr, "vswctl: unknown command '%s'\n", argv[optind + 1]);
				return EXIT_USAGE;
			}
			printf("vswctl %s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
			return 0;
		}
		usage(stdout);
		return 0;
	}
	cmd = vsw_cmd_find(vsw_cmd_specs, vsw_cmd_n_specs, method);
	if (cmd == NULL) {
		fprintf(stderr, "vswctl: unknown command '%s' (try 'vswctl help')\n", method);
		return EXIT_USAGE;
	}
	if (strcmp(method, "capture") == 0)
		absolute_capture_file(argc, argv, optind + 1);
	params = json_array();
	for (i = optind + 1; i < argc; i++)
		json_array_append_new(params, json_string(argv[i]));
	if (vsw_cmd_args_normalize(cmd, params, &args, err, sizeof(err)) < 0) {
		fprintf(stderr, "vswctl: %s\n", err);
		json_decref(params);
		return EXIT_USAGE;
	}
	json_decref(args);

	rc = vsw_ctl_call(ctl, method, params, timeout * 1000, &res, err, sizeof(err));
	if (rc == VSW_CTL_CALL_REFUSED) {
		fprintf(stderr, "vswctl: %s\n", err);
		return EXIT_REFUSED;
	}
	if (rc != 0) {
		fprintf(stderr, "vswctl: %s\n", err);
		return EXIT_UNREACHABLE;
	}
	if (json_out) {
		text = json_dumps(res, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		printf("%s\n", text != NULL ? text : "null");
		free(text);
	} else if (strcmp(method, "capture") == 0) {
		rc = wait_capture(ctl, json_string_value(json_object_get(res, "port")), timeout);
		json_decref(res);
		return rc;
	} else {
		print_result(method, res);
	}
	json_decref(res);
	return 0;
}
