/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vsw's own split-virtqueue walk for vhost-user guests.
 *
 * rte_vhost keeps the vhost-user protocol (sockets, negotiation, memory
 * table, reconnection); while a guest's device runs, vsw reads and writes
 * its split rings itself instead of calling rte_vhost_dequeue_burst() /
 * rte_vhost_enqueue_burst(). What that buys: prefetch of the guest's
 * descriptors and buffers a burst ahead (rte_vhost has no hook for it;
 * with 64 guests their buffers are cache misses), and no vring lock,
 * IOTLB or async checks per burst.
 *
 * The handover with rte_vhost (see docs/architecture.md, "Own vring walk"):
 *  - vsw_vdev_build() takes the ring addresses, the memory table and the
 *    ring indices from rte_vhost when a device starts or resumes;
 *  - before rte_vhost handles any vhost-user message that can change
 *    them, the port module's pre-message handler unpublishes the device
 *    and waits for a grace period, and vsw_vdev_release() writes the
 *    indices back (rte_vhost_set_vring_base), so rte_vhost (and
 *    GET_VRING_BASE) sees exactly where vsw stopped;
 *  - after the message, the device is built again from what rte_vhost now
 *    holds.
 * A device whose features vsw does not walk itself (packed ring, IOMMU,
 * dirty logging for live migration, host TSO) stays on rte_vhost's
 * functions, unchanged.
 *
 * A vring belongs to one PMD (guest tx: the PMD polling that queue; guest
 * rx: VSW_VQ_GUEST_RX(pmd index)), so its indices have a single writer.
 */
#ifndef VSW_VRING_H
#define VSW_VRING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

struct rte_mempool;
struct rte_vhost_memory;

/** Used entries a vring holds back until the end of a burst (or until full). */
#define VSW_VRING_SHADOW 64

/** Vrings of one device vsw walks itself (32 queue pairs). */
#define VSW_VDEV_VRINGS 64

/** One split virtqueue. Written only by the PMD that owns it. */
struct vsw_vring {
	struct vring_desc *desc;	/**< Descriptor table (host address). */
	struct vring_avail *avail;	/**< Driver area. */
	struct vring_used *used;	/**< Device area. */
	uint16_t size;			/**< Entries (power of two). */
	uint16_t last_avail;		/**< Next avail entry vsw takes. */
	uint16_t last_used;		/**< Next used entry vsw writes. */
	uint16_t signalled;		/**< used->idx at the last call (event idx). */
	int callfd;			/**< Eventfd to interrupt the guest, < 0 if none. */
	int kickfd;			/**< Eventfd the guest kicks, < 0 if none. */
	uint8_t ok;			/**< Addresses set: vsw may walk it. */
	uint8_t signalled_valid;	/**< signalled holds a value. */
	uint8_t insane;			/**< The avail index is more than a ring ahead. */
	uint8_t held;			/**< Used entries wait for vsw_vring_rx_done(). */
	uint16_t sh_n;			/**< Used entries waiting in sh[]. */
	/**
	 * Used entries of the burst, written to the ring together at its end:
	 * the guest polls the used ring's first line, and writing an entry
	 * per frame there would pull that line back and forth all burst long.
	 */
	struct vring_used_elem sh[VSW_VRING_SHADOW];
} __rte_cache_aligned;

/** A guest's device while vsw walks its rings. */
struct vsw_vdev {
	int vid;			/**< rte_vhost device id. */
	uint16_t n_vrings;		/**< vr[] entries. */
	uint16_t hdr_len;		/**< virtio-net header: 10 or 12 bytes. */
	uint8_t mrg;			/**< VIRTIO_NET_F_MRG_RXBUF. */
	uint8_t event_idx;		/**< VIRTIO_RING_F_EVENT_IDX. */
	uint8_t indirect;		/**< VIRTIO_RING_F_INDIRECT_DESC. */
	/**
	 * A RARP to send from the guest's MAC (SEND_RARP after a live
	 * migration): MAC in the low 48 bits, bit 48 set; 0 when none.
	 */
	_Atomic uint64_t rarp;
	/** Which vrings the guest enabled (the port module's bitmap). */
	const _Atomic uint64_t *ready;
	struct rte_vhost_memory *mem;	/**< Guest memory regions (a copy). */
	struct vsw_vring vr[VSW_VDEV_VRINGS];
};

/**
 * The device vsw walks itself for guest vid, or NULL when rte_vhost's
 * functions must move its frames (features vsw does not walk, vsw's walk
 * turned off, no memory table). Control side.
 */
struct vsw_vdev *vsw_vdev_build(int vid, const _Atomic uint64_t *ready);

/**
 * Give the rings back to rte_vhost (their indices) and free d. Only after
 * a grace period since d was unpublished, while the device still exists.
 */
void vsw_vdev_release(struct vsw_vdev *d);

/**
 * Have the next receive on d start with a RARP broadcast from mac (as
 * rte_vhost does after SEND_RARP): the switch learns where the migrated
 * guest is now. Control side, while d is published.
 */
void vsw_vdev_rarp(struct vsw_vdev *d, const uint8_t mac[6]);

/** vsw's walk on (--vhost-walk=vsw, the default) or off (rte: rte_vhost's functions). */
extern bool vsw_vdev_walk;

