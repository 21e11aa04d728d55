#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhost-user loopback benchmark: vsw against the bare-DPDK ceiling (and OVS-DPDK).

Topology (the one DPDK's own test suite uses): a generator, dpdk-testpmd
with two net_virtio_user ports in `mac` forwarding mode (each port always
sends with its own MAC as source and the other port's as destination, so a
learning switch sees a stable ping-pong and never floods), connected to the
two vhost-user sockets of the system under test:

  vsw      vswd with one PMD and a bridge of two vhost-user ports
  ceiling  dpdk-testpmd io-forwarding between two net_vhost ports
  ovs      OVS-DPDK, netdev bridge, two dpdkvhostuser ports, NORMAL action

The switch's PMD runs on one CPU and the generator's forwarding core on the
other (--lcores pinning). Systems are run alternately (A B C A B C ...) for
--rounds rounds; the report gives medians and min-max, Mpps, Gbit/s, the
switch core's cycles per packet and busy share, the generator's busy share,
and the ratios against vsw. A system that is not installed is skipped with a
clear line, never faked.

Usage: dts/perf/bench.py [--systems vsw,ceiling,ovs] [--sizes 64,1518]
                         [--rounds 5] [--seconds 5] [--inflight 8] [--out DIR]
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VSW_BUILD", ROOT / "build"))
VSWD = BUILD / "app/vswd/vswd"
VSWCTL = BUILD / "app/vswctl/vswctl"
OVS_DPDK = Path("/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk")
MAC0, MAC1 = "52:54:00:00:00:01", "52:54:00:00:00:02"
SWITCH_CPU, GEN_CPU = 1, 0


def log(*a):
    print(*a, flush=True)


class Testpmd:
    """An interactive dpdk-testpmd driven through its stdin."""

    def __init__(self, args, logfile):
        self.logfile = open(logfile, "w+")
        self.p = subprocess.Popen(["stdbuf", "-oL", "dpdk-testpmd"] + args, stdin=subprocess.PIPE,
                                  stdout=self.logfile, stderr=subprocess.STDOUT, text=True)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def output(self):
        self.logfile.flush()
        self.logfile.seek(0)
        return self.logfile.read()

    def rx_total(self, after=0):
        """Sum of RX-packets over ports in the last 'show port stats all' output."""
        time.sleep(0.3)
        text = self.output()[after:]
        blocks = re.findall(r"NIC statistics for port (\d+).*?RX-packets:\s+(\d+)", text, re.S)
        last = {}
        for port, rx in blocks:
            last[port] = int(rx)
        return sum(last.values()), len(self.output())

    def stop(self, timeout=10):
        if self.p.poll() is None:
            try:
                self.cmd("stop")
                time.sleep(0.5)
                self.cmd("quit")
                self.p.wait(timeout=timeout)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()
        self.logfile.close()


def cleanup_prefix(prefix):
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    for f in Path("/dev/hugepages").glob(prefix + "*"):
        try:
            f.unlink()
        except OSError:
            pass


def wait_for(path, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False


class Vsw:
    name = "vsw"

    def available(self):
        return VSWD.exists() and VSWCTL.exists(), f"{VSWD} not built (run config/setup.sh)"

    def start(self, run):
        self.run = run
        self.prefix = "vswbench"
        self.log = open(run / "vswd.log", "w")
        self.p = subprocess.Popen([str(VSWD), "--foreground", "--rundir", str(run),
                                   "--pmd-cores", str(SWITCH_CPU), "--main-core", str(GEN_CPU),
                                   "--socket-mem", "1024", "--", f"--file-prefix={self.prefix}"],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 20
        while time.time() < end:
            if self.ctl("version", check=False).returncode == 0:
                break
            time.sleep(0.2)
        if getattr(self, "max_macs", None):
            self.ctl("del-br", "br0")
            self.ctl("add-br", "br0", f"max-macs={self.max_macs}")
        self.ctl("add-port", "br0", "vm0", "type=vhost-user", f"path={run}/s0.sock")
        self.ctl("add-port", "br0", "vm1", "type=vhost-user", f"path={run}/s1.sock")
        return [run / "s0.sock", run / "s1.sock"], False

    def ctl(self, *args, check=True):
        return subprocess.run([str(VSWCTL), "--ctl", str(self.run / "vswd.ctl"), "--json"] +
                              list(args), capture_output=True, text=True, check=check)

    def sample(self):
        pmd = json.loads(self.ctl("pmd-stats").stdout)[0]
        return pmd

    def window(self, s0, s1):
        pk = s1["packets"] - s0["packets"]
        busy = s1["busy_cycles"] - s0["busy_cycles"]
        idle = s1["idle_cycles"] - s0["idle_cycles"]
        return {"cycles_per_packet": busy / pk if pk else None,
                "switch_busy_pct": 100.0 * busy / (busy + idle) if busy + idle else None}

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()
        cleanup_prefix(self.prefix)


class Ceiling:
    name = "ceiling"

    def available(self):
        return shutil.which("dpdk-testpmd") is not None, "dpdk-testpmd not installed"

    def start(self, run):
        self.prefix = "ceilbench"
        socks = [run / "c0.sock", run / "c1.sock"]
        self.t = Testpmd([f"--lcores=0@{GEN_CPU},1@{SWITCH_CPU}", "--no-pci", "-m", "512",
                          f"--file-prefix={self.prefix}",
                          f"--vdev=net_vhost0,iface={socks[0]}",
                          f"--vdev=net_vhost1,iface={socks[1]}", "--", "-i",
                          "--forward-mode=io", "--nb-cores=1", "--record-core-cycles",
                          "--total-num-mbufs=16384"], run / "ceiling.log")
        for s in socks:
            wait_for(s)
        self.t.cmd("start")
        return socks, False

    def sample(self):
        return None

    def window(self, s0, s1):
        return {}

    def stop(self):
        self.t.cmd("stop")
        time.sleep(1)
        out = self.t.output()
        self.t.stop()
        cleanup_prefix(self.prefix)
        m = re.findall(r"CPU cycles/packet=([\d.]+)", out)
        return {"cycles_per_packet": float(m[-1]) if m else None}


class Ovs:
    name = "ovs"

    def available(self):
        return OVS_DPDK.exists() and shutil.which("ovsdb-tool") is not None, \
            "OVS-DPDK not installed (apt-get install openvswitch-switch-dpdk)"

    def sh(self, *args, check=True):
        env = dict(os.environ, OVS_RUNDIR=str(self.run), OVS_LOGDIR=str(self.run),
                   OVS_DBDIR=str(self.run), OVS_SYSCONFDIR=str(self.run))
        return subprocess.run(list(args), capture_output=True, text=True, check=check, env=env)

    def start(self, run):
        self.run = run
        self.prefix = "ovsbench"
        db = run / "conf.db"
        sock = run / "db.sock"
        self.sh("ovsdb-tool", "create", str(db), "/usr/share/openvswitch/vswitch.ovsschema")
        self.dbp = subprocess.Popen(["ovsdb-server", str(db), f"--remote=punix:{sock}",
                                     f"--pidfile={run}/ovsdb.pid", f"--unixctl={run}/ovsdb.ctl",
                                     "--log-file=" + str(run / "ovsdb.log")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(sock)
        vsctl = ["ovs-vsctl", f"--db=unix:{sock}", "--no-wait"]
        self.sh(*vsctl, "init")
        self.sh(*vsctl, "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                f"other_config:dpdk-lcore-mask={1 << GEN_CPU:#x}",
                f"other_config:pmd-cpu-mask={1 << SWITCH_CPU:#x}",
                "other_config:dpdk-socket-mem=512",
                f'other_config:dpdk-extra="--file-prefix={self.prefix} --no-pci"')
        self.vsp = subprocess.Popen([str(OVS_DPDK), f"unix:{sock}", f"--pidfile={run}/vswitchd.pid",
                                     f"--unixctl={run}/vswitchd.ctl",
                                     "--log-file=" + str(run / "vswitchd.log")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vsctl = ["ovs-vsctl", f"--db=unix:{sock}", "--timeout=30"]
        self.sh(*vsctl, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        socks = []
        for i in range(2):
            self.sh(*vsctl, "add-port", "br0", f"vhu{i}", "--", "set", "Interface", f"vhu{i}",
                    "type=dpdkvhostuserclient", f"options:vhost-server-path={run}/o{i}.sock")
            socks.append(run / f"o{i}.sock")
        self.appctl = ["ovs-appctl", f"--target={run}/vswitchd.ctl"]
        self.sh("ovs-ofctl", "mod-port", "br0", "br0", "no-flood", check=False)
        time.sleep(2)
        return socks, True

    def sample(self):
        self.sh(*self.appctl, "dpif-netdev/pmd-stats-clear", check=False)
        return None

    def window(self, s0, s1):
        out = self.sh(*self.appctl, "dpif-netdev/pmd-stats-show", check=False).stdout
        # The main (non-PMD) thread comes first; we want the PMD's block.
        out = out[out.find("pmd thread"):] if "pmd thread" in out else ""
        m = re.search(r"avg processing cycles per packet:\s*([\d.]+)", out)
        b = re.search(r"processing cycles:\s*\d+\s*\(([\d.]+)%\)", out)
        return {"cycles_per_packet": float(m.group(1)) if m else None,
                "switch_busy_pct": float(b.group(1)) if b else None}

    def stop(self):
        for p in (self.vsp, self.dbp):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        cleanup_prefix(self.prefix)


def run_one(system, size, seconds, inflight, workdir):
    run = Path(tempfile.mkdtemp(prefix=f"{system.name}-", dir=workdir))
    socks, gen_server = system.start(run)
    sfx = ",server=1" if gen_server else ""
    gen = Testpmd([f"--lcores=0@{SWITCH_CPU},1@{GEN_CPU}", "--no-pci", "--in-memory",
                   "--single-file-segments", "-m", "512",
                   f"--vdev=net_virtio_user0,path={socks[0]},mac={MAC0},queue_size=1024{sfx}",
                   f"--vdev=net_virtio_user1,path={socks[1]},mac={MAC1},queue_size=1024{sfx}",
                   "--", "-i", "--nb-cores=1", "--forward-mode=mac",
                   f"--eth-peer=0,{MAC1}", f"--eth-peer=1,{MAC0}", f"--txpkts={size}",
                   "--record-core-cycles", "--total-num-mbufs=16384"], run / "gen.log")
    res = {"system": system.name, "size": size}
    try:
        time.sleep(4 if gen_server else 2)
        gen.cmd(f"start tx_first {inflight}")
        t_start = time.time()
        time.sleep(2)
        gen.cmd("show port stats all")
        rx0, off = gen.rx_total()
        s0 = system.sample()
        t0 = time.time()
        time.sleep(seconds)
        gen.cmd("show port stats all")
        rx1, _ = gen.rx_total(off)
        t1 = time.time()
        s1 = system.sample()
        res.update(system.window(s0, s1))
        gen.cmd("stop")
        t_stop = time.time()
        time.sleep(1)
        out = gen.output()
        m = re.findall(r"total cycles=(\d+) / total \w+ packets=(\d+)\) at (\d+) MHz", out)
        mpps = (rx1 - rx0) / (t1 - t0) / 1e6
        res["mpps"] = mpps
        res["gbps"] = mpps * (size + 20) * 8 / 1000
        if m:
            # The generator's busy share over its whole forwarding run.
            busy, _, mhz = (int(x) for x in m[-1])
            res["gen_busy_pct"] = 100.0 * busy / ((t_stop - t_start) * mhz * 1e6)
        if mpps == 0:
            res["error"] = "no traffic crossed the switch"
    finally:
        gen.stop()
        extra = system.stop()
        if extra:
            res.update({k: v for k, v in extra.items() if v is not None})
        shutil.rmtree(run, ignore_errors=True)
    return res


MACGEN = BUILD / "dts/perf/vsw-macgen"


def run_macscale(system, macs, size, seconds, workdir):
    """One MAC-scale run: vsw-macgen sends from/to `macs` MACs per side."""
    run = Path(tempfile.mkdtemp(prefix=f"{system.name}-m-", dir=workdir))
    if system.name == "vsw":
        system.max_macs = max(65536, 4 * macs)
    socks, gen_server = system.start(run)
    sfx = ",server=1" if gen_server else ""
    res = {"system": system.name, "macs": macs, "size": size}
    try:
        time.sleep(3 if gen_server else 0.5)
        r = subprocess.run([str(MACGEN), f"--lcores=0@{GEN_CPU}", "--no-pci", "--in-memory",
                            "--single-file-segments", "-m", "512", "--log-level=error",
                            f"--vdev=net_virtio_user0,path={socks[0]}{sfx}",
                            f"--vdev=net_virtio_user1,path={socks[1]}{sfx}", "--",
                            f"--macs={macs}", f"--size={size}", f"--seconds={seconds}",
                            "--learn-pps=500000", "--settle=3"],
                           capture_output=True, text=True, timeout=600)
        line = [l for l in r.stdout.splitlines() if l.startswith("{")]
        if not line:
            res["error"] = "vsw-macgen failed: " + r.stderr[-300:]
        else:
            g = json.loads(line[-1])
            res.update({"mpps": g["rx_mpps"], "offered_mpps": g["tx_mpps"],
                        "misdelivered": g["misdelivered"]})
        if system.name == "vsw":
            st = json.loads(system.ctl("fdb-stats", "br0").stdout)[0]
            res["learned_entries"] = st["entries"]
    finally:
        system.stop()
        shutil.rmtree(run, ignore_errors=True)
    return res


def summarize(results, systems, sizes):
    rows = []
    for size in sizes:
        med = {}
        for s in systems:
            rs = [r for r in results if r["system"] == s and r["size"] == size and "mpps" in r]
            if not rs:
                continue
            mp = [r["mpps"] for r in rs]
            cpp = [r["cycles_per_packet"] for r in rs if r.get("cycles_per_packet")]
            busy = [r["switch_busy_pct"] for r in rs if r.get("switch_busy_pct") is not None]
            gbusy = [r["gen_busy_pct"] for r in rs if r.get("gen_busy_pct") is not None]
            med[s] = {"size": size, "system": s, "runs": len(rs),
                      "mpps_median": statistics.median(mp), "mpps_min": min(mp),
                      "mpps_max": max(mp),
                      "gbps_median": statistics.median(r["gbps"] for r in rs),
                      "cycles_per_packet_median": statistics.median(cpp) if cpp else None,
                      "switch_busy_pct_median": statistics.median(busy) if busy else None,
                      "gen_busy_pct_median": statistics.median(gbusy) if gbusy else None}
        for s, m in med.items():
            if s != "vsw" and "vsw" in med and m["mpps_median"]:
                m["vsw_ratio"] = med["vsw"]["mpps_median"] / m["mpps_median"]
            for ref in ("ovs", "ceiling"):
                if s == "vsw" and ref in med and med[ref]["mpps_median"]:
                    m[f"mpps_ratio_vs_{ref}"] = m["mpps_median"] / med[ref]["mpps_median"]
                    if m["cycles_per_packet_median"] and med[ref]["cycles_per_packet_median"]:
                        m[f"cpp_ratio_vs_{ref}"] = (m["cycles_per_packet_median"] /
                                                    med[ref]["cycles_per_packet_median"])
            rows.append(m)
    return rows


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def markdown(rows, meta):
    out = [f"# vhost-user loopback benchmark, {meta['date']}", "",
           f"Machine: {meta['machine']}; {meta['rounds']} alternating rounds of "
           f"{meta['seconds']} s, {meta['inflight']} bursts in flight.", "",
           f"Command: `{meta['command']}`", "",
           "| size | system | Mpps median (min-max) | Gbit/s | switch cycles/pkt | "
           "switch busy % | generator busy % | vsw vs it (Mpps) |",
           "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['size']} | {r['system']} | {r['mpps_median']:.2f} "
                   f"({r['mpps_min']:.2f}-{r['mpps_max']:.2f}) | {r['gbps_median']:.1f} | "
                   f"{fmt(r['cycles_per_packet_median'], '.0f')} | "
                   f"{fmt(r['switch_busy_pct_median'], '.0f')} | "
                   f"{fmt(r['gen_busy_pct_median'], '.0f')} | "
                   f"{fmt(r.get('vsw_ratio'), '.2f')} |")
    for s in meta["skipped"]:
        out.append(f"\nSkipped {s['system']}: {s['why']}")
    return "\n".join(out) + "\n"


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sizes = sorted({r["size"] for r in rows})
    systems = sorted({r["system"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4))
    w = 0.8 / max(1, len(systems))
    for i, s in enumerate(systems):
        ys = [next((r["mpps_median"] for r in rows if r["system"] == s and r["size"] == z), 0)
              for z in sizes]
        ax.bar([x + i * w for x in range(len(sizes))], ys, w, label=s)
    ax.set_xticks([x + w * (len(systems) - 1) / 2 for x in range(len(sizes))])
    ax.set_xticklabels([f"{z} B" for z in sizes])
    ax.set_ylabel("Mpps (median)")
    ax.set_title("vhost-user loopback, one switch core")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return True


def macscale_main(a, systems, skipped, out, work):
    if not MACGEN.exists():
        sys.exit(f"{MACGEN} not built (ninja -C build)")
    counts = [int(x) for x in a.macs.split(",")]
    size = int(a.sizes.split(",")[0])
    results = []
    for rnd in range(a.rounds):
        for n in counts:
            for s in systems:
                if s.name == "ceiling":
                    continue        # io forwarding does not look at MACs
                r = run_macscale(s, n, size, a.seconds, work)
                r["round"] = rnd
                results.append(r)
                log(f"round {rnd} macs {n:8d} {s.name:5s} {r.get('mpps', 0):6.2f} Mpps "
                    f"(offered {r.get('offered_mpps', 0):.2f}) learned "
                    f"{r.get('learned_entries', '-')} {r.get('error', '')}")
    shutil.rmtree(work, ignore_errors=True)
    lines = [f"# MAC-scale benchmark, {datetime.datetime.now().isoformat(timespec='seconds')}",
             "", f"{a.rounds} rounds of {a.seconds} s, {size}-byte frames, vsw-macgen "
             "sending from N MACs per side to N MACs on the other side.", "",
             "| MACs per side | system | Mpps median (min-max) | vs 2 MACs |",
             "| ---: | --- | --- | ---: |"]
    for s in systems:
        if s.name == "ceiling":
            continue
        base = None
        for n in counts:
            mp = [r["mpps"] for r in results if r["system"] == s.name and r["macs"] == n
                  and "mpps" in r]
            if not mp:
                continue
            med = statistics.median(mp)
            if base is None:
                base = med
            lines.append(f"| {n} | {s.name} | {med:.2f} ({min(mp):.2f}-{max(mp):.2f}) | "
                         f"{med / base:.2f} |")
    for sk in skipped:
        lines.append(f"\nSkipped {sk['system']}: {sk['why']}")
    text = "\n".join(lines) + "\n"
    (out / "macscale.md").write_text(text)
    (out / "macscale.json").write_text(json.dumps(results, indent=2))
    log(text)
    log(f"results in {out}")
    return 0 if all("error" not in r for r in results) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", default="vsw,ceiling,ovs")
    ap.add_argument("--sizes", default="64,1518")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--inflight", type=int, default=8,
                    help="bursts of 32 frames per port sent by 'start tx_first N'")
    ap.add_argument("--out", default=None)
    ap.add_argument("--macs", default=None,
                    help="MAC-scale mode: comma list of MACs per side, e.g. 2,1000,65536,1000000")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py needs root (hugepages, DPDK)")
    if os.cpu_count() < 2:
        sys.exit("bench.py needs 2 CPUs")
    all_systems = {"vsw": Vsw(), "ceiling": Ceiling(), "ovs": Ovs()}
    systems, skipped = [], []
    for n in a.systems.split(","):
        ok, why = all_systems[n].available()
        if ok:
            systems.append(all_systems[n])
        else:
            log(f"SKIP {n}: {why}")
            skipped.append({"system": n, "why": why})
    sizes = [int(x) for x in a.sizes.split(",")]
    out = Path(a.out or ROOT / "results" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vswbench-"))
    if a.macs:
        return macscale_main(a, systems, skipped, out, work)
    results = []
    for rnd in range(a.rounds):
        for size in sizes:
            for s in systems:
                r = run_one(s, size, a.seconds, a.inflight, work)
                r["round"] = rnd
                results.append(r)
                log(f"round {rnd} size {size:5d} {s.name:8s} "
                    f"{r.get('mpps', 0):6.2f} Mpps  cycles/pkt "
                    f"{fmt(r.get('cycles_per_packet'), '.0f')}  {r.get('error', '')}")
    shutil.rmtree(work, ignore_errors=True)
    rows = summarize(results, [s.name for s in systems], sizes)
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} CPUs, {os.uname().release}",
            "rounds": a.rounds, "seconds": a.seconds, "inflight": a.inflight,
            "command": " ".join(["dts/perf/bench.py"] + sys.argv[1:]), "skipped": skipped}
    (out / "results.json").write_text(json.dumps({"meta": meta, "runs": results,
                                                  "summary": rows}, indent=2))
    (out / "results.md").write_text(markdown(rows, meta))
    plot(rows, out / "results.png")
    log(markdown(rows, meta))
    log(f"results in {out}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
