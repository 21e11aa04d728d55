/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Partial checksums (lib/datapath/csum.c): a frame as a checksum-offloading
 * guest sends it (checksum field = pseudo-header sum, rte_vhost's
 * RX_L4_CKSUM_NONE) is marked by vsw_csum_defer() and completed by
 * vsw_csum_fill() to exactly the checksum DPDK computes over the whole
 * frame: IPv4 and IPv6, TCP and UDP, a tag pushed in between, Ethernet
 * padding, a header split across two mbufs; TSO frames cut into segments
 * (IPv4, IPv6 with an extension header, any segment size); both VLAN forms
 * of a shared partial or TSO frame.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vsw_dp.h"
#include "unit_eal.h"

static struct rte_mempool *pool;

/* An Ethernet + IPv4/IPv6 + TCP/UDP frame with payload bytes i * 7 + 3. */
static uint32_t
build(uint8_t *f, bool v6, bool tcp, uint32_t payload)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	uint32_t l3 = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint32_t l4 = tcp ? sizeof(struct rte_tcp_hdr) : sizeof(struct rte_udp_hdr);
	uint8_t *ip = f + sizeof(*eh), *th = ip + l3;
	uint32_t i;

	memset(f, 0, sizeof(*eh) + l3 + l4);
	memcpy(eh->dst_addr.addr_bytes, "\x52\x54\x00\x00\x00\x02", 6);
	memcpy(eh->src_addr.addr_bytes, "\x52\x54\x00\x00\x00\x01", 6);
	if (v6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		h->vtc_flow = rte_cpu_to_be_32(0x60000000);
		h->payload_len = rte_cpu_to_be_16((uint16_t)(l4 + payload));
		h->proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		h->hop_limits = 64;
		h->src_addr[0] = 0xfd;
		h->src_addr[15] = 1;
		h->dst_addr[0] = 0xfd;
		h->dst_addr[15] = 2;
	} else {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		h->version_ihl = 0x45;
		h->total_length = rte_cpu_to_be_16((uint16_t)(l3 + l4 + payload));
		h->time_to_live = 64;
		h->next_proto_id = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		h->src_addr = rte_cpu_to_be_32(0xc6120001);
		h->dst_addr = rte_cpu_to_be_32(0xc6120002);
		h->hdr_checksum = rte_ipv4_cksum(h);
	}
	if (tcp) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)th;

		t->src_port = rte_cpu_to_be_16(40000);
		t->dst_port = rte_cpu_to_be_16(5201);
		t->sent_seq = rte_cpu_to_be_32(0x01020304);
		t->data_off = 0x50;
		t->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
		t->rx_win = rte_cpu_to_be_16(512);
	} else {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)th;

		u->src_port = rte_cpu_to_be_16(40000);
		u->dst_port = rte_cpu_to_be_16(5201);
		u->dgram_len = rte_cpu_to_be_16((uint16_t)(l4 + payload));
	}
	for (i = 0; i < payload; i++)
		th[l4 + i] = (uint8_t)(i * 7 + 3);
	return (uint32_t)sizeof(*eh) + l3 + l4 + payload;
}

/* Offset of the checksum field; stores the full and the partial sums. */
static uint32_t
sums(uint8_t *f, bool v6, bool tcp, uint16_t *full, uint16_t *partial)
{
	uint8_t *ip = f + RTE_ETHER_HDR_LEN;
	uint32_t l3 = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint32_t off = RTE_ETHER_HDR_LEN + l3 +
		       (tcp ? offsetof(struct rte_tcp_hdr, cksum) :
			offsetof(struct rte_udp_hdr, dgram_cksum));

	memset(f + off, 0, 2);
	if (v6) {
		*full = rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)ip, ip + l3);
		*partial = rte_ipv6_phdr_cksum((struct rte_ipv6_hdr *)ip, 0);
	} else {
		*full = rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)ip, ip + l3);
		*partial = rte_ipv4_phdr_cksum((struct rte_ipv4_hdr *)ip, 0);
	}
	memcpy(f + off, partial, 2);
	return off;
}

static struct rte_mbuf *
mk(const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;	/* As rte_vhost marks it. */
	return m;
}

