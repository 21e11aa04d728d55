# SPDX-License-Identifier: BSD-3-Clause
"""vsw's own walk of guests' split virtqueues, driven by a Python
vhost-user front-end (vhostuser.py) that controls every descriptor:
chains split over several descriptors, indirect tables, mergeable receive
buffers, malformed chains of every kind, and vhost-user messages sent
while the device runs (which take the device back from the PMD and give
its ring indices to rte_vhost, then give it again)."""
import json
import struct
import subprocess
import time

import pytest

import vhostuser as vu
from vswlib import BCAST, VSWCTL, frame, mac, macb, read_pcap, wait_for

pytestmark = pytest.mark.timeout(60)

A, B = mac(0xA1), mac(0xB2)
WALK = ("--vhost-walk", "vsw")


def hdr_rx(num_buffers=1):
    """The virtio-net header vsw writes before a plain frame (12 bytes)."""
    return struct.pack("<BBHHHHH", 0, 0, 0, 0, 0, 0, num_buffers)


def two_guests(d):
    d.ctl("add-port", "br0", "p1", "type=vhost-user")
    d.ctl("add-port", "br0", "p2", "type=vhost-user")
    g1 = vu.Guest(d.port("p1")["path"]).setup()
    g2 = vu.Guest(d.port("p2")["path"]).setup()
    d.wait_port_state("p1", "up")
    d.wait_port_state("p2", "up")
    vh = {v["port"]: v for v in d.ctl("vhost-show")}
    assert vh["p1"]["walk"] == "vsw" and vh["p2"]["walk"] == "vsw", vh
    return g1, g2


def learn_b(d, g1, g2):
    """B (g2) says hello: g1 gets the broadcast, vsw learns B on p2."""
    heads = g1.post_rx(2)
    hello = frame(BCAST, B, 1)
    g2.send_frame(hello)
    assert [ln for _, ln in g2.vr[1].wait_used(1)] == [0]
    assert g1.rx_frames(heads, 1) == [(12 + len(hello), hdr_rx() + hello)]
    d.wait_learned({B: "p2"})


@pytest.fixture
def walked(vswd_factory):
    """A vswd walking the rings itself, guests g1 (A, p1) and g2 (B, p2)
    attached, B learned; the guests are closed at the end."""
    d = vswd_factory(extra=WALK)
    g1, g2 = two_guests(d)
    try:
        learn_b(d, g1, g2)
        yield d, g1, g2
    finally:
        g1.close()
        g2.close()


def bad_addr(v):
    d = v.alloc()
    v.put_desc(d, 0x40000000, 80)          # far outside the 4 MiB of guest memory
    return d


def bad_loop(v):
    d = v.alloc()
    v.put_desc(d, vu.BUF_AREA, 64, vu.D_NEXT, d)     # next = itself
    return d


def bad_head(v):
    return 99                                # >= ring size (16)


def bad_indirect(v):
    d = v.alloc()
    v.put_desc(d, vu.BUF_AREA + 0x8000, 24, vu.D_INDIRECT)   # not a multiple of 16
    return d


