# SPDX-License-Identifier: BSD-3-Clause
"""Stress: a MAC flood from one port, and a storm of port additions and
deletions, while other ports carry traffic that must not lose a frame."""
import os
import struct
import threading
import time

import pytest

import vswlib
from vswlib import BCAST, frame, frames, mac, wait_for


def write_flood_pcap(path, n, dst):
    """n 64-byte frames, each from a different random-looking unicast MAC."""
    dstb = vswlib.macb(dst)
    hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    rec = struct.pack("<IIII", 0, 0, 64, 64)
    body = struct.pack("!H", vswlib.ETH_TEST) + bytes(50)
    with open(path, "wb") as f:
        f.write(hdr)
        chunk = []
        for i in range(n):
            x = (i * 2654435761) & 0xFFFFFFFF           # spread the MACs
            src = bytes([0x0A, 0x77, (x >> 24) & 0xFF, (x >> 16) & 0xFF, (x >> 8) & 0xFF,
                         x & 0xFF])
            chunk.append(rec + dstb + src + body)
            if len(chunk) == 65536:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def learned_taps(d, a, b):
    """Tap ports t1 and t2 with MAC a learned on t1 and b on t2, drained."""
    t1 = d.add_tap("t1")
    t2 = d.add_tap("t2")
    t1.send([frame(BCAST, a, 0)])
    t2.send([frame(BCAST, b, 0)])
    d.wait_learned({a: "t1", b: "t2"})
    t1.drain()
    t2.drain()
    return t1, t2


