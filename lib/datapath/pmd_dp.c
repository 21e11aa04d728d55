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
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_meter.h>
#include <rte_net.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vhost.h>

#include "vsw_dp.h"

#define PREFETCH_OFFSET 3
#define NO_DST (2 * VSW_BURST)	/* didx[] of a frame with no destination key. */
#define KOUT_FLOOD 0xffff	/* Destination unknown, or not a port that can send. */
#define KOUT_SAME 0xfffe	/* Destination is the input port. */

/* A result deliberately ignored (a failed read of an eventfd changes nothing). */
static inline void
pmd_noop(void)
{
}

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

/*
 * The learning-table keys (struct vsw_fdb_key as a u64, VLAN 0) of a
 * frame's destination and source MACs; the frame has >= 14 bytes.
 */
static inline void
frame_keys(const uint8_t *d, uint64_t *dk, uint64_t *sk)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint64_t a, b;

	/* Key bytes 2-7 are the MAC: frame bytes 0-5 and 6-11. */
	memcpy(&a, d, sizeof(a));
	memcpy(&b, d + 4, sizeof(b));
	*dk = a << 16;
	*sk = b & ~UINT64_C(0xffff);
#else
	*dk = key_of(d, 0);
	*sk = key_of(d + RTE_ETHER_ADDR_LEN, 0);
#endif
}

/*
 * The VLAN part of a key, and the group (multicast/broadcast) bit of its
 * MAC, as plain integers: built through a struct on the stack (key_of),
 * they cost a failed store-to-load forward each (three stores, one 8-byte
 * load), about 30 % of the burst function's samples (docs/performance.md).
 */
static_assert(offsetof(struct vsw_fdb_key, mac) == 2, "key: VLAN in bytes 0-1, then the MAC");

#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
/* Key bytes 0-1 are the VLAN, byte 2 the MAC's first byte. */
#define KEY_GROUP_BIT (UINT64_C(1) << 16)

static inline uint64_t
key_vlan(uint16_t vlan)
{
	return vlan;
}
#else
#define KEY_GROUP_BIT key_of((const uint8_t *)"\1\0\0\0\0\0", 0)

static inline uint64_t
key_vlan(uint16_t vlan)
{
	return key_of((const uint8_t *)"\0\0\0\0\0\0", vlan);
}
#endif

static inline bool
key_group(uint64_t k)
{
	return (k & KEY_GROUP_BIT) != 0;
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

	vsw_lazy_fill_bulk(pkts, n);	/* The copy reads the whole frame. */
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

/* The rings a walked guest's next walk touches (vsw_vring_prefetch()). */
static inline void
vring_prefetch(uint16_t slot, uint16_t vq, bool dest)
{
	int32_t vid = atomic_load_explicit(&vsw_port_vid[slot], memory_order_acquire);

	if (vid >= 0 && (vid & VSW_VID_WALKED))
		vsw_vring_prefetch(atomic_load_explicit(&vsw_port_vdev[slot], memory_order_relaxed),
				   vq, dest);
}

static inline void
tx_enqueue(struct vsw_pmd *pmd, uint16_t slot, struct rte_mbuf *m)
{
	uint16_t c = pmd->txcnt[slot];

	if (c == 0) {
		pmd->touched[pmd->n_touched++] = slot;
		/* Its guest's receive ring, while the rest of the burst is sorted. */
		vring_prefetch(slot, VSW_VQ_GUEST_RX(pmd->idx), true);
	}
	pmd->txbuf[slot][c] = m;
	pmd->txcnt[slot] = c + 1;
}

/*
 * Drop (and count) the frames longer than the output port allows (the
 * caller has seen that some are); the rest keep their order. Returns how
 * many are kept and takes the dropped ones' bytes off *bytes. Cold.
 */
static __rte_noinline uint16_t
drop_oversize(struct rte_mbuf **bufs, uint16_t cnt, uint32_t max_len, struct vsw_port_ctrs *oc,
	      uint64_t *bytes)
{
	uint16_t i, k = 0;

	const uint64_t tso = vsw_csum_partial | RTE_MBUF_F_TX_TCP_SEG;

	for (i = 0; i < cnt; i++) {
		/* A TSO frame leaves whole to a guest that takes it, or in segments. */
		if (bufs[i]->pkt_len > max_len && (bufs[i]->ol_flags & tso) != tso) {
			*bytes -= bufs[i]->pkt_len;
			rte_pktmbuf_free(bufs[i]);
			oc->drops[VSW_DROP_MTU_EXCEEDED]++;
		} else {
			bufs[k++] = bufs[i];
		}
	}
	return k;
}

/* True when guest (VSW_GUEST_* bits) takes TSO frame m whole. */
static inline bool
tso_passes(const struct rte_mbuf *m, uint8_t guest)
{
	const uint8_t need = VSW_GUEST_CSUM | ((m->ol_flags & RTE_MBUF_F_TX_IPV4) ?
					       VSW_GUEST_TSO4 : VSW_GUEST_TSO6);

	return (guest & need) == need;
}

/*
 * Frames with a partial checksum (csum.c) leaving a port. A guest that
 * takes them gets them as they are (rte_vhost needs the L2 length as the
 * frame now is: VLAN tags may have come or gone); elsewhere the sum is
 * completed first. TSO frames go whole to a guest that takes them; the
 * count of those that must be cut into segments is returned. Cold: only
 * bursts holding such frames come here.
 */
static __rte_noinline uint16_t
csum_out(struct vsw_port_ctrs *oc, struct rte_mbuf **bufs, uint16_t cnt, uint8_t guest)
{
	struct rte_mbuf *m;
	uint16_t i, cut = 0;

	for (i = 0; i < cnt; i++) {
		m = bufs[i];
		if (!(m->ol_flags & vsw_csum_partial))
			continue;
		if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
			if (tso_passes(m, guest)) {
				m->l2_len = vsw_csum_l2_len(m);
				oc->events[VSW_EV_TSO_PASSED]++;
			} else {
				cut++;
			}
		} else if (guest & VSW_GUEST_CSUM) {
			m->l2_len = vsw_csum_l2_len(m);
			oc->events[VSW_EV_CSUM_PASSED]++;
		} else {
			vsw_csum_fill(m);
			oc->events[VSW_EV_CSUM_FILLED]++;
		}
	}
	return cut;
}

