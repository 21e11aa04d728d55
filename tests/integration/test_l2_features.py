# SPDX-License-Identifier: BSD-3-Clause
"""L2 features, frame by frame: 802.1Q access and trunk ports (push, pop,
flooding within a VLAN, a flood that needs different tagging per output),
port security, learn-limit actions, storm control, ingress policing,
protected ports, mirroring, MAC-flap damping, jumbo frames, and the
refusal of bad options. Frames go in and out of kernel taps (net_tap
ports); every test compares the exact bytes each port sent, the exact
drop counters, and the mbuf count at the end."""
import struct
import time

import pytest

import vswlib
from vswlib import BCAST, MCAST, frame, frames, mac, wait_for

pytestmark = pytest.mark.timeout(90)


def tag(f, vid, pcp=0):
    """f with an 802.1Q tag inserted after the addresses."""
    return f[:12] + struct.pack("!HH", 0x8100, (pcp << 13) | vid) + f[12:]


def untag(f):
    assert f[12:14] == b"\x81\x00"
    return f[:12] + f[16:]


class L2:
    """vswd + tap ports; xfer() sends frames and checks every output."""

    def __init__(self, d, ports, bridge="br0"):
        self.d = d
        self.taps = {}
        for p, opts in ports.items():
            self.taps[p] = d.add_tap(p, bridge, **opts)
        time.sleep(0.2)
        for t in self.taps.values():
            t.drain()
        self.base = d.mbuf_in_use()

    def drops(self, st):
        return {p: {k: v for k, v in s["drops"].items() if v} for p, s in st.items()}

    def xfer(self, inp, fl, out, drops=None, timeout=5):
        """Send fl on port inp. out = {port: frames it must send, in order};
        every other port must send nothing. drops = {port: {reason: n}}: the
        drop counters that must grow, by exactly n (all others stay)."""
        before = self.d.stats()
        self.taps[inp].send(fl)
        want = {inp: {"rx_packets": before[inp]["rx_packets"] + len(fl)}}
        for p, exp in out.items():
            want.setdefault(p, {})["tx_packets"] = before[p]["tx_packets"] + len(exp)
        self.d.wait_stats(want, timeout)
        got = {p: t.recv(len(out[p]) if out.get(p) else None, timeout=2, settle=0)
               for p, t in self.taps.items()}
        time.sleep(0.2)
        for p, t in self.taps.items():
            got[p] += t.recv(None, 0, 0)
        for p in self.taps:
            exp = out.get(p, [])
            assert got[p] == exp, "port %s sent %d frames %r, expected %d %r" % (
                p, len(got[p]), [g[:18].hex() for g in got[p][:3]], len(exp),
                [e[:18].hex() for e in exp[:3]])
        after = self.d.stats()
        b, a = self.drops(before), self.drops(after)
        delta = {p: {k: v - b[p].get(k, 0) for k, v in a[p].items() if v != b[p].get(k, 0)}
                 for p in a}
        exp = {p: {} for p in a}
        for p, r in (drops or {}).items():
            exp[p] = dict(r)
        assert delta == exp, "drop counters grew by %r, expected %r" % (delta, exp)
        return after

    def finish(self):
        self.d.assert_mbufs(self.base)


# ------------------------------------------------------------------ VLANs

