# SPDX-License-Identifier: BSD-3-Clause
"""vhost-user ports with dpdk-testpmd "VMs" (net_virtio_user) as peers.

A VM port is a virtio-user NIC paired in io forwarding with either
* a net_pcap port: in.pcap's frames go into the switch when forwarding
  starts; what the switch sends to the VM lands in out.pcap (read after
  testpmd quits), or
* a net_tap port: frames written to the kernel tap by the test go into the
  switch, frames from the switch come out on the tap (paced traffic)."""
import os
import re
import subprocess
import threading
import time

import pytest

import vswlib
from vswlib import BCAST, VPort, frame, mac, wait_for

pytestmark = pytest.mark.timeout(90)

A, B, C = mac(0xA1), mac(0xB2), mac(0xC3)


def tx_mix(dst, src, n_uc, n_bc, seq0=0):
    """n_uc unicast src->dst of varied sizes, then n_bc broadcasts."""
    uc = [frame(dst, src, seq0 + i, size=60 + (i * 37) % 1400) for i in range(n_uc)]
    bc = [frame(BCAST, src, seq0 + 1000 + i, size=64) for i in range(n_bc)]
    return uc + bc


def nbytes(fl):
    return sum(len(f) for f in fl)


def check_stats(d, expect):
    """Exact port-stats: expect {port: (rx_frames, tx_frames)}; no drops."""
    st = d.stats()
    for p, (rx, tx) in expect.items():
        s = st[p]
        got = (s["rx_packets"], s["rx_bytes"], s["tx_packets"], s["tx_bytes"], s["drops_total"])
        want = (len(rx), nbytes(rx), len(tx), nbytes(tx), 0)
        assert got == want, ("port-stats %s (rx_packets, rx_bytes, tx_packets, tx_bytes, "
                             "drops_total) = %r, expected %r; drops %r"
                             % (p, got, want, {k: v for k, v in s["drops"].items() if v}))


def wait_counts(d, expect, timeout=10):
    d.wait_stats({p: {"rx_packets": len(rx), "tx_packets": len(tx)}
                  for p, (rx, tx) in expect.items()}, timeout)


def assert_frames(got, want, where):
    if got != want:
        raise AssertionError("%s: got %d frames, expected %d (first difference at %s)"
                             % (where, len(got), len(want),
                                next((i for i, (g, w) in enumerate(zip(got, want)) if g != w),
                                     min(len(got), len(want)))))


def two_vm_exchange(d, vm_factory, kind, tag, n_uc=40, n_bc=10, walk="vsw"):
    """vm1 (MAC A) and vm2 (MAC B) on ports p1/p2 of kind `kind`; B says
    hello (broadcast), then A sends unicast to B and broadcasts.
    Exact frames at each VM, exact counters, mbufs back to the baseline."""
    server = kind == "vhost-user-client"
    socks = {}
    for p in ("p1", "p2"):
        if server:
            socks[p] = os.path.join(d.dir, "%s-%s.sock" % (tag, p))
            d.ctl("add-port", "br0", p, "type=vhost-user-client", "path=%s" % socks[p])
        else:
            d.ctl("add-port", "br0", p, "type=vhost-user")
            socks[p] = d.port(p)["path"]
            assert os.path.exists(socks[p])
    hello = [frame(BCAST, B, 7)]
    to_b = tx_mix(B, A, n_uc, n_bc)
    vm2 = vm_factory("%s-vm2" % tag, [VPort(socks["p2"], server=server, mac=B, tx=hello)])
    vm1 = vm_factory("%s-vm1" % tag, [VPort(socks["p1"], server=server, mac=A, tx=to_b)])
    vm2.launch()
    vm1.launch()
    d.wait_port_state("p1", "up")
    d.wait_port_state("p2", "up")
    # Who walks the guests' rings (vhost-show "walk"; --vhost-walk).
    assert [v["walk"] for v in d.ctl("vhost-show")] == [walk, walk], d.ctl("vhost-show")
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()

    vm2.start()
    d.wait_learned({B: "p2"})
    exp = {"p2": (hello, []), "p1": ([], hello)}
    wait_counts(d, exp)
    vm1.start()
    exp = {"p1": (to_b, hello), "p2": (hello, to_b)}
    wait_counts(d, exp)
    time.sleep(0.3)
    check_stats(d, exp)
    d.wait_learned({A: "p1", B: "p2"})
    vm1.quit()
    vm2.quit()
    assert_frames(vm1.ports[0].rx, hello, "frames the switch sent to vm1")
    assert_frames(vm2.ports[0].rx, to_b, "frames the switch sent to vm2")
    d.wait_port_state("p1", "down")
    d.wait_port_state("p2", "down")
    check_stats(d, exp)
    d.assert_mbufs(base)