/*
 * Copy once ("--vhost-copy=once", the default with the walk). A frame
 * longer than VSW_LAZY_MIN that the walk receives gets only its first
 * VSW_LAZY_HEAD bytes copied into the mbuf (what the switch reads); the
 * rest stays in the sending guest's buffer, which the guest gets back only
 * after the burst was switched (vsw_vring_rx_done()). The mbuf carries
 * vsw_lazy_flag and where the rest is. A walked guest's receive copies the
 * rest straight from the sender's buffer: one copy instead of two. Every
 * other user of the frame's bytes (a DPDK port, rte_vhost's enqueue,
 * capture, a VLAN copy) calls vsw_lazy_fill() first, which copies the rest
 * into the mbuf. Every mbuf leaves the PMD within the burst (pmd_dp.c
 * flushes its per-port buffers at the end of each), so no mbuf that still
 * points into a guest's buffer outlives the burst.
 */
#define VSW_LAZY_MIN 512
#define VSW_LAZY_HEAD 128

/** Where a lazy frame's rest is (an mbuf dynamic field). */
struct vsw_lazy {
	const uint8_t *src;	/**< The rest, in the sending guest's buffer. */
	uint16_t at;		/**< Its place in the mbuf's buffer (from buf_addr). */
	uint16_t len;		/**< Its length. */
};

/** The mbuf flag of a lazy frame; 0 when copy-once is off. */
extern uint64_t vsw_lazy_flag;
/** Offset of struct vsw_lazy in the mbuf. */
extern int vsw_lazy_field;

/** Register the flag and field (after EAL init); 0 or -1 (then copy twice). */
int vsw_lazy_init(void);

static inline struct vsw_lazy *
vsw_lazy_of(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, vsw_lazy_field, struct vsw_lazy *);
}

/** Copy the rest of lazy frame m into it (cold; vsw_lazy_fill() checks). */
void vsw_lazy_fill_slow(struct rte_mbuf *m);

/** Make m's bytes all its own (no-op unless lazy). */
static inline void
vsw_lazy_fill(struct rte_mbuf *m)
{
	if (unlikely(m->ol_flags & vsw_lazy_flag))
		vsw_lazy_fill_slow(m);
}

static inline void
vsw_lazy_fill_bulk(struct rte_mbuf **m, uint16_t n)
{
	uint16_t i;

	if (vsw_lazy_flag == 0)
		return;
	for (i = 0; i < n; i++)
		vsw_lazy_fill(m[i]);
}

/** What a burst could not move, for the port's drop counters. */
struct vsw_vring_err {
	uint32_t bad;		/**< Malformed descriptor chains (guest_desc). */
	uint32_t nombuf;	/**< Frames dropped for want of an mbuf segment. */
	uint64_t bad_mask;	/**< Tx: which of the first 64 frames were bad. */
	uint32_t insane;	/**< Counted in bad: an avail index past the ring. */
	uint32_t lazy;		/**< Rx: frames left lazy (copy once). */
};

/**
 * Receive up to n frames the guest sent on vring q into mbufs from pool.
 * Frames with a partial checksum are marked RTE_MBUF_F_RX_L4_CKSUM_NONE
 * (csum.c finishes them) or completed here for other protocols.
 * err counts what was dropped (the guest's buffers are given back). PMD.
 */
uint16_t vsw_vring_rx(struct vsw_vdev *d, uint16_t q, struct rte_mempool *pool,
		      struct rte_mbuf **pkts, uint16_t n, struct vsw_vring_err *err);

/**
 * After the frames of a vsw_vring_rx() burst were switched (sent or
 * freed): give the guest back the buffers lazy frames still pointed into.
 * No-op if the burst held none. PMD, same d as the receive.
 */
void vsw_vring_rx_done(struct vsw_vdev *d, uint16_t q);

/**
 * Copy up to n frames into the guest's receive buffers of vring q;
 * returns how many were placed (the rest did not fit: ring full). The
 * mbufs stay the caller's. err->bad counts frames dropped because the
 * guest's buffer chain was malformed or too short (they count as placed,
 * the buffers go back to the guest empty). PMD.
 */
uint16_t vsw_vring_tx(struct vsw_vdev *d, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
		      struct vsw_vring_err *err);

/**
 * Start loading what the next walk of vring q will touch first: the avail
 * index and entries and, for a ring frames go to (dest), the descriptor an
 * in-order driver posts next and the used entry. The PMD calls it for the
 * next queue it polls and for each port a burst sends to, so those cache
 * misses overlap the current work.
 */
static inline void
vsw_vring_prefetch(const struct vsw_vdev *d, uint16_t q, bool dest)
{
	const struct vsw_vring *vr;
	uint16_t mask;

	if (q >= d->n_vrings || !d->vr[q].ok)
		return;
	vr = &d->vr[q];
	mask = (uint16_t)(vr->size - 1);
	rte_prefetch0(&vr->avail->idx);
	rte_prefetch0(&vr->avail->ring[vr->last_avail & mask]);
	/*
	 * The used ring only where frames are about to be written: a queue
	 * that is only polled may be empty, and taking its used line for
	 * writing on every poll would pull it away from the guest's core,
	 * which reads it, over and over (at 16 ports, 64 B: 4.5-5.3 Mpps
	 * against 4.5 with it, three paired rounds; 2 ports unchanged).
	 */
	if (dest) {
		rte_prefetch0(&vr->desc[vr->last_avail & mask]);
		rte_prefetch0_write(&vr->used->ring[vr->last_used & mask]);
	}
}

/** Frames waiting in vring q (what the guest posted that vsw has not taken). */
uint16_t vsw_vring_pending(const struct vsw_vdev *d, uint16_t q);

/**
 * Ask the guest to kick vring q (on) or not (off), for the PMD's kick
 * sleep. Returns the kick eventfd, or -1 if the vring has none.
 */
int vsw_vring_notify(struct vsw_vdev *d, uint16_t q, bool on);

#endif