/*
 * Hand checked frames to a port; what it refuses is freed and counted.
 * vid: the guest's id for a vhost-user port, read once per burst (and
 * known to be valid: tx_send_bufs() drops the burst of a detached guest).
 */
/* Frames a guest's malformed buffers refused (bits of mask): count, bytes off. Cold. */
static __rte_noinline uint32_t
tx_bad(struct rte_mbuf **bufs, uint64_t mask, uint64_t *bytes)
{
	uint32_t n = 0;

	while (mask != 0) {
		*bytes -= bufs[__builtin_ctzll(mask)]->pkt_len;
		mask &= mask - 1;
		n++;
	}
	return n;
}

static inline void
tx_out(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot, int32_t vid,
       struct rte_mbuf **bufs, uint16_t cnt, uint64_t bytes)
{
	struct vsw_port_ctrs *oc = &pmd->ctrs[slot];
	uint32_t bad = 0;
	uint16_t i, sent;

	if (conf->ports[slot].vhost) {
		/* Copied into the guest's buffers; every mbuf is ours to free. */
		if (likely(vid & VSW_VID_WALKED)) {
			struct vsw_vring_err e = { 0 };

			sent = vsw_vring_tx(atomic_load_explicit(&vsw_port_vdev[slot],
								 memory_order_relaxed),
					    VSW_VQ_GUEST_RX(pmd->idx), bufs, cnt, &e);
			if (unlikely(e.bad != 0)) {
				bad = tx_bad(bufs, e.bad_mask, &bytes);
				oc->drops[VSW_DROP_GUEST_DESC] += bad + e.insane;
			}
		} else {
			vsw_lazy_fill_bulk(bufs, cnt);
			sent = rte_vhost_enqueue_burst(vid, VSW_VQ_GUEST_RX(pmd->idx), bufs, cnt);
		}
		if (unlikely(sent < cnt)) {
			for (i = sent; i < cnt; i++)
				bytes -= bufs[i]->pkt_len;
			oc->drops[VSW_DROP_TX_FULL] += cnt - sent;
		}
		rte_pktmbuf_free_bulk(bufs, cnt);
	} else {
		/* The device may read them after this burst: they must be whole. */
		vsw_lazy_fill_bulk(bufs, cnt);
		sent = rte_eth_tx_burst(conf->ports[slot].eth_port, (uint16_t)pmd->idx, bufs, cnt);
		if (unlikely(sent < cnt)) {
			for (i = sent; i < cnt; i++)
				bytes -= bufs[i]->pkt_len;
			rte_pktmbuf_free_bulk(&bufs[sent], cnt - sent);
			oc->drops[VSW_DROP_TX_FULL] += cnt - sent;
		}
	}
	oc->tx_pkts += sent - bad;
	oc->tx_bytes += bytes;
}

/* Room for a burst of segments; a frame with more is cut in several calls. */
#define GSO_OUT (2 * VSW_BURST)

/* tx_out() of out[0..k) in bursts of at most VSW_BURST. */
static void
tx_out_chunks(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot, int32_t vid,
	      struct rte_mbuf **out, uint16_t k)
{
	uint16_t j, c, x;
	uint64_t bytes;

	for (j = 0; j < k; j = (uint16_t)(j + c)) {
		c = RTE_MIN((uint16_t)(k - j), (uint16_t)VSW_BURST);
		bytes = 0;
		for (x = 0; x < c; x++)
			bytes += out[j + x]->pkt_len;
		tx_out(pmd, conf, slot, vid, &out[j], c, bytes);
	}
}

/*
 * A burst holding TSO frames for a port that cannot take them: each is cut
 * into segments (csum.c) that take its place, in order; the rest leave as
 * they are. tx counts the segments (with their copied headers). Cold.
 */
static __rte_noinline void
tx_gso(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot, int32_t vid,
       uint8_t guest, struct rte_mbuf **bufs, uint16_t cnt)
{
	const uint64_t tso = vsw_csum_partial | RTE_MBUF_F_TX_TCP_SEG;
	struct vsw_port_ctrs *oc = &pmd->ctrs[slot];
	struct rte_mbuf *out[GSO_OUT], *m;
	uint16_t i, k = 0;
	uint32_t pos;
	int r;

	for (i = 0; i < cnt; i++) {
		m = bufs[i];
		if ((m->ol_flags & tso) != tso || tso_passes(m, guest)) {
			if (k == GSO_OUT) {
				tx_out_chunks(pmd, conf, slot, vid, out, k);
				k = 0;
			}
			out[k++] = m;
			continue;
		}
		pos = 0;
		do {
			if (k == GSO_OUT) {
				tx_out_chunks(pmd, conf, slot, vid, out, k);
				k = 0;
			}
			r = vsw_tso_segment(m, conf->ports[slot].max_len, &pos, &out[k],
					    (uint16_t)(GSO_OUT - k));
			if (r > 0)
				k = (uint16_t)(k + r);
		} while (r > 0);
		rte_pktmbuf_free(m);
		if (r < 0)	/* Out of mbufs, or it cannot be cut to fit the port. */
			oc->drops[r == -ENOMEM ? VSW_DROP_NO_MBUF : VSW_DROP_MTU_EXCEEDED]++;
		else
			oc->events[VSW_EV_TSO_CUT]++;
	}
	tx_out_chunks(pmd, conf, slot, vid, out, k);
}

/* Send the frames queued for one port; what it refuses is freed and counted. */
static inline void
tx_send_bufs(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot,
	     struct rte_mbuf **bufs, uint16_t cnt)
{
	struct vsw_port_ctrs *oc = &pmd->ctrs[slot];
	const uint32_t max_len = conf->ports[slot].max_len;
	uint16_t i, cut;
	uint64_t bytes, ol;
	uint8_t guest = 0;
	int32_t vid = -1;
	bool over;

