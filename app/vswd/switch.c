/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch registry and the command handlers. Control thread only.
 *
 * Every change follows the same order: validate everything first (so a
 * refused command changes nothing), create what the change needs (device,
 * table), publish a new data-path snapshot (vsw_dp_publish waits for the
 * PMDs), release what only the old snapshot used, then save the state file.
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_version.h>
#include <rte_vhost.h>

#include "vsw_util.h"
#include "vsw_dp.h"
#include "vsw_state.h"
#include "vswd.h"

RTE_LOG_REGISTER_DEFAULT(vswd_logtype, INFO);
#define RTE_LOGTYPE_VSWD vswd_logtype
#define SW_LOG(l, fmt, ...) RTE_LOG(l, VSWD, fmt "\n", ##__VA_ARGS__)

struct vsw_switch vsw_sw;


/* --------------------------------------------------------------- events */

#define N_EVENTS 512

struct event {
	struct timespec ts;	/* Wall-clock time. */
	char text[160];		/* What happened. */
};

static struct event events[N_EVENTS];
static uint64_t n_events;	/* Events ever recorded; the ring keeps the last N_EVENTS. */

/* Record an event; it also goes to the log at the given level. */
static void
event(uint32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
event(uint32_t level, const char *fmt, ...)
{
	struct event *e = &events[n_events++ % N_EVENTS];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &e->ts);
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	rte_log(level, vswd_logtype, "VSWD: %s\n", e->text);
}

/*
 * MAC events (learned, moved, refused) are rate-limited: at most
 * MAC_EVENTS_PER_S a second reach the log and the ring; the rest are
 * counted and reported once, so a MAC flood or a flapping MAC cannot
 * drown the log or starve the control thread.
 */
#define MAC_EVENTS_PER_S 100

static uint32_t mac_ev_sec;		/* Second of the current budget. */
static uint32_t mac_ev_used;		/* Events logged in it. */
static uint64_t mac_ev_suppressed;	/* Events dropped in it. */

static bool
mac_event_allowed(void)
{
	uint32_t now = vsw_now();

	if (now != mac_ev_sec) {
		if (mac_ev_suppressed != 0)
			event(RTE_LOG_NOTICE, "%" PRIu64 " MAC events not logged in the last "
			      "second (limit %d/s)", mac_ev_suppressed, MAC_EVENTS_PER_S);
		mac_ev_sec = now;
		mac_ev_used = 0;
		mac_ev_suppressed = 0;
	}
	if (mac_ev_used < MAC_EVENTS_PER_S) {
		mac_ev_used++;
		return true;
	}
	mac_ev_suppressed++;
	return false;
}

/* ---------------------------------------------------------------- rates */

/* Per-second rates of a port slot, computed every second by the tick. */
struct port_rate {
	struct vsw_port_ctrs prev;	/* Counters at the previous sample. */
	uint64_t prev_ms;		/* Time of that sample; 0 = none yet. */
	double rx_pps, tx_pps;		/* Packets per second. */
	double rx_bps, tx_bps;		/* Bits per second. */
	double drops_ps;		/* Drops per second, all reasons. */
};

static struct port_rate rates[VSW_MAX_PORTS];

/* ---------------------------------------------------------------- pools */

struct rte_mempool *
vswd_pool_for(int socket)
{
	struct vsw_switch *sw = &vsw_sw;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	int s = socket;

	if (s < 0 || s >= RTE_MAX_NUMA_NODES)
		s = (int)rte_socket_id();
	if (s < 0 || s >= RTE_MAX_NUMA_NODES)
		s = 0;
	if (sw->pools[s] != NULL)
		return sw->pools[s];
	snprintf(name, sizeof(name), "vsw_mbuf_%d", s);
	mp = rte_pktmbuf_pool_create(name, sw->n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, s);
	if (mp == NULL) {
		SW_LOG(WARNING, "no mbuf pool on socket %d (%s); using any socket", s,
		       rte_strerror(rte_errno));
		snprintf(name, sizeof(name), "vsw_mbuf_any%d", s);
		mp = rte_pktmbuf_pool_create(name, sw->n_mbufs, 256, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	}
	if (mp == NULL) {
		SW_LOG(ERR, "cannot create mbuf pool: %s", rte_strerror(rte_errno));
		return NULL;
	}
	sw->pools[s] = mp;
	return mp;
}

/* ------------------------------------------------------------- lookups */

static bool
valid_name(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) >= VSW_NAME_MAX)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static struct vsw_bridge *
find_bridge(struct vsw_switch *sw, const char *name)
{
	unsigned int i;

	for (i = 0; i < VSW_MAX_BRIDGES; i++)
		if (sw->bridges[i].used && strcmp(sw->bridges[i].name, name) == 0)
			return &sw->bridges[i];
	return NULL;
}

static struct vsw_port *
find_port(struct vsw_switch *sw, const char *name)
{
	unsigned int i;

	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] != NULL && strcmp(sw->ports[i]->conf.name, name) == 0)
			return sw->ports[i];
	return NULL;
}

static struct vsw_bridge *
need_bridge(struct vsw_switch *sw, const json_t *args, char *err, size_t len)
{
	const char *name = vsw_args_str(args, "bridge");
	struct vsw_bridge *b = name != NULL ? find_bridge(sw, name) : NULL;

	if (b == NULL)
		vsw_errf(err, len, -ENOENT, "no bridge named '%s'", name != NULL ? name : "");
	return b;
}

static struct vsw_port *
need_port(struct vsw_switch *sw, const json_t *args, char *err, size_t len)
{
	const char *name = vsw_args_str(args, "port");
	struct vsw_port *p = name != NULL ? find_port(sw, name) : NULL;

	if (p == NULL)
		vsw_errf(err, len, -ENOENT, "no port named '%s'", name != NULL ? name : "");
	return p;
}

static void
mac_str(const struct rte_ether_addr *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m->addr_bytes[0], m->addr_bytes[1],
		 m->addr_bytes[2], m->addr_bytes[3], m->addr_bytes[4], m->addr_bytes[5]);
}

/* ------------------------------------------------------ data-path snapshot */

static void
conf_free(struct vsw_dp_conf *c)
{
	unsigned int i;

	if (c == NULL)
		return;
	for (i = 0; i < VSW_MAX_BRIDGES; i++)
		free(c->bridges[i]);
	free(c);
}

/*
 * An open port's MTU: the configured one, else the device's (a vhost-user
 * guest's from VIRTIO_NET_F_MTU), else 1500.
 */
static uint16_t
port_mtu(const struct vsw_port *p)
{
	uint16_t mtu = p->conf.mtu;

	if (mtu == 0 && vsw_port_is_vhost(p))
		mtu = vsw_port_vhost_mtu(p);
	else if (mtu == 0 && rte_eth_dev_get_mtu(p->eth_port, &mtu) != 0)
		mtu = 0;
	return mtu != 0 ? mtu : RTE_ETHER_MTU;
}

/* Longest frame a port may send: its MTU plus Ethernet header and one tag. */
static uint32_t
port_max_len(const struct vsw_port *p)
{
	return (uint32_t)port_mtu(p) + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
}

/* The open port of a bridge called name, or NULL. */
static struct vsw_port *
bridge_port(struct vsw_switch *sw, uint16_t bridge, const char *name)
{
	struct vsw_port *o = find_port(sw, name);

	return o != NULL && o->bridge == bridge ? o : NULL;
}

/* NUMA node of a port's device (the main lcore's when unknown). */
static int
port_numa(const struct vsw_port *p)
{
	return vsw_port_numa_node(vsw_port_is_vhost(p) ? -1 : rte_eth_dev_socket_id(p->eth_port),
				  (int)rte_socket_id());
}

static int
pmd_numa(unsigned int pmd)
{
	return (int)rte_lcore_to_socket_id(vsw_pmds[pmd]->lcore);
}

/*
 * The PMD for a new rx queue of p: one on the device's NUMA node if there
 * is one (else any, with a warning), and of those the one with the fewest
 * queues. @return PMD index + 1.
 */
static uint8_t
place_rxq(const struct vsw_dp_conf *c, const struct vsw_port *p)
{
	int node = port_numa(p);
	unsigned int j, best = 0;
	bool local;

	for (j = 1; j < vsw_n_pmds; j++) {
		local = pmd_numa(j) == node;
		if ((local && pmd_numa(best) != node) ||
		    (local == (pmd_numa(best) == node) && c->poll[j].n_rxq < c->poll[best].n_rxq))
			best = j;
	}
	if (pmd_numa(best) != node)
		event(RTE_LOG_WARNING, "port %s is on NUMA node %d but no PMD is: its frames "
		      "cross nodes (give vswd --pmd-cores on node %d)", p->conf.name, node, node);
	return (uint8_t)(best + 1);
}

/* ------------------------------------------------------- vhost device ids */

/*
 * A vhost-user port's PMDs call rte_vhost on the device id in
 * vsw_port_vid[slot] (see vsw_dp.h). The port module hands it over
 * (vsw_port_vhost_hook = vsw_dp_set_vid) from rte_vhost's new_device
 * notification, and takes it back from its destroy_device notification,
 * which rte_vhost delivers before it frees the device, or in
 * vsw_port_close() before it unregisters the socket: vsw_dp_set_vid()
 * waits until no PMD still uses the old id (lib/port/port.c says which
 * locks are never held then, and why).
 */

/* Open a port's device. */
static int
port_open(struct vsw_port *p, char *err, size_t len)
{
	return vsw_port_open(p, (uint16_t)vsw_n_pmds, vswd_pool_for, err, len);
}

