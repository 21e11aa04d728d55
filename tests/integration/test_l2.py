# SPDX-License-Identifier: BSD-3-Clause
"""L2 switching between kernel tap ports (type=dpdk devargs=net_tapN):
flooding, learning, moves, aging, static entries, flush, limits, drops,
counters. Frames are sent and captured with AF_PACKET sockets on the taps;
every test checks exact deliveries, exact port-stats and the mbuf count."""
import time

import pytest

import vswlib
from vswlib import BCAST, MCAST, frame, frames, mac, wait_for

pytestmark = pytest.mark.timeout(60)

PORTS = ("p1", "p2", "p3")


class Switch:
    """vswd + tap ports + the counters the test expects."""

    def __init__(self, d, ports=PORTS, bridge="br0", **opts):
        self.d = d
        self.taps = {}
        self.bridge = {}
        self.add(ports, bridge, **opts)

    def add(self, ports, bridge="br0", **opts):
        for p in ports:
            self.taps[p] = self.d.add_tap(p, bridge, **opts)
            self.bridge[p] = bridge
        time.sleep(0.2)
        for t in self.taps.values():
            t.drain()
        self.d.ctl("port-stats-clear")
        self.exp = {p: {"rx_packets": 0, "rx_bytes": 0, "tx_packets": 0, "tx_bytes": 0}
                    for p in self.taps}
        self.exp_drops = {p: {} for p in self.taps}
        self.check_stats()
        self.base = self.d.mbuf_in_use()

    def step(self, inp, fl, to, drop=None, timeout=5):
        """Send frames `fl` on port `inp`; exactly these frames (same bytes,
        same order) must come out of every port in `to` and nothing out of
        the others. drop: a drop reason all of them are counted under."""
        to = list(to)
        nbytes = sum(len(f) for f in fl)
        self.exp[inp]["rx_packets"] += len(fl)
        self.exp[inp]["rx_bytes"] += nbytes
        for p in to:
            self.exp[p]["tx_packets"] += len(fl)
            self.exp[p]["tx_bytes"] += nbytes
        if drop:
            self.exp_drops[inp][drop] = self.exp_drops[inp].get(drop, 0) + len(fl)
        self.taps[inp].send(fl)
        self.d.wait_stats({p: self.exp[p] for p in [inp] + to}, timeout)
        got = {p: self.taps[p].recv(len(fl) if p in to else None, timeout=2, settle=0)
               for p in self.taps}
        time.sleep(0.2)
        for p, t in self.taps.items():
            got[p] += t.recv(None, 0, 0)
        for p in self.taps:
            want = fl if p in to else []
            if got[p] != want:
                raise AssertionError(
                    "frames out of %s after sending %d on %s: got %d (srcs %s), expected %d"
                    % (p, len(fl), inp, len(got[p]),
                       sorted({vswlib.src_of(f) for f in got[p]}), len(want)))
        self.check_stats()

    def check_stats(self):
        st = self.d.stats()
        for p, e in self.exp.items():
            s = st[p]
            got = {k: s[k] for k in e}
            assert got == e, "port-stats %s: %r, expected %r" % (p, got, e)
            drops = {k: v for k, v in s["drops"].items() if v}
            assert drops == self.exp_drops[p], "drops %s: %r, expected %r" % (
                p, drops, self.exp_drops[p])
            assert s["drops_total"] == sum(self.exp_drops[p].values())

    def finish(self):
        """At the end of the traffic: exact counters, mbufs back to baseline."""
        self.check_stats()
        self.d.assert_mbufs(self.base)


@pytest.fixture
def sw(vswd):
    return Switch(vswd)


def others(p, ports=PORTS):
    return [q for q in ports if q != p]


def test_flood_unknown_broadcast_multicast(sw):
    a = mac(0x10)
    sw.step("p1", frames(mac(0x99), a, 10), others("p1"))          # unknown unicast
    sw.step("p1", frames(BCAST, a, 10, size=100, seq0=10), others("p1"))
    sw.step("p1", frames(MCAST, a, 5, size=200, seq0=20), others("p1"))
    sw.step("p2", frames(BCAST, mac(0x20), 7, size=1514), others("p2"))
    sw.step("p3", frames(mac(0x98), mac(0x30), 3, size=60), others("p3"))
    f = sw.d.fdb()
    assert f[a]["port"] == "p1" and not f[a]["static"]
    assert set(f) == {a, mac(0x20), mac(0x30)}
    sw.finish()


