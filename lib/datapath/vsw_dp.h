/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path: PMD threads and the configuration they read.
 *
 * Ownership. The control thread owns the configuration. It builds an
 * immutable struct vsw_dp_conf (which bridge each port slot belongs to,
 * the member ports and learning table of every bridge, the (port, queue)
 * pairs each PMD polls), publishes it with a release store into
 * vsw_dp_cur, waits with rte_rcu_qsbr_synchronize() until every PMD has
 * passed a quiescent state, and only then frees the previous snapshot or
 * anything only it referenced (a deleted port's device, a deleted
 * bridge's table). A PMD loads the pointer once per loop iteration and
 * reports a quiescent state at the end of the iteration, so it never sees
 * a half-edited configuration and never touches freed memory. This is
 * the only handshake between the two planes.
 *
 * Each PMD owns its struct vsw_pmd: counters per port slot and per rx
 * queue, cycle counts. It is the only writer (plain stores); the control
 * thread reads and sums.
 *
 * Learning. A PMD does not write the learning table (see vsw_fdb.h); it
 * pushes a struct vsw_learn_req onto vsw_dp_learn_ring (multi-producer,
 * single-consumer), which the control thread drains.
 *
 * Tx queues: every port has one tx queue per PMD, indexed by the PMD's
 * index, so no two threads share a tx queue.
 *
 * vhost-user ports are not ethdevs: the port module registers their
 * sockets with rte_vhost (it owns reconnection and negotiation), and a PMD
 * moves their frames with rte_vhost_dequeue_burst()/
 * rte_vhost_enqueue_burst() on the vhost device id in vsw_port_vid[]. The
 * id changes when a guest attaches or leaves, without a new snapshot:
 * whoever changes it (rte_vhost's thread inside the new/destroy device
 * notifications, or the control thread when it closes the port) waits for
 * a grace period before the old device may be freed, so a PMD never uses a
 * device id that is gone.
 */
#ifndef VSW_DP_H
#define VSW_DP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_meter.h>

#include "vsw_common.h"
#include "vsw_fdb.h"
#include "vsw_l2.h"
#include "vsw_stats.h"
#include "vsw_vring.h"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

/**
 * Input-side feature bits of a port (vsw_dp_port.feat) and bridge-wide
 * bits (vsw_dp_bridge.feat). A burst from a port whose feat and whose
 * bridge's feat are both 0 takes the plain path, compiled without any of
 * the feature code: a feature that is off costs one branch per burst.
 */
enum vsw_dp_feat {
	VSW_PF_ALLOWED_MACS = 1 << 0,	/**< Port security. */
	VSW_PF_POLICE = 1 << 1,		/**< Ingress policing. */
	VSW_PF_STORM = 1 << 2,		/**< Storm control. */
	VSW_PF_PROTECTED = 1 << 3,	/**< Protected port. */
	VSW_PF_MIRROR_RX = 1 << 4,	/**< Ingress mirrored. */
	VSW_PF_MIRROR_DST = 1 << 5,	/**< A mirror output: frames in are dropped. */
	VSW_PF_LIMIT_FWD = 1 << 6,	/**< on-limit=flood|log. */
	VSW_BF_VLAN = 1 << 0,		/**< Some member sets a VLAN option. */
	VSW_BF_MIRROR_TX = 1 << 1,	/**< Some member's egress is mirrored. */
};

/** Policer and storm-control parameters of a port (this PMD's share). */
struct vsw_dp_qos {
	uint32_t gen;					/**< Changes when these do. */
	uint8_t police;					/**< Bit 0: bytes, bit 1: frames. */
	uint8_t storm_on;				/**< Bit per enum vsw_storm_class. */
	struct rte_meter_srtcm_profile police_bytes;	/**< Bytes/s. */
	struct rte_meter_srtcm_profile police_pkts;	/**< Frames/s (1 "byte" per frame). */
	struct rte_meter_srtcm_profile storm[VSW_STORM_MAX];	/**< Frames/s. */
};

/** A port slot as the data path sees it. */
struct vsw_dp_port {
	uint32_t max_len;	/**< Longest frame it may send: MTU + 18 (header, one tag). */
	uint16_t eth_port;	/**< ethdev port id. */
	uint16_t bridge;	/**< Bridge index. */
	uint16_t gen;		/**< Slot generation, to spot stale learn requests. */
	uint8_t valid;		/**< Slot in use and started. */
	uint8_t feat;		/**< enum vsw_dp_feat VSW_PF_* bits. */
	uint8_t vhost;		/**< vhost-user: send with rte_vhost (vsw_port_vid). */
	/* The rest is read only on the feature path. */
	uint16_t pvid;		/**< VLAN of untagged frames in; leaves untagged. */
	uint8_t access;		/**< Tagged frames in (vid != 0) are dropped. */
	uint8_t is_protected;	/**< Protected port. */
	uint8_t on_limit;	/**< enum vsw_on_limit. */
	uint8_t mirror_dir;	/**< enum vsw_mirror_dir bits. */
	uint16_t mirror_slot;	/**< Mirror output slot. */
	uint16_t n_allowed;	/**< allowed[] entries. */
	uint64_t allowed[VSW_MAX_ALLOWED_MACS];	/**< Allowed sources, as 48-bit values. */
	struct vsw_dp_qos qos;	/**< Policing and storm control. */
	uint64_t vlans[(VSW_VLAN_MAX + 1) / 64];	/**< VLANs it carries (bit 0 = untagged). */
};

/** A bridge as the data path sees it. */
struct vsw_dp_bridge {
	struct vsw_fdb *fdb;		/**< Learning table. */
	uint16_t idx;			/**< Bridge index. */
	uint16_t n_ports;		/**< Started member ports (mirror outputs excluded). */
	uint8_t feat;			/**< enum vsw_dp_feat VSW_BF_* bits. */
	uint16_t ports[VSW_MAX_PORTS];	/**< Their slots. */
};

/** One (port, rx queue) pair polled by a PMD. */
struct vsw_dp_rxq {
	uint16_t slot;		/**< Port slot. */
	uint16_t eth_port;	/**< ethdev port id. */
	uint16_t queue;		/**< Rx queue. */
	uint8_t vhost;		/**< vhost-user: receive with rte_vhost (vsw_port_vid). */
	struct rte_mempool *pool;	/**< vhost-user: mbufs for received frames. */
};

/** What one PMD polls. */
struct vsw_dp_poll {
	uint16_t n_rxq;
	struct vsw_dp_rxq rxq[VSW_MAX_PMD_RXQ];
};

/** An immutable configuration snapshot. */
struct vsw_dp_conf {
	uint64_t gen;					/**< Publication counter. */
	struct vsw_dp_port ports[VSW_MAX_PORTS];	/**< By slot. */
	struct vsw_dp_bridge *bridges[VSW_MAX_BRIDGES];	/**< By index, NULL if none. */
	struct vsw_dp_poll poll[VSW_MAX_PMDS];		/**< By PMD index. */
};

/** Capture directions (bits of vsw_capture_flags[slot]). */
enum vsw_capture_dir {
	VSW_CAPTURE_RX = 1,	/**< Frames the port received. */
	VSW_CAPTURE_TX = 2,	/**< Frames sent out of the port. */
};

/** A captured frame, from a PMD to the control thread. */
struct vsw_capture_rec {
	struct rte_mbuf *m;	/**< Copy of the frame (up to the snap length). */
	uint64_t tsc;		/**< When the PMD saw it. */
	uint32_t orig_len;	/**< Length of the original frame. */
	uint16_t slot;		/**< Port slot. */
	uint8_t dir;		/**< VSW_CAPTURE_RX or VSW_CAPTURE_TX. */
	uint8_t pad;
};

/** A learn request from a PMD to the control thread. */
struct vsw_learn_req {
	struct vsw_fdb_key key;	/**< Source (vlan, mac). */
	uint16_t slot;		/**< Input port slot. */
	uint16_t bridge;	/**< Its bridge. */
	uint16_t gen;		/**< Slot generation when seen. */
	uint16_t pad;
};

/** Per (PMD, port slot, rx queue) counters. */
struct vsw_rxq_ctrs {
	uint64_t pkts;		/**< Frames received. */
	uint64_t bytes;		/**< Their bytes. */
	uint64_t cycles;	/**< TSC cycles spent on its bursts. */
};

/** Run-time policer and storm-control state of one (PMD, port). */
struct vsw_pmd_qos {
	uint32_t gen;				/**< vsw_dp_qos.gen it was set up for. */
	struct rte_meter_srtcm police_bytes;
	struct rte_meter_srtcm police_pkts;
	struct rte_meter_srtcm storm[VSW_STORM_MAX];
};

/** Burst-size buckets of pmd-stats: 1, 2-3, 4-7, 8-15, 16-31, 32. */
#define VSW_BURST_BUCKETS 6

/** One PMD thread's state. Written only by that PMD (except `quit`). */
struct vsw_pmd {
	unsigned int lcore;		/**< EAL lcore id. */
	unsigned int idx;		/**< PMD index = its tx queue on every port. */
	atomic_bool quit;		/**< Set by the control thread. */
	int wake_fd;			/**< eventfd: ends an idle sleep (vsw_dp_wake). */
	bool running;			/**< Launched. */
	uint64_t packets __rte_cache_aligned;	/**< Frames received. */
	uint64_t busy_cycles;		/**< Cycles of polls that returned frames. */
	uint64_t idle_cycles;		/**< Cycles of empty polls. */
	uint64_t iterations;		/**< Loop iterations. */
	uint64_t learn_ring_full;	/**< Learn requests lost: ring full. */
	uint64_t capture_lost;		/**< Captured frames lost: no mbuf or ring full. */
	uint64_t sleeps;		/**< Idle back-off timed sleeps (--pmd-sleep-max). */
	uint64_t kick_sleeps;		/**< Idle back-off sleeps until a guest kicks. */
	uint64_t burst_hist[VSW_BURST_BUCKETS];	/**< Non-empty polls by burst size. */
	struct vsw_port_ctrs ctrs[VSW_MAX_PORTS];	/**< By port slot. */
	struct vsw_rxq_ctrs rxq[VSW_MAX_PORTS][VSW_MAX_QUEUES];
	/* Scratch of vsw_dp_process(), private to the PMD. */
	uint64_t last_learn_key;	/**< Last learn request sent ... */
	uint32_t last_learn_sec;	/**< ... in this second ... */
	uint16_t last_learn_slot;	/**< ... from this slot. */
	uint16_t n_touched;		/**< Output slots with frames queued. */
	uint16_t touched[VSW_MAX_PORTS];	/**< Those slots. */
	uint16_t txcnt[VSW_MAX_PORTS];		/**< Frames queued per slot. */
	struct rte_mbuf *txbuf[VSW_MAX_PORTS][VSW_BURST]; /**< Queued frames. */
	struct vsw_pmd_qos qos[VSW_MAX_PORTS];	/**< Policers, storm buckets. */
} __rte_cache_aligned;

/** The published configuration; PMDs load it with acquire. */
extern struct vsw_dp_conf *_Atomic vsw_dp_cur;
/** PMD states, by PMD index. */
extern struct vsw_pmd *vsw_pmds[VSW_MAX_PMDS];
/** Number of PMDs. */
extern unsigned int vsw_n_pmds;
/**
 * Idle back-off: when > 0, a PMD that found nothing to do for
 * VSW_IDLE_ITERS loop iterations goes offline (QSBR) and sleeps: until a
 * guest kicks, if it polls only vhost-user queues (see idle_sleep() in
 * pmd_dp.c), else 1 us at first, doubling up to this many microseconds.
 * Traffic ends it. 0 (the default) = always poll.
 */
extern _Atomic uint32_t vsw_pmd_sleep_max_us;
#define VSW_IDLE_ITERS 1024

/** The QSBR variable of the PMDs (thread id = PMD index). */
extern struct rte_rcu_qsbr *vsw_qsbr;
/** PMD -> control learn requests. */
extern struct rte_ring *vsw_dp_learn_ring;
/** Link state of each port slot, written by the control thread. */
extern _Atomic uint8_t vsw_port_up[VSW_MAX_PORTS];
/**
 * vhost device id of each vhost-user port slot, -1 while no guest is
 * attached (see "vhost-user ports" above), with VSW_VID_WALKED set while
 * vsw walks the guest's rings itself (vsw_port_vdev[slot], vsw_vring.h)
 * rather than calling rte_vhost's functions. One word, so a PMD never
 * sees a walked guest as an rte_vhost one. Set with vsw_dp_set_vid().
 */
extern _Atomic int32_t vsw_port_vid[VSW_MAX_PORTS];
#define VSW_VID_WALKED (1 << 30)
/** The walked device of each slot; valid while its id has VSW_VID_WALKED. */
extern struct vsw_vdev *_Atomic vsw_port_vdev[VSW_MAX_PORTS];

/**
 * What the guest on each vhost-user port slot takes (VSW_GUEST_*): frames
 * with a partial TCP/UDP checksum (it negotiated VIRTIO_NET_F_GUEST_CSUM),
 * TCP segmentation offload frames (VIRTIO_NET_F_GUEST_TSO4/6). Set with
 * the device id by vsw_dp_set_vid().
 */
extern _Atomic uint8_t vsw_port_guest_ol[VSW_MAX_PORTS];
#define VSW_GUEST_CSUM 1
#define VSW_GUEST_TSO4 2
#define VSW_GUEST_TSO6 4

/**
 * Partial checksums (csum.c): the mbuf dynamic flag that marks a frame
 * whose TCP/UDP checksum field holds only the pseudo-header sum (0 until
 * vsw_csum_init() registered it).
 */
extern uint64_t vsw_csum_partial;
/** The tx offload marks a partial frame carries besides vsw_csum_partial. */
#define VSW_CSUM_TX_FLAGS (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | \
			   RTE_MBUF_F_TX_IPV6)