	if (unlikely(atomic_load_explicit(&vsw_port_up[slot], memory_order_relaxed) == 0)) {
		rte_pktmbuf_free_bulk(bufs, cnt);
		oc->drops[VSW_DROP_PORT_DOWN] += cnt;
		return;
	}
	/* The id first: its guest's features were stored before it (pmd_ctl.c). */
	if (conf->ports[slot].vhost) {
		vid = atomic_load_explicit(&vsw_port_vid[slot], memory_order_acquire);
		if (unlikely(vid < 0)) {
			rte_pktmbuf_free_bulk(bufs, cnt);
			oc->drops[VSW_DROP_PORT_DOWN] += cnt;
			return;
		}
	}
	/*
	 * One pass: bytes, whether any frame is too long for the port, and
	 * whether any has a partial checksum.
	 */
	bytes = 0;
	over = 0;
	ol = 0;
	for (i = 0; i < cnt; i++) {
		bytes += bufs[i]->pkt_len;
		over |= bufs[i]->pkt_len > max_len;
		ol |= bufs[i]->ol_flags;
	}
	if (unlikely(over))
		cnt = drop_oversize(bufs, cnt, max_len, oc, &bytes);
	cut = 0;
	if (unlikely(ol & vsw_csum_partial)) {
		if (vid >= 0)
			guest = atomic_load_explicit(&vsw_port_guest_ol[slot],
						     memory_order_relaxed);
		cut = csum_out(oc, bufs, cnt, guest);
	}
	if (unlikely(atomic_load_explicit(&vsw_capture_flags[slot], memory_order_relaxed) &
		     VSW_CAPTURE_TX))
		capture(pmd, slot, VSW_CAPTURE_TX, bufs, cnt);
	if (unlikely(cut != 0)) {
		tx_gso(pmd, conf, slot, vid, guest, bufs, cnt);
		return;
	}
	tx_out(pmd, conf, slot, vid, bufs, cnt, bytes);
}

/* Send the frames queued for one port. */
static inline void
tx_send(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot, uint16_t cnt)
{
	tx_send_bufs(pmd, conf, slot, pmd->txbuf[slot], cnt);
}

static inline void
tx_flush(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf)
{
	uint16_t t, slot, cnt;

	for (t = 0; t < pmd->n_touched; t++) {
		slot = pmd->touched[t];
		cnt = pmd->txcnt[slot];
		pmd->txcnt[slot] = 0;
		if (cnt != 0)
			tx_send(pmd, conf, slot, cnt);
	}
	pmd->n_touched = 0;
}

/*
 * Queue a frame on the feature path, where a port may get more than a
 * burst's worth (mirror copies): a full buffer is sent first. The slot is
 * already on the touched list then, so it is not added twice.
 */
static inline void
tx_enqueue_any(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot,
	       struct rte_mbuf *m)
{
	if (unlikely(pmd->txcnt[slot] == VSW_BURST)) {
		tx_send(pmd, conf, slot, VSW_BURST);
		pmd->txbuf[slot][0] = m;
		pmd->txcnt[slot] = 1;
		return;
	}
	tx_enqueue(pmd, slot, m);
}

/* Feature path output: queue, and copy to the port's egress mirror. */
static inline void
out_enqueue(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t slot,
	    struct rte_mbuf *m)
{
	const struct vsw_dp_port *op = &conf->ports[slot];