def test_unicast_to_learned_port(sw):
    a, b, c = mac(1), mac(2), mac(3)
    t0 = time.monotonic()
    sw.taps["p2"].send([frame(BCAST, b)])
    sw.d.wait_learned({b: "p2"})
    took = time.monotonic() - t0
    assert took < 1.0, "learning took %.2fs" % took
    sw.exp["p2"]["rx_packets"] += 1
    sw.exp["p2"]["rx_bytes"] += 64
    for p in ("p1", "p3"):
        sw.exp[p]["tx_packets"] += 1
        sw.exp[p]["tx_bytes"] += 64
        assert sw.taps[p].recv(1, 2, 0) == [frame(BCAST, b)]
    sw.step("p1", frames(b, a, 20, size=128), ["p2"])
    sw.d.wait_learned({a: "p1"})
    sw.step("p2", frames(a, b, 15, size=90), ["p1"])
    sw.step("p3", [frame(BCAST, c)], others("p3"))
    sw.d.wait_learned({c: "p3"})
    sw.step("p1", frames(c, a, 5), ["p3"])
    sw.step("p3", frames(b, c, 5), ["p2"])
    f = sw.d.fdb()
    assert {m: (e["port"], e["static"], e["vlan"]) for m, e in f.items()} == {
        a: ("p1", False, 0), b: ("p2", False, 0), c: ("p3", False, 0)}
    st = sw.d.fdb_stats()
    assert st["entries"] == 3 and st["learned"] == 3 and st["moved"] == 0, st
    assert sw.d.show()["bridges"][0]["fdb_entries"] == 3
    sw.finish()


def test_same_port_drop(sw):
    a, c = mac(1), mac(3)
    sw.step("p1", [frame(BCAST, a)], others("p1"))
    sw.d.wait_learned({a: "p1"})
    # destination learned on the input port: dropped, counted on the input port
    sw.step("p1", frames(a, c, 6), [], drop="same_port")
    sw.finish()


def test_mac_move(sw):
    a, z = mac(0xA), mac(0xF)
    sw.step("p1", [frame(BCAST, a)], others("p1"))
    sw.d.wait_learned({a: "p1"})
    sw.step("p3", frames(a, z, 3), ["p1"])
    assert sw.d.fdb_stats()["moved"] == 0
    sw.step("p2", [frame(BCAST, a, 1)], others("p2"))      # a moves to p2
    sw.d.wait_learned({a: "p2"})
    st = sw.d.fdb_stats()
    assert st["moved"] == 1, st
    assert sw.d.fdb()[a]["port"] == "p2"
    sw.step("p3", frames(a, z, 4, seq0=10), ["p2"])          # now only to p2
    sw.step("p1", [frame(BCAST, a, 2)], others("p1"))      # and back
    sw.d.wait_learned({a: "p1"})
    assert sw.d.fdb_stats()["moved"] == 2
    sw.step("p3", frames(a, z, 2, seq0=20), ["p1"])
    sw.finish()


@pytest.mark.timeout(90)
def test_aging(sw):
    a, b, s = mac(1), mac(2), mac(0x5)
    sw.d.ctl("fdb-add", "br0", s, "p3")
    sw.d.ctl("set-br", "br0", "aging=1")
    assert sw.d.show()["bridges"][0]["aging"] == 1
    sw.step("p1", [frame(BCAST, a)], others("p1"))
    sw.d.wait_learned({a: "p1"})
    t0 = time.monotonic()
    wait_for(lambda: a not in sw.d.fdb(), 4.5, 0.1, "%s to age out with aging=1" % a)
    took = time.monotonic() - t0
    st = sw.d.fdb_stats()
    assert st["aged"] == 1, st
    assert st["entries"] == 1, st
    f = sw.d.fdb()
    assert set(f) == {s} and f[s]["static"], "static entry must not age: %r" % f
    # an aged MAC is unknown again: flooded
    sw.step("p2", frames(a, b, 2), ["p1", "p3"])
    # a source that keeps talking stays (aging=2, refreshed every 0.25 s),
    # one that went silent ages
    sw.d.ctl("set-br", "br0", "aging=2")
    sw.d.wait_learned({b: "p2"})
    end = time.monotonic() + 4.5
    i = 0
    while time.monotonic() < end:
        sw.step("p2", [frame(s, b, 100 + i)], ["p3"])
        assert b in sw.d.fdb(), "a refreshed entry aged out"
        i += 1
        time.sleep(0.05)
    f = sw.d.fdb()
    assert set(f) == {s, b}, f
    assert sw.d.fdb_stats()["aged"] == 1
    print("aging=1 entry gone after %.2fs" % took)
    sw.finish()


