# SPDX-License-Identifier: BSD-3-Clause
"""vswd itself crashes: SIGKILL under traffic, then a new vswd on the same
state file, run directory, control socket path and DPDK file prefix (what a
supervisor such as systemd does). The stale control socket, pid file,
vhost-user sockets, DPDK runtime directory and hugepage files of the dead
process must not stop the restart.

* vhost-user-client ports (the guests are virtio-user servers): the guests
  keep running, the new vswd reconnects to them by itself and traffic
  resumes within 2 s of its control socket answering.
* vhost-user (server) ports: what DPDK 22.11's virtio-user *client* does
  when its server goes away is pinned down here (it does not reconnect; the
  guest has to re-attach its NIC), and a re-attached guest forwards again.

The graceful restart (SIGTERM, warm FDB) is in test_state.py."""
import glob
import json
import os
import signal
import socket
import subprocess
import time

import pytest

import vswlib
from vswlib import (BCAST, StampedCapture, StampedStream, VPort, Vswd, config_view, frame, mac,
                    run_vswctl, seq_of, wait_for)

pytestmark = pytest.mark.timeout(180)

A, B = mac(0xE1), mac(0xE2)


def tapname():
    return vswlib.tapname("vsr")


def stale_files(d):
    """The files a SIGKILLed vswd leaves behind (that exist)."""
    cands = [d.ctl_path, os.path.join(d.dir, "vswd.pid"), "/var/run/dpdk/%s" % d.prefix]
    return [p for p in cands if os.path.exists(p)]


def restart_same(vswd_factory, d, timeout=30, cls=None):
    """Start a new vswd like d (same state, run dir, ctl path, file prefix,
    options) while d's stale files are still there. Returns (vswd, the
    monotonic time at which its control socket first answered)."""
    d2 = vswd_factory(start=False, cls=cls or Vswd, state=d.state, prefix=d.prefix,
                      extra=d.extra, pmd_cores=d.pmd_cores, eal=d.eal)
    # the DPDK runtime dir now belongs to d2: d's teardown must not remove it
    d.prefix = vswlib.new_prefix("vswt")
    d2.spawn()
    deadline = time.monotonic() + timeout
    while True:
        if d2.proc.poll() is not None:
            raise AssertionError("the restarted vswd exited with %d:\n%s"
                                 % (d2.proc.returncode, vswlib.tail(d2.log)))
        if run_vswctl(d2.ctl_path, "version", json_out=False, timeout=5).returncode == 0:
            t_up = time.monotonic()
            break
        if time.monotonic() > deadline:
            raise AssertionError("the restarted vswd did not answer within %ds:\n%s"
                                 % (timeout, vswlib.tail(d2.log)))
        time.sleep(0.01)
    # same configuration, so the same mbufs in use once every port is deleted
    d2.base_in_use = d.base_in_use
    return d2, t_up


def show_shape(d):
    """Bridges and their ports (name, type) from `show --json`."""
    return {br["name"]: sorted((p["name"], p["type"]) for p in br["ports"])
            for br in d.show()["bridges"]}


def handshake(d, src, dst, f):
    """vswlib.handshake, with vswd's port counters on failure."""
    try:
        return vswlib.handshake(src, dst, f)
    except AssertionError as e:
        raise AssertionError("%s; vswd port-stats: %r" % (e, {
            p: (s["rx_packets"], s["tx_packets"], {k: v for k, v in s["drops"].items() if v})
            for p, s in d.stats().items()}))


def exact_exchange(d, t1, t2, seq):
    """B says hello from vm2 until vm1 sees it (learned on p2), then 20 A->B
    unicast frames from vm1: exact frames at vm2, exact counters, no drop,
    mbufs back."""
    sends = handshake(d, t2, t1, frame(BCAST, B, seq))
    if sends > 1:
        print("hello from vm2 needed %d sends" % sends)
    d.wait_learned({B: "p2"})
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()
    fl = [frame(B, A, seq + 1 + i, size=80 + i) for i in range(20)]
    t1.send(fl)
    got = t2.recv(20, 5, 0.3)
    st = d.stats()
    assert got == fl, "vm2 got %d of 20 frames; port-stats %r" % (len(got), st)
    assert (st["p1"]["rx_packets"], st["p1"]["tx_packets"], st["p2"]["rx_packets"],
            st["p2"]["tx_packets"]) == (20, 0, 0, 20), st
    assert st["p1"]["drops_total"] == 0 and st["p2"]["drops_total"] == 0, st
    d.assert_mbufs(base)


