# SPDX-License-Identifier: BSD-3-Clause
"""Persistence and lifecycle: the state file, restarts, corrupt state,
clean shutdown on SIGTERM/SIGINT."""
import json
import os
import signal
import time

import pytest

import vswlib
from vswlib import BCAST, VPort, config_view, frame, mac, run_vswctl

pytestmark = pytest.mark.timeout(90)


def assert_same_config(after, before):
    assert after == before, "restored configuration:\n%s\nexpected:\n%s" % (
        json.dumps(after, indent=1, sort_keys=True), json.dumps(before, indent=1, sort_keys=True))


def test_default_state_created(vswd_factory):
    d = vswd_factory()
    assert d.ctl("list-br") == ["br0"]
    assert d.show()["bridges"][0]["ports"] == []
    log = d.log_text()
    assert "br0" in log and (d.state in log or "default" in log.lower()), (
        "vswd should log that it starts with the default configuration:\n" + log)
    d.ctl("add-br", "br1")
    assert os.path.exists(d.state), "the state file is saved after a change"
    with open(d.state) as f:
        json.load(f)


def test_config_restored_after_restart(vswd_factory, tmp_path):
    d = vswd_factory()
    d.ctl("set-br", "br0", "aging=77", "port-max-macs=11")
    d.ctl("add-br", "br1", "aging=42", "max-macs=1000", "port-max-macs=9")
    d.ctl("add-br", "gone")
    d.ctl("add-port", "br0", "vm1", "type=vhost-user")
    custom = str(tmp_path / "custom-vm2.sock")
    d.ctl("add-port", "br0", "vm2", "type=vhost-user", "path=%s" % custom, "mtu=2000")
    d.ctl("add-port", "br0", "t1", "type=dpdk", "devargs=net_tap%d,iface=vss%d_%d"
          % (vswlib.uniq(), os.getpid() % 10000, vswlib.uniq()), "mtu=1400",
          "mac=02:76:73:00:00:22")
    assert d.port("t1")["mac"].lower() == "02:76:73:00:00:22"
    assert d.port("t1")["mtu"] == 1400
    client = str(tmp_path / "vm3-client.sock")
    d.ctl("add-port", "br1", "vm3", "type=vhost-user-client", "path=%s" % client)
    d.ctl("add-port", "br1", "r1", "type=dpdk", "devargs=net_ring%d" % vswlib.uniq())
    d.ctl("add-port", "br1", "tmp", "type=dpdk", "devargs=net_ring%d" % vswlib.uniq())
    d.ctl("add-port", "gone", "g1", "type=vhost-user")
    d.ctl("fdb-add", "br0", mac(0x51), "vm1")
    d.ctl("fdb-add", "br0", mac(0x52), "vm2")
    d.ctl("fdb-add", "br1", mac(0x53), "r1")
    d.ctl("fdb-add", "br1", mac(0x54), "tmp")
    d.ctl("fdb-add", "br0", mac(0x55), "vm1")
    # changes that must be saved too: deletions
    d.ctl("fdb-del", "br0", mac(0x55))
    d.ctl("del-port", "tmp")            # takes its static MAC with it
    d.ctl("del-br", "gone")
    before = config_view(d)
    assert set(before) == {"br0", "br1"}
    assert before["br1"]["static"] == [(mac(0x53), "r1")]
    assert before["br0"]["static"] == [(mac(0x51), "vm1"), (mac(0x52), "vm2")]
    assert before["br0"]["aging"] == 77 and before["br1"]["max_macs"] == 1000
    assert d.stop() == 0
    with open(d.state) as f:
        json.load(f)

    d2 = vswd_factory(state=d.state)
    assert_same_config(config_view(d2), before)
    assert os.path.exists(d2.port("vm1")["path"])
    assert os.path.exists(custom)
    assert d2.port("r1")["state"] == "up"
    # a second restart gives the same again (restore does not mangle the file)
    assert d2.stop() == 0
    d3 = vswd_factory(state=d.state)
    assert_same_config(config_view(d3), before)


