/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vsw's own walk of a guest's split virtqueues (see vsw_vring.h).
 *
 * Everything the guest wrote is untrusted: a descriptor index, length or
 * address, a chain's next field, an indirect table. Every index is
 * bounds-checked, every chain is cut after as many hops as its table has
 * entries (a loop), every guest address is translated through the memory
 * table with its length (an address outside the guest's memory, or a
 * range running off a region, is refused). A malformed chain is given
 * back to the guest as used with length 0 and counted guest_desc; the
 * ring keeps moving.
 *
 * Fast path: the functions below vsw_vdev_release() run on PMDs: no
 * locks, no allocation except mbufs, no logging. The one syscall is the
 * eventfd write that interrupts a guest that asked for interrupts (as
 * rte_vhost does).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include <linux/virtio_net.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_net.h>
#include <rte_prefetch.h>
#include <rte_vhost.h>

#include "vsw_dp.h"
#include "vsw_vring.h"

bool vsw_vdev_walk;
uint64_t vsw_lazy_flag;
int vsw_lazy_field = -1;

int
vsw_lazy_init(void)
{
	static const struct rte_mbuf_dynfield f = {
		.name = "vsw_lazy",
		.size = sizeof(struct vsw_lazy),
		.align = __alignof__(struct vsw_lazy),
	};
	static const struct rte_mbuf_dynflag fl = { .name = "vsw_lazy_flag" };
	int off = rte_mbuf_dynfield_register(&f);
	int bit = rte_mbuf_dynflag_register(&fl);

	if (off < 0 || bit < 0)
		return -1;
	vsw_lazy_field = off;
	vsw_lazy_flag = 1ULL << bit;
	return 0;
}

void
vsw_lazy_fill_slow(struct rte_mbuf *m)
{
	const struct vsw_lazy *z = vsw_lazy_of(m);

	rte_memcpy((uint8_t *)m->buf_addr + z->at, z->src, z->len);
	m->ol_flags &= ~vsw_lazy_flag;
}

/* Longest frame taken from a guest: a 64 KiB TSO frame and its header. */
#define VRING_MAX_FRAME (65536 + 64)
/*
 * Most descriptors in one chain (rte_vhost's limit too): a chain of 65 536
 * one-byte pieces would otherwise hold the PMD, and every port on it.
 */
#define VRING_MAX_HOPS 256

/* Features the walk handles; any other ring feature keeps rte_vhost's. */
#define WALK_REFUSE ((1ULL << VIRTIO_F_RING_PACKED) | (1ULL << VIRTIO_F_IOMMU_PLATFORM) | \
		     (1ULL << VHOST_F_LOG_ALL) | (1ULL << VIRTIO_NET_F_HOST_TSO4) | \
		     (1ULL << VIRTIO_NET_F_HOST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_UFO) | \
		     (1ULL << VIRTIO_NET_F_HOST_ECN))

/* ------------------------------------------------------------ control */

struct vsw_vdev *
vsw_vdev_build(int vid, const _Atomic uint64_t *ready)
{
	struct rte_vhost_vring rv;
	struct vsw_vdev *d;
	uint64_t f = 0;
	uint16_t i, n, la, lu;
	int node;

	if (!vsw_vdev_walk || rte_vhost_get_negotiated_features(vid, &f) != 0 ||
	    (f & WALK_REFUSE) != 0)
		return NULL;
	node = rte_vhost_get_numa_node(vid);
	d = rte_zmalloc_socket("vsw_vdev", sizeof(*d), RTE_CACHE_LINE_SIZE,
			       node >= 0 ? node : SOCKET_ID_ANY);
	if (d == NULL)
		return NULL;
	if (rte_vhost_get_mem_table(vid, &d->mem) != 0) {
		rte_free(d);
		return NULL;
	}
	d->vid = vid;
	d->ready = ready;
	d->mrg = (f >> VIRTIO_NET_F_MRG_RXBUF) & 1;
	d->event_idx = (f >> VIRTIO_RING_F_EVENT_IDX) & 1;
	d->indirect = (f >> VIRTIO_RING_F_INDIRECT_DESC) & 1;
	d->hdr_len = (d->mrg || (f >> VIRTIO_F_VERSION_1) & 1) ?
		     sizeof(struct virtio_net_hdr_mrg_rxbuf) : sizeof(struct virtio_net_hdr);
	n = RTE_MIN(rte_vhost_get_vring_num(vid), (uint16_t)VSW_VDEV_VRINGS);
	d->n_vrings = n;
	for (i = 0; i < n; i++) {
		struct vsw_vring *vr = &d->vr[i];

		vr->callfd = -1;
		vr->kickfd = -1;
		if (rte_vhost_get_vhost_vring(vid, i, &rv) != 0 || rv.desc == NULL ||
		    rv.avail == NULL || rv.used == NULL || rv.size == 0 ||
		    !rte_is_power_of_2(rv.size) ||
		    rte_vhost_get_vring_base(vid, i, &la, &lu) != 0)
			continue;
		vr->desc = rv.desc;
		vr->avail = rv.avail;
		vr->used = rv.used;
		vr->size = rv.size;
		vr->last_avail = la;
		vr->last_used = lu;
		vr->callfd = rv.callfd;
		vr->kickfd = rv.kickfd;
		vr->ok = 1;
	}
	return d;
}

