# SPDX-License-Identifier: BSD-3-Clause
"""QEMU guests for the vsw guest suites.

* accel()        - "kvm" where the CPU has vmx/svm and /dev/kvm opens, else
                   "tcg" (software emulation); $VSW_GUEST_ACCEL overrides.
* image()        - build (or reuse) the guest image (build_image.py).
* VhostUserNic / TapNic / MacvtapNic - how a guest's NIC is attached.
* Guest          - one qemu-system-x86_64: kernel + initramfs, console on
                   ttyS0 written to a file (the `VSWRESULT key=value` lines),
                   a command agent on ttyS1 over a unix socket (run()),
                   iperf3 helpers.

Only processes started here are killed, by PID. Addresses are in
198.18.0.0/15 (reserved for benchmarking, RFC 2544) on links that exist
only inside this machine.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build_image  # noqa: E402

QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
LIVE = []          # every Guest that started a process, for cleanup_all()


def accel():
    forced = os.environ.get("VSW_GUEST_ACCEL")
    if forced:
        return forced
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        flags = ""
    if re.search(r"\b(vmx|svm)\b", flags) and os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "kvm"
    return "tcg"


def accel_note():
    a = accel()
    if a == "tcg":
        return ("accel=tcg: no usable hardware virtualization here (no vmx/svm CPU flag), "
                "guests run under QEMU software emulation; guest throughput is bounded by "
                "TCG, not by the switch")
    return "accel=kvm"


_image_lock = threading.Lock()
_image = None


def image():
    """The guest image (vmlinuz, initrd.gz), built on first use, cached."""
    global _image
    with _image_lock:
        if _image is None:
            out = build_image.DEFAULT_OUT
            meta = build_image.build(out)
            _image = {"vmlinuz": str(out / "vmlinuz"), "initrd": str(out / "initrd.gz"),
                      "meta": meta}
        return _image


def qemu_available():
    return os.access(QEMU, os.X_OK)


def assert_qemu():
    assert qemu_available(), ("qemu-system-x86_64 missing (%s): apt-get install qemu-system-x86"
                              % QEMU)


def _virtio_dev(mac, extra=""):
    dev = "virtio-net-pci,netdev=n0,mac=%s,rx_queue_size=1024,tx_queue_size=1024" % mac
    if accel() == "tcg":
        dev += ",vectors=0"      # QEMU 7.2 + TCG + vhost + MSI-X segfaults
    return dev + extra


class VhostUserNic:
    """virtio-net-pci on -netdev vhost-user. server=False: QEMU connects to
    vswd's socket (vsw port type=vhost-user); server=True: QEMU listens
    (vsw port type=vhost-user-client)."""
    shared_mem = True

    def __init__(self, sock, server=False, queues=1):
        self.sock = str(sock)
        self.server = server
        self.queues = queues

    def args(self, mac):
        ch = "socket,id=c0,path=%s" % self.sock
        ch += ",server=on,wait=off" if self.server else ",reconnect=1"
        nd = "vhost-user,id=n0,chardev=c0"
        extra = ""
        if self.queues > 1:
            nd += ",queues=%d" % self.queues
            extra = ",mq=on"
            if accel() != "tcg":
                extra += ",vectors=%d" % (2 * self.queues + 2)
        return ["-chardev", ch, "-netdev", nd, "-device", _virtio_dev(mac, extra)]

    def prepare(self):
        if self.server and os.path.exists(self.sock):
            os.unlink(self.sock)      # a killed QEMU leaves its socket behind


class TapNic:
    """A kernel tap (created by QEMU, ifname given) with a NIC model:
    virtio-net-pci with QEMU's userspace backend (vhost=False) or vhost-net
    (vhost=True), or an emulated model (e1000, rtl8139, ne2k_pci, pcnet)."""
    shared_mem = False

    def __init__(self, ifname, model="virtio-net-pci", vhost=False):
        self.ifname = ifname
        self.model = model
        self.vhost = vhost

    def args(self, mac):
        nd = "tap,id=n0,ifname=%s,script=no,downscript=no" % self.ifname
        nd += ",vhost=on" if self.vhost else ",vhost=off"
        if self.model == "virtio-net-pci":
            dev = _virtio_dev(mac)
        else:
            dev = "%s,netdev=n0,mac=%s" % (self.model, mac)
        return ["-netdev", nd, "-device", dev]

    def prepare(self):
        pass


class MacvtapNic:
    """virtio-net-pci with vhost-net on an existing macvtap interface (the
    /dev/tapN character device and /dev/vhost-net passed as open fds). The
    guest MAC must be the macvtap's address."""
    shared_mem = False

    def __init__(self, ifname, vhost=True):
        self.ifname = ifname
        self.vhost = vhost
        self.fds = []

    def prepare(self):
        idx = int(Path("/sys/class/net/%s/ifindex" % self.ifname).read_text())
        self.fds = [os.open("/dev/tap%d" % idx, os.O_RDWR)]
        if self.vhost:
            self.fds.append(os.open("/dev/vhost-net", os.O_RDWR))

    def args(self, mac):
        nd = "tap,id=n0,fd=%d" % self.fds[0]
        if self.vhost:
            nd += ",vhost=on,vhostfd=%d" % self.fds[1]
        return ["-netdev", nd, "-device", _virtio_dev(mac)]

    def close(self):
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []


class Guest:
    """One QEMU guest booting the suite's kernel + initramfs."""

    def __init__(self, workdir, name, nic, ip, mac, mem=256, smp=1, role=None,
                 queues=None, mtu=None, hugepages=None, peer=None, count=None):
        self.dir = Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.nic = nic
        self.ip = ip                          # "198.18.0.1/24"
        self.addr = ip.split("/")[0]
        self.mac = mac
        self.mem = mem
        self.smp = smp
        self.role = role
        self.queues = queues
        self.mtu = mtu
        self.peer = peer              # vsw.role=ping: whom to ping at boot
        self.count = count
        # None: hugepages when /dev/hugepages has room, else memfd
        self.hugepages = hugepages if hugepages is not None else hugepages_free_mb() >= mem + 64
        self.console = self.dir / "console.log"
        self.agent_path = self.dir / "agent.sock"
        self.qlog = self.dir / "qemu.log"
        self.proc = None
        self.sock = None
        self.lines = []
        self.cond = threading.Condition()
        self.reader = None
        self.seq = 0
        self.t_start = None
        self.boot_s = None

    # -- command line
    def cmdline(self):
        img = image()
        append = ["console=ttyS0", "quiet", "loglevel=3", "panic=-1",
                  "vsw.name=%s" % self.name, "vsw.ip=%s" % self.ip]
        if self.role:
            append.append("vsw.role=%s" % self.role)
        if self.queues:
            append.append("vsw.queues=%d" % self.queues)
        if self.mtu:
            append.append("vsw.mtu=%d" % self.mtu)
        if self.peer:
            append.append("vsw.peer=%s" % self.peer)
        if self.count:
            append.append("vsw.count=%d" % self.count)
        cmd = [QEMU, "-name", self.name, "-accel", accel(), "-smp", str(self.smp),
               "-m", "%dM" % self.mem, "-nodefaults", "-no-user-config", "-display", "none",
               "-kernel", img["vmlinuz"], "-initrd", img["initrd"],
               "-append", " ".join(append),
               "-serial", "file:%s" % self.console,
               "-chardev", "socket,id=agent,path=%s,server=on,wait=off" % self.agent_path,
               "-serial", "chardev:agent"]
        if self.nic.shared_mem:
            if self.hugepages:
                cmd += ["-object", "memory-backend-file,id=mem,size=%dM,mem-path=/dev/hugepages,"
                        "share=on" % self.mem]
            else:
                cmd += ["-object", "memory-backend-memfd,id=mem,size=%dM,share=on" % self.mem]
            cmd += ["-numa", "node,memdev=mem"]
        cmd += self.nic.args(self.mac)
        return cmd

    # -- life cycle
    def start(self):
        assert_qemu()
        self.nic.prepare()
        for p in (self.console, self.agent_path):
            if p.exists():
                p.unlink()
        self.lines = []
        self.qlogf = open(self.qlog, "a")
        fds = tuple(getattr(self.nic, "fds", ()))
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(self.cmdline(), stdin=subprocess.DEVNULL, stdout=self.qlogf,
                                     stderr=subprocess.STDOUT, pass_fds=fds,
                                     restore_signals=False)
        if hasattr(self.nic, "close"):
            self.nic.close()        # QEMU holds its own copies now
        LIVE.append(self)
        self._connect_agent()
        return self

    def _connect_agent(self, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("qemu %s exited %d at start:\n%s"
                                     % (self.name, self.proc.returncode, self.qemu_log()))
            if self.agent_path.exists():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(str(self.agent_path))
                    break
                except OSError:
                    s.close()
            if time.monotonic() > deadline:
                raise AssertionError("qemu %s: no agent socket after %ds" % (self.name, timeout))
            time.sleep(0.02)
        self.sock = s
        self.reader = threading.Thread(target=self._read, args=(s,), daemon=True)
        self.reader.start()

    def _read(self, s):
        buf = b""
        while True:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                with self.cond:
                    self.lines.append(None)   # EOF marker
                    self.cond.notify_all()
                return
            buf += d
            *full, buf = buf.split(b"\n")
            if full:
                with self.cond:
                    self.lines += [x.decode(errors="replace").rstrip("\r") for x in full]
                    self.cond.notify_all()

    def nic_desc(self):
        return " ".join(a for a in self.nic.args(self.mac) if not a.startswith("-"))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def qemu_log(self):
        try:
            return self.qlog.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def console_text(self):
        try:
            return self.console.read_text(errors="replace")
        except OSError:
            return ""

    def results(self, event=None):
        """Parsed VSWRESULT lines of the console, optionally one event only.
        Whole lines only: the guest may be half-way through writing the
        last one (a ready line read as "mac=52:54:00:" failed a CI run)."""
        out = []
        text = self.console_text()
        for line in text[:text.rfind("\n") + 1].splitlines():
            i = line.find("VSWRESULT ")
            if i < 0:
                continue
            kv = dict(w.split("=", 1) for w in line[i + 10:].split() if "=" in w)
            if event is None or kv.get("event") == event:
                out.append(kv)
        return out

    def wait_ready(self, timeout=120, boots=1):
        """Wait for the `boots`-th event=ready on the console and the agent's
        hello; returns the ready record. Sets boot_s (wall clock from start
        or from the previous call's reference)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.results("ready")
            if len(r) >= boots:
                break
            if len(self.results("nonic")) >= boots:
                raise AssertionError("guest %s found no NIC (%s):\n%s"
                                     % (self.name, self.nic_desc(), self.console_text()))
            if not self.alive():
                raise AssertionError("qemu %s died while booting (rc %s):\n%s\nconsole:\n%s"
                                     % (self.name, self.proc and self.proc.returncode,
                                        self.qemu_log(), self.console_text()[-2000:]))
            if time.monotonic() > deadline:
                raise AssertionError("guest %s not ready after %ds; console:\n%s"
                                     % (self.name, timeout, self.console_text()[-3000:]))
            time.sleep(0.05)
        self.boot_s = time.monotonic() - self.t_start
        self._wait_agent(boots, max(5, deadline - time.monotonic()))
        return r[boots - 1]

    def _wait_agent(self, boots, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while sum(1 for x in self.lines if x and x.endswith("VSWAGENT ready")) < boots:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("guest %s: agent did not start; agent lines %r"
                                         % (self.name, self.lines[-10:]))
                self.cond.wait(min(left, 0.5))

    def run(self, cmd, timeout=60, check=False):
        """Run a shell command in the guest; returns (rc, output)."""
        assert "\n" not in cmd
        self.seq += 1
        sid = "c%d" % self.seq
        with self.cond:
            start = len(self.lines)
        self.sock.sendall(("%s %s\n" % (sid, cmd)).encode())
        deadline = time.monotonic() + timeout
        done = "VSWDONE %s rc=" % sid
        with self.cond:
            while True:
                rc = None
                for x in self.lines[start:]:
                    if x is None:
                        raise AssertionError("guest %s: agent connection closed" % self.name)
                    if x.startswith(done):
                        rc = int(x[len(done):])
                if rc is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("guest %s: `%s` did not finish in %ds"
                                         % (self.name, cmd, timeout))
                self.cond.wait(min(left, 0.5))
            pre = "VSWOUT %s " % sid
            out = "\n".join(x[len(pre):] for x in self.lines[start:]
                            if x is not None and x.startswith(pre))
        if check and rc != 0:
            raise AssertionError("guest %s: `%s` exited %d:\n%s" % (self.name, cmd, rc, out))
        return rc, out

    # -- traffic helpers
    def ping(self, peer, count=5, interval=0.2, timeout=None):
        """Ping from the guest; returns (received, rtt_avg_ms or None)."""
        rc, out = self.run("ping -c %d -i %s -W 2 %s" % (count, interval, peer),
                           timeout=timeout or (count * interval + 30))
        m = re.search(r"(\d+) packets received", out)
        rx = int(m.group(1)) if m else 0
        m = re.search(r"= [\d.]+/([\d.]+)/", out)
        return rx, (float(m.group(1)) if m else None)

    def iperf3(self, server, seconds=5, udp=False, length=None, port=5201, bitrate=None,
               reverse=False, extra=""):
        """iperf3 client in the guest against `server`; returns a dict with
        bits_per_second (receiver side), and for UDP packets/lost/pps."""
        cmd = "iperf3 -c %s -p %d -t %d -J" % (server, port, seconds)
        if udp:
            cmd += " -u -b %s" % (bitrate or "0")
        if length:
            cmd += " -l %d" % length
        if reverse:
            cmd += " -R"
        if extra:
            cmd += " " + extra
        for attempt in range(6):
            rc, out = self.run(cmd, timeout=seconds + 60)
            try:
                j = json.loads(out)
            except ValueError:
                raise AssertionError("guest %s: iperf3 printed no JSON (rc %d):\n%s"
                                     % (self.name, rc, out[-2000:]))
            # a server still closing the previous test refuses or is busy
            if "error" in j and attempt < 5 and ("refused" in j["error"] or "busy" in j["error"]):
                time.sleep(1)
                continue
            break
        if "error" in j:
            raise AssertionError("guest %s: iperf3 error: %s" % (self.name, j["error"]))
        end = j["end"]
        if udp:
            s = end["sum"]
            secs = s.get("seconds") or seconds
            got = s["packets"] - s["lost_packets"]
            return {"bits_per_second": s["bits_per_second"] * (got / s["packets"] if s["packets"] else 0),
                    "sent_bps": s["bits_per_second"], "packets": s["packets"],
                    "lost": s["lost_packets"], "received": got, "pps": got / secs,
                    "lost_percent": s.get("lost_percent", 0.0), "seconds": secs}
        r = end["sum_received"]
        return {"bits_per_second": r["bits_per_second"], "bytes": r["bytes"],
                "seconds": r["seconds"],
                "retransmits": end.get("sum_sent", {}).get("retransmits", 0)}

    def reboot(self):
        """`reboot -f` in the guest (QEMU resets the machine and boots the
        same kernel again); wait_ready(boots=n+1) waits for it."""
        self.seq += 1
        self.t_start = time.monotonic()
        self.sock.sendall(("c%d reboot -f\n" % self.seq).encode())

    def stop(self, timeout=10):
        """Kill QEMU (SIGTERM, then SIGKILL) and close the agent."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    try:
                        # a loaded 2-core host can take a while to reap it
                        self.proc.wait(60)
                    except subprocess.TimeoutExpired:
                        print("guestlib: qemu %s (pid %d) still there 60 s after SIGKILL"
                              % (self.name, self.proc.pid), file=sys.stderr)
            self.proc = None
            self.qlogf.close()
        if isinstance(self.nic, VhostUserNic) and self.nic.server and os.path.exists(self.nic.sock):
            os.unlink(self.nic.sock)

    def kill(self):
        """SIGKILL (a crashing VM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(60)
        self.stop()


def hugepages_free_mb():
    """MB free in the 2 MB hugepage pool mounted on /dev/hugepages (0 if none)."""
    if not os.path.ismount("/dev/hugepages"):
        return 0
    free = size_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
            elif line.startswith("Hugepagesize:"):
                size_kb = int(line.split()[1])
    return free * size_kb // 1024


def cleanup_all():
    for g in LIVE:
        try:
            g.stop(5)
        except Exception:  # noqa: BLE001
            pass


def host_cpu_sample():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def host_cpu_percent(a, b):
    """Busy share of the whole machine between two samples, in percent of
    all CPUs (200 % would be both cores of a 2-core machine busy)."""
    busy, total = b[0] - a[0], b[1] - a[1]
    return 100.0 * os.cpu_count() * busy / total if total else 0.0
