/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers of the control plane.
 */
#ifndef VSW_UTIL_H
#define VSW_UTIL_H

#include <stddef.h>

/**
 * Write a one-line reason into err (anet style) and return ret, so that
 * `return vsw_errf(err, len, -EINVAL, "bad mtu %u", mtu);` reports and fails
 * in one line.
 */
int vsw_errf(char *err, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* VSW_UTIL_H */