static inline void used_publish(const struct vsw_vdev *d, struct vsw_vring *vr);

void
vsw_vdev_release(struct vsw_vdev *d)
{
	uint16_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n_vrings; i++) {
		if (!d->vr[i].ok)
			continue;
		/* Nothing may stay put but unpublished (vsw_vring_rx_done() does it). */
		if (d->vr[i].held || d->vr[i].sh_n != 0) {
			d->vr[i].held = 0;
			used_publish(d, &d->vr[i]);
		}
		rte_vhost_set_vring_base(d->vid, i, d->vr[i].last_avail, d->vr[i].last_used);
	}
	free(d->mem);
	rte_free(d);
}

void
vsw_vdev_rarp(struct vsw_vdev *d, const uint8_t mac[6])
{
	uint64_t v = 1ULL << 48;
	int i;

	for (i = 0; i < 6; i++)
		v |= (uint64_t)mac[i] << (8 * i);
	atomic_store_explicit(&d->rarp, v, memory_order_release);
}

/* ------------------------------------------------------- descriptor walk */

/* A position in a descriptor chain. */
struct cur {
	const struct vring_desc *tab;	/* Main table or an indirect one. */
	uint32_t n;			/* Its entries. */
	uint32_t hops;			/* Descriptors walked: > n is a loop. */
	uint64_t gpa;			/* Next guest address of this descriptor. */
	uint32_t dleft;			/* Its bytes not mapped yet. */
	uint16_t flags;			/* Its flags. */
	uint16_t next;			/* Its next field. */
	uint8_t *va;			/* Mapped piece. */
	uint32_t left;			/* Bytes left in the piece. */
};

static inline uint8_t *
gpa_map(struct vsw_vdev *d, uint64_t gpa, uint64_t *len)
{
	return (uint8_t *)(uintptr_t)rte_vhost_va_from_guest_pa(d->mem, gpa, len);
}

/* Take descriptor idx of the current table; wr: must be device-writable. */
static inline int
cur_load(struct cur *c, uint32_t idx, bool wr)
{
	const struct vring_desc *dp;

	if (unlikely(idx >= c->n || ++c->hops > RTE_MIN(c->n, (uint32_t)VRING_MAX_HOPS)))
		return -1;
	dp = &c->tab[idx];
	/* Each field read once: the guest may change it meanwhile. */
	c->gpa = __atomic_load_n(&dp->addr, __ATOMIC_RELAXED);
	c->dleft = __atomic_load_n(&dp->len, __ATOMIC_RELAXED);
	c->flags = __atomic_load_n(&dp->flags, __ATOMIC_RELAXED);
	c->next = __atomic_load_n(&dp->next, __ATOMIC_RELAXED);
	c->left = 0;
	if (unlikely((c->flags & VRING_DESC_F_INDIRECT) ||
		     (wr && !(c->flags & VRING_DESC_F_WRITE))))
		return -1;
	return 0;
}

/* Start at the chain of avail entry head. */
static inline int
cur_start(struct vsw_vdev *d, const struct vsw_vring *vr, uint16_t head, struct cur *c, bool wr)
{
	const struct vring_desc *dp;
	uint64_t len, addr;
	uint32_t dlen;

	c->tab = vr->desc;
	c->n = vr->size;
	c->hops = 0;
	if (unlikely(head >= vr->size))
		return -1;
	dp = &vr->desc[head];
	if (likely(!(dp->flags & VRING_DESC_F_INDIRECT)))
		return cur_load(c, head, wr);
	if (unlikely(!d->indirect))
		return -1;	/* Not negotiated. */
	/* Each field read once: the guest may change it meanwhile. */
	addr = __atomic_load_n(&dp->addr, __ATOMIC_RELAXED);
	dlen = __atomic_load_n(&dp->len, __ATOMIC_RELAXED);
	len = dlen;
	if (unlikely(len < sizeof(*dp) || len % sizeof(*dp) != 0 || len > 65536 * sizeof(*dp)))
		return -1;
	c->tab = (const struct vring_desc *)gpa_map(d, addr, &len);
	if (unlikely(c->tab == NULL || len != dlen))
		return -1;
	c->n = (uint32_t)(len / sizeof(*dp));
	return cur_load(c, 0, wr);
}