def test_vhost_user_ports(vswd, vm_factory):
    two_vm_exchange(vswd, vm_factory, "vhost-user", "srv")


def test_vhost_user_client_ports(vswd, vm_factory):
    two_vm_exchange(vswd, vm_factory, "vhost-user-client", "cli")


@pytest.mark.parametrize("kind", ["vhost-user", "vhost-user-client"])
def test_vhost_walk_rte(vswd_factory, vm_factory, kind):
    """--vhost-walk=rte: rte_vhost's dequeue/enqueue move the guests'
    frames instead of vsw's own walk (the default); same exact results."""
    d = vswd_factory(extra=("--vhost-walk", "rte"))
    two_vm_exchange(d, vm_factory, kind, "rte-" + kind[-6:], walk="rte")


def test_vhost_three_vms_flood(vswd, vm_factory):
    """Broadcast and unknown unicast from one VM reach the two others, not
    itself; unicast between learned VMs reaches only its target."""
    d = vswd
    for p in ("p1", "p2", "p3"):
        d.ctl("add-port", "br0", p, "type=vhost-user")
    hello_b = [frame(BCAST, B, 1)]
    hello_c = [frame(BCAST, C, 2)]
    a_tx = ([frame(mac(0xEE), A, i) for i in range(5)] +        # unknown unicast: flood
            [frame(BCAST, A, 10 + i) for i in range(5)] +       # broadcast: flood
            [frame(B, A, 20 + i, size=300) for i in range(6)] +  # to B only
            [frame(C, A, 30 + i, size=500) for i in range(7)])   # to C only
    vms = {}
    for p, m, tx in (("p2", B, hello_b), ("p3", C, hello_c), ("p1", A, a_tx)):
        vms[p] = vm_factory("fl-" + p, [VPort(d.port(p)["path"], mac=m, tx=tx)]).launch()
    for p in vms:
        d.wait_port_state(p, "up")
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    vms["p2"].start()
    vms["p3"].start()
    d.wait_learned({B: "p2", C: "p3"})
    wait_counts(d, {"p2": (hello_b, hello_c), "p3": (hello_c, hello_b)})
    vms["p1"].start()
    flood = a_tx[:10]
    exp = {"p1": (a_tx, hello_b + hello_c),
           "p2": (hello_b, hello_c + flood + a_tx[10:16]),
           "p3": (hello_c, hello_b + flood + a_tx[16:])}
    wait_counts(d, exp)
    time.sleep(0.3)
    check_stats(d, exp)
    for vm in vms.values():
        vm.quit()
    # vm1 had not started forwarding when the hellos came: they waited in its ring
    assert sorted(vms["p1"].ports[0].rx) == sorted(hello_b + hello_c)
    p2_rx = vms["p2"].ports[0].rx
    p3_rx = vms["p3"].ports[0].rx
    assert sorted(p2_rx) == sorted(exp["p2"][1]), "vm2 got %d frames, expected %d" % (
        len(p2_rx), len(exp["p2"][1]))
    assert sorted(p3_rx) == sorted(exp["p3"][1]), "vm3 got %d frames, expected %d" % (
        len(p3_rx), len(exp["p3"][1]))
    assert [f for f in p2_rx if vswlib.src_of(f) == A] == flood + a_tx[10:16]
    assert [f for f in p3_rx if vswlib.src_of(f) == A] == flood + a_tx[16:]
    d.assert_mbufs(base)


