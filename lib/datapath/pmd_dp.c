/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PMD loop and the per-burst switching function. Fast path: no locks,
 * no syscalls, no allocation, no logging.
 *
 * Per burst (VALE's two passes, VPP's learn/forward split):
 *  1. classify every frame (runt, invalid source, unicast, flood) and
 *     build the source and unicast destination keys;
 *  2. one bulk hash lookup for all of them (<= 64 keys);
 *  3. learn: refresh known sources, queue a request for new or moved ones;
 *  4. forward: append each frame to its output port's buffer, or to every
 *     other member's buffer (flood by reference count, no copy);
 *  5. one tx burst per output port; what the port refuses is freed and
 *     counted (tx_full or port_down), never leaked.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "vsw_dp.h"

#define PREFETCH_OFFSET 3
#define NO_DST 0xff

static inline uint64_t
key_of(const uint8_t *mac, uint16_t vlan)
{
	struct vsw_fdb_key k;
	uint64_t raw;

	k.vlan = vlan;
	memcpy(&k.mac, mac, RTE_ETHER_ADDR_LEN);
	memcpy(&raw, &k, sizeof(raw));
	return raw;
}

/* Copy frames for a capture; cold: runs only while a capture is on. */
static __rte_noinline void
capture(struct vsw_pmd *pmd, uint16_t slot, uint8_t dir, struct rte_mbuf **pkts, uint16_t n)
{
	struct vsw_capture_rec rec[VSW_BURST];
	uint32_t snap = atomic_load_explicit(&vsw_capture_snaplen[slot], memory_order_relaxed);
	uint64_t tsc = rte_rdtsc();
	unsigned int i, k = 0, q;
	struct rte_mbuf *c;

	for (i = 0; i < n && i < VSW_BURST; i++) {
		c = rte_pktmbuf_copy(pkts[i], vsw_capture_pool, 0, snap);
		if (c == NULL) {
			pmd->capture_lost++;
			continue;
		}
		rec[k].m = c;
		rec[k].tsc = tsc;
		rec[k].orig_len = pkts[i]->pkt_len;
		rec[k].slot = slot;
		rec[k].dir = dir;
		rec[k].pad = 0;
		k++;
	}
	q = rte_ring_mp_enqueue_burst_elem(vsw_capture_ring, rec, sizeof(rec[0]), k, NULL);
	for (i = q; i < k; i++)
		rte_pktmbuf_free(rec[i].m);
	pmd->capture_lost += k - q;
}

static inline void
tx_enqueue(struct vsw_pmd *pmd, uint16_t slot, struct rte_mbuf *m)
{
	uint16_t c = pmd->txcnt[slot];

	if (c == 0)
		pmd->touched[pmd->n_touched++] = slot;
	pmd->txbuf[slot][c] = m;
	pmd->txcnt[slot] = c + 1;
}

/* Drop (and count) frames longer than the output port allows. */
static inline uint16_t
drop_oversize(struct rte_mbuf **bufs, uint16_t cnt, uint32_t max_len, struct vsw_port_ctrs *oc)
{
	uint16_t i, k;

	for (i = 0; i < cnt; i++)
		if (unlikely(bufs[i]->pkt_len > max_len))
			break;
	if (likely(i == cnt))
		return cnt;
	for (k = i; i < cnt; i++) {
		if (bufs[i]->pkt_len > max_len) {
			rte_pktmbuf_free(bufs[i]);
			oc->drops[VSW_DROP_MTU_EXCEEDED]++;
		} else {
			bufs[k++] = bufs[i];
		}
	}
	return k;
}