static uint16_t
field(const struct rte_mbuf *m, uint32_t off)
{
	const void *p;
	uint16_t v;

	p = rte_pktmbuf_read(m, off, sizeof(v), &v);
	assert_non_null(p);
	memcpy(&v, p, sizeof(v));
	return v;
}

static void
one(bool v6, bool tcp)
{
	uint8_t f[256];
	uint16_t full, partial;
	uint32_t len = build(f, v6, tcp, 101), off = sums(f, v6, tcp, &full, &partial);
	struct rte_mbuf *m = mk(f, len);

	vsw_csum_defer(m);
	assert_true(m->ol_flags & vsw_csum_partial);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK,
			 tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
	assert_true(m->ol_flags & (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4));
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, 0);
	assert_int_equal(m->l2_len, RTE_ETHER_HDR_LEN);
	assert_int_equal(m->l3_len, v6 ? 40 : 20);
	assert_int_equal(field(m, off), partial);	/* Deferred: not summed yet. */
	vsw_csum_fill(m);
	assert_int_equal(field(m, off), full);
	assert_int_equal(m->ol_flags & (vsw_csum_partial | RTE_MBUF_F_TX_L4_MASK), 0);
	rte_pktmbuf_free(m);
}

static void
tcp4(void **state)
{
	(void)state;
	one(false, true);
}

static void
udp4(void **state)
{
	(void)state;
	one(false, false);
}

static void
tcp6(void **state)
{
	(void)state;
	one(true, true);
}

static void
udp6(void **state)
{
	(void)state;
	one(true, false);
}

/* A tag pushed after the frame came in: the sum starts 4 bytes later. */
static void
tag_pushed_between(void **state)
{
	uint8_t f[256];
	uint16_t full, partial;
	uint32_t len = build(f, false, true, 64), off = sums(f, false, true, &full, &partial);
	struct rte_mbuf *m = mk(f, len);
	uint8_t *d;
	int i;

	(void)state;
	vsw_csum_defer(m);
	if (rte_pktmbuf_prepend(m, RTE_VLAN_HLEN) == NULL)
		fail();
	d = rte_pktmbuf_mtod(m, uint8_t *);
	for (i = 0; i < 2 * RTE_ETHER_ADDR_LEN; i++)
		d[i] = d[i + RTE_VLAN_HLEN];
	d[12] = 0x81;	/* 802.1Q, VLAN 10 */
	d[13] = 0x00;
	d[14] = 0x00;
	d[15] = 0x0a;
	assert_int_equal(vsw_csum_l2_len(m), 18);
	vsw_csum_fill(m);
	assert_int_equal(field(m, off + RTE_VLAN_HLEN), full);
	rte_pktmbuf_free(m);
}

/* Ethernet padding after a short UDP datagram is not summed. */
static void
padding_not_summed(void **state)
{
	uint8_t f[256];
	uint16_t full, partial;
	uint32_t len = build(f, false, false, 2), off = sums(f, false, false, &full, &partial);
	struct rte_mbuf *m;

	(void)state;
	assert_true(len < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	memset(f + len, 0xa5, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN - len);
	m = mk(f, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	vsw_csum_defer(m);
	vsw_csum_fill(m);
	assert_int_equal(field(m, off), full);
	rte_pktmbuf_free(m);
}

/* The checksum field in the second mbuf of a chain. */
static void
field_in_second_segment(void **state)
{
	uint8_t f[512];
	uint16_t full, partial;
	uint32_t len = build(f, false, true, 300), off = sums(f, false, true, &full, &partial);
	struct rte_mbuf *m = mk(f, 40), *m2 = rte_pktmbuf_alloc(pool);

	(void)state;
	assert_non_null(m2);
	memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - 40)), f + 40, len - 40);
	assert_int_equal(rte_pktmbuf_chain(m, m2), 0);
	vsw_csum_defer(m);
	assert_true(m->ol_flags & vsw_csum_partial);
	vsw_csum_fill(m);
	assert_int_equal(field(m, off), full);
	rte_pktmbuf_free(m);
}