/* Map the next piece: 0, 1 at the end of the chain, -1 if malformed. */
static inline int
cur_piece(struct vsw_vdev *d, struct cur *c, bool wr)
{
	uint64_t len;

	while (c->dleft == 0) {
		if (!(c->flags & VRING_DESC_F_NEXT))
			return 1;
		if (cur_load(c, c->next, wr) < 0)
			return -1;
	}
	len = c->dleft;
	c->va = gpa_map(d, c->gpa, &len);
	if (unlikely(c->va == NULL || len == 0))
		return -1;
	c->left = (uint32_t)len;
	c->gpa += len;
	c->dleft -= (uint32_t)len;
	return 0;
}

/* Read len bytes at the cursor into dst: 0, or -1 (short or malformed). */
static inline int
cur_read(struct vsw_vdev *d, struct cur *c, void *dst, uint32_t len)
{
	uint8_t *p = dst;
	uint32_t k;

	while (len != 0) {
		if (c->left == 0 && cur_piece(d, c, false) != 0)
			return -1;
		k = RTE_MIN(len, c->left);
		memcpy(p, c->va, k);
		p += k;
		c->va += k;
		c->left -= k;
		len -= k;
	}
	return 0;
}

/*
 * The buffer of a one-descriptor chain (the usual case: the virtio PMD and
 * Linux post one descriptor per buffer), mapped in one piece from a single
 * read of the descriptor; NULL for anything else (a chain, an indirect
 * table, a buffer across memory regions, a read-only buffer where wr),
 * which the cursor walk then handles and judges.
 */
static inline uint8_t *
desc_flat(struct vsw_vdev *d, const struct vsw_vring *vr, uint16_t head, uint32_t *len,
	  bool wr)
{
	const struct vring_desc *dp;
	uint64_t addr, l;
	uint32_t dlen;
	uint16_t flags;
	uint8_t *p;

	*len = 0;
	if (unlikely(head >= vr->size))
		return NULL;
	/* Each field read once: the guest may change it meanwhile. */
	dp = &vr->desc[head];
	addr = __atomic_load_n(&dp->addr, __ATOMIC_RELAXED);
	dlen = __atomic_load_n(&dp->len, __ATOMIC_RELAXED);
	flags = __atomic_load_n(&dp->flags, __ATOMIC_RELAXED);
	if (unlikely((flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) ||
		     (wr && !(flags & VRING_DESC_F_WRITE))))
		return NULL;
	l = dlen;
	p = gpa_map(d, addr, &l);
	if (unlikely(p == NULL || l != dlen))
		return NULL;
	*len = (uint32_t)l;
	return p;
}

/* ----------------------------------------------------------- notifying */

/* Interrupt the guest after new used entries, if it asked to be. */
static inline void
vring_call(const struct vsw_vdev *d, struct vsw_vring *vr)
{
	uint16_t ev, old, cur;

	if (vr->callfd < 0)
		return;
	/* The used index is out before the guest's wish is read. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->event_idx) {
		ev = __atomic_load_n(&vr->avail->ring[vr->size], __ATOMIC_RELAXED);
		old = vr->signalled;
		cur = vr->last_used;
		vr->signalled = cur;
		if (vr->signalled_valid && (uint16_t)(cur - ev - 1) >= (uint16_t)(cur - old))
			return;
		vr->signalled_valid = 1;
	} else if (__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) &
		   VRING_AVAIL_F_NO_INTERRUPT) {
		return;
	}
	(void)eventfd_write(vr->callfd, 1);
}

/* Write the held-back used entries (sh[]) to the ring; not yet visible. */
static inline void
used_flush(struct vsw_vring *vr)
{
	uint16_t i, idx = (uint16_t)(vr->last_used - vr->sh_n), mask = (uint16_t)(vr->size - 1);

	for (i = 0; i < vr->sh_n; i++, idx++)
		vr->used->ring[idx & mask] = vr->sh[i];
	vr->sh_n = 0;
}

/* One used entry (the guest sees it at the next used_publish()). */
static inline void
used_put(struct vsw_vring *vr, uint16_t head, uint32_t len)
{
	if (unlikely(vr->sh_n == VSW_VRING_SHADOW))
		used_flush(vr);
	vr->sh[vr->sh_n].id = head;
	vr->sh[vr->sh_n].len = len;
	vr->sh_n++;
	vr->last_used++;
}

/* Take back the last k used entries (not published yet). */
static inline void
used_unput(struct vsw_vring *vr, uint16_t k)
{
	/* Entries already flushed are overwritten later: the index goes back. */
	vr->sh_n = vr->sh_n >= k ? (uint16_t)(vr->sh_n - k) : 0;
	vr->last_used = (uint16_t)(vr->last_used - k);
}

/* Publish the used entries put since the last publish. */
static inline void
used_publish(const struct vsw_vdev *d, struct vsw_vring *vr)
{
	used_flush(vr);
	__atomic_store_n(&vr->used->idx, vr->last_used, __ATOMIC_RELEASE);
	vring_call(d, vr);
}

/*
 * A guest that moves its avail index more than a ring ahead of what vsw
 * took (a broken or hostile driver) gets nothing taken or given on that
 * vring until the index is sane again (as Linux's vhost does); counted
 * once per episode, not per poll.
 */
static inline bool
avail_sane(struct vsw_vring *vr, uint16_t ahead, struct vsw_vring_err *err)
{
	if (likely(ahead <= vr->size)) {
		vr->insane = 0;
		return true;
	}
	if (!vr->insane) {
		vr->insane = 1;
		err->bad++;
		err->insane = 1;
	}
	return false;
}

/* The vring q, if vsw may walk it now. */
static inline struct vsw_vring *
vring_get(struct vsw_vdev *d, uint16_t q)
{
	if (unlikely(q >= d->n_vrings || !d->vr[q].ok ||
		     !((atomic_load_explicit(d->ready, memory_order_relaxed) >> q) & 1)))
		return NULL;
	return &d->vr[q];
}

uint16_t
vsw_vring_pending(const struct vsw_vdev *d, uint16_t q)
{
	const struct vsw_vring *vr;

	if (q >= d->n_vrings || !d->vr[q].ok ||
	    !((atomic_load_explicit(d->ready, memory_order_relaxed) >> q) & 1))
		return 0;
	vr = &d->vr[q];
	return (uint16_t)(__atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE) - vr->last_avail);
}