/* Build and publish the snapshot of the current registry. */
static int
publish(struct vsw_switch *sw)
{
	struct vsw_dp_conf *c, *old;
	struct vsw_dp_bridge *db;
	struct vsw_dp_poll *poll;
	struct vsw_port *p, *mp;
	unsigned int i, q, rr;
	static uint64_t gen;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->gen = ++gen;
	for (i = 0; i < VSW_MAX_BRIDGES; i++) {
		if (!sw->bridges[i].used)
			continue;
		db = calloc(1, sizeof(*db));
		if (db == NULL) {
			conf_free(c);
			return -ENOMEM;
		}
		db->fdb = sw->bridges[i].fdb;
		db->idx = (uint16_t)i;
		c->bridges[i] = db;
	}
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		p = sw->ports[i];
		atomic_store_explicit(&vsw_port_up[i], p != NULL && p->open && p->link_up,
				      memory_order_relaxed);
		if (p == NULL || !p->open)
			continue;
		c->ports[i].eth_port = p->eth_port;
		c->ports[i].vhost = vsw_port_is_vhost(p);
		c->ports[i].max_len = port_max_len(p);
		c->ports[i].bridge = p->bridge;
		c->ports[i].gen = p->gen;
		c->ports[i].valid = 1;
		vswd_l2_dp(p, vsw_n_pmds, &c->ports[i]);
		db = c->bridges[p->bridge];
		if (db != NULL && vsw_l2_vlan_set(&p->l2))
			db->feat |= VSW_BF_VLAN;
	}
	/* Mirrors: an open port of the same bridge; it leaves normal switching. */
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		p = sw->ports[i];
		if (p == NULL || !p->open || p->l2.mirror_to[0] == '\0')
			continue;
		mp = bridge_port(sw, p->bridge, p->l2.mirror_to);
		if (mp == NULL || !mp->open || mp == p)
			continue;
		c->ports[i].mirror_slot = mp->slot;
		c->ports[i].mirror_dir = p->l2.mirror_dir;
		if (p->l2.mirror_dir & VSW_MIRROR_RX)
			c->ports[i].feat |= VSW_PF_MIRROR_RX;
		if ((p->l2.mirror_dir & VSW_MIRROR_TX) && c->bridges[p->bridge] != NULL)
			c->bridges[p->bridge]->feat |= VSW_BF_MIRROR_TX;
		c->ports[mp->slot].feat |= VSW_PF_MIRROR_DST;
	}
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		p = sw->ports[i];
		if (p == NULL || !p->open) {
			/* Not polled in this snapshot: its queues are placed afresh later. */
			memset(sw->rxq_pmd[i], 0, sizeof(sw->rxq_pmd[i]));
			continue;
		}
		for (q = p->conf.n_rxq; q < VSW_MAX_QUEUES; q++)
			sw->rxq_pmd[i][q] = 0;
		db = c->bridges[p->bridge];
		/* Flood only to ports that can take frames, never to mirror outputs. */
		if (db != NULL && p->link_up && !(c->ports[i].feat & VSW_PF_MIRROR_DST))
			db->ports[db->n_ports++] = (uint16_t)i;
	}
	/*
	 * Rx queues: placed ones stay on their PMD (two PMDs must never poll
	 * one queue, even for one grace period); new ones go to the PMD with
	 * the fewest. pmd-rebalance moves queues by measured cycles.
	 */
	for (rr = 0; rr < 2; rr++) {
		for (i = 0; i < VSW_MAX_PORTS; i++) {
			p = sw->ports[i];
			if (p == NULL || !p->open)
				continue;
			for (q = 0; q < p->conf.n_rxq; q++) {
				uint8_t a = sw->rxq_pmd[i][q];

				if (a == VSW_RXQ_PARKED || (rr == 0) != (a != 0 && a <= vsw_n_pmds))
					continue;
				if (a == 0 || a > vsw_n_pmds) {
					a = place_rxq(c, p);
					sw->rxq_pmd[i][q] = a;
				}
				poll = &c->poll[a - 1];
				if (poll->n_rxq >= VSW_MAX_PMD_RXQ)
					continue;
				poll->rxq[poll->n_rxq].slot = (uint16_t)i;
				poll->rxq[poll->n_rxq].eth_port = p->eth_port;
				poll->rxq[poll->n_rxq].queue = (uint16_t)q;
				poll->rxq[poll->n_rxq].vhost = vsw_port_is_vhost(p);
				poll->rxq[poll->n_rxq].pool = p->pool;
				poll->n_rxq++;
			}
		}
	}
	old = vsw_dp_publish(c);
	conf_free(old);
	return 0;
}

/* -------------------------------------------------------------- counters */

static void
port_ctrs_raw(const struct vsw_port *p, struct vsw_port_ctrs *sum)
{
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < vsw_n_pmds; i++)
		vsw_port_ctrs_add(sum, &vsw_pmds[i]->ctrs[p->slot]);
	sum->drops[VSW_DROP_NO_MBUF] += vsw_port_rx_nombuf(p);
}

static void
port_ctrs(const struct vsw_port *p, struct vsw_port_ctrs *sum)
{
	port_ctrs_raw(p, sum);
	vsw_port_ctrs_sub(sum, &p->base);
}

/* ------------------------------------------------------------ state file */

static json_t *
state_json(struct vsw_switch *sw)
{
	json_t *root, *bridges, *jb, *ports, *jp, *statics, *js;
	const struct vsw_fdb_entry *e;
	struct vsw_bridge *b;
	struct vsw_port *p;
	unsigned int i, j;
	char mac[24];

	root = json_object();
	json_object_set_new(root, "format", json_string("vsw-state"));
	json_object_set_new(root, "version", json_integer(VSW_STATE_VERSION));
	bridges = json_array();
	for (i = 0; i < VSW_MAX_BRIDGES; i++) {
		b = &sw->bridges[i];
		if (!b->used)
			continue;
		jb = json_object();
		json_object_set_new(jb, "name", json_string(b->name));
		json_object_set_new(jb, "aging", json_integer(b->aging));
		json_object_set_new(jb, "max_macs", json_integer(b->max_macs));
		json_object_set_new(jb, "port_max_macs", json_integer(b->port_max_macs));
		json_object_set_new(jb, "flap_moves", json_integer(b->flap.moves));
		json_object_set_new(jb, "flap_window", json_integer(b->flap.window));
		json_object_set_new(jb, "flap_freeze", json_integer(b->flap.freeze));
		ports = json_array();
		for (j = 0; j < VSW_MAX_PORTS; j++) {
			p = sw->ports[j];
			if (p == NULL || p->bridge != i)
				continue;
			jp = json_object();
			json_object_set_new(jp, "name", json_string(p->conf.name));
			json_object_set_new(jp, "type",
					    json_string(vsw_port_type_name(p->conf.type)));
			if (p->conf.type == VSW_PORT_DPDK)
				json_object_set_new(jp, "devargs", json_string(p->conf.devargs));
			else
				json_object_set_new(jp, "path", json_string(p->conf.path));
			json_object_set_new(jp, "n_rxq", json_integer(p->conf.n_rxq));
			if (p->conf.mtu != 0)
				json_object_set_new(jp, "mtu", json_integer(p->conf.mtu));
			if (p->conf.has_mac) {
				mac_str(&p->conf.mac, mac, sizeof(mac));
				json_object_set_new(jp, "mac", json_string(mac));
			}
			json_object_set_new(jp, "l2", vswd_l2_json(&p->l2));
			json_array_append_new(ports, jp);
		}
		json_object_set_new(jb, "ports", ports);
		statics = json_array();
		for (j = 0; j < b->fdb->capacity; j++) {
			e = &b->fdb->entries[j];
			if (!e->in_use || !e->is_static || sw->ports[e->port] == NULL)
				continue;
			js = json_object();
			mac_str(&e->key.mac, mac, sizeof(mac));
			json_object_set_new(js, "mac", json_string(mac));
			json_object_set_new(js, "vlan", json_integer(e->key.vlan));
			json_object_set_new(js, "port", json_string(sw->ports[e->port]->conf.name));
			json_array_append_new(statics, js);
		}
		json_object_set_new(jb, "static_macs", statics);
		json_array_append_new(bridges, jb);
	}
	json_object_set_new(root, "bridges", bridges);
	return root;
}

int
vswd_save(struct vsw_switch *sw, char *err, size_t len)
{
	json_t *root;
	int ret;

	if (sw->restoring || sw->state_path[0] == '\0')
		return 0;
	root = state_json(sw);
	ret = vsw_state_save(sw->state_path, root, err, len);
	json_decref(root);
	if (ret < 0)
		SW_LOG(ERR, "cannot save state: %s", err);
	return ret;
}

/* Save after a configuration change; the change itself has been applied. */
static int
commit(struct vsw_switch *sw, char *err, size_t len)
{
	char e2[512];

	if (vswd_save(sw, e2, sizeof(e2)) < 0)
		return vsw_errf(err, len, -EIO, "applied, but the state file was not saved: %s", e2);
	return 0;
}

/* ---------------------------------------------------------------- bridges */

int
vswd_add_bridge(struct vsw_switch *sw, const char *name, uint32_t aging, uint32_t max_macs,
		uint32_t port_max_macs, char *err, size_t len)
{
	struct vsw_fdb_params fp;
	struct vsw_bridge *b = NULL;
	char fname[32];
	unsigned int i;
	int ret;

	if (!valid_name(name))
		return vsw_errf(err, len, -EINVAL,
			    "bad bridge name '%s': 1-%d letters, digits, '-', '_', '.'", name,
			    VSW_NAME_MAX - 1);
	if (find_bridge(sw, name) != NULL)
		return vsw_errf(err, len, -EEXIST, "bridge '%s' already exists", name);
	for (i = 0; i < VSW_MAX_BRIDGES; i++) {
		if (!sw->bridges[i].used) {
			b = &sw->bridges[i];
			break;
		}
	}
	if (b == NULL)
		return vsw_errf(err, len, -ENOSPC, "too many bridges (max %d)", VSW_MAX_BRIDGES);
	snprintf(fname, sizeof(fname), "%u", ++sw->fdb_seq);
	memset(&fp, 0, sizeof(fp));
	fp.name = fname;
	fp.capacity = max_macs;
	fp.aging = aging;
	fp.port_max_macs = port_max_macs;
	fp.socket_id = (int)rte_socket_id();
	fp.qsbr = vsw_qsbr;
	memset(b, 0, sizeof(*b));
	b->fdb = vsw_fdb_create(&fp);
	if (b->fdb == NULL)
		return vsw_errf(err, len, -ENOMEM, "cannot create a learning table of %u entries: %s",
			    max_macs, rte_strerror(rte_errno));
	b->used = true;
	b->idx = (uint16_t)i;
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->aging = aging;
	b->max_macs = max_macs;
	b->port_max_macs = port_max_macs;
	b->flap.moves = VSW_DEFAULT_FLAP_MOVES;
	b->flap.window = VSW_DEFAULT_FLAP_WINDOW;
	b->flap.freeze = 0;
	b->fdb->flap = b->flap;
	ret = publish(sw);
	if (ret < 0) {
		vsw_fdb_free(b->fdb);
		memset(b, 0, sizeof(*b));
		return vsw_errf(err, len, ret, "cannot publish configuration");
	}
	event(RTE_LOG_INFO, "bridge %s added (aging %u s, %u MACs)", name, aging, max_macs);
	return 0;
}

