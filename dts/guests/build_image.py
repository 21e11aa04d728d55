#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build the small Linux guest used by the guest suites, from Debian packages.

Output (default build/guests/, or --out / $VSW_GUEST_DIR):
  vmlinuz        the kernel of a Debian linux-image-*-amd64 package
  initrd.gz      an initramfs assembled here: busybox-static, iproute2's
                 `ip`, iperf3, ethtool, their shared libraries (found with
                 ldd), the NIC modules of the same kernel package and their
                 dependencies, and /init (dts/guests/guest-init.sh)
  image.json     what went in (kernel version, packages, modules, sizes)

Where things come from:
  * kernel + modules: `apt-get download linux-image-<ver>-amd64` (the
    version the linux-image-amd64 metapackage points at, unless
    --kernel-pkg names one), extracted with dpkg-deb into the cache.
    Nothing is installed on the host for it.
  * busybox: /bin/busybox of the installed busybox-static package, else the
    package fetched with apt-get download and extracted.
  * ip, iperf3, ethtool: the host's installed Debian binaries (packages
    iproute2, iperf3, ethtool) and the libraries ldd lists for them.

A second run reuses the cache (the .deb, the extracted tree) and only
rewrites the initramfs when an input changed. The cpio (newc) archive is
written here in Python: no cpio binary is needed.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# one cache for every build flavour (build/, build-asan/, ...)
DEFAULT_OUT = Path(os.environ.get("VSW_GUEST_DIR", ROOT / "build" / "guests"))

# NIC drivers the suites use: virtio-net (vhost-user, vhost-net, QEMU
# userspace) and the emulated models of the seed comparison.
# (QEMU's rtl8139 is an RTL8139C+, which 8139too leaves to 8139cp)
MODULES = ["virtio_pci", "virtio_net", "e1000", "8139cp", "8139too", "ne2k-pci", "pcnet32"]
# host binaries copied with their libraries: (path candidates, required)
BINARIES = [(["/usr/sbin/ip", "/sbin/ip", "/bin/ip"], True),
            (["/usr/bin/iperf3"], True),
            (["/usr/sbin/ethtool", "/sbin/ethtool"], False)]
APT_PKGS = {"/usr/bin/iperf3": "iperf3", "/usr/sbin/ethtool": "ethtool"}


def log(*a):
    print("build_image:", *a, flush=True)


def sh(*cmd, cwd=None, capture=True):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True)
    if r.returncode != 0:
        raise SystemExit("build_image: `%s` failed (%d): %s"
                         % (" ".join(cmd), r.returncode, (r.stderr or "").strip()[-600:]))
    return r.stdout if capture else ""


# ----------------------------------------------------------------- packages

def kernel_package(name=None):
    """The versioned linux-image package: given, or the metapackage's target."""
    if name:
        return name
    out = sh("apt-cache", "depends", "linux-image-amd64")
    if "linux-image-" not in out.replace("linux-image-amd64", ""):
        log("apt-get update (no package lists yet)")
        sh("apt-get", "update", "-qq")
        out = sh("apt-cache", "depends", "linux-image-amd64")
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split()[1]
    raise SystemExit("build_image: cannot resolve linux-image-amd64 (run apt-get update)")


