/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the learning table (lib/fdb).
 *
 * The table lives in DPDK memory (rte_hash, rte_zmalloc), so the group
 * setup starts EAL for real, without hugepages or PCI, and creates a QSBR
 * variable with no reader registered: every grace period ends at once and
 * deferred frees are reclaimed on the next reclaim or allocation.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "vsw_fdb.h"
#include "unit_eal.h"

static struct rte_rcu_qsbr *qsbr;
static unsigned int fdb_seq;

/* ------------------------------------------------------------ helpers */

static struct vsw_fdb_key
mkkey(uint16_t vlan, uint32_t n)
{
	struct vsw_fdb_key k;

	memset(&k, 0, sizeof(k));
	k.vlan = vlan;
	/* Locally administered unicast: 02:00:nn:nn:nn:nn. */
	k.mac.addr_bytes[0] = 0x02;
	k.mac.addr_bytes[1] = 0x00;
	k.mac.addr_bytes[2] = (uint8_t)(n >> 24);
	k.mac.addr_bytes[3] = (uint8_t)(n >> 16);
	k.mac.addr_bytes[4] = (uint8_t)(n >> 8);
	k.mac.addr_bytes[5] = (uint8_t)n;
	return k;
}

static struct vsw_fdb *
mkfdb(uint32_t capacity, uint32_t aging, uint32_t port_max_macs)
{
	struct vsw_fdb_params p;
	struct vsw_fdb *fdb;
	char name[32];

	snprintf(name, sizeof(name), "t%u", ++fdb_seq);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.capacity = capacity;
	p.aging = aging;
	p.port_max_macs = port_max_macs;
	p.socket_id = SOCKET_ID_ANY;
	p.qsbr = qsbr;
	fdb = vsw_fdb_create(&p);
	if (fdb == NULL)
		fail_msg("vsw_fdb_create(%s, %u): %s", name, capacity, rte_strerror(rte_errno));
	return fdb;
}

/* Look one key up through the PMD path. @return 1 on hit with *data. */
static int
bulk1(const struct vsw_fdb *fdb, const struct vsw_fdb_key *k, uint64_t *data)
{
	const void *keys[1] = { k };
	uint64_t d[1] = { 0 };
	uint64_t hits;

	hits = vsw_fdb_lookup_bulk(fdb, keys, 1, d);
	if (data != NULL)
		*data = d[0];
	return (int)(hits & 1);
}

/* Port of a key as the writer sees it, or -1 when absent. */
static int
port_of(const struct vsw_fdb *fdb, const struct vsw_fdb_key *k)
{
	const struct vsw_fdb_entry *e;

	if (vsw_fdb_lookup(fdb, k, &e) != 0)
		return -1;
	return e->port;
}

/* Free-list accounting: every index is either live or free once reclaimed. */
static void
assert_accounting(struct vsw_fdb *fdb)
{
	uint32_t i, live = 0;

	vsw_fdb_reclaim(fdb);
	for (i = 0; i < fdb->capacity; i++)
		live += fdb->entries[i].in_use;
	assert_int_equal(live, fdb->n_entries);
	assert_int_equal(fdb->n_free + fdb->n_entries, fdb->capacity);
}

/* -------------------------------------------------------------- tests */

static void
create_rejects_bad_params(void **state)
{
	struct vsw_fdb_params p;
	struct vsw_fdb *a;

	(void)state;
	rte_errno = 0;
	assert_null(vsw_fdb_create(NULL));
	assert_int_equal(rte_errno, EINVAL);

	memset(&p, 0, sizeof(p));
	p.name = "bad";
	p.capacity = 7;
	p.socket_id = SOCKET_ID_ANY;
	p.qsbr = qsbr;
	rte_errno = 0;
	assert_null(vsw_fdb_create(&p));
	assert_int_equal(rte_errno, EINVAL);

	p.capacity = 8;
	p.qsbr = NULL;
	rte_errno = 0;
	assert_null(vsw_fdb_create(&p));
	assert_int_equal(rte_errno, EINVAL);

	p.qsbr = qsbr;
	p.name = NULL;
	assert_null(vsw_fdb_create(&p));

	/* Names are unique while the table lives, reusable after free. */
	p.name = "dup";
	a = vsw_fdb_create(&p);
	assert_non_null(a);
	rte_errno = 0;
	assert_null(vsw_fdb_create(&p));
	assert_int_equal(rte_errno, EEXIST);
	vsw_fdb_free(a);
	a = vsw_fdb_create(&p);
	assert_non_null(a);
	vsw_fdb_free(a);
	vsw_fdb_free(NULL);
}