	tx_enqueue_any(pmd, conf, slot, m);
	if (unlikely(op->mirror_dir & VSW_MIRROR_TX)) {
		rte_pktmbuf_refcnt_update(m, 1);
		tx_enqueue_any(pmd, conf, op->mirror_slot, m);
		pmd->ctrs[slot].events[VSW_EV_MIRRORED]++;
	}
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

/* ------------------------------------------------------------ VLAN tags */

#define ETH_ADDRS_LEN (2 * RTE_ETHER_ADDR_LEN)

static inline bool
frame_tagged(const uint8_t *d)
{
	return d[12] == 0x81 && d[13] == 0x00;
}

static inline bool
mbuf_exclusive(const struct rte_mbuf *m)
{
	return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

/* Remove the tag in place (m exclusive, first segment >= 18 bytes). */
static inline void
vlan_pop_inplace(struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	memmove(d + RTE_VLAN_HLEN, d, ETH_ADDRS_LEN);
	rte_pktmbuf_adj(m, RTE_VLAN_HLEN);
}

/* Insert a tag in place (m exclusive, 4 bytes of headroom). */
static inline void
vlan_push_inplace(struct rte_mbuf *m, uint16_t vid)
{
	uint8_t *d = (uint8_t *)rte_pktmbuf_prepend(m, RTE_VLAN_HLEN);

	memmove(d, d + RTE_VLAN_HLEN, ETH_ADDRS_LEN);
	d[12] = 0x81;
	d[13] = 0x00;
	d[14] = (uint8_t)(vid >> 8);
	d[15] = (uint8_t)vid;
}

/*
 * The other form of a shared frame, without copying the payload (see
 * vsw_dp.h). The head holds the addresses and the tag when pushing; for
 * a frame with a partial sum also the rest of its headers up to the end
 * of the L4 header, so that each form's checksum field (and TSO headers)
 * is its own and both stay partial.
 */
struct rte_mbuf *
vsw_dp_vlan_copy(struct rte_mbuf *m, bool push, uint16_t vid)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	/* m's bytes [from, keep) follow the addresses (and tag) in the head. */
	const uint32_t from = push ? ETH_ADDRS_LEN : ETH_ADDRS_LEN + RTE_VLAN_HLEN;
	uint32_t keep = from;
	bool partial = false;
	struct rte_mbuf *h, *c;
	uint8_t *hd;

	vsw_lazy_fill(m);	/* The clone shares m's buffer, whole. */
	if (unlikely(m->ol_flags & vsw_csum_partial)) {
		uint32_t hdr = vsw_csum_hdr_len(m);

		partial = hdr > from && hdr <= m->data_len && hdr <= 256;
		if (partial)
			keep = hdr;
		else
			vsw_csum_fill(m);	/* Headers not in the first segment. */
	}
	h = rte_pktmbuf_alloc(m->pool);
	if (unlikely(h == NULL))
		return NULL;
	c = rte_pktmbuf_clone(m, m->pool);
	if (unlikely(c == NULL)) {
		rte_pktmbuf_free(h);
		return NULL;
	}
	hd = (uint8_t *)rte_pktmbuf_append(h, (uint16_t)(ETH_ADDRS_LEN +
							  (push ? RTE_VLAN_HLEN : 0) + keep - from));
	memcpy(hd, d, ETH_ADDRS_LEN);
	hd += ETH_ADDRS_LEN;
	if (push) {
		hd[0] = 0x81;
		hd[1] = 0x00;
		hd[2] = (uint8_t)(vid >> 8);
		hd[3] = (uint8_t)vid;
		hd += RTE_VLAN_HLEN;
	}
	memcpy(hd, d + from, keep - from);
	if (partial) {
		h->ol_flags |= m->ol_flags & (VSW_CSUM_TX_FLAGS | vsw_csum_partial);
		h->tx_offload = m->tx_offload;
	}
	rte_pktmbuf_adj(c, (uint16_t)keep);
	if (unlikely(rte_pktmbuf_chain(h, c) != 0)) {
		rte_pktmbuf_free(c);
		rte_pktmbuf_free(h);
		return NULL;
	}
	return h;
}

/*
 * Give m the other form (tagged <-> untagged) for all its remaining users:
 * in place when nothing else holds it, else through vsw_dp_vlan_copy() (m's
 * reference passes to the copy). NULL when out of mbufs (m untouched).
 */
static inline struct rte_mbuf *
vlan_convert(struct rte_mbuf *m, bool push, uint16_t vid)
{
	struct rte_mbuf *h;

	if (mbuf_exclusive(m) &&
	    (push ? rte_pktmbuf_headroom(m) >= RTE_VLAN_HLEN : m->data_len >= 18)) {
		if (push)
			vlan_push_inplace(m, vid);
		else
			vlan_pop_inplace(m);
		return m;
	}
	h = vsw_dp_vlan_copy(m, push, vid);
	if (h != NULL)
		rte_pktmbuf_free(m);
	return h;
}

/* True when a frame of VLAN vid leaves port op tagged. */
static inline bool
egress_tagged(const struct vsw_dp_port *op, uint16_t vid)
{
	return vid != op->pvid;
}

/*
 * Flood on the feature path: VLAN membership, protected ports, tagging
 * per output. The outputs that take the frame as it is share m; those
 * that need the other form share one converted copy.
 */
static void
flood_feat(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, const struct vsw_dp_bridge *br,
	   uint16_t in_slot, struct vsw_port_ctrs *ic, struct rte_mbuf *m, uint16_t vid,
	   bool tagged)
{
	const struct vsw_dp_port *inp = &conf->ports[in_slot], *op;
	const bool vlan = (br->feat & VSW_BF_VLAN) != 0;
	uint16_t same[VSW_MAX_PORTS], other[VSW_MAX_PORTS];
	uint16_t i, s, n_same = 0, n_other = 0;
	struct rte_mbuf *m2 = NULL;

	for (i = 0; i < br->n_ports; i++) {
		s = br->ports[i];
		op = &conf->ports[s];
		if (s == in_slot || (inp->is_protected && op->is_protected))
			continue;
		if (vlan) {
			if (!vsw_vlan_test(op->vlans, vid))
				continue;
			if (egress_tagged(op, vid) != tagged) {
				other[n_other++] = s;
				continue;
			}
		}
		same[n_same++] = s;
	}
	if (unlikely(n_same + n_other == 0)) {
		rte_pktmbuf_free(m);
		ic->drops[VSW_DROP_NO_DEST]++;
		return;
	}
	if (n_other != 0) {
		if (n_same == 0) {
			m2 = vlan_convert(m, !tagged, vid);
			if (m2 == NULL) {
				rte_pktmbuf_free(m);
				ic->drops[VSW_DROP_NO_MBUF]++;
				return;
			}
			m = NULL;
		} else {
			m2 = vsw_dp_vlan_copy(m, !tagged, vid);
			if (m2 == NULL) {
				ic->drops[VSW_DROP_NO_MBUF]++;
				n_other = 0;
			}
		}
	}
	if (n_same > 1)
		rte_pktmbuf_refcnt_update(m, (int16_t)(n_same - 1));
	for (i = 0; i < n_same; i++)
		out_enqueue(pmd, conf, same[i], m);
	if (n_other > 1)
		rte_pktmbuf_refcnt_update(m2, (int16_t)(n_other - 1));
	for (i = 0; i < n_other; i++)
		out_enqueue(pmd, conf, other[i], m2);
}

/* ------------------------------------------------- policing, storm control */

/*
 * rte_meter takes its profiles by non-const pointer but only reads them;
 * ours live in the immutable snapshot.
 */
#define PROFILE(p) ((struct rte_meter_srtcm_profile *)(uintptr_t)(p))

static __rte_noinline void
qos_setup(struct vsw_pmd_qos *q, const struct vsw_dp_qos *c)
{
	unsigned int i;

	rte_meter_srtcm_config(&q->police_bytes, PROFILE(&c->police_bytes));
	rte_meter_srtcm_config(&q->police_pkts, PROFILE(&c->police_pkts));
	for (i = 0; i < VSW_STORM_MAX; i++)
		rte_meter_srtcm_config(&q->storm[i], PROFILE(&c->storm[i]));
	q->gen = c->gen;
}

/* True when the frame is over the port's policer. */
static inline bool
policed(struct vsw_pmd_qos *q, const struct vsw_dp_qos *c, uint64_t tsc, uint32_t len)
{
	if ((c->police & 1) &&
	    rte_meter_srtcm_color_blind_check(&q->police_bytes, PROFILE(&c->police_bytes), tsc,
					      len) !=
	    RTE_COLOR_GREEN)
		return true;
	return (c->police & 2) &&
	       rte_meter_srtcm_color_blind_check(&q->police_pkts, PROFILE(&c->police_pkts), tsc, 1) !=
	       RTE_COLOR_GREEN;
}

/* True when the frame is over the port's storm-control limit of its class. */
static inline bool
storm_over(struct vsw_pmd_qos *q, const struct vsw_dp_qos *c, uint64_t tsc,
	   enum vsw_storm_class cls)
{
	return ((c->storm_on >> cls) & 1) &&
	       rte_meter_srtcm_color_blind_check(&q->storm[cls], PROFILE(&c->storm[cls]), tsc, 1) !=
	       RTE_COLOR_GREEN;
}

static inline bool
mac_allowed(const struct vsw_dp_port *p, const uint8_t *mac)
{
	uint64_t v = 0;
	uint16_t i;

	memcpy(&v, mac, RTE_ETHER_ADDR_LEN);
	for (i = 0; i < p->n_allowed; i++)
		if (p->allowed[i] == v)
			return true;
	return false;
}

/* ------------------------------------------------------------ per burst */

#define DROP(reason) do { \
		rte_pktmbuf_free(m); \
		ic->drops[reason]++; \
	} while (0)

