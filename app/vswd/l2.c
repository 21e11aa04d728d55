/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port L2 options (set-port k=v): parsing, their state-file / show form,
 * and what the data path snapshot gets from them. The saved form is the
 * same key=value text the operator typed, so restoring a port runs the
 * same parser as set-port.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_meter.h>

#include "vsw_ctl.h"
#include "vsw_dp.h"
#include "vsw_util.h"
#include "vswd.h"

static const char *const on_limit_names[] = {"drop", "flood", "log"};
static const char *const storm_keys[VSW_STORM_MAX] = {"storm-bcast", "storm-mcast",
						      "storm-unknown"};

static int
opt_vid(const json_t *args, const char *key, uint16_t *vid, char *err, size_t len)
{
	const char *s = vsw_args_str(args, key);
	uint64_t v;
	int r;

	if (s == NULL)
		return 0;
	if (strcmp(s, "none") == 0) {
		*vid = 0;
		return 1;
	}
	r = vsw_args_uint(args, key, 1, VSW_VLAN_MAX, &v, err, len);
	if (r < 0)
		return vsw_errf(err, len, -EINVAL, "%s must be a VLAN id 1-4095 or none, not '%s'",
				key, s);
	*vid = (uint16_t)v;
	return 1;
}

static int
opt_u32(const json_t *args, const char *key, uint32_t max, uint32_t *val, char *err, size_t len)
{
	uint64_t v;
	int r = vsw_args_uint(args, key, 0, max, &v, err, len);

	if (r > 0)
		*val = (uint32_t)v;
	return r;
}

int
vswd_l2_parse(const json_t *args, struct vsw_l2_conf *c, char *err, size_t len)
{
	struct vsw_l2_conf n = *c;
	const char *s;
	uint64_t v;
	unsigned int i;
	int r;

	if (opt_vid(args, "tag", &n.tag, err, len) < 0 ||
	    opt_vid(args, "native", &n.native, err, len) < 0)
		return -EINVAL;
	s = vsw_args_str(args, "trunks");
	if (s != NULL) {
		if (strcmp(s, "none") == 0) {
			n.has_trunks = false;
			memset(n.trunks, 0, sizeof(n.trunks));
		} else {
			if (vsw_vlan_list_parse(s, n.trunks, err, len) < 0)
				return -EINVAL;
			n.has_trunks = true;
		}
	}
	if (n.tag != 0 && (n.has_trunks || n.native != 0))
		return vsw_errf(err, len, -EINVAL,
				"a port is either access (tag=N) or trunk (trunks=LIST, native=N): "
				"clear one with tag=none or trunks=none native=none");
	s = vsw_args_str(args, "allowed-macs");
	if (s != NULL) {
		r = vsw_mac_list_parse(s, n.allowed_macs, err, len);
		if (r < 0)
			return r;
		n.n_allowed_macs = (uint16_t)r;
	}
	if (opt_u32(args, "max-macs", 16 * 1024 * 1024, &n.max_macs, err, len) < 0)
		return -EINVAL;
	s = vsw_args_str(args, "on-limit");
	if (s != NULL) {
		for (i = 0; i < RTE_DIM(on_limit_names); i++)
			if (strcmp(s, on_limit_names[i]) == 0)
				break;
		if (i == RTE_DIM(on_limit_names))
			return vsw_errf(err, len, -EINVAL,
					"on-limit must be drop, flood or log, not '%s'", s);
		n.on_limit = (uint8_t)i;
	}
	for (i = 0; i < VSW_STORM_MAX; i++)
		if (opt_u32(args, storm_keys[i], 1000000000, &n.storm_pps[i], err, len) < 0)
			return -EINVAL;
	s = vsw_args_str(args, "police-rate");
	if (s != NULL) {
		if (vsw_rate_parse(s, &v) < 0)
			return vsw_errf(err, len, -EINVAL,
					"police-rate must be bits/s like 500000, 500k, 2m or 10g "
					"(0 = off), not '%s'", s);
		n.police_bps = v;
	}
	if (opt_u32(args, "police-burst", 1u << 30, &n.police_burst, err, len) < 0 ||
	    opt_u32(args, "police-pps", 1000000000, &n.police_pps, err, len) < 0 ||
	    opt_u32(args, "police-burst-pkts", 1u << 30, &n.police_burst_pkts, err, len) < 0)
		return -EINVAL;
	if (n.police_burst != 0 && n.police_burst < 64)
		return vsw_errf(err, len, -EINVAL, "police-burst must be at least 64 bytes");
	s = vsw_args_str(args, "protected");
	if (s != NULL) {
		if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			n.is_protected = true;
		else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			n.is_protected = false;
		else
			return vsw_errf(err, len, -EINVAL, "protected must be true or false");
	}
	s = vsw_args_str(args, "mirror");
	if (s != NULL) {
		if (strcmp(s, "none") == 0) {
			n.mirror_to[0] = '\0';
			n.mirror_dir = 0;
		} else {
			if (strlen(s) >= sizeof(n.mirror_to))
				return vsw_errf(err, len, -EINVAL, "mirror port name too long");
			snprintf(n.mirror_to, sizeof(n.mirror_to), "%s", s);
			if (n.mirror_dir == 0)
				n.mirror_dir = VSW_MIRROR_RX | VSW_MIRROR_TX;
		}
	}
	s = vsw_args_str(args, "mirror-dir");
	if (s != NULL) {
		if (strcmp(s, "rx") == 0)
			n.mirror_dir = VSW_MIRROR_RX;
		else if (strcmp(s, "tx") == 0)
			n.mirror_dir = VSW_MIRROR_TX;
		else if (strcmp(s, "both") == 0)
			n.mirror_dir = VSW_MIRROR_RX | VSW_MIRROR_TX;
		else
			return vsw_errf(err, len, -EINVAL, "mirror-dir must be rx, tx or both");
		if (n.mirror_to[0] == '\0')
			return vsw_errf(err, len, -EINVAL, "mirror-dir needs mirror=PORT");
	}
	*c = n;
	return 0;
}

