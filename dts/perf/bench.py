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

With --gen vhostgen the generator is vsw-vhostgen instead of testpmd: the
guest side of every port in one process (no 32-port ethdev limit), which
by default passes received frames back unread from the partner port
(--gen-fwd io) so that it is not the bottleneck. The many-ports runs need it.

Usage: dts/perf/bench.py [--systems vsw,ceiling,ovs] [--sizes 64,256,1518]
                         [--rounds 5] [--seconds 5] [--inflight 1,4,8,32]
                         [--ports 2,16,64] [--gen testpmd|vhostgen] [--out DIR]
       dts/perf/bench.py --macs 2,1000,65536,1000000   (MAC scale, vsw-macgen)
       dts/perf/bench.py --zero-loss [--sizes 64]      (RFC 2544 search + latency)
       dts/perf/bench.py --idle                        (idle CPU, back-off cost)
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refbuild import RefBuild  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VSW_BUILD", ROOT / "build"))
VSWD = BUILD / "app/vswd/vswd"
VSWCTL = BUILD / "app/vswctl/vswctl"
OVS_DPDK = Path("/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk")
SWITCH_CPU, GEN_CPU = 1, 0
# --gen-server: the generator's virtio-user ports are the vhost-user servers
# and every switch connects to them as a client (OVS's dpdkvhostuserclient
# always does); otherwise vsw and the ceiling are the servers.
GEN_SERVER = False
# --queue-size: the generator's virtqueue size (0: 1024 up to 8 ports, else 256)
QUEUE_SIZE = 0


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


# One testpmd holds at most RTE_MAX_ETHPORTS (32 in Debian's DPDK) ports.
GEN_MAX_PORTS = 32


class GenGroup:
    """The generator: dpdk-testpmd in mac forwarding mode, one process per
    32 ports (its ethdev limit), all on the generator core. Ports pair up
    (0-1, 2-3, ...): each sends to its partner's MAC."""

    def __init__(self, socks, gen_server, size, n_ports, run):
        sfx = ",server=1" if gen_server else ""
        qs = QUEUE_SIZE or (1024 if n_ports <= 8 else 256)
        self.gens = []
        split = n_ports > GEN_MAX_PORTS
        for g, first in enumerate(range(0, n_ports, GEN_MAX_PORTS)):
            idx = range(first, min(n_ports, first + GEN_MAX_PORTS))
            self.gens.append(Testpmd(
                [f"--lcores=0@{SWITCH_CPU},1@{GEN_CPU}", "--no-pci", "--in-memory",
                 "--single-file-segments", "-m", "384" if split else "1024"] +
                [f"--vdev=net_virtio_user{i},path={socks[i]},mac={gen_mac(i)},"
                 f"queue_size={qs}{sfx}" for i in idx] +
                ["--", "-i", "--nb-cores=1", "--forward-mode=mac"] +
                [f"--eth-peer={j},{gen_mac(i ^ 1)}" for j, i in enumerate(idx)] +
                [f"--txpkts={size}", "--record-core-cycles",
                 # Split: 2048 mbufs a port (a 256-slot ring each way and a
                 # burst) so that vswd and two generators fit in 2 GB.
                 f"--total-num-mbufs={16384 * max(1, len(idx) // 2) if not split else 2048 * len(idx)}"],
                run / (f"gen{g}.log" if g else "gen.log")))
        self.offs = [0] * len(self.gens)

    def cmd(self, line):
        for g in self.gens:
            g.cmd(line)

    def rx_total(self):
        """Frames received over all ports at the last 'show port stats all'."""
        tot = 0
        for k, g in enumerate(self.gens):
            rx, self.offs[k] = g.rx_total(self.offs[k])
            tot += rx
        return tot

    def busy_pct(self, seconds):
        """The generators' busy share over the whole forwarding run of
        `seconds` (one core: with several processes it is their sum), from
        testpmd's --record-core-cycles; None if it printed none."""
        busy, mhz = 0, None
        for g in self.gens:
            m = re.findall(r"total cycles=(\d+) / total \w+ packets=(\d+)\) at (\d+) MHz",
                           g.output())
            if not m:
                return None
            busy += int(m[-1][0])
            mhz = int(m[-1][2])
        return 100.0 * busy / (seconds * mhz * 1e6)

    def stop(self):
        for g in self.gens:
            g.stop()


VHOSTGEN = BUILD / "dts/perf/vsw-vhostgen"
# --gen vhostgen: the generator is vsw-vhostgen (one process, any number
# of ports); GEN_FWD is its forwarding mode (io or mac).
GEN = "testpmd"
GEN_FWD = "io"