def test_walk_chains_indirect_mergeable_and_malformed(walked):
    """Every good frame arrives exactly (one descriptor, a chain of three,
    an indirect table, a frame merged over two receive buffers); every
    malformed chain (address outside guest memory, a loop, a head index
    past the ring, a bad indirect table, a TSO frame that was not
    offered, a receive buffer outside memory) is given back as used,
    counted guest_desc on its port, and nothing else changes."""
    d, g1, g2 = walked
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    good = [frame(B, A, 10 + i, size=60 + 97 * i) for i in range(6)]
    rx = g2.post_rx(5)      # one per good frame: the ring is empty after
    g1.send_frame(good[0])
    g1.send_raw(bad_addr)
    g1.send_frame(good[1], split=[12, 20, 12 + len(good[1]) - 32])
    g1.send_raw(bad_loop)
    g1.send_indirect(good[2])
    g1.send_raw(bad_head)
    g1.send_frame(good[3], hdr=g1.hdr(gso=1))          # VIRTIO_NET_HDR_GSO_TCPV4
    g1.send_raw(bad_indirect)
    g1.send_frame(good[4], split=[5, 7, 12 + len(good[4]) - 12])
    g1.send_frame(good[5])
    used = g1.vr[1].wait_used(10)
    assert len(used) == 10 and all(ln == 0 for _, ln in used), used
    want = [good[i] for i in (0, 1, 2, 4, 5)]
    got = g2.rx_frames(rx, len(want))
    assert [b for _, b in got] == [hdr_rx() + f for f in want]
    assert [ln for ln, _ in got] == [12 + len(f) for f in want]
    st = d.stats()
    assert st["p1"]["drops"]["guest_desc"] == 5, st["p1"]["drops"]
    assert st["p1"]["rx_packets"] == 5 and st["p2"]["tx_packets"] == 5, st
    assert st["p2"]["drops_total"] == 0, st["p2"]["drops"]

    # Receive side: a buffer outside guest memory takes a frame away
    # (given back empty); a 40-byte buffer merges with the next one.
    bad = g2.post_rx(1, addr=0x40000000)
    small = g2.post_rx(1, length=40)
    big = g2.post_rx(1)
    f1, f2 = frame(B, A, 50, size=100), frame(B, A, 51, size=100)
    g1.send_frame(f1)
    g1.send_frame(f2)
    used = g2.vr[0].wait_used(3)
    assert used == [(bad[0][0], 0), (small[0][0], 40), (big[0][0], 12 + 100 - 40)], used
    merged = bytes(g2.mem[small[0][1]:small[0][1] + 40]) + \
        bytes(g2.mem[big[0][1]:big[0][1] + 72])
    assert merged == hdr_rx(num_buffers=2) + f2
    st = d.stats()
    assert st["p2"]["drops"]["guest_desc"] == 1, st["p2"]["drops"]
    assert st["p2"]["tx_packets"] == 6, st["p2"]

    # An avail index moved far past the ring: nothing is taken (one
    # guest_desc for the episode, not one per poll) until it is sane.
    v = g1.vr[1]
    sane = v.avail_idx
    v.set_avail_idx((sane + 1000) & 0xffff)
    wait_for(lambda: d.stats()["p1"]["drops"]["guest_desc"] == 6, 5,
             what="the insane avail index counted")
    time.sleep(0.2)
    st = d.stats()
    assert st["p1"]["drops"]["guest_desc"] == 6 and st["p1"]["rx_packets"] == 7, st["p1"]
    assert v.used_idx() == sane
    v.set_avail_idx(sane)
    rx = g2.post_rx(1)
    f3 = frame(B, A, 52, size=200)
    g1.send_frame(f3)
    assert g2.rx_frames(rx, 1) == [(12 + 200, hdr_rx() + f3)]
    d.assert_mbufs(base)
    g1.close()
    d.wait_port_state("p1", "down")


