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

void
vsw_dp_set_vid(uint16_t slot, int32_t vid)
{
	int32_t old;

	if (slot >= VSW_MAX_PORTS)
		return;
	if (vid >= 0) {
		/* Before the id: a PMD that sees the id sees its guest's features. */
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
	old = atomic_exchange_explicit(&vsw_port_vid[slot], vid, memory_order_acq_rel);
	if (old >= 0 && old != vid && vsw_qsbr != NULL)
		vsw_dp_sync();
	if (vid >= 0 && old != vid)
		vsw_dp_wake();	/* A PMD asleep until kicked must arm the new guest. */
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
