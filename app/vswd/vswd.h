/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswd internals: the switch registry (bridges, ports) owned by the
 * control thread, and the command handlers that change it.
 */
#ifndef VSWD_H
#define VSWD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_mempool.h>

#include "vsw_common.h"
#include "vsw_ctl.h"
#include "vsw_fdb.h"
#include "vsw_port.h"

#define VSW_DEFAULT_AGING 300
#define VSW_DEFAULT_MAX_MACS 65536
#define VSW_DEFAULT_FLAP_MOVES 5	/**< Moves ... */
#define VSW_DEFAULT_FLAP_WINDOW 10	/**< ... in this many seconds make a flap. */

struct vsw_bridge {
	bool used;			/**< Slot in use. */
	uint16_t idx;			/**< Index in the registry. */
	char name[VSW_NAME_MAX];	/**< Bridge name. */
	struct vsw_fdb *fdb;		/**< Learning table. */
	uint32_t aging;			/**< Seconds. */
	uint32_t max_macs;		/**< Table capacity. */
	uint32_t port_max_macs;		/**< Per-port learned limit, 0 = none. */
	struct vsw_fdb_flap flap;	/**< MAC-flap detection and damping. */
};

struct vsw_switch {
	struct vsw_bridge bridges[VSW_MAX_BRIDGES];
	struct vsw_port *ports[VSW_MAX_PORTS];		/**< By slot. */
	uint16_t slot_gen[VSW_MAX_PORTS];		/**< Reuse counter. */
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];	/**< By socket. */
	unsigned int n_mbufs;				/**< Per pool. */
	char state_path[4096];				/**< State file. */
	char rundir[4096];				/**< Default socket dir. */
	char vhost_dirs[4096];				/**< Allowed socket dirs, ':'-separated; "" = any. */
	bool restoring;					/**< No saves while loading. */
	uint32_t fdb_seq;				/**< Unique fdb names. */
	uint64_t learn_dropped;				/**< Stale learn requests. */
	/**
	 * Which PMD polls each (port slot, rx queue): 0 = not placed yet,
	 * VSW_RXQ_PARKED = polled by nobody for one publication (moving),
	 * else PMD index + 1. Sticky: a queue only moves by pmd-rebalance.
	 */
	uint8_t rxq_pmd[VSW_MAX_PORTS][VSW_MAX_QUEUES];
	uint64_t rxq_base[VSW_MAX_PORTS][VSW_MAX_QUEUES];	/**< Cycles at the last rebalance. */
};

#define VSW_RXQ_PARKED 0xff

extern struct vsw_switch vsw_sw;

struct vsw_dp_port;

/**
 * Apply the L2 options present in args (tag, trunks, native, allowed-macs,
 * max-macs, on-limit, storm-*, police-*, protected, mirror, mirror-dir)
 * to c; c is unchanged on error.
 */
int vswd_l2_parse(const json_t *args, struct vsw_l2_conf *c, char *err, size_t len);
/** The options that differ from the defaults, as set-port would take them. */
json_t *vswd_l2_json(const struct vsw_l2_conf *c);
/** Fill the L2 part of a port's data-path view (all but the mirror slot). */
void vswd_l2_dp(const struct vsw_port *p, unsigned int n_pmds, struct vsw_dp_port *dp);
extern const struct vsw_cmd vswd_cmds[];
extern const size_t vswd_n_cmds;

struct rte_mempool *vswd_pool_for(int socket);
int vswd_restore(struct vsw_switch *sw, char *err, size_t len);
void vswd_shutdown(struct vsw_switch *sw);
void vswd_fdb_save(struct vsw_switch *sw);
void vswd_fdb_restore(struct vsw_switch *sw);
void vswd_tick(struct vsw_switch *sw, uint64_t now_ms);
int vswd_add_bridge(struct vsw_switch *sw, const char *name, uint32_t aging, uint32_t max_macs,
		    uint32_t port_max_macs, char *err, size_t len);
int vswd_save(struct vsw_switch *sw, char *err, size_t len);
void vswd_telemetry_init(const char *ctl);
int vswd_metrics_init(const char *spec, char *err, size_t len);
void vswd_metrics_poll(void);
void vswd_metrics_close(void);
void vswd_capture_tick(uint64_t now_ms);
void vswd_capture_port_gone(uint16_t slot);
void vswd_capture_shutdown(void);
int vswd_cmd_capture(struct vsw_switch *sw, uint16_t slot, const char *port, json_t *args,
		     json_t **res, char *err, size_t len);
int vswd_cmd_capture_stop(uint16_t slot, json_t **res);
json_t *vswd_capture_json(uint16_t slot);

#endif /* VSWD_H */