static int
bridge_opts(const json_t *args, uint32_t *aging, uint32_t *max_macs, uint32_t *port_max,
	    char *err, size_t len)
{
	uint64_t v;
	int r;

	r = vsw_args_uint(args, "aging", 1, 86400 * 365, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		*aging = (uint32_t)v;
	r = vsw_args_uint(args, "max-macs", 8, 16 * 1024 * 1024, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		*max_macs = (uint32_t)v;
	r = vsw_args_uint(args, "port-max-macs", 0, 16 * 1024 * 1024, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		*port_max = (uint32_t)v;
	return 0;
}

/* flap-moves=N flap-window=S flap-freeze=S onto f. */
static int
flap_opts(const json_t *args, struct vsw_fdb_flap *f, char *err, size_t len)
{
	struct vsw_fdb_flap n = *f;
	uint64_t v;
	int r;

	r = vsw_args_uint(args, "flap-moves", 0, UINT16_MAX, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		n.moves = (uint16_t)v;
	r = vsw_args_uint(args, "flap-window", 1, 3600, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		n.window = (uint16_t)v;
	r = vsw_args_uint(args, "flap-freeze", 0, 86400, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		n.freeze = (uint32_t)v;
	*f = n;
	return 0;
}

static int
cmd_add_br(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	uint32_t aging = VSW_DEFAULT_AGING, max_macs = VSW_DEFAULT_MAX_MACS, port_max = 0;
	struct vsw_fdb_flap flap = {VSW_DEFAULT_FLAP_MOVES, VSW_DEFAULT_FLAP_WINDOW, 0};
	struct vsw_bridge *b;
	int ret;

	(void)res;
	ret = bridge_opts(args, &aging, &max_macs, &port_max, err, len);
	if (ret == 0)
		ret = flap_opts(args, &flap, err, len);
	if (ret < 0)
		return ret;
	ret = vswd_add_bridge(sw, vsw_args_str(args, "bridge"), aging, max_macs, port_max, err,
			      len);
	if (ret < 0)
		return ret;
	b = find_bridge(sw, vsw_args_str(args, "bridge"));
	b->flap = flap;
	b->fdb->flap = flap;
	return commit(sw, err, len);
}

static void del_port_internal(struct vsw_switch *sw, struct vsw_port *p);

static int
cmd_del_br(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	struct vsw_fdb *fdb;
	unsigned int i;

	(void)res;
	if (b == NULL)
		return -ENOENT;
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] != NULL && sw->ports[i]->bridge == b->idx)
			del_port_internal(sw, sw->ports[i]);
	fdb = b->fdb;
	b->used = false;
	publish(sw);
	vsw_fdb_free(fdb);
	event(RTE_LOG_INFO, "bridge %s deleted", b->name);
	memset(b, 0, sizeof(*b));
	return commit(sw, err, len);
}

static int
cmd_list_br(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	unsigned int i;

	(void)args, (void)err, (void)len;
	*res = json_array();
	for (i = 0; i < VSW_MAX_BRIDGES; i++)
		if (sw->bridges[i].used)
			json_array_append_new(*res, json_string(sw->bridges[i].name));
	return 0;
}

static int
cmd_set_br(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	uint32_t aging, max_macs, port_max;
	struct vsw_fdb_flap flap;
	int ret;

	(void)res;
	if (b == NULL)
		return -ENOENT;
	aging = b->aging;
	max_macs = b->max_macs;
	port_max = b->port_max_macs;
	flap = b->flap;
	ret = bridge_opts(args, &aging, &max_macs, &port_max, err, len);
	if (ret == 0)
		ret = flap_opts(args, &flap, err, len);
	if (ret < 0)
		return ret;
	if (max_macs > b->fdb->capacity)
		return vsw_errf(err, len, -EINVAL,
			    "max-macs %u exceeds the table size %u fixed when the bridge was "
			    "created (re-create it with add-br %s max-macs=%u)",
			    max_macs, b->fdb->capacity, b->name, max_macs);
	b->aging = aging;
	b->max_macs = max_macs;
	b->port_max_macs = port_max;
	vsw_fdb_set_limits(b->fdb, aging, max_macs, port_max);
	b->flap = flap;
	b->fdb->flap = flap;
	return commit(sw, err, len);
}

/* ------------------------------------------------------------------ ports */

static int
parse_port_opts(const json_t *args, struct vsw_port_conf *c, char *err, size_t len)
{
	const char *s;
	uint64_t v;
	int r;

	r = vsw_args_uint(args, "n_rxq", 1, VSW_MAX_QUEUES, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		c->n_rxq = (uint16_t)v;
	r = vsw_args_uint(args, "mtu", 68, 9600, &v, err, len);
	if (r < 0)
		return r;
	if (r > 0)
		c->mtu = (uint16_t)v;
	s = vsw_args_str(args, "mac");
	if (s != NULL) {
		if (vsw_mac_parse(s, &c->mac) < 0)
			return vsw_errf(err, len, -EINVAL, "bad MAC address '%s'", s);
		c->has_mac = true;
	}
	return 0;
}

/* Refuse a second port on the same socket or device. */
static int
check_conflicts(struct vsw_switch *sw, const struct vsw_port_conf *c, const struct vsw_port *self,
		char *err, size_t len)
{
	size_t n1, n2;
	unsigned int i;
	const struct vsw_port *o;

	for (i = 0; i < VSW_MAX_PORTS; i++) {
		o = sw->ports[i];
		if (o == NULL || o == self)
			continue;
		if (c->type != VSW_PORT_DPDK && o->conf.type != VSW_PORT_DPDK &&
		    strcmp(o->conf.path, c->path) == 0)
			return vsw_errf(err, len, -EEXIST, "socket %s is already used by port %s",
				    c->path, o->conf.name);
		if (c->type == VSW_PORT_DPDK && o->conf.type == VSW_PORT_DPDK) {
			n1 = strcspn(c->devargs, ",");
			n2 = strcspn(o->conf.devargs, ",");
			if (n1 == n2 && strncmp(c->devargs, o->conf.devargs, n1) == 0)
				return vsw_errf(err, len, -EEXIST,
					    "device %.*s is already used by port %s", (int)n1,
					    c->devargs, o->conf.name);
		}
	}
	return 0;
}

/*
 * With --vhost-dir, a vhost-user socket must be directly inside one of the
 * allowed directories (or the run directory): its directory, resolved
 * (symlinks, ".."), must be one of them, and its file name must be plain.
 */
static int
check_vhost_dir(struct vsw_switch *sw, const char *path, char *err, size_t len)
{
	char dir[VSW_PATH_MAX], real[PATH_MAX], allowed[PATH_MAX], list[8200];
	const char *base = strrchr(path, '/');
	char *tok, *save = NULL;

	if (sw->vhost_dirs[0] == '\0')
		return 0;
	if (base == NULL || base[1] == '\0' || strcmp(base + 1, ".") == 0 ||
	    strcmp(base + 1, "..") == 0)
		return vsw_errf(err, len, -EINVAL, "bad socket path %s", path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
	if (realpath(dir[0] != '\0' ? dir : "/", real) == NULL)
		return vsw_errf(err, len, -ENOENT, "directory of socket %s does not exist", path);
	/* The run directory (where default sockets go) is always allowed. */
	snprintf(list, sizeof(list), "%s:%s", sw->rundir, sw->vhost_dirs);
	for (tok = strtok_r(list, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save))
		if (realpath(tok, allowed) != NULL && strcmp(allowed, real) == 0)
			return 0;
	return vsw_errf(err, len, -EACCES,
			"socket %s is outside the allowed vhost directories (%s)", path,
			sw->vhost_dirs);
}

/*
 * Add a port. With keep_failed (state restore), a device that does not
 * start is kept in the configuration in the failed state.
 */
/* L2 options that name other ports: the mirror output. */
static int
check_l2(struct vsw_switch *sw, const struct vsw_bridge *b, const char *self,
	 const struct vsw_l2_conf *l2, char *err, size_t len)
{
	const struct vsw_port *mp;
	unsigned int i;

	if (sw->restoring)
		return 0;	/* Saved after these checks; the output may come later. */
	if (l2->mirror_to[0] != '\0') {
		if (strcmp(l2->mirror_to, self) == 0)
			return vsw_errf(err, len, -EINVAL, "port %s cannot mirror to itself", self);
		mp = bridge_port(sw, b->idx, l2->mirror_to);
		if (mp == NULL)
			return vsw_errf(err, len, -ENOENT,
					"mirror port '%s' is not a port of bridge %s",
					l2->mirror_to, b->name);
		if (mp->l2.mirror_to[0] != '\0')
			return vsw_errf(err, len, -EINVAL,
					"port %s mirrors to %s: a mirror output cannot mirror itself",
					mp->conf.name, mp->l2.mirror_to);
	}
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		mp = sw->ports[i];
		if (mp != NULL && l2->mirror_to[0] != '\0' &&
		    strcmp(mp->l2.mirror_to, self) == 0)
			return vsw_errf(err, len, -EINVAL,
					"port %s mirrors to %s: a mirror output cannot mirror itself",
					mp->conf.name, self);
	}
	return 0;
}

/* Apply a port's L2 options to the learning table. */
static void
apply_l2(struct vsw_switch *sw, struct vsw_port *p)
{
	static uint32_t qos_seq;

	vsw_fdb_set_port_limit(sw->bridges[p->bridge].fdb, p->slot, p->l2.max_macs);
	p->qos_gen = ++qos_seq;
}

static int
add_port_internal(struct vsw_switch *sw, struct vsw_bridge *b, const struct vsw_port_conf *c,
		  const struct vsw_l2_conf *l2, bool keep_failed, char *err, size_t len)
{
	struct vsw_port *p;
	unsigned int slot;
	int ret;

	if (find_port(sw, c->name) != NULL)
		return vsw_errf(err, len, -EEXIST, "port '%s' already exists", c->name);
	if (!valid_name(c->name))
		return vsw_errf(err, len, -EINVAL,
			    "bad port name '%s': 1-%d letters, digits, '-', '_', '.'", c->name,
			    VSW_NAME_MAX - 1);
	ret = vsw_port_conf_check(c, err, len);
	if (ret < 0)
		return ret;
	ret = check_conflicts(sw, c, NULL, err, len);
	if (ret < 0)
		return ret;
	ret = check_l2(sw, b, c->name, l2, err, len);
	if (ret < 0)
		return ret;
	if (c->type != VSW_PORT_DPDK) {
		ret = check_vhost_dir(sw, c->path, err, len);
		if (ret < 0)
			return ret;
	}
	for (slot = 0; slot < VSW_MAX_PORTS; slot++)
		if (sw->ports[slot] == NULL)
			break;
	if (slot == VSW_MAX_PORTS)
		return vsw_errf(err, len, -ENOSPC, "too many ports (max %d)", VSW_MAX_PORTS);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return vsw_errf(err, len, -ENOMEM, "out of memory");
	p->conf = *c;
	p->l2 = *l2;
	p->slot = (uint16_t)slot;
	p->bridge = b->idx;
	p->gen = ++sw->slot_gen[slot];
	ret = port_open(p, err, len);
	if (ret < 0 && !keep_failed) {
		free(p);
		return ret;
	}
	/* Counters of a reused slot start from zero. */
	port_ctrs_raw(p, &p->base);
	sw->ports[slot] = p;
	apply_l2(sw, p);
	vsw_port_link_update(p);
	publish(sw);
	memset(&rates[slot], 0, sizeof(rates[slot]));
	event(RTE_LOG_INFO, "port %s (%s) added to bridge %s%s%s", c->name,
	      vsw_port_type_name(c->type), b->name, p->open ? "" : ", failed: ",
	      p->open ? "" : p->error);
	if (p->link_up)
		event(RTE_LOG_INFO, "port %s is up", c->name);
	return 0;
}

static int
cmd_add_port(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	struct vsw_l2_conf l2;
	struct vsw_port_conf c;
	const char *s;
	int ret;

	(void)res;
	if (b == NULL)
		return -ENOENT;
	memset(&c, 0, sizeof(c));
	c.n_rxq = 1;
	s = vsw_args_str(args, "port");
	if (s == NULL || strlen(s) >= sizeof(c.name))
		return vsw_errf(err, len, -EINVAL, "port name too long (max %d)", VSW_NAME_MAX - 1);
	snprintf(c.name, sizeof(c.name), "%s", s);
	if (vsw_port_type_parse(vsw_args_str(args, "type"), &c.type) < 0)
		return vsw_errf(err, len, -EINVAL,
			    "bad type '%s': vhost-user, vhost-user-client or dpdk",
			    vsw_args_str(args, "type"));
	s = vsw_args_str(args, "path");
	if (s != NULL && c.type == VSW_PORT_DPDK)
		return vsw_errf(err, len, -EINVAL, "path= applies to vhost-user ports");
	if (c.type != VSW_PORT_DPDK) {
		if (s == NULL && c.type == VSW_PORT_VHOST_CLIENT)
			return vsw_errf(err, len, -EINVAL, "vhost-user-client needs path=SOCKET");
		if (s == NULL) {
			if ((size_t)snprintf(c.path, sizeof(c.path), "%s/%s.sock", sw->rundir,
					     c.name) >= sizeof(c.path))
				return vsw_errf(err, len, -ENAMETOOLONG,
					    "socket path %s/%s.sock too long (max %d bytes)",
					    sw->rundir, c.name, VSW_PATH_MAX - 1);
		} else if (strlen(s) >= sizeof(c.path)) {
			return vsw_errf(err, len, -ENAMETOOLONG,
				    "socket path too long (%zu bytes, max %d)", strlen(s),
				    VSW_PATH_MAX - 1);
		} else {
			snprintf(c.path, sizeof(c.path), "%s", s);
		}
	}
	s = vsw_args_str(args, "devargs");
	if (s != NULL) {
		if (c.type != VSW_PORT_DPDK)
			return vsw_errf(err, len, -EINVAL, "devargs= applies to dpdk ports");
		if (strlen(s) >= sizeof(c.devargs))
			return vsw_errf(err, len, -EINVAL, "devargs too long");
		snprintf(c.devargs, sizeof(c.devargs), "%s", s);
	}
	ret = parse_port_opts(args, &c, err, len);
	if (ret < 0)
		return ret;
	memset(&l2, 0, sizeof(l2));
	ret = vswd_l2_parse(args, &l2, err, len);
	if (ret < 0)
		return ret;
	ret = add_port_internal(sw, b, &c, &l2, false, err, len);
	return ret < 0 ? ret : commit(sw, err, len);
}

static void
del_port_internal(struct vsw_switch *sw, struct vsw_port *p)
{
	struct vsw_bridge *b = &sw->bridges[p->bridge];

	struct vsw_port *o;
	unsigned int i;

	vswd_capture_port_gone(p->slot);
	sw->ports[p->slot] = NULL;
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		o = sw->ports[i];
		if (o != NULL && strcmp(o->l2.mirror_to, p->conf.name) == 0) {
			o->l2.mirror_to[0] = '\0';
			o->l2.mirror_dir = 0;
			event(RTE_LOG_WARNING, "port %s: mirror to deleted port %s removed",
			      o->conf.name, p->conf.name);
		}
	}
	publish(sw);			/* No PMD polls or sends to it after this. */
	vsw_fdb_flush(b->fdb, p->slot, true);
	vsw_fdb_set_port_limit(b->fdb, p->slot, 0);
	vsw_port_close(p);
	event(RTE_LOG_INFO, "port %s deleted from bridge %s", p->conf.name, b->name);
	free(p);
}

static int
cmd_del_port(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_port *p = need_port(sw, args, err, len);

	(void)res;
	if (p == NULL)
		return -ENOENT;
	del_port_internal(sw, p);
	return commit(sw, err, len);
}

/* Close and reopen a port with a new configuration; the old one on failure. */
static int
reopen_port(struct vsw_switch *sw, struct vsw_port *p, const struct vsw_port_conf *c, char *err,
	    size_t len)
{
	struct vsw_port_conf old = p->conf;
	char e2[256];
	int ret;

	sw->ports[p->slot] = NULL;
	publish(sw);
	vsw_port_close(p);
	p->conf = *c;
	ret = port_open(p, err, len);
	if (ret < 0) {
		p->conf = old;
		if (port_open(p, e2, sizeof(e2)) < 0)
			SW_LOG(ERR, "port %s: cannot restore the old configuration: %s",
			       p->conf.name, e2);
	}
	sw->ports[p->slot] = p;
	p->link_up = false;
	vsw_port_link_update(p);
	publish(sw);
	return ret;
}

static int
cmd_set_port(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_port *p = need_port(sw, args, err, len);
	struct vsw_port_conf c;
	struct vsw_l2_conf l2;
	bool changed;
	json_t *a, *b;
	int ret;

	(void)res;
	if (p == NULL)
		return -ENOENT;
	c = p->conf;
	ret = parse_port_opts(args, &c, err, len);
	if (ret < 0)
		return ret;
	ret = vsw_port_conf_check(&c, err, len);
	if (ret < 0)
		return ret;
	l2 = p->l2;
	ret = vswd_l2_parse(args, &l2, err, len);
	if (ret < 0)
		return ret;
	ret = check_l2(sw, &sw->bridges[p->bridge], p->conf.name, &l2, err, len);
	if (ret < 0)
		return ret;
	/* L2 options take effect at the next publication, without a restart. */
	a = vswd_l2_json(&l2);
	b = vswd_l2_json(&p->l2);
	changed = !json_equal(a, b);
	json_decref(a);
	json_decref(b);
	if (changed) {
		p->l2 = l2;
		apply_l2(sw, p);
		publish(sw);
		event(RTE_LOG_INFO, "port %s: L2 options changed", p->conf.name);
	}
	if (!vsw_port_conf_equal(&c, &p->conf) || !p->open) {
		ret = reopen_port(sw, p, &c, err, len);
		if (ret < 0)
			return ret;
	}
	return commit(sw, err, len);
}

static int
cmd_list_ports(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	unsigned int i;

	if (b == NULL)
		return -ENOENT;
	*res = json_array();
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] != NULL && sw->ports[i]->bridge == b->idx)
			json_array_append_new(*res, json_string(sw->ports[i]->conf.name));
	return 0;
}

static const char *
port_state(const struct vsw_port *p)
{
	if (!p->open)
		return "failed";
	return p->link_up ? "up" : "down";
}

static json_t *
mbuf_json(struct vsw_switch *sw)
{
	unsigned int i, size = 0, in_use = 0;

	for (i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		if (sw->pools[i] == NULL)
			continue;
		size += sw->pools[i]->size;
		in_use += rte_mempool_in_use_count(sw->pools[i]);
	}
	return json_pack("{s:i,s:i}", "size", size, "in_use", in_use);
}

static int
cmd_show(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	json_t *bridges, *jb, *ports, *jp, *pmds;
	const struct vsw_dp_conf *conf;
	struct vsw_bridge *b;
	struct vsw_port *p;
	unsigned int i, j;
	char mac[24];
	uint16_t mtu;

	(void)args, (void)err, (void)len;
	bridges = json_array();
	for (i = 0; i < VSW_MAX_BRIDGES; i++) {
		b = &sw->bridges[i];
		if (!b->used)
			continue;
		jb = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "name", b->name, "aging",
			       b->aging, "max_macs", b->max_macs, "port_max_macs",
			       b->port_max_macs, "fdb_entries", b->fdb->n_entries, "flap_moves",
			       b->flap.moves, "flap_window", b->flap.window, "flap_freeze",
			       b->flap.freeze);
		ports = json_array();
		for (j = 0; j < VSW_MAX_PORTS; j++) {
			p = sw->ports[j];
			if (p == NULL || p->bridge != i)
				continue;
			mac[0] = '\0';
			if (p->conf.has_mac) {
				mac_str(&p->conf.mac, mac, sizeof(mac));
			} else if (p->open && !vsw_port_is_vhost(p)) {
				struct rte_ether_addr a;

				if (rte_eth_macaddr_get(p->eth_port, &a) == 0)
					mac_str(&a, mac, sizeof(mac));
			}
			mtu = p->open ? port_mtu(p) : p->conf.mtu;
			jp = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:i,s:I}",
				       "name", p->conf.name,
				       "type", vsw_port_type_name(p->conf.type),
				       "path", p->conf.path, "devargs", p->conf.devargs,
				       "n_rxq", p->conf.n_rxq, "mtu", mtu, "mac", mac,
				       "state", port_state(p), "error", p->error,
				       "link_changes", p->link_changes,
				       "state_since", (json_int_t)p->link_since);
			if (p->open && !vsw_port_is_vhost(p))
				json_object_set_new(jp, "ethdev", json_integer(p->eth_port));
			json_object_set_new(jp, "l2", vswd_l2_json(&p->l2));
			json_array_append_new(ports, jp);
		}
		json_object_set_new(jb, "ports", ports);
		json_array_append_new(bridges, jb);
	}
	pmds = json_array();
	conf = atomic_load(&vsw_dp_cur);
	for (i = 0; i < vsw_n_pmds; i++)
		json_array_append_new(pmds, json_pack("{s:i,s:i,s:i}", "lcore",
						      vsw_pmds[i]->lcore, "cpu",
						      vsw_lcore_cpu(vsw_pmds[i]->lcore),
						      "rxqs", conf ? conf->poll[i].n_rxq : 0));
	*res = json_pack("{s:o,s:o,s:o}", "bridges", bridges, "pmds", pmds, "mbuf",
			 mbuf_json(sw));
	return 0;
}

