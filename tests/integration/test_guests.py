# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test with real Linux guests: two QEMU VMs (Debian kernel, the
kernel's virtio_net, an initramfs built from Debian packages by
dts/guests/build_image.py) on vsw, one on a vsw server port and one on a
vsw client port; they ping each other and run a short iperf3 TCP test.

It needs qemu-system-x86, iperf3 and busybox-static (Debian packages) and
fails, never skips, when they are missing. The full guest suite is
dts/guests (docs/guests.md). Under TCG (no usable KVM) it takes ~30 s.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "dts", "guests"))
import guestlib  # noqa: E402
import nslib  # noqa: E402
import vswlib  # noqa: E402

IP1, IP2 = "198.18.0.1", "198.18.0.2"
MAC1, MAC2 = "52:54:00:76:73:11", "52:54:00:76:73:12"


@pytest.fixture
def guests(tmp_path, vswd_factory):
    made = []

    def make(*a, **kw):
        g = guestlib.Guest(tmp_path / "guests", *a, **kw)
        made.append(g)
        return g
    yield make
    for g in made:
        g.stop()


def ping_all(src, dst, count=3, tries=15):
    last = None
    for _ in range(tries):
        last = src.ping(dst, count=count, interval=0.2)
        if last[0] == count:
            return last[1]
        time.sleep(0.5)
    raise AssertionError("%s -> %s: %r" % (src.name, dst, last))


@pytest.mark.timeout(240)
@pytest.mark.parametrize("tso", [False, True], ids=["default", "tso"])
def test_two_guests_ping_and_iperf3(vswd_factory, guests, tmp_path, tso):
    """With --tso the guests negotiate VIRTIO_NET_F_HOST_TSO4 and send
    TCP frames of up to 64 KB, which vsw passes whole to the other guest
    (it negotiated GUEST_TSO4) and cuts into segments for an af_packet
    uplink into a namespace."""
    guestlib.assert_qemu()
    print(guestlib.accel_note())
    # The default run has vsw walk the kernel's virtqueues itself (event
    # index, indirect descriptors, mergeable buffers, partial checksums);
    # --tso keeps rte_vhost's functions (host TSO is not walked).
    d = vswd_factory(extra=["--pmd-sleep-max", "100"] + (["--tso"] if tso else []))
    d.ctl("add-port", "br0", "vm1", "type=vhost-user")
    sock2 = str(tmp_path / "vm2.sock")
    d.ctl("add-port", "br0", "vm2", "type=vhost-user-client", "path=" + sock2)
    g1 = guests("vm1", guestlib.VhostUserNic(d.port("vm1")["path"]), IP1 + "/24", MAC1,
                role="iperf-server")
    g2 = guests("vm2", guestlib.VhostUserNic(sock2, server=True), IP2 + "/24", MAC2)
    g1.start()
    g2.start()
    assert g1.wait_ready(150)["mac"] == MAC1
    assert g2.wait_ready(150)["mac"] == MAC2
    d.wait_port_state("vm1", "up", 30)
    d.wait_port_state("vm2", "up", 30)
    vh = {v["port"]: v for v in d.ctl("vhost-show")}
    for p in ("vm1", "vm2"):
        assert vh[p]["walk"] == ("rte" if tso else "vsw"), vh[p]
    base = d.mbuf_in_use()
    rtt = ping_all(g2, IP1)
    ping_all(g1, IP2)
    assert d.fdb()[MAC1.lower()]["port"] == "vm1"
    assert d.fdb()[MAC2.lower()]["port"] == "vm2"
    s0 = d.stats()
    tcp = g2.iperf3(IP1, seconds=3)
    s1 = d.stats()
    assert tcp["bits_per_second"] > 1e6, tcp
    assert s1["vm2"]["rx_bytes"] - s0["vm2"]["rx_bytes"] >= tcp["bytes"]
    # Both guests offload TCP checksums (VIRTIO_NET_F_CSUM and _GUEST_CSUM):
    # vsw passes the partial sums from one to the other and sums nothing.
    passed = s1["vm1"]["csum_passed"] - s0["vm1"]["csum_passed"]
    tso_passed = s1["vm1"]["tso_passed"] - s0["vm1"]["tso_passed"]
    if tso:
        assert tso_passed > 100, (s0["vm1"], s1["vm1"])
    else:
        assert passed > 1000 and tso_passed == 0, (s0["vm1"], s1["vm1"])
    for p in ("vm1", "vm2"):
        assert s1[p]["csum_filled"] == 0 and s1[p]["tso_cut"] == 0, s1
    # Between pings the PMD slept until the kernel's virtio_net kicked: the
    # back-off waits on kick eventfds (only vhost-user queues), never on a timer.
    pmd = d.ctl("pmd-stats")[0]
    assert pmd["kick_sleeps"] > 0 and pmd["sleeps"] == 0, pmd
    print("boot %.1f/%.1f s, rtt %.2f ms, TCP %.3f Gbit/s (%s), %d kick sleeps, "
          "%d partial checksums and %d TSO frames passed, walk pauses %s"
          % (g1.boot_s, g2.boot_s, rtt, tcp["bits_per_second"] / 1e9, guestlib.accel(),
             pmd["kick_sleeps"], passed, tso_passed,
             [v["walk_pauses"] for v in d.ctl("vhost-show")]))
    if tso:
        # An uplink cannot take a TSO frame: vsw cuts the guest's frames
        # into segments, which the namespace's kernel verifies (TCP stalls
        # on one bad checksum or sequence number).
        ns = nslib.Netns()
        try:
            host = nslib.veth_into(ns, "198.18.0.9/24")
            d.ctl("add-port", "br0", "up0", "type=dpdk",
                  "devargs=net_af_packet%d,iface=%s" % (vswlib.uniq(), host))
            d.wait_port_state("up0", "up", 30)
            u0 = d.stats()["up0"]
            back = ns.iperf3(IP1, seconds=2, reverse=True)
            u1 = d.stats()["up0"]
            assert back["bits_per_second"] > 1e6, back
            assert u1["tso_cut"] - u0["tso_cut"] > 10, (u0, u1)
            print("guest -> namespace with segments cut by vsw: %.3f Gbit/s, %d TSO frames cut"
                  % (back["bits_per_second"] / 1e9, u1["tso_cut"] - u0["tso_cut"]))
            d.ctl("del-port", "up0")
        finally:
            ns.cleanup()
    g1.stop()
    g2.stop()
    d.assert_mbufs(base, timeout=10, what="after the guests stopped")
