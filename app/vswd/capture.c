/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture to pcap files (libpcap), control-thread side.
 *
 * `capture PORT [rx|tx|both] FILE` sets the port's bits in
 * vsw_capture_flags; the PMDs then copy the port's frames (up to the snap
 * length, into a separate pool, so a capture can never starve traffic of
 * mbufs) onto vsw_capture_ring. The control thread drains the ring every
 * tick and writes the copies with pcap_dump(). A capture ends after
 * count= frames, after duration= seconds, on capture-stop, or when the port
 * is deleted. Ports that are not captured pay one byte read per burst.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "vsw_util.h"
#include "vsw_dp.h"
#include "vswd.h"

#define CAPTURE_MBUFS 8192
#define CAPTURE_RING 8192
#define SNAP_DEFAULT 65535

struct session {
	bool active;			/* Capturing. */
	uint8_t dir;			/* VSW_CAPTURE_* bits. */
	uint32_t snaplen;
	uint64_t limit;			/* Frames; 0 = no limit. */
	uint64_t captured;		/* Frames written. */
	uint64_t end_ms;		/* Stop time; 0 = none. */
	pcap_t *dead;
	pcap_dumper_t *dumper;
	char file[PATH_MAX];
	char port[VSW_NAME_MAX];
	char why[32];			/* Why it ended. */
};

static struct session sessions[VSW_MAX_PORTS];
static uint64_t base_tsc;
static struct timespec base_ts;
static uint64_t last_now_ms;


static int
capture_setup(char *err, size_t len)
{
	if (vsw_capture_ring != NULL)
		return 0;
	vsw_capture_pool = rte_pktmbuf_pool_create("vsw_capture", CAPTURE_MBUFS, 256, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (vsw_capture_pool == NULL)
		return vsw_errf(err, len, -ENOMEM, "cannot create the capture pool: %s",
			    rte_strerror(rte_errno));
	vsw_capture_ring = rte_ring_create_elem("vsw_capture", sizeof(struct vsw_capture_rec),
						CAPTURE_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (vsw_capture_ring == NULL)
		return vsw_errf(err, len, -ENOMEM, "cannot create the capture ring: %s",
			    rte_strerror(rte_errno));
	base_tsc = rte_get_tsc_cycles();
	clock_gettime(CLOCK_REALTIME, &base_ts);
	return 0;
}

static void
write_rec(struct session *s, const struct vsw_capture_rec *r)
{
	static uint8_t data[65536];
	struct pcap_pkthdr h;
	uint64_t ns, hz = rte_get_tsc_hz();
	const void *p;
	uint32_t n = RTE_MIN(r->m->pkt_len, (uint32_t)sizeof(data));

	p = rte_pktmbuf_read(r->m, 0, n, data);
	if (p == NULL)
		return;
	ns = (uint64_t)base_ts.tv_nsec + (r->tsc - base_tsc) / hz * 1000000000ULL +
	     (r->tsc - base_tsc) % hz * 1000000000ULL / hz;
	h.ts.tv_sec = base_ts.tv_sec + (time_t)(ns / 1000000000ULL);
	h.ts.tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000);
	h.caplen = n;
	h.len = r->orig_len;
	pcap_dump((u_char *)s->dumper, &h, p);
	s->captured++;
}

/* Stop copying; the records already queued are written by the next drain. */
static void
session_end(struct session *s, uint16_t slot, const char *why)
{
	atomic_store(&vsw_capture_flags[slot], 0);
	s->active = false;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static void
session_close(struct session *s)
{
	if (s->dumper != NULL) {
		pcap_dump_close(s->dumper);
		s->dumper = NULL;
	}
	if (s->dead != NULL) {
		pcap_close(s->dead);
		s->dead = NULL;
	}
}

static void
drain(void)
{
	/* static: the control thread is the only caller, and the analyzer
	 * cannot see the ring's element copy initialise a stack array */
	static struct vsw_capture_rec r[256];
	struct session *s;
	unsigned int n, i, rounds;

	if (vsw_capture_ring == NULL)
		return;
	for (rounds = 0; rounds < 32; rounds++) {
		n = rte_ring_sc_dequeue_burst_elem(vsw_capture_ring, r, sizeof(r[0]), RTE_DIM(r),
						   NULL);
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			s = &sessions[r[i].slot];
			if (s->dumper != NULL && (s->limit == 0 || s->captured < s->limit))
				write_rec(s, &r[i]);
			if (s->active && s->limit != 0 && s->captured >= s->limit)
				session_end(s, r[i].slot, "count reached");
			rte_pktmbuf_free(r[i].m);
		}
	}
}

void
vswd_capture_tick(uint64_t now_ms)
{
	unsigned int i;
	bool ended = false;

	last_now_ms = now_ms;
	drain();
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		struct session *s = &sessions[i];

		if (s->active && s->end_ms != 0 && now_ms >= s->end_ms) {
			session_end(s, (uint16_t)i, "duration reached");
			ended = true;
		}
		if (!s->active && s->dumper != NULL)
			ended = true;
	}
	if (!ended)
		return;
	/* Make sure no PMD still copies for an ended session, then flush it. */
	vsw_dp_sync();
	drain();
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (!sessions[i].active && sessions[i].dumper != NULL)
			session_close(&sessions[i]);
}