/* -------------------------------------------------------------------- fdb */

static int
parse_key(const json_t *args, struct vsw_fdb_key *k, char *err, size_t len)
{
	const char *s = vsw_args_str(args, "mac");
	uint64_t v = 0;

	memset(k, 0, sizeof(*k));
	if (vsw_mac_parse(s, &k->mac) < 0)
		return vsw_errf(err, len, -EINVAL, "bad MAC address '%s'", s != NULL ? s : "");
	if (rte_is_multicast_ether_addr(&k->mac) || rte_is_zero_ether_addr(&k->mac))
		return vsw_errf(err, len, -EINVAL, "%s is not a unicast station address", s);
	if (vsw_args_uint(args, "vlan", 0, VSW_VLAN_MAX, &v, err, len) < 0)
		return -EINVAL;
	k->vlan = (uint16_t)v;
	return 0;
}

static int
cmd_fdb_show(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	const struct vsw_fdb_entry *e;
	uint32_t now = vsw_now(), i;
	char mac[24];

	if (b == NULL)
		return -ENOENT;
	*res = json_array();
	for (i = 0; i < b->fdb->capacity; i++) {
		e = &b->fdb->entries[i];
		if (!e->in_use)
			continue;
		mac_str(&e->key.mac, mac, sizeof(mac));
		json_array_append_new(*res, json_pack(
			"{s:s,s:i,s:s,s:b,s:i,s:i}", "mac", mac, "vlan", e->key.vlan, "port",
			sw->ports[e->port] != NULL ? sw->ports[e->port]->conf.name : "?",
			"static", e->is_static, "age", now - e->last_seen, "frozen",
			e->frozen_until > now ? e->frozen_until - now : 0));
	}
	return 0;
}

