/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A port's L2 policy as the operator configured it (set-port k=v): VLAN
 * mode, port security, learn limit action, storm control, policing,
 * isolation, mirroring. Saved in the state file; the control thread turns
 * it into the data path's struct vsw_dp_port at each publication.
 *
 * VLAN model (802.1Q, like OVS's and a hardware switch's):
 *  - no tag, no trunks: the port carries every VLAN; untagged frames
 *    belong to VLAN 0 ("no VLAN") and leave untagged, tagged frames keep
 *    their tag.
 *  - tag=N (access): untagged in, VLAN N inside, untagged out; tagged
 *    frames in (other than priority tags) are dropped.
 *  - trunks=LIST [native=N]: tagged frames of the listed VLANs in and
 *    out; untagged frames belong to the native VLAN (0 when unset), which
 *    leaves untagged.
 * A bridge none of whose ports sets tag/trunks/native switches frames
 * without looking at tags at all (VLAN 0 for every frame), so that VLANs
 * cost nothing when they are not used.
 */
#ifndef VSW_L2_H
#define VSW_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "vsw_common.h"

#define VSW_VLAN_MAX 4095		/**< Highest VLAN id. */
#define VSW_MAX_ALLOWED_MACS 16		/**< allowed-macs entries per port. */

/** What a port does with a frame from a new MAC when it is at max-macs. */
enum vsw_on_limit {
	VSW_ON_LIMIT_DROP,	/**< Drop the frame (counted as learn_limit). */
	VSW_ON_LIMIT_FLOOD,	/**< Forward it, do not learn the MAC (counted as unlearned). */
	VSW_ON_LIMIT_LOG,	/**< As flood, and log the MAC (rate-limited). */
};

/** Mirror directions. */
enum vsw_mirror_dir {
	VSW_MIRROR_RX = 1,	/**< Frames the port received. */
	VSW_MIRROR_TX = 2,	/**< Frames the port sent. */
};

/** Storm-control classes. */
enum vsw_storm_class {
	VSW_STORM_BCAST,
	VSW_STORM_MCAST,
	VSW_STORM_UNKNOWN,
	VSW_STORM_MAX
};

struct vsw_l2_conf {
	uint16_t tag;			/**< Access VLAN, 0 = not an access port. */
	uint16_t native;		/**< Native VLAN of a trunk, 0 = none. */
	bool has_trunks;		/**< trunks is set. */
	bool is_protected;		/**< Never forwards to another protected port. */
	uint8_t on_limit;		/**< enum vsw_on_limit. */
	uint8_t mirror_dir;		/**< enum vsw_mirror_dir bits; 0 = no mirror. */
	uint64_t trunks[(VSW_VLAN_MAX + 1) / 64];	/**< Allowed VLANs (bit per id). */
	uint32_t max_macs;		/**< Learned-MAC limit, 0 = the bridge's port-max-macs. */
	uint16_t n_allowed_macs;	/**< Entries in allowed_macs; 0 = any source. */
	struct rte_ether_addr allowed_macs[VSW_MAX_ALLOWED_MACS];
	uint32_t storm_pps[VSW_STORM_MAX];	/**< Frames/s, 0 = no limit. */
	uint64_t police_bps;		/**< Ingress bits/s, 0 = none. */
	uint32_t police_burst;		/**< Bytes, 0 = default (100 ms of police_bps). */
	uint32_t police_pps;		/**< Ingress frames/s, 0 = none. */
	uint32_t police_burst_pkts;	/**< Frames, 0 = default (100 ms, >= 32). */
	char mirror_to[VSW_NAME_MAX];	/**< Mirror output port name, "" = none. */
};

/** True when the port sets any VLAN option. */
static inline bool
vsw_l2_vlan_set(const struct vsw_l2_conf *c)
{
	return c->tag != 0 || c->has_trunks || c->native != 0;
}

static inline bool
vsw_vlan_test(const uint64_t *set, unsigned int vid)
{
	return (set[vid >> 6] >> (vid & 63)) & 1;
}

static inline void
vsw_vlan_set(uint64_t *set, unsigned int vid)
{
	set[vid >> 6] |= UINT64_C(1) << (vid & 63);
}

/**
 * Parse a VLAN list: "10", "10,20,30-40", "all", "none" into a 4096-bit
 * set (ids 1..4095). @return 0, or -EINVAL with a one-line reason in err.
 */
int vsw_vlan_list_parse(const char *s, uint64_t *set, char *err, size_t len);

/**
 * Format a VLAN set as a list with ranges ("10,20,30-40"; "" when empty).
 * @return the length the full text needs (as snprintf).
 */
int vsw_vlan_list_format(const uint64_t *set, char *buf, size_t len);

/** Parse exactly "xx:xx:xx:xx:xx:xx" (hex digits either case). @return 0 or -EINVAL. */
int vsw_mac_parse(const char *s, struct rte_ether_addr *mac);

/**
 * Parse a comma-separated MAC list ("none" or "" = empty) of at most
 * VSW_MAX_ALLOWED_MACS unicast addresses. @return the count, or -EINVAL
 * with a reason in err.
 */
int vsw_mac_list_parse(const char *s, struct rte_ether_addr *macs, char *err, size_t len);

/** Parse a rate with an optional k/m/g suffix (x1000). @return 0 or -EINVAL. */
int vsw_rate_parse(const char *s, uint64_t *v);

#endif /* VSW_L2_H */
