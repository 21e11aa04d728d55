/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_vhost.h>

#include "vsw_util.h"
#include "vsw_port.h"

bool vsw_port_vhost_tso;
vsw_port_vid_hook_t vsw_port_vhost_hook;
vsw_port_pause_hook_t vsw_port_vhost_pause;
vsw_port_walked_t vsw_port_vhost_walked;
vsw_port_rarp_hook_t vsw_port_vhost_rarp;

RTE_LOG_REGISTER_DEFAULT(vsw_port_logtype, INFO);
#define RTE_LOGTYPE_VSW_PORT vsw_port_logtype
#define PORT_LOG(l, fmt, ...) RTE_LOG(l, VSW_PORT, fmt "\n", ##__VA_ARGS__)

#define RX_DESC 1024
#define TX_DESC 1024

static const char *const type_names[] = {
	[VSW_PORT_VHOST] = "vhost-user",
	[VSW_PORT_VHOST_CLIENT] = "vhost-user-client",
	[VSW_PORT_DPDK] = "dpdk",
};

const char *
vsw_port_type_name(enum vsw_port_type t)
{
	return (unsigned int)t < RTE_DIM(type_names) ? type_names[t] : "?";
}

int
vsw_port_type_parse(const char *s, enum vsw_port_type *t)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(type_names); i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*t = (enum vsw_port_type)i;
			return 0;
		}
	}
	return -EINVAL;
}


/* n hex digits from s; @return the value or -1. */
static long
hexn(const char *s, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' :
			      tolower((unsigned char)s[i]) - 'a' + 10);
	}
	return v;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" exactly (n characters) into d->name. */
static bool
pci_parse(const char *s, size_t n, struct vsw_devargs *d)
{
	long dom = 0, bus, dev, fn;

	if (n == 12 && s[4] == ':') {
		dom = hexn(s, 4);
		s += 5;
		n -= 5;
	}
	if (n != 7 || s[2] != ':' || s[5] != '.')
		return false;
	bus = hexn(s, 2);
	dev = hexn(s + 3, 2);
	fn = hexn(s + 6, 1);
	if (dom < 0 || bus < 0 || dev < 0 || dev > 0x1f || fn < 0 || fn > 7)
		return false;
	snprintf(d->name, sizeof(d->name), "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn);
	return true;
}

int
vsw_devargs_parse(const char *devargs, struct vsw_devargs *d, char *err, size_t len)
{
	const char *comma = strchr(devargs, ',');
	size_t n = comma != NULL ? (size_t)(comma - devargs) : strlen(devargs), i;

	memset(d, 0, sizeof(*d));
	d->args = comma != NULL ? comma + 1 : "";
	if (n == 0)
		return vsw_errf(err, len, -EINVAL, "devargs '%s' names no device", devargs);
	if (pci_parse(devargs, n, d)) {
		d->is_pci = true;
		return 0;
	}
	if (n >= sizeof(d->name))
		return vsw_errf(err, len, -EINVAL, "device name in '%s' is too long (max %zu)",
				devargs, sizeof(d->name) - 1);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)devargs[i]) && devargs[i] != '_')
			break;
	if (i < n || n == 4 || (strncmp(devargs, "net_", 4) != 0 &&
				strncmp(devargs, "eth_", 4) != 0))
		return vsw_errf(err, len, -EINVAL,
				"devargs '%.*s' is neither a PCI address (0000:01:00.0, 01:00.0) "
				"nor a vdev name (net_tap0, net_af_packet1, ...)", (int)n, devargs);
	snprintf(d->name, sizeof(d->name), "%.*s", (int)n, devargs);
	return 0;
}

bool
vsw_port_conf_equal(const struct vsw_port_conf *a, const struct vsw_port_conf *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	       strcmp(a->path, b->path) == 0 && strcmp(a->devargs, b->devargs) == 0 &&
	       a->n_rxq == b->n_rxq && a->mtu == b->mtu && a->has_mac == b->has_mac &&
	       (!a->has_mac || rte_is_same_ether_addr(&a->mac, &b->mac));
}