static json_t *
fdb_stats_json(const struct vsw_bridge *b)
{
	const struct vsw_fdb *f = b->fdb;

	return json_pack("{s:s,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bridge", b->name,
			 "entries", f->n_entries, "capacity", f->max_macs, "learned",
			 (json_int_t)f->stats.learned, "moved", (json_int_t)f->stats.moved,
			 "aged", (json_int_t)f->stats.aged, "limit_hits",
			 (json_int_t)f->stats.limit_hits, "flushed", (json_int_t)f->stats.flushed,
			 "flaps", (json_int_t)f->stats.flaps, "frozen", (json_int_t)f->stats.frozen,
			 "frozen_refused", (json_int_t)f->stats.frozen_refused);
}

static int
cmd_fdb_stats(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b;
	unsigned int i;

	if (vsw_args_str(args, "bridge") != NULL) {
		b = need_bridge(sw, args, err, len);
		if (b == NULL)
			return -ENOENT;
		*res = json_array();
		json_array_append_new(*res, fdb_stats_json(b));
		return 0;
	}
	*res = json_array();
	for (i = 0; i < VSW_MAX_BRIDGES; i++)
		if (sw->bridges[i].used)
			json_array_append_new(*res, fdb_stats_json(&sw->bridges[i]));
	return 0;
}

static int
cmd_fdb_add(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	struct vsw_fdb_key k;
	struct vsw_port *p;
	int ret;

	(void)res;
	if (b == NULL)
		return -ENOENT;
	ret = parse_key(args, &k, err, len);
	if (ret < 0)
		return ret;
	p = need_port(sw, args, err, len);
	if (p == NULL)
		return -ENOENT;
	if (p->bridge != b->idx)
		return vsw_errf(err, len, -EINVAL, "port %s is not on bridge %s", p->conf.name,
			    b->name);
	ret = vsw_fdb_add_static(b->fdb, &k, p->slot, vsw_now());
	if (ret < 0)
		return vsw_errf(err, len, ret, "cannot add the entry: %s",
			    ret == -ENOSPC ? "table full" : "hash error");
	return commit(sw, err, len);
}

static int
cmd_fdb_del(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	struct vsw_fdb_key k;
	int ret;

	(void)res;
	if (b == NULL)
		return -ENOENT;
	ret = parse_key(args, &k, err, len);
	if (ret < 0)
		return ret;
	if (vsw_fdb_del(b->fdb, &k) < 0)
		return vsw_errf(err, len, -ENOENT, "%s is not in the table of %s",
			    vsw_args_str(args, "mac"), b->name);
	return commit(sw, err, len);
}

static int
cmd_fdb_flush(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_bridge *b = need_bridge(sw, args, err, len);
	uint16_t slot = VSW_NO_SLOT;
	struct vsw_port *p;
	uint32_t n;

	if (b == NULL)
		return -ENOENT;
	if (vsw_args_str(args, "port") != NULL) {
		p = need_port(sw, args, err, len);
		if (p == NULL)
			return -ENOENT;
		if (p->bridge != b->idx)
			return vsw_errf(err, len, -EINVAL, "port %s is not on bridge %s",
				    p->conf.name, b->name);
		slot = p->slot;
	}
	n = vsw_fdb_flush(b->fdb, slot, false);
	*res = json_pack("{s:i}", "flushed", n);
	return 0;
}

/* ------------------------------------------------------------------ stats */

static json_t *
port_stats_json(struct vsw_switch *sw, const struct vsw_port *p, bool rate)
{
	const struct port_rate *r = &rates[p->slot];
	struct vsw_port_ctrs c;
	json_t *drops, *o;
	unsigned int i;

	port_ctrs(p, &c);
	drops = json_object();
	for (i = 0; i < VSW_DROP_MAX; i++)
		json_object_set_new(drops, vsw_drop_name(i), json_integer((json_int_t)c.drops[i]));
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:I}", "port", p->conf.name, "bridge",
		      sw->bridges[p->bridge].name, "rx_packets", (json_int_t)c.rx_pkts,
		      "rx_bytes", (json_int_t)c.rx_bytes, "tx_packets", (json_int_t)c.tx_pkts,
		      "tx_bytes", (json_int_t)c.tx_bytes, "drops", drops, "drops_total",
		      (json_int_t)vsw_port_ctrs_drops(&c));
	for (i = 0; i < VSW_EV_MAX; i++)
		json_object_set_new(o, vsw_event_name(i), json_integer((json_int_t)c.events[i]));
	if (rate)
		json_object_set_new(o, "rate", json_pack(
			"{s:f,s:f,s:f,s:f,s:f}", "rx_pps", r->rx_pps, "tx_pps", r->tx_pps,
			"rx_bps", r->rx_bps, "tx_bps", r->tx_bps, "drops_ps", r->drops_ps));
	return o;
}

static int
cmd_port_stats(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	bool rate = vsw_args_str(args, "rate") != NULL;
	struct vsw_port *p;
	unsigned int i;

	if (vsw_args_str(args, "port") != NULL) {
		p = need_port(sw, args, err, len);
		if (p == NULL)
			return -ENOENT;
		*res = json_array();
		json_array_append_new(*res, port_stats_json(sw, p, rate));
		return 0;
	}
	*res = json_array();
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] != NULL)
			json_array_append_new(*res, port_stats_json(sw, sw->ports[i], rate));
	return 0;
}

static int
cmd_drop_stats(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	const char *only = vsw_args_str(args, "port");
	struct vsw_port_ctrs c;
	struct vsw_port *p;
	unsigned int i, r;

	if (only != NULL && need_port(sw, args, err, len) == NULL)
		return -ENOENT;
	*res = json_array();
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		p = sw->ports[i];
		if (p == NULL || (only != NULL && strcmp(only, p->conf.name) != 0))
			continue;
		port_ctrs(p, &c);
		for (r = 0; r < VSW_DROP_MAX; r++)
			if (c.drops[r] != 0)
				json_array_append_new(*res, json_pack(
					"{s:s,s:s,s:I,s:s}", "port", p->conf.name, "reason",
					vsw_drop_name(r), "count", (json_int_t)c.drops[r],
					"meaning", vsw_drop_help(r)));
	}
	return 0;
}

/* The negotiated offload features by name (docs/offloads.md). */
static json_t *
offloads_json(uint64_t features)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} ol[] = {
		{ VIRTIO_NET_F_CSUM, "csum" },
		{ VIRTIO_NET_F_GUEST_CSUM, "guest_csum" },
		{ VIRTIO_NET_F_HOST_TSO4, "host_tso4" },
		{ VIRTIO_NET_F_HOST_TSO6, "host_tso6" },
		{ VIRTIO_NET_F_GUEST_TSO4, "guest_tso4" },
		{ VIRTIO_NET_F_GUEST_TSO6, "guest_tso6" },
	};
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < RTE_DIM(ol); i++)
		if (features & (UINT64_C(1) << ol[i].bit))
			json_array_append_new(a, json_string(ol[i].name));
	return a;
}

static json_t *
vhost_json(const struct vsw_port *p)
{
	const struct port_rate *r = &rates[p->slot];
	struct vsw_vhost_info vi;
	struct vsw_port_ctrs c;
	json_t *o, *rings;
	uint16_t i;

	port_ctrs(p, &c);
	o = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:I}", "port", p->conf.name, "mode",
		      p->conf.type == VSW_PORT_VHOST ? "server" : "client", "path", p->conf.path,
		      "connected", p->link_up, "state_since", (json_int_t)p->link_since,
		      "reconnects", (json_int_t)(p->link_changes / 2),
		      "tx_full_drops", (json_int_t)c.drops[VSW_DROP_TX_FULL]);
	json_object_set_new(o, "tx_full_drops_per_s", json_real(r->drops_ps));
	rings = json_array();
	if (vsw_port_vhost_info(p, &vi) == 0) {
		for (i = 0; i < vi.n_vrings; i++)
			json_array_append_new(rings, json_pack("{s:i,s:s,s:i,s:b}", "vring", i,
					      "dir", i % 2 ? "guest-tx" : "guest-rx", "size",
					      vi.ring_size[i], "enabled", (vi.vrings_on >> i) & 1));
		json_object_set_new(o, "vrings", json_integer(vi.n_vrings));
		/* The MTU the guest was given (VIRTIO_NET_F_MTU), if any. */
		if (vi.mtu != 0)
			json_object_set_new(o, "guest_mtu", json_integer(vi.mtu));
		/* Who walks the guest's rings: vsw itself, or rte_vhost's functions. */
		json_object_set_new(o, "walk", json_string(vsw_dp_vid_walked(p->slot) ?
							   "vsw" : "rte"));
	}
	json_object_set_new(o, "vring_state_changes", json_integer(vi.vring_changes));
	json_object_set_new(o, "walk_pauses", json_integer(vi.pauses));
	json_object_set_new(o, "features", json_sprintf("0x%" PRIx64, vi.features));
	json_object_set_new(o, "mergeable_rx_buffers",
			    json_boolean(vi.features & (1ULL << 15)));
	json_object_set_new(o, "offloads", offloads_json(vi.features));
	json_object_set_new(o, "rings", rings);
	return o;
}