def fetch_deb(pkg, cache):
    """apt-get download PKG into cache/debs (once); return the .deb path."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(pkg + "_*.deb"))
    if found:
        return found[-1]
    log("apt-get download", pkg)
    r = subprocess.run(["apt-get", "download", pkg], cwd=debs, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        log("apt-get download failed, apt-get update and again")
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
        r = subprocess.run(["apt-get", "download", pkg], cwd=debs, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    found = sorted(debs.glob(pkg + "_*.deb"))
    if r.returncode != 0 or not found:
        raise SystemExit("build_image: apt-get download %s failed: %s" % (pkg, r.stderr.strip()[-400:]))
    return found[-1]


def extract_deb(deb, dest, only=None):
    """Extract a .deb once (a stamp file marks a complete extraction):
    everything (dpkg-deb -x), or only the members matching the `only`
    wildcards (dpkg-deb --fsys-tarfile | tar --wildcards)."""
    stamp = dest / ".extracted"
    tag = deb.name + (" " + " ".join(only) if only else "")
    if stamp.exists() and stamp.read_text() == tag:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    log("extract", deb.name, "(%s)" % ("part" if only else "all"))
    if only:
        tar = subprocess.Popen(["tar", "-x", "-C", str(dest), "--wildcards"] + list(only),
                               stdin=subprocess.PIPE)
        fs = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=tar.stdin)
        tar.stdin.close()
        if tar.wait() != 0 or fs.returncode != 0:
            raise SystemExit("build_image: cannot extract %s" % deb.name)
    else:
        sh("dpkg-deb", "-x", str(deb), str(dest))
    stamp.write_text(tag)
    return dest


# the parts of a linux-image package the guest needs (NIC drivers and what
# they depend on); a dependency elsewhere is reported by resolve_modules()
KERNEL_PARTS = ["./boot/vmlinuz-*", "./lib/modules/*/modules.builtin*",
                "./lib/modules/*/modules.order", "./lib/modules/*/kernel/drivers/net/*",
                "./lib/modules/*/kernel/drivers/virtio/*", "./lib/modules/*/kernel/net/*"]


# ----------------------------------------------------------------- modules

def module_index(moddir):
    """{normalized module name: path} of every .ko under moddir/kernel."""
    idx = {}
    for dirpath, _dirs, files in os.walk(moddir / "kernel"):
        for f in files:
            for ext in (".ko", ".ko.xz", ".ko.zst"):
                if f.endswith(ext):
                    idx[f[:-len(ext)].replace("-", "_")] = Path(dirpath) / f
    return idx


def builtin_modules(moddir):
    names = set()
    p = moddir / "modules.builtin"
    if p.exists():
        for line in p.read_text().splitlines():
            names.add(os.path.basename(line).split(".ko")[0].replace("-", "_"))
    return names


def module_deps(path):
    """The module's own `depends=` line, read from its .modinfo strings
    (NUL-separated key=value) without modinfo: kmod may not be installed."""
    m = re.search(rb"(?:^|\x00)depends=([^\x00]*)\x00", read_module(path))
    out = m.group(1).decode() if m else ""
    return [d.replace("-", "_") for d in out.split(",") if d]


def resolve_modules(moddir, wanted):
    """Load order (dependencies first) of the wanted modules; built-in ones
    are left out."""
    idx = module_index(moddir)
    builtin = builtin_modules(moddir)
    order, seen = [], set()

    def visit(name, chain):
        name = name.replace("-", "_")
        if name in seen or name in builtin:
            return
        if name not in idx:
            raise SystemExit("build_image: module %s (needed by %s) not in %s"
                             % (name, " <- ".join(chain) or "request", moddir))
        seen.add(name)
        for d in module_deps(idx[name]):
            visit(d, chain + [name])
        order.append((name, idx[name]))
    for w in wanted:
        visit(w, [])
    return order


def read_module(path):
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        import lzma
        data = lzma.decompress(data)
    elif path.name.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", str(path)], stdout=subprocess.PIPE, check=True).stdout
    return data


# ----------------------------------------------------------------- libraries

def ldd_libs(binary):
    """Absolute paths of the shared libraries (and the loader) of a binary."""
    r = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if "not a dynamic executable" in (r.stdout + r.stderr):
        return []
    libs = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if "=>" in parts:
            i = parts.index("=>")
            if i + 1 < len(parts) and parts[i + 1].startswith("/"):
                libs.append(parts[i + 1])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


# ----------------------------------------------------------------- cpio newc

class Cpio:
    """A newc ("070701") archive writer: directories, files, symlinks, nodes."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1000
        self.names = set()

    def _hdr(self, name, mode, size, rdev=(0, 0), nlink=1):
        self.ino += 1
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name_b), 0]
        h = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.buf.write(h + name_b)
        self._pad()

    def _pad(self):
        n = self.buf.tell() % 4
        if n:
            self.buf.write(b"\0" * (4 - n))

    def dir(self, name):
        name = name.strip("/")
        parts = name.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.names:
                self.names.add(p)
                self._hdr(p, stat.S_IFDIR | 0o755, 0, nlink=2)

    def file(self, name, data, mode=0o644):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        if name in self.names:
            return
        self.names.add(name)
        self._hdr(name, stat.S_IFREG | mode, len(data))
        self.buf.write(data)
        self._pad()

    def symlink(self, name, target):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        if name in self.names:
            return
        self.names.add(name)
        t = target.encode()
        self._hdr(name, stat.S_IFLNK | 0o777, len(t))
        self.buf.write(t)
        self._pad()

    def node(self, name, mode, major, minor):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        self.names.add(name)
        self._hdr(name, mode, 0, rdev=(major, minor))

    def host_file(self, path, as_name=None):
        """Copy a host file (following symlinks), keeping the symlink name too."""
        real = os.path.realpath(path)
        st = os.stat(real)
        with open(real, "rb") as f:
            self.file(as_name or real, f.read(), stat.S_IMODE(st.st_mode))
        if as_name is None and os.path.abspath(path) != real:
            self.symlink(path, real)

    def finish(self):
        self._hdr("TRAILER!!!", 0, 0)
        n = self.buf.tell() % 512
        if n:
            self.buf.write(b"\0" * (512 - n))
        return self.buf.getvalue()