class VhostGen:
    """The generator as vsw-vhostgen: the guest side of every port in one
    process on the generator core, with no ethdev port limit (see
    dts/perf/vhostgen.c). Same interface as GenGroup; its busy share is
    measured over the window between the two stats samples."""

    def __init__(self, socks, gen_server, size, n_ports, run):
        qs = QUEUE_SIZE or (1024 if n_ports <= 8 else 256)
        self.err = open(run / "vhostgen.log", "w")
        self.p = subprocess.Popen(["taskset", "-c", str(GEN_CPU), str(VHOSTGEN),
                                   f"--size={size}", f"--queue-size={qs}", f"--fwd={GEN_FWD}"] +
                                  (["--server"] if gen_server else []) + [str(s) for s in socks],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True)
        self.gens = [self.p]
        self.samples = []
        self.ready = self._line()

    def _line(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"vsw-vhostgen exited ({self.p.wait()}); see vhostgen.log")
        return json.loads(line)

    def cmd(self, line):
        m = re.match(r"start tx_first (\d+)", line)
        if m:
            line = f"start {m.group(1)}"
        elif line.startswith("show port stats"):
            line = "stats"
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        r = self._line()
        if "rx" in r:
            self.samples.append(r)

    def rx_total(self):
        return self.samples[-1]["rx"]

    def port_share(self):
        """The least and the most any one port received in the window, over
        the mean per port: how evenly the switch served its ports."""
        a, b = self.samples[-2], self.samples[-1]
        d = [y - x for x, y in zip(a.get("port_rx", []), b.get("port_rx", []))]
        if not d or sum(d) == 0:
            return None
        mean = sum(d) / len(d)
        return min(d) / mean, max(d) / mean

    def busy_pct(self, _seconds):
        a, b = self.samples[-2], self.samples[-1]
        return 100.0 * (b["busy_cycles"] - a["busy_cycles"]) / max(1, b["cycles"] - a["cycles"])

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()
        self.err.close()


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
    """vswd from a build folder: this tree's (\"vsw\"), or a reference
    commit's (\"vsw-ref\", --ref COMMIT) measured in the same rounds."""

    def __init__(self, build=BUILD, name="vsw"):
        self.name = name
        self.vswd = build / "app/vswd/vswd"
        self.vswctl = build / "app/vswctl/vswctl"

    def available(self):
        return (self.vswd.exists() and self.vswctl.exists(),
                f"{self.vswd} not built (run config/setup.sh)")

    extra = ()          # more vswd options (--pmd-sleep-max US)

    def start(self, run, n_ports=2):
        self.run = run
        self.prefix = "vswbench"
        self.log = open(run / "vswd.log", "w")
        self.p = subprocess.Popen([str(self.vswd), "--foreground", "--rundir", str(run),
                                   "--pmd-cores", str(SWITCH_CPU), "--main-core", str(GEN_CPU),
                                   "--socket-mem", "1024"] +
                                  (["--mbufs", str(4096 * n_ports)] if n_ports > 4 else []) +
                                  list(self.extra) + ["--", f"--file-prefix={self.prefix}"],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 20
        while time.time() < end:
            if self.ctl("version", check=False).returncode == 0:
                break
            time.sleep(0.2)
        if getattr(self, "max_macs", None):
            self.ctl("del-br", "br0")
            self.ctl("add-br", "br0", f"max-macs={self.max_macs}")
        kind = "vhost-user-client" if GEN_SERVER else "vhost-user"
        for i in range(n_ports):
            self.ctl("add-port", "br0", f"vm{i}", f"type={kind}", f"path={run}/s{i}.sock")
        return [run / f"s{i}.sock" for i in range(n_ports)], GEN_SERVER

    def ctl(self, *args, check=True):
        return subprocess.run([str(self.vswctl), "--ctl", str(self.run / "vswd.ctl"), "--json"] +
                              list(args), capture_output=True, text=True, check=check)

    def sample(self):
        pmd = json.loads(self.ctl("pmd-stats").stdout)[0]
        return pmd

    def window(self, s0, s1):
        pk = s1["packets"] - s0["packets"]
        busy = s1["busy_cycles"] - s0["busy_cycles"]
        idle = s1["idle_cycles"] - s0["idle_cycles"]
        polls = sum(s1["burst_sizes"].values()) - sum(s0["burst_sizes"].values())
        return {"cycles_per_packet": busy / pk if pk else None,
                "switch_busy_pct": 100.0 * busy / (busy + idle) if busy + idle else None,
                # Frames per non-empty rx poll (a port's rx burst).
                "mean_burst": pk / polls if polls else None}

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

    def start(self, run, n_ports=2):
        self.prefix = "ceilbench"
        socks = [run / f"c{i}.sock" for i in range(n_ports)]
        self.t = Testpmd([f"--lcores=0@{GEN_CPU},1@{SWITCH_CPU}", "--no-pci", "-m", "1024",
                          f"--file-prefix={self.prefix}"] +
                         [f"--vdev=net_vhost{i},iface={socks[i]}" + (",client=1" if GEN_SERVER
                                                                      else "")
                          for i in range(n_ports)] +
                         ["--", "-i",
                          "--forward-mode=io", "--nb-cores=1", "--record-core-cycles",
                          f"--total-num-mbufs={16384 * max(1, n_ports // 2)}"],
                         run / "ceiling.log")
        if not GEN_SERVER:
            for s in socks:
                wait_for(s)
        self.t.cmd("start")
        return socks, GEN_SERVER

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

    def start(self, run, n_ports=2):
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
                "other_config:dpdk-socket-mem=1024",
                f'other_config:dpdk-extra="--file-prefix={self.prefix} --no-pci"')
        self.vsp = subprocess.Popen([str(OVS_DPDK), f"unix:{sock}", f"--pidfile={run}/vswitchd.pid",
                                     f"--unixctl={run}/vswitchd.ctl",
                                     "--log-file=" + str(run / "vswitchd.log")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vsctl = ["ovs-vsctl", f"--db=unix:{sock}", "--timeout=30"]
        self.sh(*vsctl, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        socks = []
        for i in range(n_ports):
            self.sh(*vsctl, "add-port", "br0", f"vhu{i}", "--", "set", "Interface", f"vhu{i}",
                    "type=dpdkvhostuserclient", f"options:vhost-server-path={run}/o{i}.sock")
            socks.append(run / f"o{i}.sock")
        self.appctl = ["ovs-appctl", f"--target={run}/vswitchd.ctl"]
        self.sh("ovs-ofctl", "mod-port", "br0", "br0", "no-flood", check=False)
        time.sleep(2)
        return socks, True

    def wait_up(self, n_ports, timeout=90):
        """OVS's vhost-user clients connect to the generator's sockets one
        retry at a time: with 16+ ports that takes longer than a fixed
        warm-up. Wait until every interface's link is up."""
        vsctl = ["ovs-vsctl", f"--db=unix:{self.run / 'db.sock'}", "--timeout=10"]
        end = time.time() + timeout
        while time.time() < end:
            r = self.sh(*vsctl, "--columns=link_state", "--bare", "list", "Interface",
                        check=False)
            if r.stdout.split().count("up") >= n_ports:
                return
            time.sleep(0.5)

    def sample(self):
        """The PMD's cumulative counters (pmd-stats-show), read at each end
        of the window. (Earlier versions cleared the counters here; called
        at both ends, that left a window of a few milliseconds.)"""
        out = self.sh(*self.appctl, "dpif-netdev/pmd-stats-show", check=False).stdout
        # The main (non-PMD) thread comes first; we want the PMD's block.
        out = out[out.find("pmd thread"):] if "pmd thread" in out else ""
        res = {}
        for key, pat in (("pkts", r"packets received:\s*(\d+)"),
                         ("busy", r"processing cycles:\s*(\d+)"),
                         ("idle", r"idle cycles:\s*(\d+)")):
            v = re.search(pat, out)
            res[key] = int(v.group(1)) if v else None
        return res

    def window(self, s0, s1):
        if None in s0.values() or None in s1.values():
            return {}
        pkts, busy, idle = (s1[k] - s0[k] for k in ("pkts", "busy", "idle"))
        return {"cycles_per_packet": busy / pkts if pkts > 0 else None,
                "switch_busy_pct": 100.0 * busy / (busy + idle) if busy + idle > 0 else None,
                "switch_rx_pkts": pkts, "switch_busy_cycles": busy, "switch_idle_cycles": idle}

    def stop(self):
        for p in (self.vsp, self.dbp):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        cleanup_prefix(self.prefix)


def gen_mac(i):
    return "52:54:00:00:%02x:%02x" % ((i + 1) >> 8, (i + 1) & 0xFF)


def start_or_stop(system, run, n_ports=2):
    """system.start(), stopping whatever it started if it fails half way."""
    try:
        return system.start(run, n_ports)
    except BaseException:
        try:
            system.stop()
        except Exception:   # noqa: BLE001 - it may not have got far enough
            pass
        raise


PERF_OUT = None     # --perf: folder for the switch core's profiles


def perf_start(run, seconds):
    """Sample the switch core (software cpu-clock: the only event this
    virtual machine has) for the measurement window."""
    return subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999",
                             "-C", str(SWITCH_CPU), "-o", str(run / "perf.data"), "--",
                             "sleep", str(seconds)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def perf_report(prof, run, tag):
    """Self time by symbol, whole switch core, into PERF_OUT/perf-TAG.txt."""
    prof.wait()
    text = ""
    for sort, limit in (("comm,dso", "0"), ("dso,symbol", "0.5")):
        r = subprocess.run(["perf", "report", "-i", str(run / "perf.data"), "--stdio", "-q",
                            "--no-children", "--sort", sort, "--percent-limit", limit],
                           capture_output=True, text=True)
        text += f"## by {sort}\n" + r.stdout + r.stderr[-500:] + "\n"
    # The hottest instructions of vsw's PMD loop and burst function (their
    # share of the function's samples, then the address and instruction).
    for fn in ("vsw_pmd_main", "vsw_dp_process", "vsw_vring_rx", "vsw_vring_tx"):
        r = subprocess.run(["perf", "annotate", "-i", str(run / "perf.data"), "--stdio",
                            "--no-source", "-s", fn], capture_output=True, text=True)
        hot = []
        for line in r.stdout.splitlines():
            pct = line.split(":", 1)[0].strip()
            try:
                if float(pct) >= 1.0:
                    hot.append(line.rstrip())
            except ValueError:
                continue
        if hot:
            text += f"## {fn}: instructions with >= 1 % of its samples\n" + \
                "\n".join(hot) + "\n"
        if os.environ.get("VSW_PERF_SOURCE"):
            # The whole annotation with source lines (debug builds), for reading.
            src = subprocess.run(["perf", "annotate", "-i", str(run / "perf.data"),
                                  "--stdio", "-s", fn], capture_output=True, text=True)
            (PERF_OUT / f"annotate-{tag}-{fn}.txt").write_text(src.stdout)
    (PERF_OUT / f"perf-{tag}.txt").write_text(text)


def run_one(system, size, seconds, inflight, workdir, n_ports=2):
    run = Path(tempfile.mkdtemp(prefix=f"{system.name}-", dir=workdir))
    socks, gen_server = start_or_stop(system, run, n_ports)
    res = {"system": system.name, "size": size, "inflight": inflight, "ports": n_ports}
    try:
        gen = (VhostGen if GEN == "vhostgen" else GenGroup)(socks, gen_server, size, n_ports,
                                                             run)
    except Exception as e:
        system.stop()
        res["error"] = f"generator: {e}"
        return res
    try:
        time.sleep((4 if gen_server else 2) + n_ports / 8)
        if hasattr(system, "wait_up"):
            system.wait_up(n_ports)
        gen.cmd(f"start tx_first {inflight}")
        t_start = time.time()
        time.sleep(2)
        gen.cmd("show port stats all")
        rx0 = gen.rx_total()
        s0 = system.sample()
        t0 = time.time()
        prof = perf_start(run, seconds) if PERF_OUT else None
        time.sleep(seconds)
        if prof:
            perf_report(prof, run, f"{system.name}-{size}B-{n_ports}p-{inflight}")
        gen.cmd("show port stats all")
        rx1 = gen.rx_total()
        t1 = time.time()
        s1 = system.sample()
        res.update(system.window(s0, s1))
        gen.cmd("stop")
        t_stop = time.time()
        time.sleep(1)
        mpps = (rx1 - rx0) / (t1 - t0) / 1e6
        res["mpps"] = mpps
        res["window_s"] = t1 - t0
        res["gbps"] = mpps * (size + 20) * 8 / 1000
        res["gen_busy_pct"] = gen.busy_pct(t_stop - t_start)
        share = gen.port_share() if hasattr(gen, "port_share") else None
        if share:
            res["port_share_min"], res["port_share_max"] = share
        res["gen_procs"] = len(gen.gens)
        res["generator"] = GEN if GEN == "testpmd" else f"vhostgen-{GEN_FWD}"
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
    if isinstance(system, Vsw):
        system.max_macs = max(65536, 4 * macs)
    socks, gen_server = start_or_stop(system, run)
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
        if isinstance(system, Vsw):
            st = json.loads(system.ctl("fdb-stats", "br0").stdout)[0]
            res["learned_entries"] = st["entries"]
    finally:
        system.stop()
        shutil.rmtree(run, ignore_errors=True)
    return res


def stats_of(rs):
    mp = [r["mpps"] for r in rs]
    cpp = [r["cycles_per_packet"] for r in rs if r.get("cycles_per_packet")]
    busy = [r["switch_busy_pct"] for r in rs if r.get("switch_busy_pct") is not None]
    gbusy = [r["gen_busy_pct"] for r in rs if r.get("gen_busy_pct") is not None]
    return {"runs": len(rs), "mpps_median": statistics.median(mp), "mpps_min": min(mp),
            "mpps_max": max(mp), "gbps_median": statistics.median(r["gbps"] for r in rs),
            "cycles_per_packet_median": statistics.median(cpp) if cpp else None,
            "switch_busy_pct_median": statistics.median(busy) if busy else None,
            "gen_busy_pct_median": statistics.median(gbusy) if gbusy else None}


def summarize(results, systems, sizes):
    """One row per (size, ports, system): the in-flight count with the best
    median; `sweep` has every (size, ports, system, in-flight) median."""
    rows, sweep = [], []
    for size, ports in sorted({(r["size"], r.get("ports", 2)) for r in results}):
        med = {}
        for s in systems:
            mine = [r for r in results if r["system"] == s and r["size"] == size and
                    r.get("ports", 2) == ports and "mpps" in r]
            for inf in sorted({r["inflight"] for r in mine}):
                m = stats_of([r for r in mine if r["inflight"] == inf])
                m.update({"size": size, "ports": ports, "system": s, "inflight": inf})
                sweep.append(m)
                if s not in med or m["mpps_median"] > med[s]["mpps_median"]:
                    med[s] = m
        for s, m in med.items():
            if s != "vsw" and "vsw" in med and m["mpps_median"]:
                m["vsw_ratio"] = med["vsw"]["mpps_median"] / m["mpps_median"]
            for ref in ("ovs", "ceiling", "vsw-ref", "vsw-rte"):
                if s == "vsw" and ref in med and med[ref]["mpps_median"]:
                    m[f"mpps_ratio_vs_{ref}"] = m["mpps_median"] / med[ref]["mpps_median"]
                    if m["cycles_per_packet_median"] and med[ref]["cycles_per_packet_median"]:
                        m[f"cpp_ratio_vs_{ref}"] = (m["cycles_per_packet_median"] /
                                                    med[ref]["cycles_per_packet_median"])
            rows.append(m)
    return rows, sweep


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def paired(results):
    """vsw against each other system, round by round: the runs of one round
    are minutes apart, so their ratio cancels the host's slow drifts. One
    row per (size, ports, in flight, system): median and min-max of the
    per-round Mpps ratios."""
    by = {}
    for r in results:
        if "mpps" in r and r["mpps"]:
            by.setdefault((r["size"], r.get("ports", 2), r["inflight"], r["round"]),
                          {})[r["system"]] = r["mpps"]
    ratios = {}
    for (size, ports, inf, _rnd), m in by.items():
        for s, v in m.items():
            if s != "vsw" and "vsw" in m:
                ratios.setdefault((size, ports, inf, s), []).append(m["vsw"] / v)
    return ratio_rows(ratios, ("size", "ports", "inflight", "system"))


def ratio_rows(ratios, names):
    """{key tuple: [per-round ratios]} as rows: the key's fields by name,
    rounds, median, min and max."""
    return [dict(zip(names, k), rounds=len(v), ratio_median=statistics.median(v),
                 ratio_min=min(v), ratio_max=max(v)) for k, v in sorted(ratios.items())]


def port_scaling(results, field="mpps", inverse=False):
    """Each system's aggregate with N ports over its aggregate with the
    fewest ports, round by round (same size and in-flight count): the
    many-ports target compares these. One row per (size, in flight,
    system, ports). field="cycles_per_packet", inverse=True: the switch
    core's capacity instead (its cycles per frame with the fewest ports
    over those with N), which the generator cannot cap."""
    by = {}
    for r in results:
        if r.get(field):
            by.setdefault((r["size"], r["inflight"], r["system"], r["round"]),
                          {})[r.get("ports", 2)] = r[field]
    ratios = {}
    for (size, inf, s, _rnd), m in by.items():
        base = min(m)
        for n, v in m.items():
            if n != base:
                ratios.setdefault((size, inf, s, n, base), []).append(
                    m[base] / v if inverse else v / m[base])
    return ratio_rows(ratios, ("size", "inflight", "system", "ports", "base_ports"))


def markdown(rows, meta, sweep=(), pairs=(), scaling=(), capacity=()):
    out = [f"# vhost-user loopback benchmark, {meta['date']}", "",
           f"Machine: {meta['machine']}; {meta['rounds']} alternating rounds of "
           f"{meta['seconds']} s; in flight (bursts of 32 per port, `tx_first N`): "
           f"{meta['inflight']}, the best median of each system is shown.", "",
           f"Command: `{meta['command']}`", "",
           "| size | ports | system | in flight | Mpps median (min-max) | Gbit/s | "
           "switch cycles/pkt | switch busy % | generator busy % | vsw vs it (Mpps) |",
           "| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['size']} | {r['ports']} | {r['system']} | {r['inflight']} | "
                   f"{r['mpps_median']:.2f} "
                   f"({r['mpps_min']:.2f}-{r['mpps_max']:.2f}) | {r['gbps_median']:.1f} | "
                   f"{fmt(r['cycles_per_packet_median'], '.0f')} | "
                   f"{fmt(r['switch_busy_pct_median'], '.0f')} | "
                   f"{fmt(r['gen_busy_pct_median'], '.0f')} | "
                   f"{fmt(r.get('vsw_ratio'), '.2f')} |")
    if len({r["inflight"] for r in sweep}) > 1:
        out += ["", "In-flight sweep (median Mpps):", "",
                "| size | ports | system | in flight | Mpps median (min-max) | cycles/pkt |",
                "| ---: | ---: | --- | ---: | --- | ---: |"]
        for r in sweep:
            out.append(f"| {r['size']} | {r['ports']} | {r['system']} | {r['inflight']} | "
                       f"{r['mpps_median']:.2f} ({r['mpps_min']:.2f}-{r['mpps_max']:.2f}) | "
                       f"{fmt(r['cycles_per_packet_median'], '.0f')} |")
    out += ratio_table("Paired ratios: vsw's Mpps over the other system's in the same round "
                       "(median, min-max over rounds):", pairs,
                       (("size", "size"), ("ports", "ports"), ("in flight", "inflight"),
                        ("vsw / system", "system")))
    out += ratio_table("Port scaling: a system's aggregate Mpps with N ports over its own with "
                       "the fewest, in the same round (median, min-max over rounds):", scaling,
                       (("size", "size"), ("in flight", "inflight"), ("system", "system"),
                        ("ports", "ports"), ("/ ports", "base_ports")))
    out += ratio_table("Switch capacity scaling: a system's switch-core cycles per frame with the "
                       "fewest ports over those with N, in the same round (what the switch could "
                       "carry, whether or not the generator kept it busy):", capacity,
                       (("size", "size"), ("in flight", "inflight"), ("system", "system"),
                        ("ports", "ports"), ("/ ports", "base_ports")))
    for s in meta["skipped"]:
        out.append(f"\nSkipped {s['system']}: {s['why']}")
    return "\n".join(out) + "\n"


def ratio_table(title, rows, cols):
    """Markdown lines for ratio_rows() output: the key columns (header,
    field), then the ratio and the number of rounds. Nothing when empty."""
    if not rows:
        return []
    out = ["", title, "", "| " + " | ".join(h for h, _ in cols) +
           " | ratio median (min-max) | rounds |",
           "|" + "".join(" --- |" if f == "system" else " ---: |" for _, f in cols) +
           " --- | ---: |"]
    for r in rows:
        out.append("| " + " | ".join(str(r[f]) for _, f in cols) +
                   f" | {r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | "
                   f"{r['rounds']} |")
    return out


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sizes = sorted({(r["size"], r["ports"]) for r in rows})
    systems = sorted({r["system"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4))
    w = 0.8 / max(1, len(systems))
    for i, s in enumerate(systems):
        ys = [next((r["mpps_median"] for r in rows if r["system"] == s and
                    (r["size"], r["ports"]) == z), 0) for z in sizes]
        ax.bar([x + i * w for x in range(len(sizes))], ys, w, label=s)
    ax.set_xticks([x + w * (len(systems) - 1) / 2 for x in range(len(sizes))])
    ax.set_xticklabels([f"{z} B" if p == 2 else f"{z} B, {p} ports" for z, p in sizes])
    ax.set_ylabel("Mpps (median)")
    ax.set_title("vhost-user loopback, one switch core")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return True


def write_report(out, name, lines, skipped, results):
    """name.md (the table, then what was skipped) and name.json; exit status."""
    for sk in skipped:
        lines.append(f"\nSkipped {sk['system']}: {sk['why']}")
    text = "\n".join(lines) + "\n"
    (out / f"{name}.md").write_text(text)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))
    log(text)
    log(f"results in {out}")
    return 0 if all("error" not in r for r in results) else 1


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
    return write_report(out, "macscale", lines, skipped, results)


def macgen(socks, gen_server, size, seconds, rate=0, macs=2, settle=1.0):
    """One vsw-macgen run on the first two sockets; its JSON result."""
    sfx = ",server=1" if gen_server else ""
    r = subprocess.run([str(MACGEN), f"--lcores=0@{GEN_CPU}", "--no-pci", "--in-memory",
                        "--single-file-segments", "-m", "512", "--log-level=error",
                        f"--vdev=net_virtio_user0,path={socks[0]}{sfx}",
                        f"--vdev=net_virtio_user1,path={socks[1]}{sfx}", "--",
                        f"--macs={macs}", f"--size={size}", f"--seconds={seconds}",
                        f"--rate={int(rate)}", "--learn-pps=100000", f"--settle={settle}",
                        "--drain=0.5"], capture_output=True, text=True, timeout=300)
    line = [x for x in r.stdout.splitlines() if x.startswith("{")]
    if not line:
        return {"error": "vsw-macgen failed: " + r.stderr[-300:]}
    return json.loads(line[-1])


def run_zeroloss(system, size, seconds, workdir, steps):
    """Binary search of the highest offered rate with no frame lost."""
    run = Path(tempfile.mkdtemp(prefix=f"{system.name}-z-", dir=workdir))
    socks, gen_server = start_or_stop(system, run)
    res = {"system": system.name, "size": size}
    try:
        time.sleep(3 if gen_server else 0.5)
        top = macgen(socks, gen_server, size, seconds)
        if "error" in top:
            res["error"] = top["error"]
            return res
        res["open_loop_mpps"] = top["rx_mpps"]
        lo, hi, best = 0.0, top["rx_mpps"] * 1e6 * 1.1, None
        trials = []
        for _ in range(steps):
            mid = (lo + hi) / 2
            r = macgen(socks, gen_server, size, seconds, rate=mid, settle=0.5)
            trials.append({"rate_mpps": mid / 1e6, "lost": r.get("lost"),
                           "rx_mpps": r.get("rx_mpps")})
            if r.get("lost") == 0 and r.get("misdelivered") == 0:
                lo, best = mid, r
            else:
                hi = mid
        res["trials"] = trials
        res["zero_loss_mpps"] = lo / 1e6
        if best:
            for k in ("lat_min_us", "lat_median_us", "lat_p99_us", "lat_max_us"):
                res[k] = best[k]
        low = macgen(socks, gen_server, size, seconds, rate=100000, settle=0.5)
        for k in ("lat_min_us", "lat_median_us", "lat_p99_us", "lat_max_us"):
            res["low_" + k] = low.get(k)
    finally:
        system.stop()
        shutil.rmtree(run, ignore_errors=True)
    return res


def zeroloss_main(a, systems, skipped, out, work):
    if not MACGEN.exists():
        sys.exit(f"{MACGEN} not built (ninja -C build)")
    sizes = [int(x) for x in a.sizes.split(",")]
    results = []
    for rnd in range(a.rounds):
        for size in sizes:
            for s in systems:
                r = run_zeroloss(s, size, a.seconds, work, steps=8)
                r["round"] = rnd
                results.append(r)
                log(f"round {rnd} size {size} {s.name:8s} zero-loss "
                    f"{r.get('zero_loss_mpps', 0):.2f} Mpps (open loop "
                    f"{r.get('open_loop_mpps', 0):.2f}) latency median/p99 "
                    f"{fmt(r.get('lat_median_us'), '.1f')}/{fmt(r.get('lat_p99_us'), '.1f')} us "
                    f"{r.get('error', '')}")
    shutil.rmtree(work, ignore_errors=True)
    lines = [f"# Zero-loss throughput and latency, "
             f"{datetime.datetime.now().isoformat(timespec='seconds')}", "",
             f"RFC 2544-style binary search (8 trials of {a.seconds} s) on the rate vsw-macgen "
             "offers (both directions together, paced by TSC); a trial passes when every frame "
             "came back (after a 0.5 s drain). Latency is the generator's round trip (send TSC in "
             "the frame, read on return: generator tx ring, switch, generator rx poll), at the "
             "zero-loss rate and at 0.1 Mpps. Medians over rounds.", "",
             "| size | system | zero-loss Mpps (min-max) | open loop Mpps | latency at zero-loss "
             "min / median / p99 us | at 0.1 Mpps min / median / p99 us |",
             "| ---: | --- | --- | ---: | --- | --- |"]

    def med(rs, k):
        v = [r[k] for r in rs if r.get(k) is not None]
        return statistics.median(v) if v else None
    for size in sizes:
        for s in systems:
            rs = [r for r in results if r["system"] == s.name and r["size"] == size and
                  "zero_loss_mpps" in r]
            if not rs:
                continue
            z = [r["zero_loss_mpps"] for r in rs]
            lines.append(
                f"| {size} | {s.name} | {statistics.median(z):.2f} ({min(z):.2f}-{max(z):.2f}) | "
                f"{fmt(med(rs, 'open_loop_mpps'), '.2f')} | "
                f"{fmt(med(rs, 'lat_min_us'), '.1f')} / {fmt(med(rs, 'lat_median_us'), '.1f')} / "
                f"{fmt(med(rs, 'lat_p99_us'), '.1f')} | "
                f"{fmt(med(rs, 'low_lat_min_us'), '.1f')} / "
                f"{fmt(med(rs, 'low_lat_median_us'), '.1f')} / "
                f"{fmt(med(rs, 'low_lat_p99_us'), '.1f')} |")
    return write_report(out, "zeroloss", lines, skipped, results)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_main(a, out, work):
    """vswd's CPU use with nothing to do, and what the back-off costs."""
    if not MACGEN.exists():
        sys.exit(f"{MACGEN} not built (ninja -C build)")
    rows = []
    for label, extra in (("poll (default)", ()), ("--pmd-sleep-max 500", ("--pmd-sleep-max",
                                                                          "500"))):
        v = Vsw()
        v.extra = extra
        run = Path(tempfile.mkdtemp(prefix="vsw-idle-", dir=work))
        socks, _ = start_or_stop(v, run)
        try:
            time.sleep(2)
            # Two guests attached but silent (testpmd with virtio-user
            # ports, not forwarding): what an idle hypervisor host has.
            guests = Testpmd([f"--lcores=0@{GEN_CPU}", "--no-pci", "--in-memory",
                              "--single-file-segments", "-m", "512"] +
                             [f"--vdev=net_virtio_user{i},path={socks[i]}" for i in range(2)] +
                             ["--", "-i"], run / "guests.log")
            try:
                time.sleep(4)
                c0, t0 = cpu_seconds(v.p.pid), time.time()
                time.sleep(a.seconds)
                idle_pct = 100 * (cpu_seconds(v.p.pid) - c0) / (time.time() - t0)
            finally:
                guests.stop()
            top = macgen(socks, False, 64, a.seconds)
            low = macgen(socks, False, 64, a.seconds, rate=10000, settle=0.5)
            rows.append({"mode": label, "idle_cpu_pct": idle_pct, "mpps": top.get("rx_mpps"),
                         "lat_median_us": low.get("lat_median_us"),
                         "lat_p99_us": low.get("lat_p99_us"), "lat_max_us": low.get("lat_max_us")})
            log(rows[-1])
        finally:
            v.stop()
            shutil.rmtree(run, ignore_errors=True)
    lines = ["# Idle CPU and back-off", "",
             f"vswd with two vhost-user ports whose guests (testpmd virtio-user) are attached "
             f"but silent, for {a.seconds} s: CPU time of the whole process (main thread and "
             "PMD) / wall time. Then open-loop 64-byte "
             "throughput, and latency at 10 kpps (frames arrive about 100 us apart, so a "
             "backed-off PMD is asleep when most arrive).", "",
             "| PMD mode | idle CPU % (of one core) | 64 B Mpps | latency at 10 kpps median / p99 "
             "/ max us |", "| --- | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['idle_cpu_pct']:.1f} | {fmt(r['mpps'], '.2f')} | "
                     f"{fmt(r['lat_median_us'], '.1f')} / {fmt(r['lat_p99_us'], '.1f')} / "
                     f"{fmt(r['lat_max_us'], '.1f')} |")
    text = "\n".join(lines) + "\n"
    (out / "idle.md").write_text(text)
    (out / "idle.json").write_text(json.dumps(rows, indent=2))
    log(text)
    return 0


def with_ref(a, all_systems):
    """Build the reference commit, then run main() again with it as vsw-ref."""
    with tempfile.TemporaryDirectory() as tmp, \
            RefBuild(a.ref, tmp, ["app/vswd/vswd", "app/vswctl/vswctl"]) as rb:
        all_systems["vsw-ref"] = Vsw(rb.build, "vsw-ref")
        if "vsw-ref" not in a.systems.split(","):
            a.systems = a.systems.replace("vsw", "vsw,vsw-ref", 1)
        a.ref = None
        return run_main(a, all_systems)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", default="vsw,ceiling,ovs")
    ap.add_argument("--sizes", default="64,1518")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--inflight", default="8",
                    help="bursts of 32 frames per port sent by 'start tx_first N'; a comma "
                         "list sweeps them and reports each system's best")
    ap.add_argument("--ports", default="2",
                    help="comma list of vhost-user port counts (pairs), e.g. 2,16,64")
    ap.add_argument("--zero-loss", action="store_true",
                    help="RFC 2544-style zero-loss search with latency (vsw-macgen)")
    ap.add_argument("--idle", action="store_true",
                    help="idle CPU use and wake-up latency of vswd, with and without "
                         "--pmd-sleep-max")
    ap.add_argument("--out", default=None)
    ap.add_argument("--perf", action="store_true",
                    help="profile the switch core with perf (cpu-clock) in each measurement "
                         "window; reports go to the results folder as perf-*.txt")
    ap.add_argument("--ref", metavar="COMMIT",
                    help="also run vswd built from this commit (system vsw-ref) in the same "
                         "rounds: the before/after ratio of a change")
    ap.add_argument("--gen-server", action="store_true",
                    help="the generator's ports are the vhost-user servers and vsw and the "
                         "ceiling connect as clients, as OVS always does here")
    ap.add_argument("--queue-size", type=int, default=0, metavar="N",
                    help="the generator's virtqueue size (default 1024 up to 8 ports, else 256)")
    ap.add_argument("--gen", choices=("testpmd", "vhostgen"), default="testpmd",
                    help="the generator: dpdk-testpmd with net_virtio_user ports (32 at most "
                         "per process), or vsw-vhostgen (any number of ports in one process)")
    ap.add_argument("--gen-fwd", choices=("io", "mac"), default="io",
                    help="vsw-vhostgen's forwarding: io (frames go back unread from the partner "
                         "port) or mac (rewritten like testpmd's mac mode)")
    ap.add_argument("--macs", default=None,
                    help="MAC-scale mode: comma list of MACs per side, e.g. 2,1000,65536,1000000")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py needs root (hugepages, DPDK)")
    if os.cpu_count() < 2:
        sys.exit("bench.py needs 2 CPUs")
    global GEN_SERVER, QUEUE_SIZE, GEN, GEN_FWD
    GEN_SERVER = a.gen_server
    QUEUE_SIZE = a.queue_size
    GEN, GEN_FWD = a.gen, a.gen_fwd
    if GEN == "vhostgen" and not VHOSTGEN.exists():
        sys.exit(f"{VHOSTGEN} not built (run config/setup.sh)")
    all_systems = {"vsw": Vsw(), "ceiling": Ceiling(), "ovs": Ovs(),
                   "vsw-rte": Vsw(name="vsw-rte")}
    # The same vswd with rte_vhost's dequeue/enqueue instead of its own walk
    # of the guests' virtqueues (the default since the ninth session).
    all_systems["vsw-rte"].extra = ("--vhost-walk", "rte")
    # The walk copying every frame in and out of an mbuf (before the tenth
    # session's copy-once).
    all_systems["vsw-2copy"] = Vsw(name="vsw-2copy")
    all_systems["vsw-2copy"].extra = ("--vhost-copy", "twice")
    if a.ref:
        return with_ref(a, all_systems)
    return run_main(a, all_systems)


def run_main(a, all_systems):
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
    if a.perf:
        if not shutil.which("perf"):
            sys.exit("--perf needs perf (apt install linux-perf)")
        global PERF_OUT
        PERF_OUT = out
    work = Path(tempfile.mkdtemp(prefix="vswbench-"))
    if a.macs:
        return macscale_main(a, systems, skipped, out, work)
    if a.zero_loss:
        return zeroloss_main(a, systems, skipped, out, work)
    if a.idle:
        return idle_main(a, out, work)
    results = []
    inflights = [int(x) for x in a.inflight.split(",")]
    ports = [int(x) for x in a.ports.split(",")]
    for rnd in range(a.rounds):
        for size in sizes:
            for np_ in ports:
                for inf in inflights:
                    for s in systems:
                        if np_ > GEN_MAX_PORTS and isinstance(s, Ceiling):
                            # testpmd's vhost-user ports are net_vhost ethdevs
                            # (vsw and OVS register theirs with rte_vhost).
                            why = (f"{s.name} cannot have {np_} vhost-user ports: one ethdev "
                                   f"each, and this DPDK has {GEN_MAX_PORTS} "
                                   f"(RTE_MAX_ETHPORTS)")
                            if rnd == 0 and inf == inflights[0] and size == sizes[0]:
                                log(f"SKIP {why}")
                                skipped.append({"system": s.name, "ports": np_, "why": why})
                            continue
                        r = run_one(s, size, a.seconds, inf, work, np_)
                        r["round"] = rnd
                        results.append(r)
                        log(f"round {rnd} size {size:5d} ports {np_:3d} in-flight {inf:3d} "
                            f"{s.name:8s} {r.get('mpps', 0):6.2f} Mpps  cycles/pkt "
                            f"{fmt(r.get('cycles_per_packet'), '.0f')}  busy switch "
                            f"{fmt(r.get('switch_busy_pct'), '.0f')}% gen "
                            f"{fmt(r.get('gen_busy_pct'), '.0f')}%"
                            + (f"  burst {r['mean_burst']:.1f}" if r.get("mean_burst") else "")
                            + (f"  port share {r['port_share_min']:.2f}-{r['port_share_max']:.2f}"
                               if r.get("port_share_min") is not None else "")
                            + f"  {r.get('error', '')}")
    shutil.rmtree(work, ignore_errors=True)
    rows, sweep = summarize(results, [s.name for s in systems], sizes)
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} CPUs, {os.uname().release}",
            "rounds": a.rounds, "seconds": a.seconds, "inflight": a.inflight,
            "command": " ".join(["dts/perf/bench.py"] + sys.argv[1:]), "skipped": skipped}
    pairs = paired(results)
    scaling = port_scaling(results)
    capacity = port_scaling(results, "cycles_per_packet", inverse=True)
    (out / "results.json").write_text(json.dumps({"meta": meta, "runs": results,
                                                  "summary": rows, "sweep": sweep,
                                                  "paired": pairs, "port_scaling": scaling,
                                                  "port_capacity": capacity},
                                                 indent=2))
    (out / "results.md").write_text(markdown(rows, meta, sweep, pairs, scaling, capacity))
    plot(rows, out / "results.png")
    log(markdown(rows, meta, sweep, pairs, scaling, capacity))
    log(f"results in {out}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
