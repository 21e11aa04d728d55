/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one declaration of every control command.
 *
 * Each row is _(id, "name", min_args, max_args, flags, "usage", "help").
 * The daemon expands it into its dispatch table (handler vsw_cmd_<id>),
 * vswctl expands it into its help text and argument checks, and
 * docs/cli.md is generated from it (tests/check_docs.py keeps them equal).
 * Arguments are positional words; words of the form key=value are options
 * and do not count towards min_args/max_args.
 */
#ifndef VSW_CMD_LIST_H
#define VSW_CMD_LIST_H

enum vsw_cmd_flags {
	VSW_CMD_RO = 0,		/**< Reads state only. */
	VSW_CMD_RW = 1,		/**< Changes run-time state (counters, learned MACs). */
	VSW_CMD_CONF = 3,	/**< Changes configuration: saved to the state file. */
};

#define VSW_CMD_LIST(_) \
	_(add_br, "add-br", 1, 1, VSW_CMD_CONF, "BRIDGE [aging=S] [max-macs=N] [port-max-macs=N] " \
	  "[flap-moves=N] [flap-window=S] [flap-freeze=S]", \
	  "Create a bridge with its own learning table.") \
	_(del_br, "del-br", 1, 1, VSW_CMD_CONF, "BRIDGE", \
	  "Delete a bridge and every port on it.") \
	_(list_br, "list-br", 0, 0, VSW_CMD_RO, "", \
	  "List the bridges.") \
	_(set_br, "set-br", 1, 1, VSW_CMD_CONF, "BRIDGE [aging=S] [max-macs=N] [port-max-macs=N] " \
	  "[flap-moves=N] [flap-window=S] [flap-freeze=S]", \
	  "Change a bridge's aging time (s), table capacity, per-port MAC limit or MAC-flap " \
	  "damping (flap-moves moves in flap-window s is a flap; flap-freeze s it stays put).") \
	_(add_port, "add-port", 2, 2, VSW_CMD_CONF, \
	  "BRIDGE PORT type=vhost-user|vhost-user-client|dpdk [path=SOCK] [devargs=ARGS] " \
	  "[n_rxq=N] [mtu=N] [mac=MAC] " \
	  "[tag=VLAN|none] [trunks=LIST|all|none] [native=VLAN|none] " \
	  "[allowed-macs=MAC,...|none] [max-macs=N] [on-limit=drop|flood|log] " \
	  "[storm-bcast=PPS] [storm-mcast=PPS] [storm-unknown=PPS] [police-rate=BPS] " \
	  "[police-burst=BYTES] [police-pps=PPS] [police-burst-pkts=N] [protected=true|false] " \
	  "[mirror=PORT|none] [mirror-dir=rx|tx|both]", \
	  "Attach a vhost-user socket (server or client) or a DPDK device to a bridge, with " \
	  "the L2 options of set-port.") \
	_(del_port, "del-port", 1, 1, VSW_CMD_CONF, "PORT", \
	  "Detach a port and remove its learned MACs.") \
	_(set_port, "set-port", 1, 1, VSW_CMD_CONF, "PORT [n_rxq=N] [mtu=N] [mac=MAC] " \
	  "[tag=VLAN|none] [trunks=LIST|all|none] [native=VLAN|none] " \
	  "[allowed-macs=MAC,...|none] [max-macs=N] [on-limit=drop|flood|log] " \
	  "[storm-bcast=PPS] [storm-mcast=PPS] [storm-unknown=PPS] [police-rate=BPS] " \
	  "[police-burst=BYTES] [police-pps=PPS] [police-burst-pkts=N] [protected=true|false] " \
	  "[mirror=PORT|none] [mirror-dir=rx|tx|both]", \
	  "Change a port's options. n_rxq, mtu and mac restart the device; the L2 options " \
	  "(VLAN, port security, MAC limit, storm control, policing, isolation, mirroring) " \
	  "apply at once without a restart. See docs/l2.md.") \
	_(list_ports, "list-ports", 1, 1, VSW_CMD_RO, "BRIDGE", \
	  "List the ports of a bridge.") \
	_(show, "show", 0, 0, VSW_CMD_RO, "", \
	  "Show bridges, ports, their state and the PMD threads.") \
	_(fdb_show, "fdb-show", 1, 1, VSW_CMD_RO, "BRIDGE", \
	  "Show a bridge's learning table.") \
	_(fdb_stats, "fdb-stats", 0, 1, VSW_CMD_RO, "[BRIDGE]", \
	  "Show learning table counters: entries, learned, moved, aged, limit hits.") \
	_(fdb_add, "fdb-add", 3, 3, VSW_CMD_CONF, "BRIDGE MAC PORT [vlan=N]", \
	  "Add a static MAC entry (never ages, never moves).") \
	_(fdb_del, "fdb-del", 2, 2, VSW_CMD_CONF, "BRIDGE MAC [vlan=N]", \
	  "Delete a MAC entry, static or learned.") \
	_(fdb_flush, "fdb-flush", 1, 2, VSW_CMD_RW, "BRIDGE [PORT]", \
	  "Flush the learned MACs of a bridge, or of one port.") \
	_(port_stats, "port-stats", 0, 1, VSW_CMD_RO, "[PORT] [--rate]", \
	  "Per-port packet, byte and drop counters; --rate adds per-second rates.") \
	_(drop_stats, "drop-stats", 0, 1, VSW_CMD_RO, "[PORT]", \
	  "Non-zero drop counters by port and reason, with what each reason means.") \
	_(port_stats_clear, "port-stats-clear", 0, 1, VSW_CMD_RW, "[PORT]", \
	  "Reset port counters to zero.") \
	_(pmd_stats, "pmd-stats", 0, 0, VSW_CMD_RO, "", \
	  "Per-PMD packets, busy and idle cycles, cycles per packet.") \
	_(rxq_show, "rxq-show", 0, 0, VSW_CMD_RO, "", \
	  "Which PMD polls which port rx queue.") \
	_(pmd_rebalance, "pmd-rebalance", 0, 0, VSW_CMD_RW, "", \
	  "Move rx queues between PMDs by the cycles each used since the last rebalance: " \
	  "busiest first, each to the least loaded PMD. Queues otherwise never move.") \
	_(mempool_stats, "mempool-stats", 0, 0, VSW_CMD_RO, "", \
	  "mbuf pool size and in-use count.") \
	_(capture, "capture", 2, 3, VSW_CMD_RW, \
	  "PORT [DIRECTION] FILE [count=N] [duration=S] [snaplen=N]", \
	  "Write a port's frames (rx, tx or both) to a pcap file; vswctl waits until it ends.") \
	_(capture_stop, "capture-stop", 1, 1, VSW_CMD_RW, "PORT", \
	  "End a port's capture now.") \
	_(capture_show, "capture-show", 0, 0, VSW_CMD_RO, "", \
	  "Captures running or ended, with the frames written.") \
	_(vhost_show, "vhost-show", 0, 1, VSW_CMD_RO, "[PORT]", \
	  "vhost-user ports: connection, negotiated features, queues, ring sizes.") \
	_(events, "events", 0, 0, VSW_CMD_RO, "[count=N]", \
	  "Recent events: ports up/down/added/deleted, MACs learned/moved/aged.") \
	_(log_level, "log-level", 0, 2, VSW_CMD_RW, "[LEVEL] [PATTERN]", \
	  "Show log levels, or set LEVEL (debug..emerg) for PATTERN (default vsw.*).") \
	_(version, "version", 0, 0, VSW_CMD_RO, "", \
	  "Daemon and DPDK versions.") \
	_(list_commands, "list-commands", 0, 0, VSW_CMD_RO, "", \
	  "List the commands the daemon serves.")

#endif /* VSW_CMD_LIST_H */