/*
 * One burst. `feat` is a compile-time constant: the plain instance has no
 * feature code at all (VLANs, port security, policing, storm control,
 * protected ports, mirroring, learn-limit actions); the feature instance
 * runs for ports or bridges that use any of them.
 */
static __rte_always_inline void
process(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t in_slot,
	struct rte_mbuf **pkts, uint16_t n, const bool feat)
{
	const struct vsw_dp_port *inp = &conf->ports[in_slot];
	const struct vsw_dp_bridge *br = conf->bridges[inp->bridge];
	struct vsw_port_ctrs *ic = &pmd->ctrs[in_slot];
	struct vsw_pmd_qos *qs = &pmd->qos[in_slot];
	uint64_t keys[2 * VSW_BURST];	/* Distinct keys to look up. */
	uint64_t data[2 * VSW_BURST];	/* Their lookup results. */
	const void *kp[2 * VSW_BURST];
	struct rte_mbuf *ok[VSW_BURST];
	uint8_t sidx[VSW_BURST];	/* Frame -> index of its source key. */
	uint8_t didx[VSW_BURST];	/* Frame -> index of its destination key, or NO_DST. */
	uint16_t fvid[VSW_BURST];	/* Feature path: frame's VLAN. */
	uint8_t ftag[VSW_BURST];	/* Feature path: frame carries a tag. */
	uint8_t kdrop[2 * VSW_BURST];	/* Drop reason of a refused source key. */
	struct vsw_learn_req req[VSW_BURST];
	uint16_t i, n_ok = 0, n_keys = 0, n_req = 0, n_flood = 0, n_learn, out, vid = 0;
	bool uniform;
	uint64_t hits, done = 0, refused = 0, unl = 0, rx_bytes = 0, sk, dk, sk0, dk0, tsc = 0;
	uint64_t last_sk = UINT64_MAX, last_dk = UINT64_MAX;
	uint8_t last_si = 0, last_di = 0, k, tagged = 0;
	const bool vlan = feat && (br->feat & VSW_BF_VLAN);
	const struct vsw_fdb *fdb = br->fdb;
	uint32_t now = vsw_now();
	enum vsw_frame_class cls;
	const uint8_t *d;
	struct rte_mbuf *m;