static void
learn_refresh_move(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 300, 0);
	struct vsw_fdb_key k = mkkey(0, 1), k10 = mkkey(10, 1);
	const struct vsw_fdb_entry *e;
	uint64_t data;

	(void)state;
	assert_false(bulk1(fdb, &k, NULL));
	assert_int_equal(vsw_fdb_lookup(fdb, &k, &e), -ENOENT);

	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 10), VSW_FDB_LEARNED);
	assert_int_equal(fdb->stats.learned, 1);
	assert_int_equal(fdb->n_entries, 1);
	assert_int_equal(fdb->port_count[1], 1);
	assert_int_equal(vsw_fdb_lookup(fdb, &k, &e), 0);
	assert_int_equal(e->port, 1);
	assert_int_equal(e->last_seen, 10);
	assert_false(e->is_static);
	assert_true(e->in_use);
	assert_memory_equal(&e->key, &k, sizeof(k));
	assert_true(bulk1(fdb, &k, &data));
	assert_int_equal(vsw_fdb_data_port(data), 1);
	assert_ptr_equal(&fdb->entries[data >> 16], e);

	/* Same port: refreshed, nothing else changes. */
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 20), VSW_FDB_REFRESHED);
	assert_int_equal(e->last_seen, 20);
	assert_int_equal(fdb->stats.learned, 1);
	assert_int_equal(fdb->stats.moved, 0);
	assert_int_equal(fdb->n_entries, 1);
	assert_int_equal(fdb->port_count[1], 1);

	/* Another port: moved, counts follow, readers see the new port. */
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 30), VSW_FDB_MOVED);
	assert_int_equal(fdb->stats.moved, 1);
	assert_int_equal(fdb->stats.learned, 1);
	assert_int_equal(fdb->n_entries, 1);
	assert_int_equal(fdb->port_count[1], 0);
	assert_int_equal(fdb->port_count[2], 1);
	assert_int_equal(port_of(fdb, &k), 2);
	assert_int_equal(e->last_seen, 30);
	assert_true(bulk1(fdb, &k, &data));
	assert_int_equal(vsw_fdb_data_port(data), 2);
	assert_ptr_equal(&fdb->entries[data >> 16], e);

	/* The same MAC on another VLAN is another entry. */
	assert_false(bulk1(fdb, &k10, NULL));
	assert_int_equal(vsw_fdb_learn(fdb, &k10, 3, 30), VSW_FDB_LEARNED);
	assert_int_equal(fdb->n_entries, 2);
	assert_int_equal(port_of(fdb, &k10), 3);
	assert_int_equal(port_of(fdb, &k), 2);

	/* PMD touch refreshes the age through the lookup data. */
	assert_true(bulk1(fdb, &k10, &data));
	vsw_fdb_touch(fdb, data, 99);
	assert_int_equal(vsw_fdb_lookup(fdb, &k10, &e), 0);
	assert_int_equal(e->last_seen, 99);

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
aging(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 300, 0);
	struct vsw_fdb_key a = mkkey(0, 1), b = mkkey(0, 2), s = mkkey(0, 3);
	uint64_t data;

	(void)state;
	assert_int_equal(vsw_fdb_learn(fdb, &a, 1, 100), VSW_FDB_LEARNED);
	assert_int_equal(vsw_fdb_learn(fdb, &b, 1, 250), VSW_FDB_LEARNED);
	assert_int_equal(vsw_fdb_add_static(fdb, &s, 1, 0), 0);
	assert_int_equal(fdb->port_count[1], 2);

	/*
	 * Ages are whole seconds: an entry goes when strictly older than the
	 * aging time, so it lives at least `aging` seconds (never less).
	 */
	assert_int_equal(vsw_fdb_age(fdb, 399), 0);
	assert_int_equal(vsw_fdb_age(fdb, 400), 0);
	assert_int_equal(fdb->n_entries, 3);
	assert_int_equal(vsw_fdb_age(fdb, 401), 1);
	assert_int_equal(fdb->stats.aged, 1);
	assert_int_equal(fdb->n_entries, 2);
	assert_int_equal(fdb->port_count[1], 1);
	assert_false(bulk1(fdb, &a, NULL));
	assert_true(bulk1(fdb, &b, NULL));

	/* A touch by the PMD keeps b alive past its learn time + aging. */
	assert_true(bulk1(fdb, &b, &data));
	vsw_fdb_touch(fdb, data, 500);
	assert_int_equal(vsw_fdb_age(fdb, 550), 0);
	assert_int_equal(vsw_fdb_age(fdb, 800), 0);
	assert_int_equal(vsw_fdb_age(fdb, 801), 1);
	assert_int_equal(fdb->stats.aged, 2);
	assert_false(bulk1(fdb, &b, NULL));
	assert_int_equal(fdb->port_count[1], 0);

	/* Static entries never age. */
	assert_int_equal(vsw_fdb_age(fdb, UINT32_MAX), 0);
	assert_true(bulk1(fdb, &s, NULL));
	assert_int_equal(fdb->n_entries, 1);

	/* aging = 0: never. */
	vsw_fdb_set_limits(fdb, 0, 0, 0);
	assert_int_equal(vsw_fdb_learn(fdb, &a, 2, 0), VSW_FDB_LEARNED);
	assert_int_equal(vsw_fdb_age(fdb, UINT32_MAX), 0);
	assert_true(bulk1(fdb, &a, NULL));

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
static_entries(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 10, 4);
	struct vsw_fdb_key s = mkkey(0, 1), l = mkkey(0, 2), m = mkkey(0, 3);
	const struct vsw_fdb_entry *e;
	uint64_t data;

	(void)state;
	assert_int_equal(vsw_fdb_add_static(fdb, &s, 3, 0), 0);
	assert_int_equal(fdb->n_entries, 1);
	/* Static entries do not count against the port's learn limit. */
	assert_int_equal(fdb->port_count[3], 0);
	assert_int_equal(vsw_fdb_lookup(fdb, &s, &e), 0);
	assert_true(e->is_static);
	assert_int_equal(e->port, 3);

	/* Learning never moves a static entry. */
	assert_int_equal(vsw_fdb_learn(fdb, &s, 4, 5), VSW_FDB_STATIC);
	assert_int_equal(port_of(fdb, &s), 3);
	assert_int_equal(fdb->port_count[4], 0);
	assert_int_equal(fdb->stats.moved, 0);
	assert_int_equal(fdb->stats.learned, 0);
	assert_true(bulk1(fdb, &s, &data));
	assert_int_equal(vsw_fdb_data_port(data), 3);
	/* Seen on its own port: just refreshed. */
	assert_int_equal(vsw_fdb_learn(fdb, &s, 3, 5), VSW_FDB_REFRESHED);

	/* Replacing a static entry moves it. */
	assert_int_equal(vsw_fdb_add_static(fdb, &s, 7, 0), 0);
	assert_int_equal(port_of(fdb, &s), 7);
	assert_true(bulk1(fdb, &s, &data));
	assert_int_equal(vsw_fdb_data_port(data), 7);
	assert_int_equal(fdb->n_entries, 1);

	/* add_static over a learned entry on another port converts and moves it. */
	assert_int_equal(vsw_fdb_learn(fdb, &l, 5, 0), VSW_FDB_LEARNED);
	assert_int_equal(fdb->port_count[5], 1);
	assert_int_equal(vsw_fdb_add_static(fdb, &l, 6, 0), 0);
	assert_int_equal(fdb->n_entries, 2);
	assert_int_equal(fdb->port_count[5], 0);
	assert_int_equal(fdb->port_count[6], 0);
	assert_int_equal(vsw_fdb_lookup(fdb, &l, &e), 0);
	assert_true(e->is_static);
	assert_int_equal(e->port, 6);
	assert_true(bulk1(fdb, &l, &data));
	assert_int_equal(vsw_fdb_data_port(data), 6);

	/* ... and over a learned entry on the same port converts it in place. */
	assert_int_equal(vsw_fdb_learn(fdb, &m, 5, 0), VSW_FDB_LEARNED);
	assert_int_equal(fdb->port_count[5], 1);
	assert_int_equal(vsw_fdb_add_static(fdb, &m, 5, 0), 0);
	assert_int_equal(fdb->port_count[5], 0);
	assert_int_equal(vsw_fdb_lookup(fdb, &m, &e), 0);
	assert_true(e->is_static);

	/* None of them ages, and a dynamic flush keeps them. */
	assert_int_equal(vsw_fdb_age(fdb, 1000000), 0);
	assert_int_equal(vsw_fdb_flush(fdb, VSW_NO_SLOT, false), 0);
	assert_int_equal(fdb->n_entries, 3);

	/* del removes a static entry too. */
	assert_int_equal(vsw_fdb_del(fdb, &s), 0);
	assert_false(bulk1(fdb, &s, NULL));
	assert_int_equal(fdb->n_entries, 2);

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
table_full(void **state)
{
	struct vsw_fdb *fdb = mkfdb(16, 300, 0);
	struct vsw_fdb_key k;
	uint32_t i;

	(void)state;
	/* max_macs below the capacity. */
	vsw_fdb_set_limits(fdb, 300, 4, 0);
	assert_int_equal(fdb->max_macs, 4);
	for (i = 0; i < 4; i++) {
		k = mkkey(0, i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, (uint16_t)(i % 3), 1), VSW_FDB_LEARNED);
	}
	k = mkkey(0, 100);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 0, 1), VSW_FDB_TABLE_FULL);
	assert_int_equal(fdb->stats.limit_hits, 1);
	assert_int_equal(fdb->n_entries, 4);
	assert_false(bulk1(fdb, &k, NULL));
	/* Known MACs still refresh and move when full. */
	k = mkkey(0, 0);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 0, 2), VSW_FDB_REFRESHED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 2), VSW_FDB_MOVED);
	assert_int_equal(fdb->stats.limit_hits, 1);

	/* max_macs 0 or above the capacity means the capacity. */
	vsw_fdb_set_limits(fdb, 300, 1000, 0);
	assert_int_equal(fdb->max_macs, 16);
	vsw_fdb_set_limits(fdb, 300, 0, 0);
	assert_int_equal(fdb->max_macs, 16);
	for (i = 4; i < 16; i++) {
		k = mkkey(0, i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 1), VSW_FDB_LEARNED);
	}
	assert_int_equal(fdb->n_entries, 16);
	k = mkkey(0, 200);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 1), VSW_FDB_TABLE_FULL);
	assert_int_equal(fdb->stats.limit_hits, 2);
	/* A full table refuses new static entries but replaces existing ones. */
	assert_int_equal(vsw_fdb_add_static(fdb, &k, 1, 1), -ENOSPC);
	assert_false(bulk1(fdb, &k, NULL));
	k = mkkey(0, 5);
	assert_int_equal(vsw_fdb_add_static(fdb, &k, 9, 1), 0);
	assert_int_equal(port_of(fdb, &k), 9);
	for (i = 0; i < 16; i++) {
		k = mkkey(0, i);
		assert_true(bulk1(fdb, &k, NULL));
	}

	/* Freeing one slot makes room for exactly one. */
	k = mkkey(0, 3);
	assert_int_equal(vsw_fdb_del(fdb, &k), 0);
	k = mkkey(0, 300);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 1), VSW_FDB_LEARNED);
	k = mkkey(0, 301);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 1), VSW_FDB_TABLE_FULL);

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
port_limit(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 300, 2);
	struct vsw_fdb_key a = mkkey(0, 1), b = mkkey(0, 2), c = mkkey(0, 3), d = mkkey(0, 4);

	(void)state;
	assert_false(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(vsw_fdb_learn(fdb, &a, 1, 0), VSW_FDB_LEARNED);
	assert_false(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(vsw_fdb_learn(fdb, &b, 1, 0), VSW_FDB_LEARNED);
	assert_true(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(vsw_fdb_learn(fdb, &c, 1, 0), VSW_FDB_PORT_LIMIT);
	assert_int_equal(fdb->stats.limit_hits, 1);
	assert_false(bulk1(fdb, &c, NULL));
	assert_int_equal(fdb->port_count[1], 2);
	/* Known MACs of the full port still refresh. */
	assert_int_equal(vsw_fdb_learn(fdb, &a, 1, 5), VSW_FDB_REFRESHED);

	/* Other ports are not affected. */
	assert_false(vsw_fdb_port_full(fdb, 2));
	assert_int_equal(vsw_fdb_learn(fdb, &c, 2, 0), VSW_FDB_LEARNED);
	assert_false(vsw_fdb_port_full(fdb, 2));

	/* Deleting one MAC frees room on the port. */
	assert_int_equal(vsw_fdb_del(fdb, &a), 0);
	assert_false(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(vsw_fdb_learn(fdb, &d, 1, 0), VSW_FDB_LEARNED);
	assert_true(vsw_fdb_port_full(fdb, 1));

	/* A flush of the port clears the limit. */
	assert_int_equal(vsw_fdb_flush(fdb, 1, false), 2);
	assert_false(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(fdb->port_count[1], 0);
	assert_int_equal(vsw_fdb_learn(fdb, &a, 1, 0), VSW_FDB_LEARNED);
	assert_int_equal(vsw_fdb_learn(fdb, &b, 1, 0), VSW_FDB_LEARNED);
	assert_true(vsw_fdb_port_full(fdb, 1));

	/* Raising the limit clears it, lowering it sets it. */
	vsw_fdb_set_limits(fdb, 300, 0, 3);
	assert_false(vsw_fdb_port_full(fdb, 1));
	vsw_fdb_set_limits(fdb, 300, 0, 1);
	assert_true(vsw_fdb_port_full(fdb, 1));
	assert_true(vsw_fdb_port_full(fdb, 2));
	vsw_fdb_set_limits(fdb, 300, 0, 0);
	assert_false(vsw_fdb_port_full(fdb, 1));
	assert_false(vsw_fdb_port_full(fdb, 2));

	/* Aging out frees room too. */
	vsw_fdb_set_limits(fdb, 300, 0, 2);
	assert_true(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(vsw_fdb_age(fdb, 1000), 3);
	assert_false(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(fdb->port_count[1], 0);
	assert_int_equal(fdb->port_count[2], 0);

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
flush(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 300, 0);
	struct vsw_fdb_key k;
	uint32_t i;

	(void)state;
	/* 10 dynamic on port 1, 5 on port 2, static: 2 on port 1, 1 on port 2. */
	for (i = 0; i < 10; i++) {
		k = mkkey(0, i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 0), VSW_FDB_LEARNED);
	}
	for (i = 10; i < 15; i++) {
		k = mkkey(0, i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 0), VSW_FDB_LEARNED);
	}
	k = mkkey(0, 100);
	assert_int_equal(vsw_fdb_add_static(fdb, &k, 1, 0), 0);
	k = mkkey(0, 101);
	assert_int_equal(vsw_fdb_add_static(fdb, &k, 1, 0), 0);
	k = mkkey(0, 102);
	assert_int_equal(vsw_fdb_add_static(fdb, &k, 2, 0), 0);
	assert_int_equal(fdb->n_entries, 18);

	/* Port 1's dynamic entries only. */
	assert_int_equal(vsw_fdb_flush(fdb, 1, false), 10);
	assert_int_equal(fdb->stats.flushed, 10);
	assert_int_equal(fdb->n_entries, 8);
	assert_int_equal(fdb->port_count[1], 0);
	assert_int_equal(fdb->port_count[2], 5);
	for (i = 0; i < 10; i++) {
		k = mkkey(0, i);
		assert_false(bulk1(fdb, &k, NULL));
	}
	k = mkkey(0, 10);
	assert_true(bulk1(fdb, &k, NULL));
	k = mkkey(0, 100);
	assert_true(bulk1(fdb, &k, NULL));
	/* Nothing more to flush there. */
	assert_int_equal(vsw_fdb_flush(fdb, 1, false), 0);

	/* A port with statics, include_static: what a port deletion does. */
	assert_int_equal(vsw_fdb_flush(fdb, 1, true), 2);
	k = mkkey(0, 100);
	assert_false(bulk1(fdb, &k, NULL));
	assert_int_equal(fdb->n_entries, 6);

	/* The whole bridge: dynamic entries go, the static one stays. */
	assert_int_equal(vsw_fdb_flush(fdb, VSW_NO_SLOT, false), 5);
	assert_int_equal(fdb->n_entries, 1);
	assert_int_equal(fdb->port_count[2], 0);
	k = mkkey(0, 102);
	assert_true(bulk1(fdb, &k, NULL));
	assert_int_equal(vsw_fdb_flush(fdb, VSW_NO_SLOT, true), 1);
	assert_int_equal(fdb->n_entries, 0);
	assert_false(bulk1(fdb, &k, NULL));
	assert_int_equal(fdb->stats.flushed, 18);

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
del_and_stale_key(void **state)
{
	struct vsw_fdb *fdb = mkfdb(8, 300, 0);
	struct vsw_fdb_key a = mkkey(0, 1), b = mkkey(0, 2), k;
	const struct vsw_fdb_entry *e;
	uint64_t da, db;
	uint32_t i;

	(void)state;
	assert_int_equal(vsw_fdb_del(fdb, &a), -ENOENT);
	assert_int_equal(vsw_fdb_learn(fdb, &a, 1, 0), VSW_FDB_LEARNED);
	assert_true(bulk1(fdb, &a, &da));
	assert_int_equal(vsw_fdb_del(fdb, &a), 0);
	assert_int_equal(fdb->n_entries, 0);
	assert_int_equal(fdb->port_count[1], 0);
	assert_false(bulk1(fdb, &a, NULL));
	assert_int_equal(vsw_fdb_lookup(fdb, &a, &e), -ENOENT);
	assert_int_equal(vsw_fdb_del(fdb, &a), -ENOENT);

	/* Reuse every index: the deleted key must still miss, others hit right. */
	vsw_fdb_reclaim(fdb);
	for (i = 0; i < 8; i++) {
		k = mkkey(0, 100 + i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, (uint16_t)(10 + i), 0),
				 VSW_FDB_LEARNED);
	}
	assert_false(bulk1(fdb, &a, NULL));
	assert_int_equal(vsw_fdb_lookup(fdb, &a, &e), -ENOENT);
	for (i = 0; i < 8; i++) {
		k = mkkey(0, 100 + i);
		assert_true(bulk1(fdb, &k, &db));
		assert_int_equal(vsw_fdb_data_port(db), 10 + i);
		assert_memory_equal(&fdb->entries[db >> 16].key, &k, sizeof(k));
	}

	/* A re-learned key after del gets a fresh, correct entry. */
	k = mkkey(0, 100);
	assert_int_equal(vsw_fdb_del(fdb, &k), 0);
	assert_int_equal(vsw_fdb_learn(fdb, &b, 3, 7), VSW_FDB_LEARNED);
	assert_true(bulk1(fdb, &b, &db));
	assert_int_equal(vsw_fdb_data_port(db), 3);
	assert_memory_equal(&fdb->entries[db >> 16].key, &b, sizeof(b));
	assert_int_equal(fdb->entries[db >> 16].last_seen, 7);
	assert_false(bulk1(fdb, &k, NULL));

	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
lookup_bulk(void **state)
{
	struct vsw_fdb *fdb = mkfdb(256, 300, 0);
	struct vsw_fdb_key keys[64];
	const struct vsw_fdb_entry *e;
	const void *kp[64];
	uint64_t data[64], hits, want = 0;
	uint32_t i;

	(void)state;
	/* Keys 0, 3, 6, ... are learned, on port i % 7, some on VLAN 5. */
	for (i = 0; i < 64; i++) {
		keys[i] = mkkey(i % 2 ? 5 : 0, 1000 + i);
		kp[i] = &keys[i];
		if (i % 3 == 0) {
			assert_int_equal(vsw_fdb_learn(fdb, &keys[i], (uint16_t)(i % 7), 0),
					 VSW_FDB_LEARNED);
			want |= UINT64_C(1) << i;
		}
	}
	/* Same MACs on the other VLAN must not hit. */
	for (i = 0; i < 64; i++) {
		struct vsw_fdb_key other = keys[i];

		other.vlan = other.vlan == 5 ? 0 : 5;
		assert_false(bulk1(fdb, &other, NULL));
	}

	memset(data, 0xff, sizeof(data));
	hits = vsw_fdb_lookup_bulk(fdb, kp, 64, data);
	assert_int_equal(hits, want);
	for (i = 0; i < 64; i++) {
		if (!(want & (UINT64_C(1) << i)))
			continue;
		assert_int_equal(vsw_fdb_data_port(data[i]), i % 7);
		assert_int_equal(vsw_fdb_lookup(fdb, &keys[i], &e), 0);
		assert_ptr_equal(&fdb->entries[data[i] >> 16], e);
	}

	/* Fewer keys: mask bits beyond n are never set. */
	hits = vsw_fdb_lookup_bulk(fdb, kp, 10, data);
	assert_int_equal(hits, want & 0x3ff);
	hits = vsw_fdb_lookup_bulk(fdb, kp + 1, 2, data);
	assert_int_equal(hits, 0);
	assert_int_equal(vsw_fdb_lookup_bulk(fdb, kp, 0, data), 0);

	/* All 64 present. */
	for (i = 0; i < 64; i++)
		if (!(want & (UINT64_C(1) << i)))
			assert_int_equal(vsw_fdb_learn(fdb, &keys[i], 200, 0), VSW_FDB_LEARNED);
	hits = vsw_fdb_lookup_bulk(fdb, kp, 64, data);
	assert_true(hits == UINT64_MAX);
	for (i = 0; i < 64; i++)
		assert_int_equal(vsw_fdb_data_port(data[i]),
				 (want & (UINT64_C(1) << i)) ? i % 7 : 200);

	vsw_fdb_free(fdb);
}

static void
index_reuse(void **state)
{
	struct vsw_fdb *fdb = mkfdb(1024, 300, 0);
	struct vsw_fdb_key k;
	uint32_t i, round;
	uint64_t data;

	(void)state;
	/* Fill to capacity, flush, refill: the deferred frees must come back. */
	for (round = 0; round < 8; round++) {
		for (i = 0; i < 1024; i++) {
			k = mkkey((uint16_t)round, i);
			assert_int_equal(vsw_fdb_learn(fdb, &k, (uint16_t)(i % 200), round),
					 VSW_FDB_LEARNED);
		}
		assert_int_equal(fdb->n_entries, 1024);
		k = mkkey((uint16_t)round, 5000);
		assert_int_equal(vsw_fdb_learn(fdb, &k, 1, round), VSW_FDB_TABLE_FULL);
		for (i = 0; i < 1024; i += 97) {
			k = mkkey((uint16_t)round, i);
			assert_true(bulk1(fdb, &k, &data));
			assert_int_equal(vsw_fdb_data_port(data), i % 200);
		}
		/* Without an explicit reclaim: learning must wait for it. */
		assert_int_equal(vsw_fdb_flush(fdb, VSW_NO_SLOT, false), 1024);
		assert_int_equal(fdb->n_entries, 0);
	}

	/* Learn/delete churn on a small table, static and dynamic mixed. */
	vsw_fdb_free(fdb);
	fdb = mkfdb(8, 1, 0);
	for (i = 0; i < 20000; i++) {
		k = mkkey(0, i);
		if (i % 5 == 0)
			assert_int_equal(vsw_fdb_add_static(fdb, &k, 2, i), 0);
		else
			assert_int_equal(vsw_fdb_learn(fdb, &k, 1, i), VSW_FDB_LEARNED);
		assert_true(bulk1(fdb, &k, NULL));
		if (i % 3 == 0) {
			assert_int_equal(vsw_fdb_del(fdb, &k), 0);
		} else if (fdb->n_entries == 8) {
			/* Full: age out the dynamic ones, flush the rest. */
			vsw_fdb_age(fdb, i + 10);
			vsw_fdb_flush(fdb, VSW_NO_SLOT, true);
			assert_int_equal(fdb->n_entries, 0);
		}
	}
	assert_accounting(fdb);
	vsw_fdb_free(fdb);
}

static void
mac_parse_good(void **state)
{
	static const struct {
		const char *s;
		uint8_t b[6];
	} ok[] = {
		{ "00:11:22:33:44:55", { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 } },
		{ "aa:BB:cC:Dd:ee:ff", { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
		{ "ff:ff:ff:ff:ff:ff", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "02:00:00:00:00:01", { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } },
	};
	struct rte_ether_addr mac;
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(ok); i++) {
		memset(&mac, 0x5a, sizeof(mac));
		assert_int_equal(vsw_mac_parse(ok[i].s, &mac), 0);
		assert_memory_equal(mac.addr_bytes, ok[i].b, 6);
	}
}

static void
mac_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"00:11:22:33:44",
		"00:11:22:33:44:",
		"00:11:22:33:44:55:66",
		"00:11:22:33:44:55:",
		"00:11:22:33:44:555",
		"0:11:22:33:44:55",
		"000:11:22:33:44:5",
		"00-11-22-33-44-55",
		"0011.2233.4455",
		"001122334455",
		"gg:11:22:33:44:55",
		"00:11:22:33:44:5g",
		"00:11:22:33:44:55 ",
		"00:11:22:33:44:55\n",
		"00:11:22:33:44:5",
	};
	struct rte_ether_addr mac, before;
	unsigned int i;

	(void)state;
	assert_int_equal(vsw_mac_parse(NULL, &mac), -EINVAL);
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < RTE_DIM(bad); i++) {
		mac = before;
		if (vsw_mac_parse(bad[i], &mac) != -EINVAL)
			fail_msg("vsw_mac_parse(\"%s\") accepted", bad[i]);
		assert_memory_equal(&mac, &before, sizeof(mac));
	}
}

/*
 * Each group is exactly two hex digits: no sign, no blank, no "0x".
 * sscanf("%2x") accepts all three, and the strlen() == 17 check does not
 * catch them when a shorter field elsewhere makes up the length.
 */
static void
mac_parse_rejects_sign_and_blank(void **state)
{
	static const char *const bad[] = {
		"aa:bb:cc:dd:ee:-f",	/* Parsed as aa:bb:cc:dd:ee:f1. */
		"-1:00:00:00:00:00",	/* Parsed as ff:00:00:00:00:00. */
		"+a:bb:cc:dd:ee:ff",	/* Parsed as 0a:bb:cc:dd:ee:ff. */
		" aa:bb:cc:dd:ee:f",	/* Parsed as aa:bb:cc:dd:ee:0f. */
		"aa: b:cc:dd:ee:ff",	/* Parsed as aa:0b:cc:dd:ee:ff. */
	};
	struct rte_ether_addr mac;
	unsigned int i, n_bad = 0;

	(void)state;
	for (i = 0; i < RTE_DIM(bad); i++) {
		if (vsw_mac_parse(bad[i], &mac) != -EINVAL) {
			print_error("vsw_mac_parse(\"%s\") accepted as "
				    "%02x:%02x:%02x:%02x:%02x:%02x\n", bad[i],
				    mac.addr_bytes[0], mac.addr_bytes[1], mac.addr_bytes[2],
				    mac.addr_bytes[3], mac.addr_bytes[4], mac.addr_bytes[5]);
			n_bad++;
		}
	}
	assert_int_equal(n_bad, 0);
}

/* ------------------------------------------------------------ fixture */

static int
eal_setup(void **state)
{
	size_t sz;

	(void)state;
	if (unit_eal_init("fdb") != 0)
		return -1;
	sz = rte_rcu_qsbr_get_memsize(1);
	qsbr = rte_zmalloc("test_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, 1) != 0) {
		print_error("qsbr: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
eal_teardown(void **state)
{
	(void)state;
	rte_free(qsbr);
	unit_eal_fini();
	return 0;
}

/* A port's own limit overrides the bridge's; 0 goes back to it. */
static void
per_port_limit(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 300, 3);
	struct vsw_fdb_key k;
	uint32_t i;

	(void)state;
	vsw_fdb_set_port_limit(fdb, 1, 1);
	assert_int_equal(vsw_fdb_port_limit(fdb, 1), 1);
	assert_int_equal(vsw_fdb_port_limit(fdb, 2), 3);
	k = mkkey(0, 1);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 0), VSW_FDB_LEARNED);
	assert_true(vsw_fdb_port_full(fdb, 1));
	k = mkkey(0, 2);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 0), VSW_FDB_PORT_LIMIT);
	for (i = 0; i < 3; i++) {
		k = mkkey(0, 10 + i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 0), VSW_FDB_LEARNED);
	}
	assert_true(vsw_fdb_port_full(fdb, 2));
	/* Raised above the bridge's: port 1 takes 4. */
	vsw_fdb_set_port_limit(fdb, 1, 4);
	assert_false(vsw_fdb_port_full(fdb, 1));
	for (i = 0; i < 3; i++) {
		k = mkkey(0, 20 + i);
		assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 0), VSW_FDB_LEARNED);
	}
	assert_true(vsw_fdb_port_full(fdb, 1));
	/* Back to the bridge's (3): still full, nothing evicted. */
	vsw_fdb_set_port_limit(fdb, 1, 0);
	assert_true(vsw_fdb_port_full(fdb, 1));
	assert_int_equal(fdb->port_count[1], 4);
	vsw_fdb_free(fdb);
}