/** Register the dynamic flag (any thread, after rte_eal_init). */
int vsw_csum_init(void);
/**
 * A frame a guest sent with a partial sum (rte_vhost: RX_L4_CKSUM_NONE):
 * mark it partial for rte_vhost's enqueue (TX_{TCP,UDP}_CKSUM, l2/l3_len)
 * and for vsw (vsw_csum_partial).
 */
void vsw_csum_defer(struct rte_mbuf *m);
/** Complete a partial sum in place and clear the marks. */
void vsw_csum_fill(struct rte_mbuf *m);
/**
 * Cut a TSO frame (vsw_csum_defer() marked it TX_TCP_SEG) into complete
 * TCP segments of at most max_len bytes each, new mbufs from m's pool, in
 * out[] (m is left as it is). *pos is how many payload bytes were cut
 * already (0 on the first call); it makes at most n_out segments from
 * there and moves *pos past them. Returns how many, 0 once all are made,
 * or -EINVAL (not a frame it can cut), -ENOSPC (n_out is 0), -ENOMEM
 * (nothing of this call is kept).
 */
int vsw_tso_segment(struct rte_mbuf *m, uint32_t max_len, uint32_t *pos, struct rte_mbuf **out,
		    uint16_t n_out);
/**
 * The other VLAN form of a shared frame (push a tag of vid, or pop the
 * outer one), sharing m's payload: a new head mbuf with a private copy of
 * the headers, chained to an indirect clone of the rest. A partial sum or
 * TSO frame keeps its marks, with its L2-L4 headers in the head. m keeps
 * its reference; NULL when out of mbufs. Cold.
 */