@pytest.mark.timeout(240)
def test_sigkill_under_traffic_client_ports_reconnect(vswd_factory, vm_factory):
    """Steps: bridges br0 (two vhost-user-client ports p1/p2 whose guests are
    testpmd virtio-user servers, a static MAC) and br1 (a tap port and a
    vhost-user server port, own limits); a paced A->B stream from vm1 to vm2;
    kill -9 vswd; start a new one on the same state / run dir / prefix while
    the stream keeps going.
    Verify: the stale ctl socket, pid file and DPDK runtime dir were there
    and did not stop it; `show --json` has the same bridges and ports (and
    config_view the same settings and static MACs); p1/p2 come up without
    any guest action; the first frame sent after the new control socket
    answered crosses within 2 s (printed); from then on no frame is lost,
    none arrives twice or out of order; exact counters after; mbufs in use
    back to the first vswd's value with the same ports; the guests never
    died."""
    d = vswd_factory()
    d.ctl("set-br", "br0", "aging=120")
    d.ctl("add-br", "br1", "aging=45", "port-max-macs=50")
    socks = {p: os.path.join(d.dir, "kr-%s.sock" % p) for p in ("p1", "p2")}
    for p in socks:
        d.ctl("add-port", "br0", p, "type=vhost-user-client", "path=%s" % socks[p])
    d.ctl("add-port", "br1", "t3", "type=dpdk", "devargs=net_tap%d,iface=%s"
          % (vswlib.uniq(), tapname()), "mac=02:76:73:00:00:e3")
    d.ctl("add-port", "br1", "s1", "type=vhost-user")
    d.ctl("fdb-add", "br0", mac(0xEF), "p1")
    vm1 = vm_factory("kr-vm1", [VPort(socks["p1"], server=True, mac=A, tap=tapname())]).launch()
    vm2 = vm_factory("kr-vm2", [VPort(socks["p2"], server=True, mac=B, tap=tapname())]).launch()
    vm1.start()
    vm2.start()
    t1, t2 = vm1.ports[0].tap, vm2.ports[0].tap
    d.wait_port_state("p1", "up", 15)
    d.wait_port_state("p2", "up", 15)
    exact_exchange(d, t1, t2, 0)
    base = d.mbuf_in_use()
    before = config_view(d)
    shape = show_shape(d)
    assert shape == {"br0": [("p1", "vhost-user-client"), ("p2", "vhost-user-client")],
                     "br1": [("s1", "vhost-user"), ("t3", "dpdk")]}, shape

    t2.drain()
    cap = StampedCapture(t2)
    stream = StampedStream(t1, B, A, 0.002, seq0=10000)
    try:
        wait_for(lambda: len(cap.got) >= 100, 10, 0.05, "the stream to flow before the kill")
        t_kill = time.monotonic()
        assert d.stop(signal.SIGKILL) == -signal.SIGKILL
        t_dead = time.monotonic()
        stale = stale_files(d)
        assert d.ctl_path in stale and os.path.join(d.dir, "vswd.pid") in stale, stale
        assert "/var/run/dpdk/%s" % d.prefix in stale, stale
        time.sleep(0.5)                       # half a second of outage under traffic
        d2, t_up = restart_same(vswd_factory, d)
        seq_up = wait_for(lambda: stream.first_seq_after(t_up), 5, 0.01, "a frame after t_up")

        def resumed():
            for t, f in list(cap.got):
                s = seq_of(f)
                if t >= t_up and s is not None and s >= seq_up:
                    return (t, s)
            return None
        t_first, seq_first = wait_for(resumed, 10, 0.005, "traffic to resume after restart")
        time.sleep(1.0)                       # one more second of traffic
    finally:
        sent = stream.stop()
    got = cap.stop(settle=0.5)
    resume = t_first - t_up
    seq_dead = stream.first_seq_after(t_dead)
    outage = [seq_of(f) for _, f in got if seq_dead <= seq_of(f) < seq_up]
    print("vswd SIGKILL -> dead %.3f s -> new control socket answering %.3f s -> first frame "
          "sent after that crossed %.3f s later; %d of the %d frames sent while no vswd "
          "was up were delivered after the restart (queued in the guest's ring)"
          % (t_dead - t_kill, t_up - t_dead, resume, len(outage), seq_up - seq_dead))
    assert resume < 2.0, "traffic resumed %.3f s after the control socket was up" % resume

    # Every frame of the stream arrived at most once and in order; from the
    # first frame after the restart on, none is missing.
    seqs = [seq_of(f) for _, f in got]
    assert all(s is not None for s in seqs)
    assert seqs == sorted(set(seqs)), "frames duplicated or reordered across the restart"
    last = seq_of(sent[-1])
    tail_seqs = [s for s in seqs if s >= seq_first]
    if tail_seqs != list(range(seq_first, last + 1)):
        missing = sorted(set(range(seq_first, last + 1)) - set(tail_seqs))
        st = d2.stats()
        raise AssertionError(
            "after resuming at seq %d, %d of %d frames arrived; missing %s..%s (%d); "
            "vswd port-stats %r; events %r" % (
                seq_first, len(tail_seqs), last + 1 - seq_first, missing[0], missing[-1],
                len(missing),
                {p: (x["rx_packets"], x["tx_packets"],
                     {k: v for k, v in x["drops"].items() if v}) for p, x in st.items()},
                [e["event"] for e in d2.ctl("events")][-15:]))

    # Same configuration; ports up again without any guest action.
    assert show_shape(d2) == shape
    assert config_view(d2) == before, "restored:\n%s\nexpected:\n%s" % (
        json.dumps(config_view(d2), indent=1), json.dumps(before, indent=1))
    d2.wait_port_state("p1", "up", 5)
    d2.wait_port_state("p2", "up", 5)
    d2.wait_port_state("t3", "up", 5)
    assert d2.port("s1")["state"] == "down" and os.path.exists(d2.port("s1")["path"])
    assert vm1.proc.poll() is None and vm2.proc.poll() is None, "a guest died with vswd"
    exact_exchange(d2, t1, t2, 50000)
    d2.assert_mbufs(base, what="after the restart and traffic (first vswd's value)")
    vm1.quit()
    vm2.quit()