def test_vlan_access_and_trunk(vswd):
    """Steps: access ports a1, a2 (tag=10) and a3 (tag=20), a trunk t1
    (trunks=10,20), a plain port p0 (all VLANs, untagged = no VLAN).
    Verify, byte for byte: a broadcast from a1 leaves a2 untagged, t1 and p0
    tagged 10, never a3 (one flood, two tagging forms); a tagged-20
    broadcast from t1 reaches a3 untagged and p0 tagged, never VLAN 10
    ports; unicast to a learned MAC crosses VLAN-correctly (push on the way
    to the trunk, pop on the way to the access port); the same MAC is
    learned separately per VLAN; tagged frames on an access port, VLANs
    not on the trunk and untagged frames on a trunk without a native VLAN
    are dropped as vlan_not_allowed; a priority-tagged frame is untagged;
    mbufs back to baseline."""
    d = vswd
    sw = L2(d, {"a1": {"tag": "10"}, "a2": {"tag": "10"}, "a3": {"tag": "20"},
                "t1": {"trunks": "10,20"}, "p0": {}})
    A, B, C, T = mac(0x101), mac(0x102), mac(0x103), mac(0x1F0)
    bc = frames(BCAST, A, 4, size=100)
    sw.xfer("a1", bc, {"a2": bc, "t1": [tag(f, 10) for f in bc], "p0": [tag(f, 10) for f in bc]})
    d.wait_learned({A: "a1"})
    bc20 = [tag(f, 20) for f in frames(BCAST, T, 3, size=90)]
    sw.xfer("t1", bc20, {"a3": [untag(f) for f in bc20], "p0": bc20})
    # unicast: t1 (VLAN 10) -> A on a1: popped; a1 -> T on t1 (VLAN 10 now known): pushed
    u = [tag(f, 10) for f in frames(A, T, 5, size=120)]
    sw.xfer("t1", u, {"a1": [untag(f) for f in u]})
    fdb = d.ctl("fdb-show", "br0")
    assert {(e["mac"], e["vlan"], e["port"]) for e in fdb} >= {
        (A, 10, "a1"), (T, 10, "t1"), (T, 20, "t1")}, fdb
    u2 = frames(T, A, 5, size=130)
    sw.xfer("a1", u2, {"t1": [tag(f, 10) for f in u2]})
    # B in VLAN 10 is unknown: flooded within VLAN 10 only
    u3 = frames(B, A, 2)
    sw.xfer("a1", u3, {"a2": u3, "t1": [tag(f, 10) for f in u3], "p0": [tag(f, 10) for f in u3]})
    # T is known in VLAN 20 on t1, but a frame from a2 (VLAN 10) to T goes
    # to t1 only through VLAN 10's entry: tagged 10
    u4 = frames(T, B, 2)
    sw.xfer("a2", u4, {"t1": [tag(f, 10) for f in u4]})
    # refused: tagged on an access port, VLAN 30 on the trunk, untagged on the trunk
    sw.xfer("a1", [tag(f, 10) for f in frames(BCAST, A, 2)], {},
            drops={"a1": {"vlan_not_allowed": 2}})
    sw.xfer("t1", [tag(f, 30) for f in frames(BCAST, T, 3)], {},
            drops={"t1": {"vlan_not_allowed": 3}})
    sw.xfer("t1", frames(BCAST, T, 2), {}, drops={"t1": {"vlan_not_allowed": 2}})
    # priority tag (VLAN 0) on an access port: the frame is untagged VLAN 10
    pr = [tag(f, 0, pcp=5) for f in frames(BCAST, C, 2, size=80)]
    plain = [untag(f) for f in pr]
    sw.xfer("a2", pr, {"a1": plain, "t1": [tag(f, 10) for f in plain],
                       "p0": [tag(f, 10) for f in plain]})
    # a plain port's untagged frames are "no VLAN": they reach only p0-like ports
    sw.xfer("p0", frames(BCAST, mac(0x1AA), 2), {}, drops={"p0": {"no_dest": 2}})
    # p0's tagged-20 frame reaches a3 (popped) and t1 (as is)
    f20 = [tag(f, 20) for f in frames(BCAST, mac(0x1AB), 2)]
    sw.xfer("p0", f20, {"a3": [untag(f) for f in f20], "t1": f20})
    sw.finish()


