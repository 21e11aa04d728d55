/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters.
 *
 * Every drop on the fast path has a named reason. VSW_DROP_REASONS is the
 * one list: it generates the enum, the names printed by vswctl and the
 * JSON keys of port-stats.
 *
 * Counters are per (PMD, port slot) and have exactly one writer, the PMD,
 * which uses plain stores: no atomic read-modify-write on the fast path.
 * The control thread sums them over the PMDs on read; a read may be a
 * burst behind, never torn (64-bit aligned stores on x86_64).
 */
#ifndef VSW_STATS_H
#define VSW_STATS_H

#include <stdint.h>

#include <rte_common.h>

#define VSW_DROP_REASONS(_) \
	_(RUNT, runt, "frame shorter than an Ethernet header (14 bytes)") \
	_(INVALID_SRC, invalid_src, "multicast or broadcast source MAC") \
	_(LEARN_LIMIT, learn_limit, "new source MAC while the port is at its MAC limit") \
	_(SAME_PORT, same_port, "destination MAC learned on the input port") \
	_(NO_DEST, no_dest, "flooded frame with no other port in the bridge") \
	_(TX_FULL, tx_full, "output queue full (guest not draining its ring)") \
	_(PORT_DOWN, port_down, "output port down (no vhost peer, link down)") \
	_(MTU_EXCEEDED, mtu_exceeded, "frame longer than the output port's MTU allows") \
	_(NO_MBUF, no_mbuf, "no mbuf for a received frame or a re-tagged copy") \
	_(VLAN_NOT_ALLOWED, vlan_not_allowed, "VLAN not allowed on the input or output port") \
	_(SRC_NOT_ALLOWED, src_not_allowed, "source MAC not in the port's allowed-macs") \
	_(POLICED, policed, "over the port's ingress policing rate") \
	_(STORM_BCAST, storm_bcast, "broadcast over the port's storm-control limit") \
	_(STORM_MCAST, storm_mcast, "multicast over the port's storm-control limit") \
	_(STORM_UNKNOWN, storm_unknown, "unknown unicast over the port's storm-control limit") \
	_(PROTECTED, protected, "unicast between two protected ports") \
	_(MIRROR_PORT, mirror_port, "frame received on a mirror output port") \
	_(MAC_FROZEN, mac_frozen, "source MAC frozen on another port (flap damping)") \
	_(GUEST_DESC, guest_desc, "a guest's descriptor chain was malformed (address outside " \
	  "its memory, loop, receive buffer too short for the frame)")

/**
 * Counters of things that happened to frames that were not dropped. Same
 * X-macro scheme as the drop reasons.
 */
#define VSW_PORT_EVENTS(_) \
	_(UNLEARNED, unlearned, "frames forwarded from a MAC not learned: port at its MAC " \
	  "limit with on-limit=flood or log") \
	_(MIRRORED, mirrored, "copies of this port's frames sent to its mirror port") \
	_(CSUM_PASSED, csum_passed, "frames sent with a partial TCP/UDP checksum for the " \
	  "receiving guest to complete (it negotiated VIRTIO_NET_F_GUEST_CSUM)") \
	_(CSUM_FILLED, csum_filled, "partial TCP/UDP checksums (from guests that offload " \
	  "them) completed by vsw before sending, because this port cannot take them") \
	_(TSO_PASSED, tso_passed, "TCP segmentation offload frames sent whole to a guest " \
	  "that takes them (VIRTIO_NET_F_GUEST_TSO4/6)") \
	_(TSO_CUT, tso_cut, "TCP segmentation offload frames vsw cut into segments in " \
	  "software for this port") \
	_(COPY_ONCE, copy_once, "frames from this guest whose payload stayed in its " \
	  "buffer until sent on (vswd --vhost-copy=once): copied once into a walked guest")

enum vsw_port_event {
#define VSW_EVENT_ENUM(id, name, help) VSW_EV_##id,
	VSW_PORT_EVENTS(VSW_EVENT_ENUM)
#undef VSW_EVENT_ENUM
	VSW_EV_MAX
};

enum vsw_drop {
#define VSW_DROP_ENUM(id, name, help) VSW_DROP_##id,
	VSW_DROP_REASONS(VSW_DROP_ENUM)
#undef VSW_DROP_ENUM
	VSW_DROP_MAX
};

/** Counters of one port as seen by one PMD (or summed). */
struct vsw_port_ctrs {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t drops[VSW_DROP_MAX];
	uint64_t events[VSW_EV_MAX];
} __rte_cache_aligned;

/** Name of a drop reason ("tx_full"), or NULL when out of range. */
const char *vsw_drop_name(unsigned int reason);

/** Name of a port event counter ("mirrored"), or NULL when out of range. */
const char *vsw_event_name(unsigned int ev);

/** One-line description of a drop reason. */
const char *vsw_drop_help(unsigned int reason);

/** dst += src, field by field. */
void vsw_port_ctrs_add(struct vsw_port_ctrs *dst, const struct vsw_port_ctrs *src);

/** dst -= src, field by field, clamped at zero. */
void vsw_port_ctrs_sub(struct vsw_port_ctrs *dst, const struct vsw_port_ctrs *src);

/** Sum of all drop reasons. */
uint64_t vsw_port_ctrs_drops(const struct vsw_port_ctrs *c);

#endif /* VSW_STATS_H */
