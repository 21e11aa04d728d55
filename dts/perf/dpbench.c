/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vsw-dpbench: the cost of vsw's burst function alone, per scenario.
 *
 * Builds a data-path snapshot by hand (net_null ports: their tx frees the
 * frames, nothing is copied to a guest), pre-learns the MACs, and calls
 * vsw_dp_process() on bursts of 32 64-byte frames, timing only that call
 * with the TSC. What it isolates is what the end-to-end benchmark cannot:
 * classification, lookup, learning, forwarding and every L2 feature,
 * without the vhost copies that dominate a PMD's cycles.
 *
 *   vsw-dpbench [--bursts N] [SCENARIO...]      (default: all)
 *
 * Under `valgrind --tool=callgrind --toggle-collect=vsw_dp_process` the
 * instruction count per frame is exact and does not depend on what else the
 * machine is doing (dts/perf/dpbench.sh does that).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_meter.h>

#include "vsw_dp.h"
#include "vsw_fdb.h"

#define N_PORTS 4
#define BURST 32

static struct rte_mempool *pool;
static struct vsw_fdb *fdb;

static const uint8_t port_mac[N_PORTS][6] = {
	{0x02, 0x76, 0x73, 0, 0, 1}, {0x02, 0x76, 0x73, 0, 0, 2},
	{0x02, 0x76, 0x73, 0, 0, 3}, {0x02, 0x76, 0x73, 0, 0, 4},
};

struct scenario {
	const char *name;
	const char *what;
	int bcast;		/* Destination broadcast (flood) instead of port 1's MAC. */
	void (*setup)(struct vsw_dp_conf *c);
};

/*
 * The feature scenarios need the L2 features (VSW_PORT_EVENTS came with
 * them): without it, the file still builds against an older tree, with
 * the plain scenarios only, for before/after comparisons.
 */
#ifdef VSW_PORT_EVENTS
static void
set_all_vlans(struct vsw_dp_port *p)
{
	unsigned int v;

	for (v = 0; v <= VSW_VLAN_MAX; v++)
		vsw_vlan_set(p->vlans, v);
}

#endif

static void
setup_plain(struct vsw_dp_conf *c)
{
	(void)c;
}

#ifdef VSW_PORT_EVENTS

/* Port 0 access VLAN 10, the others plain (all VLANs, tagged): push. */
static void
setup_vlan(struct vsw_dp_conf *c)
{
	unsigned int i;

	c->bridges[0]->feat |= VSW_BF_VLAN;
	for (i = 0; i < N_PORTS; i++)
		set_all_vlans(&c->ports[i]);
	memset(c->ports[0].vlans, 0, sizeof(c->ports[0].vlans));
	vsw_vlan_set(c->ports[0].vlans, 10);
	c->ports[0].pvid = 10;
	c->ports[0].access = 1;
	/* Port 2: access 10 too, so a flood needs both forms. */
	memset(c->ports[2].vlans, 0, sizeof(c->ports[2].vlans));
	vsw_vlan_set(c->ports[2].vlans, 10);
	c->ports[2].pvid = 10;
	c->ports[2].access = 1;
}

static void
setup_secure(struct vsw_dp_conf *c)
{
	c->ports[0].feat |= VSW_PF_ALLOWED_MACS;
	c->ports[0].n_allowed = 2;
	c->ports[0].allowed[0] = 0x1234;
	memcpy(&c->ports[0].allowed[1], port_mac[0], 6);
}

static void
profile(struct rte_meter_srtcm_profile *p, uint64_t rate, uint64_t burst)
{
	struct rte_meter_srtcm_params prm = {.cir = rate, .cbs = burst, .ebs = 0};

	if (rte_meter_srtcm_profile_config(p, &prm) != 0)
		rte_exit(EXIT_FAILURE, "rte_meter_srtcm_profile_config\n");
}

