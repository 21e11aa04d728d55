/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The learning table of one bridge: (vlan, mac) -> port slot.
 *
 * Data structure. An rte_hash with lock-free readers
 * (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF) and extendable buckets, so that
 * a table of N entries always holds N keys. The hash stores, per key, a
 * 64-bit word: (entry index << 16) | port slot. The port therefore comes
 * out of the bulk lookup atomically with the key, and the entry index
 * points into a flat array of struct vsw_fdb_entry that holds what the
 * writer needs (last-seen second, static flag).
 *
 * Thread-safety. There is exactly ONE writer: the control thread. PMD
 * threads only call vsw_fdb_lookup_bulk() and vsw_fdb_touch(); a PMD that
 * sees a new source MAC or a moved one does not insert it, it queues a
 * learn request that the control thread applies (vsw_fdb_learn()). This
 * keeps rte_hash's single-writer rule without a writer lock on the fast
 * path, at the price of a few milliseconds during which the new MAC's
 * replies are flooded. Freed keys and entry indexes are reclaimed through
 * the daemon's QSBR variable: a slot is reused only after every PMD has
 * passed a quiescent state, so a reader never sees a key with another
 * key's entry.
 *
 * Limits. max_macs bounds the table (a new MAC beyond it is not learned
 * and counted in limit_hits); port_max_macs bounds the MACs learned on
 * one port, so one VM cannot fill the table. When a port is at its limit,
 * vsw_fdb_port_full() is true and the PMD drops frames from new source
 * MACs on that port (counted as learn_limit).
 *
 * Aging. vsw_fdb_age() removes dynamic entries not seen for `aging`
 * seconds. PMDs refresh last_seen with a plain store at most once a second.
 */
#ifndef VSW_FDB_H
#define VSW_FDB_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "vsw_common.h"
#include "vsw_l2.h"	/* vsw_mac_parse() */

struct rte_hash;
struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;

/** Hash key: VLAN id and MAC, packed into 8 bytes. */
struct vsw_fdb_key {
	uint16_t vlan;			/**< 0 when untagged. */
	struct rte_ether_addr mac;	/**< The MAC address. */
};

static_assert(sizeof(struct vsw_fdb_key) == 8, "fdb key must stay 8 bytes");

/** One entry of the flat array behind the hash. */
struct vsw_fdb_entry {
	struct vsw_fdb_key key;		/**< Copy of the hash key. */
	uint32_t last_seen;		/**< vsw_now() when last seen (PMD writes). */
	uint16_t port;			/**< Port slot (writer's copy). */
	uint8_t is_static;		/**< Never aged, never moved. */
	uint8_t in_use;			/**< Live in the hash. */
	uint32_t frozen_until;		/**< Moves refused until this second (damping). */
	uint32_t flap_start;		/**< Start of the current flap window. */
	uint16_t flap_moves;		/**< Moves in that window. */
	uint16_t flap_logged;		/**< Reported in that window. */
	uint32_t reserved;		/**< Keeps the size a multiple of 8 ... */
} __rte_aligned(8);			/**< ... so every key is 8-byte aligned (rte_hash reads it as one word). */

static_assert(sizeof(struct vsw_fdb_entry) == 32, "fdb entries: 32 bytes, key 8-byte aligned");

/** Table counters, read by the control thread. */
struct vsw_fdb_stats {
	uint64_t learned;	/**< New MACs inserted by learning. */
	uint64_t moved;		/**< MACs that moved to another port. */
	uint64_t aged;		/**< Entries removed by aging. */
	uint64_t limit_hits;	/**< MACs not learned: table or port limit. */
	uint64_t flushed;	/**< Entries removed by flush or port removal. */
	uint64_t flaps;		/**< Flap windows: a MAC moved flap_moves times in flap_window s. */
	uint64_t frozen;	/**< MACs frozen by flap damping. */
	uint64_t frozen_refused; /**< Moves refused because the MAC was frozen. */
};

