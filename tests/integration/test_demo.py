# SPDX-License-Identifier: BSD-3-Clause
"""The README's first command, config/demo.sh, works: vswd starts on its
default, two testpmd "VMs" send traffic across a new bridge, the tour prints
the learned MACs and counters, and everything stops cleanly."""
import os
import re
import subprocess

import pytest

import vswlib


@pytest.mark.timeout(240)
def test_demo_script(tmp_path):
    env = dict(os.environ, VSW_DEMO_SECONDS="2", VSW_DEMO_DIR=str(tmp_path / "demo"),
               VSW_BUILD=vswlib.BUILD)
    r = subprocess.run([os.path.join(vswlib.REPO, "config", "demo.sh")], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=220)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    # Both VMs' MACs learned on their ports of the new bridge.
    assert re.search(r"52:54:00:00:00:01\s+0\s+vm1", out), out[-3000:]
    assert re.search(r"52:54:00:00:00:02\s+0\s+vm2", out), out[-3000:]
    # Traffic crossed: non-zero rx on both ports, no drops.
    rows = re.findall(r"^(vm[12])\s+(\d+)\s+\S+ \S*B\s+(\d+)\s+\S+ \S*B\s+(\d+)", out, re.M)
    assert rows and all(int(rx) > 1000 and int(tx) > 1000 and drops == "0"
                        for _, rx, tx, drops in rows), rows
    assert "demo done" in out
    # vswd removed its sockets on SIGTERM.
    left = os.listdir(str(tmp_path / "demo"))
    assert not [f for f in left if f.endswith(".sock") or f.endswith(".ctl")], left