/* Byte and frame policers that never run dry: the metering cost only. */
static void
setup_police(struct vsw_dp_conf *c)
{
	c->ports[0].feat |= VSW_PF_POLICE;
	c->ports[0].qos.gen = 1;
	c->ports[0].qos.police = 3;
	profile(&c->ports[0].qos.police_bytes, UINT64_C(100000000000), UINT64_C(1) << 40);
	profile(&c->ports[0].qos.police_pkts, UINT64_C(10000000000), UINT64_C(1) << 40);
}

static void
setup_storm(struct vsw_dp_conf *c)
{
	unsigned int i;

	c->ports[0].feat |= VSW_PF_STORM;
	c->ports[0].qos.gen = 1;
	c->ports[0].qos.storm_on = 7;
	for (i = 0; i < VSW_STORM_MAX; i++)
		profile(&c->ports[0].qos.storm[i], UINT64_C(10000000000), UINT64_C(1) << 40);
}

static void
setup_protected(struct vsw_dp_conf *c)
{
	c->ports[0].feat |= VSW_PF_PROTECTED;
	c->ports[0].is_protected = 1;
}

/* Port 0's received frames copied to port 3 (which leaves switching). */
static void
setup_mirror(struct vsw_dp_conf *c)
{
	struct vsw_dp_bridge *b = c->bridges[0];

	c->ports[0].feat |= VSW_PF_MIRROR_RX;
	c->ports[0].mirror_dir = VSW_MIRROR_RX;
	c->ports[0].mirror_slot = 3;
	c->ports[3].feat |= VSW_PF_MIRROR_DST;
	b->n_ports = 3;
}

#endif

static const struct scenario scenarios[] = {
	{"plain", "unicast, no feature (the plain path)", 0, setup_plain},
	{"flood", "broadcast to 3 ports, no feature", 1, setup_plain},
#ifdef VSW_PORT_EVENTS
	{"protected", "unicast, feature path with only protected=true", 0, setup_protected},
	{"secure", "unicast, allowed-macs (2 entries)", 0, setup_secure},
	{"police", "unicast, byte and frame policers", 0, setup_police},
	{"storm", "broadcast to 3 ports, storm control", 1, setup_storm},
	{"vlan", "unicast access -> plain port: tag pushed in place", 0, setup_vlan},
	{"vlan-flood", "broadcast access -> 1 access + 2 tagged: header + clone", 1, setup_vlan},
	{"mirror", "unicast, ingress mirror", 0, setup_mirror},
#endif
};

static struct vsw_dp_conf *
make_conf(void)
{
	struct vsw_dp_conf *c = calloc(1, sizeof(*c));
	struct vsw_dp_bridge *b = calloc(1, sizeof(*b));
	unsigned int i;

	if (c == NULL || b == NULL)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	b->fdb = fdb;
	b->n_ports = N_PORTS;
	for (i = 0; i < N_PORTS; i++) {
		b->ports[i] = (uint16_t)i;
		c->ports[i].eth_port = (uint16_t)i;
		c->ports[i].max_len = 1518;
		c->ports[i].valid = 1;
#ifdef VSW_PORT_EVENTS
		vsw_vlan_set(c->ports[i].vlans, 0);
#endif
	}
	c->bridges[0] = b;
	return c;
}

static void
fill(struct rte_mbuf **m, int bcast)
{
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t *d;
	unsigned int i;

	if (rte_pktmbuf_alloc_bulk(pool, m, BURST) != 0)
		rte_exit(EXIT_FAILURE, "mbuf pool empty\n");
	for (i = 0; i < BURST; i++) {
		d = (uint8_t *)rte_pktmbuf_append(m[i], 64);
		memcpy(d, bcast ? bc : port_mac[1], 6);
		memcpy(d + 6, port_mac[0], 6);
		d[12] = 0x88;
		d[13] = 0xb5;
		memset(d + 14, (int)i, 50);
	}
}