static int
cmd_vhost_show(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	const char *only = vsw_args_str(args, "port");
	struct vsw_port *p;
	unsigned int i;

	if (only != NULL) {
		p = need_port(sw, args, err, len);
		if (p == NULL)
			return -ENOENT;
		if (p->conf.type == VSW_PORT_DPDK)
			return vsw_errf(err, len, -EINVAL, "port %s is not a vhost-user port", only);
	}
	*res = json_array();
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		p = sw->ports[i];
		if (p == NULL || p->conf.type == VSW_PORT_DPDK ||
		    (only != NULL && strcmp(only, p->conf.name) != 0))
			continue;
		json_array_append_new(*res, vhost_json(p));
	}
	return 0;
}

static int
cmd_capture(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_port *p = need_port(sw, args, err, len);

	if (p == NULL)
		return -ENOENT;
	return vswd_cmd_capture(sw, p->slot, p->conf.name, args, res, err, len);
}

static int
cmd_capture_stop(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_port *p = need_port(sw, args, err, len);

	if (p == NULL)
		return -ENOENT;
	return vswd_cmd_capture_stop(p->slot, res);
}

static int
cmd_capture_show(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	unsigned int i;
	json_t *c;

	(void)args, (void)err, (void)len;
	*res = json_array();
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] != NULL && (c = vswd_capture_json((uint16_t)i)) != NULL)
			json_array_append_new(*res, c);
	return 0;
}

static int
cmd_events(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	uint64_t count = 50, i, first;
	const struct event *e;
	char when[64];
	struct tm tm;
	int ret;

	(void)ctx;
	ret = vsw_args_uint(args, "count", 1, N_EVENTS, &count, err, len);
	if (ret < 0)
		return ret;
	first = n_events > count ? n_events - count : 0;
	if (n_events > N_EVENTS && first < n_events - N_EVENTS)
		first = n_events - N_EVENTS;
	*res = json_array();
	for (i = first; i < n_events; i++) {
		e = &events[i % N_EVENTS];
		localtime_r(&e->ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ld",
			 e->ts.tv_nsec / 1000000);
		json_array_append_new(*res, json_pack("{s:s,s:s}", "time", when, "event",
						      e->text));
	}
	return 0;
}

static int
cmd_log_level(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	static const char *const names[] = { "", "emerg", "alert", "crit", "error", "warning",
					     "notice", "info", "debug" };
	const char *level = vsw_args_str(args, "level");
	const char *pattern = vsw_args_str(args, "pattern");
	unsigned int i, lv = 0;
	char *buf = NULL;
	size_t sz = 0;
	FILE *f;

	(void)ctx;
	if (level != NULL) {
		for (i = 1; i < RTE_DIM(names); i++)
			if (strcmp(level, names[i]) == 0)
				lv = i;
		if (lv == 0)
			return vsw_errf(err, len, -EINVAL,
				    "bad level '%s': emerg, alert, crit, error, warning, notice, "
				    "info or debug", level);
		if (rte_log_set_level_pattern(pattern != NULL ? pattern : "vsw.*", lv) != 0)
			return vsw_errf(err, len, -EINVAL, "cannot set level for '%s'",
				    pattern != NULL ? pattern : "vsw.*");
		event(RTE_LOG_NOTICE, "log level of %s set to %s",
		      pattern != NULL ? pattern : "vsw.*", level);
		return 0;
	}
	/* No arguments: list every log type and its level. */
	f = open_memstream(&buf, &sz);
	if (f == NULL)
		return -ENOMEM;
	rte_log_dump(f);
	fclose(f);
	*res = json_array();
	for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char type[128], lvl[32];

		/* "id 3: lib.eal, level is info" */
		if (sscanf(line, " id %*d: %127[^,], level is %31s", type, lvl) == 2)
			json_array_append_new(*res, json_pack("{s:s,s:s}", "type", type, "level",
							      lvl));
	}
	free(buf);
	return 0;
}

static int
cmd_port_stats_clear(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct vsw_port *p;
	unsigned int i;

	(void)res;
	if (vsw_args_str(args, "port") != NULL) {
		p = need_port(sw, args, err, len);
		if (p == NULL)
			return -ENOENT;
		port_ctrs_raw(p, &p->base);
		return 0;
	}
	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->ports[i] != NULL)
			port_ctrs_raw(sw->ports[i], &sw->ports[i]->base);
	return 0;
}

static int
cmd_pmd_stats(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	const struct vsw_dp_conf *conf = atomic_load(&vsw_dp_cur);
	const struct vsw_pmd *pmd;
	double cpp, busy;
	unsigned int i;

	(void)ctx, (void)args, (void)err, (void)len;
	*res = json_array();
	for (i = 0; i < vsw_n_pmds; i++) {
		pmd = vsw_pmds[i];
		cpp = pmd->packets ? (double)pmd->busy_cycles / (double)pmd->packets : 0.0;
		busy = pmd->busy_cycles + pmd->idle_cycles ?
			100.0 * (double)pmd->busy_cycles /
			(double)(pmd->busy_cycles + pmd->idle_cycles) : 0.0;
		json_array_append_new(*res, json_pack(
			"{s:i,s:i,s:I,s:I,s:I,s:f,s:f,s:i,s:I,s:I,s:I}", "lcore", pmd->lcore, "cpu",
			vsw_lcore_cpu(pmd->lcore), "packets", (json_int_t)pmd->packets,
			"busy_cycles", (json_int_t)pmd->busy_cycles, "idle_cycles",
			(json_int_t)pmd->idle_cycles, "cycles_per_packet", cpp, "busy_pct", busy,
			"rxqs", conf ? conf->poll[i].n_rxq : 0, "learn_queue_full",
			(json_int_t)pmd->learn_ring_full, "capture_lost",
			(json_int_t)pmd->capture_lost, "tsc_hz", (json_int_t)rte_get_tsc_hz()));
		json_object_set_new(json_array_get(*res, i), "sleeps",
				    json_integer((json_int_t)pmd->sleeps));
		json_object_set_new(json_array_get(*res, i), "kick_sleeps",
				    json_integer((json_int_t)pmd->kick_sleeps));
		json_object_set_new(json_array_get(*res, i), "burst_sizes", json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I}", "1", (json_int_t)pmd->burst_hist[0],
			"2-3", (json_int_t)pmd->burst_hist[1], "4-7", (json_int_t)pmd->burst_hist[2],
			"8-15", (json_int_t)pmd->burst_hist[3], "16-31",
			(json_int_t)pmd->burst_hist[4], "32", (json_int_t)pmd->burst_hist[5]));
	}
	return 0;
}

static int
cmd_rxq_show(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	const struct vsw_dp_conf *conf = atomic_load(&vsw_dp_cur);
	const struct vsw_dp_rxq *q;
	const struct vsw_pmd *pmd;
	struct vsw_port *p;
	unsigned int i, j;

	(void)args, (void)err, (void)len;
	*res = json_array();
	if (conf == NULL)
		return 0;
	for (i = 0; i < vsw_n_pmds; i++) {
		pmd = vsw_pmds[i];
		for (j = 0; j < conf->poll[i].n_rxq; j++) {
			q = &conf->poll[i].rxq[j];
			p = sw->ports[q->slot];
			json_array_append_new(*res, json_pack(
				"{s:i,s:s,s:i,s:I,s:I,s:I,s:f,s:i,s:i}", "lcore", pmd->lcore, "port",
				p != NULL ? p->conf.name : "?", "queue", q->queue, "packets",
				(json_int_t)pmd->rxq[q->slot][q->queue].pkts, "bytes",
				(json_int_t)pmd->rxq[q->slot][q->queue].bytes, "busy_cycles",
				(json_int_t)pmd->rxq[q->slot][q->queue].cycles, "pmd_busy_share_pct",
				pmd->busy_cycles ? 100.0 *
				(double)pmd->rxq[q->slot][q->queue].cycles /
				(double)pmd->busy_cycles : 0.0, "pmd_numa", pmd_numa(i),
				"port_numa", p != NULL && p->open ? port_numa(p) : -1));
		}
	}
	return 0;
}

struct rxq_load {
	uint16_t slot, queue;
	uint64_t cycles;
};

static int
load_cmp(const void *a, const void *b)
{
	const struct rxq_load *x = a, *y = b;

	if (x->cycles != y->cycles)
		return x->cycles < y->cycles ? 1 : -1;
	return x->slot != y->slot ? x->slot - y->slot : x->queue - y->queue;
}

/* Cycles a queue used, over all PMDs, since the counters began. */
static uint64_t
rxq_cycles(uint16_t slot, uint16_t q)
{
	uint64_t c = 0;
	unsigned int i;

	for (i = 0; i < vsw_n_pmds; i++)
		c += vsw_pmds[i]->rxq[slot][q].cycles;
	return c;
}

static int
cmd_pmd_rebalance(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	static struct rxq_load l[VSW_MAX_PORTS * VSW_MAX_QUEUES];
	uint8_t target[VSW_MAX_PORTS][VSW_MAX_QUEUES];
	uint64_t pmd_load[VSW_MAX_PMDS] = {0};
	struct vsw_switch *sw = ctx;
	unsigned int i, q, n = 0, best, moved = 0;
	struct vsw_port *p;
	json_t *a;

	(void)args, (void)err, (void)len;
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		p = sw->ports[i];
		if (p == NULL || !p->open)
			continue;
		for (q = 0; q < p->conf.n_rxq; q++) {
			l[n].slot = (uint16_t)i;
			l[n].queue = (uint16_t)q;
			l[n].cycles = rxq_cycles((uint16_t)i, (uint16_t)q) - sw->rxq_base[i][q];
			n++;
		}
	}
	qsort(l, n, sizeof(l[0]), load_cmp);
	memset(target, 0, sizeof(target));
	for (i = 0; i < n; i++) {
		/* Ties keep the queue where it is. */
		best = sw->rxq_pmd[l[i].slot][l[i].queue];
		best = best >= 1 && best <= vsw_n_pmds ? best - 1 : 0;
		for (q = 0; q < vsw_n_pmds; q++)
			if (pmd_load[q] < pmd_load[best])
				best = q;
		pmd_load[best] += l[i].cycles;
		target[l[i].slot][l[i].queue] = (uint8_t)(best + 1);
		if (sw->rxq_pmd[l[i].slot][l[i].queue] != best + 1) {
			/* Phase 1: nobody polls it. */
			sw->rxq_pmd[l[i].slot][l[i].queue] = VSW_RXQ_PARKED;
			moved++;
		}
	}
	if (moved != 0) {
		publish(sw);	/* Returns once no PMD can still poll a parked queue. */
		for (i = 0; i < n; i++)
			sw->rxq_pmd[l[i].slot][l[i].queue] = target[l[i].slot][l[i].queue];
		publish(sw);
		event(RTE_LOG_INFO, "pmd-rebalance: %u rx queue(s) moved", moved);
	}
	a = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:I}", "port",
						   sw->ports[l[i].slot]->conf.name, "queue",
						   l[i].queue, "lcore",
						   vsw_pmds[target[l[i].slot][l[i].queue] - 1]->lcore,
						   "cycles", (json_int_t)l[i].cycles));
		sw->rxq_base[l[i].slot][l[i].queue] = rxq_cycles(l[i].slot, l[i].queue);
	}
	*res = json_pack("{s:i,s:o}", "moved", moved, "queues", a);
	return 0;
}