static inline void
tx_flush(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf)
{
	struct vsw_port_ctrs *oc;
	struct rte_mbuf **bufs;
	uint16_t t, i, slot, cnt, sent;
	uint64_t bytes;

	for (t = 0; t < pmd->n_touched; t++) {
		slot = pmd->touched[t];
		cnt = pmd->txcnt[slot];
		bufs = pmd->txbuf[slot];
		oc = &pmd->ctrs[slot];
		pmd->txcnt[slot] = 0;
		if (unlikely(atomic_load_explicit(&vsw_port_up[slot], memory_order_relaxed) == 0)) {
			rte_pktmbuf_free_bulk(bufs, cnt);
			oc->drops[VSW_DROP_PORT_DOWN] += cnt;
			continue;
		}
		cnt = drop_oversize(bufs, cnt, conf->ports[slot].max_len, oc);
		if (unlikely(atomic_load_explicit(&vsw_capture_flags[slot], memory_order_relaxed) &
			     VSW_CAPTURE_TX))
			capture(pmd, slot, VSW_CAPTURE_TX, bufs, cnt);
		bytes = 0;
		for (i = 0; i < cnt; i++)
			bytes += bufs[i]->pkt_len;
		sent = rte_eth_tx_burst(conf->ports[slot].eth_port, (uint16_t)pmd->idx, bufs, cnt);
		if (unlikely(sent < cnt)) {
			for (i = sent; i < cnt; i++)
				bytes -= bufs[i]->pkt_len;
			rte_pktmbuf_free_bulk(&bufs[sent], cnt - sent);
			oc->drops[VSW_DROP_TX_FULL] += cnt - sent;
		}
		oc->tx_pkts += sent;
		oc->tx_bytes += bytes;
	}
	pmd->n_touched = 0;
}

static inline void
flood(struct vsw_pmd *pmd, const struct vsw_dp_bridge *br, uint16_t in_slot,
      struct vsw_port_ctrs *ic, struct rte_mbuf *m)
{
	uint16_t i, n_out = 0;

	for (i = 0; i < br->n_ports; i++)
		n_out += br->ports[i] != in_slot;
	if (unlikely(n_out == 0)) {
		rte_pktmbuf_free(m);
		ic->drops[VSW_DROP_NO_DEST]++;
		return;
	}
	if (n_out > 1)
		rte_pktmbuf_refcnt_update(m, (int16_t)(n_out - 1));	/* every segment */
	for (i = 0; i < br->n_ports; i++)
		if (br->ports[i] != in_slot)
			tx_enqueue(pmd, br->ports[i], m);
}

void
vsw_dp_process(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t in_slot,
	       struct rte_mbuf **pkts, uint16_t n)
{
	const struct vsw_dp_port *inp = &conf->ports[in_slot];
	const struct vsw_dp_bridge *br = conf->bridges[inp->bridge];
	struct vsw_port_ctrs *ic = &pmd->ctrs[in_slot];
	uint64_t keys[2 * VSW_BURST];	/* Distinct keys to look up. */
	uint64_t data[2 * VSW_BURST];	/* Their lookup results. */
	const void *kp[2 * VSW_BURST];
	struct rte_mbuf *ok[VSW_BURST];
	uint8_t sidx[VSW_BURST];	/* Frame -> index of its source key. */
	uint8_t didx[VSW_BURST];	/* Frame -> index of its destination key, or NO_DST. */
	struct vsw_learn_req req[VSW_BURST];
	uint16_t i, n_ok = 0, n_keys = 0, n_req = 0, out;
	uint64_t hits, done = 0, refused = 0, rx_bytes = 0, sk, dk;
	uint64_t last_sk = UINT64_MAX, last_dk = UINT64_MAX;
	uint8_t last_si = 0, last_di = 0, k;
	const struct vsw_fdb *fdb;
	uint32_t now = vsw_now();
	const uint8_t *d;
	struct rte_mbuf *m;

