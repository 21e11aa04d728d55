/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports.
 *
 *  - vhost-user        vswd creates the Unix socket (server) with rte_vhost;
 *                      a VM's QEMU connects to it.
 *  - vhost-user-client vswd connects to a socket the VM's QEMU created in
 *                      server mode, and reconnects whenever it goes away.
 *  - dpdk              any device by devargs: a PCI address (NIC, SR-IOV
 *                      VF bound to vfio-pci) or a vdev string (net_tap,
 *                      net_af_packet, net_pcap, net_ring, net_null, ...).
 *
 * A vhost-user port is not an ethdev: vswd registers its socket with
 * rte_vhost itself (no net_vhost device), so the number of VMs is not bound
 * by RTE_MAX_ETHPORTS (32 in Debian's DPDK). Its guest's device id (vid)
 * comes from rte_vhost's new_device/destroy_device notifications and is
 * handed to the daemon's hook (vsw_port_vhost_hook).
 *
 * A dpdk port is an ethdev, hot-plugged with rte_dev_probe() when the port
 * is opened and removed with rte_dev_remove() when it is closed (unless it
 * existed before, e.g. from EAL -a arguments). One rx queue per n_rxq, one
 * tx queue per PMD.
 *
 * Thread-safety: control thread only, except the hook, which rte_vhost's
 * thread calls. The data path never calls into this module; it sees ports
 * only as (slot, ethdev port id, and for vhost-user ports the vhost device
 * id and mbuf pool) in its snapshot.
 */
#ifndef VSW_PORT_H
#define VSW_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <rte_ether.h>

#include "vsw_common.h"
#include "vsw_l2.h"
#include "vsw_stats.h"

struct rte_mempool;

enum vsw_port_type {
	VSW_PORT_VHOST,		/**< vhost-user, vswd is the server. */
	VSW_PORT_VHOST_CLIENT,	/**< vhost-user, vswd is the client. */
	VSW_PORT_DPDK,		/**< Any DPDK device by devargs. */
};

/** What the user configured: saved in the state file. */
struct vsw_port_conf {
	char name[VSW_NAME_MAX];
	enum vsw_port_type type;
	char path[VSW_PATH_MAX];		/**< vhost socket. */
	char devargs[VSW_DEVARGS_MAX];		/**< dpdk devargs. */
	uint16_t n_rxq;				/**< Rx queues (>= 1). */
	uint16_t mtu;				/**< 0 = device default. */
	bool has_mac;				/**< mac is set. */
	struct rte_ether_addr mac;		/**< dpdk ports: MAC to set. */
};

/** A port. */
struct vsw_port {
	struct vsw_port_conf conf;	/**< Configuration. */
	uint16_t slot;			/**< Index in the data path arrays. */
	uint16_t bridge;		/**< Bridge index. */
	uint16_t gen;			/**< Bumped each time the slot is reused. */
	uint16_t eth_port;		/**< dpdk ports: ethdev port id when open. */
	struct rte_mempool *pool;	/**< Its rx queues' mbufs, when open. */
	bool open;			/**< Device probed, configured, started. */
	bool probed;			/**< We probed it: remove it on close. */
	bool link_up;			/**< Last link state seen. */
	uint32_t link_changes;		/**< Up/down transitions. */
	time_t link_since;		/**< Time of the last transition. */
	char error[256];		/**< Why the last open failed. */
	struct vsw_port_ctrs base;	/**< Counters at the last clear. */
	struct vsw_l2_conf l2;		/**< L2 policy (set-port): no device restart. */
	uint32_t qos_gen;		/**< Bumped when its policer/storm settings change. */
};

/**
 * vhost-user ports offer TCP segmentation offload to guests
 * (VIRTIO_NET_F_HOST_TSO4/6, net_vhost's tso=1): vswd --tso. Read when a
 * port opens.
 */
extern bool vsw_port_vhost_tso;

/**
 * Called with (slot, vid) when a vhost-user port's guest attaches and with
 * (slot, -1) when it goes away, before rte_vhost frees the device: after
 * the call returns, nothing may use the old vid (the hook may wait for the
 * PMDs). Runs on rte_vhost's thread, or on the control thread inside
 * vsw_port_close(); calls are serialized, and none runs under a lock of
 * rte_vhost's. Set once, before the first port opens.
 */
typedef void (*vsw_port_vid_hook_t)(uint16_t slot, int32_t vid, const _Atomic uint64_t *ready);
extern vsw_port_vid_hook_t vsw_port_vhost_hook;
/*
 * ready (with a vid): the bitmap of the vrings the guest enabled, which the
 * port module keeps current (bit n = vring n).
 *
 * When the daemon moves a guest's frames with its own vring walk, the
 * port module takes the device back around each vhost-user message that
 * can change the rings: vsw_port_vhost_walked(slot) says (lock-free)
 * whether it does for a slot, vsw_port_vhost_pause(slot, vid) takes the
 * device back before the message (true if it did; then the hook is
 * called again with the vid after the message). Both set once, before the
 * first port opens, or NULL.
 */
typedef bool (*vsw_port_walked_t)(uint16_t slot);
typedef bool (*vsw_port_pause_hook_t)(uint16_t slot, int32_t vid);
extern vsw_port_walked_t vsw_port_vhost_walked;
extern vsw_port_pause_hook_t vsw_port_vhost_pause;
/*
 * A walked guest's SEND_RARP (after a live migration): the daemon sends a
 * RARP from mac as if the guest had (rte_vhost does it for the guests on
 * its functions); true if it took it (rte_vhost then leaves the message
 * alone). Set once, before the first port opens, or NULL.
 */
typedef bool (*vsw_port_rarp_hook_t)(uint16_t slot, int32_t vid, const uint8_t mac[6]);
extern vsw_port_rarp_hook_t vsw_port_vhost_rarp;

/** A vhost-user port's attached guest (vid), or -1. */
int32_t vsw_port_vhost_vid(const struct vsw_port *p);

/** The MTU the attached guest was given (VIRTIO_NET_F_MTU), or 0. */
uint16_t vsw_port_vhost_mtu(const struct vsw_port *p);

#define VSW_VHOST_INFO_VRINGS 64

/** What vhost-show tells about a vhost-user port's guest. */
struct vsw_vhost_info {
	uint64_t features;		/**< Negotiated virtio features. */
	uint64_t vrings_on;		/**< Bit n: vring n is ready (enabled). */
	uint32_t vring_changes;		/**< Ready/not-ready notifications so far. */
	uint32_t pauses;		/**< Messages its walked device was taken back for. */
	uint16_t n_vrings;		/**< Vrings the guest set up (at most 64 listed). */
	uint16_t mtu;			/**< Guest MTU (VIRTIO_NET_F_MTU), 0 = none. */
	uint16_t ring_size[VSW_VHOST_INFO_VRINGS];
};

/**
 * Read the attached guest's state, safely against its going away.
 * @return 0, or -ENOTCONN when no guest is attached (info zeroed but for
 * vring_changes).
 */
int vsw_port_vhost_info(const struct vsw_port *p, struct vsw_vhost_info *info);

/** True for vhost-user and vhost-user-client ports. */
static inline bool
vsw_port_is_vhost(const struct vsw_port *p)
{
	return p->conf.type != VSW_PORT_DPDK;
}

/** Pool for a NUMA socket, provided by the daemon. */
typedef struct rte_mempool *(*vsw_pool_for_socket_t)(int socket);

/** "vhost-user", "vhost-user-client", "dpdk". */
const char *vsw_port_type_name(enum vsw_port_type t);

/** A `dpdk` port's devargs, split and checked (no DPDK call: unit-tested). */
struct vsw_devargs {
	bool is_pci;			/**< A PCI device (NIC, SR-IOV VF). */
	char name[64];			/**< Device name: PCI "0000:01:00.0" or vdev "net_tap0". */
	const char *args;		/**< What follows the first ',' ("" when nothing). */
};

/**
 * Split devargs into device name and arguments. A PCI address is given as
 * DDDD:BB:DD.F or BB:DD.F (hex) and comes out in DPDK's full lower-case
 * form, the name its ethdev has; anything else must be a vdev name
 * (net_<driver><N>, letters, digits, '_').
 * @return 0, or -EINVAL with a one-line reason in err.
 */
int vsw_devargs_parse(const char *devargs, struct vsw_devargs *d, char *err, size_t len);

/**
 * The NUMA node a port's memory and PMD should be on, given the device's
 * (rte_eth_dev_socket_id(): -1 when unknown, e.g. a vdev) and the node to
 * use then (the main lcore's).
 */
static inline int
vsw_port_numa_node(int dev_socket, int fallback)
{
	return dev_socket >= 0 ? dev_socket : fallback;
}

/** True when two configurations are the same, member by member. */
bool vsw_port_conf_equal(const struct vsw_port_conf *a, const struct vsw_port_conf *b);

/** Parse a type name. @return 0 or -EINVAL. */
int vsw_port_type_parse(const char *s, enum vsw_port_type *t);

/**
 * Check a configuration before anything is created: name, path length and
 * characters, devargs present, n_rxq and mtu ranges.
 * @return 0, or -EINVAL with a one-line reason in err.
 */
int vsw_port_conf_check(const struct vsw_port_conf *c, char *err, size_t len);

/**
 * Open the port: a dpdk port's device is probed, configured and started; a
 * vhost-user port's socket is registered with rte_vhost and started.
 * @param n_txq  tx queues (one per PMD).
 * @return 0, or -errno with a one-line reason in err (and in p->error).
 */
int vsw_port_open(struct vsw_port *p, uint16_t n_txq, vsw_pool_for_socket_t pool_for,
		  char *err, size_t len);

/**
 * Stop, close and (if we probed it) remove the device; unregister a
 * vhost-user socket (its guest is detached through the hook first).
 * Idempotent.
 */
void vsw_port_close(struct vsw_port *p);

/** Read the link state. @return true when it changed. */
bool vsw_port_link_update(struct vsw_port *p);

/** Frames the device dropped for lack of mbufs (rx_nombuf). */
uint64_t vsw_port_rx_nombuf(const struct vsw_port *p);

#endif /* VSW_PORT_H */