struct rte_mbuf *vsw_dp_vlan_copy(struct rte_mbuf *m, bool push, uint16_t vid);
/** Length of the frame's Ethernet header with its VLAN tags. */
uint32_t vsw_csum_l2_len(const struct rte_mbuf *m);
/**
 * Length of a partial frame's headers up to the end of its L4 header (the
 * TCP or UDP header holding the checksum field; TSO: the whole TCP header).
 */
uint32_t vsw_csum_hdr_len(const struct rte_mbuf *m);

/** Virtqueues of queue pair q: what the guest sends, what it receives. */
#define VSW_VQ_GUEST_TX(q) ((uint16_t)((q) * 2 + 1))
#define VSW_VQ_GUEST_RX(q) ((uint16_t)((q) * 2))

/**
 * Set a slot's vhost device id; if it replaces another id (or the same
 * one while vsw walks its rings), wait until no PMD can still be using
 * that one, and give the rings back to rte_vhost. A new device is walked
 * by vsw (vsw_vring.h) when its features allow; ready: the port module's
 * bitmap of the vrings the guest enabled (NULL: rte_vhost's functions).
 * Any thread but a PMD.
 */
void vsw_dp_set_vid(uint16_t slot, int32_t vid, const _Atomic uint64_t *ready);
/**
 * Before rte_vhost handles a vhost-user message of guest vid: if vsw
 * walks its rings, take the device back as vsw_dp_set_vid(slot, -1) does
 * and return true (the caller sets it again after the message).
 */