	if (feat) {
		if (unlikely(inp->feat & VSW_PF_MIRROR_DST)) {
			rte_pktmbuf_free_bulk(pkts, n);
			ic->drops[VSW_DROP_MIRROR_PORT] += n;
			return;
		}
		if (inp->feat & (VSW_PF_POLICE | VSW_PF_STORM)) {
			tsc = rte_rdtsc();
			if (unlikely(qs->gen != inp->qos.gen))
				qos_setup(qs, &inp->qos);
		}
	}

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
		/* vsw_frame_classify(), on the keys: two loads per frame. */
		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN)) {
			DROP(VSW_DROP_RUNT);
			continue;
		}
		frame_keys(d, &dk0, &sk0);
		if (unlikely(key_group(sk0) || sk0 == 0)) {
			DROP(VSW_DROP_INVALID_SRC);
			continue;
		}
		cls = key_group(dk0) ? VSW_FRAME_FLOOD : VSW_FRAME_UNICAST;
		if (feat) {
			if ((inp->feat & VSW_PF_ALLOWED_MACS) &&
			    !mac_allowed(inp, d + RTE_ETHER_ADDR_LEN)) {
				DROP(VSW_DROP_SRC_NOT_ALLOWED);
				continue;
			}
			if (vlan) {
				tagged = frame_tagged(d);
				if (tagged) {
					if (unlikely(m->data_len < 18)) {
						DROP(VSW_DROP_RUNT);
						continue;
					}
					vid = (uint16_t)((d[14] << 8 | d[15]) & 0xfff);
					if (vid == 0) {
						/* Priority tag: the frame is untagged. */
						vlan_pop_inplace(m);
						d = rte_pktmbuf_mtod(m, const uint8_t *);
						tagged = 0;
						vid = inp->pvid;
					} else if (inp->access) {
						DROP(VSW_DROP_VLAN_NOT_ALLOWED);
						continue;
					}
				} else {
					vid = inp->pvid;
				}
				if (!vsw_vlan_test(inp->vlans, vid)) {
					DROP(VSW_DROP_VLAN_NOT_ALLOWED);
					continue;
				}
				fvid[n_ok] = vid;
				ftag[n_ok] = tagged;
			}
			if ((inp->feat & VSW_PF_POLICE) && policed(qs, &inp->qos, tsc, m->pkt_len)) {
				DROP(VSW_DROP_POLICED);
				continue;
			}
			if ((inp->feat & VSW_PF_STORM) && cls == VSW_FRAME_FLOOD) {
				if (rte_is_broadcast_ether_addr((const struct rte_ether_addr *)d)) {
					if (storm_over(qs, &inp->qos, tsc, VSW_STORM_BCAST)) {
						DROP(VSW_DROP_STORM_BCAST);
						continue;
					}
				} else if (storm_over(qs, &inp->qos, tsc, VSW_STORM_MCAST)) {
					DROP(VSW_DROP_STORM_MCAST);
					continue;
				}
			}
		}
		if (cls == VSW_FRAME_UNICAST) {
			dk = dk0 | key_vlan(vid);
			if (dk != last_dk) {
				last_dk = dk;
				last_di = (uint8_t)n_keys;
				keys[n_keys++] = dk;
			}
			didx[n_ok] = last_di;
		} else {
			didx[n_ok] = NO_DST;
			n_flood++;
		}
		sk = sk0 | key_vlan(vid);
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

	/* Ingress mirror: the frames the port accepted, shared by reference. */
	if (feat && (inp->feat & VSW_PF_MIRROR_RX)) {
		for (i = 0; i < n_ok; i++) {
			rte_pktmbuf_refcnt_update(ok[i], 1);
			tx_enqueue_any(pmd, conf, inp->mirror_slot, ok[i]);
		}
		ic->events[VSW_EV_MIRRORED] += n_ok;
	}

	/* 2. One bulk lookup of every distinct key (<= 64). */
	for (i = 0; i < n_keys; i++)
		kp[i] = &keys[i];
	hits = vsw_fdb_lookup_bulk(fdb, kp, n_keys, data);

	/*
	 * One flow: on the plain path, two keys and no flooded frame mean
	 * every frame has destination key 0 and source key 1 (keys are added
	 * whenever the previous frame's differ). The first frame's learning
	 * verdict is then every frame's, and they all leave together.
	 */
	uniform = !feat && n_keys == 2 && n_flood == 0;

	/* 3. Learn, once per distinct source key. */
	n_learn = uniform ? 1 : n_ok;
	for (i = 0; i < n_learn; i++) {
		k = sidx[i];
		if ((done >> k) & 1) {
			if (unlikely((refused >> k) & 1)) {
				rte_pktmbuf_free(ok[i]);
				ok[i] = NULL;
				ic->drops[kdrop[k]]++;
			} else if (feat && unlikely((unl >> k) & 1)) {
				ic->events[VSW_EV_UNLEARNED]++;
			}
			continue;
		}
		done |= UINT64_C(1) << k;
		if (likely((hits >> k) & 1)) {
			if (likely(vsw_fdb_data_port(data[k]) == in_slot)) {
				vsw_fdb_touch(fdb, data[k], now);
				continue;
			}
			if (unlikely(vsw_fdb_frozen(fdb, data[k], now))) {
				refused |= UINT64_C(1) << k;
				kdrop[k] = VSW_DROP_MAC_FROZEN;
				rte_pktmbuf_free(ok[i]);
				ok[i] = NULL;
				ic->drops[VSW_DROP_MAC_FROZEN]++;
				continue;
			}
		} else if (unlikely(vsw_fdb_port_full(fdb, in_slot))) {
			if (feat && (inp->feat & VSW_PF_LIMIT_FWD)) {
				/* on-limit=flood|log: forward it, do not learn it. */
				unl |= UINT64_C(1) << k;
				ic->events[VSW_EV_UNLEARNED]++;
				if (inp->on_limit != VSW_ON_LIMIT_LOG)
					continue;
				/* log: the control thread reports the refused MAC. */
			} else {
				refused |= UINT64_C(1) << k;
				kdrop[k] = VSW_DROP_LEARN_LIMIT;
				rte_pktmbuf_free(ok[i]);
				ok[i] = NULL;
				ic->drops[VSW_DROP_LEARN_LIMIT]++;
				continue;
			}
		}
		/* keys[k] is set: k = sidx[i], written with its key in step 1. */
		if (keys[k] == pmd->last_learn_key && /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		    in_slot == pmd->last_learn_slot && now == pmd->last_learn_sec)
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

	if (uniform) {
		out = vsw_fdb_data_port(data[0]);
		if (unlikely(ok[0] == NULL)) {
			/* Source refused: so is every frame of the flow. */
			rte_pktmbuf_free_bulk(&ok[1], n_ok - 1);
			ic->drops[kdrop[1]] += n_ok - 1U;
			return;
		}
		if (likely((hits & 1) && out != in_slot && out < VSW_MAX_PORTS &&
			   conf->ports[out].valid && conf->ports[out].bridge == inp->bridge)) {
			tx_send_bufs(pmd, conf, out, ok, n_ok);
			return;
		}
		/* Unknown or same-port destination: the general loop below. */
	}

	/* 4. Forward. */
	if (!feat) {
		/*
		 * Plain path: resolve each distinct destination once (hit on a
		 * port of this bridge that can send, the input port, or flood),
		 * then each frame costs one table read.
		 */
		uint16_t kout[2 * VSW_BURST + 1];

		for (i = 0; i < n_keys; i++) {
			out = vsw_fdb_data_port(data[i]);
			if (!((hits >> i) & 1))
				kout[i] = KOUT_FLOOD;
			else if (out == in_slot)
				kout[i] = KOUT_SAME;
			else if (out < VSW_MAX_PORTS && conf->ports[out].valid &&
				 conf->ports[out].bridge == inp->bridge)
				kout[i] = out;
			else
				kout[i] = KOUT_FLOOD;
		}
		/* Every didx[] is < n_keys or NO_DST; the rest is never read. */
		for (; i <= NO_DST; i++)
			kout[i] = KOUT_FLOOD;
		for (i = 0; i < n_ok; i++) {
			m = ok[i];
			if (m == NULL)
				continue;
			out = kout[didx[i]];
			if (likely(out < VSW_MAX_PORTS))
				tx_enqueue(pmd, out, m);
			else if (out == KOUT_FLOOD)
				flood(pmd, br, in_slot, ic, m);
			else
				DROP(VSW_DROP_SAME_PORT);
		}
		tx_flush(pmd, conf);
		return;
	}
	for (i = 0; i < n_ok; i++) {
		m = ok[i];
		if (m == NULL)
			continue;
		k = didx[i];
		if (k != NO_DST && ((hits >> k) & 1)) {
			out = vsw_fdb_data_port(data[k]);
			if (unlikely(out == in_slot)) {
				DROP(VSW_DROP_SAME_PORT);
				continue;
			}
			if (likely(out < VSW_MAX_PORTS && conf->ports[out].valid &&
				   conf->ports[out].bridge == inp->bridge)) {
				if (!feat) {
					tx_enqueue(pmd, out, m);
					continue;
				}
				if (inp->is_protected && conf->ports[out].is_protected) {
					DROP(VSW_DROP_PROTECTED);
					continue;
				}
				if (vlan) {
					if (!vsw_vlan_test(conf->ports[out].vlans, fvid[i])) {
						DROP(VSW_DROP_VLAN_NOT_ALLOWED);
						continue;
					}
					if (egress_tagged(&conf->ports[out], fvid[i]) != ftag[i]) {
						struct rte_mbuf *m2 = vlan_convert(m, !ftag[i],
										   fvid[i]);

						if (m2 == NULL) {
							DROP(VSW_DROP_NO_MBUF);
							continue;
						}
						m = m2;
					}
				}
				out_enqueue(pmd, conf, out, m);
				continue;
			}
		}
		if (!feat) {
			flood(pmd, br, in_slot, ic, m);
			continue;
		}
		if ((inp->feat & VSW_PF_STORM) && k != NO_DST &&
		    storm_over(qs, &inp->qos, tsc, VSW_STORM_UNKNOWN)) {
			DROP(VSW_DROP_STORM_UNKNOWN);
			continue;
		}
		flood_feat(pmd, conf, br, in_slot, ic, m, vlan ? fvid[i] : 0, vlan && ftag[i]);
	}

	/* 5. One tx burst per output port. */
	tx_flush(pmd, conf);
}