int
vsw_vring_notify(struct vsw_vdev *d, uint16_t q, bool on)
{
	struct vsw_vring *vr;

	if (q >= d->n_vrings || !d->vr[q].ok)
		return -1;
	vr = &d->vr[q];
	if (!d->event_idx)
		__atomic_store_n(&vr->used->flags, on ? 0 : VRING_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
	else if (on)
		__atomic_store_n((uint16_t *)&vr->used->ring[vr->size], vr->last_avail,
				 __ATOMIC_RELAXED);
	return vr->kickfd;
}

/* -------------------------------------------------------- guest -> vsw */

/*
 * A partial checksum from a guest (VIRTIO_NET_HDR_F_NEEDS_CSUM): TCP and
 * UDP at their usual place are left for csum.c (which passes them on to a
 * guest that takes them); anything else is completed here. Cold.
 */
static __rte_noinline int
rx_partial(struct rte_mbuf *m, uint16_t start, uint16_t off)
{
	struct rte_net_hdr_lens hl;
	uint32_t ptype, l4;
	uint16_t sum;

	if ((uint32_t)start + off + 2 > m->pkt_len)
		return -1;
	ptype = rte_net_get_ptype(m, &hl, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK |
				  RTE_PTYPE_L4_MASK);
	l4 = ptype & RTE_PTYPE_L4_MASK;
	if ((l4 == RTE_PTYPE_L4_TCP || l4 == RTE_PTYPE_L4_UDP) &&
	    (uint32_t)hl.l2_len + hl.l3_len == start &&
	    off == (l4 == RTE_PTYPE_L4_TCP ? 16 : 6)) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		return 0;
	}
	if (rte_raw_cksum_mbuf(m, start, m->pkt_len - start, &sum) != 0)
		return -1;
	sum = (uint16_t)~sum;
	if (start + off + 2 <= m->data_len) {
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, start + off), &sum, 2);
	} else {
		struct rte_mbuf *s = m;
		uint32_t o = start + off, i;
		uint8_t *b = (uint8_t *)&sum;

		for (i = 0; i < 2; i++, o++) {
			while (s != NULL && o >= s->data_len) {
				o -= s->data_len;
				s = s->next;
			}
			if (s == NULL)
				return -1;
			*rte_pktmbuf_mtod_offset(s, uint8_t *, o) = b[i];
		}
	}
	return 0;
}

/* Copy the chain at c into m (header already read); 0, -1 malformed, -2 no mbuf. */
static inline int
rx_copy(struct vsw_vdev *d, struct cur *c, struct rte_mempool *pool, struct rte_mbuf *m)
{
	struct rte_mbuf *seg = m;
	uint32_t room = rte_pktmbuf_tailroom(m), k;
	uint8_t *dst = rte_pktmbuf_mtod(m, uint8_t *);
	int r;

	for (;;) {
		if (c->left == 0) {
			r = cur_piece(d, c, false);
			if (r != 0)
				return r > 0 ? 0 : -1;
		}
		if (unlikely(room == 0)) {
			struct rte_mbuf *nx;

			if (m->pkt_len >= VRING_MAX_FRAME)
				return -1;
			nx = rte_pktmbuf_alloc(pool);
			if (nx == NULL)
				return -2;
			seg->next = nx;
			seg = nx;
			m->nb_segs++;
			room = rte_pktmbuf_tailroom(seg);
			dst = rte_pktmbuf_mtod(seg, uint8_t *);
		}
		k = RTE_MIN(c->left, room);
		rte_memcpy(dst, c->va, k);
		dst += k;
		room -= k;
		c->va += k;
		c->left -= k;
		seg->data_len = (uint16_t)(seg->data_len + k);
		m->pkt_len += k;
	}
}