bool vsw_dp_pause_vid(uint16_t slot, int32_t vid);
/** Whether vsw walks the rings of the guest on slot itself (vhost-show). */
bool vsw_dp_vid_walked(uint16_t slot);
/**
 * A RARP from mac on the walked guest vid of slot's next receive
 * (SEND_RARP): true, or false if vsw does not walk that guest.
 */
bool vsw_dp_rarp_vid(uint16_t slot, int32_t vid, const uint8_t mac[6]);
/**
 * Capture: directions to copy for each port slot (0 = off: the only cost
 * of capture on the fast path is reading this byte), the pool the copies
 * come from, the ring they go to, and the snap length. Set by the control
 * thread; the pool and ring exist before any flag is set.
 */
extern _Atomic uint8_t vsw_capture_flags[VSW_MAX_PORTS];
extern struct rte_mempool *vsw_capture_pool;
extern struct rte_ring *vsw_capture_ring;
extern _Atomic uint32_t vsw_capture_snaplen[VSW_MAX_PORTS];

/**
 * Create the QSBR variable, the learn ring and the PMD states for the
 * given lcores. Control thread, once. @return 0 or -errno.
 */
int vsw_dp_init(const unsigned int *lcores, unsigned int n);

/**
 * PMDs asleep until a guest kicks, and an eventfd a PMD writes when a kick
 * wakes it: the control thread may tick slowly while every PMD sleeps so,
 * and watches the fd to resume its normal tick at once.
 */
