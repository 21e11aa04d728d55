/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vsw-vhostgen: a vhost-user traffic generator that drives many ports from
 * one core.
 *
 * The benchmark's generator is dpdk-testpmd with net_virtio_user ports. One
 * testpmd holds at most RTE_MAX_ETHPORTS (32 in Debian's DPDK) ports, so a
 * 64-port run needs two testpmd processes sharing the generator core, and
 * those cannot offer more than about 3.6-3.9 Mpps over 64 ports: the
 * generator, not the switch, sets the figure. vsw-vhostgen is the guest
 * side of N vhost-user ports in one process with no ethdev layer: it speaks
 * the vhost-user protocol on each port's unix socket, shares its memory
 * (one memfd per pair of ports, on 2 MB hugepages when it can) and drives
 * the split virtqueues itself, polling all of them in one loop.
 *
 * Ports pair up (0-1, 2-3, ...); port i's MAC is 52:54:00:00:HH:LL with
 * HHLL = i + 1 (as bench.py's gen_mac). `start N` sends one frame from
 * every port (so that the switch learns every MAC; what it floods before
 * then is dropped here), then puts N bursts of 32 frames on every port's
 * transmit queue, from its MAC to its partner's. From then on every
 * received frame is sent on:
 *   --fwd io   (default) unchanged from the partner port: the frame port i
 *              received came from its partner, and goes back into the
 *              switch from that partner. The pair shares memory, so the
 *              buffer is passed by descriptor and its bytes are never read
 *              or written by the generator.
 *   --fwd mac  from the port that received it, with its source and
 *              destination MACs rewritten (testpmd's mac forwarding mode).
 *
 * Commands, one per line on stdin (each answered by one JSON line on
 * stdout): `start N`, `stop` (stop forwarding: frames still in flight are
 * received and dropped), `stats`, `quit`. The first line on stdout is
 * {"ready": N_PORTS, ...} once every port is set up.
 *
 * stats: rx, tx, drop (frames received while the partner's transmit queue
 * was full), port_rx (frames received, per port), kicks (eventfd writes the device asked for), busy_cycles and
 * cycles (TSC cycles of loop iterations that moved a frame, and of all),
 * tsc_hz, ns (CLOCK_MONOTONIC).
 *
 * --server: listen on each SOCKET and wait for the switch to connect (as
 * OVS's dpdkvhostuserclient ports do); by default connect to it.
 *
 * Usage: vsw-vhostgen [--size BYTES] [--queue-size N] [--fwd io|mac]
 *                     [--server] [--timeout S] SOCKET...
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/memfd.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

/* vhost-user requests (the subset a front-end needs to start a device). */
enum {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
};
#define VHU_VERSION 0x1u
#define F_VERSION_1 (1ull << 32)

#define D_WRITE 2u			/* VRING_DESC_F_WRITE */
#define AVAIL_NO_INTERRUPT 1u
#define USED_NO_NOTIFY 1u

#define HDR_LEN 12u			/* virtio_net_hdr with VERSION_1 */
#define BUF_SIZE 2048u
#define BURST 32u
#define RING_STRIDE (128u << 10)	/* one vring's desc/avail/used, Q <= 4096 */
#define HUGE (2u << 20)
#define QSIZE_MAX 4096u

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct used_elem {
	uint32_t id;
	uint32_t len;
};

/* One virtqueue, driver side. */
struct vq {
	struct desc *desc;
	uint16_t *avail;		/* flags, idx, ring[size] */
	uint16_t *used;			/* flags, idx, then used_elem[size] */
	uint16_t size;
	uint16_t avail_idx;		/* next avail index (ours) */
	uint16_t used_seen;		/* used entries taken */
	uint16_t nfree;
	uint16_t free[QSIZE_MAX];	/* free descriptor ids */
	int kick;
	int call;
};

/* Memory shared by the two ports of a pair, and its free buffers. */
struct pair {
	int fd;
	uint8_t *base;			/* guest physical address 0 */
	size_t len;
	uint64_t *pool;			/* free buffers (guest addresses) */
	uint32_t npool;
};

struct port {
	int sock;
	struct vq q[2];			/* 0: receive (device writes), 1: transmit */
	struct pair *pair;
	uint8_t mac[6];
	uint8_t peer[6];
	uint64_t rx, tx, drop;
	uint64_t rx0;			/* rx when `start` began */
};

static struct port *ports;
static unsigned int n_ports;
static uint32_t frame_size = 64;
static uint16_t qsize = 256;
static bool fwd_mac;
static bool running;			/* forwarding (after start, until stop) */
static uint64_t kicks, bad;
static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static struct used_elem *
used_ring(const struct vq *q)
{
	return (struct used_elem *)(void *)(q->used + 2);
}

static void
port_mac(uint8_t *m, unsigned int i)
{
	m[0] = 0x52;
	m[1] = 0x54;
	m[2] = 0;
	m[3] = 0;
	m[4] = (uint8_t)((i + 1) >> 8);
	m[5] = (uint8_t)(i + 1);
}

/* ------------------------------------------------------------ protocol */

static int
vhu_send(int sock, uint32_t req, const void *payload, uint32_t size, const int *fd)
{
	uint8_t buf[12 + 8 + 8 * 32];
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	uint32_t hdr[3] = { req, VHU_VERSION, size };

	if (size > sizeof(buf) - sizeof(hdr))
		return -1;
	memcpy(buf, hdr, sizeof(hdr));
	if (size > 0 && payload != NULL)
		memcpy(buf + sizeof(hdr), payload, size);
	iov.iov_base = buf;
	iov.iov_len = sizeof(hdr) + size;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != NULL) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

static int
recv_all(int sock, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(sock, (uint8_t *)p + got, n - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* GET_FEATURES: the back-end answers after it has handled every message
 * before it, so this is also the barrier that ends the set-up. */
static int
get_features(int sock, uint64_t *f)
{
	uint32_t hdr[3];

	if (vhu_send(sock, VHU_GET_FEATURES, NULL, 0, NULL) != 0 ||
	    recv_all(sock, hdr, sizeof(hdr)) != 0 || hdr[0] != VHU_GET_FEATURES ||
	    hdr[2] != sizeof(*f) || recv_all(sock, f, sizeof(*f)) != 0)
		return -1;
	return 0;
}

static int
connect_to(const char *path, double timeout)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int tries = (int)(timeout * 20) + 1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vsw-vhostgen: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	while (tries-- > 0) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s < 0)
			return -1;
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return s;
		close(s);
		if (errno != ENOENT && errno != ECONNREFUSED)
			break;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "vsw-vhostgen: cannot connect to %s: %s\n", path, strerror(errno));
	return -1;
}

/* --server: listen on path (the switch connects as a vhost-user client). */
static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vsw-vhostgen: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, 1) != 0) {
		fprintf(stderr, "vsw-vhostgen: cannot listen on %s: %s\n", path, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static int
accept_on(int ls, const char *path, double timeout)
{
	struct pollfd pf = { .fd = ls, .events = POLLIN };
	int s;

	if (poll(&pf, 1, (int)(timeout * 1000)) != 1) {
		fprintf(stderr, "vsw-vhostgen: no back-end connected to %s in %.0f s\n", path,
			timeout);
		return -1;
	}
	s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	close(ls);
	unlink(path);
	return s;
}

/* ------------------------------------------------------------- memory */

static int
pair_init(struct pair *pr, bool *huge)
{
	/* Rings of both ports, then every buffer either port can hold:
	 * both receive rings full, both transmit rings full, and a burst. */
	uint32_t nbuf = 4u * qsize + 2 * BURST;
	size_t len = 4 * RING_STRIDE + (size_t)nbuf * BUF_SIZE;
	uint32_t k;

	len = (len + HUGE - 1) & ~(size_t)(HUGE - 1);
	pr->fd = memfd_create("vsw-vhostgen", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (pr->fd < 0 || ftruncate(pr->fd, (off_t)len) != 0) {
		if (pr->fd >= 0)
			close(pr->fd);
		*huge = false;
		pr->fd = memfd_create("vsw-vhostgen", MFD_CLOEXEC);
		if (pr->fd < 0 || ftruncate(pr->fd, (off_t)len) != 0)
			return -1;
	}
	pr->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, pr->fd, 0);
	if (pr->base == MAP_FAILED) {
		if (*huge) {
			/* Not enough hugepages for the size: ordinary pages. */
			close(pr->fd);
			*huge = false;
			pr->fd = memfd_create("vsw-vhostgen", MFD_CLOEXEC);
			if (pr->fd < 0 || ftruncate(pr->fd, (off_t)len) != 0)
				return -1;
			pr->base = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_POPULATE, pr->fd, 0);
		}
		if (pr->base == MAP_FAILED)
			return -1;
	}
	pr->len = len;
	pr->pool = calloc(nbuf, sizeof(*pr->pool));
	if (pr->pool == NULL)
		return -1;
	for (k = 0; k < nbuf; k++)
		pr->pool[k] = 4 * RING_STRIDE + (uint64_t)k * BUF_SIZE;
	pr->npool = nbuf;
	return 0;
}

static int
vq_init(struct vq *q, struct pair *pr, unsigned int slot)
{
	uint8_t *r = pr->base + (size_t)slot * RING_STRIDE;
	const uint16_t n = qsize;
	uint16_t k;

	if (n == 0)
		return -1;
	q->size = n;
	q->desc = (struct desc *)(void *)r;
	q->avail = (uint16_t *)(void *)(r + 16u * n);
	q->used = (uint16_t *)(void *)(r + ((16u * n + 2u * n + 6 + 4095) & ~4095u));
	q->avail[0] = AVAIL_NO_INTERRUPT;	/* we poll: no interrupts */
	q->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	q->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->kick < 0 || q->call < 0)
		return -1;
	for (k = 0; k < n; k++)
		q->free[k] = k;
	q->nfree = n;
	return 0;
}

static int
port_setup(struct port *pt, const char *path, int listener, double timeout)
{
	struct pair *pr = pt->pair;
	uint64_t feat;
	unsigned int i;
	struct {
		uint32_t n, pad;
		uint64_t gpa, size, uaddr, off;
	} mem = { 1, 0, 0, pr->len, (uint64_t)(uintptr_t)pr->base, 0 };

	pt->sock = listener >= 0 ? accept_on(listener, path, timeout) : connect_to(path, timeout);
	if (pt->sock < 0)
		return -1;
	if (get_features(pt->sock, &feat) != 0 || !(feat & F_VERSION_1)) {
		fprintf(stderr, "vsw-vhostgen: %s: no VIRTIO_F_VERSION_1 offered\n", path);
		return -1;
	}
	feat = F_VERSION_1;
	if (vhu_send(pt->sock, VHU_SET_OWNER, NULL, 0, NULL) != 0 ||
	    vhu_send(pt->sock, VHU_SET_FEATURES, &feat, sizeof(feat), NULL) != 0 ||
	    vhu_send(pt->sock, VHU_SET_MEM_TABLE, &mem, sizeof(mem), &pr->fd) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		struct vq *q = &pt->q[i];
		uint32_t num[2] = { i, q->size };
		uint32_t base[2] = { i, 0 };
		uint64_t idx = i;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr = { i, 0, (uint64_t)(uintptr_t)q->desc, (uint64_t)(uintptr_t)q->used,
			   (uint64_t)(uintptr_t)q->avail, 0 };

		if (vhu_send(pt->sock, VHU_SET_VRING_NUM, num, sizeof(num), NULL) != 0 ||
		    vhu_send(pt->sock, VHU_SET_VRING_ADDR, &addr, sizeof(addr), NULL) != 0 ||
		    vhu_send(pt->sock, VHU_SET_VRING_BASE, base, sizeof(base), NULL) != 0 ||
		    vhu_send(pt->sock, VHU_SET_VRING_KICK, &idx, sizeof(idx), &q->kick) != 0 ||
		    vhu_send(pt->sock, VHU_SET_VRING_CALL, &idx, sizeof(idx), &q->call) != 0)
			return -1;
	}
	if (get_features(pt->sock, &feat) != 0) {
		fprintf(stderr, "vsw-vhostgen: %s: the back-end closed the connection during "
			"set-up\n", path);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- fast path */

/* Publish q's new avail index; kick if the device asked for kicks. */
static void
publish(struct vq *q)
{
	__atomic_store_n(&q->avail[1], q->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->used[0], __ATOMIC_RELAXED) & USED_NO_NOTIFY)) {
		uint64_t one = 1;

		if (write(q->kick, &one, sizeof(one)) == sizeof(one))
			kicks++;
	}
}

/* Take up to max used entries of q: their buffers' addresses and lengths.
 * The buffer's address is read back from our own descriptor (the device never
 * writes descriptors of a split ring). */
static unsigned int
take_used(struct vq *q, uint64_t *addr, uint32_t *len, unsigned int max)
{
	uint16_t u = __atomic_load_n(&q->used[1], __ATOMIC_ACQUIRE);
	const struct used_elem *ue = used_ring(q);
	unsigned int n = 0;

	while (q->used_seen != u && n < max) {
		struct used_elem e = ue[q->used_seen & (q->size - 1)];

		q->used_seen++;
		if (e.id >= q->size) {
			bad++;
			continue;
		}
		addr[n] = q->desc[e.id].addr;
		len[n] = e.len;
		q->free[q->nfree++] = (uint16_t)e.id;
		n++;
	}
	return n;
}

static void
post(struct vq *q, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t id = q->free[--q->nfree];

	q->desc[id].addr = addr;
	q->desc[id].len = len;
	q->desc[id].flags = flags;
	q->desc[id].next = 0;
	q->avail[2 + (q->avail_idx & (q->size - 1))] = id;
	q->avail_idx++;
}

static bool
poll_port(struct port *pt)
{
	struct pair *pr = pt->pair;
	uint64_t addr[BURST];
	uint32_t len[BURST];
	unsigned int n, k;
	bool work = false;
	struct port *out;

	/* Transmit completions: the buffers are free again. */
	n = take_used(&pt->q[1], addr, len, BURST);
	for (k = 0; k < n; k++)
		pr->pool[pr->npool++] = addr[k];
	work = n > 0;

	/* Received frames: on to the transmit queue. */
	n = take_used(&pt->q[0], addr, len, BURST);
	if (n > 0) {
		struct vq *tq;
		unsigned int sent = 0;

		work = true;
		pt->rx += n;
		out = fwd_mac ? pt : &ports[(pt - ports) ^ 1];
		tq = &out->q[1];
		for (k = 0; k < n; k++) {
			if (!running || tq->nfree == 0 || len[k] < HDR_LEN + 14 ||
			    len[k] > BUF_SIZE) {
				if (running)
					pt->drop++;
				pr->pool[pr->npool++] = addr[k];
				continue;
			}
			if (fwd_mac) {
				uint8_t *f = pr->base + addr[k] + HDR_LEN;

				memcpy(f, out->peer, 6);
				memcpy(f + 6, out->mac, 6);
			}
			post(tq, addr[k], len[k], 0);
			sent++;
		}
		if (sent > 0) {
			out->tx += sent;
			publish(tq);
		}
	}

	/* Receive buffers back to the device, a burst at a time. */
	if (pt->q[0].nfree >= BURST && pr->npool > 0) {
		struct vq *rq = &pt->q[0];

		n = rq->nfree < pr->npool ? rq->nfree : pr->npool;
		for (k = 0; k < n; k++)
			post(rq, pr->pool[--pr->npool], BUF_SIZE, D_WRITE);
		publish(rq);
		work = true;
	}
	return work;
}

/* n frames from port p to its partner on p's transmit queue. */
static void
tx_frames(unsigned int p, unsigned int n)
{
	struct port *pt = &ports[p];
	struct pair *pr = pt->pair;
	struct vq *tq = &pt->q[1];
	unsigned int k;

	for (k = 0; k < n && tq->nfree > 0 && pr->npool > 0; k++) {
		uint64_t a = pr->pool[--pr->npool];
		uint8_t *f = pr->base + a;

		memset(f, 0, HDR_LEN);
		f += HDR_LEN;
		memcpy(f, pt->peer, 6);
		memcpy(f + 6, pt->mac, 6);
		f[12] = 0x08;			/* IPv4 */
		f[13] = 0x00;
		memset(f + 14, 0, frame_size - 14);
		f[14] = 0x45;			/* version 4, 20-byte header */
		f[16] = (uint8_t)((frame_size - 14) >> 8);
		f[17] = (uint8_t)(frame_size - 14);
		f[22] = 64;			/* TTL */
		f[23] = 17;			/* UDP */
		f[26] = 198;			/* 198.18.0.0/15: benchmarks */
		f[27] = 18;
		f[28] = (uint8_t)(p >> 8);
		f[29] = (uint8_t)(p + 1);
		f[30] = 198;
		f[31] = 18;
		f[32] = (uint8_t)((p ^ 1) >> 8);
		f[33] = (uint8_t)((p ^ 1) + 1);
		post(tq, a, HDR_LEN + frame_size, 0);
		pt->tx++;
	}
	if (k > 0)
		publish(tq);
}

static void
poll_for(uint64_t cycles)
{
	uint64_t end = __rdtsc() + cycles;
	unsigned int p;

	while (__rdtsc() < end && !quit)
		for (p = 0; p < n_ports; p++)
			poll_port(&ports[p]);
}

/* `start N`. First one frame from every port, with forwarding off, so that
 * a learning switch knows every MAC: the copies it floods before then are
 * received and dropped here. (With --fwd io a flooded copy sent on from
 * the partner port would look to the switch like its source MAC moving.)
 * Once every port has received a frame, every port's first frame has been
 * through the switch; 20 ms more for flooded copies still on their way.
 * Then N bursts of 32 frames on every port. */
static void
start(unsigned int bursts, uint64_t hz)
{
	uint64_t end = __rdtsc() + 5 * hz;
	unsigned int p, waiting;

	running = false;
	for (p = 0; p < n_ports; p++) {
		ports[p].rx0 = ports[p].rx;
		tx_frames(p, 1);
	}
	do {
		waiting = 0;
		for (p = 0; p < n_ports; p++) {
			poll_port(&ports[p]);
			waiting += ports[p].rx == ports[p].rx0;
		}
	} while (waiting != 0 && __rdtsc() < end && !quit);
	if (waiting != 0)
		fprintf(stderr, "vsw-vhostgen: %u ports received nothing in 5 s of learning\n",
			waiting);
	poll_for(hz / 50);
	running = true;
	for (p = 0; p < n_ports; p++)
		tx_frames(p, bursts * BURST);
}

/* --------------------------------------------------------------- main */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
tsc_hz(void)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc();
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	return (uint64_t)((double)(__rdtsc() - c0) * 1e9 / (double)(now_ns() - t0));
}

