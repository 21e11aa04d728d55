# SPDX-License-Identifier: BSD-3-Clause
"""A minimal vhost-user front-end (the "guest" side) in Python, for tests
that need to control every byte a guest writes: its descriptor chains
(including malformed ones), its ring indices, and the vhost-user messages
it sends while the device runs.

It speaks the vhost-user protocol over the port's unix socket (the same
messages QEMU and virtio-user send), shares one memfd as the guest's
memory, and lays out split virtqueues in it as a virtio driver does.
Guest physical address = offset in the memfd; the "front-end virtual
address" given for the rings is that plus VA_OFF."""
import array
import mmap
import os
import socket
import struct
import time

GET_FEATURES, SET_FEATURES, SET_OWNER = 1, 2, 3
SET_MEM_TABLE = 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
SEND_RARP = 19

F_VERSION_1 = 1 << 32
F_MRG_RXBUF = 1 << 15
F_INDIRECT = 1 << 28
F_EVENT_IDX = 1 << 29

D_NEXT, D_WRITE, D_INDIRECT = 1, 2, 4
HDR_F_NEEDS_CSUM = 1

MEM = 4 << 20
VA_OFF = 0x7f0000000000
RING_AREA = 0x10000          # each vring: 16 KiB from RING_AREA + 16K * index
BUF_AREA = 0x100000          # buffers
BUF_SIZE = 2048