extern _Atomic uint32_t vsw_dp_kick_sleepers;
extern int vsw_dp_main_wake_fd;

/** Wake every PMD sleeping in its idle back-off. Not for PMDs. */
void vsw_dp_wake(void);

/** Launch every PMD on its lcore. @return 0 or -errno. */
int vsw_dp_start(void);

/** Stop and join every PMD. */
void vsw_dp_stop(void);

/**
 * Publish a new configuration and wait until no PMD can see the old one,
 * which is returned for the caller to free (free() it; NULL at first).
 */
struct vsw_dp_conf *vsw_dp_publish(struct vsw_dp_conf *conf);

/** The (first) CPU an lcore runs on, or -1. */
int vsw_lcore_cpu(unsigned int lcore);

/** Wait until every PMD has passed a quiescent state. */
void vsw_dp_sync(void);

/** The PMD loop (lcore_function_t); arg is the struct vsw_pmd. */
int vsw_pmd_main(void *arg);

/**
 * Process one received burst of a port: parse, learn, look up, forward.
 * Exposed for tests and benchmarks. PMD context.
 */
void vsw_dp_process(struct vsw_pmd *pmd, const struct vsw_dp_conf *conf, uint16_t in_slot,
		    struct rte_mbuf **pkts, uint16_t n);

/** Classification of one frame, pure (unit-tested). */
enum vsw_frame_class {
	VSW_FRAME_UNICAST,	/**< Unicast destination: look it up. */
	VSW_FRAME_FLOOD,	/**< Broadcast or multicast destination. */
	VSW_FRAME_RUNT,		/**< Shorter than an Ethernet header. */
	VSW_FRAME_INVALID_SRC,	/**< Multicast, broadcast or all-zero source. */
};

/** Classify a frame from its first bytes and total length. */
static inline enum vsw_frame_class
vsw_frame_classify(const uint8_t *data, uint32_t len)
{
	if (len < 14)
		return VSW_FRAME_RUNT;
	if ((data[6] & 0x01) ||
	    (data[6] | data[7] | data[8] | data[9] | data[10] | data[11]) == 0)
		return VSW_FRAME_INVALID_SRC;
	if (data[0] & 0x01)
		return VSW_FRAME_FLOOD;
	return VSW_FRAME_UNICAST;
}

#endif /* VSW_DP_H */
