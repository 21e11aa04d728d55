# SPDX-License-Identifier: BSD-3-Clause
"""Kernel hosts on vsw uplinks: Linux network namespaces reach each other
through vsw's `dpdk` ports.

* net_af_packet: a veth pair per namespace, its root-namespace end attached
  with devargs net_af_packet<N>,iface=<veth>.
* net_af_xdp: the same veth pair through an AF_XDP socket
  (net_af_xdp<N>,iface=<veth>; generic XDP on a veth): traffic works, but
  a deleted af_xdp port does not give its fill-ring mbufs back (known
  bug, strict xfail below: it turns into a failure once fixed).
* net_tap: vsw creates the tap (devargs net_tap<N>,iface=<name>) in the
  root namespace; a Linux bridge joins it to a veth pair into the namespace
  (a tap moved into another namespace is seen down by net_tap).

Each test pings between the namespaces, runs iperf3 TCP and UDP through
the switch (throughput printed), checks the switch's counters saw the
traffic and that its mbufs in use return to the value they had with the
ports set up. Namespaces are always deleted.
"""
import os

import pytest

import nslib
import vswlib

A1, A2 = "198.18.1.1", "198.18.1.2"


@pytest.fixture
def netns():
    made = []

    def make():
        ns = nslib.Netns()
        made.append(ns)
        return ns
    yield make
    for ns in made:
        ns.cleanup()


def attach(d, ns, port, kind, addr):
    """Give namespace `ns` an interface with `addr` on vsw port `port`."""
    n = vswlib.uniq()
    if kind in ("af_packet", "af_xdp"):
        host = nslib.veth_into(ns, addr + "/24")
        d.ctl("add-port", "br0", port, "type=dpdk",
              "devargs=net_%s%d,iface=%s" % (kind, n, host))
    else:
        tap = nslib.ifname("vt")
        d.ctl("add-port", "br0", port, "type=dpdk", "devargs=net_tap%d,iface=%s" % (n, tap))
        vswlib.wait_for(lambda: os.path.exists("/sys/class/net/" + tap), 10,
                        what="tap " + tap)
        nslib.bridge_tap_into(ns, tap, addr + "/24")
    d.wait_port_state(port, "up", 15)


def traffic(d, ns1, ns2, label):
    base = d.mbuf_in_use()
    for _ in range(10):
        rx, rtt = ns1.ping(A2, count=5)
        if rx == 5:
            break
    assert rx == 5, "ping %s -> %s: %d/5" % (ns1.name, A2, rx)
    rx2, rtt2 = ns2.ping(A1, count=5)
    assert rx2 == 5
    ns2.iperf3_server()
    s0 = d.stats()
    tcp = ns1.iperf3(A2, seconds=3)
    s1 = d.stats()
    assert tcp["bits_per_second"] > 1e6, tcp
    assert s1["up1"]["rx_bytes"] - s0["up1"]["rx_bytes"] >= tcp["bytes"]
    assert s1["up2"]["tx_bytes"] - s0["up2"]["tx_bytes"] >= tcp["bytes"]
    udp = ns1.iperf3(A2, seconds=3, udp=True, bitrate="100M")
    assert udp["received"] > 0.5 * udp["packets"], udp
    udp64 = ns1.iperf3(A2, seconds=3, udp=True, length=64, bitrate="0")
    assert udp64["received"] > 0, udp64
    print("\n%s: ping rtt %.3f ms, TCP %.3f Gbit/s (%d retransmits), UDP 100M %.3f Gbit/s "
          "(%.1f%% lost), UDP 64 B %.0f kpps (%.1f%% lost)"
          % (label, rtt, tcp["bits_per_second"] / 1e9, tcp["retransmits"],
             udp["bits_per_second"] / 1e9, udp["lost_percent"], udp64["pps"] / 1e3,
             udp64["lost_percent"]))
    for p in ns2.procs:
        p.kill()
        p.wait(5)
    ns2.procs = []
    d.assert_mbufs(base, timeout=5, what="after namespace traffic")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind1,kind2", [("af_packet", "af_packet"), ("tap", "tap"),
                                         ("af_packet", "tap")])
