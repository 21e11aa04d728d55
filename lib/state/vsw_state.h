/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The persistent configuration file.
 *
 * Format: one JSON object (see config/vsw-state.example.json):
 *   {"format": "vsw-state", "version": 1,
 *    "bridges": [{"name": "br0", "aging": 300, "max_macs": 65536,
 *                 "port_max_macs": 0,
 *                 "ports": [{"name": "vm1", "type": "vhost-user",
 *                            "path": "/run/vsw/vm1.sock", "n_rxq": 1, ...}],
 *                 "static_macs": [{"mac": "...", "vlan": 0, "port": "vm1"}]}]}
 *
 * Saving is atomic: write PATH.tmp, fsync it, rename it over PATH, fsync
 * the directory. A crash at any point leaves either the old or the new
 * file, never a mix. Loading checks the JSON syntax and the top-level
 * shape; the daemon validates the contents when it applies them.
 *
 * Thread-safety: control thread (no shared state).
 */
#ifndef VSW_STATE_H
#define VSW_STATE_H

#include <stddef.h>

#include <jansson.h>

#define VSW_STATE_VERSION 1

/**
 * Load a state file.
 * @return 0 with *root (new reference); -ENOENT when the file does not
 *   exist; -EINVAL (unparsable or wrong shape) or another -errno, with a
 *   one-line reason naming the file in err.
 */
int vsw_state_load(const char *path, json_t **root, char *err, size_t len);

/**
 * Save atomically.
 * @return 0 or -errno with a reason in err.
 */
int vsw_state_save(const char *path, const json_t *root, char *err, size_t len);

#endif /* VSW_STATE_H */
