# SPDX-License-Identifier: BSD-3-Clause
"""Real Linux guests (QEMU, the kernel's virtio_net) on vsw's vhost-user ports.

Both port modes: vsw server (type=vhost-user, QEMU connects) and vsw client
(type=vhost-user-client, QEMU listens with server=on). Every test checks,
besides its own assertions, that vswd's mbufs in use return to the value
they had once the ports were set up, after the guests are gone (and the
vswd fixture checks the no-port baseline and a clean SIGTERM).

Run: /usr/bin/python3 -m pytest dts/guests -v -s
"""
import time

import pytest

from conftest import record
from guestlib import Guest, VhostUserNic  # noqa: F401
import vswlib

IP1, IP2 = "198.18.0.1", "198.18.0.2"
MAC1, MAC2 = "52:54:00:76:73:01", "52:54:00:76:73:02"
BOOT_TIMEOUT = 150          # TCG boot of two guests at once measured 10-20 s
VSWD_EXTRA = ["--pmd-sleep-max", "100"]   # an idle PMD leaves the CPU to TCG


def vhost_nic(d, tmp_path, port, mode, **kw):
    """Add vsw port `port` in `mode` ("server": vsw listens, "client": QEMU
    listens) and return the guest NIC for it."""
    if mode == "server":
        d.ctl("add-port", "br0", port, "type=vhost-user", *["%s=%s" % x for x in kw.items()])
        return VhostUserNic(d.port(port)["path"], server=False, queues=int(kw.get("n_rxq", 1)))
    sock = str(tmp_path / ("%s.sock" % port))
    d.ctl("add-port", "br0", port, "type=vhost-user-client", "path=" + sock,
          *["%s=%s" % x for x in kw.items()])
    return VhostUserNic(sock, server=True, queues=int(kw.get("n_rxq", 1)))


def boot_pair(d, guests, tmp_path, mode1, mode2, **g2kw):
    n1 = vhost_nic(d, tmp_path, "vm1", mode1)
    n2 = vhost_nic(d, tmp_path, "vm2", mode2, **g2kw.pop("port", {}))
    g1 = guests("vm1", n1, IP1 + "/24", MAC1, role="iperf-server")
    g2 = guests("vm2", n2, IP2 + "/24", MAC2, **g2kw)
    g1.start()
    g2.start()
    r1 = g1.wait_ready(BOOT_TIMEOUT)
    r2 = g2.wait_ready(BOOT_TIMEOUT)
    assert r1["mac"] == MAC1 and r2["mac"] == MAC2
    assert r1["driver"] == "virtio_net", r1
    d.wait_port_state("vm1", "up", 30)
    d.wait_port_state("vm2", "up", 30)
    return g1, g2


def ping_ok(src, dst, count=5, tries=20):
    """Ping until `count` of `count` come back (ARP and the first learning
    may lose one); returns the rtt of the successful round."""
    last = None
    for _ in range(tries):
        rx, rtt = src.ping(dst, count=count, interval=0.2)
        last = (rx, rtt)
        if rx == count:
            return rtt
        time.sleep(0.5)
    raise AssertionError("%s -> %s: %r after %d rounds" % (src.name, dst, last, tries))