def test_vlan_native_and_changes(vswd):
    """Steps: trunk t1 (trunks=10,20) and access a1 (tag=10); set-port t1
    native=10; then tag changes on a1 at run time. Verify: with native=10
    untagged frames from t1 are VLAN 10 (a1 gets them untagged) and VLAN-10
    frames leave t1 untagged; `show` reports the options; after set-port a1
    tag=20 the port is in VLAN 20; after tag=none and trunks=none on both,
    the bridge forwards frames untouched again; mbufs back to baseline."""
    d = vswd
    sw = L2(d, {"t1": {"trunks": "10,20"}, "a1": {"tag": "10"}})
    d.ctl("set-port", "t1", "native=10")
    ports = {p["name"]: p for p in d.show()["bridges"][0]["ports"]}
    assert ports["t1"]["l2"] == {"trunks": "10,20", "native": "10"}, ports["t1"]
    assert ports["a1"]["l2"] == {"tag": "10"}
    text = vswlib.run_vswctl(d.ctl_path, "show", json_out=False).stdout
    assert "trunks=10,20 native=10" in text and "tag=10" in text, text
    f = frames(BCAST, mac(0x201), 3)
    sw.xfer("t1", f, {"a1": f})
    g = frames(BCAST, mac(0x202), 2)
    sw.xfer("a1", g, {"t1": g})                              # native: untagged
    h = [tag(x, 20) for x in frames(BCAST, mac(0x203), 2)]
    sw.xfer("t1", h, {}, drops={"t1": {"no_dest": 2}})      # nobody else in 20
    d.ctl("set-port", "a1", "tag=20")
    sw.xfer("t1", h, {"a1": [untag(x) for x in h]})
    d.ctl("set-port", "a1", "tag=none")
    d.ctl("set-port", "t1", "trunks=none", "native=none")
    ports = {p["name"]: p for p in d.show()["bridges"][0]["ports"]}
    assert ports["t1"]["l2"] == {} and ports["a1"]["l2"] == {}
    k = [tag(x, 33) for x in frames(BCAST, mac(0x204), 2)]
    sw.xfer("t1", k, {"a1": k})                             # transparent again
    sw.finish()


def test_vlan_many_outputs_shared_frame(vswd):
    """Steps: one access port a0 (tag=7) and six plain/trunk/access outputs
    in VLAN 7; 200 broadcasts from a0 and 200 tagged-7 broadcasts from the
    trunk. Verify: every output gets every frame in its own form (tagged or
    untagged), drop counters stay zero, mbufs back to baseline (the shared
    frame and its re-tagged copy are each freed exactly once)."""
    d = vswd
    sw = L2(d, {"a0": {"tag": "7"}, "a1": {"tag": "7"}, "a2": {"tag": "7"},
                "t1": {"trunks": "7"}, "t2": {"trunks": "1-100"}, "p0": {}, "p1": {}})
    fl = frames(BCAST, mac(0x301), 200, size=200)
    tg = [tag(f, 7) for f in fl]
    sw.xfer("a0", fl, {"a1": fl, "a2": fl, "t1": tg, "t2": tg, "p0": tg, "p1": tg})
    fl2 = [tag(f, 7) for f in frames(BCAST, mac(0x302), 200, size=300)]
    un = [untag(f) for f in fl2]
    sw.xfer("t1", fl2, {"a0": un, "a1": un, "a2": un, "t2": fl2, "p0": fl2, "p1": fl2})
    sw.finish()


# ---------------------------------------------------------- port security

def test_allowed_macs(vswd):
    """Steps: p1 with allowed-macs=A,B; frames from A, B and C.
    Verify: A's and B's frames are forwarded, C's are dropped and counted
    as src_not_allowed and C is never learned; allowed-macs=none lifts it;
    a bad list is refused and changes nothing."""
    d = vswd
    A, B, C = mac(0x401), mac(0x402), mac(0x403)
    sw = L2(d, {"p1": {"allowed-macs": "%s,%s" % (A, B)}, "p2": {}})
    fa, fb, fc = frames(BCAST, A, 3), frames(BCAST, B, 2), frames(BCAST, C, 4)
    sw.xfer("p1", fa + fc + fb, {"p2": fa + fb}, drops={"p1": {"src_not_allowed": 4}})
    d.wait_learned({A: "p1", B: "p1"})
    assert C not in {e["mac"] for e in d.ctl("fdb-show", "br0")}
    rc, err = d.ctl_fail("set-port", "p1", "allowed-macs=%s,zz:00" % A)
    assert rc == 1 and "bad MAC" in err, err
    rc, err = d.ctl_fail("set-port", "p1", "allowed-macs=01:00:5e:00:00:01")
    assert rc == 1 and "not a unicast" in err, err
    assert d.port("p1")["l2"]["allowed-macs"] == "%s,%s" % (A, B)
    d.ctl("set-port", "p1", "allowed-macs=none")
    sw.xfer("p1", fc, {"p2": fc})
    sw.finish()


# ------------------------------------------------------ learn-limit actions