/* N moves within the window: one flap report; with freeze, it stays put. */
static void
flap_detect_and_freeze(void **state)
{
	struct vsw_fdb *fdb = mkfdb(64, 300, 0);
	struct vsw_fdb_key k = mkkey(7, 1);
	const struct vsw_fdb_entry *e;
	uint64_t data;
	uint16_t old;

	(void)state;
	fdb->flap.moves = 3;
	fdb->flap.window = 10;
	fdb->flap.freeze = 0;
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 100), VSW_FDB_LEARNED);
	assert_int_equal(vsw_fdb_learn_from(fdb, &k, 2, 100, &old), VSW_FDB_MOVED);
	assert_int_equal(old, 1);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 101), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn_from(fdb, &k, 2, 102, &old), VSW_FDB_FLAPPING);
	assert_int_equal(old, 1);
	/* Reported once per window, still moving (no freeze). */
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 103), VSW_FDB_MOVED);
	assert_int_equal(fdb->stats.flaps, 1);
	/* A new window after 10 s counts from zero. */
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 120), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 121), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 122), VSW_FDB_FLAPPING);
	assert_int_equal(fdb->stats.flaps, 2);

	/* Freeze: the move that makes the flap is refused, for 30 s. */
	fdb->flap.freeze = 30;
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 200), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 200), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 201), VSW_FDB_FROZEN);
	assert_int_equal(vsw_fdb_lookup(fdb, &k, &e), 0);
	assert_int_equal(e->port, 2);
	assert_int_equal(e->frozen_until, 231);
	assert_true(bulk1(fdb, &k, &data));
	assert_true(vsw_fdb_frozen(fdb, data, 230));
	assert_false(vsw_fdb_frozen(fdb, data, 231));
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 220), VSW_FDB_FROZEN);
	assert_int_equal(fdb->stats.frozen, 1);
	assert_int_equal(fdb->stats.frozen_refused, 2);
	/* Refreshing on its own port is fine while frozen. */
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 225), VSW_FDB_REFRESHED);
	/* Thawed: moves again. */
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 231), VSW_FDB_MOVED);
	/* flap.moves = 0: detection off. */
	fdb->flap.moves = 0;
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 232), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 232), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 2, 232), VSW_FDB_MOVED);
	assert_int_equal(vsw_fdb_learn(fdb, &k, 1, 232), VSW_FDB_MOVED);
	vsw_fdb_free(fdb);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_rejects_bad_params),
		cmocka_unit_test(learn_refresh_move),
		cmocka_unit_test(aging),
		cmocka_unit_test(static_entries),
		cmocka_unit_test(table_full),
		cmocka_unit_test(port_limit),
		cmocka_unit_test(per_port_limit),
		cmocka_unit_test(flap_detect_and_freeze),
		cmocka_unit_test(flush),
		cmocka_unit_test(del_and_stale_key),
		cmocka_unit_test(lookup_bulk),
		cmocka_unit_test(index_reuse),
		cmocka_unit_test(mac_parse_good),
		cmocka_unit_test(mac_parse_bad),
		cmocka_unit_test(mac_parse_rejects_sign_and_blank),
	};

	/* ./test_x 'pattern': run only the matching tests. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
