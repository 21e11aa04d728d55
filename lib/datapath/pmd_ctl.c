/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side of the data path: PMD life cycle and configuration
 * publication (see vsw_dp.h for the handshake).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_vhost.h>

#include "vsw_dp.h"

RTE_LOG_REGISTER_DEFAULT(vsw_dp_logtype, INFO);
#define RTE_LOGTYPE_VSW_DP vsw_dp_logtype
#define DP_LOG(l, fmt, ...) RTE_LOG(l, VSW_DP, "%s(): " fmt "\n", __func__, ##__VA_ARGS__)

#define LEARN_RING_SIZE 16384

struct vsw_dp_conf *_Atomic vsw_dp_cur;
struct vsw_pmd *vsw_pmds[VSW_MAX_PMDS];
unsigned int vsw_n_pmds;
struct rte_rcu_qsbr *vsw_qsbr;
struct rte_ring *vsw_dp_learn_ring;
_Atomic uint8_t vsw_port_up[VSW_MAX_PORTS];
_Atomic int32_t vsw_port_vid[VSW_MAX_PORTS];
struct vsw_vdev *_Atomic vsw_port_vdev[VSW_MAX_PORTS];
_Atomic uint8_t vsw_port_guest_ol[VSW_MAX_PORTS];
_Atomic uint32_t vsw_dp_kick_sleepers;
int vsw_dp_main_wake_fd = -1;
_Atomic uint32_t vsw_pmd_sleep_max_us;
_Atomic uint8_t vsw_capture_flags[VSW_MAX_PORTS];
_Atomic uint32_t vsw_capture_snaplen[VSW_MAX_PORTS];
struct rte_mempool *vsw_capture_pool;
struct rte_ring *vsw_capture_ring;
_Atomic uint32_t vsw_clock_sec;

int
vsw_dp_init(const unsigned int *lcores, unsigned int n)
{
	size_t sz;
	unsigned int i;

	if (n == 0 || n > VSW_MAX_PMDS)
		return -EINVAL;
	for (i = 0; i < VSW_MAX_PORTS; i++)
		atomic_store_explicit(&vsw_port_vid[i], -1, memory_order_relaxed);
	vsw_dp_main_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vsw_dp_main_wake_fd < 0)
		return -errno;
	if (vsw_csum_init() != 0)
		DP_LOG(WARNING, "no mbuf flag for partial checksums (%s): guests' partial "
		       "checksums are completed on receive", rte_strerror(rte_errno));
	sz = rte_rcu_qsbr_get_memsize(VSW_MAX_PMDS);
	vsw_qsbr = rte_zmalloc("vsw_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (vsw_qsbr == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(vsw_qsbr, VSW_MAX_PMDS) != 0)
		return -rte_errno;
	vsw_dp_learn_ring = rte_ring_create_elem("vsw_learn", sizeof(struct vsw_learn_req),
						 LEARN_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (vsw_dp_learn_ring == NULL) {
		DP_LOG(ERR, "rte_ring_create_elem: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (i = 0; i < n; i++) {
		vsw_pmds[i] = rte_zmalloc_socket("vsw_pmd", sizeof(struct vsw_pmd),
						 RTE_CACHE_LINE_SIZE,
						 (int)rte_lcore_to_socket_id(lcores[i]));
		if (vsw_pmds[i] == NULL)
			return -ENOMEM;
		vsw_pmds[i]->lcore = lcores[i];
		vsw_pmds[i]->idx = i;
		vsw_pmds[i]->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vsw_pmds[i]->wake_fd < 0)
			return -errno;
		rte_rcu_qsbr_thread_register(vsw_qsbr, i);
	}
	vsw_n_pmds = n;
	return 0;
}

int
vsw_dp_start(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vsw_n_pmds; i++) {
		atomic_store(&vsw_pmds[i]->quit, false);
		ret = rte_eal_remote_launch(vsw_pmd_main, vsw_pmds[i], vsw_pmds[i]->lcore);
		if (ret != 0) {
			DP_LOG(ERR, "cannot launch PMD on lcore %u: %s", vsw_pmds[i]->lcore,
			       rte_strerror(-ret));
			return ret;
		}
		vsw_pmds[i]->running = true;
		DP_LOG(INFO, "PMD %u running on lcore %u (cpu %d)", i, vsw_pmds[i]->lcore,
		       vsw_lcore_cpu(vsw_pmds[i]->lcore));
	}
	return 0;
}

int
vsw_lcore_cpu(unsigned int lcore)
{
	rte_cpuset_t set = rte_lcore_cpuset(lcore);
	int cpu;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -1;
}

void
vsw_dp_stop(void)
{
	unsigned int i;

	for (i = 0; i < vsw_n_pmds; i++)
		atomic_store(&vsw_pmds[i]->quit, true);
	vsw_dp_wake();
	for (i = 0; i < vsw_n_pmds; i++) {
		if (!vsw_pmds[i]->running)
			continue;
		rte_eal_wait_lcore(vsw_pmds[i]->lcore);
		vsw_pmds[i]->running = false;
	}
}

void
vsw_dp_sync(void)
{
	uint64_t token = rte_rcu_qsbr_start(vsw_qsbr);
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_get_tsc_cycles(), next = t0 + hz;

	/*
	 * Wait for every online PMD to pass a quiescent state. This normally
	 * takes one loop iteration (microseconds); a PMD stuck in a driver
	 * would hold up the control plane, so say so every second.
	 */
	while (rte_rcu_qsbr_check(vsw_qsbr, token, false) == 0) {
		rte_pause();
		if (rte_get_tsc_cycles() >= next) {
			DP_LOG(WARNING, "PMDs have not passed a quiescent state for %" PRIu64
			       " s; configuration change waiting", (next - t0) / hz);
			next += hz;
		}
	}
}