def test_static_entries(sw):
    s, a, c = mac(0x55), mac(1), mac(3)
    assert sw.d.ctl("fdb-add", "br0", s, "p2") == {}
    f = sw.d.fdb()
    assert f[s]["port"] == "p2" and f[s]["static"] is True
    # unicast to a static MAC goes to its port only, without any learning
    sw.step("p1", frames(s, a, 5), ["p2"])
    # the static MAC seen as source on another port: the entry does not move
    sw.taps["p1"].send(frames(BCAST, s, 3, seq0=50))
    sw.d.wait_stats({"p1": {"rx_packets": sw.exp["p1"]["rx_packets"] + 3}})
    time.sleep(0.3)
    for t in sw.taps.values():
        t.drain()
    sw.d.ctl("port-stats-clear")
    for p in sw.exp:
        sw.exp[p] = dict.fromkeys(sw.exp[p], 0)
        sw.exp_drops[p] = {}
    f = sw.d.fdb()
    assert f[s]["port"] == "p2" and f[s]["static"] is True, f[s]
    st = sw.d.fdb_stats()
    assert st["moved"] == 0, st
    sw.step("p3", frames(s, c, 4), ["p2"])
    # fdb-add of a MAC learned elsewhere makes it static on the given port
    sw.step("p3", [frame(BCAST, c, 99)], others("p3"))
    sw.d.wait_learned({c: "p3"})
    assert sw.d.ctl("fdb-add", "br0", c, "p1") == {}
    f = sw.d.fdb()
    assert f[c]["port"] == "p1" and f[c]["static"] is True, f[c]
    sw.step("p2", frames(c, mac(2), 3, seq0=40), ["p1"])
    sw.step("p3", [frame(BCAST, c, 98)], others("p3"))     # does not move it back
    assert sw.d.fdb()[c]["port"] == "p1" and sw.d.fdb_stats()["moved"] == 0
    sw.d.ctl("fdb-del", "br0", c)
    # flushing the bridge or the port keeps static entries
    sw.d.ctl("fdb-flush", "br0")
    sw.d.ctl("fdb-flush", "br0", "p2")
    assert s in sw.d.fdb()
    # fdb-del removes it: the MAC is unknown again (flooded)
    assert sw.d.ctl("fdb-del", "br0", s) == {}
    assert s not in sw.d.fdb()
    sw.step("p3", frames(s, c, 2, seq0=10), ["p1", "p2"])
    sw.finish()


def test_fdb_flush(sw):
    a1, a2, b1, s = mac(0x11), mac(0x12), mac(0x21), mac(0x5)
    sw.d.ctl("fdb-add", "br0", s, "p3")
    sw.step("p1", [frame(BCAST, a1)], others("p1"))
    sw.step("p1", [frame(BCAST, a2)], others("p1"))
    sw.step("p2", [frame(BCAST, b1)], others("p2"))
    sw.d.wait_learned({a1: "p1", a2: "p1", b1: "p2"})
    assert sw.d.ctl("fdb-flush", "br0", "p1") == {"flushed": 2}
    assert set(sw.d.fdb()) == {b1, s}
    # a flushed MAC is unknown: flooded
    sw.step("p2", frames(a1, b1, 2), ["p1", "p3"])
    assert sw.d.ctl("fdb-flush", "br0") == {"flushed": 1}
    assert set(sw.d.fdb()) == {s}
    st = sw.d.fdb_stats()
    assert st["flushed"] == 3 and st["entries"] == 1, st
    # and learning works again
    sw.step("p1", [frame(BCAST, a1, 1)], others("p1"))
    sw.d.wait_learned({a1: "p1"})
    sw.step("p2", frames(a1, b1, 3, seq0=5), ["p1"])
    assert sw.d.ctl("fdb-flush", "br0") == {"flushed": 2}   # a1 and b1 (relearned)
    sw.finish()