static int
cmd_mempool_stats(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	struct vsw_switch *sw = ctx;
	struct rte_mempool *mp;
	unsigned int i;

	(void)args, (void)err, (void)len;
	*res = json_array();
	for (i = 0; i <= RTE_MAX_NUMA_NODES; i++) {
		/* The traffic pools, then the capture pool (if a capture ran). */
		mp = i < RTE_MAX_NUMA_NODES ? sw->pools[i] : vsw_capture_pool;
		if (mp == NULL)
			continue;
		json_array_append_new(*res, json_pack(
			"{s:s,s:i,s:i,s:i,s:i}", "name", mp->name, "socket", mp->socket_id,
			"size", mp->size, "in_use", rte_mempool_in_use_count(mp), "available",
			rte_mempool_avail_count(mp)));
	}
	return 0;
}

static int
cmd_version(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	(void)ctx, (void)args, (void)err, (void)len;
	*res = json_pack("{s:s,s:s}", "version", VSW_VERSION, "dpdk", rte_version());
	return 0;
}

static int
cmd_list_commands(void *ctx, json_t *args, json_t **res, char *err, size_t len)
{
	size_t i;

	(void)ctx, (void)args, (void)err, (void)len;
	*res = json_array();
	for (i = 0; i < vswd_n_cmds; i++)
		json_array_append_new(*res, json_pack(
			"{s:s,s:s,s:s,s:i,s:i,s:b}", "name", vswd_cmds[i].name, "usage",
			vswd_cmds[i].usage, "help", vswd_cmds[i].help, "min_args",
			vswd_cmds[i].min_args, "max_args", vswd_cmds[i].max_args, "readonly",
			vswd_cmds[i].flags == VSW_CMD_RO));
	return 0;
}