/* The RARP asked for, into pkts[0]: 1, or 0 (none asked, or no mbuf). Cold. */
static __rte_noinline uint16_t
rx_rarp(struct vsw_vdev *d, struct rte_mempool *pool, struct rte_mbuf **pkts)
{
	struct rte_ether_addr mac;
	uint64_t v = atomic_exchange_explicit(&d->rarp, 0, memory_order_acquire);
	int i;

	if (v == 0)
		return 0;
	for (i = 0; i < 6; i++)
		mac.addr_bytes[i] = (uint8_t)(v >> (8 * i));
	pkts[0] = rte_net_make_rarp_packet(pool, &mac);
	if (pkts[0] == NULL) {
		uint64_t none = 0;

		/* No mbuf now: the next receive tries again (unless a newer one came). */
		atomic_compare_exchange_strong_explicit(&d->rarp, &none, v, memory_order_relaxed,
							memory_order_relaxed);
		return 0;
	}
	return 1;
}

/* Up to n frames from vring vr into pkts. */
static inline uint16_t
rx_ring(struct vsw_vdev *d, struct vsw_vring *vr, struct rte_mempool *pool,
	struct rte_mbuf **pkts, uint16_t n, struct vsw_vring_err *err)
{
	struct virtio_net_hdr_mrg_rxbuf h = { 0 };
	uint16_t heads[VSW_BURST];
	uint8_t *va[VSW_BURST];
	uint32_t vlen[VSW_BURST];
	const bool lazy = vsw_lazy_flag != 0;
	struct rte_mbuf *m;
	uint16_t avail, cnt, i, out = 0, mask;
	struct cur c;
	int r;

	avail = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	cnt = (uint16_t)(avail - vr->last_avail);
	if (unlikely(!avail_sane(vr, cnt, err)))
		return 0;
	if (n > VSW_BURST)
		n = VSW_BURST;
	if (cnt > n)
		cnt = n;
	if (cnt == 0)
		return 0;
	if (unlikely(rte_pktmbuf_alloc_bulk(pool, pkts, cnt) != 0))
		return 0;	/* The frames wait in the guest's ring. */
	mask = (uint16_t)(vr->size - 1);
	/* Prefetch: the descriptors of the burst, then the buffers they point to. */
	for (i = 0; i < cnt; i++) {
		heads[i] = vr->avail->ring[(uint16_t)(vr->last_avail + i) & mask];
		if (likely(heads[i] < vr->size))
			rte_prefetch0(&vr->desc[heads[i]]);
	}
	for (i = 0; i < cnt; i++) {
		va[i] = desc_flat(d, vr, heads[i], &vlen[i], false);
		if (likely(va[i] != NULL)) {
			rte_prefetch0(va[i]);			/* The header... */
			rte_prefetch0(va[i] + d->hdr_len);	/* ...and the frame. */
		}
	}
	for (i = 0; i < cnt; i++) {
		m = pkts[out];
		vr->last_avail++;
		if (likely(va[i] != NULL && vlen[i] >= d->hdr_len &&
			   vlen[i] - d->hdr_len <= rte_pktmbuf_tailroom(m))) {
			/* One buffer that fits one mbuf: no cursor, header read in place. */
			uint32_t flen = vlen[i] - d->hdr_len;

			/* One snapshot of the header (10 bytes: num_buffers is not read). */
			memcpy(&h.hdr, va[i], sizeof(h.hdr));
			if (flen > VSW_LAZY_MIN && lazy && !(h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
				/* Copy once: the head now, the rest when it leaves. */
				struct vsw_lazy *z = vsw_lazy_of(m);

				rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), va[i] + d->hdr_len,
					   VSW_LAZY_HEAD);
				z->src = va[i] + d->hdr_len + VSW_LAZY_HEAD;
				z->at = (uint16_t)(m->data_off + VSW_LAZY_HEAD);
				z->len = (uint16_t)(flen - VSW_LAZY_HEAD);
				m->ol_flags |= vsw_lazy_flag;
			} else {
				rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), va[i] + d->hdr_len, flen);
			}
			m->data_len = (uint16_t)flen;
			m->pkt_len = flen;
			r = 0;
		} else {
			r = cur_start(d, vr, heads[i], &c, false);
			if (likely(r == 0))
				r = cur_read(d, &c, &h, d->hdr_len);
			if (likely(r == 0))
				r = rx_copy(d, &c, pool, m);
		}
		if (likely(r == 0) && unlikely(h.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE))
			r = -1;		/* TSO was not offered: a guest may not send it. */
		if (likely(r == 0) && unlikely(h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			r = rx_partial(m, h.hdr.csum_start, h.hdr.csum_offset);
		used_put(vr, heads[i], 0);
		if (unlikely(r != 0)) {
			if (r == -2)
				err->nombuf++;
			else
				err->bad++;
			/* The mbuf is reused for the next frame. */
			if (m->next != NULL) {
				rte_pktmbuf_free(m->next);
				m->next = NULL;
			}
			rte_pktmbuf_reset(m);
			continue;
		}
		err->lazy += (m->ol_flags & vsw_lazy_flag) != 0;
		out++;
	}
	/* Mbufs not filled (after a drop) go back. */
	if (out < cnt)
		rte_pktmbuf_free_bulk(&pkts[out], (unsigned int)(cnt - out));
	/*
	 * Lazy frames point into the guest's buffers: give them back after the
	 * burst (a lazy frame dropped here was reset: with none kept, now).
	 * err is the caller's, zeroed for this burst.
	 */
	if (err->lazy != 0)
		vr->held = 1;
	else
		used_publish(d, vr);
	return out;
}