def test_port_learn_limit(sw):
    a1, a2, a3, b1, b2, b3 = (mac(x) for x in (0x11, 0x12, 0x13, 0x21, 0x22, 0x23))
    sw.d.ctl("set-br", "br0", "port-max-macs=2")
    assert sw.d.show()["bridges"][0]["port_max_macs"] == 2
    sw.step("p1", [frame(BCAST, a1)], others("p1"))
    sw.step("p1", [frame(BCAST, a2)], others("p1"))
    sw.d.wait_learned({a1: "p1", a2: "p1"})
    # a 3rd source MAC on p1: not learned, its frames dropped and counted
    sw.step("p1", frames(BCAST, a3, 5), [], drop="learn_limit")
    time.sleep(0.2)
    assert a3 not in sw.d.fdb()
    # known sources on p1 still forward
    sw.step("p1", frames(BCAST, a1, 2, seq0=5), others("p1"))
    # the limit is per port: p2 learns its own two
    sw.step("p2", [frame(BCAST, b1)], others("p2"))
    sw.step("p2", [frame(BCAST, b2)], others("p2"))
    sw.d.wait_learned({b1: "p2", b2: "p2"})
    sw.step("p2", frames(BCAST, b3, 2), [], drop="learn_limit")
    # one flow (a refused source to a known destination, a burst's frames
    # all alike): every frame dropped and counted, none forwarded
    sw.step("p1", frames(b1, a3, 7, seq0=20), [], drop="learn_limit")
    assert set(sw.d.fdb()) == {a1, a2, b1, b2}
    # after flushing p1, a3 can be learned
    sw.d.ctl("fdb-flush", "br0", "p1")
    sw.step("p1", [frame(BCAST, a3, 9)], others("p1"))
    sw.d.wait_learned({a3: "p1"})
    sw.finish()


def test_invalid_source_drops(sw):
    d = mac(0x77)
    bad = ([frame(d, "03:76:73:00:00:01", i) for i in range(4)] +      # multicast source
           [frame(d, BCAST, 10 + i) for i in range(3)] +                # broadcast source
           [frame(d, "00:00:00:00:00:00", 20 + i) for i in range(2)])  # all-zero source
    sw.step("p1", bad, [], drop="invalid_src")
    assert sw.d.fdb() == {}
    # valid traffic still flows afterwards
    sw.step("p1", frames(BCAST, mac(1), 2), others("p1"))
    sw.finish()


