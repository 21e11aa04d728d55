#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The seeds' virtual-NIC comparison, reproduced on this machine.

The same VM-to-VM test for every way of giving a KVM/QEMU guest a NIC:
two guests (the suite's Debian kernel + initramfs, see build_image.py), one
running iperf3 servers, the other measuring

  * TCP Gbit/s        iperf3 -t SECONDS (receiver side)
  * UDP Mpps, 64 B    iperf3 -u -b 0 -l 64 (datagrams received per second)
  * ping RTT          average of 10 pings
  * host CPU          busy share of the whole machine during the TCP run
                      (100 % = one core), and the two QEMU processes' share

Rows (a row whose peer is missing on this machine is skipped with the
reason; nothing is ever estimated in its place):

  e1000, rtl8139, ne2k_pci, pcnet   emulated NICs, tap on a Linux bridge
  virtio-user        virtio-net, QEMU's userspace backend, tap on a Linux bridge
  vhost-net          virtio-net + vhost-net (tap vhost=on), Linux bridge
  macvtap-vhost      virtio-net + vhost-net on macvtap (bridge mode, veth lower)
  macvtap-user       virtio-net, QEMU userspace backend on the same macvtap setup
  vsw                virtio-net, vhost-user, vsw (one PMD, QEMU server / vsw client)
  vsw-sleep          the same with --pmd-sleep-max 100 (an idle PMD backs off)
  ovs-dpdk           virtio-net, vhost-user, OVS-DPDK 3.1 (one PMD, dpdkvhostuserclient)
  ovs-dpdk-sleep     the same with other_config:pmd-maxsleep=100 (OVS's PMD back-off)

PCI passthrough and SR-IOV VF rows cannot be measured without such
hardware: they are listed with the published figures of the seed material.

Rows are run in rounds (all rows, then all rows again...) and the median
per row is reported. Output: docs/seed-comparison.md, .png and .json
(--out-doc), raw results also in build/guests/seed-compare.json.

Usage: dts/guests/seed_compare.py [--rows e1000,vsw,...] [--rounds 1]
                                  [--seconds 8] [--out-doc docs/seed-comparison]
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import guestlib  # noqa: E402
from guestlib import Guest, MacvtapNic, TapNic, VhostUserNic  # noqa: E402
import vswlib  # noqa: E402

OVS_DPDK = Path("/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk")
IP_S, IP_C = "198.18.0.1", "198.18.0.2"
MAC_S, MAC_C = "52:54:00:76:73:a1", "52:54:00:76:73:a2"
BOOT_TIMEOUT = 240

# Published figures quoted by the seed material (the issue text).
PUBLISHED = {
    "e1000": "~11 MB/s (0.088 Gbit/s) on a 100 Mbit/s link, same as rtl8139/pcnet",
    "rtl8139": "~11 MB/s (0.088 Gbit/s) on a 100 Mbit/s link",
    "ne2k_pci": "6.6 MB/s (0.053 Gbit/s) on a 100 Mbit/s link",
    "pcnet": "~11 MB/s on a 100 Mbit/s link, unstable",
    "virtio-user": "614 Mbit/s (virtio without vhost-net)",
    "vhost-net": "2.3 Gbit/s (virtio with vhost-net)",
    "macvtap-vhost": "(no separate figure; vhost-net path as above)",
    "macvtap-user": "",
    "vsw": "",
    "vsw-sleep": "",
    "ovs-dpdk": "",
    "ovs-dpdk-sleep": "",
    "sriov-vf": "2.13 Gbit/s (SR-IOV VF passed through)",
    "passthrough": "near native (no figure given in the seed material)",
}

ROWS = {
    "e1000": "e1000 (emulated), tap on a Linux bridge",
    "rtl8139": "rtl8139 (emulated), tap on a Linux bridge",
    "ne2k_pci": "ne2k_pci (emulated), tap on a Linux bridge",
    "pcnet": "pcnet (emulated), tap on a Linux bridge",
    "virtio-user": "virtio-net, QEMU userspace backend, tap on a Linux bridge",
    "vhost-net": "virtio-net + vhost-net, tap on a Linux bridge",
    "macvtap-vhost": "virtio-net + vhost-net, macvtap bridge mode (veth lower)",
    "macvtap-user": "virtio-net, QEMU userspace backend, macvtap bridge mode (veth lower)",
    "vsw": "virtio-net, vhost-user, vsw (1 PMD)",
    "vsw-sleep": "virtio-net, vhost-user, vsw (1 PMD, --pmd-sleep-max 100)",
    "ovs-dpdk": "virtio-net, vhost-user, OVS-DPDK 3.1 (1 PMD)",
    "ovs-dpdk-sleep": "virtio-net, vhost-user, OVS-DPDK 3.1 (1 PMD, pmd-maxsleep=100)",
}
NOT_MEASURABLE = {
    "passthrough": "PCI passthrough (VFIO) of a physical NIC",
    "sriov-vf": "SR-IOV VF passed through (VFIO)",
}
EMULATED = ("e1000", "rtl8139", "ne2k_pci", "pcnet")


def log(*a):
    print(*a, flush=True)


def sh(*cmd, check=True, env=None):
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env)
    if check and r.returncode != 0:
        raise RuntimeError("`%s` failed: %s" % (" ".join(map(str, cmd)), r.stderr.strip()))
    return r


_n = [0]


def ifname(tag):
    _n[0] += 1
    return "%s%d%d" % (tag, os.getpid() % 10000, _n[0])


def qemu_models():
    out = subprocess.run([guestlib.QEMU, "-device", "help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    return set(re.findall(r'name "([^"]+)"', out))


def proc_cpu(pid):
    """utime + stime (clock ticks) of a process and its threads."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])
    except OSError:
        return 0


# ----------------------------------------------------------------- backends

class Backend:
    """Sets up the network between the two guests; nics() gives their NICs."""
    switch_pid = None

    def available(self):
        return True, ""

    def setup(self, work):
        pass

    def attach(self, guests):
        """Called once both QEMUs run (e.g. to enslave the taps QEMU made)."""

    def teardown(self):
        pass


class Bridge(Backend):
    """A Linux bridge made here; QEMU creates each tap (ifname=), which is
    then enslaved."""

    def __init__(self, model="virtio-net-pci", vhost=False):
        self.model = model
        self.vhost = vhost
        self.br = None
        self.taps = []

    def available(self):
        if self.model != "virtio-net-pci" and self.model not in qemu_models():
            return False, "QEMU has no %s device model" % self.model
        if self.vhost and not os.path.exists("/dev/vhost-net"):
            return False, ("no /dev/vhost-net: this host kernel is built without "
                           "CONFIG_VHOST_NET (vhost-net cannot run here)")
        return True, ""

    def setup(self, work):
        self.br = ifname("vsbr")
        sh("ip", "link", "add", self.br, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % self.br, 1)
        sh("ip", "link", "set", self.br, "up")
        self.taps = [ifname("vstp"), ifname("vstp")]
        return [TapNic(t, model=self.model, vhost=self.vhost) for t in self.taps]

    def attach(self, guests):
        for t in self.taps:
            vswlib.wait_for(lambda: os.path.exists("/sys/class/net/" + t), 20, what="tap " + t)
            vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % t, 1)
            sh("ip", "link", "set", t, "master", self.br)
            sh("ip", "link", "set", t, "up")

    def teardown(self):
        if self.br:
            sh("ip", "link", "del", self.br, check=False)
            self.br = None


class Macvtap(Backend):
    """Two macvtap interfaces in bridge mode on one veth lower device (the
    host kernel here has no dummy driver); frames between them are switched
    by macvlan's bridge mode."""

    def __init__(self, vhost):
        self.vhost = vhost
        self.links = []

    def available(self):
        if self.vhost and not os.path.exists("/dev/vhost-net"):
            return False, ("no /dev/vhost-net: this host kernel is built without "
                           "CONFIG_VHOST_NET (vhost-net cannot run here)")
        lo, pe, mv = ifname("vsml"), ifname("vsmp"), ifname("vsmv")
        try:
            sh("ip", "link", "add", lo, "type", "veth", "peer", "name", pe)
            r = sh("ip", "link", "add", "link", lo, "name", mv, "type", "macvtap", "mode",
                   "bridge", check=False)
            if r.returncode != 0:
                return False, "macvtap unavailable: %s" % r.stderr.strip()
            return True, ""
        finally:
            sh("ip", "link", "del", lo, check=False)

    def setup(self, work):
        lo, pe = ifname("vsml"), ifname("vsmp")
        sh("ip", "link", "add", lo, "type", "veth", "peer", "name", pe)
        self.links.append(lo)
        for d in (lo, pe):
            vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % d, 1)
            sh("ip", "link", "set", d, "up")
        nics = []
        for mac in (MAC_S, MAC_C):
            mv = ifname("vsmv")
            sh("ip", "link", "add", "link", lo, "name", mv, "address", mac, "type", "macvtap",
               "mode", "bridge")
            vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % mv, 1)
            sh("ip", "link", "set", mv, "up")
            nics.append(MacvtapNic(mv, vhost=self.vhost))
        return nics

    def teardown(self):
        for link in self.links:
            sh("ip", "link", "del", link, check=False)   # its macvtaps go with it
        self.links = []


class Vsw(Backend):
    """vswd (one PMD on CPU 1, always polling like OVS-DPDK's PMD, or with
    --pmd-sleep-max) with two vhost-user-client ports; QEMU listens."""

    def __init__(self, sleep_max=0):
        self.sleep_max = sleep_max

    def available(self):
        ok = os.access(vswlib.VSWD, os.X_OK) and os.access(vswlib.VSWCTL, os.X_OK)
        return ok, "" if ok else "vswd/vswctl not built (meson setup build && ninja -C build)"

    def setup(self, work):
        extra = ["--pmd-sleep-max", str(self.sleep_max)] if self.sleep_max else []
        self.d = vswlib.Vswd(work / "vswd", prefix="vswseed-%d" % os.getpid(), extra=extra)
        self.d.start()
        self.switch_pid = self.d.proc.pid
        nics = []
        for i in range(2):
            sock = str(work / ("vsw%d.sock" % i))
            self.d.ctl("add-port", "br0", "vm%d" % i, "type=vhost-user-client", "path=" + sock)
            nics.append(VhostUserNic(sock, server=True))
        return nics

    def attach(self, guests):
        for i in range(2):
            self.d.wait_port_state("vm%d" % i, "up", 60)

    def teardown(self):
        try:
            self.d.stop()
        finally:
            self.d.cleanup()


class Ovs(Backend):
    """A private OVS-DPDK (its own db, run dir and --file-prefix): netdev
    bridge, two dpdkvhostuserclient ports, NORMAL action, one PMD on CPU 1,
    always polling or with pmd-maxsleep (µs)."""

    def __init__(self, sleep_max=0):
        self.sleep_max = sleep_max

    def available(self):
        ok = OVS_DPDK.exists() and shutil.which("ovsdb-tool") and shutil.which("ovs-vsctl")
        return bool(ok), "" if ok else "OVS-DPDK not installed (openvswitch-switch-dpdk)"

    def _sh(self, *a, check=True):
        env = dict(os.environ, OVS_RUNDIR=str(self.run), OVS_LOGDIR=str(self.run),
                   OVS_DBDIR=str(self.run), OVS_SYSCONFDIR=str(self.run))
        return sh(*a, check=check, env=env)

    def setup(self, work):
        self.run = work / "ovs"
        self.run.mkdir(parents=True, exist_ok=True)
        self.prefix = "vswseed-ovs-%d" % os.getpid()
        db, sock = self.run / "conf.db", self.run / "db.sock"
        self._sh("ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema")
        self.dbp = subprocess.Popen(["ovsdb-server", str(db), "--remote=punix:%s" % sock,
                                     "--pidfile=%s/ovsdb.pid" % self.run,
                                     "--unixctl=%s/ovsdb.ctl" % self.run,
                                     "--log-file=%s/ovsdb.log" % self.run],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vswlib.wait_for(lambda: sock.exists(), 10, what="ovsdb socket")
        vsctl = ["ovs-vsctl", "--db=unix:%s" % sock, "--no-wait"]
        self._sh(*vsctl, "init")
        self._sh(*vsctl, "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                 "other_config:dpdk-lcore-mask=0x1", "other_config:pmd-cpu-mask=0x2",
                 "other_config:dpdk-socket-mem=256",
                 'other_config:dpdk-extra="--file-prefix=%s --no-pci"' % self.prefix,
                 *(["other_config:pmd-maxsleep=%d" % self.sleep_max] if self.sleep_max else []))
        self.vsp = subprocess.Popen([str(OVS_DPDK), "unix:%s" % sock,
                                     "--pidfile=%s/vswitchd.pid" % self.run,
                                     "--unixctl=%s/vswitchd.ctl" % self.run,
                                     "--log-file=%s/vswitchd.log" % self.run],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.switch_pid = self.vsp.pid
        vsctl = ["ovs-vsctl", "--db=unix:%s" % sock, "--timeout=60"]
        self._sh(*vsctl, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        nics = []
        for i in range(2):
            path = self.run / ("o%d.sock" % i)
            self._sh(*vsctl, "add-port", "br0", "vhu%d" % i, "--", "set", "Interface",
                     "vhu%d" % i, "type=dpdkvhostuserclient",
                     "options:vhost-server-path=%s" % path)
            nics.append(VhostUserNic(str(path), server=True))
        self._sh("ovs-ofctl", "mod-port", "br0", "br0", "no-flood", check=False)
        return nics

    def attach(self, guests):
        if self.sleep_max:
            log_path = self.run / "vswitchd.log"

            def said():
                text = log_path.read_text(errors="replace") if log_path.exists() else ""
                return [l for l in text.splitlines() if "max sleep" in l.lower()]
            try:
                lines = vswlib.wait_for(said, 10, 0.2, "OVS pmd-maxsleep in its log")
                self.note = lines[-1].split("|")[-1].strip()
            except AssertionError:
                self.note = "OVS did not confirm pmd-maxsleep in its log"

    def teardown(self):
        for p in (getattr(self, "vsp", None), getattr(self, "dbp", None)):
            if p is None:
                continue
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        vswlib.cleanup_prefix(self.prefix)


def backend(row):
    if row in EMULATED:
        return Bridge(model=row)
    return {"virtio-user": lambda: Bridge(vhost=False),
            "vhost-net": lambda: Bridge(vhost=True),
            "macvtap-vhost": lambda: Macvtap(vhost=True),
            "macvtap-user": lambda: Macvtap(vhost=False),
            "vsw": Vsw, "vsw-sleep": lambda: Vsw(sleep_max=100),
            "ovs-dpdk": Ovs, "ovs-dpdk-sleep": lambda: Ovs(sleep_max=100)}[row]()


# ----------------------------------------------------------------- one run

def measure(row, work, seconds):
    be = backend(row)
    ok, why = be.available()
    if not ok:
        return {"row": row, "skipped": why}
    work.mkdir(parents=True, exist_ok=True)
    gs = []
    res = {"row": row}
    try:
        nics = be.setup(work)
        srv = Guest(work, "srv", nics[0], IP_S + "/24", MAC_S, role="iperf-server")
        cli = Guest(work, "cli", nics[1], IP_C + "/24", MAC_C)
        gs = [srv, cli]
        for g in gs:
            g.start()
        be.attach(gs)
        rs = srv.wait_ready(BOOT_TIMEOUT)
        cli.wait_ready(BOOT_TIMEOUT)
        res["driver"] = rs.get("driver")
        if getattr(be, "note", None):
            res["note"] = be.note
        res["boot_s"] = round(max(srv.boot_s, cli.boot_s), 1)
        rx = 0
        for _ in range(30):
            rx, _rtt = cli.ping(IP_S, count=2, interval=0.2)
            if rx == 2:
                break
        if rx != 2:
            raise AssertionError("guests cannot ping each other")
        rx, rtt = cli.ping(IP_S, count=10, interval=0.1)
        res["rtt_ms"] = rtt
        c0, q0 = guestlib.host_cpu_sample(), sum(proc_cpu(g.proc.pid) for g in gs)
        s0 = proc_cpu(be.switch_pid) if be.switch_pid else 0
        t0 = time.monotonic()
        tcp = cli.iperf3(IP_S, seconds=seconds)
        t1 = time.monotonic()
        c1, q1 = guestlib.host_cpu_sample(), sum(proc_cpu(g.proc.pid) for g in gs)
        s1 = proc_cpu(be.switch_pid) if be.switch_pid else 0
        hz = os.sysconf("SC_CLK_TCK")
        res["tcp_gbps"] = tcp["bits_per_second"] / 1e9
        res["tcp_retransmits"] = tcp["retransmits"]
        res["host_cpu_pct"] = guestlib.host_cpu_percent(c0, c1)
        res["qemu_cpu_pct"] = 100.0 * (q1 - q0) / hz / (t1 - t0)
        res["switch_cpu_pct"] = (100.0 * (s1 - s0) / hz / (t1 - t0)) if be.switch_pid else None
        try:
            udp = cli.iperf3(IP_S, seconds=max(3, seconds // 2), udp=True, length=64)
            res["udp64_mpps"] = udp["pps"] / 1e6
            res["udp64_sent_mpps"] = udp["packets"] / udp["seconds"] / 1e6
            res["udp64_lost_pct"] = udp["lost_percent"]
        except AssertionError as e:     # reported in the table, never filled in
            res["udp_error"] = str(e).splitlines()[0][:200]
    except Exception as e:  # noqa: BLE001 - a failed row is reported, not hidden
        res["error"] = str(e).splitlines()[0][:300]
    finally:
        for g in gs:
            try:
                g.stop()
            except Exception as e:  # noqa: BLE001 - keep going, the row says so
                res.setdefault("error", "stopping %s: %s" % (g.name, e))
        try:
            be.teardown()
        except Exception as e:  # noqa: BLE001
            res.setdefault("error", "teardown: %s" % e)
    return res


# ----------------------------------------------------------------- report

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs, rows):
    out = []
    for row in rows:
        rs = [r for r in runs if r["row"] == row]
        good = [r for r in rs if "tcp_gbps" in r]
        s = {"row": row, "what": ROWS[row], "published": PUBLISHED.get(row, ""),
             "runs": len(good)}
        if not good:
            skip = next((r["skipped"] for r in rs if "skipped" in r), None)
            err = next((r["error"] for r in rs if "error" in r), None)
            s["skipped"] = skip or ("failed: %s" % err if err else "not run")
        else:
            for k in ("tcp_gbps", "udp64_mpps", "rtt_ms", "host_cpu_pct", "qemu_cpu_pct",
                      "switch_cpu_pct", "boot_s", "udp64_lost_pct", "tcp_retransmits"):
                s[k] = med([r.get(k) for r in good])
            s["tcp_range"] = (min(r["tcp_gbps"] for r in good), max(r["tcp_gbps"] for r in good))
            s["driver"] = good[0].get("driver")
            uerr = [r["udp_error"] for r in good if "udp_error" in r]
            if uerr:
                s["udp_failed"] = "%d of %d UDP runs failed: %s" % (len(uerr), len(good), uerr[0])
            notes = sorted({r["note"] for r in good if r.get("note")})
            if notes:
                s["note"] = "; ".join(notes)
            errs = [r["error"] for r in rs if "error" in r]
            if errs:
                s["failed_runs"] = errs
        out.append(s)
    return out


def fmt(v, f="%.3f"):
    return "—" if v is None else f % v


def chart(summary, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [s for s in summary if "tcp_gbps" in s]
    if not rows:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(rows) + 2.2))
    names = [s["row"] for s in rows]
    colors = ["#d62728" if s["row"].startswith("vsw") else
              "#ff7f0e" if s["row"].startswith("ovs-dpdk") else
              "#7f7f7f" if s["row"] in EMULATED else "#1f77b4" for s in rows]
    for ax, key, title in ((axes[0], "tcp_gbps", "TCP, Gbit/s (iperf3, VM to VM)"),
                           (axes[1], "udp64_mpps", "UDP 64 B, Mpps received")):
        vals = [s[key] or 0 for s in rows]
        ax.barh(names, vals, color=colors)
        ax.invert_yaxis()
        ax.set_title(title)
        for i, v in enumerate(vals):
            ax.text(v, i, " %.3f" % v, va="center", fontsize=8)
        ax.set_xlim(0, max(vals) * 1.25 if max(vals) > 0 else 1)
    fig.suptitle("Virtual NICs, two guests on one host — %s (guests emulated in software: "
                 "absolute numbers are low)" % guestlib.accel().upper(), fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True


def qemu_version():
    out = subprocess.run([guestlib.QEMU, "--version"], stdout=subprocess.PIPE, text=True).stdout
    return out.splitlines()[0] if out else "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def write_doc(summary, runs, args, doc, png, took, when=None):
    img = guestlib.image()["meta"]
    lines = []
    w = lines.append
    w("# The seeds' virtual-NIC comparison, reproduced")
    w("")
    w("Generated by `dts/guests/seed_compare.py` on %s (%d round%s, %d s TCP / %d s UDP per row%s). "
      "Do not edit by hand: run the script again."
      % (when or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), args.rounds,
         "" if args.rounds == 1 else "s", args.seconds, max(3, args.seconds // 2),
         ", %.0f min in all" % (took / 60) if took else ""))
    w("")
    w("**Read this first.** %s: every guest here runs under QEMU's software CPU "
      "emulation (TCG), so each guest's virtual CPU, not the NIC path, is the bottleneck of "
      "most rows, "
      "and the absolute numbers are one to two orders of magnitude below what the same "
      "setups do with KVM. What the table can show is the *relative* cost of each NIC path "
      "when the guest CPU is the scarce resource; it is not a switch benchmark (for that see "
      "[performance.md](performance.md)). The machine has 2 cores shared by both guests and "
      "the switch, and other engineers' DPDK tests may run on it at the same time."
      % ("No usable hardware virtualization on this machine (no vmx/svm CPU flag)"
         if guestlib.accel() == "tcg" else "Guests run with KVM"))
    w("")
    w("Setup: two guests (1 vCPU, 256 MB, Debian kernel %s, initramfs built from Debian "
      "packages by `dts/guests/build_image.py`), %s, host CPU %s, host kernel %s. The client "
      "guest runs `iperf3 -c` against the server guest: TCP for %d s (receiver's rate), then "
      "UDP with 64-byte payloads at unlimited rate (`-u -b 0 -l 64`; datagrams *received* "
      "per second). Host CPU is the busy share of the whole machine during the TCP run "
      "(100 %% = one core; the machine has %d); QEMU is the two QEMU processes' share; "
      "switch is vswd's or ovs-vswitchd's (a DPDK PMD polls a core at 100 %% by design). "
      "Figures are medians over the rounds."
      % (img["kernel_version"], qemu_version(), cpu_model(), platform.release(), args.seconds,
         os.cpu_count()))
    w("")
    w("| NIC path | TCP Gbit/s | UDP 64 B Mpps | ping RTT ms | host CPU % | QEMU CPU % "
      "| switch CPU % | published figure (seed material) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for s in summary:
        if "tcp_gbps" in s:
            rng = ""
            if s["runs"] > 1:
                rng = " (%.3f–%.3f)" % s["tcp_range"]
            w("| **%s** — %s | %s%s | %s | %s | %s | %s | %s | %s |"
              % (s["row"], s["what"], fmt(s["tcp_gbps"]), rng, fmt(s["udp64_mpps"], "%.4f"),
                 fmt(s["rtt_ms"], "%.2f"), fmt(s["host_cpu_pct"], "%.0f"),
                 fmt(s["qemu_cpu_pct"], "%.0f"), fmt(s["switch_cpu_pct"], "%.0f"),
                 s["published"] or ""))
        else:
            w("| **%s** — %s | not measured | | | | | | %s |"
              % (s["row"], s["what"], s["published"] or ""))
    for k, what in NOT_MEASURABLE.items():
        w("| **%s** — %s | not measurable here | | | | | | %s |" % (k, what, PUBLISHED[k]))
    w("")
    skipped = [s for s in summary if "tcp_gbps" not in s]
    w("Rows not measured, and why:")
    w("")
    for s in skipped:
        w("* **%s**: %s" % (s["row"], s["skipped"]))
    w("* **passthrough**, **sriov-vf**: no physical NIC, no IOMMU and no SR-IOV device on this "
      "machine; the published figures are those quoted by the seed material (the 2.13 Gbit/s "
      "VF and 2.3 Gbit/s vhost-net figures come from one published virtio vs SR-IOV "
      "comparison on real hardware, the ~11 MB/s and 6.6 MB/s figures from a study of "
      "emulated NICs on a 100 Mbit/s link).")
    w("")
    for s in summary:
        if s.get("note"):
            w("* %s: %s" % (s["row"], s["note"]))
        if s.get("udp_failed"):
            w("* %s: %s" % (s["row"], s["udp_failed"]))
        if s.get("failed_runs"):
            w("* %s: %d run(s) failed: %s" % (s["row"], len(s["failed_runs"]),
                                              "; ".join(s["failed_runs"])))
    w("")
    if png:
        w("![TCP Gbit/s and UDP Mpps per NIC path](%s)" % os.path.basename(png))
        w("")
    w("## What it shows")
    w("")
    w(analysis(summary))
    w("")
    w("## Reproduce")
    w("")
    w("```sh")
    w("meson setup build && ninja -C build")
    w("apt-get install qemu-system-x86 iperf3 busybox-static openvswitch-switch-dpdk "
      "python3-matplotlib")
    w("/usr/bin/python3 dts/guests/build_image.py          # guest kernel + initramfs, cached")
    w("/usr/bin/python3 dts/guests/seed_compare.py --rounds %d --seconds %d"
      % (args.rounds, args.seconds))
    w("/usr/bin/python3 dts/guests/seed_compare.py --rows e1000,vsw   # a subset")
    w("```")
    w("")
    w("Raw results of every run: [seed-comparison.json](seed-comparison.json). Addresses are "
      "198.18.0.1-2/24 (the benchmarking range) on links that exist only inside the machine.")
    Path(doc).write_text("\n".join(lines) + "\n")


def analysis(summary):
    by = {s["row"]: s for s in summary if "tcp_gbps" in s}
    out = []
    em = [by[r] for r in EMULATED if r in by]
    if em:
        out.append("* Emulated NICs: %s Gbit/s TCP. Every register access of these "
                   "models traps into QEMU's device emulation, which is why the seed "
                   "material found them all far behind virtio."
                   % ", ".join("%s %.3f" % (s["row"], s["tcp_gbps"]) for s in em))
    paras = [r for r in ("virtio-user", "vhost-net", "macvtap-user", "macvtap-vhost", "vsw",
                         "vsw-sleep", "ovs-dpdk", "ovs-dpdk-sleep") if r in by]
    if paras:
        out.append("* Paravirtual virtio-net: %s Gbit/s TCP."
                   % ", ".join("%s %.3f" % (r, by[r]["tcp_gbps"]) for r in paras))
    if "vsw" in by and "ovs-dpdk" in by:
        a, b = by["vsw"]["tcp_gbps"], by["ovs-dpdk"]["tcp_gbps"]
        out.append("* vsw vs OVS-DPDK (same vhost-user path, same guests, one PMD each): "
                   "%.3f vs %.3f Gbit/s TCP (%.2fx), %s vs %s Mpps UDP 64 B. Under TCG both "
                   "are limited by the guests, so this is a functional parity check, not a "
                   "switch comparison." % (a, b, a / b if b else 0,
                                           fmt(by["vsw"]["udp64_mpps"], "%.4f"),
                                           fmt(by["ovs-dpdk"]["udp64_mpps"], "%.4f")))
    kern = [r for r in ("virtio-user", "vhost-net", "macvtap-user", "macvtap-vhost") if r in by]
    if "vsw" in by and kern:
        best = max(kern, key=lambda r: by[r]["tcp_gbps"])
        if by[best]["tcp_gbps"] > by["vsw"]["tcp_gbps"]:
            out.append("* %s (%.3f Gbit/s) beats vhost-user on vsw (%.3f) here. The reason is "
                       "the machine, not the path: a DPDK PMD polls, so the switch holds a "
                       "share of the 2 cores (the switch CPU column) that the kernel paths "
                       "leave to the two emulated guests, and under TCG guest CPU is what "
                       "limits every row (compare the vsw-sleep row). How the paths rank "
                       "with KVM guests cannot be measured on this machine; "
                       "[performance.md](performance.md) measures the switch itself."
                       % (best, by[best]["tcp_gbps"], by["vsw"]["tcp_gbps"]))
    if "vsw" in by and "vsw-sleep" in by:
        out.append("* vsw with `--pmd-sleep-max 100` (the PMD naps when its queues are empty): "
                   "%.3f vs %.3f Gbit/s always polling, switch CPU %s %% vs %s %%."
                   % (by["vsw-sleep"]["tcp_gbps"], by["vsw"]["tcp_gbps"],
                      fmt(by["vsw-sleep"]["switch_cpu_pct"], "%.0f"),
                      fmt(by["vsw"]["switch_cpu_pct"], "%.0f")))
    if "ovs-dpdk" in by and "ovs-dpdk-sleep" in by:
        out.append("* OVS-DPDK with `pmd-maxsleep=100`: %.3f vs %.3f Gbit/s always polling."
                   % (by["ovs-dpdk-sleep"]["tcp_gbps"], by["ovs-dpdk"]["tcp_gbps"]))
    if "vsw-sleep" in by and "ovs-dpdk-sleep" in by:
        a, b = by["vsw-sleep"]["tcp_gbps"], by["ovs-dpdk-sleep"]["tcp_gbps"]
        out.append("* Both switches with PMD back-off: vsw %.3f vs OVS-DPDK %.3f Gbit/s TCP "
                   "(%.2fx)." % (a, b, a / b if b else 0))
    if "vsw" in by and em:
        best = max(em, key=lambda s: s["tcp_gbps"])
        if best["tcp_gbps"]:
            out.append("* virtio-net on vsw moves %.1fx the TCP throughput of the best "
                       "emulated NIC (%s) on this machine."
                       % (by["vsw"]["tcp_gbps"] / best["tcp_gbps"], best["row"]))
    out.append("* The seed material's advice holds here too: use virtio-net wherever the "
               "guest has the driver; the emulated models exist for guests that do not.")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=8, help="TCP seconds (UDP: half, >= 3)")
    ap.add_argument("--out-doc", default=str(ROOT / "docs" / "seed-comparison"),
                    help="writes PATH.md, PATH.png, PATH.json")
    ap.add_argument("--render", metavar="JSON",
                    help="only write the doc and chart again from a saved PATH.json")
    args = ap.parse_args()
    if args.render:
        raw = json.loads(Path(args.render).read_text())
        rows = [r for r in ROWS if any(x["row"] == r for x in raw["runs"])]
        args.rounds, args.seconds = raw["rounds"], raw["seconds"]
        summary = summarize(raw["runs"], rows)
        raw["summary"] = summary
        Path(args.out_doc + ".json").write_text(json.dumps(raw, indent=1) + "\n")
        png = args.out_doc + ".png"
        have_png = chart(summary, png)
        write_doc(summary, raw["runs"], args, args.out_doc + ".md", png if have_png else None,
                  raw.get("took_s", 0), when=raw.get("when"))
        log("wrote %s.md from %s" % (args.out_doc, args.render))
        return
    rows = [r for r in args.rows.split(",") if r]
    for r in rows:
        if r not in ROWS:
            ap.error("unknown row %s (rows: %s)" % (r, ",".join(ROWS)))
    assert os.geteuid() == 0, "run as root (taps, bridges, DPDK)"
    guestlib.assert_qemu()
    log(guestlib.accel_note())
    guestlib.image()
    vswlib.sysctl_set("net.ipv6.conf.default.disable_ipv6", 1)
    # SIGTERM unwinds like Ctrl-C: guests, bridges and switches are cleaned up
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    t0 = time.monotonic()
    runs = []
    work = Path(tempfile.mkdtemp(prefix="vsw-seed-"))
    partial = Path(guestlib.image()["initrd"]).parent / "seed-compare-partial.json"
    try:
        for rnd in range(args.rounds):
            for row in rows:
                log("round %d/%d: %s ..." % (rnd + 1, args.rounds, row))
                r = measure(row, work / ("%s-%d" % (row, rnd)), args.seconds)
                r["round"] = rnd
                runs.append(r)
                if "skipped" in r:
                    log("  SKIP %s: %s" % (row, r["skipped"]))
                elif "error" in r:
                    log("  FAILED %s: %s" % (row, r["error"]))
                else:
                    log("  %s: TCP %.3f Gbit/s, UDP64 %s Mpps, rtt %s ms, host CPU %.0f%%, "
                        "boot %.1fs" % (row, r["tcp_gbps"],
                                        fmt(r.get("udp64_mpps"), "%.4f") if "udp_error" not in r
                                        else "FAILED (%s)" % r["udp_error"],
                                        r["rtt_ms"], r["host_cpu_pct"], r["boot_s"]))
                # every run is kept on disk at once: an interrupted session keeps its data
                partial.write_text(json.dumps(runs, indent=1) + "\n")
    finally:
        guestlib.cleanup_all()
        shutil.rmtree(work, ignore_errors=True)
    took = time.monotonic() - t0
    summary = summarize(runs, rows)
    doc = args.out_doc + ".md"
    png = args.out_doc + ".png"
    raw = {"accel": guestlib.accel(), "qemu": qemu_version(), "cpu": cpu_model(),
           "host_kernel": platform.release(), "rounds": args.rounds, "seconds": args.seconds,
           "took_s": took, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "runs": runs, "summary": summary}
    Path(args.out_doc + ".json").write_text(json.dumps(raw, indent=1) + "\n")
    cache = build_dir = Path(guestlib.image()["initrd"]).parent
    (cache / "seed-compare.json").write_text(json.dumps(raw, indent=1) + "\n")
    del build_dir
    have_png = chart(summary, png)
    write_doc(summary, runs, args, doc, png if have_png else None, took)
    log("wrote %s%s (%.0f s)" % (doc, " and " + png if have_png else "", took))
    for s in summary:
        if "tcp_gbps" in s:
            log("  %-14s TCP %.3f Gbit/s  UDP64 %s Mpps" % (s["row"], s["tcp_gbps"],
                                                           fmt(s["udp64_mpps"], "%.4f")))
        else:
            log("  %-14s not measured: %s" % (s["row"], s["skipped"]))


if __name__ == "__main__":
    main()