def test_sigkill_server_ports_peers(vswd_factory, vm_factory):
    """Steps: vhost-user (server) ports p1/p2 with testpmd virtio-user
    client guests exchanging traffic; kill -9 vswd; start it again.
    Verify (the truth of DPDK 22.11's virtio-user client): both guests
    survive vswd's death; the stale sockets refuse connections, the new
    vswd replaces them with listening ones; the guests do NOT reconnect by themselves (the
    ports stay down for 5 s, and `port stop/start` inside the guest does not
    help either); once each guest re-attaches its NIC (testpmd restarted on
    the same socket) the ports come up and exact traffic flows;
    mbufs back to baseline."""
    d = vswd_factory()
    for p in ("p1", "p2"):
        d.ctl("add-port", "br0", p, "type=vhost-user")
    socks = {p: d.port(p)["path"] for p in ("p1", "p2")}
    vm1 = vm_factory("ks-vm1", [VPort(socks["p1"], mac=A, tap=tapname())]).launch()
    vm2 = vm_factory("ks-vm2", [VPort(socks["p2"], mac=B, tap=tapname())]).launch()
    vm1.start()
    vm2.start()
    d.wait_port_state("p1", "up", 15)
    d.wait_port_state("p2", "up", 15)
    exact_exchange(d, vm1.ports[0].tap, vm2.ports[0].tap, 0)
    base = d.mbuf_in_use()
    before = config_view(d)
    assert d.stop(signal.SIGKILL) == -signal.SIGKILL
    for s in socks.values():                                    # stale sockets
        assert os.path.exists(s)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(ConnectionRefusedError):
            c.connect(s)
        c.close()
    d2, _t_up = restart_same(vswd_factory, d)
    assert config_view(d2) == before
    for p, s in socks.items():                   # replaced by listening ones
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(5)
        c.connect(s)
        c.close()
    time.sleep(5)
    assert vm1.proc.poll() is None and vm2.proc.poll() is None, "a guest died with vswd"
    states = {p: d2.port(p)["state"] for p in ("p1", "p2")}
    assert states == {"p1": "down", "p2": "down"}, (
        "virtio-user clients reconnected by themselves (%r): DPDK changed; update "
        "docs/reliability.md and this test" % states)
    # Restarting the port inside the guest is not enough either: virtio-user
    # reconnects only when the device is closed and attached again (here:
    # a new testpmd on the same sockets).
    for c in ("stop", "port stop all", "port start all", "start"):
        vm1.cmd(c)
        time.sleep(0.3)
    time.sleep(3)
    assert d2.port("p1")["state"] == "down", "port stop/start in the guest reconnected"
    names = [vm1.ports[0].tap_ifname, vm2.ports[0].tap_ifname]
    vm1.kill()
    vm2.kill()
    vm1b = vm_factory("ks-vm1b", [VPort(socks["p1"], mac=A, tap=names[0])]).launch()
    vm2b = vm_factory("ks-vm2b", [VPort(socks["p2"], mac=B, tap=names[1])]).launch()
    vm1b.start()
    vm2b.start()
    d2.wait_port_state("p1", "up", 15)
    d2.wait_port_state("p2", "up", 15)
    exact_exchange(d2, vm1b.ports[0].tap, vm2b.ports[0].tap, 100)
    d2.assert_mbufs(base, what="after the restart and traffic (first vswd's value)")
    vm1b.quit()
    vm2b.quit()