	for (i = 0; i < n && i < PREFETCH_OFFSET; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	ic->rx_pkts += n;
	if (unlikely(atomic_load_explicit(&vsw_capture_flags[in_slot], memory_order_relaxed) &
		     VSW_CAPTURE_RX))
		capture(pmd, in_slot, VSW_CAPTURE_RX, pkts, n);
	if (unlikely(br == NULL)) {
		for (i = 0; i < n; i++)
			rx_bytes += pkts[i]->pkt_len;
		ic->rx_bytes += rx_bytes;
		rte_pktmbuf_free_bulk(pkts, n);
		ic->drops[VSW_DROP_NO_DEST] += n;
		return;
	}
	fdb = br->fdb;

	/*
	 * 1. Classify and collect keys. Runs of frames with the same source
	 * (or destination) share one key, as VPP's cached key and VALE's
	 * last_smac do: a bulk flow costs one lookup per burst, not per frame.
	 */
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_OFFSET < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET], void *));
		m = pkts[i];
		rx_bytes += m->pkt_len;
		d = rte_pktmbuf_mtod(m, const uint8_t *);
		switch (vsw_frame_classify(d, m->data_len)) {
		case VSW_FRAME_UNICAST:
			dk = key_of(d, 0);
			if (dk != last_dk) {
				last_dk = dk;
				last_di = (uint8_t)n_keys;
				keys[n_keys++] = dk;
			}
			didx[n_ok] = last_di;
			break;
		case VSW_FRAME_FLOOD:
			didx[n_ok] = NO_DST;
			break;
		case VSW_FRAME_RUNT:
			rte_pktmbuf_free(m);
			ic->drops[VSW_DROP_RUNT]++;
			continue;
		default:
			rte_pktmbuf_free(m);
			ic->drops[VSW_DROP_INVALID_SRC]++;
			continue;
		}
		sk = key_of(d + RTE_ETHER_ADDR_LEN, 0);
		if (sk != last_sk) {
			last_sk = sk;
			last_si = (uint8_t)n_keys;
			keys[n_keys++] = sk;
		}
		sidx[n_ok] = last_si;
		ok[n_ok++] = m;
	}
	ic->rx_bytes += rx_bytes;
	if (unlikely(n_ok == 0))
		return;

	/* 2. One bulk lookup of every distinct key (<= 64). */
	for (i = 0; i < n_keys; i++)
		kp[i] = &keys[i];
	hits = vsw_fdb_lookup_bulk(fdb, kp, n_keys, data);

	/* 3. Learn, once per distinct source key. */
	for (i = 0; i < n_ok; i++) {
		k = sidx[i];
		if ((done >> k) & 1) {
			if (unlikely((refused >> k) & 1)) {
				rte_pktmbuf_free(ok[i]);
				ok[i] = NULL;
				ic->drops[VSW_DROP_LEARN_LIMIT]++;
			}
			continue;
		}
		done |= UINT64_C(1) << k;
		if (likely((hits >> k) & 1) && vsw_fdb_data_port(data[k]) == in_slot) {
			vsw_fdb_touch(fdb, data[k], now);
			continue;
		}
		if (!((hits >> k) & 1) && unlikely(vsw_fdb_port_full(fdb, in_slot))) {
			refused |= UINT64_C(1) << k;
			rte_pktmbuf_free(ok[i]);
			ok[i] = NULL;
			ic->drops[VSW_DROP_LEARN_LIMIT]++;
			continue;
		}
		if (keys[k] == pmd->last_learn_key && in_slot == pmd->last_learn_slot &&
		    now == pmd->last_learn_sec)
			continue;
		pmd->last_learn_key = keys[k];
		pmd->last_learn_slot = in_slot;
		pmd->last_learn_sec = now;
		memcpy(&req[n_req].key, &keys[k], sizeof(req[n_req].key));
		req[n_req].slot = in_slot;
		req[n_req].bridge = inp->bridge;
		req[n_req].gen = inp->gen;
		req[n_req].pad = 0;
		n_req++;
	}
	if (n_req != 0) {
		unsigned int q = rte_ring_mp_enqueue_burst_elem(vsw_dp_learn_ring, req,
								sizeof(req[0]), n_req, NULL);
		pmd->learn_ring_full += n_req - q;
	}

	/* 4. Forward. */
	for (i = 0; i < n_ok; i++) {
		m = ok[i];
		if (m == NULL)
			continue;
		k = didx[i];
		if (k != NO_DST && ((hits >> k) & 1)) {
			out = vsw_fdb_data_port(data[k]);
			if (unlikely(out == in_slot)) {
				rte_pktmbuf_free(m);
				ic->drops[VSW_DROP_SAME_PORT]++;
				continue;
			}
			if (likely(out < VSW_MAX_PORTS && conf->ports[out].valid &&
				   conf->ports[out].bridge == inp->bridge)) {
				tx_enqueue(pmd, out, m);
				continue;
			}
		}
		flood(pmd, br, in_slot, ic, m);
	}

	/* 5. One tx burst per output port. */
	tx_flush(pmd, conf);
}