void
vsw_dp_wake(void)
{
	uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < vsw_n_pmds; i++)
		if (write(vsw_pmds[i]->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			DP_LOG(WARNING, "cannot wake PMD %u: %s", i, strerror(errno));
}

/* The guest's offload features, before its id is published. */
static void
set_guest_ol(uint16_t slot, int32_t vid)
{
	uint64_t features = 0;

	if (rte_vhost_get_negotiated_features(vid, &features) != 0)
		features = 0;
	atomic_store_explicit(&vsw_port_guest_ol[slot],
			      (uint8_t)(((features >> VIRTIO_NET_F_GUEST_CSUM) & 1 ?
					 VSW_GUEST_CSUM : 0) |
					((features >> VIRTIO_NET_F_GUEST_TSO4) & 1 ?
					 VSW_GUEST_TSO4 : 0) |
					((features >> VIRTIO_NET_F_GUEST_TSO6) & 1 ?
					 VSW_GUEST_TSO6 : 0)),
			      memory_order_relaxed);
}

/* A walked device's unsent RARP across its rebuild (control side, under the hook lock). */
static uint64_t rarp_keep[VSW_MAX_PORTS];
static int32_t rarp_vid[VSW_MAX_PORTS];

void
vsw_dp_set_vid(uint16_t slot, int32_t vid, const _Atomic uint64_t *ready)
{
	struct vsw_vdev *od, *nd;
	int32_t old;

	if (slot >= VSW_MAX_PORTS)
		return;
	old = atomic_load_explicit(&vsw_port_vid[slot], memory_order_relaxed);
	if (old < 0 && vid < 0)
		return;
	if (old == vid) {
		/* Same guest on rte_vhost's functions: nothing to take back. */
		set_guest_ol(slot, vid);
		return;
	}
	/* Take the old device back; a PMD may still use it until the sync. */
	atomic_store_explicit(&vsw_port_vid[slot], -1, memory_order_release);
	if (old >= 0 && vsw_qsbr != NULL)
		vsw_dp_sync();
	od = atomic_exchange_explicit(&vsw_port_vdev[slot], NULL, memory_order_relaxed);
	/*
	 * A RARP not sent yet outlives the device's rebuild around a message
	 * (the PMDs are past the sync: nobody takes it meanwhile).
	 */
	if (od != NULL) {
		rarp_keep[slot] = atomic_load_explicit(&od->rarp, memory_order_relaxed);
		rarp_vid[slot] = od->vid;
	}
	/* Its ring indices back to rte_vhost, before anyone reads them. */
	vsw_vdev_release(od);
	if (vid < 0)
		return;
	set_guest_ol(slot, vid);
	nd = ready != NULL ? vsw_vdev_build(vid, ready) : NULL;
	if (nd != NULL && rarp_keep[slot] != 0 && rarp_vid[slot] == vid)
		atomic_store_explicit(&nd->rarp, rarp_keep[slot], memory_order_relaxed);
	rarp_keep[slot] = 0;
	/* The device before the id: a PMD that sees the id sees the device. */
	atomic_store_explicit(&vsw_port_vdev[slot], nd, memory_order_relaxed);
	atomic_store_explicit(&vsw_port_vid[slot], vid | (nd != NULL ? VSW_VID_WALKED : 0),
			      memory_order_release);
	vsw_dp_wake();	/* A PMD asleep until kicked must arm the new guest. */
}

bool
vsw_dp_pause_vid(uint16_t slot, int32_t vid)
{
	int32_t cur;

	if (slot >= VSW_MAX_PORTS)
		return false;
	cur = atomic_load_explicit(&vsw_port_vid[slot], memory_order_relaxed);
	if (cur < 0 || !(cur & VSW_VID_WALKED) || (cur & ~VSW_VID_WALKED) != vid)
		return false;
	vsw_dp_set_vid(slot, -1, NULL);
	return true;
}

bool
vsw_dp_rarp_vid(uint16_t slot, int32_t vid, const uint8_t mac[6])
{
	struct vsw_vdev *d;
	int32_t cur;

	if (slot >= VSW_MAX_PORTS)
		return false;
	cur = atomic_load_explicit(&vsw_port_vid[slot], memory_order_relaxed);
	d = atomic_load_explicit(&vsw_port_vdev[slot], memory_order_relaxed);
	/* Only vsw_dp_set_vid() frees d, in the same thread or under the same lock. */
	if (cur < 0 || !(cur & VSW_VID_WALKED) || (cur & ~VSW_VID_WALKED) != vid || d == NULL)
		return false;
	vsw_vdev_rarp(d, mac);
	vsw_dp_wake();	/* A PMD asleep until kicked sends it now. */
	return true;
}

bool
vsw_dp_vid_walked(uint16_t slot)
{
	int32_t cur;

	if (slot >= VSW_MAX_PORTS)
		return false;
	cur = atomic_load_explicit(&vsw_port_vid[slot], memory_order_relaxed);
	return cur >= 0 && (cur & VSW_VID_WALKED);
}

struct vsw_dp_conf *
vsw_dp_publish(struct vsw_dp_conf *conf)
{
	struct vsw_dp_conf *old;

	old = atomic_exchange_explicit(&vsw_dp_cur, conf, memory_order_acq_rel);
	vsw_dp_wake();
	vsw_dp_sync();
	return old;
}