def test_restart_with_vhost_user_client_ports(vswd_factory, vm_factory):
    """Guests (virtio-user server=1) keep running while vswd restarts; the
    restored vhost-user-client ports reconnect and traffic flows again."""
    d = vswd_factory()
    socks = {p: os.path.join(d.dir, "rc-%s.sock" % p) for p in ("p1", "p2")}
    for p in socks:
        d.ctl("add-port", "br0", p, "type=vhost-user-client", "path=%s" % socks[p])
    a, b = mac(0xA1), mac(0xB2)
    names = [vswlib.tapname() for _ in range(2)]
    vm1 = vm_factory("rc-vm1", [VPort(socks["p1"], server=True, mac=a, tap=names[0])]).launch()
    vm2 = vm_factory("rc-vm2", [VPort(socks["p2"], server=True, mac=b, tap=names[1])]).launch()
    vm1.start()
    vm2.start()
    t1, t2 = vm1.ports[0].tap, vm2.ports[0].tap

    def exchange(d, seq):
        d.wait_port_state("p1", "up", 15)
        d.wait_port_state("p2", "up", 15)
        t1.drain()
        t2.drain()
        d.ctl("port-stats-clear")
        base = d.mbuf_in_use()
        hb = [frame(BCAST, b, seq)]
        t2.send(hb)
        assert t1.recv(1, 5, 0.1) == hb
        d.wait_learned({b: "p2"})
        fl = [frame(b, a, seq + i, size=100 + i) for i in range(20)]
        t1.send(fl)
        got = t2.recv(20, 5, 0.3)
        assert got == fl, "vm2 got %d of 20 frames" % len(got)
        st = d.stats()
        assert (st["p1"]["rx_packets"], st["p1"]["tx_packets"], st["p2"]["rx_packets"],
                st["p2"]["tx_packets"]) == (20, 1, 1, 20), st
        assert st["p1"]["drops_total"] == 0 and st["p2"]["drops_total"] == 0
        d.assert_mbufs(base)

    exchange(d, 0)
    assert d.stop() == 0
    d2 = vswd_factory(state=d.state)
    assert sorted(d2.port_names()) == ["p1", "p2"]
    exchange(d2, 100)
    vm1.quit()
    vm2.quit()


def test_corrupt_state_file(vswd_factory, tmp_path):
    cases = {
        "garbage.json": "{ this is not json",
        "truncated.json": '{"bridges": [{"name": "br0", "aging": 300, ',
        "wrongtype.json": '{"bridges": "br0"}',
    }
    for name, text in cases.items():
        path = str(tmp_path / name)
        with open(path, "w") as f:
            f.write(text)
        d = vswd_factory(start=False, state=path)
        d.spawn()
        try:
            rc = d.proc.wait(20)
        except Exception:
            raise AssertionError("vswd kept running with corrupt state file %s:\n%s"
                                 % (name, vswlib.tail(d.log)))
        d.proc = None
        d.logf.close()
        log = d.log_text()
        assert rc != 0, "vswd exited 0 with corrupt state file %s" % name
        assert path in log, "vswd's error does not name the state file %s:\n%s" % (
            path, vswlib.tail(d.log, 10))
        with open(path) as f:
            assert f.read() == text, "vswd modified the corrupt state file %s" % name
        assert run_vswctl(d.ctl_path, "version").returncode == 3
        assert not os.path.exists(d.ctl_path), "ctl socket left behind after failed start"
        d.cleanup()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_clean_shutdown(vswd_factory, vm_factory, sig):
    d = vswd_factory()
    d.ctl("add-port", "br0", "vm1", "type=vhost-user")
    d.ctl("add-port", "br0", "vm2", "type=vhost-user")
    d.ctl("add-port", "br0", "t1", "type=dpdk",
          "devargs=net_tap%d,iface=vss%d_%d" % (vswlib.uniq(), os.getpid() % 10000, vswlib.uniq()))
    socks = [d.port("vm1")["path"], d.port("vm2")["path"]]
    assert all(os.path.exists(s) for s in socks)
    assert os.path.exists(d.ctl_path)
    tapname = d.port("t1")["devargs"].split("iface=")[1]
    # a connected peer at shutdown time
    vm = vm_factory("sig-vm", [VPort(socks[0], mac=mac(1), tx=[frame(BCAST, mac(1))])]).launch()
    d.wait_port_state("vm1", "up")
    vm.start()
    d.wait_stats({"vm1": {"rx_packets": 1}})
    t = time.monotonic()
    rc = d.stop(sig, timeout=15)
    assert rc == 0, "vswd exited %d on signal %d:\n%s" % (rc, sig, vswlib.tail(d.log))
    print("stopped in %.2fs" % (time.monotonic() - t))
    assert not os.path.exists(d.ctl_path), "ctl socket not removed"
    for s in socks:
        assert not os.path.exists(s), "vhost-user socket %s not removed" % s
    assert not os.path.exists("/sys/class/net/%s" % tapname), "tap not removed"
    assert run_vswctl(d.ctl_path, "version").returncode == 3
    vm.quit()
    # the state survives: a new vswd with it has the three ports
    d2 = vswd_factory(state=d.state)
    assert sorted(d2.port_names()) == ["t1", "vm1", "vm2"]


