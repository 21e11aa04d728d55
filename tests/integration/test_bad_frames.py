# SPDX-License-Identifier: BSD-3-Clause
"""A corpus of malformed and unusual frames, built with scapy and replayed
into vswd through a net_pcap port: every frame is forwarded or dropped as
documented, counted under its reason, nothing crashes, nothing leaks, and
the switch keeps forwarding afterwards."""
import random

from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import wrpcap
from scapy.packet import Raw

import vswlib
from vswlib import BCAST, frames, mac


def corpus():
    """(frames, expected drops by reason, number expected to be flooded)."""
    rnd = random.Random(7)
    ok_src = mac(0x71)
    runts = [bytes(rnd.getrandbits(8) for _ in range(n)) for n in range(0, 14)]
    bad_src = [bytes(Ether(dst=mac(0x72), src="01:00:5e:00:00:01", type=0x88B5) / Raw(b"x" * 50)),
               bytes(Ether(dst=mac(0x72), src=BCAST, type=0x88B5) / Raw(b"x" * 50)),
               bytes(Ether(dst=mac(0x72), src="00:00:00:00:00:00", type=0x88B5) / Raw(b"x" * 50))]
    # Forwarded (flooded: the destinations are unknown), documented as
    # plain L2: vsw does not interpret VLAN tags yet.
    fwd = [
        bytes(Ether(dst=mac(0x72), src=ok_src, type=0x8100))[:14],          # tag cut off
        bytes(Ether(dst=mac(0x72), src=ok_src) / Dot1Q(vlan=5))[:16],       # half a tag
        bytes(Ether(dst=mac(0x72), src=ok_src) / Dot1Q(vlan=5) / Dot1Q(vlan=6) /
              Raw(b"q" * 40)),                                               # stacked tags
        bytes(Ether(dst=BCAST, src=ok_src, type=0x88B5) / Raw(b"b" * 100)),
        bytes(Ether(dst=mac(0x72), src=ok_src, type=0x88B5) / Raw(b"o" * 1600)),  # > MTU
        bytes(Ether(dst=mac(0x72), src=ok_src, type=0x88B5) / Raw(b"j" * 8986)),  # jumbo, multi-seg
    ]
    # Random bytes with a valid unicast source.
    for n in (14, 15, 60, 64, 100, 1514, 3000):
        body = bytes(rnd.getrandbits(8) for _ in range(n))
        fwd.append(bytes([0x02, 0x76, 0x73, 0, 0, 0x73]) + bytes.fromhex("027673000071") +
                   body[12:])
    frames_ = runts + bad_src + fwd
    rnd.shuffle(frames_)
    return frames_, {"runt": len(runts), "invalid_src": len(bad_src)}, len(fwd)


def test_bad_frame_corpus(vswd, tmp_path):
    """Steps: two tap ports; a net_pcap port replays the corpus (runts of
    0-13 bytes, multicast/broadcast/zero sources, truncated and stacked
    VLAN tags, a frame over the MTU, a 9000-byte jumbo that needs a
    multi-segment mbuf, random bytes); then normal traffic between the taps.
    Verify: rx and drop counters equal the corpus exactly, the other
    frames are flooded to both taps (each tap's tx count), vswd is alive,
    normal traffic still flows with exact counts, mbufs back to baseline."""
    d = vswd
    t1 = d.add_tap("t1")
    t2 = d.add_tap("t2")
    base = d.mbuf_in_use()
    fr, drops, n_fwd = corpus()
    pcap = str(tmp_path / "corpus.pcap")
    wrpcap(pcap, [Raw(f) if f else Raw(b"") for f in fr])
    d.ctl("add-port", "br0", "pc", "type=dpdk",
          "devargs=net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (vswlib.uniq(), pcap,
                                                        tmp_path / "pc-out.pcap"))
    st = vswlib.wait_for(lambda: (lambda s: s if s["pc"]["rx_packets"] == len(fr) else None)(
        d.stats()), 10, what="%d corpus frames received" % len(fr))
    # The taps have MTU 1500: longer frames (with one tag's allowance,
    # 1518 bytes) are dropped as mtu_exceeded on each of them.
    big = sum(1 for f in fr if len(f) >= 14 and f[6] & 1 == 0 and any(f[6:12]) and
              len(f) > 1518)
    n_fwd -= big
    st = d.wait_stats({"t1": {"tx_packets": n_fwd}, "t2": {"tx_packets": n_fwd}})
    for t in ("t1", "t2"):
        assert st[t]["drops"]["mtu_exceeded"] == big, st[t]
        assert st[t]["drops_total"] == big, st[t]
    pc = st["pc"]
    assert pc["drops"]["runt"] == drops["runt"], pc
    assert pc["drops"]["invalid_src"] == drops["invalid_src"], pc
    assert pc["drops_total"] == drops["runt"] + drops["invalid_src"], pc
    assert st["t1"]["tx_packets"] == n_fwd and st["t2"]["tx_packets"] == n_fwd, \
        {p: (s["tx_packets"], {k: v for k, v in s["drops"].items() if v}) for p, s in st.items()}
    assert d.alive()
    # The switch still switches: exact unicast between the taps.
    d.ctl("del-port", "pc")
    t1.drain()
    t2.drain()
    t1.send([vswlib.frame(BCAST, mac(0x81), 0)])
    t2.send([vswlib.frame(BCAST, mac(0x82), 0)])
    d.wait_learned({mac(0x81): "t1", mac(0x82): "t2"})
    t1.drain()
    t2.drain()
    sent = frames(mac(0x82), mac(0x81), 50)
    t1.send(sent)
    assert t2.recv(50, timeout=5) == sent
    d.assert_mbufs(base)
    t1.close()
    t2.close()