const struct vsw_cmd vswd_cmds[] = {
#define CMD_ROW(id, name, min, max, flags, usage, help) \
	{ name, min, max, flags, usage, help, cmd_##id },
	VSW_CMD_LIST(CMD_ROW)
#undef CMD_ROW
};
const size_t vswd_n_cmds = RTE_DIM(vswd_cmds);

/* ------------------------------------------------------- periodic work */

/*
 * on-limit=log: name the first MAC refused on a port each second, and how
 * many more were refused since the last line.
 */
static void
limit_log(const struct vsw_bridge *b, const struct vsw_port *p, const struct vsw_fdb_key *k,
	  uint32_t now)
{
	static uint32_t last[VSW_MAX_PORTS];
	static uint64_t more[VSW_MAX_PORTS];
	char mac[24];

	if (last[p->slot] == now + 1) {
		more[p->slot]++;
		return;
	}
	last[p->slot] = now + 1;
	mac_str(&k->mac, mac, sizeof(mac));
	event(RTE_LOG_WARNING, "%s: port %s is at its MAC limit (%u): %s (vlan %u) not learned, "
	      "frames forwarded (on-limit=log); %" PRIu64 " more refused since the last report",
	      b->name, p->conf.name, vsw_fdb_port_limit(b->fdb, p->slot), mac, k->vlan,
	      more[p->slot]);
	more[p->slot] = 0;
}

static void
drain_learn(struct vsw_switch *sw)
{
	static struct vsw_learn_req req[256];	/* Control thread only. */
	enum vsw_fdb_learn_result r;
	const struct vsw_port *p;
	const char *oname;
	uint64_t frozen;
	uint16_t old;
	struct vsw_bridge *b;
	unsigned int n, i, rounds;
	uint32_t now = vsw_now();
	char mac[24];

	for (rounds = 0; rounds < 64; rounds++) {
		n = rte_ring_sc_dequeue_burst_elem(vsw_dp_learn_ring, req, sizeof(req[0]),
						   RTE_DIM(req), NULL);
		if (n == 0)
			return;
		for (i = 0; i < n; i++) {
			p = req[i].slot < VSW_MAX_PORTS ? sw->ports[req[i].slot] : NULL;
			if (p == NULL || p->gen != req[i].gen || p->bridge != req[i].bridge ||
			    req[i].bridge >= VSW_MAX_BRIDGES) {
				sw->learn_dropped++;
				continue;
			}
			b = &sw->bridges[req[i].bridge];
			frozen = b->fdb->stats.frozen;
			r = vsw_fdb_learn_from(b->fdb, &req[i].key, req[i].slot, now, &old);
			if (r == VSW_FDB_REFRESHED || r == VSW_FDB_STATIC)
				continue;
			if (r == VSW_FDB_FROZEN && b->fdb->stats.frozen == frozen)
				continue;	/* Still frozen: reported when it froze. */
			if (r == VSW_FDB_PORT_LIMIT && p->l2.on_limit == VSW_ON_LIMIT_LOG) {
				limit_log(b, p, &req[i].key, now);
				continue;
			}
			if (!mac_event_allowed())
				continue;
			mac_str(&req[i].key.mac, mac, sizeof(mac));
			oname = old < VSW_MAX_PORTS && sw->ports[old] != NULL ?
				sw->ports[old]->conf.name : "?";
			if (r == VSW_FDB_MOVED)
				event(RTE_LOG_INFO, "%s: %s moved from port %s to port %s", b->name,
				      mac, oname, p->conf.name);
			else if (r == VSW_FDB_FLAPPING)
				event(RTE_LOG_WARNING, "%s: %s (vlan %u) is flapping between ports %s "
				      "and %s: %u moves in %u s", b->name, mac, req[i].key.vlan, oname,
				      p->conf.name, b->flap.moves, b->flap.window);
			else if (r == VSW_FDB_FROZEN)
				event(RTE_LOG_WARNING, "%s: %s (vlan %u) is flapping between ports %s "
				      "and %s: %u moves in %u s; frozen on port %s for %u s", b->name,
				      mac, req[i].key.vlan, oname, p->conf.name, b->flap.moves,
				      b->flap.window, oname, b->flap.freeze);
			else if (r == VSW_FDB_LEARNED)
				event(RTE_LOG_DEBUG, "%s: %s learned on port %s", b->name, mac,
				      p->conf.name);
			else
				event(RTE_LOG_DEBUG, "%s: %s on port %s not learned: %s", b->name,
				      mac, p->conf.name, r == VSW_FDB_PORT_LIMIT ?
				      "port at its MAC limit" : r == VSW_FDB_TABLE_FULL ?
				      "table full" : "hash error");
		}
	}
}

static void
aged(void *arg, const struct vsw_fdb_entry *e)
{
	const struct vsw_bridge *b = arg;
	const struct vsw_port *p = vsw_sw.ports[e->port];
	char mac[24];

	mac_str(&e->key.mac, mac, sizeof(mac));
	event(RTE_LOG_DEBUG, "%s: %s aged out from port %s", b->name, mac,
	      p != NULL ? p->conf.name : "?");
}

static void
rate_sample(const struct vsw_port *p, uint64_t now_ms)
{
	struct port_rate *r = &rates[p->slot];
	struct vsw_port_ctrs c;
	double dt;

	port_ctrs_raw(p, &c);
	if (r->prev_ms != 0 && now_ms > r->prev_ms) {
		dt = (double)(now_ms - r->prev_ms) / 1000.0;
		r->rx_pps = (double)(c.rx_pkts - r->prev.rx_pkts) / dt;
		r->tx_pps = (double)(c.tx_pkts - r->prev.tx_pkts) / dt;
		r->rx_bps = 8.0 * (double)(c.rx_bytes - r->prev.rx_bytes) / dt;
		r->tx_bps = 8.0 * (double)(c.tx_bytes - r->prev.tx_bytes) / dt;
		r->drops_ps = (double)(vsw_port_ctrs_drops(&c) - vsw_port_ctrs_drops(&r->prev)) / dt;
	}
	r->prev = c;
	r->prev_ms = now_ms;
}

void
vswd_tick(struct vsw_switch *sw, uint64_t now_ms)
{
	static uint64_t last_link_ms, last_age_ms;
	bool changed = false;
	unsigned int i;

	drain_learn(sw);
	vswd_capture_tick(now_ms);
	if (now_ms - last_link_ms >= 100) {
		last_link_ms = now_ms;
		for (i = 0; i < VSW_MAX_PORTS; i++) {
			if (sw->ports[i] != NULL && vsw_port_link_update(sw->ports[i])) {
				changed = true;
				event(RTE_LOG_INFO, "port %s is %s", sw->ports[i]->conf.name,
				      sw->ports[i]->link_up ? "up" : "down");
			}
		}
		if (changed)
			publish(sw);
	}
	if (now_ms - last_age_ms >= 1000) {
		last_age_ms = now_ms;
		for (i = 0; i < VSW_MAX_BRIDGES; i++) {
			if (!sw->bridges[i].used)
				continue;
			vsw_fdb_age_cb(sw->bridges[i].fdb, vsw_now(), aged, &sw->bridges[i]);
			vsw_fdb_reclaim(sw->bridges[i].fdb);
		}
		for (i = 0; i < VSW_MAX_PORTS; i++)
			if (sw->ports[i] != NULL)
				rate_sample(sw->ports[i], now_ms);
	}
}

/* ---------------------------------------------------------------- restore */

static int
get_uint(const json_t *o, const char *key, uint32_t def, uint32_t min, uint32_t max,
	 uint32_t *val, const char *what, char *err, size_t len)
{
	const json_t *v = json_object_get(o, key);

	*val = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return vsw_errf(err, len, -EINVAL, "%s: \"%s\" must be an integer in %u..%u", what,
			    key, min, max);
	*val = (uint32_t)json_integer_value(v);
	return 0;
}

static int
restore_port(struct vsw_switch *sw, struct vsw_bridge *b, const json_t *jp, char *err,
	     size_t len)
{
	struct vsw_port_conf c;
	struct vsw_l2_conf l2;
	const char *name, *type, *s;
	char what[128], err2[256];
	const json_t *jl2;
	uint32_t v;
	int ret;

	memset(&c, 0, sizeof(c));
	name = json_string_value(json_object_get(jp, "name"));
	type = json_string_value(json_object_get(jp, "type"));
	if (name == NULL || strlen(name) >= sizeof(c.name))
		return vsw_errf(err, len, -EINVAL, "bridge %s: a port has no valid \"name\"",
			    b->name);
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(what, sizeof(what), "port %s", name);
	if (type == NULL || vsw_port_type_parse(type, &c.type) < 0)
		return vsw_errf(err, len, -EINVAL, "port %s: bad \"type\"", name);
	s = json_string_value(json_object_get(jp, "path"));
	if (s != NULL)
		snprintf(c.path, sizeof(c.path), "%s", s);
	s = json_string_value(json_object_get(jp, "devargs"));
	if (s != NULL)
		snprintf(c.devargs, sizeof(c.devargs), "%s", s);
	ret = get_uint(jp, "n_rxq", 1, 1, VSW_MAX_QUEUES, &v, what, err, len);
	if (ret < 0)
		return ret;
	c.n_rxq = (uint16_t)v;
	ret = get_uint(jp, "mtu", 0, 0, 9600, &v, what, err, len);
	if (ret < 0)
		return ret;
	c.mtu = (uint16_t)v;
	s = json_string_value(json_object_get(jp, "mac"));
	if (s != NULL) {
		if (vsw_mac_parse(s, &c.mac) < 0)
			return vsw_errf(err, len, -EINVAL, "port %s: bad \"mac\"", name);
		c.has_mac = true;
	}
	memset(&l2, 0, sizeof(l2));
	jl2 = json_object_get(jp, "l2");
	if (jl2 != NULL && (!json_is_object(jl2) || vswd_l2_parse(jl2, &l2, err2, sizeof(err2)) < 0))
		return vsw_errf(err, len, -EINVAL, "port %s: bad \"l2\": %s", name,
				json_is_object(jl2) ? err2 : "not an object");
	return add_port_internal(sw, b, &c, &l2, true, err, len);
}

static int
restore_bridge(struct vsw_switch *sw, const json_t *jb, char *err, size_t len)
{
	uint32_t aging = 0, max_macs = 0, port_max = 0, fm = 0, fw = 0, ff = 0;
	const json_t *jp, *ports, *statics;
	struct vsw_fdb_key k;
	struct vsw_bridge *b;
	struct vsw_port *p;
	const char *name;
	char what[128];
	size_t i;
	int ret;

	name = json_string_value(json_object_get(jb, "name"));
	if (name == NULL)
		return vsw_errf(err, len, -EINVAL, "a bridge has no \"name\"");
	snprintf(what, sizeof(what), "bridge %s", name);
	ret = get_uint(jb, "aging", VSW_DEFAULT_AGING, 1, 86400 * 365, &aging, what, err, len);
	if (ret == 0)
		ret = get_uint(jb, "max_macs", VSW_DEFAULT_MAX_MACS, 8, 16 * 1024 * 1024,
			       &max_macs, what, err, len);
	if (ret == 0)
		ret = get_uint(jb, "port_max_macs", 0, 0, 16 * 1024 * 1024, &port_max, what,
			       err, len);
	if (ret < 0)
		return ret;
	if (ret == 0)
		ret = get_uint(jb, "flap_moves", VSW_DEFAULT_FLAP_MOVES, 0, UINT16_MAX, &fm, what,
			       err, len);
	if (ret == 0)
		ret = get_uint(jb, "flap_window", VSW_DEFAULT_FLAP_WINDOW, 1, 3600, &fw, what,
			       err, len);
	if (ret == 0)
		ret = get_uint(jb, "flap_freeze", 0, 0, 86400, &ff, what, err, len);
	if (ret < 0)
		return ret;
	ret = vswd_add_bridge(sw, name, aging, max_macs, port_max, err, len);
	if (ret < 0)
		return ret;
	b = find_bridge(sw, name);
	b->flap.moves = (uint16_t)fm;
	b->flap.window = (uint16_t)fw;
	b->flap.freeze = ff;
	b->fdb->flap = b->flap;
	ports = json_object_get(jb, "ports");
	if (ports != NULL && !json_is_array(ports))
		return vsw_errf(err, len, -EINVAL, "bridge %s: \"ports\" is not a list", name);
	json_array_foreach(ports, i, jp) {
		ret = restore_port(sw, b, jp, err, len);
		if (ret < 0)
			return ret;
	}
	statics = json_object_get(jb, "static_macs");
	json_array_foreach(statics, i, jp) {
		const char *mac = json_string_value(json_object_get(jp, "mac"));
		const char *pn = json_string_value(json_object_get(jp, "port"));

		memset(&k, 0, sizeof(k));
		if (vsw_mac_parse(mac, &k.mac) < 0 || pn == NULL ||
		    (p = find_port(sw, pn)) == NULL || p->bridge != b->idx)
			return vsw_errf(err, len, -EINVAL, "bridge %s: bad static MAC entry %zu",
				    name, i);
		k.vlan = (uint16_t)json_integer_value(json_object_get(jp, "vlan"));
		if (vsw_fdb_add_static(b->fdb, &k, p->slot, vsw_now()) < 0)
			return vsw_errf(err, len, -ENOSPC, "bridge %s: cannot add static MAC %s",
				    name, mac);
	}
	return 0;
}

int
vswd_restore(struct vsw_switch *sw, char *err, size_t len)
{
	json_t *root, *jb;
	size_t i;
	int ret;

	ret = vsw_state_load(sw->state_path, &root, err, len);
	if (ret == -ENOENT) {
		SW_LOG(NOTICE, "%s; starting with the default configuration (bridge br0) and "
		       "creating it", err);
		ret = vswd_add_bridge(sw, "br0", VSW_DEFAULT_AGING, VSW_DEFAULT_MAX_MACS, 0, err,
				      len);
		return ret < 0 ? ret : vswd_save(sw, err, len);
	}
	if (ret < 0)
		return ret;
	sw->restoring = true;
	json_array_foreach(json_object_get(root, "bridges"), i, jb) {
		ret = restore_bridge(sw, jb, err, len);
		if (ret < 0) {
			char e2[512];

			snprintf(e2, sizeof(e2), "%s", err);
			vsw_errf(err, len, ret, "state file %s: %s", sw->state_path, e2);
			break;
		}
	}
	sw->restoring = false;
	json_decref(root);
	if (ret == 0)
		SW_LOG(INFO, "configuration restored from %s", sw->state_path);
	return ret;
}

/*
 * Warm restart: on a graceful stop the learned MACs are saved next to the
 * state file (STATE.fdb); the next start puts them back once the ports are
 * there, so traffic resumes without a flood-and-relearn storm. The file is
 * removed once read: after a crash (no save) nothing stale comes back.
 */
static void
fdb_file(const struct vsw_switch *sw, char *buf, size_t len)
{
	snprintf(buf, len, "%s.fdb", sw->state_path);
}

void
vswd_fdb_save(struct vsw_switch *sw)
{
	json_t *root, *bridges, *entries;
	const struct vsw_fdb_entry *e;
	char path[4200], mac[24], err[256];
	unsigned int i, j, n = 0;
	uint32_t now = vsw_now();

	if (sw->state_path[0] == '\0')
		return;
	fdb_file(sw, path, sizeof(path));
	root = json_pack("{s:s,s:i,s:I}", "format", "vsw-fdb", "version", 1, "saved_at",
			 (json_int_t)time(NULL));
	bridges = json_array();
	for (i = 0; i < VSW_MAX_BRIDGES; i++) {
		if (!sw->bridges[i].used)
			continue;
		entries = json_array();
		for (j = 0; j < sw->bridges[i].fdb->capacity; j++) {
			e = &sw->bridges[i].fdb->entries[j];
			if (!e->in_use || e->is_static || sw->ports[e->port] == NULL)
				continue;
			mac_str(&e->key.mac, mac, sizeof(mac));
			json_array_append_new(entries, json_pack(
				"{s:s,s:i,s:s,s:i}", "mac", mac, "vlan", e->key.vlan, "port",
				sw->ports[e->port]->conf.name, "age", now - e->last_seen));
			n++;
		}
		json_array_append_new(bridges, json_pack("{s:s,s:o}", "name",
							 sw->bridges[i].name, "entries", entries));
	}
	json_object_set_new(root, "bridges", bridges);
	if (vsw_state_save(path, root, err, sizeof(err)) == 0)
		event(RTE_LOG_INFO, "saved %u learned MACs to %s for a warm restart", n, path);
	else
		SW_LOG(WARNING, "cannot save learned MACs: %s", err);
	json_decref(root);
}

void
vswd_fdb_restore(struct vsw_switch *sw)
{
	const json_t *jb, *je;
	struct vsw_fdb_key k;
	struct vsw_bridge *b;
	struct vsw_port *p;
	json_error_t jerr;
	char path[4200];
	unsigned int n = 0, skipped = 0;
	json_int_t age, saved_at;
	size_t i, j;
	json_t *root;

	if (sw->state_path[0] == '\0')
		return;
	fdb_file(sw, path, sizeof(path));
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		return;
	unlink(path);
	if (strcmp(json_string_value(json_object_get(root, "format")) ?: "", "vsw-fdb") != 0) {
		SW_LOG(WARNING, "%s is not a vsw learned-MAC file; ignored", path);
		json_decref(root);
		return;
	}
	saved_at = json_integer_value(json_object_get(root, "saved_at"));
	json_array_foreach(json_object_get(root, "bridges"), i, jb) {
		b = find_bridge(sw, json_string_value(json_object_get(jb, "name")) ?: "");
		json_array_foreach(json_object_get(jb, "entries"), j, je) {
			p = find_port(sw, json_string_value(json_object_get(je, "port")) ?: "");
			age = json_integer_value(json_object_get(je, "age")) +
			      ((json_int_t)time(NULL) - saved_at);
			memset(&k, 0, sizeof(k));
			k.vlan = (uint16_t)json_integer_value(json_object_get(je, "vlan"));
			/* Only entries that would still be alive, on ports still there. */
			if (b == NULL || p == NULL || p->bridge != b->idx || age < 0 ||
			    age > (json_int_t)b->aging ||
			    vsw_mac_parse(json_string_value(json_object_get(je, "mac")), &k.mac) < 0 ||
			    vsw_fdb_learn(b->fdb, &k, p->slot, vsw_now()) != VSW_FDB_LEARNED) {
				skipped++;
				continue;
			}
			n++;
		}
	}
	json_decref(root);
	event(RTE_LOG_INFO, "warm restart: %u learned MACs restored from %s (%u skipped)", n,
	      path, skipped);
}

void
vswd_shutdown(struct vsw_switch *sw)
{
	unsigned int i;

	vswd_capture_shutdown();
	/* PMDs are stopped: close devices directly. */
	for (i = 0; i < VSW_MAX_PORTS; i++) {
		if (sw->ports[i] == NULL)
			continue;
		vsw_port_close(sw->ports[i]);
		free(sw->ports[i]);
		sw->ports[i] = NULL;
	}
	conf_free(atomic_exchange(&vsw_dp_cur, NULL));
	for (i = 0; i < VSW_MAX_BRIDGES; i++) {
		if (!sw->bridges[i].used)
			continue;
		vsw_fdb_free(sw->bridges[i].fdb);
		sw->bridges[i].used = false;
	}
}