@pytest.mark.parametrize("kind", ["vhost-user", "vhost-user-client"])
def test_vhost_peer_restart(vswd, vm_factory, kind, tmp_path):
    """vm2 is SIGKILLed and restarted on the same socket: its port goes down,
    comes back up by itself, and traffic flows again with exact counts.
    vm1 is a long-lived tap-backed VM."""
    d = vswd
    server = kind == "vhost-user-client"
    socks = {}
    for p in ("p1", "p2"):
        if server:
            socks[p] = os.path.join(d.dir, "rs-%s.sock" % p)
            d.ctl("add-port", "br0", p, "type=vhost-user-client", "path=%s" % socks[p])
        else:
            d.ctl("add-port", "br0", p, "type=vhost-user")
            socks[p] = d.port(p)["path"]
    t1name = vswlib.tapname()
    vm1 = vm_factory("rs-vm1", [VPort(socks["p1"], server=server, mac=A, tap=t1name)]).launch()
    hello = [frame(BCAST, B, 1)]
    vm2 = vm_factory("rs-vm2a", [VPort(socks["p2"], server=server, mac=B, tx=hello)]).launch()
    vm1.start()
    d.wait_port_state("p1", "up")
    d.wait_port_state("p2", "up")
    tap1 = vm1.ports[0].tap
    tap1.drain()
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()

    # round 1
    vm2.start()
    got = tap1.recv(1, timeout=5, settle=0.2)
    assert got == hello, "vm1 got %d frames, expected vm2's hello" % len(got)
    d.wait_learned({B: "p2"})
    r1 = tx_mix(B, A, 30, 0)
    tap1.send(r1)
    wait_counts(d, {"p1": (r1, hello), "p2": (hello, r1)})
    time.sleep(0.3)
    check_stats(d, {"p1": (r1, hello), "p2": (hello, r1)})
    stats1 = d.stats()
    # vm2 crashes
    vm2.kill()
    d.wait_port_state("p2", "down")
    # ... and comes back on the same socket
    hello2 = [frame(BCAST, B, 2)]
    vm2 = vm_factory("rs-vm2b", [VPort(socks["p2"], server=server, mac=B, tx=hello2)]).launch()
    d.wait_port_state("p2", "up", timeout=15)
    d.ctl("port-stats-clear")
    vm2.start()
    got = tap1.recv(1, timeout=5, settle=0.2)
    assert got == hello2, "after restart vm1 got %d frames, expected vm2's hello" % len(got)
    d.wait_learned({B: "p2"})
    r2 = tx_mix(B, A, 25, 5, seq0=100)
    tap1.send(r2)
    exp = {"p1": (r2, hello2), "p2": (hello2, r2)}
    wait_counts(d, exp)
    time.sleep(0.3)
    check_stats(d, exp)
    vm2.quit()
    assert_frames(vm2.ports[0].rx, r2, "frames the switch sent to the restarted vm2")
    assert tap1.recv(None, 0, 0.1) == []
    vm1.quit()
    assert stats1["p2"]["drops_total"] == 0
    d.assert_mbufs(base)


