# SPDX-License-Identifier: BSD-3-Clause
"""Observability end to end: drop reasons, rates, events, log levels, vswctl
top, packet capture read back by tcpdump, DPDK telemetry through the real
dpdk-telemetry.py client, and the Prometheus endpoint scraped with curl and
parsed by the strict parser of prometheus_client."""
import json
import shutil
import socket
import subprocess
import time

import pytest

import vswlib
from vswlib import frames, mac, wait_for


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def two_taps(vswd):
    a = vswd.add_tap("pa")
    b = vswd.add_tap("pb")
    return a, b


def test_drop_stats_events_rates_top(vswd):
    """Steps: two tap ports; send frames with a multicast source and frames
    paced over two seconds; read drop-stats, port-stats --rate, events,
    log-level and one screen of top.
    Verify: the invalid source drop is named with its meaning and exact
    count, the rate is non-zero while traffic flows, the events name the
    ports and the learned MAC, the log level changes, top lists the ports."""
    a, b = two_taps(vswd)
    base = vswd.mbuf_in_use()
    bad = [vswlib.frame(mac(2), vswlib.MCAST, i) for i in range(7)]
    a.send(bad)
    wait_for(lambda: vswd.stats()["pa"]["drops"]["invalid_src"] == 7, 5,
             what="7 invalid_src drops")
    drops = vswd.ctl("drop-stats", "pa")
    assert drops == [{"port": "pa", "reason": "invalid_src", "count": 7,
                      "meaning": "multicast or broadcast source MAC"}] or \
        (len(drops) == 1 and drops[0]["reason"] == "invalid_src" and drops[0]["count"] == 7)
    assert vswd.ctl("drop-stats", "pb") == []
    # ~300 frames over 2 s: the 1 s samples must see a non-zero rate.
    a.send(frames(mac(2), mac(1), 300), pace=0.0066)
    rates = {p["port"]: p["rate"] for p in vswd.ctl("port-stats", "--rate")}
    assert rates["pa"]["rx_pps"] > 0, rates
    assert rates["pb"]["tx_pps"] > 0, rates
    got = b.recv(300, timeout=5)
    assert len(got) == 300
    ev = [e["event"] for e in vswd.ctl("events", "count=100")]
    assert any("port pa (dpdk) added to bridge br0" in e for e in ev), ev
    assert any("port pb is up" in e for e in ev), ev
    assert any("%s learned on port pa" % mac(1) in e for e in ev), ev
    vswd.ctl("log-level", "debug", "vsw.fdb")
    levels = {t["type"]: t["level"] for t in vswd.ctl("log-level")}
    assert levels["vsw.fdb"] == "debug"
    rc, err = vswd.ctl_fail("log-level", "loud")
    assert rc == 1 and "bad level" in err
    # A move names both ports.
    b.send([vswlib.frame(mac(9), mac(1), 999)])
    vswd.wait_learned({mac(1): "pb"})
    ev = [e["event"] for e in vswd.ctl("events", "count=10")]
    assert any("%s moved from port pa to port pb" % mac(1) in e for e in ev), ev
    a.recv(1, timeout=2)
    top = subprocess.run([vswlib.VSWCTL, "--ctl", vswd.ctl_path, "top", "iterations=1"],
                         capture_output=True, text=True, timeout=20)
    assert top.returncode == 0, top.stderr
    assert "pa" in top.stdout and "pb" in top.stdout and "pmd lcore" in top.stdout
    vswd.assert_mbufs(base)
    a.close()
    b.close()