int
vsw_port_conf_check(const struct vsw_port_conf *c, char *err, size_t len)
{
	const char *p;

	if (c->name[0] == '\0')
		return vsw_errf(err, len, -EINVAL, "port name is empty");
	for (p = c->name; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
			return vsw_errf(err, len, -EINVAL,
				    "bad port name '%s': use letters, digits, '-', '_', '.'",
				    c->name);
	if (c->n_rxq < 1 || c->n_rxq > VSW_MAX_QUEUES)
		return vsw_errf(err, len, -EINVAL, "n_rxq must be 1..%d", VSW_MAX_QUEUES);
	if (c->mtu != 0 && (c->mtu < 68 || c->mtu > 9600))
		return vsw_errf(err, len, -EINVAL, "mtu must be 68..9600");
	if (c->type == VSW_PORT_DPDK) {
		struct vsw_devargs d;

		if (c->devargs[0] == '\0')
			return vsw_errf(err, len, -EINVAL, "type=dpdk needs devargs=");
		return vsw_devargs_parse(c->devargs, &d, err, len);
	}
	if (c->path[0] == '\0')
		return vsw_errf(err, len, -EINVAL, "%s port needs path=", vsw_port_type_name(c->type));
	if (c->path[0] != '/')
		return vsw_errf(err, len, -EINVAL, "socket path '%s' is not absolute", c->path);
	if (strchr(c->path, ',') != NULL)
		return vsw_errf(err, len, -EINVAL, "socket path must not contain ','");
	if (c->has_mac)
		return vsw_errf(err, len, -EINVAL,
			    "mac= applies to dpdk ports; a VM sets its own MAC");
	return 0;
}

/* A socket file nobody listens on is left over by a crashed vswd. */
static void
remove_stale_socket(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (ret != 0 && errno == ECONNREFUSED) {
		PORT_LOG(INFO, "removing stale vhost-user socket %s", path);
		unlink(path);
	}
}

static int
vhost_precheck(const struct vsw_port *p, char *err, size_t len)
{
	char dir[VSW_PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", p->conf.path);
	if (stat(dirname(dir), &st) != 0 || !S_ISDIR(st.st_mode))
		return vsw_errf(err, len, -ENOENT, "directory of socket %s does not exist",
			    p->conf.path);
	if (p->conf.type == VSW_PORT_VHOST) {
		remove_stale_socket(p->conf.path);
		if (access(p->conf.path, F_OK) == 0)
			return vsw_errf(err, len, -EEXIST, "%s exists and is in use", p->conf.path);
	}
	return 0;
}

/* ------------------------------------------------- vhost-user, no ethdev */

/*
 * One entry per port slot with a registered socket. rte_vhost names a
 * device only by vid and socket path: a new connection finds its slot by
 * path and records it in vid_slot[], where the later notifications of that
 * vid find it.
 *
 * Locks, and why there are two (see the deadlocks they avoid below):
 *  - vhost_lock guards the table; it is only ever held for a few loads and
 *    stores, never across a wait or a call into rte_vhost's own locks.
 *  - hook_lock orders the changes of a slot's vid and the hook calls that
 *    publish them; the hook may wait for the PMDs (an RCU grace period).
 * rte_vhost calls vring_state_changed with every vring of that guest
 * locked, and a PMD inside rte_vhost spins on those locks: that callback
 * takes no lock at all, or a wait under it could never end. For the same
 * reason nothing waits for the PMDs inside rte_vhost_driver_unregister()
 * (it holds rte_vhost's socket mutexes): vhost_close() takes the vid back
 * and waits first, so the destroy notification it causes has nothing to do.
 */
struct vhost_reg {
	char path[VSW_PATH_MAX];
	bool used;
	bool closing;			/* vhost_close() runs: refuse new guests. */
	_Atomic int32_t vid;
	uint16_t mtu;			/* Guest MTU (VIRTIO_NET_F_MTU), 0 = none. */
	_Atomic uint64_t vrings_on;	/* Vrings 0..63 the guest made ready. */
	_Atomic uint32_t vring_changes;	/* Ready/not-ready notifications. */
	bool paused;			/* Taken back for a message (rte_vhost's thread). */
	_Atomic uint32_t pauses;	/* Messages the device was taken back for. */
};

static struct vhost_reg vhost_regs[VSW_MAX_PORTS];
static pthread_mutex_t vhost_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
/* vid -> slot + 1 (0: none), from the connection's first notification. */
static _Atomic uint16_t vid_slot[RTE_MAX_VHOST_DEVICE];
/*
 * Per connection (vid): the vrings vsw's walk may use (vsw_vring.h). Set
 * when one becomes ready, cleared only when the guest disables it
 * (SET_VRING_ENABLE 0) or connects again. rte_vhost also reports a vring
 * not ready for the moment it swaps its call or kick eventfd, and ready
 * again only after it has acknowledged that message; the walk, given the
 * device again after the message, must not drop frames in that gap. Per
 * vid, so a second connection to a socket leaves the attached guest's alone.
 */
static _Atomic uint64_t walk_on[RTE_MAX_VHOST_DEVICE];

/* Under vhost_lock: the open slot whose socket is path, or -1. */
static int
vhost_find(const char *path)
{
	unsigned int i;

	for (i = 0; i < VSW_MAX_PORTS; i++)
		if (vhost_regs[i].used && !vhost_regs[i].closing &&
		    strcmp(vhost_regs[i].path, path) == 0)
			return (int)i;
	return -1;
}

/* The slot of a connection, or -1. Lock-free. */
static int
vid_to_slot(int vid)
{
	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return -1;
	return (int)atomic_load_explicit(&vid_slot[vid], memory_order_acquire) - 1;
}

static void
vid_map(int vid, int slot)
{
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE)
		atomic_store_explicit(&vid_slot[vid], (uint16_t)(slot + 1), memory_order_release);
}

/*
 * vhost-user messages while vsw walks a guest's rings itself (see
 * lib/datapath/vsw_vring.h). Before rte_vhost handles a message that can
 * change the rings, the memory table or the eventfds, the device is taken
 * back from the PMDs (and its ring indices given back to rte_vhost);
 * after it, the device is set again from what rte_vhost then holds.
 * rte_vhost calls these with the guest's vrings locked for most messages:
 * a device on rte_vhost's own functions (PMDs may spin on those locks) is
 * left alone without taking any lock; a walked one is never touched by a
 * PMD through those locks, so waiting for the PMDs here is safe.
 */
#define VHU_GET_FEATURES 1
#define VHU_SET_OWNER 3
#define VHU_GET_PROTOCOL_FEATURES 15
#define VHU_GET_QUEUE_NUM 17
#define VHU_SET_VRING_ENABLE 18
#define VHU_SEND_RARP 19
#define VHU_NET_SET_MTU 20
#define VHU_GET_CONFIG 24
#define VHU_GET_MAX_MEM_SLOTS 36

/* The head of a vhost-user message (the protocol's wire layout). */
struct vhu_head {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint32_t index;		/* Payload: struct vhost_vring_state. */
	uint32_t num;
} __rte_packed;

static bool
msg_is_query(uint32_t req)
{
	return req == VHU_GET_FEATURES || req == VHU_SET_OWNER ||
	       req == VHU_GET_PROTOCOL_FEATURES || req == VHU_GET_QUEUE_NUM ||
	       req == VHU_SEND_RARP || req == VHU_NET_SET_MTU || req == VHU_GET_CONFIG ||
	       req == VHU_GET_MAX_MEM_SLOTS;
}

/* Whether vid is the slot's attached guest, or no guest is attached yet. */
static bool
vid_is_current(int slot, int vid)
{
	int32_t cur = atomic_load_explicit(&vhost_regs[slot].vid, memory_order_relaxed);

	return cur < 0 || cur == vid;
}

/* Give a device taken back for a message to the PMDs again, if still attached. */
static void
walk_resume(int slot, int vid)
{
	pthread_mutex_lock(&hook_lock);
	vhost_regs[slot].paused = false;
	/* Not destroyed by the message, not closing. */
	if (atomic_load_explicit(&vhost_regs[slot].vid, memory_order_acquire) == vid &&
	    vsw_port_vhost_hook != NULL)
		vsw_port_vhost_hook((uint16_t)slot, vid, &walk_on[vid]);
	pthread_mutex_unlock(&hook_lock);
}

static enum rte_vhost_msg_result
on_msg_pre(int vid, void *msg)
{
	const struct vhu_head *h = msg;
	int slot = vid_to_slot(vid);

	if (slot < 0 || !vid_is_current(slot, vid))
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	/*
	 * rte_vhost skips the post handler of a message that failed: a device
	 * still taken back from then is given again first.
	 */
	if (unlikely(vhost_regs[slot].paused))
		walk_resume(slot, vid);
	if (vsw_port_vhost_walked == NULL || !vsw_port_vhost_walked((uint16_t)slot))
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (h->request == VHU_SEND_RARP && h->size >= 6 && vsw_port_vhost_rarp != NULL) {
		/* Payload: the MAC in its first 6 bytes. */
		const uint8_t *mac = (const uint8_t *)msg + 3 * sizeof(uint32_t);
		bool took = false;

		pthread_mutex_lock(&hook_lock);
		if (atomic_load_explicit(&vhost_regs[slot].vid, memory_order_acquire) == vid)
			took = vsw_port_vhost_rarp((uint16_t)slot, vid, mac);
		pthread_mutex_unlock(&hook_lock);
		/*
		 * Handled: rte_vhost must not also keep it, or it would send a stale
		 * RARP once the guest moves to its functions (migration logging).
		 */
		if (took)
			return RTE_VHOST_MSG_RESULT_OK;
	}
	if (msg_is_query(h->request))
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	/* A vring the guest turns off is off for the walk from now on. */
	if (h->request == VHU_SET_VRING_ENABLE && h->num == 0 && h->index < 64)
		atomic_fetch_and_explicit(&walk_on[vid], ~(1ULL << h->index), memory_order_relaxed);
	pthread_mutex_lock(&hook_lock);
	if (atomic_load_explicit(&vhost_regs[slot].vid, memory_order_acquire) == vid &&
	    vsw_port_vhost_pause != NULL && vsw_port_vhost_pause((uint16_t)slot, vid)) {
		vhost_regs[slot].paused = true;
		atomic_fetch_add_explicit(&vhost_regs[slot].pauses, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&hook_lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
on_msg_post(int vid, void *msg)
{
	int slot = vid_to_slot(vid);

	RTE_SET_USED(msg);
	if (slot >= 0 && vhost_regs[slot].paused)
		walk_resume(slot, vid);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vhost_msg_ops = {
	.pre_msg_handle = on_msg_pre,
	.post_msg_handle = on_msg_post,
};

/* A guest connected to a port's socket (before any negotiation). */
static int
on_new_connection(int vid)
{
	char path[PATH_MAX];
	int slot;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return -1;
	pthread_mutex_lock(&vhost_lock);
	slot = vhost_find(path);
	if (slot >= 0) {
		/* A second connection (a stray client) leaves the attached guest's state. */
		if (atomic_load_explicit(&vhost_regs[slot].vid, memory_order_relaxed) < 0) {
			atomic_store_explicit(&vhost_regs[slot].vrings_on, 0, memory_order_relaxed);
			vhost_regs[slot].paused = false;
		}
		if (vid < RTE_MAX_VHOST_DEVICE)
			atomic_store_explicit(&walk_on[vid], 0, memory_order_relaxed);
		vid_map(vid, slot);
	}
	pthread_mutex_unlock(&vhost_lock);
	if (slot < 0) {
		PORT_LOG(WARNING, "vhost connection %d on %s refused: the port is closing", vid,
			 path);
		return -1;
	}
	if (rte_vhost_extern_callback_register(vid, &vhost_msg_ops, NULL) != 0) {
		PORT_LOG(ERR, "vhost connection %d on %s: cannot watch its messages", vid, path);
		return -1;
	}
	return 0;
}

static void
on_destroy_connection(int vid)
{
	vid_map(vid, -1);
}

/* The guest's virtio device is ready: PMDs may use the vid from now on. */
static int
on_new_device(int vid)
{
	int slot = vid_to_slot(vid);
	uint16_t i, n, mtu = 0;
	bool ok;

	if (slot < 0)
		return -1;
	/* PMDs poll: guests need not kick (the sleeping PMD turns kicks on). */
	n = rte_vhost_get_vring_num(vid);
	for (i = 0; i < n; i++)
		rte_vhost_enable_guest_notification(vid, i, 0);
	if (rte_vhost_get_mtu(vid, &mtu) != 0)
		mtu = 0;
	pthread_mutex_lock(&hook_lock);
	pthread_mutex_lock(&vhost_lock);
	ok = vhost_regs[slot].used && !vhost_regs[slot].closing;
	if (ok) {
		vhost_regs[slot].mtu = mtu;
		atomic_store_explicit(&vhost_regs[slot].vid, vid, memory_order_release);
	}
	pthread_mutex_unlock(&vhost_lock);
	if (ok && vsw_port_vhost_hook != NULL)
		vsw_port_vhost_hook((uint16_t)slot, vid, &walk_on[vid]);
	pthread_mutex_unlock(&hook_lock);
	if (!ok)
		return -1;
	PORT_LOG(INFO, "vhost device %d attached to slot %d (%u vrings)", vid, slot, n);
	return 0;
}

/* rte_vhost is about to free the device: no PMD may use the vid after this. */
static void
on_destroy_device(int vid)
{
	int slot = vid_to_slot(vid);
	bool mine;

	if (slot < 0)
		return;
	pthread_mutex_lock(&hook_lock);
	pthread_mutex_lock(&vhost_lock);
	/* Not when vhost_close() took the vid back already (it has waited). */
	mine = atomic_load_explicit(&vhost_regs[slot].vid, memory_order_relaxed) == vid;
	if (mine) {
		atomic_store_explicit(&vhost_regs[slot].vid, -1, memory_order_release);
		atomic_store_explicit(&vhost_regs[slot].vrings_on, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&vhost_lock);
	if (mine && vsw_port_vhost_hook != NULL)
		vsw_port_vhost_hook((uint16_t)slot, -1, NULL);
	pthread_mutex_unlock(&hook_lock);
	PORT_LOG(INFO, "vhost device %d detached from slot %d", vid, slot);
}

/*
 * A vring became ready (enabled, addresses and kick set) or stopped being.
 * rte_vhost holds all of this guest's vring locks here: no lock, no wait,
 * no rte_vhost call that locks a vring.
 */
static int
on_vring_state(int vid, uint16_t vring, int enable)
{
	int slot = vid_to_slot(vid);
	uint64_t bit;

	if (slot < 0 || vring >= 64)
		return 0;
	bit = 1ULL << vring;
	if (enable)	/* The walk's own view of this connection (see walk_on). */
		atomic_fetch_or_explicit(&walk_on[vid], bit, memory_order_relaxed);
	if (!vid_is_current(slot, vid))
		return 0;	/* Another connection than the attached guest's. */
	if (enable)
		atomic_fetch_or_explicit(&vhost_regs[slot].vrings_on, bit, memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&vhost_regs[slot].vrings_on, ~bit, memory_order_relaxed);
	atomic_fetch_add_explicit(&vhost_regs[slot].vring_changes, 1, memory_order_relaxed);
	return 0;
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
	.vring_state_changed = on_vring_state,
	.new_connection = on_new_connection,
	.destroy_connection = on_destroy_connection,
};

int32_t
vsw_port_vhost_vid(const struct vsw_port *p)
{
	if (!p->open || !vsw_port_is_vhost(p) || p->slot >= VSW_MAX_PORTS)
		return -1;
	return atomic_load_explicit(&vhost_regs[p->slot].vid, memory_order_acquire);
}

uint16_t
vsw_port_vhost_mtu(const struct vsw_port *p)
{
	uint16_t mtu = 0;

	if (vsw_port_vhost_vid(p) < 0)
		return 0;
	pthread_mutex_lock(&vhost_lock);
	mtu = vhost_regs[p->slot].mtu;
	pthread_mutex_unlock(&vhost_lock);
	return mtu;
}

int
vsw_port_vhost_info(const struct vsw_port *p, struct vsw_vhost_info *info)
{
	struct rte_vhost_vring vr;
	int32_t vid;
	uint16_t i;

	memset(info, 0, sizeof(*info));
	if (!p->open || !vsw_port_is_vhost(p) || p->slot >= VSW_MAX_PORTS)
		return -ENOTCONN;
	/* rte_vhost frees a device only after on_destroy_device took this lock. */
	pthread_mutex_lock(&vhost_lock);
	vid = atomic_load_explicit(&vhost_regs[p->slot].vid, memory_order_relaxed);
	if (vid >= 0) {
		if (rte_vhost_get_negotiated_features(vid, &info->features) != 0)
			info->features = 0;
		info->n_vrings = RTE_MIN(rte_vhost_get_vring_num(vid), VSW_VHOST_INFO_VRINGS);
		for (i = 0; i < info->n_vrings; i++)
			if (rte_vhost_get_vhost_vring(vid, i, &vr) == 0)
				info->ring_size[i] = vr.size;
		info->mtu = vhost_regs[p->slot].mtu;
		info->vrings_on = atomic_load_explicit(&vhost_regs[p->slot].vrings_on,
						       memory_order_relaxed);
	}
	info->vring_changes = atomic_load_explicit(&vhost_regs[p->slot].vring_changes,
						   memory_order_relaxed);
	info->pauses = atomic_load_explicit(&vhost_regs[p->slot].pauses, memory_order_relaxed);
	pthread_mutex_unlock(&vhost_lock);
	return vid >= 0 ? 0 : -ENOTCONN;
}

/* Forget the slot's entry and its connections' mappings. */
static void
vhost_release(uint16_t slot)
{
	unsigned int v;

	pthread_mutex_lock(&vhost_lock);
	for (v = 0; v < RTE_MAX_VHOST_DEVICE; v++)
		if (vid_to_slot((int)v) == slot)
			vid_map((int)v, -1);
	vhost_regs[slot].used = false;
	vhost_regs[slot].closing = false;
	vhost_regs[slot].path[0] = '\0';
	atomic_store_explicit(&vhost_regs[slot].vid, -1, memory_order_relaxed);
	pthread_mutex_unlock(&vhost_lock);
}

/*
 * Register the socket with rte_vhost: what net_vhost would do, minus the
 * ethdev and its per-packet vring statistics (vswd counts per port
 * itself). Guest offloads are reported the virtio-net way
 * (NET_COMPLIANT_OL_FLAGS); TSO is offered only with --tso.
 */
static int
vhost_open(struct vsw_port *p, vsw_pool_for_socket_t pool_for, char *err, size_t len)
{
	const char *path = p->conf.path;
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;
	struct rte_mempool *pool;
	int ret;

	if (p->slot >= VSW_MAX_PORTS) {
		ret = vsw_errf(err, len, -EINVAL, "bad port slot %u", p->slot);
		goto out;
	}
	ret = vhost_precheck(p, err, len);
	if (ret < 0)
		goto out;
	pool = pool_for((int)rte_socket_id());
	if (pool == NULL) {
		ret = vsw_errf(err, len, -ENOMEM, "no mbuf pool for socket %u", rte_socket_id());
		goto out;
	}
	pthread_mutex_lock(&vhost_lock);
	if (vhost_regs[p->slot].used || vhost_find(path) >= 0) {
		pthread_mutex_unlock(&vhost_lock);
		ret = vsw_errf(err, len, -EEXIST, "socket %s or slot %u is already registered",
			       path, p->slot);
		goto out;
	}
	snprintf(vhost_regs[p->slot].path, sizeof(vhost_regs[p->slot].path), "%s", path);
	atomic_store_explicit(&vhost_regs[p->slot].vid, -1, memory_order_relaxed);
	atomic_store_explicit(&vhost_regs[p->slot].vrings_on, 0, memory_order_relaxed);
	atomic_store_explicit(&vhost_regs[p->slot].vring_changes, 0, memory_order_relaxed);
	vhost_regs[p->slot].mtu = 0;
	vhost_regs[p->slot].closing = false;
	vhost_regs[p->slot].used = true;
	pthread_mutex_unlock(&vhost_lock);

	if (p->conf.type == VSW_PORT_VHOST_CLIENT)
		flags |= RTE_VHOST_USER_CLIENT;
	if (rte_vhost_driver_register(path, flags) != 0) {
		ret = vsw_errf(err, len, -EIO, "cannot register vhost-user socket %s "
			       "(see the log for why)", path);
		goto release;
	}
	/* No --tso: no segmentation offload of any kind from guests (UFO, ECN too). */
	if (!vsw_port_vhost_tso &&
	    rte_vhost_driver_disable_features(path, (1ULL << VIRTIO_NET_F_HOST_TSO4) |
						    (1ULL << VIRTIO_NET_F_HOST_TSO6) |
						    (1ULL << VIRTIO_NET_F_HOST_UFO) |
						    (1ULL << VIRTIO_NET_F_HOST_ECN)) != 0) {
		ret = vsw_errf(err, len, -EIO, "cannot turn TSO off on %s", path);
		goto unregister;
	}
	if (rte_vhost_driver_callback_register(path, &vhost_ops) != 0) {
		ret = vsw_errf(err, len, -EIO, "cannot watch vhost-user socket %s", path);
		goto unregister;
	}
	if (rte_vhost_driver_start(path) != 0) {
		ret = vsw_errf(err, len, -EIO, "cannot %s vhost-user socket %s (see the log)",
			       p->conf.type == VSW_PORT_VHOST_CLIENT ? "connect to" : "listen on",
			       path);
		goto unregister;
	}
	p->pool = pool;
	p->eth_port = RTE_MAX_ETHPORTS;
	p->open = true;
	p->link_up = false;
	p->link_since = time(NULL);
	PORT_LOG(INFO, "port %s (%s) open on %s", p->conf.name, vsw_port_type_name(p->conf.type),
		 path);
	return 0;

unregister:
	rte_vhost_driver_unregister(path);
release:
	vhost_release(p->slot);
out:
	snprintf(p->error, sizeof(p->error), "%s", err);
	PORT_LOG(ERR, "port %s: %s", p->conf.name, err);
	return ret;
}

/*
 * Take the guest's vid back and wait until no PMD uses it, then drop the
 * socket: rte_vhost_driver_unregister() destroys the device under its own
 * mutexes, where on_destroy_device() must not wait.
 */
static void
vhost_close(struct vsw_port *p)
{
	int32_t vid;
	int ret;

	pthread_mutex_lock(&hook_lock);
	pthread_mutex_lock(&vhost_lock);
	vhost_regs[p->slot].closing = true;
	vid = atomic_exchange_explicit(&vhost_regs[p->slot].vid, -1, memory_order_acq_rel);
	pthread_mutex_unlock(&vhost_lock);
	if (vid >= 0 && vsw_port_vhost_hook != NULL)
		vsw_port_vhost_hook(p->slot, -1, NULL);
	pthread_mutex_unlock(&hook_lock);
	ret = rte_vhost_driver_unregister(p->conf.path);
	if (ret != 0)
		PORT_LOG(WARNING, "%s: unregister %s: %d", p->conf.name, p->conf.path, ret);
	vhost_release(p->slot);
}

static int
find_port(const char *devname, uint16_t *port_id)
{
	if (rte_eth_dev_get_port_by_name(devname, port_id) == 0)
		return 0;
	return -ENODEV;
}

int
vsw_port_open(struct vsw_port *p, uint16_t n_txq, vsw_pool_for_socket_t pool_for,
	      char *err, size_t len)
{
	char devargs[VSW_DEVARGS_MAX + 64];
	char devname[RTE_DEV_NAME_MAX_LEN];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint32_t overhead, max_mtu;
	struct rte_mempool *pool;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC, q;
	const char *comma;
	int ret, socket;

	if (p->open)
		return 0;
	p->error[0] = '\0';
	p->probed = false;
	if (p->conf.type == VSW_PORT_DPDK) {
		struct vsw_devargs d;

		ret = vsw_devargs_parse(p->conf.devargs, &d, err, len);
		if (ret < 0)
			goto out;
		/* A PCI address in DPDK's own form: the name its ethdev gets. */
		snprintf(devargs, sizeof(devargs), "%s%s%s", d.name, d.args[0] ? "," : "", d.args);
	} else {
		return vhost_open(p, pool_for, err, len);
	}
	comma = strchr(devargs, ',');
	snprintf(devname, sizeof(devname), "%.*s",
		 (int)(comma != NULL ? (size_t)(comma - devargs) : strlen(devargs)), devargs);

	if (rte_eth_dev_count_total() >= RTE_MAX_ETHPORTS) {
		ret = vsw_errf(err, len, -ENOSPC,
			       "no ethdev left: this DPDK build has %d ethernet ports "
			       "(RTE_MAX_ETHPORTS), all in use", RTE_MAX_ETHPORTS);
		goto out;
	}
	ret = rte_dev_probe(devargs);
	if (ret == 0) {
		p->probed = true;
	} else if (ret != -EEXIST) {
		ret = vsw_errf(err, len, ret < 0 ? ret : -EIO, "cannot probe device '%s': %s",
			   devargs, rte_strerror(-ret));
		goto out;
	}
	if (find_port(devname, &p->eth_port) < 0) {
		ret = vsw_errf(err, len, -ENODEV, "device '%s' is not an ethernet port", devname);
		goto remove;
	}
	ret = rte_eth_dev_info_get(p->eth_port, &info);
	if (ret != 0) {
		ret = vsw_errf(err, len, ret, "rte_eth_dev_info_get(%s): %s", devname,
			   rte_strerror(-ret));
		goto remove;
	}
	if (p->conf.n_rxq > info.max_rx_queues) {
		ret = vsw_errf(err, len, -EINVAL, "%s supports %u rx queues, n_rxq=%u asked", devname,
			   info.max_rx_queues, p->conf.n_rxq);
		goto remove;
	}
	if (n_txq > info.max_tx_queues) {
		ret = vsw_errf(err, len, -EINVAL,
			   "%s supports %u tx queues, vswd needs one per PMD (%u)", devname,
			   info.max_tx_queues, n_txq);
		goto remove;
	}
	/*
	 * Some drivers (net_tap) want as many tx as rx queues: give them the
	 * extra tx queues when the device has them; PMDs use the first n_txq.
	 */
	if (p->conf.n_rxq > n_txq && p->conf.n_rxq <= info.max_tx_queues)
		n_txq = p->conf.n_rxq;
	memset(&conf, 0, sizeof(conf));
	/* The largest MTU the device takes, by ethdev's own rule. */
	overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu ?
		   info.max_rx_pktlen - info.max_mtu : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	max_mtu = RTE_MIN((uint32_t)info.max_mtu, info.max_rx_pktlen - overhead);
	if (p->conf.mtu != 0 && (max_mtu < p->conf.mtu || info.min_mtu > p->conf.mtu)) {
		ret = vsw_errf(err, len, -EINVAL, "%s takes an mtu of %u..%u, not %u", devname,
			       info.min_mtu, max_mtu, p->conf.mtu);
		goto remove;
	}
	/*
	 * Frames longer than one mbuf (2048 bytes of data) arrive as chains
	 * where the device can do that, and leave as chains.
	 */
	if (p->conf.mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN > RTE_MBUF_DEFAULT_DATAROOM) {
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	}
	ret = rte_eth_dev_configure(p->eth_port, p->conf.n_rxq, n_txq, &conf);
	if (ret != 0) {
		ret = vsw_errf(err, len, ret, "rte_eth_dev_configure(%s): %s", devname,
			   rte_strerror(-ret));
		goto remove;
	}
	if (p->conf.mtu != 0) {
		ret = rte_eth_dev_set_mtu(p->eth_port, p->conf.mtu);
		if (ret != 0 && ret != -ENOTSUP) {
			ret = vsw_errf(err, len, ret, "cannot set mtu %u on %s: %s", p->conf.mtu,
				   devname, rte_strerror(-ret));
			goto close;
		}
	}
	if (p->conf.has_mac) {
		ret = rte_eth_dev_default_mac_addr_set(p->eth_port, &p->conf.mac);
		if (ret != 0) {
			ret = vsw_errf(err, len, ret, "cannot set mac on %s: %s", devname,
				   rte_strerror(-ret));
			goto close;
		}
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(p->eth_port, &nb_rxd, &nb_txd);
	socket = rte_eth_dev_socket_id(p->eth_port);
	pool = pool_for(socket);
	if (pool == NULL) {
		ret = vsw_errf(err, len, -ENOMEM, "no mbuf pool for socket %d", socket);
		goto close;
	}
	for (q = 0; q < p->conf.n_rxq; q++) {
		ret = rte_eth_rx_queue_setup(p->eth_port, q, nb_rxd, 
					     (unsigned int)socket, NULL, pool);
		if (ret != 0) {
			ret = vsw_errf(err, len, ret, "rx queue %u setup on %s: %s", q, devname,
				   rte_strerror(-ret));
			goto close;
		}
	}
	for (q = 0; q < n_txq; q++) {
		ret = rte_eth_tx_queue_setup(p->eth_port, q, nb_txd, (unsigned int)socket, NULL);
		if (ret != 0) {
			ret = vsw_errf(err, len, ret, "tx queue %u setup on %s: %s", q, devname,
				   rte_strerror(-ret));
			goto close;
		}
	}
	ret = rte_eth_promiscuous_enable(p->eth_port);
	if (ret != 0 && ret != -ENOTSUP)
		PORT_LOG(WARNING, "%s: cannot enable promiscuous mode: %s", p->conf.name,
			 rte_strerror(-ret));
	ret = rte_eth_dev_start(p->eth_port);
	if (ret != 0) {
		ret = vsw_errf(err, len, ret, "cannot start %s: %s", devname, rte_strerror(-ret));
		goto close;
	}
	p->pool = pool;
	p->open = true;
	p->link_up = false;
	p->link_since = time(NULL);
	PORT_LOG(INFO, "port %s (%s) open as ethdev %u: %u rxq, %u txq", p->conf.name,
		 vsw_port_type_name(p->conf.type), p->eth_port, p->conf.n_rxq, n_txq);
	return 0;

close:
	rte_eth_dev_close(p->eth_port);
remove:
	if (p->probed) {
		struct rte_eth_dev_info i2;

		if (rte_eth_dev_info_get(p->eth_port, &i2) == 0 && i2.device != NULL)
			rte_dev_remove(i2.device);
		else
			rte_eal_hotplug_remove("vdev", devname);
	}
	p->probed = false;
out:
	snprintf(p->error, sizeof(p->error), "%s", err);
	PORT_LOG(ERR, "port %s: %s", p->conf.name, err);
	return ret;
}

void
vsw_port_close(struct vsw_port *p)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	int ret;

	if (!p->open)
		return;
	if (vsw_port_is_vhost(p)) {
		vhost_close(p);
		goto closed;
	}
	if (rte_eth_dev_info_get(p->eth_port, &info) == 0)
		dev = info.device;
	ret = rte_eth_dev_stop(p->eth_port);
	if (ret != 0)
		PORT_LOG(WARNING, "%s: stop: %s", p->conf.name, rte_strerror(-ret));
	rte_eth_dev_close(p->eth_port);
	if (p->probed && dev != NULL) {
		ret = rte_dev_remove(dev);
		if (ret != 0)
			PORT_LOG(WARNING, "%s: remove: %s", p->conf.name, rte_strerror(-ret));
	}
closed:
	p->open = false;
	p->probed = false;
	p->link_up = false;
	PORT_LOG(INFO, "port %s closed", p->conf.name);
}

bool
vsw_port_link_update(struct vsw_port *p)
{
	struct rte_eth_link link;
	bool up;

	if (!p->open)
		up = false;
	else if (vsw_port_is_vhost(p))
		up = vsw_port_vhost_vid(p) >= 0;
	else if (rte_eth_link_get_nowait(p->eth_port, &link) != 0)
		up = false;
	else
		up = link.link_status == RTE_ETH_LINK_UP;
	if (up == p->link_up)
		return false;
	p->link_up = up;
	p->link_changes++;
	p->link_since = time(NULL);
	PORT_LOG(INFO, "port %s is %s", p->conf.name, up ? "up" : "down");
	return true;
}

uint64_t
vsw_port_rx_nombuf(const struct vsw_port *p)
{
	struct rte_eth_stats st;

	if (!p->open || vsw_port_is_vhost(p) || rte_eth_stats_get(p->eth_port, &st) != 0)
		return 0;
	return st.rx_nombuf;
}
