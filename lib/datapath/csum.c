/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Partial TCP/UDP checksums of guests that offload them.
 *
 * A guest that negotiated VIRTIO_NET_F_CSUM (Linux does) sends TCP and UDP
 * frames whose checksum field holds only the pseudo-header sum, with
 * VIRTIO_NET_HDR_F_NEEDS_CSUM; rte_vhost marks them RX_L4_CKSUM_NONE. vsw
 * keeps them partial as long as it can:
 *
 *  - on receive, vsw_csum_defer() records where the L4 header starts and
 *    marks the mbuf with vsw's own dynamic flag plus TX_{TCP,UDP}_CKSUM
 *    (what rte_vhost's enqueue turns back into NEEDS_CSUM);
 *  - a vhost-user output whose guest negotiated VIRTIO_NET_F_GUEST_CSUM
 *    gets the frame as it is: the receiving guest trusts it (local
 *    delivery) or completes it (forwarding), as it would for a frame
 *    from a local socket. Nobody sums the payload on the way;
 *  - any other output (a DPDK port, a guest without GUEST_CSUM), and a
 *    shared frame about to get a second VLAN form, first has the sum
 *    completed in software by vsw_csum_fill().
 *
 * Only mbufs carrying vsw's dynamic flag are touched: offload flags that
 * came in with an mbuf from a DPDK port (net_ring passes them through)
 * are not mistaken for a partial sum. All of this is cold code: it runs
 * only for frames with a partial sum.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vsw_dp.h"

uint64_t vsw_csum_partial;


int
vsw_csum_init(void)
{
	static const struct rte_mbuf_dynflag desc = { .name = "vsw_csum_partial" };
	int bit;

	if (vsw_csum_partial != 0)
		return 0;
	bit = rte_mbuf_dynflag_register(&desc);
	if (bit < 0)
		return -rte_errno;
	vsw_csum_partial = UINT64_C(1) << bit;
	return 0;
}

uint32_t
vsw_csum_l2_len(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t l2 = RTE_ETHER_HDR_LEN;

	/* 802.1Q and 802.1ad tags, as many as there are. */
	while (l2 + RTE_VLAN_HLEN <= m->data_len &&
	       ((d[l2 - 2] == 0x81 && d[l2 - 1] == 0x00) || (d[l2 - 2] == 0x88 && d[l2 - 1] == 0xa8)))
		l2 += RTE_VLAN_HLEN;
	return l2;
}

uint32_t
vsw_csum_hdr_len(const struct rte_mbuf *m)
{
	uint32_t l4 = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) ? m->l4_len :
		      (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM ?
		      sizeof(struct rte_tcp_hdr) : sizeof(struct rte_udp_hdr);

	return vsw_csum_l2_len(m) + m->l3_len + l4;
}

/* Where offset off of the frame is, when len bytes there are contiguous. */
static uint8_t *
frame_at(struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	if (m == NULL || off + len > m->data_len)
		return NULL;
	return rte_pktmbuf_mtod_offset(m, uint8_t *, off);
}

/*
 * Length of the L4 segment starting at start: what the IP header says
 * (a frame padded to 60 bytes carries bytes that are not summed), never
 * past the frame's end.
 */
static uint32_t
l4_len(struct rte_mbuf *m, uint32_t l2, uint32_t start, bool v4)
{
	uint32_t avail = m->pkt_len - start, ip_len;
	const uint8_t *ip = frame_at(m, l2, v4 ? sizeof(struct rte_ipv4_hdr) :
				     sizeof(struct rte_ipv6_hdr));
	rte_be16_t f;

	if (ip == NULL)
		return avail;
	if (v4) {
		memcpy(&f, ip + offsetof(struct rte_ipv4_hdr, total_length), sizeof(f));
		ip_len = rte_be_to_cpu_16(f);
	} else {
		memcpy(&f, ip + offsetof(struct rte_ipv6_hdr, payload_len), sizeof(f));
		ip_len = rte_be_to_cpu_16(f) + (uint32_t)sizeof(struct rte_ipv6_hdr);
	}
	if (ip_len < start - l2)
		return avail;
	return RTE_MIN(ip_len - (start - l2), avail);
}

void
vsw_csum_fill(struct rte_mbuf *m)
{
	const uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	const bool v4 = (m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0;
	uint32_t l2 = vsw_csum_l2_len(m), start = l2 + m->l3_len, field;
	uint16_t sum = 0;
	uint8_t *p;

	m->ol_flags &= ~(VSW_CSUM_TX_FLAGS | vsw_csum_partial);
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM)
		field = start + offsetof(struct rte_tcp_hdr, cksum);
	else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		field = start + offsetof(struct rte_udp_hdr, dgram_cksum);
	else
		return;
	if (start >= m->pkt_len)
		return;
	p = frame_at(m, field, sizeof(sum));
	if (p == NULL || rte_raw_cksum_mbuf(m, start, l4_len(m, l2, start, v4), &sum) != 0)
		return;
	/* The field holds the pseudo-header sum: summing over it completes it. */
	sum = (uint16_t)~sum;
	if (sum == 0 && l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		sum = 0xffff;	/* 0 means "no checksum" in UDP. */
	memcpy(p, &sum, sizeof(sum));
}

void
vsw_csum_defer(struct rte_mbuf *m)
{
	struct rte_net_hdr_lens hl;
	uint32_t ptype;
	uint64_t fl;

	m->ol_flags &= ~(RTE_MBUF_F_RX_L4_CKSUM_MASK | VSW_CSUM_TX_FLAGS);
	ptype = rte_net_get_ptype(m, &hl, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK |
				  RTE_PTYPE_L4_MASK);
	if ((ptype & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP)
		fl = RTE_MBUF_F_TX_TCP_CKSUM;
	else if ((ptype & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP)
		fl = RTE_MBUF_F_TX_UDP_CKSUM;
	else
		return;		/* rte_vhost completes the others itself. */
	fl |= RTE_ETH_IS_IPV4_HDR(ptype) ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
	m->l2_len = hl.l2_len;
	m->l3_len = hl.l3_len;
	/*
	 * A TSO frame (the guest negotiated VIRTIO_NET_F_HOST_TSO4/6, vswd
	 * --tso): rte_vhost gives it as LRO with the segment size.
	 */
	if ((m->ol_flags & RTE_MBUF_F_RX_LRO) && fl & RTE_MBUF_F_TX_TCP_CKSUM && m->tso_segsz != 0) {
		m->ol_flags &= ~RTE_MBUF_F_RX_LRO;
		fl |= RTE_MBUF_F_TX_TCP_SEG;
		m->l4_len = hl.l4_len;
	}
	m->ol_flags |= fl | vsw_csum_partial;
	if (vsw_csum_partial == 0)
		vsw_csum_fill(m);	/* No flag to carry it: complete it now. */
}

/*
 * TCP checksum of one IPv6 segment: the pseudo-header is built here, with
 * TCP as the next header and the segment's own L4 length, because the IPv6
 * header's next header and payload length also cover extension headers.
 */
static uint16_t
tcp6_cksum(const struct rte_ipv6_hdr *ip, const struct rte_tcp_hdr *th, uint32_t l4)
{
	const rte_be32_t ph[2] = { rte_cpu_to_be_32(l4), rte_cpu_to_be_32(IPPROTO_TCP) };
	uint32_t sum;

	sum = __rte_raw_cksum(ip->src_addr, sizeof(ip->src_addr) + sizeof(ip->dst_addr), 0);
	sum = __rte_raw_cksum(ph, sizeof(ph), sum);
	sum = __rte_raw_cksum(th, l4, sum);
	return (uint16_t)~__rte_raw_cksum_reduce(sum);
}

/*
 * TCP segmentation in software (cold): for a TSO frame from a guest that
 * goes to an output that cannot take it. Each segment is one new mbuf from
 * m's pool holding a copy of the headers and its slice of the payload,
 * with the IP length (and IPv4 id and header checksum), the TCP sequence
 * number and flags (FIN and PSH on the last segment only, CWR on the first
 * only) and a complete TCP checksum. It resumes at *pos (payload bytes
 * already cut), so any segment size works with a small out[].
 */
int
vsw_tso_segment(struct rte_mbuf *m, uint32_t max_len, uint32_t *pos, struct rte_mbuf **out,
		uint16_t n_out)
{
	const bool v4 = (m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0;
	const uint32_t l2 = vsw_csum_l2_len(m), hdr = l2 + m->l3_len + m->l4_len;
	/* A segment must fit the output's frame length and one mbuf. */
	const uint32_t cap = RTE_MIN(max_len, (uint32_t)rte_pktmbuf_data_room_size(m->pool) -
				     RTE_PKTMBUF_HEADROOM);
	uint32_t mss, off, len, i, seq0;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *s;
	const void *p;
	uint8_t *d, flags;
	uint16_t id0 = 0;

	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) || m->l4_len < sizeof(*th) ||
	    hdr >= m->pkt_len || hdr >= cap || m->tso_segsz == 0 ||
	    frame_at(m, l2, m->l3_len + m->l4_len) == NULL || *pos > m->pkt_len - hdr)
		return -EINVAL;
	if (*pos == m->pkt_len - hdr)
		return 0;
	if (n_out == 0)
		return -ENOSPC;
	mss = RTE_MIN((uint32_t)m->tso_segsz, cap - hdr);
	th = (struct rte_tcp_hdr *)frame_at(m, l2 + m->l3_len, sizeof(*th));
	seq0 = rte_be_to_cpu_32(th->sent_seq);
	flags = th->tcp_flags;
	if (v4)
		id0 = rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)frame_at(m, l2, 20))->packet_id);
	for (i = 0, off = hdr + *pos; i < n_out && off < m->pkt_len; i++, off += len) {
		len = RTE_MIN(mss, m->pkt_len - off);
		s = rte_pktmbuf_alloc(m->pool);
		d = s != NULL ? (uint8_t *)rte_pktmbuf_append(s, (uint16_t)(hdr + len)) : NULL;
		if (d == NULL) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free_bulk(out, i);
			return -ENOMEM;
		}
		/* Headers, then this segment's payload (m may be a chain). */
		p = rte_pktmbuf_read(m, 0, hdr, d);
		if (p != d)
			memcpy(d, p, hdr);
		p = rte_pktmbuf_read(m, off, len, d + hdr);
		if (p != d + hdr)
			memcpy(d + hdr, p, len);
		th = (struct rte_tcp_hdr *)(d + l2 + m->l3_len);
		th->sent_seq = rte_cpu_to_be_32(seq0 + (off - hdr));
		th->tcp_flags = flags &
				(uint8_t)~(off + len < m->pkt_len ? RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG
					   : 0) &
				(uint8_t)~(off > hdr ? RTE_TCP_CWR_FLAG : 0);
		th->cksum = 0;
		if (v4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + l2);

			ip->total_length = rte_cpu_to_be_16((uint16_t)(m->l3_len + m->l4_len + len));
			/* Every segment before the last is mss long. */
			ip->packet_id = rte_cpu_to_be_16((uint16_t)(id0 + (off - hdr) / mss));
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		} else {
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + l2);

			ip->payload_len = rte_cpu_to_be_16((uint16_t)(m->l3_len + m->l4_len + len -
								      sizeof(*ip)));
			th->cksum = tcp6_cksum(ip, th, m->l4_len + len);
		}
		s->port = m->port;
		out[i] = s;
	}
	*pos = off - hdr;
	return (int)i;
}