def test_capture_read_back_by_tcpdump(vswd, tmp_path):
    """Steps: two taps; capture pb's tx to a pcap with count=50; send 50
    known frames from pa to pb's learned MAC; then capture pa rx with a snap
    length and duration.
    Verify: vswctl returns when 50 frames are written; tcpdump reads exactly
    50 frames with our MACs; the snap length is honoured; no mbuf leaks
    (traffic pool and capture pool back to their baselines)."""
    a, b = two_taps(vswd)
    b.send([vswlib.frame(mac(1), mac(2), 0)])          # learn mac(2) on pb
    vswd.wait_learned({mac(2): "pb"})
    b.drain()
    base = vswd.mbuf_in_use()
    out = tmp_path / "pb-tx.pcap"
    cap = subprocess.Popen([vswlib.VSWCTL, "--ctl", vswd.ctl_path, "capture", "pb", "tx",
                            str(out), "count=50"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    wait_for(lambda: any(c["port"] == "pb" and c["active"] for c in vswd.ctl("capture-show")),
             5, what="capture running")
    a.send(frames(mac(2), mac(1), 60, size=100))
    stdout, stderr = cap.communicate(timeout=20)
    assert cap.returncode == 0, stderr
    assert "50 frames written" in stdout
    assert b.recv(60, timeout=5).__len__() == 60
    tcpdump = shutil.which("tcpdump") or "/usr/bin/tcpdump"
    r = subprocess.run([tcpdump, "-nn", "-e", "-r", str(out)], capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l.strip() and not l[0].isspace()]
    assert len(lines) == 50, r.stdout + r.stderr
    assert all("%s > %s" % (mac(1), mac(2)) in l for l in lines), lines[:3]
    assert all("length 100" in l for l in lines), lines[:3]
    # Snap length and duration.
    out2 = tmp_path / "pa-rx.pcap"
    cap = subprocess.Popen([vswlib.VSWCTL, "--ctl", vswd.ctl_path, "capture", "pa", "rx",
                            str(out2), "duration=2", "snaplen=20"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    wait_for(lambda: any(c["port"] == "pa" and c["active"] for c in vswd.ctl("capture-show")),
             5, what="capture running")
    a.send(frames(mac(2), mac(1), 5, size=80))
    stdout, stderr = cap.communicate(timeout=20)
    assert cap.returncode == 0 and "duration reached" in stdout, stdout + stderr
    got = vswlib.read_pcap(str(out2))
    assert len(got) == 5 and all(len(f) == 20 for f in got), [len(f) for f in got]
    st = vswd.ctl("capture-show")
    assert {c["port"]: c["active"] for c in st} == {"pa": False, "pb": False}
    rc, err = vswd.ctl_fail("capture", "pb", "sideways", "/tmp/x.pcap")
    assert rc == 1 and "direction" in err
    rc, err = vswd.ctl_fail("capture", "nope", "/tmp/x.pcap")
    assert rc == 1 and "no port" in err
    b.recv(5, timeout=3)
    vswd.assert_mbufs(base)
    pools = {p["name"]: p for p in vswd.ctl("mempool-stats")}
    assert pools["vsw_capture"]["in_use"] == 0, pools
    a.close()
    b.close()


def test_dpdk_telemetry_client(vswd):
    """Steps: one tap port; send 25 frames; query /vsw/ports,
    /vsw/port/stats,pa, /vsw/pmd and /vsw/fdb,br0 with dpdk-telemetry.py.
    Verify: the real client gets the port list, the exact rx count, the PMD
    counters and the learned MAC."""
    client = shutil.which("dpdk-telemetry.py")
    assert client, "dpdk-telemetry.py (Debian package dpdk-dev) is missing"
    a, b = two_taps(vswd)
    a.send(frames(mac(9), mac(1), 25))
    vswd.wait_learned({mac(1): "pa"})
    wait_for(lambda: vswd.stats()["pa"]["rx_packets"] >= 25, 5, what="25 rx")
    cmds = "/vsw/ports\n/vsw/port/stats,pa\n/vsw/pmd\n/vsw/fdb,br0\n"
    r = subprocess.run([client, "-f", vswd.prefix], input=cmds, capture_output=True,
                       text=True, timeout=30)
    replies = {}
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            replies.update(json.loads(line))
    assert sorted(replies["/vsw/ports"]) == ["pa", "pb"], r.stdout + r.stderr
    st = replies["/vsw/port/stats"]
    assert st["port"] == "pa" and st["rx_packets"] == vswd.stats()["pa"]["rx_packets"]
    assert st["drop_invalid_src"] == 0
    assert any(k.endswith("_packets") and v > 0 for k, v in replies["/vsw/pmd"].items())
    assert "%s pa" % mac(1) in replies["/vsw/fdb"]["table"], replies["/vsw/fdb"]
    b.recv(25, timeout=3)
    a.close()
    b.close()


@pytest.fixture
def vswd_metrics(vswd_factory):
    port = free_tcp_port()
    d = vswd_factory(extra=["--metrics", "127.0.0.1:%d" % port])
    d.metrics_url = "http://127.0.0.1:%d/metrics" % port
    return d


def test_prometheus_endpoint(vswd_metrics):
    """Steps: vswd with --metrics; one tap port receives 40 frames and 3
    frames with a broadcast source; scrape with curl.
    Verify: the text parses with prometheus_client's strict parser, every
    family has a type, rx packets and the invalid_src drop have the exact
    values, the port is up, 404 for other paths."""
    from prometheus_client.parser import text_string_to_metric_families
    d = vswd_metrics
    a, b = two_taps(d)
    a.send(frames(mac(7), mac(1), 40))
    a.send([vswlib.frame(mac(7), vswlib.BCAST, i) for i in range(3)])
    wait_for(lambda: d.stats()["pa"]["rx_packets"] == 43, 5, what="43 rx")
    r = subprocess.run(["curl", "-sS", "-D", "-", d.metrics_url], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.replace("\r\n", "\n").partition("\n\n")
    assert "200 OK" in head and "text/plain; version=0.0.4" in head
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    for name in ("vsw_port_rx_packets", "vsw_port_drops", "vsw_port_up", "vsw_pmd_cycles",
                 "vsw_fdb_entries", "vsw_mbuf_in_use"):
        assert name in fams, sorted(fams)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in fams.values() for s in f.samples}
    assert samples[("vsw_port_rx_packets_total",
                    (("bridge", "br0"), ("port", "pa")))] == 43
    assert samples[("vsw_port_drops_total",
                    (("bridge", "br0"), ("port", "pa"), ("reason", "invalid_src")))] == 3
    assert samples[("vsw_port_up", (("bridge", "br0"), ("port", "pa")))] == 1
    code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                           d.metrics_url.replace("/metrics", "/nope")],
                          capture_output=True, text=True, timeout=10).stdout
    assert code == "404"
    # A client that connects and says nothing does not block the daemon.
    s = socket.create_connection(("127.0.0.1", int(d.metrics_url.split(":")[2].split("/")[0])))
    t0 = time.monotonic()
    assert d.ctl("version")["version"]
    assert time.monotonic() - t0 < 2
    s.close()
    b.recv(40, timeout=3)
    a.close()
    b.close()