void
vswd_capture_port_gone(uint16_t slot)
{
	if (sessions[slot].active)
		session_end(&sessions[slot], slot, "port deleted");
	vsw_dp_sync();
	drain();
	session_close(&sessions[slot]);
	memset(&sessions[slot], 0, sizeof(sessions[slot]));
}

void
vswd_capture_shutdown(void)
{
	unsigned int i;

	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sessions[i].active)
			session_end(&sessions[i], (uint16_t)i, "vswd stopped");
	drain();
	for (i = 0; i < VSW_MAX_PORTS; i++)
		session_close(&sessions[i]);
}

static json_t *
session_json(const struct session *s)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:i,s:s}", "port", s->port, "file", s->file,
			 "direction", s->dir == (VSW_CAPTURE_RX | VSW_CAPTURE_TX) ? "both" :
			 s->dir == VSW_CAPTURE_RX ? "rx" : "tx", "active", s->active,
			 "captured", (json_int_t)s->captured, "limit", (json_int_t)s->limit,
			 "snaplen", s->snaplen, "ended", s->active ? "" : s->why);
}

int
vswd_cmd_capture(struct vsw_switch *sw, uint16_t slot, const char *port, json_t *args,
		 json_t **res, char *err, size_t len)
{
	const char *dir = vsw_args_str(args, "direction"), *file = vsw_args_str(args, "file");
	struct session *s = &sessions[slot];
	uint64_t count = 0, duration = 0, snap = SNAP_DEFAULT;
	struct stat st;
	uint8_t bits;
	int ret;

	(void)sw;
	if (file == NULL && dir != NULL && strcmp(dir, "rx") != 0 && strcmp(dir, "tx") != 0 &&
	    strcmp(dir, "both") != 0) {
		file = dir;		/* capture PORT FILE */
		dir = "both";
	}
	if (dir == NULL || file == NULL)
		return vsw_errf(err, len, -EINVAL, "usage: capture PORT [rx|tx|both] FILE.pcap");
	if (strcmp(dir, "rx") == 0)
		bits = VSW_CAPTURE_RX;
	else if (strcmp(dir, "tx") == 0)
		bits = VSW_CAPTURE_TX;
	else if (strcmp(dir, "both") == 0)
		bits = VSW_CAPTURE_RX | VSW_CAPTURE_TX;
	else
		return vsw_errf(err, len, -EINVAL, "direction must be rx, tx or both, not '%s'", dir);
	if (file[0] != '/')
		return vsw_errf(err, len, -EINVAL, "capture file must be an absolute path: %s", file);
	if (strlen(file) >= sizeof(s->file))
		return vsw_errf(err, len, -ENAMETOOLONG, "capture file path too long");
	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode))
		return vsw_errf(err, len, -EINVAL, "%s exists and is not a regular file", file);
	ret = vsw_args_uint(args, "count", 1, UINT32_MAX, &count, err, len);
	if (ret >= 0)
		ret = vsw_args_uint(args, "duration", 1, 86400, &duration, err, len);
	if (ret >= 0)
		ret = vsw_args_uint(args, "snaplen", 14, 65535, &snap, err, len);
	if (ret < 0)
		return ret;
	if (s->active)
		return vsw_errf(err, len, -EBUSY, "port %s is already being captured to %s", port,
			    s->file);
	ret = capture_setup(err, len);
	if (ret < 0)
		return ret;
	session_close(s);
	memset(s, 0, sizeof(*s));
	s->dead = pcap_open_dead(DLT_EN10MB, (int)snap);
	s->dumper = s->dead != NULL ? pcap_dump_open(s->dead, file) : NULL;
	if (s->dumper == NULL) {
		ret = vsw_errf(err, len, -EIO, "cannot write %s: %s", file,
			   s->dead != NULL ? pcap_geterr(s->dead) : "pcap_open_dead failed");
		session_close(s);
		return ret;
	}
	snprintf(s->file, sizeof(s->file), "%s", file);
	snprintf(s->port, sizeof(s->port), "%s", port);
	s->dir = bits;
	s->snaplen = (uint32_t)snap;
	s->limit = count;
	s->end_ms = duration != 0 ? last_now_ms + duration * 1000 : 0;
	s->active = true;
	atomic_store(&vsw_capture_snaplen[slot], (uint32_t)snap);
	atomic_store(&vsw_capture_flags[slot], bits);
	*res = session_json(s);
	return 0;
}

int
vswd_cmd_capture_stop(uint16_t slot, json_t **res)
{
	struct session *s = &sessions[slot];

	if (s->active)
		session_end(s, slot, "stopped");
	vsw_dp_sync();
	drain();
	*res = session_json(s);
	session_close(s);
	return 0;
}

json_t *
vswd_capture_json(uint16_t slot)
{
	const struct session *s = &sessions[slot];

	return s->port[0] != '\0' ? session_json(s) : NULL;
}