def test_learn_limit_actions(vswd):
    """Steps: p1 max-macs=2; five source MACs send under on-limit=drop,
    then flood, then log. Verify: drop: frames of MACs 3-5 are dropped as
    learn_limit; flood: they are forwarded, not learned, counted as
    unlearned, and replies to them are flooded; log: as flood, and an event
    names the port and a refused MAC; two MACs learned throughout; the
    limit is per port (p2 learns freely)."""
    d = vswd
    sw = L2(d, {"p1": {"max-macs": "2"}, "p2": {}, "p3": {}})
    srcs = [mac(0x500 + i) for i in range(5)]
    fl = [frame(BCAST, s, i) for i, s in enumerate(srcs)]
    sw.xfer("p1", fl[:2], {"p2": fl[:2], "p3": fl[:2]})
    d.wait_learned({srcs[0]: "p1", srcs[1]: "p1"})
    sw.xfer("p1", fl[2:], {}, drops={"p1": {"learn_limit": 3}})
    d.ctl("set-port", "p1", "on-limit=flood")
    before = d.stats()["p1"]["unlearned"]
    sw.xfer("p1", fl[2:], {"p2": fl[2:], "p3": fl[2:]})
    assert d.stats()["p1"]["unlearned"] - before == 3
    reply = frames(srcs[3], mac(0x5F0), 2)
    sw.xfer("p2", reply, {"p1": reply, "p3": reply})        # unknown: flooded
    on_p1 = {e["mac"] for e in d.ctl("fdb-show", "br0") if e["port"] == "p1"}
    assert on_p1 == set(srcs[:2]), on_p1
    d.ctl("set-port", "p1", "on-limit=log")
    sw.xfer("p1", fl[4:], {"p2": fl[4:], "p3": fl[4:]})
    wait_for(lambda: any("p1 is at its MAC limit" in e["event"] and srcs[4] in e["event"]
                         for e in d.ctl("events", "count=50")), 5, what="on-limit=log event")
    assert d.port("p1")["l2"] == {"max-macs": "2", "on-limit": "log"}
    rc, err = d.ctl_fail("set-port", "p1", "on-limit=maybe")
    assert rc == 1 and "drop, flood or log" in err
    many = [frame(BCAST, mac(0x580 + i), i) for i in range(10)]
    sw.xfer("p2", many, {"p1": many, "p3": many})           # p2 has no limit
    sw.finish()


# ----------------------------------------------------------- storm control

def _send_timed(sw, port, fl):
    """Send and wait until the switch has received all; return seconds."""
    before = sw.d.stats()[port]["rx_packets"]
    t0 = time.monotonic()
    sw.taps[port].send(fl)
    wait_for(lambda: sw.d.stats()[port]["rx_packets"] >= before + len(fl), 10,
             what="frames received")
    return time.monotonic() - t0


def test_storm_control(vswd):
    """Steps: p1 with storm-bcast=50 storm-mcast=40 storm-unknown=30 (frames
    per second, bursts of up to one second's worth); 400 broadcasts, 400
    multicasts, 400 unknown unicasts and 400 known unicasts sent as fast as
    the tap takes them. Verify, per class: forwarded + storm drops = sent
    exactly; forwarded is at least the burst and at most burst + rate x the
    measured send time (+1); known unicast is never limited."""
    d = vswd
    sw = L2(d, {"p1": {"storm-bcast": "50", "storm-mcast": "40", "storm-unknown": "30"},
                "p2": {}})
    known = mac(0x6F0)
    sw.taps["p2"].send([frame(BCAST, known, 0)])
    d.wait_learned({known: "p2"})
    sw.taps["p1"].drain()
    for dst, rate, reason, seq in ((BCAST, 50, "storm_bcast", 0), (MCAST, 40, "storm_mcast", 1000),
                                   (mac(0x6EE), 30, "storm_unknown", 2000)):
        st0 = d.stats()
        fl = frames(dst, mac(0x601), 400, seq0=seq)
        el = _send_timed(sw, "p1", fl)
        time.sleep(0.3)
        st = d.stats()
        fwd = st["p2"]["tx_packets"] - st0["p2"]["tx_packets"]
        dropped = st["p1"]["drops"][reason] - st0["p1"]["drops"][reason]
        got = sw.taps["p2"].recv(None, 0.5, 0.2)
        assert fwd + dropped == 400, (reason, fwd, dropped)
        assert len(got) == fwd, (reason, len(got), fwd)
        assert rate <= fwd <= rate + rate * el + 1, (reason, fwd, el)
    fl = frames(known, mac(0x601), 400, seq0=5000)
    sw.xfer("p1", fl, {"p2": fl})
    sw.finish()