void
vsw_vring_rx_done(struct vsw_vdev *d, uint16_t q)
{
	/*
	 * Not vring_get(): the guest may have disabled the vring meanwhile
	 * (the ready bit goes before the pause waits for the PMDs), and the
	 * entries must be published all the same; the rings stay mapped
	 * until vsw_vdev_release(), after the pause.
	 */
	struct vsw_vring *vr = q < d->n_vrings ? &d->vr[q] : NULL;

	if (vr != NULL && vr->held) {
		vr->held = 0;
		used_publish(d, vr);
	}
}

uint16_t
vsw_vring_rx(struct vsw_vdev *d, uint16_t q, struct rte_mempool *pool, struct rte_mbuf **pkts,
	     uint16_t n, struct vsw_vring_err *err)
{
	struct vsw_vring *vr = vring_get(d, q);
	uint16_t k = 0;

	if (unlikely(vr == NULL) || n == 0)
		return 0;
	/* First, so that the switch learns the guest's new place before its frames. */
	if (unlikely(atomic_load_explicit(&d->rarp, memory_order_relaxed) != 0))
		k = rx_rarp(d, pool, pkts);
	return (uint16_t)(k + rx_ring(d, vr, pool, pkts + k, (uint16_t)(n - k), err));
}

/* -------------------------------------------------------- vsw -> guest */

/* The virtio-net header of a frame: partial checksum and TSO marks. */
static inline void
tx_hdr(const struct rte_mbuf *m, struct virtio_net_hdr_mrg_rxbuf *h)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

	memset(h, 0, sizeof(*h));
	h->num_buffers = 1;
	if (likely(l4 == 0 && !(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)))
		return;
	h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->hdr.csum_start = (uint16_t)(m->l2_len + m->l3_len);
	h->hdr.csum_offset = l4 == RTE_MBUF_F_TX_UDP_CKSUM ? 6 :
			     l4 == RTE_MBUF_F_TX_SCTP_CKSUM ? 8 : 16;
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		h->hdr.csum_offset = 16;
		h->hdr.gso_type = (m->ol_flags & RTE_MBUF_F_TX_IPV6) ? VIRTIO_NET_HDR_GSO_TCPV6 :
				  VIRTIO_NET_HDR_GSO_TCPV4;
		h->hdr.gso_size = m->tso_segsz;
		h->hdr.hdr_len = (uint16_t)(m->l2_len + m->l3_len + m->l4_len);
	}
}

/* Where the header's num_buffers bytes landed in the guest's buffer. */
struct nb_at {
	uint8_t *p[2];
};

/*
 * Write len bytes of src at the cursor, as far as the chain goes; the
 * count written, or -1 if the chain is malformed. nb: record where bytes
 * 10 and 11 (num_buffers) of src went.
 */
static inline int32_t
cur_write(struct vsw_vdev *d, struct cur *c, const uint8_t *src, uint32_t len, struct nb_at *nb)
{
	uint32_t done = 0, k;
	int r;

	while (done < len) {
		if (c->left == 0) {
			r = cur_piece(d, c, true);
			if (r < 0)
				return -1;
			if (r > 0)
				break;
		}
		k = RTE_MIN(len - done, c->left);
		if (nb != NULL) {
			if (done <= 10 && 10 < done + k)
				nb->p[0] = c->va + (10 - done);
			if (done <= 11 && 11 < done + k)
				nb->p[1] = c->va + (11 - done);
		}
		rte_memcpy(c->va, src + done, k);
		c->va += k;
		c->left -= k;
		done += k;
	}
	return (int32_t)done;
}

/*
 * Write the frame's bytes from (seg, off) on; false if malformed. *wrote
 * grows by what went in; the position moves on.
 */