/** MAC-flap detection and damping (per bridge). */
struct vsw_fdb_flap {
	uint16_t moves;		/**< Moves within `window` s that make a flap; 0 = off. */
	uint16_t window;	/**< Seconds. */
	uint32_t freeze;	/**< Seconds a flapping MAC stays where it is; 0 = log only. */
};

/** Creation parameters. */
struct vsw_fdb_params {
	const char *name;		/**< Unique name (rte_hash name). */
	uint32_t capacity;		/**< Maximum entries (>= 8). */
	uint32_t aging;			/**< Seconds; 0 = never. */
	uint32_t port_max_macs;		/**< Per-port learned limit; 0 = none. */
	int socket_id;			/**< NUMA socket for the memory. */
	struct rte_rcu_qsbr *qsbr;	/**< PMDs' QSBR variable. */
};

/** Result of vsw_fdb_learn(). */
enum vsw_fdb_learn_result {
	VSW_FDB_REFRESHED,	/**< Known on that port: age refreshed. */
	VSW_FDB_LEARNED,	/**< New entry. */
	VSW_FDB_MOVED,		/**< Existing entry moved to the port. */
	VSW_FDB_STATIC,		/**< A static entry exists: left as is. */
	VSW_FDB_PORT_LIMIT,	/**< Not learned: port at its limit. */
	VSW_FDB_TABLE_FULL,	/**< Not learned: table at capacity. */
	VSW_FDB_ERROR,		/**< Not learned: hash insertion failed. */
	VSW_FDB_FLAPPING,	/**< Moved, and it is flapping (see vsw_fdb_flap); report it. */
	VSW_FDB_FROZEN,		/**< Move refused: the MAC is frozen on its port. */
};

struct vsw_fdb {
	struct rte_hash *h;		/**< key -> (index << 16 | port). */
	struct vsw_fdb_entry *entries;	/**< capacity entries. */
	uint8_t port_full[VSW_MAX_PORTS]; /**< Read by PMDs: port at limit. */
	uint32_t port_count[VSW_MAX_PORTS]; /**< Dynamic MACs per port. */
	uint32_t *free_idx;		/**< Stack of free entry indexes. */
	uint32_t n_free;		/**< Entries on free_idx. */
	uint32_t capacity;		/**< Size of entries / the hash. */
	uint32_t max_macs;		/**< Learning limit (<= capacity). */
	uint32_t n_entries;		/**< Live entries. */
	uint32_t aging;			/**< Seconds; 0 = never. */
	uint32_t port_max_macs;		/**< 0 = unlimited. */
	uint32_t port_limit[VSW_MAX_PORTS]; /**< Per-port override; 0 = port_max_macs. */
	struct vsw_fdb_flap flap;	/**< Flap detection and damping. */
	struct rte_rcu_qsbr *qsbr;	/**< PMDs' QSBR variable. */
	struct rte_rcu_qsbr_dq *dq;	/**< Deferred frees. */
	struct vsw_fdb_stats stats;	/**< Counters. */
	char name[VSW_NAME_MAX];	/**< Table name. */
};

/**
 * Create a table. Control thread.
 * @return the table, or NULL with rte_errno set.
 */
struct vsw_fdb *vsw_fdb_create(const struct vsw_fdb_params *p);

/** Free a table; NULL is ignored. No PMD may still read it. */
void vsw_fdb_free(struct vsw_fdb *fdb);

/**
 * Apply one learn request (control thread).
 * @param now  current vsw_now() second.
 */
enum vsw_fdb_learn_result vsw_fdb_learn(struct vsw_fdb *fdb, const struct vsw_fdb_key *key,
					uint16_t port, uint32_t now);

/**
 * vsw_fdb_learn() that also reports, in *old_port, the port the MAC was on
 * before (VSW_NO_SLOT when it was not in the table).
 */