# ------------------------------------------------------------- policing

def test_ingress_policing(vswd):
    """Steps: p1 police-pps=100 police-burst-pkts=20, 300 frames; then
    police-pps=0 police-rate=80k police-burst=4000 (10 kB/s, 4 kB bucket),
    60 frames of 1000 bytes. Verify: forwarded + policed = sent exactly;
    forwarded between the burst and burst + rate x measured time (+1);
    police-rate=0 turns it off (all 300 pass); bad rates are refused."""
    d = vswd
    sw = L2(d, {"p1": {"police-pps": "100", "police-burst-pkts": "20"}, "p2": {}})
    for opts, n, size, burst, rate in (((), 300, 64, 20, 100),
                                      (("police-pps=0", "police-rate=80k",
                                        "police-burst=4000"), 60, 1000, 4, 10)):
        if opts:
            d.ctl("set-port", "p1", *opts)
        st0 = d.stats()
        fl = frames(BCAST, mac(0x701), n, size=size, seq0=n)
        el = _send_timed(sw, "p1", fl)
        time.sleep(0.3)
        st = d.stats()
        fwd = st["p2"]["tx_packets"] - st0["p2"]["tx_packets"]
        pol = st["p1"]["drops"]["policed"] - st0["p1"]["drops"]["policed"]
        assert fwd + pol == n, (opts, fwd, pol)
        assert burst <= fwd <= burst + rate * el + 1, (opts, fwd, el)
        sw.taps["p2"].drain()
    assert d.port("p1")["l2"] == {"police-rate": "80000", "police-burst": "4000",
                                  "police-burst-pkts": "20"}
    for bad in ("police-rate=fast", "police-rate=-1", "police-burst=10", "police-pps=x"):
        rc, err = d.ctl_fail("set-port", "p1", bad)
        assert rc == 1, bad
    d.ctl("set-port", "p1", "police-rate=0")
    fl = frames(BCAST, mac(0x702), 300)
    sw.xfer("p1", fl, {"p2": fl})
    sw.finish()


# -------------------------------------------------------- protected ports

def test_protected_ports(vswd):
    """Steps: v1, v2 protected=true, up (uplink) not. Verify: a broadcast
    from v1 reaches only up; unicast v1 -> v2 (learned) is dropped as
    protected; v1 -> up and up -> v1, v2 pass; protected=false restores
    normal switching."""
    d = vswd
    sw = L2(d, {"v1": {"protected": "true"}, "v2": {"protected": "true"}, "up": {}})
    V1, V2, U = mac(0x801), mac(0x802), mac(0x803)
    b1 = frames(BCAST, V1, 2)
    sw.xfer("v1", b1, {"up": b1})
    b2 = frames(BCAST, V2, 2)
    sw.xfer("v2", b2, {"up": b2})
    bu = frames(BCAST, U, 2)
    sw.xfer("up", bu, {"v1": bu, "v2": bu})
    d.wait_learned({V1: "v1", V2: "v2", U: "up"})
    sw.xfer("v1", frames(V2, V1, 3), {}, drops={"v1": {"protected": 3}})
    x = frames(U, V1, 3)
    sw.xfer("v1", x, {"up": x})
    y = frames(V2, U, 3)
    sw.xfer("up", y, {"v2": y})
    d.ctl("set-port", "v2", "protected=false")
    z = frames(V2, V1, 2)
    sw.xfer("v1", z, {"v2": z})
    sw.finish()


# --------------------------------------------------------------- mirroring

