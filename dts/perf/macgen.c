/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vsw-macgen: a many-MAC traffic generator for the MAC-scale benchmark.
 *
 * testpmd sends from one MAC per port; a learning switch's table is only
 * stressed when frames come from, and go to, many MACs. vsw-macgen drives
 * two ports (normally net_virtio_user on two vhost-user ports of the switch
 * under test):
 *
 *   port 0 sends  src A[i] -> dst B[i]      A[i] = 02:00:00:ii:ii:ii
 *   port 1 sends  src B[i] -> dst A[i]      B[i] = 06:00:00:ii:ii:ii
 *
 * for i cycling over --macs N. It first sends every source once from its
 * port (--learn-pps, so the switch can learn them), waits --settle seconds,
 * then sends open loop for --seconds and counts what comes back on both
 * ports. It prints one JSON line: offered and received frames, Mpps, and
 * how many received frames were misdelivered (arrived on the wrong port).
 *
 * With --rate PPS it paces the offered load (both ports together) instead
 * of sending open loop, for zero-loss searches. Every frame carries its
 * send time (TSC) after the ethertype; frames that come back give the
 * latency (min, median, p99, max in microseconds, over a sample of up to
 * 1M frames). After the sending window it waits --drain seconds for frames
 * still in flight, so `lost` = sent - received is exact.
 *
 * Usage: vsw-macgen EAL-ARGS -- [--macs N] [--size BYTES] [--seconds S]
 *                                 [--learn-pps N] [--settle S] [--no-learn]
 *                                 [--rate PPS] [--drain S]
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define BURST 32
#define NB_MBUF 16384
#define LAT_MAX (1u << 20)	/* Latency samples kept. */
#define TS_OFF 14		/* Send TSC, right after the ethertype. */

struct opts {
	uint32_t macs;
	uint32_t size;
	double seconds;
	uint64_t learn_pps;
	double settle;
	bool learn;
	uint64_t rate;
	double drain;
};

static volatile bool quit;
static struct rte_mempool *pool;
static uint64_t *lat;		/* TSC deltas sampled. */
static uint32_t n_lat;
static bool measuring;		/* Sample latency now. */

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void
set_mac(uint8_t *p, uint8_t side, uint32_t i)
{
	p[0] = side;
	p[1] = 0;
	p[2] = 0;
	p[3] = (uint8_t)(i >> 16);
	p[4] = (uint8_t)(i >> 8);
	p[5] = (uint8_t)i;
}

/* Fill n mbufs for port p (0 or 1) starting at MAC index *i. */
static uint16_t
build(uint16_t p, struct rte_mbuf **m, uint16_t n, uint32_t *i, const struct opts *o)
{
	uint8_t *d;
	uint16_t k;

	if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
		return 0;
	for (k = 0; k < n; k++) {
		d = rte_pktmbuf_mtod(m[k], uint8_t *);
		set_mac(d, p == 0 ? 0x06 : 0x02, *i);		/* dst: the other side */
		set_mac(d + 6, p == 0 ? 0x02 : 0x06, *i);	/* src: this side */
		d[12] = 0x88;					/* local experimental */
		d[13] = 0xb5;
		memset(d + 14, 0, 16);
		m[k]->data_len = (uint16_t)o->size;
		m[k]->pkt_len = o->size;
		if (++*i >= o->macs)
			*i = 0;
	}
	return n;
}

static uint64_t
send_all(uint16_t p, struct rte_mbuf **m, uint16_t n)
{
	uint64_t now = measuring ? rte_rdtsc() : 0;
	uint16_t s, k;

	for (k = 0; k < n; k++)
		memcpy(rte_pktmbuf_mtod_offset(m[k], uint8_t *, TS_OFF), &now, sizeof(now));
	s = rte_eth_tx_burst(p, 0, m, n);

	if (s < n)
		rte_pktmbuf_free_bulk(&m[s], n - s);
	return s;
}