@pytest.mark.timeout(120)
def test_port_churn_under_traffic(vswd, vm_factory, tmp_path):
    """Paced traffic both ways between two tap-backed VMs on p1/p2 while
    other ports (vhost-user with and without a peer, taps, a second bridge)
    are added and deleted: p1/p2 lose nothing, exact counts, no drops."""
    d = vswd
    for p in ("p1", "p2"):
        d.ctl("add-port", "br0", p, "type=vhost-user")
    names = [vswlib.tapname() for _ in range(2)]
    vm1 = vm_factory("ch-vm1", [VPort(d.port("p1")["path"], mac=A, tap=names[0])]).launch()
    vm2 = vm_factory("ch-vm2", [VPort(d.port("p2")["path"], mac=B, tap=names[1])]).launch()
    vm1.start()
    vm2.start()
    d.wait_port_state("p1", "up")
    d.wait_port_state("p2", "up")
    t1, t2 = vm1.ports[0].tap, vm2.ports[0].tap
    t1.drain()
    t2.drain()
    # learn both MACs so the stream is pure unicast (no floods to churned ports)
    t1.send([frame(BCAST, A, 0)])
    assert t2.recv(1, 5, 0.1) == [frame(BCAST, A, 0)]
    t2.send([frame(BCAST, B, 0)])
    assert t1.recv(1, 5, 0.1) == [frame(BCAST, B, 0)]
    d.wait_learned({A: "p1", B: "p2"})
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()

    # the stream runs until the churn is done (and at least 400 frames each
    # way), bounded by time, not by a frame count: on a loaded CI host the
    # churn (testpmd peers starting and quitting) once took longer than a
    # fixed 30 000-frame stream lasted; both taps are read while it flows
    a2b, b2a, err = [], [], []
    stop = threading.Event()
    limit = time.monotonic() + 300

    def sender():
        try:
            i = 0
            while (not stop.is_set() or i < 400) and time.monotonic() < limit:
                fa = frame(B, A, 10 + i, size=64 + i % 200)
                fb = frame(A, B, 10 + i, size=64 + (i * 7) % 300)
                t1.send([fa])
                a2b.append(fa)
                t2.send([fb])
                b2a.append(fb)
                i += 1
                if i % 4 == 0:
                    time.sleep(0.004)
        except Exception as e:  # noqa: BLE001
            err.append(e)
    cap1, cap2 = t1.capture(), t2.capture()
    th = threading.Thread(target=sender)
    th.start()
    churn = 0
    t0 = time.monotonic()
    try:
        time.sleep(0.2)
        while churn < 4:
            i = vswlib.uniq()
            d.ctl("add-port", "br0", "x%d" % i, "type=vhost-user")
            d.ctl("add-port", "br0", "n%d" % i, "type=dpdk", "devargs=net_ring%d" % i)
            vm3 = None
            if churn in (1, 3):
                # a peer connects to a new port; the port is deleted under
                # it (churn 3) or it goes away first (churn 1)
                vm3 = vm_factory("ch-vm3-%d" % churn,
                                 [VPort(d.port("x%d" % i)["path"], mac=C, tx=[])])
                vm3.launch()
                d.wait_port_state("x%d" % i, "up")
                if churn == 1:
                    vm3.quit()
            if churn == 2:
                d.ctl("add-br", "brx")
                d.ctl("add-port", "brx", "y%d" % i, "type=vhost-user")
                d.ctl("del-br", "brx")
            d.ctl("set-br", "br0", "aging=%d" % (300 + churn))
            d.ctl("del-port", "n%d" % i)
            d.ctl("del-port", "x%d" % i)
            if churn == 3:
                vm3.quit()
            churn += 1
        alive = th.is_alive()
    finally:
        stop.set()
        th.join(60)
    assert not err, err
    assert alive, "the stream ended before the churn did (300 s)"
    n = len(a2b)
    got2 = cap2.stop(n, timeout=10)
    got1 = cap1.stop(n, timeout=10)
    print("churn cycles: %d in %.1f s while %d frames flowed each way"
          % (churn, time.monotonic() - t0, n))
    assert_frames(got2, a2b, "vm2 (A->B stream)")
    assert_frames(got1, b2a, "vm1 (B->A stream)")
    check_stats(d, {"p1": (a2b, b2a), "p2": (b2a, a2b)})
    assert sorted(d.port_names()) == ["p1", "p2"]
    assert d.fdb_stats()["moved"] == 0
    vm1.quit()
    vm2.quit()
    d.assert_mbufs(base)