def test_mirror(vswd):
    """Steps: p1, p2, p3 and a mirror output m; set-port p1 mirror=m.
    Verify: m gets a copy of every frame p1 receives and every frame it
    sends (in that port's form), p1's `mirrored` counter counts them; m is
    left out of flooding and frames arriving on m are dropped as
    mirror_port; mirror-dir=rx copies only received frames; mirror=none
    ends it; deleting the mirror port removes the mirror; a mirror to a
    missing port or to itself is refused."""
    d = vswd
    sw = L2(d, {"p1": {}, "p2": {}, "p3": {}, "m": {}})
    d.ctl("set-port", "p1", "mirror=m")
    A, B = mac(0x901), mac(0x902)
    f = frames(BCAST, A, 3)
    sw.xfer("p1", f, {"p2": f, "p3": f, "m": f})            # rx copy
    g = frames(A, B, 2)
    sw.xfer("p2", g, {"p1": g, "m": g})                     # tx copy
    h = frames(BCAST, B, 2, seq0=10)
    sw.xfer("p2", h, {"p1": h, "p3": h, "m": h})            # flooded: tx copy only
    assert d.stats()["p1"]["mirrored"] == 7
    sw.xfer("m", frames(BCAST, mac(0x903), 2), {}, drops={"m": {"mirror_port": 2}})
    d.ctl("set-port", "p1", "mirror-dir=rx")
    sw.xfer("p2", g, {"p1": g})
    sw.xfer("p1", f, {"p2": f, "p3": f, "m": f})
    d.ctl("set-port", "p1", "mirror=none")
    sw.xfer("p1", f, {"p2": f, "p3": f, "m": f})           # m is a normal port again
    rc, err = d.ctl_fail("set-port", "p1", "mirror=nope")
    assert rc == 1 and "not a port of bridge" in err, err
    rc, err = d.ctl_fail("set-port", "p1", "mirror=p1")
    assert rc == 1 and "itself" in err, err
    rc, err = d.ctl_fail("set-port", "p1", "mirror-dir=tx")
    assert rc == 1 and "needs mirror" in err, err
    d.ctl("set-port", "p2", "mirror=m", "mirror-dir=tx")
    sw.finish()
    d.ctl("del-port", "m")      # its rx ring's mbufs go back to the pool
    assert d.port("p2")["l2"] == {}
    sw.taps.pop("m").close()
    sw.base = d.mbuf_in_use()
    sw.xfer("p1", f, {"p2": f, "p3": f})
    sw.finish()


# ------------------------------------------------------- MAC-flap damping

def test_mac_flap_log_and_freeze(vswd):
    """Steps: set-br flap-moves=3 flap-window=30; a MAC sends alternately
    from p1 and p2 (one frame, wait for the move, repeat). Verify: a
    warning event names the MAC and both ports, fdb-stats counts one flap.
    Then flap-freeze=30 and another bounce: the MAC is frozen on its port
    (fdb-show frozen > 0), frames from it on the other port are dropped as
    mac_frozen and it does not move; settings show in `show` and survive
    bad values."""
    d = vswd
    sw = L2(d, {"p1": {}, "p2": {}, "p3": {}})
    d.ctl("set-br", "br0", "flap-moves=3", "flap-window=30")
    F = mac(0xA01)

    def bounce(port, seq):
        sw.taps[port].send([frame(BCAST, F, seq)])
        d.wait_learned({F: port})
    for i, port in enumerate(["p1", "p2", "p1", "p2"]):
        bounce(port, i)
    wait_for(lambda: any("is flapping between ports" in e["event"] and F in e["event"]
                         for e in d.ctl("events", "count=50")), 5, what="flap event")
    ev = [e["event"] for e in d.ctl("events", "count=50") if "flapping" in e["event"]]
    assert "p1" in ev[-1] and "p2" in ev[-1], ev
    assert d.ctl("fdb-stats", "br0")[0]["flaps"] == 1
    d.ctl("set-br", "br0", "flap-freeze=30")
    br = d.show()["bridges"][0]
    assert (br["flap_moves"], br["flap_window"], br["flap_freeze"]) == (3, 30, 30)
    d.ctl("fdb-flush", "br0")
    for i, port in enumerate(["p1", "p2", "p1"]):
        bounce(port, 10 + i)
    # the third move (back to p2) freezes it on p1
    sw.taps["p2"].send([frame(BCAST, F, 20)])
    wait_for(lambda: any(e["mac"] == F and e["frozen"] > 0 for e in d.ctl("fdb-show", "br0")),
             5, what="frozen entry")
    ent = [e for e in d.ctl("fdb-show", "br0") if e["mac"] == F][0]
    assert ent["port"] == "p1", ent
    for t in sw.taps.values():
        t.drain()
    sw.xfer("p2", frames(BCAST, F, 4, seq0=30), {}, drops={"p2": {"mac_frozen": 4}})
    assert [e for e in d.ctl("fdb-show", "br0") if e["mac"] == F][0]["port"] == "p1"
    st = d.ctl("fdb-stats", "br0")[0]
    assert st["frozen"] == 1 and st["frozen_refused"] >= 1, st
    for bad in ("flap-moves=-1", "flap-window=0", "flap-freeze=abc"):
        rc, _ = d.ctl_fail("set-br", "br0", bad)
        assert rc == 1, bad
    sw.finish()