static void
print_stats(uint64_t busy, uint64_t cycles, uint64_t hz)
{
	uint64_t rx = 0, tx = 0, drop = 0;
	unsigned int p;

	for (p = 0; p < n_ports; p++) {
		rx += ports[p].rx;
		tx += ports[p].tx;
		drop += ports[p].drop;
	}
	printf("{\"rx\": %" PRIu64 ", \"tx\": %" PRIu64 ", \"drop\": %" PRIu64
	       ", \"kicks\": %" PRIu64 ", \"bad_used\": %" PRIu64 ", \"busy_cycles\": %" PRIu64
	       ", \"cycles\": %" PRIu64 ", \"tsc_hz\": %" PRIu64 ", \"ns\": %" PRIu64
	       ", \"port_rx\": [",
	       rx, tx, drop, kicks, bad, busy, cycles, hz, now_ns());
	for (p = 0; p < n_ports; p++)
		printf("%s%" PRIu64, p ? ", " : "", ports[p].rx);
	printf("]}\n");
	fflush(stdout);
}

/* One command from stdin; false on quit or end of input. */
static bool
command(uint64_t busy, uint64_t cycles, uint64_t hz)
{
	static char line[256];
	static size_t have;
	ssize_t r = read(0, line + have, sizeof(line) - 1 - have);
	char *nl;

	if (r <= 0)
		return r < 0 && errno == EAGAIN;
	have += (size_t)r;
	line[have] = '\0';
	while ((nl = strchr(line, '\n')) != NULL) {
		unsigned int n;

		*nl = '\0';
		if (sscanf(line, "start %u", &n) == 1) {
			start(n, hz);
			printf("{\"started\": %u}\n", n);
		} else if (strcmp(line, "stop") == 0) {
			running = false;
			printf("{\"stopped\": true}\n");
		} else if (strcmp(line, "stats") == 0) {
			print_stats(busy, cycles, hz);
		} else if (strcmp(line, "quit") == 0) {
			return false;
		} else if (line[0] != '\0') {
			printf("{\"error\": \"unknown command\"}\n");
		}
		fflush(stdout);
		have -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, have + 1);
	}
	if (have == sizeof(line) - 1)
		have = 0;			/* an overlong line: dropped */
	return true;
}