# ----------------------------------------------------------------- build

def find_busybox(cache):
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p) and "not a dynamic executable" in subprocess.run(
                ["ldd", p], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout:
            return p, "busybox-static (installed)"
    deb = fetch_deb("busybox-static", cache)
    tree = extract_deb(deb, cache / "busybox-static")
    return str(tree / "bin/busybox"), deb.name


def build(out, kernel_pkg=None, force=False):
    t0 = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    kpkg = kernel_package(kernel_pkg)
    kdeb = fetch_deb(kpkg, out)
    ktree = extract_deb(kdeb, out / "kernel", KERNEL_PARTS)
    kver = kpkg[len("linux-image-"):]
    moddir = ktree / "lib/modules" / kver
    vmlinuz_src = ktree / "boot" / ("vmlinuz-" + kver)
    if not vmlinuz_src.exists():
        raise SystemExit("build_image: %s has no %s" % (kdeb.name, vmlinuz_src.name))

    busybox, bb_src = find_busybox(out)
    bins = []
    for cands, required in BINARIES:
        p = next((c for c in cands if os.path.exists(c)), None)
        if p is None:
            if required:
                raise SystemExit("build_image: none of %s (apt-get install %s)"
                                 % (cands, APT_PKGS.get(cands[0], "iproute2")))
            continue
        bins.append(p)
    init_src = HERE / "guest-init.sh"
    modules = resolve_modules(moddir, MODULES)

    # inputs digest: rebuild the initramfs only when one changed
    h = hashlib.sha256()
    for p in [busybox, str(init_src), str(vmlinuz_src)] + bins + [str(m) for _n, m in modules]:
        st = os.stat(p)
        h.update(("%s:%d:%d\n" % (p, st.st_size, int(st.st_mtime))).encode())
    h.update(__file__.encode() + str(os.stat(__file__).st_mtime).encode())
    digest = h.hexdigest()[:16]
    meta_path = out / "image.json"
    initrd = out / "initrd.gz"
    vmlinuz = out / "vmlinuz"
    if not force and meta_path.exists() and initrd.exists() and vmlinuz.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:
            meta = {}
        if meta.get("digest") == digest:
            log("up to date (%s), %.1fs" % (out, time.monotonic() - t0))
            return meta

    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run",
              "etc", "root", "lib/modules/" + kver):
        c.dir(d)
    c.node("dev/console", stat.S_IFCHR | 0o600, 5, 1)
    c.node("dev/null", stat.S_IFCHR | 0o666, 1, 3)
    c.host_file(busybox, "bin/busybox")
    applets = subprocess.run([busybox, "--list-full"], stdout=subprocess.PIPE,
                             text=True).stdout.split()
    bin_names = {os.path.basename(b) for b in bins}
    for a in applets:
        if os.path.basename(a) in bin_names:
            continue              # the real binary wins over the applet
        c.symlink(a, "/bin/busybox")
    libs = set()
    for b in bins:
        c.host_file(b, "usr/bin/" + os.path.basename(b))
        libs.update(ldd_libs(b))
    for lib in sorted(libs):
        c.host_file(lib)                       # real path + the name ldd printed
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\n")
    c.file("etc/hosts", b"127.0.0.1 localhost\n")
    order = []
    for name, path in modules:
        rel = "lib/modules/%s/%s.ko" % (kver, name)
        c.file(rel, read_module(path))
        order.append(name)
    c.file("etc/modules.order", ("\n".join(order) + "\n").encode())
    c.file("init", init_src.read_bytes(), 0o755)
    data = gzip.compress(c.finish(), compresslevel=6)
    tmp = initrd.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, initrd)
    shutil.copyfile(vmlinuz_src, vmlinuz)
    meta = {
        "digest": digest, "kernel_package": kdeb.name, "kernel_version": kver,
        "busybox": bb_src, "binaries": bins, "libraries": sorted(libs),
        "modules": order, "initrd_bytes": len(data),
        "vmlinuz_bytes": vmlinuz.stat().st_size,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    log("built %s: kernel %s, initrd %.1f MB, modules %s, %.1fs"
        % (out, kver, len(data) / 1e6, ",".join(order), time.monotonic() - t0))
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache/output folder")
    ap.add_argument("--kernel-pkg", help="e.g. linux-image-6.1.0-56-amd64")
    ap.add_argument("--force", action="store_true", help="rebuild the initramfs")
    a = ap.parse_args()
    meta = build(a.out, a.kernel_pkg, a.force)
    print(json.dumps({k: meta[k] for k in ("kernel_version", "modules", "initrd_bytes")}))


if __name__ == "__main__":
    sys.exit(main())
