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
	_(NO_MBUF, no_mbuf, "no mbuf for a received frame")

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
} __rte_cache_aligned;

/** Name of a drop reason ("tx_full"), or NULL when out of range. */
const char *vsw_drop_name(unsigned int reason);

/** One-line description of a drop reason. */
const char *vsw_drop_help(unsigned int reason);

/** dst += src, field by field. */
void vsw_port_ctrs_add(struct vsw_port_ctrs *dst, const struct vsw_port_ctrs *src);

/** dst -= src, field by field, clamped at zero. */
void vsw_port_ctrs_sub(struct vsw_port_ctrs *dst, const struct vsw_port_ctrs *src);

/** Sum of all drop reasons. */
uint64_t vsw_port_ctrs_drops(const struct vsw_port_ctrs *c);

#endif /* VSW_STATS_H */