def test_vhost_ring_full(vswd, vm_factory):
    """A VM that does not drain its ring: what does not fit is dropped as
    tx_full on its port, counted exactly, and no mbuf is lost; what fit is
    delivered in order once the VM starts forwarding."""
    d = vswd
    d.ctl("add-port", "br0", "vm1", "type=vhost-user")
    tap = d.add_tap("t1")
    vm = vm_factory("full-vm1", [VPort(d.port("vm1")["path"], mac=A, tx=[])]).launch()
    d.wait_port_state("vm1", "up")
    tap.drain()
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    n = 600
    fl = [frame(A, B, i, size=80) for i in range(n)]
    d.ctl("fdb-add", "br0", A, "vm1")
    for i in range(0, n, 50):
        tap.send(fl[i:i + 50])
        time.sleep(0.01)
    d.wait_stats({"t1": {"rx_packets": n}})

    def settled():
        s = d.stats()["vm1"]
        return s["tx_packets"] + s["drops"]["tx_full"] == n and s
    s = wait_for(settled, 5, 0.05, "vm1 tx_packets + tx_full == %d" % n)
    assert s["drops"]["tx_full"] > 0, "a VM ring cannot hold %d frames: %r" % (n, s)
    assert s["drops_total"] == s["drops"]["tx_full"]
    assert s["tx_bytes"] == 80 * s["tx_packets"]
    delivered = s["tx_packets"]
    d.assert_mbufs(base)
    vm.start()
    time.sleep(0.5)
    vm.quit()
    assert_frames(vm.ports[0].rx, fl[:delivered], "frames in vm1's ring")
    assert tap.recv(None, 0, 0.1) == []
    d.assert_mbufs(base)


def test_vhost_multiqueue(vswd_factory, vm_factory):
    """A vhost-user port with n_rxq=2: both rx queues are polled (rxq-show
    counts each exactly) and every frame is switched (by vsw's own vring
    walk, which must follow each vring the guest enables)."""
    d = vswd_factory()
    d.ctl("add-port", "br0", "p1", "type=vhost-user", "n_rxq=2")
    d.ctl("add-port", "br0", "p2", "type=vhost-user")
    assert d.port("p1")["n_rxq"] == 2
    q0 = [frame(B, A, i, size=70 + i) for i in range(20)]
    q1 = [frame(B, C, 100 + i, size=90 + i) for i in range(15)]
    hello = [frame(BCAST, B, 1)]
    vm2 = vm_factory("mq-vm2", [VPort(d.port("p2")["path"], mac=B, tx=hello)]).launch()
    vm1 = vm_factory("mq-vm1", [VPort(d.port("p1")["path"], mac=A, queues=2,
                                      tx_q=[q0, q1])]).launch()
    d.wait_port_state("p1", "up")
    d.wait_port_state("p2", "up")
    qs = sorted(q["queue"] for q in d.ctl("rxq-show") if q["port"] == "p1")
    assert qs == [0, 1], d.ctl("rxq-show")
    # The guest enabled both queue pairs of p1 and the one of p2.
    wait_for(lambda: [r["enabled"] for r in d.ctl("vhost-show", "p1")[0]["rings"]] ==
             [True] * 4, 5, what="p1's 4 vrings enabled")
    vh2 = d.ctl("vhost-show", "p2")[0]
    assert [r["enabled"] for r in vh2["rings"]] == [True, True], vh2
    assert vh2["vring_state_changes"] >= 2, vh2
    out = subprocess.run([vswlib.VSWCTL, "--ctl", d.ctl_path, "vhost-show"], check=True,
                         capture_output=True, text=True).stdout
    assert re.search(r"^p1 .* 4/4 +vsw ", out, re.M), out
    d.ctl("port-stats-clear")
    rxq0 = {(q["port"], q["queue"]): q["packets"] for q in d.ctl("rxq-show")}
    base = d.mbuf_in_use()
    vm2.start()
    d.wait_learned({B: "p2"})
    vm1.start()
    exp = {"p1": (q0 + q1, hello), "p2": (hello, q0 + q1)}
    wait_counts(d, exp)
    time.sleep(0.3)
    check_stats(d, exp)
    rxq1 = {(q["port"], q["queue"]): q["packets"] for q in d.ctl("rxq-show")}
    assert rxq1[("p1", 0)] - rxq0[("p1", 0)] == len(q0)
    assert rxq1[("p1", 1)] - rxq0[("p1", 1)] == len(q1)
    vm1.quit()
    vm2.quit()
    got = vm2.ports[0].rx
    assert [f for f in got if vswlib.src_of(f) == A] == q0
    assert [f for f in got if vswlib.src_of(f) == C] == q1
    assert len(got) == len(q0) + len(q1)
    assert vm1.ports[0].rx == hello
    d.wait_learned({A: "p1", C: "p1"})
    d.assert_mbufs(base)