static inline int
tx_data(struct vsw_vdev *d, struct cur *c, const struct rte_mbuf **seg, uint32_t *off,
	uint32_t *wrote)
{
	int32_t w;

	while (*seg != NULL) {
		uint32_t len = (*seg)->data_len - *off;

		w = cur_write(d, c, rte_pktmbuf_mtod_offset(*seg, const uint8_t *, *off), len, NULL);
		if (w < 0)
			return -1;
		*wrote += (uint32_t)w;
		*off += (uint32_t)w;
		if ((uint32_t)w < len)
			return 1;	/* This chain is full. */
		*seg = (*seg)->next;
		*off = 0;
	}
	return 0;
}

/* Whether the 10 or 12 header bytes at p are h's (inline: no libc call). */
static inline bool
hdr_same(const uint8_t *p, const struct virtio_net_hdr_mrg_rxbuf *h, uint16_t len)
{
	uint64_t a, b;
	uint16_t x, y;

	/* Fixed sizes only: a run-time length would make these libc calls. */
	memcpy(&a, p, 8);
	memcpy(&b, h, 8);
	memcpy(&x, p + 8, 2);
	memcpy(&y, (const uint8_t *)h + 8, 2);
	if (a != b || x != y)
		return false;
	if (len == 10)
		return true;
	memcpy(&x, p + 10, 2);
	memcpy(&y, (const uint8_t *)h + 10, 2);
	return x == y;
}

/*
 * Store the virtio-net header at p, in one piece. Where the guest's buffer
 * holds it already (the same offload marks as the frame before: the usual
 * case, since a driver recycles its buffers), nothing is written: the line
 * stays shared with the guest's core instead of bouncing over to vsw's and
 * back (rte_vhost and the virtio PMD avoid those writes too).
 */
static inline void
hdr_store(uint8_t *p, const struct virtio_net_hdr_mrg_rxbuf *h, uint16_t len)
{
	if (!hdr_same(p, h, len))
		memcpy(p, h, len);
}

/* Put the virtio-net header at the cursor (hdr_store()): the written length, or -1. */
static inline int32_t
hdr_put(struct vsw_vdev *d, struct cur *c, const struct virtio_net_hdr_mrg_rxbuf *h,
	struct nb_at *nb)
{
	if (c->left == 0 && cur_piece(d, c, true) != 0)
		return -1;
	if (likely(c->left >= d->hdr_len)) {
		if (nb != NULL) {
			nb->p[0] = c->va + 10;
			nb->p[1] = c->va + 11;
		}
		hdr_store(c->va, h, d->hdr_len);
		c->va += d->hdr_len;
		c->left -= d->hdr_len;
		return d->hdr_len;
	}
	return cur_write(d, c, (const uint8_t *)h, d->hdr_len, nb);
}

/*
 * One frame, in one segment, into a one-descriptor buffer it fits whole
 * (mapped once, in the prefetch pass): no cursor. False if it does not fit.
 */
static inline bool
tx_flat(struct vsw_vdev *d, struct vsw_vring *vr, uint16_t head, uint8_t *va, uint32_t len,
	struct rte_mbuf *m)
{
	struct virtio_net_hdr_mrg_rxbuf h;

	if (unlikely(va == NULL || m->nb_segs != 1 || len < (uint32_t)d->hdr_len + m->data_len))
		return false;
	tx_hdr(m, &h);
	hdr_store(va, &h, d->hdr_len);
	if (m->ol_flags & vsw_lazy_flag) {
		/* Copy once: the head from the mbuf, the rest from the sender's buffer. */
		const struct vsw_lazy *z = vsw_lazy_of(m);
		const uint32_t hl = (uint32_t)z->at - m->data_off;

		if (likely(z->at >= m->data_off && hl + z->len == m->data_len)) {
			rte_memcpy(va + d->hdr_len, rte_pktmbuf_mtod(m, const uint8_t *), hl);
			rte_memcpy(va + d->hdr_len + hl, z->src, z->len);
			used_put(vr, head, (uint32_t)d->hdr_len + m->data_len);
			return true;
		}
		vsw_lazy_fill_slow(m);
	}
	rte_memcpy(va + d->hdr_len, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
	used_put(vr, head, (uint32_t)d->hdr_len + m->data_len);
	return true;
}

/*
 * One frame into one chain (no mergeable buffers): 0 placed, -1 the chain
 * is malformed or too short (given back empty).
 */
static inline int
tx_one(struct vsw_vdev *d, struct vsw_vring *vr, uint16_t head, const struct rte_mbuf *m)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	const struct rte_mbuf *seg = m;
	uint32_t off = 0, wrote = 0;
	struct cur c;

	tx_hdr(m, &h);
	if (cur_start(d, vr, head, &c, true) != 0 ||
	    hdr_put(d, &c, &h, NULL) != d->hdr_len ||
	    tx_data(d, &c, &seg, &off, &wrote) != 0) {
		used_put(vr, head, 0);
		return -1;
	}
	used_put(vr, head, d->hdr_len + wrote);
	return 0;
}