static void
set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v));
}

static void
set_uint(json_t *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	set_str(o, key, buf);
}

json_t *
vswd_l2_json(const struct vsw_l2_conf *c)
{
	json_t *o = json_object();
	char buf[VSW_MAX_ALLOWED_MACS * 18 + 1];
	char vl[20000];
	unsigned int i;
	size_t n = 0;

	if (c->tag != 0)
		set_uint(o, "tag", c->tag);
	if (c->has_trunks) {
		vsw_vlan_list_format(c->trunks, vl, sizeof(vl));
		set_str(o, "trunks", vl[0] != '\0' ? vl : "none");
	}
	if (c->native != 0)
		set_uint(o, "native", c->native);
	if (c->n_allowed_macs != 0) {
		for (i = 0; i < c->n_allowed_macs; i++) {
			const uint8_t *b = c->allowed_macs[i].addr_bytes;

			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "%s%02x:%02x:%02x:%02x:%02x:%02x", i ? "," : "",
					      b[0], b[1], b[2], b[3], b[4], b[5]);
		}
		set_str(o, "allowed-macs", buf);
	}
	if (c->max_macs != 0)
		set_uint(o, "max-macs", c->max_macs);
	if (c->on_limit != VSW_ON_LIMIT_DROP)
		set_str(o, "on-limit", on_limit_names[c->on_limit]);
	for (i = 0; i < VSW_STORM_MAX; i++)
		if (c->storm_pps[i] != 0)
			set_uint(o, storm_keys[i], c->storm_pps[i]);
	if (c->police_bps != 0)
		set_uint(o, "police-rate", c->police_bps);
	if (c->police_burst != 0)
		set_uint(o, "police-burst", c->police_burst);
	if (c->police_pps != 0)
		set_uint(o, "police-pps", c->police_pps);
	if (c->police_burst_pkts != 0)
		set_uint(o, "police-burst-pkts", c->police_burst_pkts);
	if (c->is_protected)
		set_str(o, "protected", "true");
	if (c->mirror_to[0] != '\0') {
		set_str(o, "mirror", c->mirror_to);
		set_str(o, "mirror-dir", c->mirror_dir == VSW_MIRROR_RX ? "rx" :
			c->mirror_dir == VSW_MIRROR_TX ? "tx" : "both");
	}
	return o;
}

