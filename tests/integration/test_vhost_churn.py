# SPDX-License-Identifier: BSD-3-Clause
"""Closing attached vhost-user ports while other guests connect, set up
their vrings and leave, all under traffic.

This is the interleaving that could deadlock a vswd that waited for its
PMDs while holding a lock rte_vhost's notifications need: rte_vhost calls
vring_state_changed with every vring of that guest locked, and a PMD
sending to that guest spins on those locks. The test asserts the control
socket keeps answering through every round, traffic keeps flowing, and no
mbuf leaks. (The window of that deadlock is microseconds wide: run against
the code before the fix, twice, this test passed. It guards the churn of
connections, vring notifications and closes in general; the fix itself is
by construction, see lib/port/port.c.)"""
import json
import os
import subprocess
import threading
import time

import pytest

from vswlib import LIVE, TESTPMD, cleanup_prefix, new_prefix, proc_state, tail, uniq, wait_for

pytestmark = pytest.mark.timeout(240)

ROUNDS = int(os.environ.get("VSW_CHURN_ROUNDS", "12"))


class PingPong:
    """testpmd with two virtio-user ports in mac forwarding mode, each
    sending to the other's MAC through the switch (tx_first puts a burst
    in flight): traffic that never stops while both are attached."""

    def __init__(self, workdir, paths, server, macs, peers=None):
        self.prefix = new_prefix("vswvm")
        self.log = os.path.join(str(workdir), "pingpong-%d.log" % uniq())
        cmd = [TESTPMD, "--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s" % self.prefix,
               "--lcores", "0@0,1@0"]
        for i, (path, mac) in enumerate(zip(paths, macs)):
            cmd += ["--vdev", "net_virtio_user%d,path=%s,mac=%s,queue_size=256%s"
                    % (uniq(), path, mac, ",server=1" if server else "")]
        peers = peers or [macs[1], macs[0]]
        cmd += ["--", "-i", "--forward-mode=mac", "--nb-cores=1", "--total-num-mbufs=4096",
                "--eth-peer=0,%s" % peers[0], "--eth-peer=1,%s" % peers[1]]
        if server:
            for path in paths:
                if os.path.exists(path):
                    os.unlink(path)
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.logf,
                                     stderr=subprocess.STDOUT, restore_signals=False)
        LIVE.append(self)

    def wait_prompt(self, timeout=30):
        def ok():
            assert self.proc.poll() is None, "testpmd exited:\n" + tail(self.log)
            with open(self.log, errors="replace") as f:
                return "testpmd>" in f.read()
        wait_for(ok, timeout, what="testpmd prompt")

    def cmd(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def start(self):
        self.cmd("start tx_first")

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            try:
                # A SIGKILLed testpmd once took over 10 s to go in CI (the
                # generator core is shared by three busy testpmds here).
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                raise AssertionError("testpmd %d still there 30 s after SIGKILL: %s" % (
                    self.proc.pid, proc_state(self.proc.pid))) from None
            self.proc = None
            self.logf.close()
        cleanup_prefix(self.prefix)


@pytest.mark.parametrize("walk", ["rte", "vsw"])
def test_close_attached_ports_while_guests_reconnect(vswd_factory, tmp_path, walk):
    """Round after round: a guest pair (A, vswd is the vhost-user client)
    is killed and started again, so rte_vhost's thread handles its
    connection, vring and device notifications, while the control thread
    deletes two attached, busy server ports (pair B), re-adds them and a new
    guest pair attaches to them. Pair C keeps a ping-pong going throughout
    on the same PMD. vswd must answer every command at once and C's traffic
    must never stop."""
    d = vswd_factory(extra=("--vhost-walk", walk))
    run = str(tmp_path)
    a_paths = [os.path.join(run, "a%d.sock" % i) for i in range(2)]
    macs = {"a": ["02:00:00:0a:00:01", "02:00:00:0a:00:02"],
            "b": ["02:00:00:0b:00:01", "02:00:00:0b:00:02"],
            "c": ["02:00:00:0c:00:01", "02:00:00:0c:00:02"]}
    for i in range(2):
        d.ctl("add-port", "br0", "a%d" % i, "type=vhost-user-client", "path=" + a_paths[i])
        d.ctl("add-port", "br0", "b%d" % i, "type=vhost-user")
        d.ctl("add-port", "br0", "c%d" % i, "type=vhost-user")
    base = d.mbuf_in_use()
    # c0 sends broadcasts (flooded to every port, so the PMD keeps sending
    # to A and B too), c1 answers it.
    c = PingPong(run, [d.port("c0")["path"], d.port("c1")["path"]], False, macs["c"],
                 peers=["ff:ff:ff:ff:ff:ff", macs["c"][0]])
    c.wait_prompt()
    d.wait_port_state("c0", "up")
    d.wait_port_state("c1", "up")
    c.start()

    def c_rx():
        st = d.stats()
        return st["c0"]["rx_packets"] + st["c1"]["rx_packets"]

    wait_for(lambda: c_rx() > 10000, 10, what="pair C's ping-pong")
    a = b = None
    slowest = 0.0
    stop = threading.Event()
    flaps = [0]

    def flap():
        """Pair A's guest stops and starts its ports over and over: vring
        disable/enable messages for a device the PMD is sending to."""
        while not stop.is_set():
            g = a
            if g is not None and g.proc is not None:
                try:
                    g.cmd("stop")
                    g.cmd("port stop all")
                    time.sleep(0.03)
                    g.cmd("port start all")
                    g.cmd("start tx_first")
                    flaps[0] += 1
                except (AttributeError, BrokenPipeError, OSError, ValueError):  # killed meanwhile
                    pass
            time.sleep(0.03)

    flapper = threading.Thread(target=flap, daemon=True)
    try:
        for rnd in range(ROUNDS):
            # Pair A (re)connects: rte_vhost's thread is busy with its
            # notifications while the control thread closes pair B's ports.
            if a is not None:
                a.kill()
            a = PingPong(run, a_paths, True, macs["a"])
            b_was = b
            for i in range(2):
                t0 = time.monotonic()
                d.ctl("del-port", "b%d" % i)
                slowest = max(slowest, time.monotonic() - t0)
            if b_was is not None:
                b_was.kill()
            for i in range(2):
                d.ctl("add-port", "br0", "b%d" % i, "type=vhost-user")
            b = PingPong(run, [d.port("b0")["path"], d.port("b1")["path"]], False, macs["b"])
            for g in (a, b):
                g.wait_prompt()
            for p in ("a0", "a1", "b0", "b1"):
                d.wait_port_state(p, "up", timeout=20)
            a.start()
            b.start()
            if rnd == 0:
                flapper.start()
            before = c_rx()
            t0 = time.monotonic()
            r = d.ctl("version")
            slowest = max(slowest, time.monotonic() - t0)
            assert r, "no answer in round %d" % rnd
            wait_for(lambda: c_rx() > before + 1000, 5,
                     what="pair C still forwarding in round %d" % rnd)
        # Every pair forwards at the end (A's flapping stopped first).
        stop.set()
        flapper.join(5)
        a.cmd("stop")
        a.cmd("port start all")
        a.cmd("start tx_first")
        time.sleep(1)
        st0 = d.stats()
        time.sleep(0.5)
        st1 = d.stats()
        for p in ("a0", "a1", "b0", "b1", "c0", "c1"):
            assert st1[p]["rx_packets"] > st0[p]["rx_packets"], (p, st0[p], st1[p])
        # Who walked these guests' rings (virtio-user's port stop/start sends
        # no vhost-user message: the flaps are the guest's own).
        vh = {v["port"]: v for v in d.ctl("vhost-show")}
        assert all(vh[p]["walk"] == walk for p in ("a0", "b0", "c0")), json.dumps(vh)
    finally:
        stop.set()
        if flapper.is_alive():
            flapper.join(5)
        for g in (a, b, c):
            if g is not None:
                g.kill()
    print("slowest del-port / version: %.3f s; pair A's ports flapped %d times"
          % (slowest, flaps[0]))
    assert flaps[0] >= ROUNDS, flaps
    for p in ("a0", "a1", "b0", "b1", "c0", "c1"):
        d.wait_port_state(p, "down", timeout=20)
    d.assert_mbufs(base)
    d.del_all_ports_and_check()