def test_vhost_and_tap_ports(vswd, vm_factory):
    """Frames between a VM (vhost-user) and a kernel tap (dpdk port) both
    ways, byte for byte."""
    d = vswd
    d.ctl("add-port", "br0", "vm1", "type=vhost-user")
    tap = d.add_tap("t1")
    to_tap = tx_mix(B, A, 30, 5)
    vm = vm_factory("mix-vm1", [VPort(d.port("vm1")["path"], mac=A, tx=to_tap)]).launch()
    d.wait_port_state("vm1", "up")
    tap.drain()
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    from_tap = [frame(BCAST, B, 0)] + [frame(A, B, 1 + i, size=60 + 50 * i) for i in range(29)]
    tap.send(from_tap[:1])
    d.wait_learned({B: "t1"})
    vm.start()
    got = tap.recv(len(to_tap), timeout=5, settle=0.2)
    assert_frames(got, to_tap, "frames from vm1 out of the tap")
    d.wait_learned({A: "vm1"})
    tap.send(from_tap[1:])
    exp = {"vm1": (to_tap, from_tap), "t1": (from_tap, to_tap)}
    wait_counts(d, exp)
    time.sleep(0.3)
    check_stats(d, exp)
    vm.quit()
    assert_frames(vm.ports[0].rx, from_tap, "frames from the tap into vm1")
    d.assert_mbufs(base)


@pytest.mark.parametrize("kind", ["vhost-user", "vhost-user-client"])
def test_vhost_peer_killed_under_traffic(vswd, vm_factory, kind):
    """vm2 is SIGKILLed while a paced stream flows to it: vswd survives,
    every frame is accounted for (delivered or dropped under a reason),
    no mbuf is lost, and a restarted vm2 gets traffic again."""
    d = vswd
    server = kind == "vhost-user-client"
    socks = {}
    for p in ("p1", "p2"):
        if server:
            socks[p] = os.path.join(d.dir, "kt-%s.sock" % p)
            d.ctl("add-port", "br0", p, "type=vhost-user-client", "path=%s" % socks[p])
        else:
            d.ctl("add-port", "br0", p, "type=vhost-user")
            socks[p] = d.port(p)["path"]
    t1name = vswlib.tapname()
    vm1 = vm_factory("kt-vm1", [VPort(socks["p1"], server=server, mac=A, tap=t1name)]).launch()
    hello = [frame(BCAST, B, 1)]
    vm2 = vm_factory("kt-vm2", [VPort(socks["p2"], server=server, mac=B, tx=hello)]).launch()
    vm1.start()
    d.wait_port_state("p1", "up")
    d.wait_port_state("p2", "up")
    tap1 = vm1.ports[0].tap
    vm2.start()
    assert tap1.recv(1, 5, 0.1) == hello
    d.wait_learned({B: "p2"})
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    n = 1500
    fl = [frame(B, A, 10 + i, size=64 + i % 500) for i in range(n)]
    for i in range(0, n, 10):
        tap1.send(fl[i:i + 10])
        if i == 600:
            vm2.kill()
        time.sleep(0.003)
    st = d.wait_stats({"p1": {"rx_packets": n}})
    time.sleep(0.5)
    st = d.stats()
    p1, p2 = st["p1"], st["p2"]
    assert p1["rx_packets"] == n and p1["rx_bytes"] == nbytes(fl), p1
    accounted = p2["tx_packets"] + p2["drops_total"] + p1["drops_total"]
    assert accounted == n, (
        "frames sent to the killed vm2: %d delivered + %d dropped at p2 %r + %d dropped at p1 %r"
        " = %d, expected %d" % (p2["tx_packets"], p2["drops_total"],
                                {k: v for k, v in p2["drops"].items() if v}, p1["drops_total"],
                                {k: v for k, v in p1["drops"].items() if v}, accounted, n))
    assert p2["tx_packets"] >= 100, p2       # it was receiving before the kill
    d.wait_port_state("p2", "down")
    assert d.alive()
    d.assert_mbufs(base)
    # vm2 comes back: traffic flows again
    vm2b = vm_factory("kt-vm2b", [VPort(socks["p2"], server=server, mac=B,
                                        tx=[frame(BCAST, B, 2)])]).launch()
    d.wait_port_state("p2", "up", 15)
    vm2b.start()
    assert tap1.recv(1, 5, 0.1) == [frame(BCAST, B, 2)]
    d.wait_learned({B: "p2"})
    d.ctl("port-stats-clear")
    fl2 = [frame(B, A, 5000 + i) for i in range(40)]
    tap1.send(fl2)
    d.wait_stats({"p2": {"tx_packets": 40}})
    time.sleep(0.3)
    vm2b.quit()
    assert_frames(vm2b.ports[0].rx, fl2, "frames to the restarted vm2")
    vm1.quit()
    d.assert_mbufs(base)