void
vsw_dp_process(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t in_slot,
	       struct rte_mbuf **pkts, uint16_t n)
{
	const struct vsw_dp_port *inp = &conf->ports[in_slot];
	const struct vsw_dp_bridge *br = conf->bridges[inp->bridge];
	struct vsw_port_ctrs *ic = &pmd->ctrs[in_slot];
	uint64_t rx_bytes = 0;
	uint16_t i;

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
	if (likely((inp->feat | br->feat) == 0))
		process(pmd, conf, in_slot, pkts, n, false);
	else
		process(pmd, conf, in_slot, pkts, n, true);
}

/*
 * Idle back-off (cold path: only after VSW_IDLE_ITERS empty iterations,
 * and only when --pmd-sleep-max is set). Offline for QSBR while asleep, so
 * a configuration change never waits for a sleeping PMD.
 *
 * When every queue the PMD polls is a vhost-user queue whose guest gave a
 * kick eventfd, the PMD asks those guests to kick (virtio notifications
 * on), checks the queues once more (a frame queued just before would
 * bring no kick), and sleeps in ppoll() on the kick fds and its wake fd:
 * it wakes when a guest sends, when the control thread publishes a
 * change, or after VSW_KICK_WAIT_MS. Otherwise (a DPDK port, a guest
 * without a kick fd) it sleeps 1 us, doubling up to --pmd-sleep-max.
 */
#define VSW_KICK_WAIT_MS 100

struct kick_arm {
	int32_t vid;
	uint16_t vq;
	uint16_t slot;
	int fd;
};