def test_runt_drops(sw, tmp_path):
    """Frames shorter than 14 bytes cannot be sent on a tap (the kernel
    refuses them), so they come from a net_pcap port's rx_pcap."""
    a = mac(0x44)
    runts = [frame(BCAST, a, size=n) for n in (1, 6, 12, 13)]
    good = [frame(BCAST, a, 1, size=14), frame(BCAST, a, 2, size=60)]
    inp = str(tmp_path / "runt-in.pcap")
    out = str(tmp_path / "runt-out.pcap")
    vswlib.write_pcap(inp, runts[:2] + good[:1] + runts[2:] + good[1:])
    sw.d.ctl("add-port", "br0", "pc", "type=dpdk",
             "devargs=net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (vswlib.uniq(), inp, out))
    sent = runts + good
    st = sw.d.wait_stats({"pc": {"rx_packets": len(sent)},
                          "p1": {"tx_packets": 2}, "p2": {"tx_packets": 2},
                          "p3": {"tx_packets": 2}})
    time.sleep(0.3)
    st = sw.d.stats()
    pc = st["pc"]
    assert pc["rx_packets"] == 6 and pc["rx_bytes"] == sum(len(f) for f in sent), pc
    assert pc["drops"]["runt"] == 4 and pc["drops_total"] == 4, pc["drops"]
    for p in PORTS:
        got = sw.taps[p].recv(2, timeout=2, settle=0.2)
        assert got == good, "%s got %d frames, expected the 2 valid ones" % (p, len(got))
        assert st[p]["tx_packets"] == 2 and st[p]["tx_bytes"] == 74, st[p]
    assert set(sw.d.fdb()) == {a}
    sw.d.ctl("del-port", "pc")
    sw.d.assert_mbufs(sw.base)


def test_port_stats_and_clear(sw):
    sizes = (14, 60, 64, 65, 127, 128, 255, 256, 511, 512, 1023, 1024, 1500, 1514)
    fl = [frame(BCAST, mac(1), i, size=n) for i, n in enumerate(sizes)]
    sw.step("p1", fl, others("p1"))
    sw.step("p2", frames(mac(1), mac(2), 3, size=333), ["p1"])
    st = sw.d.stats()
    assert st["p1"]["rx_bytes"] == sum(sizes) and st["p2"]["tx_bytes"] == sum(sizes)
    assert st["p1"]["bridge"] == "br0"
    assert [s["port"] for s in sw.d.ctl("port-stats", "p3")] == ["p3"]
    # clear one port
    assert sw.d.ctl("port-stats-clear", "p2") == {}
    sw.exp["p2"] = dict.fromkeys(sw.exp["p2"], 0)
    sw.check_stats()
    assert sw.d.stats()["p1"]["rx_packets"] == len(sizes) + 0
    # clear all
    assert sw.d.ctl("port-stats-clear") == {}
    for p in sw.exp:
        sw.exp[p] = dict.fromkeys(sw.exp[p], 0)
    sw.check_stats()
    # counting resumes from zero
    sw.step("p3", frames(mac(2), mac(3), 4, size=100), ["p2"])
    assert sw.d.stats()["p3"]["rx_bytes"] == 400
    sw.finish()
    # a port deleted and added again starts from zero
    sw.d.ctl("del-port", "p3")
    sw.taps.pop("p3").close()
    sw.add(("p3",))
    st = sw.d.stats()["p3"]
    assert (st["rx_packets"], st["tx_packets"], st["drops_total"]) == (0, 0, 0), st
    sw.step("p3", frames(BCAST, mac(3), 2, seq0=50), ["p1", "p2"])
    sw.finish()


def test_bridges_isolated(vswd):
    vswd.ctl("add-br", "br1")
    sw = Switch(vswd, ("p1", "p2"), "br0")
    sw.add(("q1", "q2"), "br1")
    sw.step("p1", frames(BCAST, mac(1), 5), ["p2"])
    sw.step("q1", frames(BCAST, mac(1), 4, seq0=10), ["q2"])    # same MAC, other bridge
    vswd.wait_learned({mac(1): "p1"}, "br0")
    vswd.wait_learned({mac(1): "q1"}, "br1")
    sw.step("q2", frames(mac(1), mac(2), 3), ["q1"])
    assert vswd.fdb_stats("br0")["moved"] == 0 and vswd.fdb_stats("br1")["moved"] == 0
    # a port of br1 cannot be the target of a static entry of br0
    rc, err = vswd.ctl_fail("fdb-add", "br0", mac(9), "q1")
    assert rc == 1, (rc, err)
    vswd.assert_mbufs(sw.base)
    # deleting a port removes its learned MACs
    vswd.ctl("del-port", "q1")
    sw.taps.pop("q1").close()
    sw.exp.pop("q1")
    sw.exp_drops.pop("q1")
    assert mac(1) not in vswd.fdb("br1")
    assert mac(1) in vswd.fdb("br0")
    sw.check_stats()


def test_port_down_and_no_dest_drops(vswd):
    """Unicast to a MAC on a port without peer: dropped as port_down on that
    (output) port. A flood with no other port in the bridge: no_dest."""
    d = vswd
    d.ctl("add-port", "br0", "vmx", "type=vhost-user")       # no peer: down
    sw = Switch(d, ("p1", "p2"))
    assert d.port("vmx")["state"] == "down"
    s = mac(0x66)
    d.ctl("fdb-add", "br0", s, "vmx")
    sw.step("p1", frames(s, mac(1), 4), [])
    st = d.stats()["vmx"]
    assert (st["tx_packets"], st["drops"]["port_down"], st["drops_total"]) == (0, 4, 4), st
    sw.step("p2", frames(mac(1), mac(2), 2), ["p1"])          # unaffected
    d.assert_mbufs(sw.base)
    # a bridge with one port: floods have nowhere to go
    d.ctl("add-br", "lonely")
    sw.add(("q1",), "lonely")
    sw.step("q1", frames(BCAST, mac(3), 3), [], drop="no_dest")
    sw.step("q1", frames(mac(0x99), mac(3), 2, seq0=3), [], drop="no_dest")
    sw.finish()


def test_pmd_and_rxq_counters(sw):
    """pmd-stats and rxq-show count exactly the frames received."""
    def pmd_packets():
        return sum(p["packets"] for p in sw.d.ctl("pmd-stats"))

    def rxq_packets(key="packets"):
        out = {}
        for q in sw.d.ctl("rxq-show"):
            out[q["port"]] = out.get(q["port"], 0) + q[key]
        return out
    p0, q0, b0 = pmd_packets(), rxq_packets(), rxq_packets("bytes")
    assert set(q0) == set(PORTS)
    bc, uc = frames(BCAST, mac(1), 13), frames(mac(1), mac(3), 8)
    sw.step("p1", bc, others("p1"))
    sw.step("p3", uc, ["p1"])
    p1, q1, b1 = pmd_packets(), rxq_packets(), rxq_packets("bytes")
    assert p1 - p0 == 21, "pmd-stats packets grew by %d, expected 21" % (p1 - p0)
    assert {p: q1[p] - q0[p] for p in PORTS} == {"p1": 13, "p2": 0, "p3": 8}
    assert {p: b1[p] - b0[p] for p in PORTS} == {
        "p1": sum(map(len, bc)), "p2": 0, "p3": sum(map(len, uc))}
    pmd = sw.d.ctl("pmd-stats")[0]
    assert pmd["lcore"] == 1 and pmd["cpu"] == 1 and pmd["rxqs"] == 3
    assert 0 <= pmd["busy_pct"] <= 100
    assert pmd["busy_cycles"] > 0 and pmd["idle_cycles"] > 0
    sw.finish()


def test_set_port_mtu(sw):
    """set-port mtu: the port (and its kernel tap) follow; traffic keeps
    exact counts afterwards. (n_rxq is covered with vhost-user in
    test_vhost.py: net_tap needs as many tx as rx queues.)"""
    d = sw.d
    tap1 = sw.taps["p1"].ifname
    assert d.ctl("set-port", "p1", "mtu=1400") == {}
    assert d.port("p1")["mtu"] == 1400
    d.wait_port_state("p1", "up")
    # the port may have been re-created (a new kernel tap): bind again
    sw.taps["p1"].close()
    sw.taps["p1"] = vswlib.Tap(tap1)
    with open("/sys/class/net/%s/mtu" % tap1) as f:
        assert int(f.read()) == 1400
    time.sleep(0.3)
    for t in sw.taps.values():
        t.drain()
    d.ctl("port-stats-clear")
    for p in sw.exp:
        sw.exp[p] = dict.fromkeys(sw.exp[p], 0)
    sw.base = d.mbuf_in_use()
    sw.step("p1", frames(BCAST, mac(1), 10, size=300), others("p1"))
    sw.step("p2", frames(mac(1), mac(2), 3, size=1000), ["p1"])
    sw.step("p3", frames(mac(2), mac(3), 5), ["p2"])
    sw.finish()


def test_bridge_capacity(sw):
    """max-macs bounds the table: never more entries than the capacity
    (8 is the smallest capacity vswd accepts)."""
    d = sw.d
    d.ctl("set-br", "br0", "max-macs=8")
    st = d.fdb_stats()
    assert st["capacity"] == 8, st
    srcs = [mac(0x100 + i) for i in range(12)]
    for i, s in enumerate(srcs[:8]):
        sw.step("p1", [frame(BCAST, s, i)], others("p1"))
    d.wait_learned({s: "p1" for s in srcs[:8]})
    for i, s in enumerate(srcs[8:]):
        sw.taps["p2"].send([frame(BCAST, s, 10 + i)])
    d.wait_stats({"p2": {"rx_packets": 4}})
    time.sleep(0.3)
    f = d.fdb()
    assert set(f) == set(srcs[:8]), "table over capacity 8: %r" % sorted(f)
    st = d.fdb_stats()
    assert st["entries"] == 8, st
    assert st["limit_hits"] >= 1, "a MAC refused for a full table is not counted in limit_hits: %r" % st
    for t in sw.taps.values():
        t.drain()
    d.assert_mbufs(sw.base)


def test_deleted_port_macs_forgotten(sw):
    """del-port forgets the port's MACs: traffic to them floods, and a new
    port with the same name does not inherit them."""
    a, b = mac(1), mac(2)
    sw.step("p2", [frame(BCAST, b)], others("p2"))
    sw.step("p1", [frame(BCAST, a)], others("p1"))
    sw.d.wait_learned({a: "p1", b: "p2"})
    sw.step("p1", frames(b, a, 3), ["p2"])
    sw.d.assert_mbufs(sw.base)
    sw.d.ctl("del-port", "p2")
    sw.taps.pop("p2").close()
    assert b not in sw.d.fdb()
    sw.add(("p2",))                        # same name, new tap, new device
    assert b not in sw.d.fdb()
    sw.step("p1", frames(b, a, 4, seq0=10), ["p2", "p3"])   # unknown again: flooded
    sw.step("p3", frames(b, mac(3), 2), ["p1", "p2"])
    sw.finish()


def test_learn_limit_accounting(sw):
    """port-max-macs counts the port's current entries: a MAC that moves
    away, is deleted or ages frees a place."""
    a1, a2, a3, a4, a5 = (mac(0x11 + i) for i in range(5))
    sw.d.ctl("set-br", "br0", "port-max-macs=2")
    sw.step("p1", [frame(BCAST, a1)], others("p1"))
    sw.step("p1", [frame(BCAST, a2)], others("p1"))
    sw.d.wait_learned({a1: "p1", a2: "p1"})
    sw.step("p1", [frame(BCAST, a3, 1)], [], drop="learn_limit")
    # a1 moves to p2: p1 has one entry left, a3 fits
    sw.step("p2", [frame(BCAST, a1, 2)], others("p2"))
    sw.d.wait_learned({a1: "p2"})
    sw.step("p1", [frame(BCAST, a3, 3)], others("p1"))
    sw.d.wait_learned({a3: "p1"})
    sw.step("p1", [frame(BCAST, a4, 4)], [], drop="learn_limit")
    # fdb-del of a learned entry frees a place
    sw.d.ctl("fdb-del", "br0", a2)
    sw.step("p1", [frame(BCAST, a4, 5)], others("p1"))
    sw.d.wait_learned({a4: "p1"})
    sw.step("p1", [frame(BCAST, a5, 6)], [], drop="learn_limit")
    assert set(sw.d.fdb()) == {a1, a3, a4}
    sw.finish()


def test_aging_change_applies_to_existing_entries(sw):
    a = mac(1)
    sw.step("p1", [frame(BCAST, a)], others("p1"))
    sw.d.wait_learned({a: "p1"})
    time.sleep(1.2)
    assert a in sw.d.fdb(), "aged with aging=300"
    sw.d.ctl("set-br", "br0", "aging=1")
    wait_for(lambda: a not in sw.d.fdb(), 4.5, 0.1,
             "an entry learned under aging=300 to age after set-br aging=1")
    assert sw.d.fdb_stats()["aged"] == 1
    sw.finish()


def test_learn_many_macs(sw):
    """1000 new source MACs in bursts: every one is learned on its port,
    and unicast to any of them then goes to that port only."""
    n = 1000
    srcs = [mac(0x10000 + i) for i in range(n)]
    fl = [frame(BCAST, s, i) for i, s in enumerate(srcs)]
    for i in range(0, n, 50):
        sw.taps["p1"].send(fl[i:i + 50])
        time.sleep(0.005)
    sw.exp["p1"]["rx_packets"] += n
    sw.exp["p1"]["rx_bytes"] += 64 * n
    for p in ("p2", "p3"):
        sw.exp[p]["tx_packets"] += n
        sw.exp[p]["tx_bytes"] += 64 * n
    sw.d.wait_stats({p: sw.exp[p] for p in PORTS}, 10)
    for p in ("p2", "p3"):
        got = sw.taps[p].recv(n, 5, 0.2)
        assert got == fl, "%s got %d of %d floods" % (p, len(got), n)
    sw.check_stats()
    wait_for(lambda: len(sw.d.fdb()) == n, 5, 0.2, "%d MACs learned" % n)
    f = sw.d.fdb()
    assert set(f) == set(srcs) and all(e["port"] == "p1" for e in f.values())
    st = sw.d.fdb_stats()
    assert st["entries"] == n and st["learned"] == n, st
    sw.step("p2", [frame(srcs[i], mac(2), i) for i in range(0, n, 37)], ["p1"])
    sw.finish()


def test_set_port_queues_on_tap(sw):
    """set-port n_rxq=2 on a tap port works (net_tap wants as many tx as rx
    queues: vswd gives it the extra tx queue): 2 polled rx queues, port up,
    traffic with exact counts."""
    d = sw.d
    r = vswlib.run_vswctl(d.ctl_path, "set-port", "p2", "n_rxq=2", json_out=False)
    assert r.returncode == 0, (r.returncode, r.stderr)
    qs = sorted(q["queue"] for q in d.ctl("rxq-show") if q["port"] == "p2")
    if r.returncode == 0:
        assert d.port("p2")["n_rxq"] == 2 and qs == [0, 1], (d.port("p2"), qs)
    else:
        assert r.stderr.strip() and "\n" not in r.stderr.strip()
        print("set-port p2 n_rxq=2 refused: %s" % r.stderr.strip())
        assert d.port("p2")["n_rxq"] == 1 and qs == [0], (d.port("p2"), qs)
    d.wait_port_state("p2", "up")
    name = sw.taps["p2"].ifname
    sw.taps["p2"].close()
    sw.taps["p2"] = vswlib.Tap(name)     # in case the device was re-created
    time.sleep(0.2)
    for t in sw.taps.values():
        t.drain()
    d.ctl("port-stats-clear")
    for p in sw.exp:
        sw.exp[p] = dict.fromkeys(sw.exp[p], 0)
    sw.base = d.mbuf_in_use()
    sw.step("p1", frames(BCAST, mac(1), 5), others("p1"))
    for i in range(4):
        sw.step("p2", frames(mac(1), mac(0x20 + i), 3, size=100 + i), ["p1"])
    sw.step("p3", frames(mac(0x21), mac(3), 4), ["p2"])
    sw.finish()


def test_pmd_idle_sleep(vswd_factory):
    """Steps: vswd with --pmd-sleep-max 500; two tap ports; stay idle for a
    second; then send 200 unicast frames, paced and then in one go.
    Verify: the idle PMD slept (pmd-stats sleeps > 0, mostly idle cycles),
    every frame arrives in order, no drop, mbufs back to baseline; a
    configuration change while the PMD sleeps does not hang."""
    d = vswd_factory(extra=["--pmd-sleep-max", "500"])
    t1 = d.add_tap("t1")
    t2 = d.add_tap("t2")
    a, b = mac(0xC1), mac(0xC2)
    t1.send([frame(BCAST, a, 0)])
    t2.send([frame(BCAST, b, 0)])
    d.wait_learned({a: "t1", b: "t2"})
    t1.drain()
    t2.drain()
    base = d.mbuf_in_use()
    s0 = d.ctl("pmd-stats")[0]["sleeps"]
    time.sleep(1.0)
    pmd = d.ctl("pmd-stats")[0]
    assert pmd["sleeps"] > s0, pmd
    d.ctl("add-port", "br0", "extra", "type=vhost-user")     # publish while asleep
    d.ctl("del-port", "extra")
    sent = frames(b, a, 100)
    t1.send(sent, pace=0.01)
    sent2 = frames(b, a, 100, seq0=100)
    t1.send(sent2)
    assert t2.recv(200, timeout=5) == sent + sent2
    st = d.stats()
    assert st["t1"]["drops_total"] == 0 and st["t2"]["drops_total"] == 0, st
    d.assert_mbufs(base)
    t1.close()
    t2.close()


def test_rxq_placement_and_rebalance(vswd_factory):
    """Steps: vswd with two PMDs (EAL --lcores, both on CPU 1); three tap
    ports with two rx queues each (a device needs one tx queue per PMD, and
    net_tap as many rx as tx queues); heavy traffic into p1; pmd-rebalance;
    pmd-rebalance again at once; more traffic. Verify: every rx queue is
    polled by exactly one PMD, three each; the rebalance puts the busiest
    queue (p1's) alone on one PMD and reports the moves; a second rebalance
    with no load since moves nothing (ties stay); frames cross exactly
    before and after; mbufs back to baseline."""
    d = vswd_factory(eal=["--lcores=0@0,1@1,2@1"])
    assert len(d.ctl("pmd-stats")) == 2
    sw = Switch(d, n_rxq="2")

    def placement():
        rows = d.ctl("rxq-show")
        assert sorted((r["port"], r["queue"]) for r in rows) == \
            [(p, q) for p in PORTS for q in (0, 1)], rows
        by = {}
        for r in rows:
            by.setdefault(r["lcore"], []).append((r["port"], r["queue"]))
        return sorted(sorted(v) for v in by.values())
    pl = placement()
    assert [len(x) for x in pl] == [3, 3], pl
    sw.step("p2", frames(BCAST, mac(2), 1), others("p2"))
    for i in range(10):
        sw.step("p1", frames(mac(2), mac(1), 200, seq0=i * 200), ["p2"])
    r = d.ctl("pmd-rebalance")
    busiest = (r["queues"][0]["port"], r["queues"][0]["queue"])
    assert busiest[0] == "p1", r
    pl = placement()
    assert [busiest] in pl and sorted(len(x) for x in pl) == [1, 5], pl
    r = d.ctl("pmd-rebalance")  # no load since: ties keep every queue in place
    assert r["moved"] == 0, r
    assert placement() == pl
    sw.step("p3", frames(mac(1), mac(3), 10), ["p1"])
    for i in range(5):
        sw.step("p1", frames(mac(3), mac(1), 200, seq0=5000 + i * 200), ["p3"])
    assert placement() == pl
    sw.finish()