class HugeVswd(Vswd):
    """vswd on 2 MB hugepages instead of --no-huge. With eal=[] vswd passes
    its own `-m MB --huge-unlink` (no hugepage files stay); with
    eal=["-m", "256"] the user's EAL options win and DPDK keeps its
    /dev/hugepages/<prefix>map_* files, which a SIGKILL leaves behind."""

    def cmdline(self):
        return [a for a in super().cmdline() if a != "--no-huge"]


def hugepage_files(prefix):
    return sorted(glob.glob("/dev/hugepages/%s*" % prefix))


def maps_hugepages(pid):
    with open("/proc/%d/maps" % pid) as f:
        return sum(1 for line in f if "/dev/hugepages" in line or "anon_hugepage" in line)


@pytest.mark.parametrize("mode", ["huge-unlink", "files-kept"])
def test_sigkill_restart_on_hugepages(vswd_factory, vm_factory, mode):
    """Steps: vswd on hugepages (vswd's default --huge-unlink, or the user's
    own EAL -m so hugepage files are kept), a vhost-user-client port with a
    testpmd guest and a tap port exchanging frames; kill -9 vswd; start it
    again with the same prefix.
    Verify: vswd really maps hugepages; with files kept, the dead vswd's
    hugepage files are still there and do not stop the restart, and there
    are no more of them afterwards than before (reused or cleared, not
    piled up); the port reconnects by itself and exact frames cross both
    ways; mbufs back to the first vswd's value."""
    eal = ["-m", "256"] if mode == "files-kept" else []
    d = vswd_factory(cls=HugeVswd, eal=eal)
    assert maps_hugepages(d.proc.pid) > 0, "vswd does not run on hugepages"
    files0 = hugepage_files(d.prefix)
    if mode == "files-kept":
        assert files0, "no hugepage files with the user's EAL -m"
    else:
        assert files0 == [], files0
    sock = os.path.join(d.dir, "hp-vm.sock")
    d.ctl("add-port", "br0", "vm", "type=vhost-user-client", "path=%s" % sock)
    t1 = d.add_tap("t1", mac="02:76:73:00:00:e4")
    vm = vm_factory("hp-vm", [VPort(sock, server=True, mac=A, tap=tapname())]).launch()
    vm.start()
    tv = vm.ports[0].tap
    d.wait_port_state("vm", "up", 15)

    def exchange(d, seq):
        sends = handshake(d, t1, tv, frame(BCAST, B, seq))
        if sends > 1:
            print("hello to the guest needed %d sends" % sends)
        d.wait_learned({B: "t1"})
        d.ctl("port-stats-clear")
        base = d.mbuf_in_use()
        fl = [frame(B, A, seq + 1 + i, size=70 + i) for i in range(20)]
        tv.send(fl)
        got = t1.recv(20, 5, 0.3)
        st = d.stats()
        assert got == fl, "t1 got %d of 20 frames; port-stats %r" % (len(got), st)
        assert (st["vm"]["rx_packets"], st["vm"]["tx_packets"], st["vm"]["drops_total"]) == (
            20, 0, 0), st
        d.assert_mbufs(base)

    exchange(d, 0)
    base = d.mbuf_in_use()
    assert d.stop(signal.SIGKILL) == -signal.SIGKILL
    t1.close()
    stale = hugepage_files(d.prefix)
    if mode == "files-kept":
        assert stale, "the killed vswd's hugepage files are gone already"
    d2, _t_up = restart_same(vswd_factory, d, cls=HugeVswd)
    assert maps_hugepages(d2.proc.pid) > 0
    assert len(hugepage_files(d2.prefix)) <= len(files0), (
        "hugepage files piled up: %d before the crash, %d after the restart"
        % (len(files0), len(hugepage_files(d2.prefix))))
    assert sorted(d2.port_names()) == ["t1", "vm"]
    d2.wait_port_state("vm", "up", 15)
    d2.wait_port_state("t1", "up", 10)
    t1 = vswlib.Tap(t1.ifname)
    exchange(d2, 100)
    d2.assert_mbufs(base, what="after the restart (first vswd's value)")
    assert vm.proc.poll() is None
    vm.quit()
    t1.close()