/* stdin or a back-end socket has something: false to stop. */
static bool
check_control(struct pollfd *pf, uint64_t busy, uint64_t cycles, uint64_t hz)
{
	unsigned int p;

	if (poll(pf, n_ports + 1, 0) <= 0)
		return true;
	for (p = 0; p < n_ports; p++) {
		if (pf[p + 1].revents != 0) {
			fprintf(stderr, "vsw-vhostgen: port %u: the back-end closed the "
				"connection\n", p);
			print_stats(busy, cycles, hz);
			return false;
		}
	}
	if (pf[0].revents != 0)
		return command(busy, cycles, hz);
	return true;
}

static void
usage(void)
{
	fprintf(stderr, "usage: vsw-vhostgen [--size BYTES] [--queue-size N] [--fwd io|mac] "
		"[--server] [--timeout S] SOCKET...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "queue-size", required_argument, NULL, 'q' },
		{ "fwd", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "server", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	double timeout = 30;
	struct pair *pairs;
	struct pollfd *pf;
	uint64_t hz, busy = 0, start, next_check;
	bool huge = true, server = false;
	int *listener, rc = 1;
	unsigned int p;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			frame_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'q':
			qsize = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 'f':
			if (strcmp(optarg, "mac") == 0)
				fwd_mac = true;
			else if (strcmp(optarg, "io") != 0)
				usage();
			break;
		case 't':
			timeout = strtod(optarg, NULL);
			break;
		case 'S':
			server = true;
			break;
		default:
			usage();
		}
	}
	n_ports = (unsigned int)(argc - optind);
	if (n_ports == 0 || n_ports % 2 != 0) {
		fprintf(stderr, "vsw-vhostgen: an even number of sockets (ports pair up)\n");
		usage();
	}
	if (frame_size < 60 || frame_size > BUF_SIZE - HDR_LEN) {
		fprintf(stderr, "vsw-vhostgen: --size must be 60..%u\n", BUF_SIZE - HDR_LEN);
		return 2;
	}
	if (qsize < 2 * BURST || qsize > QSIZE_MAX || (qsize & (qsize - 1)) != 0) {
		fprintf(stderr, "vsw-vhostgen: --queue-size must be a power of 2 in 64..4096\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	ports = calloc(n_ports, sizeof(*ports));
	pairs = calloc(n_ports / 2, sizeof(*pairs));
	pf = calloc(n_ports + 1, sizeof(*pf));
	listener = calloc(n_ports, sizeof(*listener));
	if (ports == NULL || pairs == NULL || pf == NULL || listener == NULL)
		goto out;
	/* Listen on every socket first: the back-ends connect in any order. */
	for (p = 0; p < n_ports; p++) {
		listener[p] = server ? listen_on(argv[optind + p]) : -1;
		if (server && listener[p] < 0)
			goto out;
	}
	for (p = 0; p < n_ports; p++) {
		struct port *pt = &ports[p];

		pt->pair = &pairs[p / 2];
		if (p % 2 == 0 && pair_init(pt->pair, &huge) != 0) {
			fprintf(stderr, "vsw-vhostgen: guest memory: %s\n", strerror(errno));
			goto out;
		}
		port_mac(pt->mac, p);
		port_mac(pt->peer, p ^ 1);
		if (vq_init(&pt->q[0], pt->pair, 2 * (p % 2)) != 0 ||
		    vq_init(&pt->q[1], pt->pair, 2 * (p % 2) + 1) != 0) {
			fprintf(stderr, "vsw-vhostgen: virtqueues: %s\n", strerror(errno));
			goto out;
		}
		if (port_setup(pt, argv[optind + p], listener[p], timeout) != 0) {
			fprintf(stderr, "vsw-vhostgen: port %u (%s): set-up failed\n", p,
				argv[optind + p]);
			goto out;
		}
		pf[p + 1].fd = pt->sock;
		pf[p + 1].events = POLLIN;
	}
	pf[0].fd = 0;
	pf[0].events = POLLIN;
	hz = tsc_hz();
	printf("{\"ready\": %u, \"hugepages\": %s, \"queue_size\": %u, \"fwd\": \"%s\"}\n",
	       n_ports, huge ? "true" : "false", qsize, fwd_mac ? "mac" : "io");
	fflush(stdout);

	start = __rdtsc();
	next_check = start;
	while (!quit) {
		uint64_t t0 = __rdtsc();
		bool work = false;

		for (p = 0; p < n_ports; p++)
			work |= poll_port(&ports[p]);
		if (work)
			busy += __rdtsc() - t0;
		/* Control about every 10 ms: one poll() system call. */
		if (t0 >= next_check) {
			next_check = t0 + hz / 100;
			if (!check_control(pf, busy, t0 - start, hz))
				break;
		}
	}
	rc = 0;
out:
	/* Closing the sockets tells each back-end the guest is gone. */
	for (p = 0; ports != NULL && p < n_ports; p++)
		if (ports[p].sock > 0)
			close(ports[p].sock);
	for (p = 0; ports != NULL && p < n_ports; p++) {
		unsigned int i;

		for (i = 0; i < 2; i++) {
			if (ports[p].q[i].kick > 0)
				close(ports[p].q[i].kick);
			if (ports[p].q[i].call > 0)
				close(ports[p].q[i].call);
		}
	}
	for (p = 0; pairs != NULL && p < n_ports / 2; p++) {
		if (pairs[p].base != NULL && pairs[p].base != MAP_FAILED)
			munmap(pairs[p].base, pairs[p].len);
		if (pairs[p].fd > 0)
			close(pairs[p].fd);
		free(pairs[p].pool);
	}
	free(listener);
	free(pf);
	free(pairs);
	free(ports);
	return rc;
}
