# SPDX-License-Identifier: BSD-3-Clause
"""vsw-vhostgen, the benchmark's many-port generator (dts/perf/vhostgen.c),
against a real vswd: every one of its ports forwards, its counters and the
switch's agree frame for frame once traffic has drained, the switch
learned each generator MAC on its own port (the learning frames of `start`
leave no MAC moved by io forwarding), and the switch's mbufs return to
their baseline. The benchmark's many-ports figures rest on this. The
1400-byte run is also copy-once under load: every frame goes guest to
guest with its payload read from the sender's buffer (port counter
copy_once), and a used entry held back and never published would show
as the counters not agreeing (or the traffic stopping)."""
import json
import os
import subprocess
import time

import pytest

from vswlib import BUILD, wait_for

pytestmark = pytest.mark.timeout(180)

VHOSTGEN = os.path.join(BUILD, "dts", "perf", "vsw-vhostgen")
N_PORTS = 16


def gen_mac(i):
    return "52:54:00:00:%02x:%02x" % ((i + 1) >> 8, (i + 1) & 0xFF)


class Gen:
    def __init__(self, socks, fwd, server, size):
        self.p = subprocess.Popen([VHOSTGEN, "--queue-size=128", "--size=%d" % size, "--fwd=" + fwd,
                                   "--timeout=30"] + (["--server"] if server else []) + socks,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def line(self):
        out = self.p.stdout.readline()
        assert out, "vsw-vhostgen exited: %s" % self.p.stderr.read()
        return json.loads(out)

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        return self.line()

    def quit(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.flush()
        assert self.p.wait(timeout=10) == 0


@pytest.mark.parametrize("fwd,server,size", [("io", False, 128), ("mac", True, 1400)],
                         ids=["io-client-128B", "mac-server-1400B"])
def test_vhostgen_forwards_on_every_port(vswd, fwd, server, size):
    assert os.access(VHOSTGEN, os.X_OK), "missing %s (build first)" % VHOSTGEN
    d = vswd
    socks = []
    for i in range(N_PORTS):
        if server:
            path = os.path.join(d.dir, "g%d.sock" % i)
            d.ctl("add-port", "br0", "p%d" % i, "type=vhost-user-client", "path=" + path)
        else:
            d.ctl("add-port", "br0", "p%d" % i, "type=vhost-user")
            path = d.port("p%d" % i)["path"]
        socks.append(path)
    base = d.mbuf_in_use()
    g = Gen(socks, fwd, server, size)
    ready = g.line()
    assert ready["ready"] == N_PORTS and ready["fwd"] == fwd, ready
    for i in range(N_PORTS):
        d.wait_port_state("p%d" % i, "up", timeout=30)
    d.ctl("port-stats-clear")
    assert g.cmd("start 1") == {"started": 1}
    time.sleep(1.0)
    mid = g.cmd("stats")
    assert mid["rx"] > 10 * N_PORTS * 32, mid       # frames went round many times
    assert mid["bad_used"] == 0, mid
    st = d.stats()
    for i in range(N_PORTS):
        s = st["p%d" % i]
        assert s["rx_packets"] > 0 and s["tx_packets"] > 0, ("p%d" % i, s)
    # Every generator MAC is on its own port, none moved.
    fdb = d.fdb()
    for i in range(N_PORTS):
        assert fdb.get(gen_mac(i), {}).get("port") == "p%d" % i, (gen_mac(i), fdb.get(gen_mac(i)))
    assert g.cmd("stop") == {"stopped": True}

    # Drained: what the generator put on its transmit queues the switch
    # received, and what the switch delivered the generator received.
    def settled():
        a = g.cmd("stats")
        time.sleep(0.3)
        b = g.cmd("stats")
        return a["rx"] == b["rx"] and a["tx"] == b["tx"] and b
    wait_for(settled, 10, what="traffic drained")
    end = g.cmd("stats")
    st = d.stats()
    rx = sum(st["p%d" % i]["rx_packets"] for i in range(N_PORTS))
    tx = sum(st["p%d" % i]["tx_packets"] for i in range(N_PORTS))
    # The counters were cleared after the ports came up and before `start`.
    assert rx == end["tx"], (rx, end)
    assert tx == end["rx"], (tx, end)
    # 1400-byte frames went guest to guest copied once (the default).
    once = sum(st["p%d" % i]["copy_once"] for i in range(N_PORTS))
    assert once == (rx if size > 512 else 0), (once, rx)
    g.quit()
    for i in range(N_PORTS):
        d.wait_port_state("p%d" % i, "down", timeout=20)
    d.assert_mbufs(base, what="after the generator left")
    d.del_all_ports_and_check()