/*
 * One frame into as many avail entries as it needs (mergeable buffers):
 * 0 placed, 1 the ring ran out (nothing consumed), -1 a malformed chain
 * (what the frame took is given back empty).
 */
static inline int
tx_mrg(struct vsw_vdev *d, struct vsw_vring *vr, uint16_t avail, const struct rte_mbuf *m)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	const struct rte_mbuf *seg = m;
	const uint16_t la0 = vr->last_avail, lu0 = vr->last_used;
	const uint16_t mask = (uint16_t)(vr->size - 1);
	uint32_t off = 0, wrote;
	struct nb_at nb = { { NULL, NULL } };
	uint16_t head, nbuf = 0;
	struct cur c;
	int r = 1;

	tx_hdr(m, &h);
	while (seg != NULL) {
		if (vr->last_avail == avail || (uint16_t)(vr->last_avail - la0) >= vr->size) {
			vr->last_avail = la0;	/* Not enough room: try again later. */
			used_unput(vr, (uint16_t)(vr->last_used - lu0));
			return 1;
		}
		head = vr->avail->ring[vr->last_avail & mask];
		vr->last_avail++;
		wrote = 0;
		if (cur_start(d, vr, head, &c, true) != 0)
			goto bad;
		if (nbuf == 0) {
			if (hdr_put(d, &c, &h, &nb) != d->hdr_len)
				goto bad;
			wrote = d->hdr_len;
		}
		r = tx_data(d, &c, &seg, &off, &wrote);
		if (r < 0 || (wrote == 0 && seg != NULL))
			goto bad;	/* A chain with no room would loop forever. */
		used_put(vr, head, wrote);
		nbuf++;
	}
	/* The header said 1; more buffers: patch it (written only if different). */
	if (nbuf != 1 && nb.p[0] != NULL && nb.p[1] != NULL) {
		*nb.p[0] = (uint8_t)(nbuf & 0xff);
		*nb.p[1] = (uint8_t)(nbuf >> 8);
	}
	return 0;
bad:
	/* Every entry the frame took goes back with length 0. */
	used_unput(vr, (uint16_t)(vr->last_used - lu0));
	while (vr->last_used != (uint16_t)(lu0 + (uint16_t)(vr->last_avail - la0)))
		used_put(vr, vr->avail->ring[(uint16_t)(la0 + (vr->last_used - lu0)) & mask], 0);
	return -1;
}

uint16_t
vsw_vring_tx(struct vsw_vdev *d, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
	     struct vsw_vring_err *err)
{
	struct vsw_vring *vr = vring_get(d, q);
	uint16_t avail, room, i, k, mask, la0;
	uint16_t fhead[VSW_BURST];
	uint8_t *fva[VSW_BURST];
	uint32_t flen[VSW_BURST];
	int r;

	if (unlikely(vr == NULL))
		return 0;
	avail = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	room = (uint16_t)(avail - vr->last_avail);
	if (unlikely(!avail_sane(vr, room, err)) || room == 0)
		return 0;
	mask = (uint16_t)(vr->size - 1);
	la0 = vr->last_avail;
	/* Prefetch the guest's next buffers: descriptors, then the buffers. */
	k = RTE_MIN(room, n);
	if (k > VSW_BURST)
		k = VSW_BURST;
	for (i = 0; i < k; i++) {
		fhead[i] = vr->avail->ring[(uint16_t)(la0 + i) & mask];
		if (likely(fhead[i] < vr->size))
			rte_prefetch0(&vr->desc[fhead[i]]);
	}
	for (i = 0; i < k; i++) {
		fva[i] = desc_flat(d, vr, fhead[i], &flen[i], true);
		if (likely(fva[i] != NULL)) {
			rte_prefetch0(fva[i]);	/* The header: compared, rarely written. */
			rte_prefetch0_write(fva[i] + d->hdr_len);
		}
	}
	for (i = 0; i < n; i++) {
		uint16_t at = (uint16_t)(vr->last_avail - la0);

		if (vr->last_avail == avail)
			break;
		/* Mapped in the prefetch pass and big enough: the short way. */
		if (likely(at < k) && tx_flat(d, vr, fhead[at], fva[at], flen[at], pkts[i])) {
			vr->last_avail++;
			continue;
		}
		vsw_lazy_fill(pkts[i]);		/* The cursor walk reads the mbuf only. */
		if (d->mrg) {
			r = tx_mrg(d, vr, avail, pkts[i]);
			if (r > 0)
				break;
		} else {
			r = tx_one(d, vr, vr->avail->ring[vr->last_avail & mask], pkts[i]);
			vr->last_avail++;
		}
		if (unlikely(r < 0)) {
			err->bad++;
			if (i < 64)
				err->bad_mask |= 1ULL << i;
		}
	}
	if (i != 0)
		used_publish(d, vr);
	return i;
}
