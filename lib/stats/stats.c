/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>

#include "vsw_stats.h"

static const char *const drop_names[VSW_DROP_MAX] = {
#define DROP_NAME(id, name, help) [VSW_DROP_##id] = #name,
	VSW_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};

static const char *const drop_help[VSW_DROP_MAX] = {
#define DROP_HELP(id, name, help) [VSW_DROP_##id] = (help),
	VSW_DROP_REASONS(DROP_HELP)
#undef DROP_HELP
};

static const char *const event_names[VSW_EV_MAX] = {
#define EV_NAME(id, name, help) [VSW_EV_##id] = #name,
	VSW_PORT_EVENTS(EV_NAME)
#undef EV_NAME
};

const char *
vsw_event_name(unsigned int ev)
{
	return ev < VSW_EV_MAX ? event_names[ev] : NULL;
}

const char *
vsw_drop_name(unsigned int reason)
{
	return reason < VSW_DROP_MAX ? drop_names[reason] : NULL;
}

const char *
vsw_drop_help(unsigned int reason)
{
	return reason < VSW_DROP_MAX ? drop_help[reason] : NULL;
}

void
vsw_port_ctrs_add(struct vsw_port_ctrs *dst, const struct vsw_port_ctrs *src)
{
	unsigned int i;

	dst->rx_pkts += src->rx_pkts;
	dst->rx_bytes += src->rx_bytes;
	dst->tx_pkts += src->tx_pkts;
	dst->tx_bytes += src->tx_bytes;
	for (i = 0; i < VSW_DROP_MAX; i++)
		dst->drops[i] += src->drops[i];
	for (i = 0; i < VSW_EV_MAX; i++)
		dst->events[i] += src->events[i];
}

static uint64_t
sub_clamp(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void
vsw_port_ctrs_sub(struct vsw_port_ctrs *dst, const struct vsw_port_ctrs *src)
{
	unsigned int i;

	dst->rx_pkts = sub_clamp(dst->rx_pkts, src->rx_pkts);
	dst->rx_bytes = sub_clamp(dst->rx_bytes, src->rx_bytes);
	dst->tx_pkts = sub_clamp(dst->tx_pkts, src->tx_pkts);
	dst->tx_bytes = sub_clamp(dst->tx_bytes, src->tx_bytes);
	for (i = 0; i < VSW_DROP_MAX; i++)
		dst->drops[i] = sub_clamp(dst->drops[i], src->drops[i]);
	for (i = 0; i < VSW_EV_MAX; i++)
		dst->events[i] = sub_clamp(dst->events[i], src->events[i]);
}

uint64_t
vsw_port_ctrs_drops(const struct vsw_port_ctrs *c)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < VSW_DROP_MAX; i++)
		sum += c->drops[i];
	return sum;
}