static double
run(const struct scenario *s, unsigned int bursts)
{
	struct vsw_dp_conf *c = make_conf();
	struct rte_mbuf *m[BURST];
	uint64_t cyc = 0, t0;
	unsigned int i;

	s->setup(c);
#ifdef VSW_PORT_EVENTS
	memset(vsw_pmds[0]->qos, 0, sizeof(vsw_pmds[0]->qos));
#endif
	for (i = 0; i < bursts + bursts / 10; i++) {
		fill(m, s->bcast);
		t0 = rte_rdtsc_precise();
		vsw_dp_process(vsw_pmds[0], c, 0, m, BURST);
		if (i >= bursts / 10)	/* The first tenth warms up. */
			cyc += rte_rdtsc_precise() - t0;
	}
	if (rte_mempool_in_use_count(pool) != 0)
		rte_exit(EXIT_FAILURE, "%s: %u mbufs not freed\n", s->name,
			 rte_mempool_in_use_count(pool));
	free(c->bridges[0]);
	free(c);
	return (double)cyc / ((double)bursts * BURST);
}

static void
port_init(uint16_t p)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(p, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(p, 0, 64, SOCKET_ID_ANY, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(p, 0, 64, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start(p) != 0)
		rte_exit(EXIT_FAILURE, "cannot start port %u\n", p);
}

int
main(int argc, char **argv)
{
	struct vsw_fdb_params fp;
	struct vsw_fdb_key k;
	char rundir[PATH_MAX];
	unsigned int lcore, bursts = 200000, i, j, ran = 0;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	argc -= n;
	argv += n;
	if (argc > 2 && strcmp(argv[1], "--bursts") == 0) {
		bursts = (unsigned int)strtoul(argv[2], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (rte_eth_dev_count_avail() < N_PORTS)
		rte_exit(EXIT_FAILURE, "need %d ports: --vdev net_null0 ... --vdev net_null3\n",
			 N_PORTS);
	pool = rte_pktmbuf_pool_create("dpbench", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	lcore = rte_lcore_id();
	if (pool == NULL || vsw_dp_init(&lcore, 1) != 0)
		rte_exit(EXIT_FAILURE, "setup failed\n");
	for (i = 0; i < N_PORTS; i++) {
		port_init((uint16_t)i);
		atomic_store(&vsw_port_up[i], 1);
	}
	memset(&fp, 0, sizeof(fp));
	fp.name = "dpbench";
	fp.capacity = 1024;
	fp.qsbr = vsw_qsbr;
	fp.socket_id = SOCKET_ID_ANY;
	fdb = vsw_fdb_create(&fp);
	if (fdb == NULL)
		rte_exit(EXIT_FAILURE, "fdb\n");
	for (i = 0; i < N_PORTS; i++)
		for (j = 0; j < 2; j++) {	/* VLAN 0 and 10 */
			memset(&k, 0, sizeof(k));
			k.vlan = j ? 10 : 0;
			memcpy(&k.mac, port_mac[i], 6);
			vsw_fdb_learn(fdb, &k, (uint16_t)i, 0);
		}
	printf("%-11s %9s  %s\n", "scenario", "cyc/frame", "what");
	for (i = 0; i < RTE_DIM(scenarios); i++) {
		for (j = 1; j < (unsigned int)argc; j++)
			if (strcmp(argv[j], scenarios[i].name) == 0)
				break;
		if (argc > 1 && j == (unsigned int)argc)
			continue;
		printf("%-11s %9.1f  %s\n", scenarios[i].name, run(&scenarios[i], bursts),
		       scenarios[i].what);
		fflush(stdout);
		ran++;
	}
	if (ran == 0)
		rte_exit(EXIT_FAILURE, "no such scenario\n");
	printf("frames per scenario: %u\n", bursts * BURST);
	/* EAL leaves its (emptied) runtime directory behind: remove it. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);
	return 0;
}
