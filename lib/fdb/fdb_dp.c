/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning table: the reader side, called by PMD threads. No locks, no
 * allocation, no logging.
 */
#include <rte_hash.h>

#include "vsw_fdb.h"

uint64_t
vsw_fdb_lookup_bulk(const struct vsw_fdb *fdb, const void **keys, uint32_t n, uint64_t *data)
{
	uint64_t hits = 0;

	if (n == 0)
		return 0;
	if (rte_hash_lookup_bulk_data(fdb->h, keys, n, &hits, (void **)data) < 0)
		return 0;
	return hits;
}