class Vring:
    def __init__(self, g, index, size):
        self.g, self.index, self.size = g, index, size
        self.desc = RING_AREA + 0x4000 * index
        self.avail = self.desc + 16 * size
        self.used = self.desc + 0x2000
        self.avail_idx = 0
        self.used_seen = 0
        self.next_desc = 0

    # ring memory
    def put_desc(self, i, addr, length, flags=0, nxt=0):
        struct.pack_into("<QIHH", self.g.mem, self.desc + 16 * i, addr, length, flags, nxt)

    def post(self, head):
        """Make the chain at head available (one avail entry)."""
        struct.pack_into("<H", self.g.mem, self.avail + 4 + 2 * (self.avail_idx % self.size), head)
        self.set_avail_idx((self.avail_idx + 1) & 0xffff)

    def set_avail_idx(self, v):
        # One 16-bit store, as a driver does: struct.pack_into zero-fills
        # its target first, and a device polling the index would see 0.
        self.avail_idx = v
        self.g.u16(self.avail + 2)[0] = v

    def used_idx(self):
        return self.g.u16(self.used + 2)[0]

    def take_used(self):
        """(id, len) of the used entries not taken yet."""
        out = []
        u = self.used_idx()
        assert (u - self.used_seen) & 0xffff <= self.size, \
            "used index %d, %d entries ahead of the last seen" % (u, u - self.used_seen)
        while self.used_seen != u:
            e = self.used + 4 + 8 * (self.used_seen % self.size)
            out.append(struct.unpack_from("<II", self.g.mem, e))
            self.used_seen = (self.used_seen + 1) & 0xffff
        return out

    def wait_used(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < n and time.monotonic() < deadline:
            got += self.take_used()
            if len(got) < n:
                time.sleep(0.005)
        return got

    def alloc(self):
        i = self.next_desc
        self.next_desc = (self.next_desc + 1) % self.size
        return i


class Guest:
    """One vhost-user device with 2 vrings: 0 = guest rx, 1 = guest tx."""

    def __init__(self, path, features=F_VERSION_1 | F_MRG_RXBUF | F_INDIRECT, size=16,
                 timeout=10):
        self.path, self.features, self.size = path, features, size
        self.fd = os.memfd_create("vsw-test-guest")
        os.ftruncate(self.fd, MEM)
        self.mem = mmap.mmap(self.fd, MEM)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.vr = [Vring(self, 0, size), Vring(self, 1, size)]
        self.kick = [os.eventfd(0, os.EFD_NONBLOCK) for _ in range(2)]
        self.call = [os.eventfd(0, os.EFD_NONBLOCK) for _ in range(2)]
        self.tx_buf = 0
        self.rx_buf = 0

    def u16(self, off):
        """A 16-bit view of guest memory at off: one load or store per access."""
        return memoryview(self.mem)[off:off + 2].cast("H")

    # ------------------------------------------------------------ protocol
    def send(self, req, payload=b"", fds=(), reply=False, ack=False):
        """One message; reply: read the back-end's reply; ack: ask for one
        (VHOST_USER_NEED_REPLY) and wait until the message was handled."""
        hdr = struct.pack("<III", req, 0x1 | (0x8 if ack else 0), len(payload))
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.sock.sendmsg([hdr + payload], anc)
        if reply or ack:
            h = self._recv_exact(12)
            r, _fl, size = struct.unpack("<III", h)
            assert r == req, (r, req)
            return self._recv_exact(size)
        return None

    def _recv_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.sock.recv(n - len(b))
            if not c:
                raise ConnectionError("vhost-user socket closed")
            b += c
        return b

    def mem_table(self, ack=False):
        region = struct.pack("<QQQQ", 0, MEM, VA_OFF, 0)
        r = self.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) + region, fds=[self.fd], ack=ack)
        assert r is None or r == bytes(8), r

    def set_call(self, i, fd, ack=False):
        r = self.send(SET_VRING_CALL, struct.pack("<Q", i), fds=[fd], ack=ack)
        assert r is None or r == bytes(8), r

    def setup(self):
        """Negotiate and start both vrings (the device then runs)."""
        offered = struct.unpack("<Q", self.send(GET_FEATURES, reply=True))[0]
        assert offered & self.features == self.features, hex(offered)
        self.send(SET_OWNER)
        self.send(SET_FEATURES, struct.pack("<Q", self.features))
        self.mem_table()
        for v in self.vr:
            self.send(SET_VRING_NUM, struct.pack("<II", v.index, v.size))
            self.send(SET_VRING_ADDR, struct.pack("<IIQQQQ", v.index, 0, VA_OFF + v.desc,
                                                  VA_OFF + v.used, VA_OFF + v.avail, 0))
            self.send(SET_VRING_BASE, struct.pack("<II", v.index, 0))
            self.send(SET_VRING_KICK, struct.pack("<Q", v.index), fds=[self.kick[v.index]])
            self.set_call(v.index, self.call[v.index])
        return self

    def vring_base(self, i):
        """GET_VRING_BASE: stops the device; the index the device stopped at."""
        return struct.unpack("<II", self.send(GET_VRING_BASE, struct.pack("<II", i, 0),
                                              reply=True))[1]

    def close(self):
        """Disconnect and free the guest's memory (again: nothing)."""
        if self.fd < 0:
            return
        self.sock.close()
        for fd in self.kick + self.call:
            os.close(fd)
        self.mem.close()
        os.close(self.fd)
        self.fd = -1

    # ------------------------------------------------------------- buffers
    def buf(self, slot):
        return BUF_AREA + BUF_SIZE * slot

    @property
    def hdr_len(self):
        return 12 if self.features & (F_VERSION_1 | F_MRG_RXBUF) else 10

    def hdr(self, flags=0, gso=0, csum_start=0, csum_off=0):
        h = struct.pack("<BBHHHH", flags, gso, 0, 0, csum_start, csum_off)
        return h + (b"\0\0" if self.hdr_len == 12 else b"")

    def send_frame(self, frame, hdr=None, split=None):
        """Queue one frame on the tx vring. split: list of piece lengths of
        header+frame, one descriptor each (default: one descriptor)."""
        v = self.vr[1]
        data = (hdr if hdr is not None else self.hdr()) + frame
        pieces = split or [len(data)]
        assert sum(pieces) == len(data)
        descs = [v.alloc() for _ in pieces]
        off = 0
        for k, (d, ln) in enumerate(zip(descs, pieces)):
            a = self.buf(32 + self.tx_buf % 256)
            self.tx_buf += 1
            self.mem[a:a + ln] = data[off:off + ln]
            off += ln
            last = k == len(pieces) - 1
            v.put_desc(d, a, ln, 0 if last else D_NEXT, 0 if last else descs[k + 1])
        v.post(descs[0])

    def send_indirect(self, frame):
        """One frame through an indirect table of two descriptors."""
        v = self.vr[1]
        data = self.hdr() + frame
        tab = self.buf(300 + self.tx_buf % 16)
        a = self.buf(320 + self.tx_buf % 16)
        self.tx_buf += 1
        self.mem[a:a + len(data)] = data
        struct.pack_into("<QIHH", self.mem, tab, a, self.hdr_len, D_NEXT, 1)
        struct.pack_into("<QIHH", self.mem, tab + 16, a + self.hdr_len, len(frame), 0, 0)
        d = v.alloc()
        v.put_desc(d, tab, 32, D_INDIRECT, 0)
        v.post(d)

    def send_raw(self, head_desc_fn):
        """A hand-made chain: head_desc_fn(vring) writes descriptors and
        returns the head to post."""
        v = self.vr[1]
        v.post(head_desc_fn(v))

    def post_rx(self, n, length=BUF_SIZE, addr=None):
        """n receive buffers of length bytes; returns their heads."""
        v = self.vr[0]
        heads = []
        for _ in range(n):
            d = v.alloc()
            a = addr if addr is not None else self.buf(self.rx_buf % 32)
            self.rx_buf += 1
            v.put_desc(d, a, length, D_WRITE, 0)
            v.post(d)
            heads.append((d, a))
        return heads

    def rx_frames(self, heads, n, timeout=5.0):
        """The (len, bytes) of n used rx entries, mapped to the posted heads."""
        addr = dict(heads)
        out = []
        for hid, ln in self.vr[0].wait_used(n, timeout):
            a = addr[hid]
            out.append((ln, bytes(self.mem[a:a + ln])))
        return out