def wait_ping(src, dst, timeout):
    """Seconds until one ping from src to dst is answered."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        rx, _ = src.ping(dst, count=1, interval=0.2)
        if rx == 1:
            return time.monotonic() - t0
    raise AssertionError("%s -> %s: no answer within %ds" % (src.name, dst, timeout))


def teardown_check(d, gs, base):
    for g in gs:
        g.stop()
    d.assert_mbufs(base, timeout=10, what="after the guests stopped")


@pytest.mark.timeout(360)
def test_ping_iperf_tcp_udp(vswd_factory, guests, tmp_path):
    """vm1 on a vsw server port, vm2 on a vsw client port: ping both ways,
    iperf3 TCP and UDP (1470 and 64 bytes); the switch's counters carry
    the traffic and nothing is dropped on the sender's port."""
    d = vswd_factory(extra=VSWD_EXTRA)
    g1, g2 = boot_pair(d, guests, tmp_path, "server", "client")
    base = d.mbuf_in_use()
    record("boot", vm1_s=round(g1.boot_s, 1), vm2_s=round(g2.boot_s, 1))
    rtt = ping_ok(g2, IP1)
    rtt_back = ping_ok(g1, IP2)
    record("ping", rtt_ms_vm2_vm1=rtt, rtt_ms_vm1_vm2=rtt_back)
    assert d.fdb()[MAC1.lower()]["port"] == "vm1"
    assert d.fdb()[MAC2.lower()]["port"] == "vm2"

    s0 = d.stats()
    tcp = g2.iperf3(IP1, seconds=5)
    s1 = d.stats()
    assert tcp["bits_per_second"] > 1e6, tcp
    # every byte iperf3 counted crossed vm2 -> vm1 in the switch
    assert s1["vm2"]["rx_bytes"] - s0["vm2"]["rx_bytes"] >= tcp["bytes"]
    assert s1["vm1"]["tx_bytes"] - s0["vm1"]["tx_bytes"] >= tcp["bytes"]
    tcp_r = g2.iperf3(IP1, seconds=5, reverse=True)
    assert tcp_r["bits_per_second"] > 1e6, tcp_r
    udp = g2.iperf3(IP1, seconds=5, udp=True, bitrate="50M")
    assert udp["received"] > 0 and udp["pps"] > 100, udp
    udp64 = g2.iperf3(IP1, seconds=5, udp=True, length=64)
    assert udp64["received"] > 0, udp64
    record("iperf3", tcp_gbps=round(tcp["bits_per_second"] / 1e9, 3),
           tcp_reverse_gbps=round(tcp_r["bits_per_second"] / 1e9, 3),
           tcp_retransmits=tcp["retransmits"],
           udp1470_50M_gbps=round(udp["bits_per_second"] / 1e9, 3),
           udp1470_lost_pct=round(udp["lost_percent"], 2),
           udp64_kpps=round(udp64["pps"] / 1e3, 1),
           udp64_lost_pct=round(udp64["lost_percent"], 2))
    st = d.stats()
    assert st["vm2"]["drops"]["no_mbuf"] == 0 and st["vm1"]["drops"]["no_mbuf"] == 0
    teardown_check(d, (g1, g2), base)


@pytest.mark.timeout(360)
def test_guest_reboot_and_qemu_restart(vswd_factory, guests, tmp_path):
    """vm1 reboots (reboot -f: QEMU resets it, the kernel boots again and
    renegotiates vhost-user) and traffic resumes; then vm2's QEMU is killed
    and started again (its vsw client port reconnects) and traffic resumes."""
    d = vswd_factory(extra=VSWD_EXTRA)
    g1, g2 = boot_pair(d, guests, tmp_path, "server", "client")
    base = d.mbuf_in_use()
    ping_ok(g2, IP1)

    g1.reboot()
    g1.wait_ready(BOOT_TIMEOUT, boots=2)
    reboot_s = g1.boot_s
    t = wait_ping(g2, IP1, 60)
    ping_ok(g2, IP1)
    tcp = g2.iperf3(IP1, seconds=3)
    assert tcp["bits_per_second"] > 1e6, tcp

    g2.kill()
    d.wait_port_state("vm2", "down", 30)
    # the new QEMU's guest pings vm1 by itself at boot (vsw.role=ping) and
    # reports it on its console
    g2.role, g2.peer, g2.count = "ping", IP1, 5
    g2.start()
    g2.wait_ready(BOOT_TIMEOUT)
    d.wait_port_state("vm2", "up", 30)
    boot_ping = vswlib.wait_for(lambda: g2.results("ping"), 30, 0.2, "boot-time ping result")[0]
    assert boot_ping["peer"] == IP1 and int(boot_ping["received"]) >= 1, boot_ping
    t2 = wait_ping(g2, IP1, 60)
    ping_ok(g1, IP2)
    record("reboot", vm1_reboot_to_ready_s=round(reboot_s, 1),
           boot_ping_received=boot_ping["received"], boot_ping_rtt_ms=boot_ping["rtt_avg_ms"],
           first_ping_after_ready_s=round(t, 1),
           qemu_restart_boot_s=round(g2.boot_s, 1), qemu_restart_first_ping_s=round(t2, 1))
    teardown_check(d, (g1, g2), base)


