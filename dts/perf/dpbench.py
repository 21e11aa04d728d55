#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The cost of vsw's burst function per scenario, in instructions per frame
(callgrind: exact, the same on a busy machine) and TSC cycles per frame
(noisy), optionally beside the same harness built on an older commit.

    dts/perf/dpbench.py                     # this tree (build/)
    dts/perf/dpbench.py --ref 87d539b       # and the plain scenarios of 87d539b
    dts/perf/dpbench.py --out docs/perf/dpbench.md

The harness is dts/perf/dpbench.c (vsw-dpbench): four net_null ports, a
snapshot built by hand, 32-frame bursts of 64-byte frames through
vsw_dp_process(), tx to net_null (which frees). The instruction counts
include everything vsw_dp_process() calls: the hash lookup, net_null's tx,
the mbuf frees.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refbuild import RefBuild  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# No shared config and no telemetry socket: nothing is left in /var/run/dpdk.
EAL = ["--no-huge", "--no-shconf", "--no-telemetry", "-m", "512", "--no-pci",
       "--log-level=lib.*:error"] + \
      sum([["--vdev", "net_null%d" % i] for i in range(4)], [])


def eal(tag):
    return EAL + ["--file-prefix", "dpb%d%s" % (os.getpid(), tag)]


def tsc_run(exe, bursts, cpu):
    out = subprocess.run(["taskset", "-c", str(cpu), exe] + eal("t") + ["--", "--bursts",
                         str(bursts)], capture_output=True, text=True, timeout=600, check=True)
    res = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^(\S+)\s+([\d.]+)\s+(.*)$", line)
        if m and m.group(1) != "scenario":
            res[m.group(1)] = (float(m.group(2)), m.group(3))
    return res


def ir_run(exe, scenario, bursts):
    with tempfile.TemporaryDirectory() as tmp:
        outf = os.path.join(tmp, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outf,
                        "--toggle-collect=vsw_dp_process", exe] + eal("v") +
                       ["--", "--bursts", str(bursts), scenario],
                       capture_output=True, text=True, timeout=900, check=True)
        with open(outf) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    ir = int(line.split()[1])
                    break
    frames = (bursts + bursts // 10) * 32        # the warm-up tenth is counted too
    return ir / frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--ref", help="also measure this commit's plain scenarios")
    ap.add_argument("--bursts", type=int, default=200000, help="TSC run bursts")
    ap.add_argument("--ir-bursts", type=int, default=2000, help="callgrind run bursts")
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--out", help="write the Markdown table here too")
    a = ap.parse_args()
    exe = os.path.join(a.build, "dts/perf/vsw-dpbench")
    if not os.path.exists(exe):
        sys.exit("no %s: build first (meson setup build && ninja -C build)" % exe)
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt install valgrind)")
    cur = tsc_run(exe, a.bursts, a.cpu)
    rows = {s: {"what": w, "cyc": c, "ir": ir_run(exe, s, a.ir_bursts)}
            for s, (c, w) in cur.items()}
    ref = {}
    if a.ref:
        with tempfile.TemporaryDirectory() as tmp, \
                RefBuild(a.ref, tmp, ["dts/perf/vsw-dpbench"],
                         ["dts/perf/dpbench.c", "dts/perf/meson.build"]) as rb:
            rexe = str(rb.build / "dts/perf/vsw-dpbench")
            for s, (c, _w) in tsc_run(rexe, a.bursts, a.cpu).items():
                ref[s] = {"cyc": c, "ir": ir_run(rexe, s, a.ir_bursts)}
    lines = ["| scenario | instructions/frame | TSC cycles/frame | %s | what |" % (
        "instr/frame at %s (ratio)" % a.ref if a.ref else "-"), "| --- | ---: | ---: | ---: | --- |"]
    for s, r in rows.items():
        rr = ref.get(s)
        cmp_ = "%.1f (%.3f)" % (rr["ir"], r["ir"] / rr["ir"]) if rr else ""
        lines.append("| %s | %.1f | %.0f | %s | %s |" % (s, r["ir"], r["cyc"], cmp_, r["what"]))
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