def test_idle_pmd_sleeps_until_kicked(vswd_factory, vm_factory):
    """Steps: vswd with --pmd-sleep-max 500; two testpmd guests on vhost-user
    ports, each bridging a kernel tap; learn both MACs; stay idle for a
    second; send 60 frames 20 ms apart (each finds the PMD asleep again),
    then 100 in one go; add and delete a port while the PMD sleeps.
    Verify: the PMD slept until kicked (pmd-stats kick_sleeps grows by at
    least one per paced frame, timed sleeps not at all: only vhost-user
    queues are polled), every frame arrives in order, no drop, mbufs back
    to baseline."""
    d = vswd_factory(extra=["--pmd-sleep-max", "500"])
    for p in ("p1", "p2"):
        d.ctl("add-port", "br0", p, "type=vhost-user")
    vm1 = vm_factory("kick-vm1", [VPort(d.port("p1")["path"], mac=A,
                                        tap=vswlib.tapname())]).launch()
    vm2 = vm_factory("kick-vm2", [VPort(d.port("p2")["path"], mac=B,
                                        tap=vswlib.tapname())]).launch()
    vm1.start()
    vm2.start()
    d.wait_port_state("p1", "up", 15)
    d.wait_port_state("p2", "up", 15)
    t1, t2 = vm1.ports[0].tap, vm2.ports[0].tap
    vswlib.handshake(t2, t1, frame(BCAST, B, 0))
    vswlib.handshake(t1, t2, frame(BCAST, A, 1))
    d.wait_learned({A: "p1", B: "p2"})
    t1.drain()
    t2.drain()
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    time.sleep(1.0)
    s0 = d.ctl("pmd-stats")[0]
    assert s0["kick_sleeps"] > 0 and s0["sleeps"] == 0, s0
    d.ctl("add-port", "br0", "extra", "type=vhost-user")     # publish while asleep
    d.ctl("del-port", "extra")
    paced = [frame(B, A, 100 + i) for i in range(60)]
    t1.send(paced, pace=0.02)
    burst = [frame(B, A, 200 + i) for i in range(100)]
    t1.send(burst)
    got = t2.recv(160, timeout=5)
    s1 = d.ctl("pmd-stats")[0]
    assert got == paced + burst, "vm2 got %d of 160 frames" % len(got)
    assert s1["kick_sleeps"] - s0["kick_sleeps"] >= len(paced), (s0, s1)
    assert s1["sleeps"] == 0, s1
    st = d.stats()
    assert (st["p1"]["rx_packets"], st["p2"]["tx_packets"]) == (160, 160), st
    assert st["p1"]["drops_total"] == 0 and st["p2"]["drops_total"] == 0, st
    d.assert_mbufs(base)
    vm1.quit()
    vm2.quit()