/* A frames/s (or bytes/s) token bucket as an srTCM with no excess bucket. */
static int
profile(struct rte_meter_srtcm_profile *p, uint64_t rate, uint64_t burst)
{
	struct rte_meter_srtcm_params prm = {
		.cir = rate != 0 ? rate : 1,
		.cbs = burst != 0 ? burst : 1,
		.ebs = 0,
	};

	return rte_meter_srtcm_profile_config(p, &prm);
}

void
vswd_l2_dp(const struct vsw_port *p, unsigned int n_pmds, struct vsw_dp_port *dp)
{
	const struct vsw_l2_conf *c = &p->l2;
	unsigned int pollers = RTE_MIN((unsigned int)p->conf.n_rxq, n_pmds), i, v;
	struct vsw_dp_qos *q = &dp->qos;
	uint64_t rate, burst;

	if (pollers == 0)
		pollers = 1;
	/* VLANs: what it carries and which VLAN goes in and out untagged. */
	memset(dp->vlans, 0, sizeof(dp->vlans));
	if (c->tag != 0) {
		dp->access = 1;
		dp->pvid = c->tag;
		vsw_vlan_set(dp->vlans, c->tag);
	} else {
		dp->access = 0;
		dp->pvid = c->native;
		if (c->has_trunks)
			memcpy(dp->vlans, c->trunks, sizeof(dp->vlans));
		else
			for (v = 1; v <= VSW_VLAN_MAX; v++)
				vsw_vlan_set(dp->vlans, v);
		/* Untagged frames: the native VLAN, or VLAN 0 on a plain port. */
		if (c->native != 0 || !c->has_trunks)
			vsw_vlan_set(dp->vlans, c->native);
	}
	dp->is_protected = c->is_protected;
	dp->on_limit = c->on_limit;
	dp->n_allowed = c->n_allowed_macs;
	for (i = 0; i < c->n_allowed_macs; i++) {
		dp->allowed[i] = 0;
		memcpy(&dp->allowed[i], c->allowed_macs[i].addr_bytes, RTE_ETHER_ADDR_LEN);
	}
	/* Policer and storm buckets: each polling PMD gets an even share. */
	memset(q, 0, sizeof(*q));
	q->gen = p->qos_gen;
	if (c->police_bps != 0) {
		rate = c->police_bps / 8 / pollers;
		burst = c->police_burst != 0 ? c->police_burst : RTE_MAX(rate / 10, (uint64_t)10000);
		if (profile(&q->police_bytes, rate, burst / pollers) == 0)
			q->police |= 1;
	}
	if (c->police_pps != 0) {
		rate = RTE_MAX(c->police_pps / pollers, 1u);
		burst = c->police_burst_pkts != 0 ? c->police_burst_pkts :
			RTE_MAX(c->police_pps / 10, 32u);
		if (profile(&q->police_pkts, rate, RTE_MAX(burst / pollers, (uint64_t)1)) == 0)
			q->police |= 2;
	}
	for (i = 0; i < VSW_STORM_MAX; i++) {
		if (c->storm_pps[i] == 0)
			continue;
		rate = RTE_MAX(c->storm_pps[i] / pollers, 1u);
		/* Up to one second's worth at once. */
		if (profile(&q->storm[i], rate, rate) == 0)
			q->storm_on |= (uint8_t)(1u << i);
	}
	dp->feat = 0;
	if (dp->n_allowed != 0)
		dp->feat |= VSW_PF_ALLOWED_MACS;
	if (q->police != 0)
		dp->feat |= VSW_PF_POLICE;
	if (q->storm_on != 0)
		dp->feat |= VSW_PF_STORM;
	if (c->is_protected)
		dp->feat |= VSW_PF_PROTECTED;
	if (c->on_limit != VSW_ON_LIMIT_DROP)
		dp->feat |= VSW_PF_LIMIT_FWD;
}