def test_walk_messages_while_running(walked):
    """vhost-user messages that can change the rings (a new call eventfd,
    the memory table again) take the device back from the PMD and give it
    again: no frame lost or repeated. GET_VRING_BASE then reports exactly
    the index vsw stopped at."""
    d, g1, g2 = walked
    base = d.mbuf_in_use()
    p0 = {v["port"]: v["walk_pauses"] for v in d.ctl("vhost-show")}
    sent = []
    for rnd in range(4):
        rx = g2.post_rx(8)
        fl = [frame(B, A, 100 * rnd + i, size=64 + 31 * i) for i in range(8)]
        for f in fl[:4]:
            g1.send_frame(f)
        # The sender's device is taken back while its frames may still
        # be in its ring: they wait there, none lost or sent twice.
        g1.mem_table(ack=True)
        got = g2.rx_frames(rx, 4)
        # The receiver's (nothing in flight to it: frames sent to a
        # guest while rte_vhost handles its message are dropped).
        new_call = vu.os.eventfd(0, vu.os.EFD_NONBLOCK)
        g2.set_call(0, new_call, ack=True)
        vu.os.close(g2.call[0])
        g2.call[0] = new_call
        for f in fl[4:]:
            g1.send_frame(f)
        got += g2.rx_frames(rx, 4)
        assert [b for _, b in got] == [hdr_rx() + f for f in fl], json.dumps((rnd, len(got), {k: v for k, v in d.stats()["p2"]["drops"].items() if v}, d.stats()["p1"], d.ctl("vhost-show")))
        assert len(g1.vr[1].wait_used(8)) == 8
        sent += fl
    wait_for(lambda: all(v["walk_pauses"] >= p0[v["port"]] + 4 and v["walk"] == "vsw"
                         for v in d.ctl("vhost-show")), 5, what="walk pauses counted")
    # The device stops at exactly what vsw took (33 = hello + 32 frames on g2's side).
    assert g1.vring_base(1) == len(sent)
    assert g2.vring_base(1) == 1
    assert g2.vring_base(0) == len(sent)
    st = d.stats()
    assert st["p2"]["tx_packets"] >= len(sent) and st["p1"]["drops_total"] == 0, st
    d.wait_port_state("p1", "down")
    d.assert_mbufs(base)


def test_walk_resumes_after_a_failed_message(walked):
    """rte_vhost skips the post-message handler of a message it refuses
    (here SET_FEATURES with a bit it never offered, acknowledged as an
    error). The device, taken back before that message, is given to the
    PMD again with the guest's next message; frames sent to it meanwhile
    are counted port_down, and nothing is lost after."""
    d, g1, g2 = walked
    base = d.mbuf_in_use()
    p0 = {v["port"]: v["walk_pauses"] for v in d.ctl("vhost-show")}
    ack = g2.send(vu.SET_FEATURES, struct.pack("<Q", g2.features | 1 << 63), ack=True)
    assert ack != bytes(8), ack          # refused
    wait_for(lambda: {v["port"]: v["walk"] for v in d.ctl("vhost-show")}["p2"] == "rte",
             5, what="p2 taken back (shown as not walked)")
    d.ctl("port-stats-clear")
    lost = frame(B, A, 70)
    g1.send_frame(lost)
    wait_for(lambda: d.stats()["p2"]["drops"]["port_down"] == 1, 5,
             what="the frame to the paused guest counted port_down")
    rx = g2.post_rx(2)
    g2.mem_table(ack=True)               # the next message gives it back
    vh = {v["port"]: v for v in d.ctl("vhost-show")}
    assert vh["p2"]["walk"] == "vsw" and vh["p2"]["walk_pauses"] == p0["p2"] + 2, vh["p2"]
    fl = [frame(B, A, 71 + i) for i in range(2)]
    for f in fl:
        g1.send_frame(f)
    assert [b for _, b in g2.rx_frames(rx, 2)] == [hdr_rx() + f for f in fl]
    d.assert_mbufs(base)


@pytest.mark.parametrize("walk", ["rte", "vsw"])
def test_send_rarp_announces_the_guest(vswd_factory, walk):
    """SEND_RARP (what QEMU sends after a live migration, for guests that
    cannot announce themselves): the switch sends one RARP broadcast from
    the guest's MAC as if the guest had, so every port sees it and the
    table learns the guest's new port, whichever way the guest's rings are
    walked (rte_vhost's functions or vsw's own)."""
    d = vswd_factory(extra=("--vhost-walk", walk))
    d.ctl("add-port", "br0", "p1", "type=vhost-user")
    tap = d.add_tap("t1")
    g = vu.Guest(d.port("p1")["path"]).setup()
    try:
        d.wait_port_state("p1", "up")
        vh = {v["port"]: v for v in d.ctl("vhost-show")}
        assert vh["p1"]["walk"] == walk, vh
        tap.drain()
        d.ctl("port-stats-clear")
        base = d.mbuf_in_use()
        m = mac(0xC3)
        assert m not in d.fdb()
        g.send(vu.SEND_RARP, macb(m) + b"\0\0")
        got = tap.recv(1, 5, 0.3)
        assert len(got) == 1, got
        f = got[0]
        assert f[0:6] == b"\xff" * 6 and f[6:12] == macb(m), f.hex()
        assert f[12:14] == b"\x80\x35", f.hex()                # RARP
        assert f[20:22] == b"\x00\x03" and f[22:28] == macb(m), f.hex()  # request, sender
        d.wait_learned({m: "p1"})
        st = d.stats()
        assert st["p1"]["rx_packets"] == 1 and st["t1"]["tx_packets"] == 1, st
        # Once: nothing more comes.
        assert tap.recv(None, 0, 0.3) == []
        d.assert_mbufs(base)
    finally:
        g.close()