/* A frame that is neither TCP nor UDP gets no marks. */
static void
other_protocols_unmarked(void **state)
{
	uint8_t f[256];
	uint32_t len = build(f, false, false, 20);
	struct rte_mbuf *m;

	(void)state;
	((struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN))->next_proto_id = IPPROTO_ICMP;
	m = mk(f, len);
	vsw_csum_defer(m);
	assert_int_equal(m->ol_flags & (vsw_csum_partial | RTE_MBUF_F_TX_L4_MASK |
					RTE_MBUF_F_RX_L4_CKSUM_MASK), 0);
	rte_pktmbuf_free(m);
}


/* A frame as a chain of mbufs of at most seg bytes each. */
static struct rte_mbuf *
mk_chain(const uint8_t *f, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *m = NULL, *t;
	uint32_t off, n;

	for (off = 0; off < len; off += n) {
		n = RTE_MIN(seg, len - off);
		t = rte_pktmbuf_alloc(pool);
		assert_non_null(t);
		memcpy(rte_pktmbuf_append(t, (uint16_t)n), f + off, n);
		if (m == NULL)
			m = t;
		else
			assert_int_equal(rte_pktmbuf_chain(m, t), 0);
	}
	return m;
}

/* Insert an 8-byte hop-by-hop options header after the IPv6 header. */
static uint32_t
add_hbh(uint8_t *f, uint32_t len)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f + RTE_ETHER_HDR_LEN);
	uint8_t *x = f + RTE_ETHER_HDR_LEN + sizeof(*ip);
	static const uint8_t hbh[8] = { IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0 };	/* PadN */

	memmove(x + sizeof(hbh), x, len - RTE_ETHER_HDR_LEN - sizeof(*ip));
	memcpy(x, hbh, sizeof(hbh));
	ip->proto = IPPROTO_HOPOPTS;
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->payload_len) +
						      sizeof(hbh)));
	return len + (uint32_t)sizeof(hbh);
}

/* A TSO frame (rte_vhost: LRO with the guest's segment size) as a chain. */
static struct rte_mbuf *
mk_tso(uint8_t *f, uint32_t *len, bool v6, bool ext, uint32_t payload, uint16_t segsz)
{
	struct rte_mbuf *m;

	*len = build(f, v6, true, payload);
	((struct rte_tcp_hdr *)(f + RTE_ETHER_HDR_LEN + (v6 ? 40 : 20)))->tcp_flags =
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_CWR_FLAG;
	if (ext)
		*len = add_hbh(f, *len);
	m = mk_chain(f, *len, 1500);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_LRO;
	m->tso_segsz = segsz;
	vsw_csum_defer(m);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	assert_int_equal(m->l4_len, 20);
	assert_int_equal(m->l3_len, v6 ? (ext ? 48 : 40) : 20);
	return m;
}

/* Cut m with room for chunk segments per call, as tx_gso() does. */
static int
cut_all(struct rte_mbuf *m, uint32_t max_len, uint16_t chunk, struct rte_mbuf **out, int max)
{
	uint32_t pos = 0;
	int n = 0, r;

	do {
		r = vsw_tso_segment(m, max_len, &pos, &out[n], (uint16_t)RTE_MIN(chunk, max - n));
		assert_true(r >= 0);
		n += r;
	} while (r > 0);
	return n;
}

/*
 * Segments of the payload f_payload (plen_all bytes) behind l2 bytes of
 * Ethernet header: each a valid TCP segment of its own, in sequence, the
 * payload comes back whole, FIN/PSH on the last one only, CWR on the first
 * only, IPv4 ids counting up. Frees them.
 */