/*
 * Idle back-off (cold path: only after VSW_IDLE_ITERS empty iterations,
 * and only when --pmd-sleep-max is set). Offline for QSBR while asleep, so
 * a configuration change never waits for a sleeping PMD.
 */
static __rte_noinline void
idle_sleep(struct vsw_pmd *pmd, uint32_t *sleep_us, uint32_t max_us)
{
	struct timespec ts;
	uint64_t t0;

	*sleep_us = *sleep_us == 0 ? 1 : RTE_MIN(*sleep_us * 2, max_us);
	ts.tv_sec = 0;
	ts.tv_nsec = (long)*sleep_us * 1000;
	rte_rcu_qsbr_thread_offline(vsw_qsbr, pmd->idx);
	t0 = rte_rdtsc();
	nanosleep(&ts, NULL);
	pmd->idle_cycles += rte_rdtsc() - t0;
	pmd->sleeps++;
	rte_rcu_qsbr_thread_online(vsw_qsbr, pmd->idx);
}

/* Burst size -> histogram bucket (see VSW_BURST_BUCKETS). */
static const uint8_t burst_bucket[VSW_BURST + 1] = {
	0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5,
};

int
vsw_pmd_main(void *arg)
{
	struct vsw_pmd *pmd = arg;
	struct rte_mbuf *pkts[VSW_BURST];
	const struct vsw_dp_conf *conf;
	const struct vsw_dp_poll *poll;
	const struct vsw_dp_rxq *q;
	uint32_t idle_iters = 0, sleep_us = 0, max_us;
	uint64_t prev, now;
	uint16_t i, n, got;

	rte_rcu_qsbr_thread_online(vsw_qsbr, pmd->idx);
	prev = rte_rdtsc();
	while (!atomic_load_explicit(&pmd->quit, memory_order_relaxed)) {
		conf = atomic_load_explicit(&vsw_dp_cur, memory_order_acquire);
		if (unlikely(conf == NULL || conf->poll[pmd->idx].n_rxq == 0)) {
			rte_rcu_qsbr_quiescent(vsw_qsbr, pmd->idx);
			rte_pause();
			now = rte_rdtsc();
			pmd->idle_cycles += now - prev;
			prev = now;
			max_us = atomic_load_explicit(&vsw_pmd_sleep_max_us, memory_order_relaxed);
			if (max_us != 0 && ++idle_iters >= VSW_IDLE_ITERS) {
				idle_sleep(pmd, &sleep_us, max_us);
				prev = rte_rdtsc();
			}
			continue;
		}
		poll = &conf->poll[pmd->idx];
		got = 0;
		for (i = 0; i < poll->n_rxq; i++) {
			q = &poll->rxq[i];
			n = rte_eth_rx_burst(q->eth_port, q->queue, pkts, VSW_BURST);
			if (n != 0) {
				got = 1;
				pmd->burst_hist[burst_bucket[n]]++;
				vsw_dp_process(pmd, conf, q->slot, pkts, n);
				now = rte_rdtsc();
				pmd->busy_cycles += now - prev;
				pmd->packets += n;
				pmd->rxq[q->slot][q->queue].pkts += n;
				pmd->rxq[q->slot][q->queue].cycles += now - prev;
			} else {
				now = rte_rdtsc();
				pmd->idle_cycles += now - prev;
			}
			prev = now;
		}
		pmd->iterations++;
		rte_rcu_qsbr_quiescent(vsw_qsbr, pmd->idx);
		if (likely(got != 0)) {
			idle_iters = 0;
			sleep_us = 0;
			continue;
		}
		max_us = atomic_load_explicit(&vsw_pmd_sleep_max_us, memory_order_relaxed);
		if (likely(max_us == 0) || ++idle_iters < VSW_IDLE_ITERS)
			continue;
		idle_sleep(pmd, &sleep_us, max_us);
		prev = rte_rdtsc();	/* The sleep was counted as idle. */
	}
	rte_rcu_qsbr_thread_offline(vsw_qsbr, pmd->idx);
	return 0;
}