def vlan_tag(f, vid):
    return f[:12] + struct.pack("!HH", 0x8100, vid) + f[12:]


F_LOG_ALL = 1 << 26      # VHOST_F_LOG_ALL: keeps a guest on rte_vhost's functions


@pytest.mark.parametrize("copy", ["once", "twice"])
def test_copy_once_every_way_out(vswd_factory, tmp_path, copy):
    """Frames over 512 bytes from a walked guest leave their payload in the
    sender's buffer until they go out (--vhost-copy=once, the default):
    each way out must still send every byte. VLAN 10: g1 (A, access p1)
    sends to g2 (B, access p2) into one buffer (the receiver copies
    straight from g1's buffer) and merged over a 600-byte and a 2 KiB
    buffer (the cursor path); a broadcast that reaches g2, g4 and, tagged,
    g3 and a trunk tap while shared (the tag goes on a copy of the head); a
    unicast to the tap (tagged in place, then a DPDK port); a unicast to
    g4, a guest on rte_vhost's functions (dirty logging negotiated). g3, a
    trunk guest, sends a tagged frame to g2 (the tag comes off in place).
    Then again with g2's transmit side captured. Exact bytes everywhere,
    every sender's buffer given back, exact counters (copy_once counts the
    frames that stayed lazy), no mbuf leak; the same bytes with
    --vhost-copy=twice."""
    d = vswd_factory(extra=WALK + ("--vhost-copy", copy))
    d.ctl("add-port", "br0", "p1", "type=vhost-user", "tag=10")
    d.ctl("add-port", "br0", "p2", "type=vhost-user", "tag=10")
    d.ctl("add-port", "br0", "p3", "type=vhost-user", "trunks=10")
    d.ctl("add-port", "br0", "p4", "type=vhost-user", "tag=10")
    tap = d.add_tap("t1", trunks="10")
    g1 = vu.Guest(d.port("p1")["path"]).setup()
    g2 = vu.Guest(d.port("p2")["path"]).setup()
    g3 = vu.Guest(d.port("p3")["path"]).setup()
    g4 = vu.Guest(d.port("p4")["path"], features=vu.F_VERSION_1 | vu.F_MRG_RXBUF |
                  F_LOG_ALL).setup()
    C, D, T = mac(0xC3), mac(0xD4), mac(0xE5)
    try:
        for p in ("p1", "p2", "p3", "p4"):
            d.wait_port_state(p, "up")
        vh = {v["port"]: v["walk"] for v in d.ctl("vhost-show")}
        assert vh == {"p1": "vsw", "p2": "vsw", "p3": "vsw", "p4": "rte"}, vh
        # Learn B, C, D and T (each hello floods to the others: drained).
        # Exactly the hellos each will get, so later frames use later buffers.
        for g, n in ((g1, 4), (g2, 3), (g3, 3), (g4, 3)):
            g.post_rx(n)
        g2.send_frame(frame(BCAST, B, 1))
        g3.send_frame(vlan_tag(frame(BCAST, C, 2), 10))
        g4.send_frame(frame(BCAST, D, 3))
        tap.send([vlan_tag(frame(BCAST, T, 4), 10)])
        d.wait_learned({B: "p2", C: "p3", D: "p4", T: "t1"})
        for g, n in ((g1, 4), (g2, 3), (g3, 3), (g4, 3)):
            assert len(g.vr[0].wait_used(n)) == n
            g.vr[1].take_used()
        tap.drain()
        d.ctl("port-stats-clear")
        base = d.mbuf_in_use()

        # Round 1, nothing captured.
        rx = g2.post_rx(2)
        small = g2.post_rx(1, length=600)
        big = g2.post_rx(1)
        popped = g2.post_rx(1)
        rx4 = g4.post_rx(2)
        rx3 = g3.post_rx(1)
        u1 = frame(B, A, 10, size=1400)
        b1 = frame(BCAST, A, 11, size=900)
        u2 = frame(B, A, 12, size=1000)
        u3 = frame(T, A, 13, size=1200)
        u4 = frame(D, A, 14, size=1300)
        c1 = frame(B, C, 15, size=1100)
        for f in (u1, b1, u2, u3, u4):
            g1.send_frame(f)
        used = g1.vr[1].wait_used(5)
        assert [ln for _, ln in used] == [0] * 5, used
        g3.send_frame(vlan_tag(c1, 10))
        assert [ln for _, ln in g3.vr[1].wait_used(1)] == [0]
        m = g2.vr[0].wait_used(5)
        assert m == [(rx[0][0], 12 + 1400), (rx[1][0], 12 + 900), (small[0][0], 600),
                     (big[0][0], 12 + 1000 - 600), (popped[0][0], 12 + 1100)], m
        buf = [bytes(g2.mem[a:a + ln]) for (_, a), (_, ln) in zip(rx + small + big + popped, m)]
        assert buf[0] == hdr_rx() + u1 and buf[1] == hdr_rx() + b1
        assert buf[2] + buf[3] == hdr_rx(num_buffers=2) + u2
        assert buf[4] == hdr_rx() + c1
        assert g4.rx_frames(rx4, 2) == [(12 + 900, hdr_rx() + b1), (12 + 1300, hdr_rx() + u4)]
        assert g3.rx_frames(rx3, 1) == [(12 + 904, hdr_rx() + vlan_tag(b1, 10))]
        assert tap.recv(2, timeout=5) == [vlan_tag(b1, 10), vlan_tag(u3, 10)]
        st = d.stats()
        assert (st["p1"]["rx_packets"], st["p3"]["rx_packets"], st["p2"]["tx_packets"],
                st["p3"]["tx_packets"], st["p4"]["tx_packets"], st["t1"]["tx_packets"]) == \
            (5, 1, 4, 1, 2, 2), st
        assert sum(s["drops_total"] for s in st.values()) == 0, st
        lazy = (5, 1) if copy == "once" else (0, 0)
        assert (st["p1"]["copy_once"], st["p3"]["copy_once"]) == lazy, st
        d.assert_mbufs(base)

        # Round 2: g2's transmit side captured (capture reads whole frames).
        out = tmp_path / "p2-tx.pcap"
        cap = subprocess.Popen([VSWCTL, "--ctl", d.ctl_path, "capture", "p2", "tx", str(out),
                                "count=2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        wait_for(lambda: any(c["port"] == "p2" and c["active"] for c in d.ctl("capture-show")),
                 5, what="capture running")
        rx = g2.post_rx(2)
        u5, u6 = frame(B, A, 20, size=1514), frame(B, A, 21, size=513)
        g1.send_frame(u5)
        g1.send_frame(u6)
        assert g2.rx_frames(rx, 2) == [(12 + 1514, hdr_rx() + u5), (12 + 513, hdr_rx() + u6)]
        stdout, stderr = cap.communicate(timeout=20)
        assert cap.returncode == 0, stderr
        assert read_pcap(str(out)) == [u5, u6]
        d.assert_mbufs(base)
    finally:
        for g in (g1, g2, g3, g4):
            g.close()
        tap.close()
