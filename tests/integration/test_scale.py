# SPDX-License-Identifier: BSD-3-Clause
"""Many vhost-user ports on one PMD: more VMs than this DPDK build has
ethdevs (RTE_MAX_ETHPORTS is 32 in Debian's DPDK).

vswd registers vhost-user sockets with rte_vhost itself, so a VM costs no
ethdev. The "VMs" are four dpdk-testpmd processes of 16 virtio-user ports
each (each port is paired with a net_pcap port, so a testpmd holds 32
ethdevs, its own limit)."""
import os

import pytest

from test_vhost import check_stats, wait_counts
from vswlib import BCAST, VPort, frame, mac, wait_for

pytestmark = pytest.mark.timeout(240)

N_PORTS = 64
PER_VM = 16
N_UC = 6


def port_mac(i):
    return mac(0x1000 + i)


def test_64_vhost_ports(vswd, vm_factory):
    """64 vhost-user ports (32 where vswd is the server, 32 where it is the
    client) on one bridge and one PMD: every port reaches its partner with
    exact counts, a broadcast reaches the 63 others, port-stats and
    vhost-show list all 64, no mbuf leaks, and deleting the ports removes
    vswd's sockets."""
    d = vswd
    paths = []
    for i in range(N_PORTS):
        kind = "vhost-user" if i < N_PORTS // 2 else "vhost-user-client"
        extra = []
        if kind == "vhost-user-client":
            path = os.path.join(d.dir, "vm%d.sock" % i)
            extra = ["path=" + path]
        d.ctl("add-port", "br0", "p%d" % i, "type=" + kind, *extra)
        paths.append(d.port("p%d" % i)["path"])
        # Static entries: no flooding, so every count below is exact.
        d.ctl("fdb-add", "br0", port_mac(i), "p%d" % i)
    assert len(d.port_names()) == N_PORTS
    ports_json = [p for br in d.show()["bridges"] for p in br["ports"]]
    assert all("ethdev" not in p for p in ports_json), "a vhost-user port has an ethdev"

    # Port i sends N_UC frames to its partner (i ^ 1); port 0 also sends a
    # broadcast, which the 63 others must get.
    tx = {}
    for i in range(N_PORTS):
        tx[i] = [frame(port_mac(i ^ 1), port_mac(i), 100 * i + k, size=64 + 13 * k)
                 for k in range(N_UC)]
    bc = frame(BCAST, port_mac(0), 99999, size=128)
    tx[0] = tx[0] + [bc]
    vms = []
    for v in range(N_PORTS // PER_VM):
        ports = [VPort(paths[i], server=i >= N_PORTS // 2, mac=port_mac(i), tx=tx[i])
                 for i in range(v * PER_VM, (v + 1) * PER_VM)]
        vms.append(vm_factory("scale%d" % v, ports).launch(timeout=60))
    for i in range(N_PORTS):
        d.wait_port_state("p%d" % i, "up", timeout=30)
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    for vm in vms:
        vm.start()
    # The switch receives tx[i] from port i and sends it its partner's
    # frames (port 1's partner, port 0, sent the broadcast with them).
    exp = {"p%d" % i: (tx[i], tx[i ^ 1] + ([bc] if i >= 2 else []))
           for i in range(N_PORTS)}
    wait_counts(d, exp, timeout=30)
    check_stats(d, exp)
    # One PMD polls all 64 ports.
    pmds = d.ctl("pmd-stats")
    assert len(pmds) == 1
    polled = {q["port"] for q in d.ctl("rxq-show")}
    assert polled == {"p%d" % i for i in range(N_PORTS)}, polled
    vh = d.ctl("vhost-show")
    assert len(vh) == N_PORTS and all(v["connected"] for v in vh), \
        [v["port"] for v in vh if not v["connected"]]
    d.assert_mbufs(base)
    for vm in vms:
        vm.quit()
    for vm, v in zip(vms, range(len(vms))):
        for j, p in enumerate(vm.ports):
            i = v * PER_VM + j
            want = exp["p%d" % i][1]
            assert sorted(p.rx) == sorted(want), "VM port %d got %d frames, expected %d" % (
                i, len(p.rx), len(want))
    for i in range(N_PORTS):
        d.wait_port_state("p%d" % i, "down", timeout=20)
    d.del_all_ports_and_check()
    server_paths = paths[:N_PORTS // 2]
    wait_for(lambda: not any(os.path.exists(p) for p in server_paths), 5,
             what="vswd's sockets removed")