@pytest.mark.timeout(360)
@pytest.mark.parametrize("mode", ["client", "server"])
def test_vswd_restart_guests_recover(vswd_factory, guests, tmp_path, mode):
    """Both guests on vsw client ports (QEMU listens), or both on vsw server
    ports (QEMU connects with reconnect=1). vswd is stopped and started
    again from its state file; the guests, untouched, talk again."""
    d = vswd_factory(extra=VSWD_EXTRA)
    g1, g2 = boot_pair(d, guests, tmp_path, mode, mode)
    ping_ok(g2, IP1)
    assert d.stop() == 0
    # the switch is gone: nothing crosses
    rx, _ = g2.ping(IP1, count=2, interval=0.2)
    assert rx == 0
    t0 = time.monotonic()
    d2 = vswd_factory(state=d.state, extra=VSWD_EXTRA)
    d2.wait_port_state("vm1", "up", 30)
    d2.wait_port_state("vm2", "up", 30)
    up_s = time.monotonic() - t0
    t = wait_ping(g2, IP1, 60)
    rtt = ping_ok(g1, IP2)
    tcp = g2.iperf3(IP1, seconds=3)
    assert tcp["bits_per_second"] > 1e6, tcp
    assert g1.alive() and g2.alive()
    assert len(g1.results("ready")) == 1 and len(g2.results("ready")) == 1, "a guest rebooted"
    record("vswd_restart_" + mode, ports_up_s=round(up_s, 1), first_ping_s=round(t, 1),
           rtt_ms=rtt, tcp_gbps=round(tcp["bits_per_second"] / 1e9, 3))
    base = d2.mbuf_in_use()
    for g in (g1, g2):
        g.stop()
    # with the guests gone the ports keep only their rx-ring mbufs
    d2.assert_mbufs(base, timeout=10, what="after the guests stopped")


@pytest.mark.timeout(420)
def test_multiqueue_two_queue_pairs(vswd_factory, guests, tmp_path):
    """vm2 has 2 vCPUs and a virtio-net with 2 queue pairs (mq=on, ethtool
    -L combined 2) on a vsw port with n_rxq=2. Two iperf3 flows, one pinned
    to each vCPU, leave through both tx queues (XPS): vsw's rxq-show counts
    frames on both rx queues of vm2 and the switch forwards them all."""
    d = vswd_factory(extra=VSWD_EXTRA)
    g1, g2 = boot_pair(d, guests, tmp_path, "server", "client",
                       port={"n_rxq": 2}, smp=2, queues=2)
    assert d.port("vm2")["n_rxq"] == 2
    assert int(g2.results("ready")[0]["rxqs"]) == 2
    rc, out = g2.run("ethtool -l eth0")
    assert rc == 0 and out.split("Current hardware settings:")[1].split("Combined:")[1].split()[0] == "2", out
    base = d.mbuf_in_use()
    ping_ok(g2, IP1)
    q0 = {q["queue"]: q["packets"] for q in d.ctl("rxq-show") if q["port"] == "vm2"}
    assert sorted(q0) == [0, 1], d.ctl("rxq-show")
    cmd = ("taskset 1 iperf3 -c %s -p 5201 -t 5 -J > /tmp/a.json & "
           "taskset 2 iperf3 -c %s -p 5202 -t 5 -J > /tmp/b.json; wait; "
           "cat /tmp/a.json /tmp/b.json | grep -A8 sum_received | grep bits_per_second" % (IP1, IP1))
    rc, out = g2.run(cmd, timeout=90)
    assert rc == 0, out
    bps = [float(x.split(":")[1].strip(" ,")) for x in out.splitlines() if "bits_per_second" in x]
    assert len(bps) == 2 and all(b > 1e5 for b in bps), out
    q1 = {q["queue"]: q["packets"] for q in d.ctl("rxq-show") if q["port"] == "vm2"}
    per_q = {q: q1[q] - q0[q] for q in (0, 1)}
    assert per_q[0] > 1000 and per_q[1] > 1000, "rx queues of vm2: %r" % per_q
    record("multiqueue", rxq0_packets=per_q[0], rxq1_packets=per_q[1],
           flow_gbps=[round(b / 1e9, 3) for b in bps])
    teardown_check(d, (g1, g2), base)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("tso", [False, True], ids=["default", "tso"])