# ----------------------------------------------------------- jumbo frames

def test_jumbo_frames(vswd, tmp_path):
    """Steps: a net_pcap port j1 replays 9014-byte frames (9000 bytes of
    payload: multi-segment mbufs in vswd) and 1514-byte ones; j2 (net_pcap,
    mtu=9000) and a tap s1 (mtu 1500) listen. Verify: j2 writes every frame
    byte for byte; s1 gets only the 1514-byte ones and counts the jumbo
    frames as mtu_exceeded (never sent truncated); a tap asked for mtu=9000
    is refused with the range the device takes; mbufs back to baseline."""
    from scapy.utils import wrpcap
    from scapy.packet import Raw
    d = vswd
    s1 = d.add_tap("s1")
    base = d.mbuf_in_use()
    empty = str(tmp_path / "empty.pcap")
    wrpcap(empty, [])
    out = tmp_path / "j2.pcap"
    d.ctl("add-port", "br0", "j2", "type=dpdk", "mtu=9000",
          "devargs=net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (vswlib.uniq(), empty, out))
    big = frames(BCAST, mac(0xB01), 3, size=9014)
    small = frames(BCAST, mac(0xB01), 3, size=1514, seq0=10)
    fl = [x for pair in zip(big, small) for x in pair]
    src = str(tmp_path / "in.pcap")
    wrpcap(src, [Raw(x) for x in fl])
    d.ctl("add-port", "br0", "j1", "type=dpdk", "mtu=9000",
          "devargs=net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (vswlib.uniq(), src,
                                                        tmp_path / "j1.pcap"))
    st = d.wait_stats({"j2": {"tx_packets": 6}, "s1": {"tx_packets": 3}}, 10)
    assert st["j2"]["tx_packets"] == 6 and st["j2"]["tx_bytes"] == sum(map(len, fl)), st["j2"]
    assert st["s1"]["tx_packets"] == 3 and st["s1"]["drops"]["mtu_exceeded"] == 3, st["s1"]
    assert s1.recv(3, timeout=3) == small
    d.ctl("del-port", "j2")                 # closes (flushes) its pcap file
    assert [bytes(p) for p in vswlib.read_pcap(str(out))] == fl
    rc, err = d.ctl_fail("add-port", "br0", "s2", "type=dpdk", "mtu=9000",
                         "devargs=net_tap%d" % vswlib.uniq())
    assert rc == 1 and "takes an mtu of" in err and "not 9000" in err, err
    d.ctl("del-port", "j1")
    d.assert_mbufs(base)


