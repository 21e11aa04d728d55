# SPDX-License-Identifier: BSD-3-Clause
"""A VM that crashes again and again: its testpmd is SIGKILLed and started
again on the same socket, VSW_PEER_CYCLES times (default 40; the
sanitizer pass of config/test.sh uses 20), in both vhost-user modes, while
two other ports carry paced traffic that must not lose a frame."""
import os
import time

import pytest

import vswlib
from vswlib import BCAST, VPort, frame, mac

CYCLES = int(os.environ.get("VSW_PEER_CYCLES", "40"))


@pytest.mark.timeout(60 + 8 * CYCLES)
@pytest.mark.parametrize("kind", ["vhost-user", "vhost-user-client"])
def test_peer_killed_and_restarted_repeatedly(vswd, vm_factory, kind):
    """Steps: tap ports t1/t2 exchange paced unicast; a testpmd VM on port
    vm is killed with SIGKILL and started again CYCLES times; each new VM
    sends one broadcast hello when it starts forwarding.
    Verify: vswd never dies; each hello reaches t1 within 1 s of the VM
    starting to forward; the t1->t2 stream arrives complete and in order;
    no tap counter shows a drop; mbufs back to baseline."""
    d = vswd
    t1 = d.add_tap("t1")
    t2 = d.add_tap("t2")
    a, b, v = mac(0xB1), mac(0xB2), mac(0xB3)
    t1.send([frame(BCAST, a, 0)])
    t2.send([frame(BCAST, b, 0)])
    d.wait_learned({a: "t1", b: "t2"})
    server = kind == "vhost-user-client"
    if server:
        sock = os.path.join(d.dir, "loop-vm.sock")
        d.ctl("add-port", "br0", "vm", "type=vhost-user-client", "path=%s" % sock)
    else:
        d.ctl("add-port", "br0", "vm", "type=vhost-user")
        sock = d.port("vm")["path"]
    t1.drain()
    t2.drain()
    d.ctl("port-stats-clear")
    base = d.mbuf_in_use()

    stream = vswlib.PacedStream(t1, b, a, 0.005, seq0=1000)
    hello_delay = []
    try:
        for c in range(CYCLES):
            hello = frame(BCAST, v, c)
            vm = vm_factory("loop-%d" % c, [VPort(sock, server=server, mac=v, tx=[hello])])
            vm.launch()
            d.wait_port_state("vm", "up", timeout=15)
            t0 = time.monotonic()
            vm.start()
            got = vswlib.wait_for(lambda: [f for f in t1._read() if f == hello], 5, 0.002,
                                  "hello %d on t1" % c)
            hello_delay.append(time.monotonic() - t0)
            assert got == [hello]
            vm.kill()
            d.wait_port_state("vm", "down", timeout=10)
            assert d.alive()
    finally:
        sent = stream.stop()
    got = [f for f in t2.recv(len(sent), timeout=10) if vswlib.src_of(f) == a]
    assert got == sent, "t2 got %d of %d frames of the stream" % (len(got), len(sent))
    st = d.stats()
    assert st["t1"]["drops_total"] == 0 and st["t2"]["drops_total"] == 0, st
    assert max(hello_delay) < 1.0, "slowest hello after restart: %.3f s" % max(hello_delay)
    print("%s: %d cycles, hello delay max %.3f s, %d stream frames" %
          (kind, CYCLES, max(hello_delay), len(sent)))
    d.assert_mbufs(base)
    t1.close()
    t2.close()
