# SPDX-License-Identifier: BSD-3-Clause
"""A guest that stops draining its rx ring (testpmd told to `stop`
forwarding, or the whole VM frozen with SIGSTOP) while a net_pcap port
pours frames at it: what does not fit is counted tx_full on its port, the
PMD does not wait for it, and a paced stream between two other ports keeps
flowing with no loss and no stall. test_vhost.py::test_vhost_ring_full
covers the exact counts for a guest that never started."""
import os
import signal
import struct
import time

import pytest

import vswlib
from vswlib import (BCAST, StampedCapture, StampedStream, VPort, frame, mac, seq_of,
                    wait_for)

pytestmark = pytest.mark.timeout(180)

A, B, V, F = mac(0xD1), mac(0xD2), mac(0xD3), mac(0xD4)
CYCLES = 5


def write_pcap_fast(path, n, dst, src, size=64):
    """n frames dst <- src of `size` bytes (no per-frame Python objects)."""
    rec = struct.pack("<IIII", 0, 0, size, size)
    body = vswlib.macb(dst) + vswlib.macb(src) + struct.pack("!H", vswlib.ETH_TEST)
    body += bytes(size - len(body))
    chunk = (rec + body) * 4096
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for _ in range(n // 4096):
            f.write(chunk)
        f.write((rec + body) * (n % 4096))


@pytest.mark.parametrize("how", ["testpmd-stop", "sigstop"])
def test_guest_stops_draining(vswd, vm_factory, tmp_path, how):
    """Steps: taps t1/t2 (MACs A/B learned) and a testpmd guest on vhost-user
    port vm (MAC V, static entry) that forwards at first; the guest stops
    draining (`stop` at its prompt, or SIGSTOP); a paced A->B stream runs
    while a net_pcap port replays 1 000 000 frames to V, 5 times; then the guest
    resumes and is sent 10 more frames.
    Verify: every frame to V is either delivered or counted tx_full at vm
    (exactly: tx_packets + tx_full == 5 000 000), tx_full > 0 and no other
    drop; the A->B stream arrives complete, in order, and no frame of it
    took more than 2 s (the PMD never waited on the full ring, which stays
    full until the guest resumes after the stream; 2 s, not less: this machine
    is shared and busy), including
    the ones sent while the flood ran; pmd-stats keeps counting; the resumed
    guest gets the 10 new frames after what fit in its ring; mbufs back to
    baseline."""
    d = vswd
    t1 = d.add_tap("t1")
    t2 = d.add_tap("t2")
    t1.send([frame(BCAST, A, 0)])
    t2.send([frame(BCAST, B, 0)])
    d.wait_learned({A: "t1", B: "t2"})
    d.ctl("add-port", "br0", "vm", "type=vhost-user")
    d.ctl("fdb-add", "br0", V, "vm")
    vm = vm_factory("stall-vm", [VPort(d.port("vm")["path"], mac=V, tx=[])]).launch()
    d.wait_port_state("vm", "up", 15)
    vm.start()
    # the guest drains at first: a frame to V is delivered, not dropped
    t1.send([frame(V, A, 1)])
    wait_for(lambda: d.stats()["vm"]["tx_packets"] == 1, 5, 0.05, "a frame delivered to vm")
    t1.drain()
    t2.drain()
    if how == "sigstop":
        os.kill(vm.proc.pid, signal.SIGSTOP)
    else:
        vm.cmd("stop")
        time.sleep(1.0)               # testpmd has left its forwarding loop
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    pkts0 = sum(p["packets"] for p in d.ctl("pmd-stats"))

    n = 1000000
    pcap = str(tmp_path / "to-v.pcap")
    write_pcap_fast(pcap, n, V, F)
    cap = StampedCapture(t2)
    stream = StampedStream(t1, B, A, 0.001, seq0=100)
    windows = []
    try:
        time.sleep(0.3)
        # The pcap port reads its file in a fraction of a second: replay it
        # CYCLES times (a new port each time) for a longer flood.
        for c in range(CYCLES):
            t0 = time.monotonic()
            d.ctl("add-port", "br0", "fl", "type=dpdk",
                  "devargs=net_pcap%d,rx_pcap=%s" % (vswlib.uniq(), pcap))
            wait_for(lambda: d.stats()["fl"]["rx_packets"] == n, 120, 0.05,
                     "the flood to be read")
            assert d.stats()["fl"]["drops_total"] == 0
            d.ctl("del-port", "fl")
            windows.append((t0, time.monotonic()))
        time.sleep(0.5)
    finally:
        sent = stream.stop()
    got = cap.stop(settle=0.5)
    t_flood, t_flood_end = windows[0][0], windows[-1][1]
    st = d.stats()
    vs = st["vm"]
    total = CYCLES * n
    print("%s: flood of %d x %d frames in %.2f s; vm tx_packets %d, tx_full %d"
          % (how, CYCLES, n, t_flood_end - t_flood, vs["tx_packets"], vs["drops"]["tx_full"]))
    assert vs["tx_packets"] + vs["drops"]["tx_full"] == total, vs
    assert vs["drops"]["tx_full"] > 0 and vs["drops_total"] == vs["drops"]["tx_full"], vs
    assert vs["tx_packets"] <= 4096, "a stalled guest cannot take %d frames" % vs["tx_packets"]

    # The A->B stream: complete, in order, never held up by the full ring.
    rx = [(t, f) for t, f in got if vswlib.src_of(f) == A]
    assert [f for _, f in rx] == sent, (
        "t2 got %d of %d frames of the stream (vswd: t1 rx %d, t2 tx %d)"
        % (len(rx), len(sent), st["t1"]["rx_packets"], st["t2"]["tx_packets"]))
    sent_at = dict((s, t) for t, s in stream.log)
    lat = [t - sent_at[seq_of(f)] for t, f in rx]
    during = [lat[i] for i, (t, f) in enumerate(rx)
              if any(a <= sent_at[seq_of(f)] <= b for a, b in windows)]
    assert during, "no stream frame was sent while the flood ran"
    print("%s: stream %d frames, %d sent during the flood; latency max %.3f s (during the "
          "flood %.3f s)" % (how, len(sent), len(during), max(lat), max(during or [0])))
    assert max(lat) < 2.0, "a stream frame took %.3f s: the PMD stalled" % max(lat)
    assert st["t1"]["drops_total"] == 0 and st["t2"]["drops_total"] == 0, (st["t1"], st["t2"])
    pkts1 = sum(p["packets"] for p in d.ctl("pmd-stats"))
    assert pkts1 - pkts0 >= total + len(sent), (pkts0, pkts1)
    d.assert_mbufs(base, what="after the flood into a stalled guest")

    # The guest resumes: it drains what fit, and new frames reach it.
    delivered = vs["tx_packets"]
    if how == "sigstop":
        os.kill(vm.proc.pid, signal.SIGCONT)
    else:
        vm.start()
    time.sleep(0.5)
    new = [frame(V, A, 9000 + i, size=90) for i in range(10)]
    t1.send(new)
    wait_for(lambda: d.stats()["vm"]["tx_packets"] == delivered + 10, 5, 0.05,
             "10 frames delivered to the resumed guest")
    vm.quit()
    rxv = vm.ports[0].rx
    # the first frame (before the stall), what fit in the ring, the 10 new ones
    assert rxv[-10:] == new, "the resumed guest did not get the new frames"
    assert len(rxv) == 1 + delivered + 10, (len(rxv), delivered)
    assert all(vswlib.src_of(f) == F for f in rxv[1:1 + delivered])
    d.assert_mbufs(base)
    t1.close()
    t2.close()
