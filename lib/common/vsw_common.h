/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Limits and small helpers shared by every vsw component.
 *
 * The limits size the per-PMD arrays of the data path (counters, tx
 * buffers), so they are compile-time constants: a port is a "slot" in
 * [0, VSW_MAX_PORTS), a bridge an index in [0, VSW_MAX_BRIDGES).
 */
#ifndef VSW_COMMON_H
#define VSW_COMMON_H

#include <stdatomic.h>
#include <stdint.h>

#define VSW_VERSION "0.1.0"

#define VSW_BURST 32		/**< Frames per rx burst. */
#define VSW_MAX_PORTS 256	/**< Port slots, all bridges together. */
#define VSW_MAX_BRIDGES 64	/**< Bridges. */
#define VSW_MAX_PMDS 16		/**< PMD threads. */
#define VSW_MAX_QUEUES 8	/**< Rx queues per port. */
#define VSW_MAX_PMD_RXQ 512	/**< (port, queue) pairs one PMD polls. */
#define VSW_NAME_MAX 64		/**< Bridge and port names, with the NUL. */
#define VSW_PATH_MAX 108	/**< sun_path of a Unix socket, with the NUL. */
#define VSW_DEVARGS_MAX 512	/**< DPDK device arguments, with the NUL. */

#define VSW_NO_SLOT UINT16_MAX

/**
 * Seconds since the daemon started. Written by the control thread about
 * every millisecond, read by the PMDs once per burst (no syscall on the
 * fast path). Used for FDB ages.
 */
extern _Atomic uint32_t vsw_clock_sec;

static inline uint32_t
vsw_now(void)
{
	return atomic_load_explicit(&vsw_clock_sec, memory_order_relaxed);
}

#endif /* VSW_COMMON_H */
