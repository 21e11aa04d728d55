/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsw_l2.h"
#include "vsw_util.h"

static int
vid_parse(const char *s, const char *end, unsigned int *vid)
{
	unsigned long v = 0;
	const char *p;

	if (s == end || end - s > 4)
		return -EINVAL;
	for (p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > VSW_VLAN_MAX)
		return -EINVAL;
	*vid = (unsigned int)v;
	return 0;
}

int
vsw_vlan_list_parse(const char *s, uint64_t *set, char *err, size_t len)
{
	const char *item = s, *comma, *dash;
	unsigned int lo, hi, v;

	memset(set, 0, (VSW_VLAN_MAX + 1) / 8);
	if (strcmp(s, "none") == 0)
		return 0;
	if (strcmp(s, "all") == 0) {
		for (v = 1; v <= VSW_VLAN_MAX; v++)
			vsw_vlan_set(set, v);
		return 0;
	}
	if (*s == '\0')
		return vsw_errf(err, len, -EINVAL, "empty VLAN list (use none)");
	for (;;) {
		comma = strchr(item, ',');
		if (comma == NULL)
			comma = item + strlen(item);
		dash = memchr(item, '-', (size_t)(comma - item));
		if (dash == NULL) {
			if (vid_parse(item, comma, &lo) < 0)
				goto bad;
			hi = lo;
		} else if (vid_parse(item, dash, &lo) < 0 || vid_parse(dash + 1, comma, &hi) < 0 ||
			   hi < lo) {
			goto bad;
		}
		for (v = lo; v <= hi; v++)
			vsw_vlan_set(set, v);
		if (*comma == '\0')
			return 0;
		item = comma + 1;
	}
bad:
	return vsw_errf(err, len, -EINVAL,
			"bad VLAN list '%s': VLAN ids 1-4095, ranges as 10-20, ',' between, "
			"or all, none", s);
}

int
vsw_vlan_list_format(const uint64_t *set, char *buf, size_t len)
{
	unsigned int v = 1, lo;
	size_t n = 0;
	int w;

	if (len > 0)
		buf[0] = '\0';
	while (v <= VSW_VLAN_MAX) {
		if (!vsw_vlan_test(set, v)) {
			v++;
			continue;
		}
		lo = v;
		while (v + 1 <= VSW_VLAN_MAX && vsw_vlan_test(set, v + 1))
			v++;
		if (lo == v)
			w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s%u",
				     n ? "," : "", lo);
		else
			w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s%u-%u",
				     n ? "," : "", lo, v);
		n += (size_t)w;
		v++;
	}
	return (int)n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "xx:xx:xx:xx:xx:xx" exactly, from s to end. */
static int
mac_parse_n(const char *s, const char *end, struct rte_ether_addr *m)
{
	uint8_t b[RTE_ETHER_ADDR_LEN];
	int i, hi, lo;

	if (end - s != 17)
		return -EINVAL;
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++) {
		hi = hexval(s[3 * i]);
		lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(m->addr_bytes, b, sizeof(b));
	return 0;
}

int
vsw_mac_parse(const char *s, struct rte_ether_addr *mac)
{
	if (s == NULL)
		return -EINVAL;
	return mac_parse_n(s, s + strlen(s), mac);
}

int
vsw_mac_list_parse(const char *s, struct rte_ether_addr *macs, char *err, size_t len)
{
	const char *item = s, *comma;
	int n = 0;

	if (*s == '\0' || strcmp(s, "none") == 0)
		return 0;
	for (;;) {
		comma = strchr(item, ',');
		if (comma == NULL)
			comma = item + strlen(item);
		if (n == VSW_MAX_ALLOWED_MACS)
			return vsw_errf(err, len, -EINVAL, "more than %d MACs in '%s'",
					VSW_MAX_ALLOWED_MACS, s);
		if (mac_parse_n(item, comma, &macs[n]) < 0)
			return vsw_errf(err, len, -EINVAL, "bad MAC '%.*s' in '%s'",
					(int)(comma - item), item, s);
		if (macs[n].addr_bytes[0] & 1)
			return vsw_errf(err, len, -EINVAL, "%.*s is not a unicast MAC",
					(int)(comma - item), item);
		n++;
		if (*comma == '\0')
			return n;
		item = comma + 1;
	}
}

int
vsw_rate_parse(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		x *= 1000ULL;
		end++;
		break;
	case 'm': case 'M':
		x *= 1000000ULL;
		end++;
		break;
	case 'g': case 'G':
		x *= 1000000000ULL;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0' || x > 400000000000ULL)
		return -EINVAL;
	*v = x;
	return 0;
}