def test_namespaces_through_vsw(vswd, netns, kind1, kind2):
    ns1, ns2 = netns(), netns()
    attach(vswd, ns1, "up1", kind1, A1)
    attach(vswd, ns2, "up2", kind2, A2)
    traffic(vswd, ns1, ns2, "%s <-> %s" % (kind1, kind2))
    fdb = vswd.fdb()
    assert sum(1 for e in fdb.values() if e["port"] == "up1") >= 1
    assert sum(1 for e in fdb.values() if e["port"] == "up2") >= 1


@pytest.mark.timeout(60)
def test_namespace_isolated_without_switch_port(vswd, netns):
    """Control: with up2 deleted, ns1 can no longer reach ns2 (the path
    really is through vsw)."""
    ns1, ns2 = netns(), netns()
    attach(vswd, ns1, "up1", "af_packet", A1)
    attach(vswd, ns2, "up2", "af_packet", A2)
    rx = 0
    for _ in range(10):
        rx, _ = ns1.ping(A2, count=2)
        if rx == 2:
            break
    assert rx == 2
    vswd.ctl("del-port", "up2")
    rx, _ = ns1.ping(A2, count=3)
    assert rx == 0


class MbufLeak(AssertionError):
    """mbufs still in use after every port was deleted."""


@pytest.mark.timeout(120)
@pytest.mark.xfail(strict=True, raises=MbufLeak,
                   reason="known bug: deleting a net_af_xdp port leaves its fill-ring mbufs "
                          "(2048 per port here) in use; docs/uplinks.md")
def test_af_xdp_namespaces(tmp_path, binaries, netns):
    """Two namespaces on net_af_xdp ports: ping and iperf3 must work (a
    failure there is a real FAIL); then every port is deleted and vswd's
    mbufs must be back at zero, which today they are not (MbufLeak: the
    expected failure). Its own vswd, so the leak does not fail the shared
    fixture's teardown."""
    d = vswlib.Vswd(tmp_path)
    leak = None
    try:
        d.start()
        ns1, ns2 = netns(), netns()
        attach(d, ns1, "up1", "af_xdp", A1)
        attach(d, ns2, "up2", "af_xdp", A2)
        rx = 0
        for _ in range(10):
            rx, rtt = ns1.ping(A2, count=5)
            if rx == 5:
                break
        assert rx == 5, "ping over af_xdp: %d/5" % rx
        ns2.iperf3_server()
        tcp = ns1.iperf3(A2, seconds=3)
        assert tcp["bits_per_second"] > 1e6, tcp
        print("\naf_xdp <-> af_xdp: ping rtt %.3f ms, TCP %.3f Gbit/s (%d retransmits)"
              % (rtt, tcp["bits_per_second"] / 1e9, tcp["retransmits"]))
        for p in ("up1", "up2"):
            d.ctl("del-port", p)
        try:
            d.assert_mbufs(0, timeout=5, what="after deleting the af_xdp ports")
        except AssertionError as e:
            leak = MbufLeak(str(e))
        rc = d.stop()
        if rc != 0:
            # Under LeakSanitizer the same bug shows as the af_xdp umem never
            # freed (allocated in libxdp's xsk_umem__create); any other leak
            # or exit status is a real failure.
            blocks = d.log_text().split("leak of ")[1:]
            if blocks and all("xsk_umem__create" in b.split("\n\n")[0] for b in blocks):
                leak = leak or MbufLeak("LeakSanitizer: af_xdp umem not freed")
            else:
                raise AssertionError("vswd exited %d:\n%s" % (rc, vswlib.tail(d.log)))
    finally:
        d.cleanup()
    if leak is not None:
        raise leak