def test_jumbo_vhost(vswd, vm_factory):
    """Steps: two testpmd VMs on vhost-user ports v1, v2 with mtu=9000
    (virtio-user guests with 9800-byte buffers), a tap s1 at 1500; vm1
    sends broadcasts of 9014 and 1514 bytes. Verify: vm2 receives every
    frame byte for byte (vswd dequeues them into chains of 2 KB mbufs and
    enqueues the chains), s1 only the 1514-byte ones, the jumbo ones counted as
    mtu_exceeded on s1; exact counters; mbufs back to baseline."""
    d = vswd
    s1 = d.add_tap("s1")
    for p in ("v1", "v2"):
        d.ctl("add-port", "br0", p, "type=vhost-user", "mtu=9000")
    assert d.port("v1")["mtu"] == 9000
    A, B = mac(0xD01), mac(0xD02)
    hello = [frame(BCAST, B, 1)]
    big = frames(BCAST, A, 3, size=9014, seq0=10)
    small = frames(BCAST, A, 3, size=1514, seq0=20)
    fl = [x for pair in zip(big, small) for x in pair]
    jumbo = ["--max-pkt-len=9600", "--mbuf-size=9800"]
    vm2 = vm_factory("j-vm2", [vswlib.VPort(d.port("v2")["path"], mac=B, tx=hello)], extra=jumbo)
    vm1 = vm_factory("j-vm1", [vswlib.VPort(d.port("v1")["path"], mac=A, tx=fl)], extra=jumbo)
    vm2.launch()
    vm1.launch()
    d.wait_port_state("v1", "up")
    d.wait_port_state("v2", "up")
    s1.drain()
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    vm2.start()
    d.wait_learned({B: "v2"})
    vm1.start()
    st = d.wait_stats({"v2": {"tx_packets": 6}, "s1": {"tx_packets": 4}}, 10)
    assert st["v2"]["tx_packets"] == 6 and st["v2"]["tx_bytes"] == sum(map(len, fl)), st["v2"]
    assert st["s1"]["drops"]["mtu_exceeded"] == 3, st["s1"]
    assert st["v1"]["rx_packets"] == 6 and st["v1"]["drops_total"] == 0, st["v1"]
    assert s1.recv(4, timeout=3) == hello + small
    vm1.quit()
    vm2.quit()
    assert vm2.ports[0].rx == fl, [len(x) for x in vm2.ports[0].rx]
    assert vm1.ports[0].rx == hello
    d.assert_mbufs(base)


# --------------------------------------------------------- bad options

def test_bad_l2_options_change_nothing(vswd):
    """Every malformed option gets a one-line error; the port's options and
    forwarding are unchanged afterwards."""
    d = vswd
    sw = L2(d, {"p1": {"tag": "10"}, "p2": {"tag": "10"}})
    before = d.port("p1")["l2"]
    for bad, words in (("tag=0", "VLAN id"), ("tag=4096", "VLAN id"), ("tag=x", "VLAN id"),
                       ("trunks=1-5000", "bad VLAN list"), ("trunks=5-3", "bad VLAN list"),
                       ("trunks=", "empty VLAN list"), ("trunks=10", "either access"),
                       ("native=7", "either access"), ("storm-bcast=-3", "integer"),
                       ("max-macs=abc", "integer"), ("protected=maybe", "true or false"),
                       ("mirror-dir=sideways", "rx, tx or both")):
        rc, err = d.ctl_fail("set-port", "p1", bad)
        assert rc == 1 and words in err, (bad, err)
        assert d.port("p1")["l2"] == before, bad
    f = frames(BCAST, mac(0xC01), 3)
    sw.xfer("p1", f, {"p2": f})
    sw.finish()


def test_l2_options_persist(vswd_factory):
    """Steps: set every kind of L2 option, restart vswd (SIGTERM, start on
    the same state file). Verify: `show` reports the same options and the
    same bridge flap settings after the restart, and the VLAN behaviour
    holds (an access port still tags into its VLAN)."""
    d = vswd_factory()
    sw = L2(d, {"a": {"tag": "5"}, "t": {"trunks": "5,6,100-110", "native": "6"},
                "s": {"allowed-macs": "%s,%s" % (mac(1), mac(2)), "max-macs": "9",
                      "on-limit": "log", "storm-bcast": "1000", "police-rate": "1g",
                      "police-pps": "100000", "protected": "true"},
                "m": {}})
    d.ctl("set-port", "t", "mirror=m", "mirror-dir=tx")
    d.ctl("set-br", "br0", "flap-moves=4", "flap-window=20", "flap-freeze=60")
    want = {p["name"]: p["l2"] for p in d.show()["bridges"][0]["ports"]}
    assert want["t"] == {"trunks": "5-6,100-110", "native": "6", "mirror": "m",
                         "mirror-dir": "tx"}, want
    for t in sw.taps.values():
        t.close()
    assert d.stop() == 0
    d2 = vswd_factory(state=d.state)
    got = {p["name"]: p["l2"] for p in d2.show()["bridges"][0]["ports"]}
    assert got == want
    br = d2.show()["bridges"][0]
    assert (br["flap_moves"], br["flap_window"], br["flap_freeze"]) == (4, 20, 60)