/* Receive on port p; count frames whose source belongs to the other side. */
static uint64_t
drain(uint16_t p, uint64_t *wrong)
{
	struct rte_mbuf *m[BURST];
	uint16_t n, k;
	uint8_t want = p == 0 ? 0x06 : 0x02;

	n = rte_eth_rx_burst(p, 0, m, BURST);
	uint64_t now = rte_rdtsc(), ts;

	for (k = 0; k < n; k++) {
		const uint8_t *d = rte_pktmbuf_mtod(m[k], const uint8_t *);

		if (d[6] != want)
			(*wrong)++;
		if (measuring && n_lat < LAT_MAX) {
			memcpy(&ts, d + TS_OFF, sizeof(ts));
			if (ts != 0 && ts < now)
				lat[n_lat++] = now - ts;
		}
	}
	if (n)
		rte_pktmbuf_free_bulk(m, n);
	return n;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
port_init(uint16_t p)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(p, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(p, 0, 1024, rte_eth_dev_socket_id(p), NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(p, 0, 1024, rte_eth_dev_socket_id(p), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(p);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "macs", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "learn-pps", required_argument, NULL, 'l' },
		{ "settle", required_argument, NULL, 'w' },
		{ "no-learn", no_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "drain", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 2, 64, 5.0, 500000, 2.0, true, 0, 0.5 };
	struct rte_mbuf *m[BURST];
	uint64_t tx[2] = { 0, 0 }, rx[2] = { 0, 0 }, wrong = 0, hz, t0, t1, end, gap, next, rx_win;
	uint32_t i_med, i_p99;
	double us;
	uint32_t idx[2] = { 0, 0 }, sent;
	uint16_t p, n;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vsw-macgen: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'm': o.macs = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': o.size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': o.seconds = atof(optarg); break;
		case 'l': o.learn_pps = strtoull(optarg, NULL, 10); break;
		case 'w': o.settle = atof(optarg); break;
		case 'n': o.learn = false; break;
		case 'r': o.rate = strtoull(optarg, NULL, 10); break;
		case 'd': o.drain = atof(optarg); break;
		default: fprintf(stderr, "vsw-macgen: bad option\n"); return 2;
		}
	}
	if (o.macs < 1 || o.macs > (1u << 24) || o.size < 60 || o.size > 1518 ||
	    rte_eth_dev_count_avail() < 2) {
		fprintf(stderr, "vsw-macgen: need --macs 1..16M, --size 60..1518 and 2 ports\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lat = calloc(LAT_MAX, sizeof(*lat));
	if (lat == NULL)
		return 1;
	pool = rte_pktmbuf_pool_create("macgen", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "vsw-macgen: no mbuf pool\n");
		return 1;
	}
	for (p = 0; p < 2; p++) {
		if (port_init(p) != 0) {
			fprintf(stderr, "vsw-macgen: port %u init failed\n", p);
			return 1;
		}
	}
	hz = rte_get_tsc_hz();
	/* Wait for both links (the vhost side must be connected). */
	for (end = rte_get_tsc_cycles() + 10 * hz; rte_get_tsc_cycles() < end && !quit;) {
		struct rte_eth_link l0, l1;

		rte_eth_link_get_nowait(0, &l0);
		rte_eth_link_get_nowait(1, &l1);
		if (l0.link_status && l1.link_status)
			break;
		rte_delay_ms(10);
	}
	if (o.learn) {
		/* Every source once from its own port, paced. */
		gap = hz * BURST / (o.learn_pps ? o.learn_pps : 1);
		for (sent = 0; sent < o.macs && !quit; sent += BURST) {
			n = (uint16_t)RTE_MIN((uint32_t)BURST, o.macs - sent);
			for (p = 0; p < 2; p++) {
				uint16_t b = build(p, m, n, &idx[p], &o);

				send_all(p, m, b);
				drain(p, &wrong);
			}
			t0 = rte_get_tsc_cycles();
			while (rte_get_tsc_cycles() - t0 < gap)
				for (p = 0; p < 2; p++)
					drain(p, &wrong);
		}
		for (end = rte_get_tsc_cycles() + (uint64_t)(o.settle * (double)hz);
		     rte_get_tsc_cycles() < end;)
			for (p = 0; p < 2; p++)
				drain(p, &wrong);
	}
	idx[0] = 0;
	idx[1] = o.macs / 2;	/* The two directions use different MAC pairs at a time. */
	wrong = 0;
	measuring = true;
	t0 = rte_get_tsc_cycles();
	end = t0 + (uint64_t)(o.seconds * (double)hz);
	/* Paced: one burst per port every `gap` cycles. */
	gap = o.rate ? (uint64_t)((double)hz * 2 * BURST / (double)o.rate) : 0;
	next = t0;
	while (!quit && rte_get_tsc_cycles() < end) {
		if (gap == 0 || rte_get_tsc_cycles() >= next) {
			for (p = 0; p < 2; p++) {
				n = build(p, m, BURST, &idx[p], &o);
				tx[p] += send_all(p, m, n);
			}
			next += gap;
		}
		for (p = 0; p < 2; p++)
			rx[p] += drain(p, &wrong);
	}
	t1 = rte_get_tsc_cycles();
	rx_win = rx[0] + rx[1];
	/* Frames in flight at the end: wait for them, for an exact loss. */
	for (end = t1 + (uint64_t)(o.drain * (double)hz); rte_get_tsc_cycles() < end;)
		for (p = 0; p < 2; p++)
			rx[p] += drain(p, &wrong);
	qsort(lat, n_lat, sizeof(*lat), cmp_u64);
	us = 1e6 / (double)hz;
	i_med = n_lat / 2;
	i_p99 = (uint32_t)((uint64_t)n_lat * 99 / 100);
	printf("{\"macs\": %u, \"size\": %u, \"seconds\": %.3f, \"tx\": %" PRIu64
	       ", \"rx\": %" PRIu64 ", \"lost\": %" PRId64 ", \"rx_mpps\": %.4f, "
	       "\"tx_mpps\": %.4f, \"rate\": %" PRIu64 ", \"misdelivered\": %" PRIu64 ", "
	       "\"lat_samples\": %u, \"lat_min_us\": %.2f, \"lat_median_us\": %.2f, "
	       "\"lat_p99_us\": %.2f, \"lat_max_us\": %.2f}\n",
	       o.macs, o.size, (double)(t1 - t0) / (double)hz, tx[0] + tx[1], rx[0] + rx[1],
	       (int64_t)(tx[0] + tx[1]) - (int64_t)(rx[0] + rx[1]),
	       (double)rx_win / ((double)(t1 - t0) / (double)hz) / 1e6,
	       (double)(tx[0] + tx[1]) / ((double)(t1 - t0) / (double)hz) / 1e6, o.rate, wrong,
	       n_lat, n_lat ? (double)lat[0] * us : 0, n_lat ? (double)lat[i_med] * us : 0,
	       n_lat ? (double)lat[i_p99] * us : 0,
	       n_lat ? (double)lat[n_lat - 1] * us : 0);
	fflush(stdout);
	for (p = 0; p < 2; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return 0;
}
