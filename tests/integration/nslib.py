# SPDX-License-Identifier: BSD-3-Clause
"""Linux network namespaces as hosts on vsw uplinks.

* Netns    - a namespace made here (name vswns-<pid>-<n>), deleted by
             cleanup(); run()/popen() run commands inside it.
* veth_into(ns, ...) - a veth pair: one end (with an address) inside the
             namespace, the other left in the root namespace for vsw
             (net_af_packet iface=...).
* iperf3 helpers that return parsed JSON results.

Offloads are switched off on every interface made here (tx checksum, TSO,
GSO, GRO): a frame that crosses a user-space switch through AF_PACKET has
no one to finish a partial checksum or split a 64 KB GSO frame.
Only namespaces and interfaces created here are ever deleted.
"""
import json
import os
import re
import shutil
import subprocess
import time

import vswlib

_made = []
# iputils ping where installed, else busybox's (busybox-static is needed by
# the guest image anyway)
PING = ["ping"] if shutil.which("ping") else ["busybox", "ping"]


def sh(*cmd, check=True, timeout=30):
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("`%s` failed (%d): %s" % (" ".join(map(str, cmd)), r.returncode,
                                                        r.stderr.strip()))
    return r


def ifname(tag):
    """A short unique interface name (IFNAMSIZ 15)."""
    return "%s%d_%d" % (tag, os.getpid() % 10000, vswlib.uniq())


def no_offloads(dev, ns=None):
    assert shutil.which("ethtool"), "ethtool missing (apt-get install ethtool)"
    pre = ["ip", "netns", "exec", ns] if ns else []
    sh(*(pre + ["ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off"]),
       check=False)


class Netns:
    def __init__(self, tag="vswns"):
        self.name = "%s-%d-%d" % (tag, os.getpid(), vswlib.uniq())
        sh("ip", "netns", "add", self.name)
        _made.append(self)
        self.procs = []
        self.root_links = []       # root-namespace links made for it (bridges)
        self.run("ip", "link", "set", "lo", "up")
        self.run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", check=False)

    def run(self, *cmd, check=True, timeout=60):
        return sh("ip", "netns", "exec", self.name, *cmd, check=check, timeout=timeout)

    def popen(self, *cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.name] + [str(c) for c in cmd],
                             stdout=kw.pop("stdout", subprocess.DEVNULL),
                             stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(p)
        return p

    def adopt(self, dev, addr, mtu=None):
        """Move an existing interface in here, give it `addr` and bring it up."""
        sh("ip", "link", "set", dev, "netns", self.name)
        if mtu:
            self.run("ip", "link", "set", dev, "mtu", mtu)
        self.run("ip", "addr", "add", addr, "dev", dev)
        self.run("ip", "link", "set", dev, "up")
        no_offloads(dev, self.name)

    def ping(self, dst, count=5, interval=0.2, size=None, timeout=None):
        """(received, rtt_avg_ms) of a ping from inside the namespace."""
        cmd = PING + ["-c", count, "-i", interval, "-W", 2]
        if size:
            cmd += ["-s", size]
        r = self.run(*(cmd + [dst]), check=False, timeout=timeout or count * interval + 20)
        m = re.search(r"(\d+) (?:packets )?received", r.stdout)
        rx = int(m.group(1)) if m else 0
        m = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
        return rx, (float(m.group(1)) if m else None)

    def iperf3_server(self, port=5201):
        p = self.popen("iperf3", "-s", "-p", port)
        time.sleep(0.3)
        return p

    def iperf3(self, server, seconds=3, udp=False, bitrate=None, length=None, port=5201,
               reverse=False):
        cmd = ["iperf3", "-c", server, "-p", port, "-t", seconds, "-J"]
        if udp:
            cmd += ["-u", "-b", bitrate or "0"]
        if length:
            cmd += ["-l", length]
        if reverse:
            cmd += ["-R"]
        for attempt in range(6):
            r = self.run(*cmd, check=False, timeout=seconds + 30)
            try:
                j = json.loads(r.stdout)
            except ValueError:
                raise AssertionError("iperf3 in %s printed no JSON (rc %d): %s %s"
                                     % (self.name, r.returncode, r.stdout[-500:], r.stderr[-500:]))
            # a server still closing the previous test refuses or is busy
            if "error" in j and attempt < 5 and ("refused" in j["error"] or "busy" in j["error"]):
                time.sleep(1)
                continue
            break
        if "error" in j:
            raise AssertionError("iperf3 in %s: %s" % (self.name, j["error"]))
        return parse_iperf3(j, udp)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        self.procs = []
        sh("ip", "netns", "del", self.name, check=False)
        for link in self.root_links:
            sh("ip", "link", "del", link, check=False)
        self.root_links = []


def parse_iperf3(j, udp):
    end = j["end"]
    if udp:
        s = end["sum"]
        got = s["packets"] - s["lost_packets"]
        secs = s.get("seconds") or 1
        return {"bits_per_second": s["bits_per_second"] * (got / s["packets"] if s["packets"] else 0),
                "packets": s["packets"], "lost": s["lost_packets"], "received": got,
                "pps": got / secs, "lost_percent": s.get("lost_percent", 0.0)}
    r = end["sum_received"]
    return {"bits_per_second": r["bits_per_second"], "bytes": r["bytes"],
            "retransmits": end.get("sum_sent", {}).get("retransmits", 0)}


def veth_into(ns, addr, mtu=None):
    """A veth pair: the far end inside `ns` with `addr`; returns the name of
    the end left in the root namespace (up, no offloads, no IPv6)."""
    host, far = ifname("vh"), ifname("vn")
    sh("ip", "link", "add", host, "type", "veth", "peer", "name", far)
    vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % host, 1)
    if mtu:
        sh("ip", "link", "set", host, "mtu", mtu)
    sh("ip", "link", "set", host, "up")
    no_offloads(host)
    ns.adopt(far, addr, mtu)
    return host


def bridge_tap_into(ns, tap, addr, mtu=None):
    """Connect an existing root-namespace interface (a tap that vsw's
    net_tap created) to namespace `ns`: a Linux bridge made here joins the
    tap and the root end of a veth pair whose far end is in `ns` with
    `addr`. (The tap itself cannot move into the namespace: net_tap keeps
    configuring it by name in the namespace it was created in, and sees
    its link down once it has gone.) Returns the bridge's name; the
    namespace's cleanup() deletes the bridge."""
    br = ifname("vb")
    sh("ip", "link", "add", br, "type", "bridge", "forward_delay", "0", "stp_state", "0")
    ns.root_links.append(br)
    vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % br, 1)
    vswlib.sysctl_set("net.ipv6.conf.%s.disable_ipv6" % tap, 1)
    host = veth_into(ns, addr, mtu)
    for dev in (tap, host):
        if mtu:
            sh("ip", "link", "set", dev, "mtu", mtu)
        sh("ip", "link", "set", dev, "master", br)
        sh("ip", "link", "set", dev, "up")
        no_offloads(dev)
    sh("ip", "link", "set", br, "up")
    return br


def cleanup_all():
    """Delete every namespace made here (veths inside die with them; the
    root-namespace ends of the pairs go with their peers) and the bridges."""
    while _made:
        _made.pop().cleanup()