def uses_asan(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def fd_targets(pid):
    """{fd: what it points at} of process PID (sockets, files, anon inodes)."""
    out = {}
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            out[int(fd)] = os.readlink(os.path.join(d, fd))
        except OSError:
            pass            # closed between listdir and readlink
    return out


def settled_fds(pid, before, timeout=3.0):
    """The fds of PID once their number is back to len(BEFORE), or after
    TIMEOUT s. A control connection is closed by vswd after the reply that
    vswctl has already read, and a deleted vhost-user socket is torn down by
    rte_vhost's own thread, so the count can lag the last command briefly."""
    deadline = time.monotonic() + timeout
    while True:
        now = fd_targets(pid)
        if len(now) <= len(before) or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.timeout(240)
def test_mac_flood_held_by_port_limit(vswd, tmp_path):
    """Steps: port-max-macs=1000; two tap ports learn their MACs; a net_pcap
    port replays 1 000 000 frames from 1 000 000 different source MACs
    while the taps exchange paced unicast.
    Verify: the flooding port holds at most 1000 MACs, frames beyond the
    limit are dropped as learn_limit, the taps' entries are still there
    (not evicted, not moved), their traffic arrives complete and in order,
    mbufs back to baseline."""
    d = vswd
    d.ctl("set-br", "br0", "port-max-macs=1000")
    a, b = mac(0x91), mac(0x92)
    t1, t2 = learned_taps(d, a, b)
    base = d.mbuf_in_use()
    pcap = str(tmp_path / "flood.pcap")
    n = 1000000
    write_flood_pcap(pcap, n, mac(0x99))          # unknown destination: flooded
    a2b = frames(b, a, 400)
    got = []
    def collect():
        # Until the whole unicast stream is in (t2 also gets flooded frames).
        end = time.monotonic() + 60
        while time.monotonic() < end:
            got.extend(t2._read())
            if sum(1 for f in got if vswlib.src_of(f) == a) >= len(a2b):
                break
            time.sleep(0.005)
        got.extend(t2.recv(None, timeout=0, settle=0.5))
    rx = threading.Thread(target=collect)
    rx.start()
    d.ctl("add-port", "br0", "fl", "type=dpdk",
          "devargs=net_pcap%d,rx_pcap=%s" % (vswlib.uniq(), pcap))
    t1.send(a2b, pace=0.002)
    wait_for(lambda: d.stats()["fl"]["rx_packets"] == n, 120, 0.5, "the flood to be read")
    rx.join(70)
    # t2 also gets the flooded frames sent before the limit took hold.
    uni = [f for f in got if vswlib.src_of(f) == a]
    assert uni == a2b, "t2 got %d of %d frames of the unicast stream" % (len(uni), len(a2b))
    st = d.stats()["fl"]
    fdb = d.fdb()
    on_fl = [m for m, e in fdb.items() if e["port"] == "fl"]
    assert len(on_fl) <= 1000, len(on_fl)
    assert fdb[a]["port"] == "t1" and fdb[b]["port"] == "t2", (fdb.get(a), fdb.get(b))
    # Learning is asynchronous (the control thread inserts, then marks the
    # port full): a few thousand frames get through before the limit
    # holds, every other one is dropped as learn_limit.
    assert st["drops"]["learn_limit"] >= n - 5000, st
    assert st["drops"]["learn_limit"] + st["drops"]["no_dest"] <= n
    fs = d.fdb_stats()
    assert fs["moved"] == 0 and fs["limit_hits"] > 0, fs
    d.ctl("del-port", "fl")
    d.assert_mbufs(base)
    t1.close()
    t2.close()


@pytest.mark.timeout(300)
def test_port_storm_no_leak(vswd):
    """Steps: two tap ports exchange paced unicast while 1000 ports
    (vhost-user sockets and kernel taps) are added and deleted.
    Verify: the unicast stream arrives complete and in order, no
    counter of the taps shows a drop, mbufs in use, open file descriptors
    and RSS are back to (or near) their values before the storm."""
    d = vswd
    a, b = mac(0xA1), mac(0xA2)
    t1, t2 = learned_taps(d, a, b)
    d.ctl("port-stats-clear")
    pid = d.proc.pid
    # Warm up allocations (first vhost socket, first ring), then measure.
    for i in range(5):
        d.ctl("add-port", "br0", "w%d" % i, "type=vhost-user")
        d.ctl("del-port", "w%d" % i)
    base = d.mbuf_in_use()
    fds0 = min((fd_targets(pid) for _ in range(5) if time.sleep(0.1) is None), key=len)
    rss0 = rss_kb(pid)
    stream = vswlib.PacedStream(t1, b, a, 0.003)
    # Not net_ring: DPDK 22.11's net_ring does not free its rings when the
    # device is removed, so ~350 of them exhaust the memzones (a driver
    # leak, not vswd's). Not net_null: it "receives" whatever stale bytes
    # its mbufs hold, i.e. copies of our own stream.
    kinds = ["type=vhost-user", "type=vhost-user",
             "type=dpdk devargs=net_tap%d,iface=vss" + str(os.getpid() % 10000) + "_%d"]
    try:
        for i in range(1000):
            k = kinds[i % 3]
            if "%d" in k:
                k = k % (vswlib.uniq(), i)
            args = k.split()
            d.ctl("add-port", "br0", "s%d" % i, *args)
            d.ctl("del-port", "s%d" % i)
    finally:
        sent = stream.stop()
    got = t2.recv(len(sent), timeout=10)
    assert got == sent, "t2 got %d of %d frames" % (len(got), len(sent))
    st = d.stats()
    assert st["t2"]["drops_total"] == 0 and st["t1"]["drops_total"] == 0, st
    assert d.port_names() == ["t1", "t2"] or sorted(d.port_names()) == ["t1", "t2"]
    d.assert_mbufs(base)
    fds1 = settled_fds(pid, fds0)
    rss1 = rss_kb(pid)
    grown = sorted(set(fds1.items()) - set(fds0.items()))
    assert len(fds1) <= len(fds0), "file descriptors grew from %d to %d: %s" % (
        len(fds0), len(fds1), grown)
    # Under AddressSanitizer freed memory sits in ASan's quarantine (256 MB
    # by default) and RSS grows by design; LeakSanitizer checks leaks at
    # exit there instead.
    allowance = 20 * 1024 + (256 * 1024 if uses_asan(pid) else 0)
    assert rss1 - rss0 < allowance, "RSS grew by %d kB over 1000 add/del" % (rss1 - rss0)
    print("storm: %d frames, fds %d -> %d, RSS %d -> %d kB" % (len(sent), len(fds0), len(fds1), rss0,
                                                               rss1))
    t1.close()
    t2.close()