static void
check_segs(struct rte_mbuf **out, int n, bool v6, bool ext, uint32_t l2, uint32_t max_len,
	   uint32_t want_mss, const uint8_t *f_payload, uint32_t plen_all)
{
	static uint8_t got[70000];
	uint32_t l3 = v6 ? (ext ? 48 : 40) : 20, hdr = l2 + l3 + 20, off = 0, seq;
	struct rte_tcp_hdr *th;
	int i;

	assert_int_equal(n, (plen_all + want_mss - 1) / want_mss);
	for (i = 0; i < n; i++) {
		uint8_t *d = rte_pktmbuf_mtod(out[i], uint8_t *);
		uint32_t plen = out[i]->pkt_len - hdr;

		assert_int_equal(out[i]->nb_segs, 1);
		assert_true(out[i]->pkt_len <= max_len);
		assert_int_equal(plen, RTE_MIN(want_mss, plen_all - off));
		th = (struct rte_tcp_hdr *)(d + l2 + l3);
		seq = rte_be_to_cpu_32(th->sent_seq);
		assert_int_equal(seq, 0x01020304 + off);
		assert_int_equal(th->tcp_flags & (RTE_TCP_PSH_FLAG | RTE_TCP_FIN_FLAG),
				 i + 1 == n ? RTE_TCP_PSH_FLAG | RTE_TCP_FIN_FLAG : 0);
		assert_int_equal(th->tcp_flags & RTE_TCP_CWR_FLAG, i == 0 ? RTE_TCP_CWR_FLAG : 0);
		if (v6 && ext) {
			/* Checked against the same segment without the extension header. */
			static uint8_t x[2048];
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(x + l2);

			memcpy(x, d, l2 + 40);
			memcpy(x + l2 + 40, d + l2 + 48, out[i]->pkt_len - l2 - 48);
			assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 8 + 20 + plen);
			ip->payload_len = rte_cpu_to_be_16((uint16_t)(20 + plen));
			ip->proto = IPPROTO_TCP;
			assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, x + l2 + 40), 0);
		} else if (v6) {
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + l2);

			assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 20 + plen);
			assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, th), 0);
		} else {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + l2);

			assert_int_equal(rte_be_to_cpu_16(ip->total_length), 40 + plen);
			assert_int_equal(rte_be_to_cpu_16(ip->packet_id), i);
			assert_int_equal(rte_ipv4_cksum(ip), 0);
			assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, th), 0);
		}
		memcpy(got + off, d + hdr, plen);
		off += plen;
		rte_pktmbuf_free(out[i]);
	}
	assert_int_equal(off, plen_all);
	assert_memory_equal(got, f_payload, plen_all);
}

/* 5000 payload bytes cut for an output of max_len, chunk segments per call. */
static void
tso_cut(bool v6, bool ext, uint16_t segsz, uint32_t max_len, uint32_t want_mss, uint16_t chunk)
{
	static uint8_t f[6000];
	struct rte_mbuf *m, *out[64];
	uint32_t len, hdr = RTE_ETHER_HDR_LEN + (v6 ? (ext ? 48 : 40) : 20) + 20;
	int n;

	m = mk_tso(f, &len, v6, ext, 5000, segsz);
	n = cut_all(m, max_len, chunk, out, RTE_DIM(out));
	check_segs(out, n, v6, ext, RTE_ETHER_HDR_LEN, max_len, want_mss, f + hdr, 5000);
	rte_pktmbuf_free(m);
}

static void
tso_cut_v4(void **state)
{
	(void)state;
	tso_cut(false, false, 1448, 1514, 1448, 16);
}

/* The output's frame length is below the guest's segment size. */
static void
tso_cut_v6_small_port(void **state)
{
	(void)state;
	tso_cut(true, false, 1440, 1000, 1000 - 74, 16);
}

/* IPv6 with a hop-by-hop header: the pseudo-header still names TCP. */
static void
tso_cut_v6_ext(void **state)
{
	(void)state;
	tso_cut(true, true, 1000, 1514, 1000, 4);
}

/* A small segment size: 50 segments made a few at a time. */
static void
tso_cut_resumes(void **state)
{
	(void)state;
	tso_cut(false, false, 100, 1514, 100, 3);
}

/* No room, or a position past the end: refused, nothing allocated. */
static void
tso_cut_no_room(void **state)
{
	static uint8_t f[6000];
	uint32_t len, pos = 0;
	struct rte_mbuf *m = mk_tso(f, &len, false, false, 5000, 1000), *out[2];
	unsigned int before = rte_mempool_in_use_count(pool);

	(void)state;
	assert_int_equal(vsw_tso_segment(m, 1514, &pos, out, 0), -ENOSPC);
	pos = 5001;
	assert_int_equal(vsw_tso_segment(m, 1514, &pos, out, RTE_DIM(out)), -EINVAL);
	pos = 5000;
	assert_int_equal(vsw_tso_segment(m, 1514, &pos, out, RTE_DIM(out)), 0);
	assert_int_equal(rte_mempool_in_use_count(pool), before);
	rte_pktmbuf_free(m);
}