/* Ask the guests of the polled vhost queues to kick; false if one can't. */
static bool
kick_arm(const struct vsw_dp_poll *poll, struct kick_arm *arm, unsigned int *n_arm,
	 bool *pending)
{
	struct rte_vhost_vring vr;
	const struct vsw_dp_rxq *q;
	struct vsw_vdev *d;
	unsigned int i;
	int32_t vid;
	uint16_t vq;
	int fd;

	*n_arm = 0;
	*pending = false;
	for (i = 0; poll != NULL && i < poll->n_rxq; i++) {
		q = &poll->rxq[i];
		if (!q->vhost)
			return false;
		vid = atomic_load_explicit(&vsw_port_vid[q->slot], memory_order_acquire);
		if (vid < 0)
			continue;	/* No guest: an attach wakes the PMD. */
		vq = VSW_VQ_GUEST_TX(q->queue);
		if (vid & VSW_VID_WALKED) {
			/* Never rte_vhost's calls that lock a walked guest's vrings. */
			d = atomic_load_explicit(&vsw_port_vdev[q->slot], memory_order_relaxed);
			if (vq >= d->n_vrings || !d->vr[vq].ok)
				continue;	/* The guest has fewer queue pairs. */
			fd = vsw_vring_notify(d, vq, true);
			if (fd < 0)
				return false;
		} else {
			if (vq >= rte_vhost_get_vring_num(vid))
				continue;	/* The guest has fewer queue pairs. */
			if (rte_vhost_get_vhost_vring(vid, vq, &vr) != 0 || vr.kickfd < 0 ||
			    rte_vhost_enable_guest_notification(vid, vq, 1) != 0)
				return false;
			fd = vr.kickfd;
		}
		arm[*n_arm].vid = vid;
		arm[*n_arm].vq = vq;
		arm[*n_arm].slot = q->slot;
		arm[*n_arm].fd = fd;
		(*n_arm)++;
	}
	/* Notifications on before the last look, or a kick could be lost. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (i = 0; i < *n_arm; i++) {
		if (arm[i].vid & VSW_VID_WALKED) {
			d = atomic_load_explicit(&vsw_port_vdev[arm[i].slot], memory_order_relaxed);
			if (vsw_vring_pending(d, arm[i].vq) != 0)
				*pending = true;
		} else if (rte_vhost_rx_queue_count(arm[i].vid, arm[i].vq) != 0) {
			*pending = true;
		}
	}
	return true;
}

/* Notifications off again, and the kick counters read, for unchanged guests. */
static void
kick_disarm(const struct kick_arm *arm, unsigned int n_arm, const struct pollfd *pfd)
{
	struct rte_vhost_vring vr;
	struct vsw_vdev *d;
	unsigned int i;
	int fd;
	uint64_t v;

	for (i = 0; i < n_arm; i++) {
		/* Online again: a vid still in place is still valid (its device reloaded). */
		if (atomic_load_explicit(&vsw_port_vid[arm[i].slot], memory_order_acquire) !=
		    arm[i].vid)
			continue;
		if (arm[i].vid & VSW_VID_WALKED) {
			d = atomic_load_explicit(&vsw_port_vdev[arm[i].slot], memory_order_relaxed);
			fd = vsw_vring_notify(d, arm[i].vq, false);
		} else {
			rte_vhost_enable_guest_notification(arm[i].vid, arm[i].vq, 0);
			fd = rte_vhost_get_vhost_vring(arm[i].vid, arm[i].vq, &vr) == 0 ?
			     vr.kickfd : -1;
		}
		if ((pfd[i].revents & POLLIN) && fd == arm[i].fd &&
		    read(arm[i].fd, &v, sizeof(v)) < 0)
			pmd_noop();
	}
}

static __rte_noinline void
idle_sleep(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint32_t *sleep_us,
	   uint32_t max_us)
{
	struct kick_arm arm[VSW_MAX_PMD_RXQ];
	struct pollfd pfd[VSW_MAX_PMD_RXQ + 1];
	const struct vsw_dp_poll *poll = conf != NULL ? &conf->poll[pmd->idx] : NULL;
	unsigned int i, n_arm = 0;
	struct timespec ts;
	bool kick, pending;
	uint64_t t0, v;

	memset(pfd, 0, sizeof(pfd));
	kick = kick_arm(poll, arm, &n_arm, &pending);
	if (kick && pending) {
		kick_disarm(arm, n_arm, pfd);
		return;
	}
	if (kick) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)VSW_KICK_WAIT_MS * 1000000;
		pmd->kick_sleeps++;
	} else {
		kick_disarm(arm, n_arm, pfd);
		n_arm = 0;
		*sleep_us = *sleep_us == 0 ? 1 : RTE_MIN(*sleep_us * 2, max_us);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)*sleep_us * 1000;
		pmd->sleeps++;
	}
	for (i = 0; i < n_arm; i++) {
		pfd[i].fd = arm[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	pfd[n_arm].fd = pmd->wake_fd;
	pfd[n_arm].events = POLLIN;
	pfd[n_arm].revents = 0;
	rte_rcu_qsbr_thread_offline(vsw_qsbr, pmd->idx);
	t0 = rte_rdtsc();
	if (kick)
		atomic_fetch_add_explicit(&vsw_dp_kick_sleepers, 1, memory_order_relaxed);
	if (ppoll(pfd, n_arm + 1, &ts, NULL) > 0 && (pfd[n_arm].revents & POLLIN) &&
	    read(pmd->wake_fd, &v, sizeof(v)) < 0)
		pmd_noop();
	if (kick) {
		atomic_fetch_sub_explicit(&vsw_dp_kick_sleepers, 1, memory_order_relaxed);
		/* Traffic: the control thread's learning tick must not lag. */
		for (i = 0; i < n_arm; i++)
			if (pfd[i].revents & POLLIN)
				break;
		v = 1;
		if (i < n_arm && write(vsw_dp_main_wake_fd, &v, sizeof(v)) < 0)
			pmd_noop();
	}
	pmd->idle_cycles += rte_rdtsc() - t0;
	rte_rcu_qsbr_thread_online(vsw_qsbr, pmd->idx);
	kick_disarm(arm, n_arm, pfd);
}

/* Burst size -> histogram bucket (see VSW_BURST_BUCKETS). */
static const uint8_t burst_bucket[VSW_BURST + 1] = {
	0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5,
};

/* One poll of an rx queue. */
static inline uint16_t
rx_burst(struct vsw_pmd *pmd, const struct vsw_dp_rxq *q, struct rte_mbuf **pkts,
	 struct vsw_vdev **walked)
{
	uint16_t i, n;
	int32_t vid;

	if (!q->vhost)
		return rte_eth_rx_burst(q->eth_port, q->queue, pkts, VSW_BURST);
	vid = atomic_load_explicit(&vsw_port_vid[q->slot], memory_order_acquire);
	if (unlikely(vid < 0))
		return 0;
	if (likely(vid & VSW_VID_WALKED)) {
		struct vsw_vring_err e = { 0 };

		*walked = atomic_load_explicit(&vsw_port_vdev[q->slot], memory_order_relaxed);
		n = vsw_vring_rx(*walked, VSW_VQ_GUEST_TX(q->queue), q->pool, pkts, VSW_BURST, &e);
		if (unlikely((e.bad | e.nombuf) != 0)) {
			pmd->ctrs[q->slot].drops[VSW_DROP_GUEST_DESC] += e.bad;
			pmd->ctrs[q->slot].drops[VSW_DROP_NO_MBUF] += e.nombuf;
		}
		pmd->ctrs[q->slot].events[VSW_EV_COPY_ONCE] += e.lazy;
	} else {
		n = rte_vhost_dequeue_burst(vid, VSW_VQ_GUEST_TX(q->queue), q->pool, pkts,
					    VSW_BURST);
	}
	for (i = 0; i < n; i++)
		if (unlikely((pkts[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			     RTE_MBUF_F_RX_L4_CKSUM_NONE))
			vsw_csum_defer(pkts[i]);	/* A partial sum (csum.c). */
	return n;
}

int
vsw_pmd_main(void *arg)
{
	struct vsw_pmd *pmd = arg;
	struct rte_mbuf *pkts[VSW_BURST];
	const struct vsw_dp_conf *conf;
	const struct vsw_dp_poll *poll;
	const struct vsw_dp_rxq *q;
	struct vsw_vdev *walked;
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
				idle_sleep(pmd, conf, &sleep_us, max_us);
				prev = rte_rdtsc();
			}
			continue;
		}
		poll = &conf->poll[pmd->idx];
		got = 0;
		for (i = 0; i < poll->n_rxq; i++) {
			q = &poll->rxq[i];
			/* The next queue's ring, while this one is polled. */
			if (i + 1 < poll->n_rxq && poll->rxq[i + 1].vhost)
				vring_prefetch(poll->rxq[i + 1].slot,
					       VSW_VQ_GUEST_TX(poll->rxq[i + 1].queue), false);
			walked = NULL;
			n = rx_burst(pmd, q, pkts, &walked);
			if (n != 0) {
				struct vsw_rxq_ctrs *rc = &pmd->rxq[q->slot][q->queue];
				uint64_t b0 = pmd->ctrs[q->slot].rx_bytes;

				got = 1;
				pmd->burst_hist[burst_bucket[n]]++;
				vsw_dp_process(pmd, conf, q->slot, pkts, n);
				/* Every frame has left: the guest's buffers go back. */
				if (walked != NULL)
					vsw_vring_rx_done(walked, VSW_VQ_GUEST_TX(q->queue));
				now = rte_rdtsc();
				pmd->busy_cycles += now - prev;
				pmd->packets += n;
				rc->pkts += n;
				rc->bytes += pmd->ctrs[q->slot].rx_bytes - b0;
				rc->cycles += now - prev;
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
		idle_sleep(pmd, conf, &sleep_us, max_us);
		prev = rte_rdtsc();	/* The sleep was counted as idle. */
	}
	rte_rcu_qsbr_thread_offline(vsw_qsbr, pmd->idx);
	return 0;
}
