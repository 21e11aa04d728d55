/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning table: the writer side (control thread only). See vsw_fdb.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "vsw_fdb.h"

RTE_LOG_REGISTER_DEFAULT(vsw_fdb_logtype, INFO);
#define RTE_LOGTYPE_VSW_FDB vsw_fdb_logtype
#define FDB_LOG(l, fmt, ...) RTE_LOG(l, VSW_FDB, "%s(): " fmt "\n", __func__, ##__VA_ARGS__)

/* What the defer queue holds for a deleted key until its grace period ends. */
struct deferred {
	int32_t pos;	/* rte_hash key position to free. */
	uint32_t idx;	/* Entry index to return to the free list. */
};

static void
deferred_free(void *p, void *e, unsigned int n)
{
	struct vsw_fdb *fdb = p;
	struct deferred *d = e;
	unsigned int i;

	for (i = 0; i < n; i++) {
		rte_hash_free_key_with_position(fdb->h, d[i].pos);
		fdb->free_idx[fdb->n_free++] = d[i].idx;
	}
}

static uint64_t
make_data(uint32_t idx, uint16_t port)
{
	return ((uint64_t)idx << 16) | port;
}

struct vsw_fdb *
vsw_fdb_create(const struct vsw_fdb_params *p)
{
	struct rte_rcu_qsbr_dq_parameters dqp;
	struct rte_hash_parameters hp;
	char name[RTE_HASH_NAMESIZE + 8];
	struct vsw_fdb *fdb;
	uint32_t i;

	if (p == NULL || p->name == NULL || p->capacity < 8 || p->qsbr == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	fdb = rte_zmalloc_socket("vsw_fdb", sizeof(*fdb), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (fdb == NULL)
		goto nomem;
	snprintf(fdb->name, sizeof(fdb->name), "%s", p->name);
	fdb->capacity = p->capacity;
	fdb->max_macs = p->capacity;
	fdb->aging = p->aging;
	fdb->port_max_macs = p->port_max_macs;
	fdb->qsbr = p->qsbr;

	fdb->entries = rte_zmalloc_socket("vsw_fdb_entries",
					  sizeof(fdb->entries[0]) * p->capacity,
					  RTE_CACHE_LINE_SIZE, p->socket_id);
	fdb->free_idx = malloc(sizeof(uint32_t) * p->capacity);
	if (fdb->entries == NULL || fdb->free_idx == NULL)
		goto nomem;
	/* Hand out low indexes first: better locality for small tables. */
	for (i = 0; i < p->capacity; i++)
		fdb->free_idx[i] = p->capacity - 1 - i;
	fdb->n_free = p->capacity;

	snprintf(name, sizeof(name), "fdb_%s", p->name);
	name[RTE_HASH_NAMESIZE - 1] = '\0';
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = p->capacity;
	hp.key_len = sizeof(struct vsw_fdb_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = p->socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	fdb->h = rte_hash_create(&hp);
	if (fdb->h == NULL) {
		FDB_LOG(ERR, "rte_hash_create(%s, %u): %s", name, p->capacity,
			rte_strerror(rte_errno));
		goto fail;
	}

	snprintf(name, sizeof(name), "fdq_%s", p->name);
	memset(&dqp, 0, sizeof(dqp));
	dqp.name = name;
	dqp.size = p->capacity;
	dqp.esize = sizeof(struct deferred);
	dqp.trigger_reclaim_limit = 64;
	dqp.max_reclaim_size = 4096;
	dqp.free_fn = deferred_free;
	dqp.p = fdb;
	dqp.v = p->qsbr;
	fdb->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (fdb->dq == NULL) {
		FDB_LOG(ERR, "rte_rcu_qsbr_dq_create(%s): %s", name, rte_strerror(rte_errno));
		goto fail;
	}
	return fdb;

nomem:
	rte_errno = ENOMEM;
fail:
	i = rte_errno;
	vsw_fdb_free(fdb);
	rte_errno = i;
	return NULL;
}

void
vsw_fdb_free(struct vsw_fdb *fdb)
{
	if (fdb == NULL)
		return;
	if (fdb->dq != NULL)
		rte_rcu_qsbr_dq_delete(fdb->dq);
	rte_hash_free(fdb->h);
	free(fdb->free_idx);
	rte_free(fdb->entries);
	rte_free(fdb);
}

void
vsw_fdb_reclaim(struct vsw_fdb *fdb)
{
	unsigned int freed, pending, avail;

	rte_rcu_qsbr_dq_reclaim(fdb->dq, UINT32_MAX, &freed, &pending, &avail);
}

/* Get a free entry index, waiting for a grace period if all are deferred. */
static int
alloc_idx(struct vsw_fdb *fdb, uint32_t *idx)
{
	if (fdb->n_free == 0) {
		rte_rcu_qsbr_synchronize(fdb->qsbr, RTE_QSBR_THRID_INVALID);
		vsw_fdb_reclaim(fdb);
	}
	if (fdb->n_free == 0)
		return -ENOSPC;
	*idx = fdb->free_idx[--fdb->n_free];
	return 0;
}

uint32_t
vsw_fdb_port_limit(const struct vsw_fdb *fdb, uint16_t port)
{
	if (port >= VSW_MAX_PORTS)
		return 0;
	return fdb->port_limit[port] != 0 ? fdb->port_limit[port] : fdb->port_max_macs;
}

static void
port_full_update(struct vsw_fdb *fdb, uint16_t port)
{
	uint32_t lim = vsw_fdb_port_limit(fdb, port);

	fdb->port_full[port] = lim != 0 && fdb->port_count[port] >= lim;
}

void
vsw_fdb_set_port_limit(struct vsw_fdb *fdb, uint16_t port, uint32_t limit)
{
	if (port >= VSW_MAX_PORTS)
		return;
	fdb->port_limit[port] = limit;
	port_full_update(fdb, port);
}

static void
port_count_inc(struct vsw_fdb *fdb, uint16_t port)
{
	if (port >= VSW_MAX_PORTS)
		return;
	fdb->port_count[port]++;
	port_full_update(fdb, port);
}

static void
port_count_dec(struct vsw_fdb *fdb, uint16_t port)
{
	if (port >= VSW_MAX_PORTS || fdb->port_count[port] == 0)
		return;
	fdb->port_count[port]--;
	port_full_update(fdb, port);
}

/*
 * Count a move of a dynamic entry in its flap window. @return true when
 * this move makes it a flap (reported once per window).
 */
static bool
flap_count(struct vsw_fdb *fdb, struct vsw_fdb_entry *e, uint32_t now)
{
	if (fdb->flap.moves == 0)
		return false;
	if (now - e->flap_start >= fdb->flap.window || e->flap_moves == 0) {
		e->flap_start = now;
		e->flap_moves = 0;
		e->flap_logged = 0;
	}
	if (e->flap_moves < UINT16_MAX)
		e->flap_moves++;
	if (e->flap_moves < fdb->flap.moves || e->flap_logged)
		return false;
	e->flap_logged = 1;
	fdb->stats.flaps++;
	return true;
}

/* Insert a key that is not in the table. */
static int
insert(struct vsw_fdb *fdb, const struct vsw_fdb_key *key, uint16_t port, uint32_t now,
       bool is_static)
{
	struct vsw_fdb_entry *e;
	uint32_t idx;
	int ret;

	if (fdb->n_entries >= fdb->capacity || alloc_idx(fdb, &idx) < 0)
		return -ENOSPC;
	e = &fdb->entries[idx];
	e->key = *key;
	e->last_seen = now;
	e->port = port;
	e->is_static = is_static;
	e->in_use = 1;
	e->frozen_until = 0;
	e->flap_start = 0;
	e->flap_moves = 0;
	e->flap_logged = 0;
	ret = rte_hash_add_key_data(fdb->h, key, (void *)(uintptr_t)make_data(idx, port));
	if (ret < 0) {
		/* Out of hash slots: some may wait for a grace period. */
		rte_rcu_qsbr_synchronize(fdb->qsbr, RTE_QSBR_THRID_INVALID);
		vsw_fdb_reclaim(fdb);
		ret = rte_hash_add_key_data(fdb->h, key,
					    (void *)(uintptr_t)make_data(idx, port));
	}
	if (ret < 0) {
		e->in_use = 0;
		fdb->free_idx[fdb->n_free++] = idx;
		FDB_LOG(ERR, "%s: rte_hash_add_key_data: %s", fdb->name, strerror(-ret));
		return ret == -ENOSPC ? -ENOSPC : -EIO;
	}
	fdb->n_entries++;
	if (!is_static)
		port_count_inc(fdb, port);
	return 0;
}

static int
find(const struct vsw_fdb *fdb, const struct vsw_fdb_key *key, uint32_t *idx)
{
	void *data;

	if (rte_hash_lookup_data(fdb->h, key, &data) < 0)
		return -ENOENT;
	*idx = (uint32_t)((uintptr_t)data >> 16);
	return 0;
}

/* Point an existing entry at another port (atomic for readers). */
static int
repoint(struct vsw_fdb *fdb, uint32_t idx, uint16_t port)
{
	struct vsw_fdb_entry *e = &fdb->entries[idx];
	int ret;

	ret = rte_hash_add_key_data(fdb->h, &e->key, (void *)(uintptr_t)make_data(idx, port));
	if (ret < 0)
		return -EIO;
	if (!e->is_static)
		port_count_dec(fdb, e->port);
	e->port = port;
	return 0;
}

enum vsw_fdb_learn_result
vsw_fdb_learn(struct vsw_fdb *fdb, const struct vsw_fdb_key *key, uint16_t port, uint32_t now)
{
	uint16_t old;

	return vsw_fdb_learn_from(fdb, key, port, now, &old);
}

enum vsw_fdb_learn_result
vsw_fdb_learn_from(struct vsw_fdb *fdb, const struct vsw_fdb_key *key, uint16_t port,
		   uint32_t now, uint16_t *old_port)
{
	struct vsw_fdb_entry *e;
	bool flapping;
	uint32_t idx;

	*old_port = VSW_NO_SLOT;
	if (find(fdb, key, &idx) == 0) {
		e = &fdb->entries[idx];
		*old_port = e->port;
		if (e->port == port) {
			e->last_seen = now;
			return VSW_FDB_REFRESHED;
		}
		if (e->is_static)
			return VSW_FDB_STATIC;
		if (e->frozen_until > now) {
			fdb->stats.frozen_refused++;
			return VSW_FDB_FROZEN;
		}
		flapping = flap_count(fdb, e, now);
		if (flapping && fdb->flap.freeze != 0) {
			/* Damping: it stays where it is for `freeze` seconds. */
			e->frozen_until = now + fdb->flap.freeze;
			fdb->stats.frozen++;
			fdb->stats.frozen_refused++;
			return VSW_FDB_FROZEN;
		}
		if (repoint(fdb, idx, port) < 0)
			return VSW_FDB_ERROR;
		port_count_inc(fdb, port);
		e->last_seen = now;
		fdb->stats.moved++;
		return flapping ? VSW_FDB_FLAPPING : VSW_FDB_MOVED;
	}
	if (port < VSW_MAX_PORTS && vsw_fdb_port_limit(fdb, port) != 0 &&
	    fdb->port_count[port] >= vsw_fdb_port_limit(fdb, port)) {
		fdb->port_full[port] = 1;
		fdb->stats.limit_hits++;
		return VSW_FDB_PORT_LIMIT;
	}
	if (fdb->n_entries >= fdb->max_macs) {
		fdb->stats.limit_hits++;
		return VSW_FDB_TABLE_FULL;
	}
	switch (insert(fdb, key, port, now, false)) {
	case 0:
		fdb->stats.learned++;
		return VSW_FDB_LEARNED;
	case -ENOSPC:
		fdb->stats.limit_hits++;
		return VSW_FDB_TABLE_FULL;
	default:
		return VSW_FDB_ERROR;
	}
}

int
vsw_fdb_add_static(struct vsw_fdb *fdb, const struct vsw_fdb_key *key, uint16_t port,
		   uint32_t now)
{
	struct vsw_fdb_entry *e;
	uint32_t idx;

	if (find(fdb, key, &idx) == 0) {
		e = &fdb->entries[idx];
		if (!e->is_static) {
			/* Static entries do not count towards the port's limit. */
			port_count_dec(fdb, e->port);
			e->is_static = 1;
		}
		if (e->port != port && repoint(fdb, idx, port) < 0)
			return -EIO;
		e->last_seen = now;
		return 0;
	}
	return insert(fdb, key, port, now, true);
}

/* Remove the entry at idx from the hash; its slot is freed after a grace period. */
static void
remove_idx(struct vsw_fdb *fdb, uint32_t idx)
{
	struct vsw_fdb_entry *e = &fdb->entries[idx];
	struct deferred d;
	int32_t pos;

	pos = rte_hash_del_key(fdb->h, &e->key);
	if (pos < 0)
		return;
	if (!e->is_static)
		port_count_dec(fdb, e->port);
	e->in_use = 0;
	fdb->n_entries--;
	d.pos = pos;
	d.idx = idx;
	if (rte_rcu_qsbr_dq_enqueue(fdb->dq, &d) != 0) {
		/* Queue full: wait for the grace period here. */
		rte_rcu_qsbr_synchronize(fdb->qsbr, RTE_QSBR_THRID_INVALID);
		deferred_free(fdb, &d, 1);
	}
}

int
vsw_fdb_del(struct vsw_fdb *fdb, const struct vsw_fdb_key *key)
{
	uint32_t idx;

	if (find(fdb, key, &idx) < 0)
		return -ENOENT;
	remove_idx(fdb, idx);
	return 0;
}

uint32_t
vsw_fdb_flush(struct vsw_fdb *fdb, uint16_t port, bool include_static)
{
	uint32_t i, n = 0;
	struct vsw_fdb_entry *e;

	for (i = 0; i < fdb->capacity; i++) {
		e = &fdb->entries[i];
		if (!e->in_use)
			continue;
		if (port != VSW_NO_SLOT && e->port != port)
			continue;
		if (e->is_static && !include_static)
			continue;
		remove_idx(fdb, i);
		n++;
	}
	fdb->stats.flushed += n;
	return n;
}

uint32_t
vsw_fdb_age(struct vsw_fdb *fdb, uint32_t now)
{
	return vsw_fdb_age_cb(fdb, now, NULL, NULL);
}

uint32_t
vsw_fdb_age_cb(struct vsw_fdb *fdb, uint32_t now, vsw_fdb_aged_cb_t cb, void *arg)
{
	struct vsw_fdb_entry *e;
	uint32_t i, n = 0;

	if (fdb->aging == 0 || fdb->n_entries == 0)
		return 0;
	for (i = 0; i < fdb->capacity; i++) {
		e = &fdb->entries[i];
		if (!e->in_use || e->is_static)
			continue;
		/* last_seen is written by PMDs; read it once. */
		/* Strictly older: with whole seconds, an entry lives aging to aging+1 s. */
		if (now - *(volatile uint32_t *)&e->last_seen > fdb->aging) {
			if (cb != NULL)
				cb(arg, e);
			remove_idx(fdb, i);
			n++;
		}
	}
	fdb->stats.aged += n;
	return n;
}

void
vsw_fdb_set_limits(struct vsw_fdb *fdb, uint32_t aging, uint32_t max_macs,
		   uint32_t port_max_macs)
{
	unsigned int p;

	fdb->aging = aging;
	fdb->max_macs = max_macs == 0 || max_macs > fdb->capacity ? fdb->capacity : max_macs;
	fdb->port_max_macs = port_max_macs;
	for (p = 0; p < VSW_MAX_PORTS; p++)
		port_full_update(fdb, (uint16_t)p);
}

int
vsw_fdb_lookup(const struct vsw_fdb *fdb, const struct vsw_fdb_key *key,
	       const struct vsw_fdb_entry **entry)
{
	uint32_t idx;

	if (find(fdb, key, &idx) < 0)
		return -ENOENT;
	*entry = &fdb->entries[idx];
	return 0;
}