enum vsw_fdb_learn_result vsw_fdb_learn_from(struct vsw_fdb *fdb, const struct vsw_fdb_key *key,
					     uint16_t port, uint32_t now, uint16_t *old_port);

/**
 * Add or replace a static entry (control thread).
 * @return 0, -ENOSPC when the table is full, -EIO on hash failure.
 */
int vsw_fdb_add_static(struct vsw_fdb *fdb, const struct vsw_fdb_key *key, uint16_t port,
		       uint32_t now);

/** Delete one entry. @return 0 or -ENOENT. */
int vsw_fdb_del(struct vsw_fdb *fdb, const struct vsw_fdb_key *key);

/**
 * Remove dynamic entries of one port (port < VSW_MAX_PORTS), or of all
 * ports (VSW_NO_SLOT). With include_static, static entries go too (used
 * when a port is deleted). @return the number removed.
 */
uint32_t vsw_fdb_flush(struct vsw_fdb *fdb, uint16_t port, bool include_static);

/** Remove dynamic entries older than the aging time. @return removed. */
uint32_t vsw_fdb_age(struct vsw_fdb *fdb, uint32_t now);

/** Called for each entry vsw_fdb_age_cb() is about to remove. */
typedef void (*vsw_fdb_aged_cb_t)(void *arg, const struct vsw_fdb_entry *e);

/** vsw_fdb_age() that reports each removed entry to cb (may be NULL). */
uint32_t vsw_fdb_age_cb(struct vsw_fdb *fdb, uint32_t now, vsw_fdb_aged_cb_t cb, void *arg);

/** Change aging time and limits; max_macs is capped at the capacity. */
void vsw_fdb_set_limits(struct vsw_fdb *fdb, uint32_t aging, uint32_t max_macs,
			uint32_t port_max_macs);

/** Reclaim freed entries whose grace period is over (control thread). */
void vsw_fdb_reclaim(struct vsw_fdb *fdb);

/**
 * Set one port's learned-MAC limit, overriding the bridge's port_max_macs
 * (0 = use the bridge's). Writer only.
 */
void vsw_fdb_set_port_limit(struct vsw_fdb *fdb, uint16_t port, uint32_t limit);

/** The limit in force on a port (0 = none). */
uint32_t vsw_fdb_port_limit(const struct vsw_fdb *fdb, uint16_t port);

/**
 * Look up to 64 keys at once. Any thread.
 * @param keys  pointers to n keys.
 * @param data  out: for each hit, (index << 16) | port.
 * @return bit mask of hits.
 */
uint64_t vsw_fdb_lookup_bulk(const struct vsw_fdb *fdb, const void **keys, uint32_t n,
			     uint64_t *data);

/** Look up one key. @return 0 and *entry, or -ENOENT. Control thread. */
int vsw_fdb_lookup(const struct vsw_fdb *fdb, const struct vsw_fdb_key *key,
		   const struct vsw_fdb_entry **entry);

/** Port slot of a lookup result. */
static inline uint16_t
vsw_fdb_data_port(uint64_t data)
{
	return (uint16_t)(data & 0xffff);
}

/** Refresh the age of a hit, at most one store a second. PMD thread. */
static inline void
vsw_fdb_touch(const struct vsw_fdb *fdb, uint64_t data, uint32_t now)
{
	struct vsw_fdb_entry *e = &fdb->entries[data >> 16];

	if (e->last_seen != now)
		e->last_seen = now;
}

/** True when new MACs from the port must not be learned. PMD thread. */
/**
 * True when the entry behind a lookup result is frozen by flap damping
 * (read by PMDs on the move path only).
 */
static inline bool
vsw_fdb_frozen(const struct vsw_fdb *fdb, uint64_t data, uint32_t now)
{
	return fdb->entries[data >> 16].frozen_until > now;
}

static inline bool
vsw_fdb_port_full(const struct vsw_fdb *fdb, uint16_t port)
{
	return fdb->port_full[port] != 0;
}

#endif /* VSW_FDB_H */