def test_restore_keeps_failed_port(vswd_factory, tmp_path):
    """cli.md: a port whose device cannot start at restore stays in the
    configuration with state `failed` and its error; the rest works."""
    d = vswd_factory()
    rx = str(tmp_path / "rx.pcap")
    vswlib.write_pcap(rx, [])
    d.ctl("add-port", "br0", "pc", "type=dpdk",
          "devargs=net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (vswlib.uniq(), rx, tmp_path / "tx.pcap"))
    d.ctl("add-port", "br0", "vm1", "type=vhost-user")
    d.ctl("fdb-add", "br0", mac(0x61), "vm1")
    assert d.port("pc")["state"] == "up"
    assert d.stop() == 0
    os.unlink(rx)                                  # the device cannot open any more
    d2 = vswd_factory(state=d.state)
    p = d2.port("pc")
    assert p is not None, "a port that failed at restore vanished from the configuration"
    assert p["state"] == "failed" and p["error"], p
    assert d2.port("vm1")["state"] == "down" and os.path.exists(d2.port("vm1")["path"])
    assert mac(0x61) in d2.fdb()
    # the failed port stays in the saved configuration
    assert d2.stop() == 0
    with open(d.state) as f:
        assert "pc" in f.read()
    # and comes up once its device works again
    vswlib.write_pcap(rx, [])
    d3 = vswd_factory(state=d.state)
    assert d3.port("pc")["state"] == "up", d3.port("pc")


def test_daemon_options(vswd_factory):
    d = vswd_factory(extra=["--mbufs", "4096", "--log-level", "info"])
    mp = d.ctl("mempool-stats")
    assert sum(p["size"] for p in mp) == 4096, mp
    assert d.show()["mbuf"]["size"] == 4096
    assert [p["cpu"] for p in d.ctl("pmd-stats")] == [1]


def test_state_saved_on_change_survives_crash(vswd_factory, tmp_path):
    """The state file is written at each change, not at exit: after a
    SIGKILL (stale ctl and vhost sockets left behind) a new vswd restores
    everything and binds its sockets again."""
    d = vswd_factory()
    d.ctl("add-br", "br1", "aging=55")
    d.ctl("add-port", "br1", "vm1", "type=vhost-user")
    d.ctl("add-port", "br0", "vm2", "type=vhost-user")
    d.ctl("fdb-add", "br1", mac(0x71), "vm1")
    d.ctl("set-br", "br0", "port-max-macs=4")
    before = config_view(d)
    sock = d.port("vm1")["path"]
    assert d.stop(signal.SIGKILL) == -signal.SIGKILL
    d.cleanup()
    assert os.path.exists(d.ctl_path) and os.path.exists(sock)   # stale, from the dead vswd
    d2 = vswd_factory(state=d.state)
    assert_same_config(config_view(d2), before)
    assert os.path.exists(sock)
    # the re-created vhost-user socket really listens: a VM connects
    from vswlib import TestPmdVM
    vm = TestPmdVM(tmp_path / "vms", "crash-vm", [VPort(sock, mac=mac(1), tx=[])])
    try:
        vm.launch()
        d2.wait_port_state("vm1", "up")
        vm.quit()
    finally:
        vm.cleanup()


def test_daemonize(tmp_path, binaries):
    """Without --foreground vswd returns once ready, runs in the
    background with a pid file and a log in RUNDIR, and stops on SIGTERM
    removing its sockets and pid file."""
    import subprocess
    rundir = str(tmp_path / "run")
    os.makedirs(rundir)
    prefix = vswlib.new_prefix("vswt")
    ctl = os.path.join(rundir, "vswd.ctl")
    cmd = [vswlib.VSWD, "--rundir", rundir, "--ctl", ctl, "--no-huge", "--socket-mem", "256",
           "--pmd-cores", "1", "--", "--file-prefix=%s" % prefix]
    pid = None
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, text=True)
        assert r.returncode == 0, (r.returncode, r.stderr)
        pidfile = os.path.join(rundir, "vswd.pid")
        assert os.path.exists(pidfile), os.listdir(rundir)
        with open(pidfile) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert prefix.encode() in f.read(), "pid file does not name our vswd"
        # ready means ready: no polling needed
        assert run_vswctl(ctl, "version").returncode == 0
        assert os.path.exists(os.path.join(rundir, "vswd.log"))
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists("/proc/%d" % pid), "vswd did not stop on SIGTERM"
        pid = None
        assert not os.path.exists(ctl)
        assert not os.path.exists(pidfile)
    finally:
        if pid is not None and os.path.exists("/proc/%d" % pid):
            os.kill(pid, signal.SIGKILL)
        vswlib.cleanup_prefix(prefix)