def test_sigkill_daemonized_restart(tmp_path, binaries):
    """Steps: vswd daemonized (no --foreground) in a run directory, with a
    vhost-user port; kill -9 it; start it again the same way as soon as the
    killed process shows as a zombie (its last threads may still hold the
    EAL's lock on the runtime config: vswd waits for them).
    Verify: the stale pid file, control socket and vhost socket are there
    after the kill; the second start returns 0 when ready, the pid file
    names the new process, the port is back with its socket listening, and
    SIGTERM then removes the pid file and sockets."""
    rundir = str(tmp_path / "run")
    os.makedirs(rundir)
    prefix = vswlib.new_prefix("vswt")
    ctl = os.path.join(rundir, "vswd.ctl")
    pidfile = os.path.join(rundir, "vswd.pid")
    cmd = [vswlib.VSWD, "--rundir", rundir, "--no-huge", "--socket-mem", "256",
           "--pmd-cores", "1", "--", "--file-prefix=%s" % prefix]
    pids = []

    def start():
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, text=True)
        assert r.returncode == 0, (r.returncode, r.stderr, vswlib.tail(
            os.path.join(rundir, "vswd.log")))
        with open(pidfile) as f:
            pid = int(f.read().strip())
        pids.append(pid)
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert prefix.encode() in f.read(), "pid file does not name our vswd"
        return pid

    def gone(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split()[2] == "Z"
        except OSError:
            return True

    try:
        pid1 = start()
        assert run_vswctl(ctl, "add-port", "br0", "vm1", "type=vhost-user").returncode == 0
        sock = os.path.join(rundir, "vm1.sock")
        assert os.path.exists(sock)
        os.kill(pid1, signal.SIGKILL)
        wait_for(lambda: gone(pid1), 10, 0.05, "the killed vswd to be gone")
        for p in (pidfile, ctl, sock):
            assert os.path.exists(p), "%s not left behind by SIGKILL" % p
        pid2 = start()
        assert pid2 != pid1
        if "waiting for the exiting pid %d" % pid1 in vswlib.tail(
                os.path.join(rundir, "vswd.log"), 200):
            print("the new vswd waited for the killed one's last threads")
        r = run_vswctl(ctl, "show")
        assert r.returncode == 0, r.stderr
        ports = [p["name"] for br in json.loads(r.stdout)["bridges"] for p in br["ports"]]
        assert ports == ["vm1"], ports
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(sock)                       # the re-created socket listens
        s.close()
        assert run_vswctl(ctl, "del-port", "vm1").returncode == 0
        in_use = sum(p["in_use"] for p in json.loads(run_vswctl(ctl, "mempool-stats").stdout))
        assert in_use == 0, "mbufs in use with no ports: %d" % in_use
        os.kill(pid2, signal.SIGTERM)
        wait_for(lambda: gone(pid2), 15, 0.05, "vswd to stop on SIGTERM")
        assert not os.path.exists(pidfile) and not os.path.exists(ctl)
    finally:
        for pid in pids:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        vswlib.cleanup_prefix(prefix)


def test_second_vswd_on_same_prefix_refused(vswd_factory, tmp_path):
    """Steps: a running vswd; start a second one on the same DPDK file
    prefix (another run directory and control socket).
    Verify: the second exits non-zero within 10 s (it does not wait for a
    live process: only for a dying one), with the EAL's reason in its log;
    the first keeps serving."""
    d = vswd_factory()
    other = tmp_path / "other"
    other.mkdir()
    d2 = vswd_factory(start=False, prefix=d.prefix)
    d2.dir = str(other)
    d2.ctl_path = str(other / "vswd.ctl")
    d2.state = str(other / "state.json")
    t0 = time.monotonic()
    d2.spawn()
    try:
        rc = d2.proc.wait(20)
    except subprocess.TimeoutExpired:
        raise AssertionError("a second vswd on the same prefix kept running")
    took = time.monotonic() - t0
    d2.proc = None
    d2.logf.close()
    d2.prefix = vswlib.new_prefix("vswt")       # the runtime dir is d's
    assert rc != 0
    assert took < 10, "the second vswd took %.1f s to give up" % took
    log = d2.log_text()
    assert "another primary" in log.lower() or "cannot init config" in log.lower(), log[-1500:]
    assert "waiting for the exiting pid" not in log
    assert not os.path.exists(d2.ctl_path)
    assert d.ctl("list-br") == ["br0"]