/*
 * A flooded frame with a partial sum gets a second VLAN form: each form
 * keeps its own partial sum, and completing one leaves the other as it was.
 */
static void
vlan_copy_keeps_partial(void **state)
{
	uint8_t f[512];
	uint16_t full, partial;
	uint32_t len = build(f, false, true, 300), off = sums(f, false, true, &full, &partial);
	struct rte_mbuf *m = mk(f, len), *h;

	(void)state;
	vsw_csum_defer(m);
	rte_mbuf_refcnt_update(m, 1);	/* Shared: another port holds it too. */
	h = vsw_dp_vlan_copy(m, true, 10);
	assert_non_null(h);
	assert_true(h->ol_flags & vsw_csum_partial);
	assert_int_equal(vsw_csum_l2_len(h), 18);
	assert_int_equal(h->pkt_len, len + RTE_VLAN_HLEN);
	vsw_csum_fill(h);
	assert_int_equal(field(h, off + RTE_VLAN_HLEN), full);
	assert_true(m->ol_flags & vsw_csum_partial);
	assert_int_equal(field(m, off), partial);
	vsw_csum_fill(m);
	assert_int_equal(field(m, off), full);
	rte_pktmbuf_free(h);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(m);
}

/*
 * A shared TSO frame tagged (push) and untagged again (pop) by
 * vsw_dp_vlan_copy(): both forms stay TSO frames and cut into the same
 * valid segments, the tagged ones with the tag.
 */
static void
vlan_copy_keeps_tso(void **state)
{
	static uint8_t f[6000];
	struct rte_mbuf *m, *h, *h2, *out[16];
	uint32_t len, hdr = RTE_ETHER_HDR_LEN + 20 + 20;
	int n, i;

	(void)state;
	m = mk_tso(f, &len, false, false, 5000, 1448);
	rte_mbuf_refcnt_update(m, 1);
	h = vsw_dp_vlan_copy(m, true, 10);
	assert_non_null(h);
	assert_true(h->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	assert_int_equal(h->tso_segsz, 1448);
	rte_mbuf_refcnt_update(h, 1);
	h2 = vsw_dp_vlan_copy(h, false, 0);
	assert_non_null(h2);
	assert_int_equal(h2->pkt_len, len);
	n = cut_all(h, 1518, 4, out, RTE_DIM(out));
	for (i = 0; i < n; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(out[i], const uint8_t *);

		assert_int_equal(d[12], 0x81);
		assert_int_equal(d[15], 10);
	}
	check_segs(out, n, false, false, RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN, 1518, 1448, f + hdr,
		   5000);
	n = cut_all(h2, 1514, 4, out, RTE_DIM(out));
	check_segs(out, n, false, false, RTE_ETHER_HDR_LEN, 1514, 1448, f + hdr, 5000);
	rte_pktmbuf_free(h2);
	rte_pktmbuf_free(h);
	rte_pktmbuf_free(h);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(m);
}

static int
setup(void **state)
{
	(void)state;
	if (unit_eal_init("csum") != 0)
		return -1;
	if (vsw_csum_init() != 0 || vsw_csum_partial == 0) {
		print_error("vsw_csum_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	pool = rte_pktmbuf_pool_create("csum", 127, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (pool == NULL) {
		print_error("pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	rte_mempool_free(pool);
	unit_eal_fini();
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp4),
		cmocka_unit_test(udp4),
		cmocka_unit_test(tcp6),
		cmocka_unit_test(udp6),
		cmocka_unit_test(tag_pushed_between),
		cmocka_unit_test(padding_not_summed),
		cmocka_unit_test(field_in_second_segment),
		cmocka_unit_test(other_protocols_unmarked),
		cmocka_unit_test(tso_cut_v4),
		cmocka_unit_test(tso_cut_v6_small_port),
		cmocka_unit_test(tso_cut_v6_ext),
		cmocka_unit_test(tso_cut_resumes),
		cmocka_unit_test(tso_cut_no_room),
		cmocka_unit_test(vlan_copy_keeps_partial),
		cmocka_unit_test(vlan_copy_keeps_tso),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