def test_namespace_host_to_guest(vswd_factory, guests, tmp_path, tso):
    """A Linux network namespace on a vsw uplink (veth + net_af_packet) and
    a guest on a vhost-user port: ping both ways and iperf3 TCP/UDP from
    the namespace to the guest and back. With --tso the guest sends TCP
    frames of up to 64 KB, which vsw cuts into segments for the uplink."""
    import nslib
    d = vswd_factory(extra=VSWD_EXTRA + (["--tso"] if tso else []))
    ns = nslib.Netns()
    try:
        host = nslib.veth_into(ns, "198.18.0.9/24")
        d.ctl("add-port", "br0", "up0", "type=dpdk",
              "devargs=net_af_packet%d,iface=%s" % (vswlib.uniq(), host))
        n1 = vhost_nic(d, tmp_path, "vm1", "server")
        g1 = guests("vm1", n1, IP1 + "/24", MAC1, role="iperf-server")
        g1.start()
        g1.wait_ready(BOOT_TIMEOUT)
        d.wait_port_state("vm1", "up", 30)
        d.wait_port_state("up0", "up", 30)
        base = d.mbuf_in_use()
        for _ in range(20):
            rx, rtt = ns.ping(IP1, count=5)
            if rx == 5:
                break
        assert rx == 5, "namespace -> guest: %d/5" % rx
        rtt_back = ping_ok(g1, "198.18.0.9")
        tcp = ns.iperf3(IP1, seconds=5)
        assert tcp["bits_per_second"] > 1e6, tcp
        s0 = d.stats()
        tcp_r = ns.iperf3(IP1, seconds=5, reverse=True)
        assert tcp_r["bits_per_second"] > 1e6, tcp_r
        # The guest offloads its TCP checksums; the uplink cannot take a
        # partial sum, so vsw completed each one (the namespace's kernel
        # verifies them: TCP would stall on a wrong one).
        s1 = d.stats()
        filled = s1["up0"]["csum_filled"] - s0["up0"]["csum_filled"]
        cut = s1["up0"]["tso_cut"] - s0["up0"]["tso_cut"]
        if tso:
            assert cut > 100, (s0["up0"], s1["up0"])
        else:
            assert filled > 1000 and cut == 0, (s0["up0"], s1["up0"])
        assert s1["up0"]["csum_passed"] == 0 and s1["up0"]["tso_passed"] == 0
        udp = ns.iperf3(IP1, seconds=5, udp=True, bitrate="50M")
        assert udp["received"] > 0, udp
        record("namespace_guest" + ("_tso" if tso else ""), rtt_ms_ns_to_guest=rtt, rtt_ms_guest_to_ns=rtt_back,
               tcp_ns_to_guest_gbps=round(tcp["bits_per_second"] / 1e9, 3),
               tcp_guest_to_ns_gbps=round(tcp_r["bits_per_second"] / 1e9, 3),
               udp50M_lost_pct=round(udp["lost_percent"], 2))
        g1.stop()
        d.assert_mbufs(base, timeout=10, what="after the guest stopped")
    finally:
        ns.cleanup()


@pytest.mark.timeout(300)
def test_jumbo_mtu_9000(vswd_factory, guests, tmp_path):
    """Ports with mtu=9000 and guests with MTU 9000: 8900-byte pings and
    iperf3 TCP cross end to end. With vm1's port set back to mtu=1500 the
    same pings are dropped as mtu_exceeded on vm1 (the limit is real)."""
    d = vswd_factory(extra=VSWD_EXTRA)
    n1 = vhost_nic(d, tmp_path, "vm1", "server", mtu=9000)
    n2 = vhost_nic(d, tmp_path, "vm2", "client", mtu=9000)
    g1 = guests("vm1", n1, IP1 + "/24", MAC1, role="iperf-server", mtu=9000)
    g2 = guests("vm2", n2, IP2 + "/24", MAC2, mtu=9000)
    g1.start()
    g2.start()
    assert g1.wait_ready(BOOT_TIMEOUT)["mtu"] == "9000"
    assert g2.wait_ready(BOOT_TIMEOUT)["mtu"] == "9000"
    d.wait_port_state("vm1", "up", 30)
    d.wait_port_state("vm2", "up", 30)
    base = d.mbuf_in_use()
    ping_ok(g2, IP1)
    rc, out = g2.run("ping -c 3 -s 8900 -W 3 %s" % IP1, timeout=30)
    assert rc == 0 and "3 packets received" in out, out
    tcp = g2.iperf3(IP1, seconds=5)
    assert tcp["bits_per_second"] > 1e6, tcp
    record("jumbo", tcp_mtu9000_gbps=round(tcp["bits_per_second"] / 1e9, 3))
    d.ctl("set-port", "vm1", "mtu=1500")
    d.wait_port_state("vm1", "up", 30)
    before = d.stats()["vm1"]["drops"]["mtu_exceeded"]
    rc, out = g2.run("ping -c 3 -s 8900 -W 2 %s" % IP1, timeout=30)
    assert "0 packets received" in out, out
    assert d.stats()["vm1"]["drops"]["mtu_exceeded"] >= before + 3
    ping_ok(g2, IP1)               # small frames still pass
    teardown_check(d, (g1, g2), base)