def test_warm_restart_keeps_learned_macs(vswd_factory):
    """Steps: three tap ports; learn A on t1 and B on t2; stop vswd with
    SIGTERM; start it again with the same state; send A->B unicast.
    Verify: both MACs are back in fdb-show (dynamic, on the same ports), the
    frames go to t2 only (t3 sees no flood), the learned-MAC file is
    consumed; after a SIGKILL (no save) nothing stale is restored."""
    d = vswd_factory()
    taps = {p: d.add_tap(p) for p in ("t1", "t2", "t3")}
    ifnames = {p: t.ifname for p, t in taps.items()}
    a, b = mac(0x61), mac(0x62)
    taps["t1"].send([frame(BCAST, a, 0)])
    taps["t2"].send([frame(BCAST, b, 0)])
    d.wait_learned({a: "t1", b: "t2"})
    for t in taps.values():
        t.close()
    assert d.stop() == 0
    assert os.path.exists(d.state + ".fdb")

    d2 = vswd_factory(state=d.state)
    f = d2.fdb()
    assert f[a]["port"] == "t1" and not f[a]["static"], f
    assert f[b]["port"] == "t2" and not f[b]["static"], f
    assert not os.path.exists(d.state + ".fdb")
    ev = [e["event"] for e in d2.ctl("events")]
    assert any("warm restart: 2 learned MACs restored" in e for e in ev), ev
    for p in ("t1", "t2", "t3"):
        d2.wait_port_state(p, "up")
    taps2 = {p: vswlib.Tap(ifnames[p]) for p in ifnames}
    for t in taps2.values():
        t.drain()
    base = d2.mbuf_in_use()
    sent = [frame(b, a, i) for i in range(20)]
    taps2["t1"].send(sent)
    assert taps2["t2"].recv(20, timeout=5) == sent
    assert taps2["t3"].recv(None, timeout=0, settle=0.5) == []
    d2.assert_mbufs(base)

    # A crash saves nothing: the next start has an empty learned table.
    d2.stop(sig=signal.SIGKILL)
    assert not os.path.exists(d.state + ".fdb")
    for t in taps2.values():
        t.close()
    d3 = vswd_factory(state=d.state)
    assert [e for e in d3.ctl("fdb-show", "br0") if not e["static"]] == []
