# SPDX-License-Identifier: BSD-3-Clause
"""vswctl against a live vswd: bridges, ports, errors and exit codes, --json."""
import json
import os
import re

import pytest

import vswlib
from vswlib import run_vswctl

pytestmark = pytest.mark.timeout(60)


def one_line(stderr):
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, "expected a one-line reason on stderr, got %r" % stderr
    return lines[0]


def refused(d, *args):
    """vswctl ARGS must exit 1 (the daemon refused) with a one-line reason."""
    rc, err = d.ctl_fail(*args)
    assert rc == 1, "vswctl %s: exit %d, expected 1 (stderr %r)" % (" ".join(args), rc, err)
    return one_line(err)


def usage_error(d, *args):
    rc, err = d.ctl_fail(*args)
    assert rc == 2, "vswctl %s: exit %d, expected 2 (stderr %r)" % (" ".join(args), rc, err)
    return err


def null_port(d, bridge, port):
    d.ctl("add-port", bridge, port, "type=dpdk", "devargs=net_ring%d" % vswlib.uniq())


def test_default_config(vswd):
    assert vswd.ctl("list-br") == ["br0"]
    show = vswd.show()
    assert [b["name"] for b in show["bridges"]] == ["br0"]
    assert show["bridges"][0]["ports"] == []
    assert vswd.ctl("list-ports", "br0") == []
    assert "br0" in vswd.log_text(), "vswd should log that it starts with the default bridge"
    v = vswd.ctl("version")
    assert isinstance(v["version"], str) and v["version"]
    assert "22.11" in v["dpdk"]


def test_bridges_add_del_list(vswd):
    assert vswd.ctl("add-br", "br1") == {}
    assert vswd.ctl("add-br", "br2", "aging=10", "max-macs=100", "port-max-macs=5") == {}
    assert sorted(vswd.ctl("list-br")) == ["br0", "br1", "br2"]
    brs = {b["name"]: b for b in vswd.show()["bridges"]}
    assert (brs["br2"]["aging"], brs["br2"]["max_macs"], brs["br2"]["port_max_macs"]) == (10, 100, 5)
    assert brs["br1"]["aging"] == 300
    assert vswd.ctl("set-br", "br2", "aging=20", "port-max-macs=7") == {}
    brs = {b["name"]: b for b in vswd.show()["bridges"]}
    assert (brs["br2"]["aging"], brs["br2"]["max_macs"], brs["br2"]["port_max_macs"]) == (20, 100, 7)
    stats = {s["bridge"]: s for s in vswd.ctl("fdb-stats")}
    assert set(stats) == {"br0", "br1", "br2"}
    assert stats["br2"]["capacity"] == 100

    null_port(vswd, "br1", "n1")
    null_port(vswd, "br1", "n2")
    assert sorted(vswd.ctl("list-ports", "br1")) == ["n1", "n2"]
    assert vswd.ctl("del-br", "br1") == {}
    assert sorted(vswd.ctl("list-br")) == ["br0", "br2"]
    # del-br deletes its ports too
    assert vswd.port_names() == []
    rc, err = vswd.ctl_fail("port-stats", "n1")
    assert rc == 1, (rc, err)
    # the names are free again
    assert vswd.ctl("add-br", "br1") == {}
    null_port(vswd, "br1", "n1")
    assert vswd.ctl("list-ports", "br1") == ["n1"]
    assert vswd.ctl("del-br", "br0") == {}
    assert sorted(vswd.ctl("list-br")) == ["br1", "br2"]


def test_duplicate_bridge(vswd):
    msg = refused(vswd, "add-br", "br0")
    assert "br0" in msg
    vswd.ctl("add-br", "br1")
    refused(vswd, "add-br", "br1")
    assert sorted(vswd.ctl("list-br")) == ["br0", "br1"]


def test_duplicate_port(vswd):
    vswd.ctl("add-br", "br1")
    null_port(vswd, "br0", "p1")
    msg = refused(vswd, "add-port", "br0", "p1", "type=dpdk", "devargs=net_ring%d" % vswlib.uniq())
    assert "p1" in msg
    # port names are global (del-port takes no bridge)
    refused(vswd, "add-port", "br1", "p1", "type=dpdk", "devargs=net_ring%d" % vswlib.uniq())
    refused(vswd, "add-port", "br0", "p1", "type=vhost-user")
    assert vswd.ctl("list-ports", "br0") == ["p1"]
    assert vswd.ctl("list-ports", "br1") == []
    assert vswd.port_names() == ["p1"]


def test_unknown_bridge_and_port(vswd):
    msg = refused(vswd, "add-port", "nobr", "p1", "type=dpdk", "devargs=net_ring%d" % vswlib.uniq())
    assert "nobr" in msg
    refused(vswd, "del-br", "nobr")
    refused(vswd, "set-br", "nobr", "aging=5")
    refused(vswd, "list-ports", "nobr")
    refused(vswd, "fdb-show", "nobr")
    refused(vswd, "fdb-flush", "nobr")
    refused(vswd, "fdb-add", "nobr", vswlib.mac(1), "p1")
    assert vswd.port_names() == []
    msg = refused(vswd, "del-port", "noport")
    assert "noport" in msg
    refused(vswd, "set-port", "noport", "mtu=1500")
    refused(vswd, "port-stats", "noport")
    refused(vswd, "fdb-add", "br0", vswlib.mac(1), "noport")
    refused(vswd, "fdb-flush", "br0", "noport")
    assert vswd.ctl("fdb-show", "br0") == []


def test_bad_arguments(vswd):
    null_port(vswd, "br0", "p1")
    for bad in ("zz:zz:zz:zz:zz:zz", "00:11:22:33:44", "00:11:22:33:44:55:66", "001122334455x", ""):
        refused(vswd, "fdb-add", "br0", bad, "p1")
    refused(vswd, "fdb-del", "br0", "not-a-mac")
    refused(vswd, "set-port", "p1", "mac=12:34")
    refused(vswd, "add-port", "br0", "p2", "type=bogus")
    refused(vswd, "add-port", "br0", "p2", "type=vhost-user", "mac=gg:00:00:00:00:01")
    refused(vswd, "set-br", "br0", "aging=notanumber")
    assert vswd.ctl("fdb-show", "br0") == []
    assert vswd.port_names() == ["p1"]
    # a device that cannot be created is refused and nothing changes
    refused(vswd, "add-port", "br0", "p3", "type=dpdk", "devargs=net_nosuchdriver0")
    assert vswd.port_names() == ["p1"]


def test_socket_path_too_long(vswd, tmp_path):
    base = str(tmp_path) + "/"
    assert len(base) < 100
    path = base + "s" * (110 - len(base))
    assert len(path) == 110
    msg = refused(vswd, "add-port", "br0", "vm1", "type=vhost-user", "path=%s" % path)
    assert msg
    refused(vswd, "add-port", "br0", "vm2", "type=vhost-user-client", "path=%s" % path)
    assert vswd.port_names() == []
    assert not os.path.exists(path)
    # 107 characters is the longest that fits sun_path: accepted
    ok = base + "k" * (107 - len(base))
    vswd.ctl("add-port", "br0", "vm3", "type=vhost-user", "path=%s" % ok)
    assert vswd.port("vm3")["path"] == ok
    assert os.path.exists(ok)
    vswd.ctl("del-port", "vm3")
    assert not os.path.exists(ok), "del-port should remove the vhost-user socket"


def test_usage_errors(vswd):
    usage_error(vswd, "frobnicate")
    usage_error(vswd, "add-br")                 # missing argument
    usage_error(vswd, "add-br", "a", "b")       # too many
    usage_error(vswd, "list-br", "extra")
    usage_error(vswd, "fdb-add", "br0", vswlib.mac(1))
    r = run_vswctl(vswd.ctl_path, json_out=False)  # no verb at all
    assert r.returncode == 2, (r.returncode, r.stderr)
    # nothing reached the daemon
    assert vswd.ctl("list-br") == ["br0"]


def test_daemon_not_running(tmp_path, binaries):
    r = run_vswctl(str(tmp_path / "nothing.ctl"), "version")
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip()
    # a socket file nobody listens on
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    p = str(tmp_path / "dead.ctl")
    s.bind(p)
    s.close()
    r = run_vswctl(p, "list-br")
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)


def test_stopped_daemon_unreachable(vswd):
    assert vswd.stop() == 0
    r = run_vswctl(vswd.ctl_path, "version")
    assert r.returncode == 3, (r.returncode, r.stderr)


def _cmd_names_from_header():
    h = os.path.join(vswlib.source_dir(), "lib", "ctl", "vsw_cmd_list.h")
    with open(h) as f:
        return [n for n in re.findall(r'_\(\s*\w+\s*,\s*"([a-z-]+)"', f.read()) if n != "name"]


def test_json_output(vswd, tmp_path):
    vswd.ctl("add-port", "br0", "vm1", "type=vhost-user")
    null_port(vswd, "br0", "n1")
    vswd.ctl("fdb-add", "br0", vswlib.mac(7), "n1")

    # every read-only verb prints parseable JSON of the documented shape
    assert vswd.ctl("list-br") == ["br0"]
    assert sorted(vswd.ctl("list-ports", "br0")) == ["n1", "vm1"]

    show = vswd.show()
    assert set(show) >= {"bridges", "pmds", "mbuf"}
    br = show["bridges"][0]
    assert set(br) >= {"name", "aging", "max_macs", "port_max_macs", "fdb_entries", "ports"}
    assert br["fdb_entries"] == 1
    ports = {p["name"]: p for p in br["ports"]}
    for p in ports.values():
        assert set(p) >= {"name", "type", "path", "devargs", "n_rxq", "mtu", "mac", "state", "error"}
    assert ports["vm1"]["type"] == "vhost-user"
    assert ports["vm1"]["path"] == os.path.join(vswd.dir, "vm1.sock")
    assert os.path.exists(ports["vm1"]["path"])
    assert ports["vm1"]["state"] == "down"          # no peer
    assert ports["n1"]["type"] == "dpdk" and ports["n1"]["state"] == "up"
    assert show["pmds"][0]["cpu"] == 1
    assert show["pmds"][0]["rxqs"] == 2
    assert set(show["mbuf"]) >= {"size", "in_use"}

    fdb = vswd.ctl("fdb-show", "br0")
    assert len(fdb) == 1, fdb
    assert fdb[0]["mac"].lower() == vswlib.mac(7)
    assert (fdb[0]["vlan"], fdb[0]["port"], fdb[0]["static"]) == (0, "n1", True), fdb
    assert isinstance(fdb[0]["age"], int)
    fs = vswd.ctl("fdb-stats")
    assert set(fs[0]) >= {"bridge", "entries", "capacity", "learned", "moved", "aged",
                          "limit_hits", "flushed"}
    assert fs[0]["entries"] == 1
    ps = vswd.ctl("port-stats")
    assert sorted(s["port"] for s in ps) == ["n1", "vm1"]
    for s in ps:
        assert set(s) >= {"port", "bridge", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
                          "drops", "drops_total"}
        assert set(s["drops"]) == set(vswlib.DROP_REASONS), s["drops"]
        assert s["drops_total"] == sum(s["drops"].values())
    assert [s["port"] for s in vswd.ctl("port-stats", "vm1")] == ["vm1"]
    assert vswd.ctl("port-stats-clear") == {}
    pmd = vswd.ctl("pmd-stats")
    assert set(pmd[0]) >= {"lcore", "cpu", "packets", "busy_cycles", "idle_cycles",
                           "cycles_per_packet", "busy_pct", "rxqs"}
    rxq = vswd.ctl("rxq-show")
    assert sorted(q["port"] for q in rxq) == ["n1", "vm1"]
    for q in rxq:
        assert set(q) >= {"lcore", "port", "queue", "packets", "busy_cycles"}
    mp = vswd.ctl("mempool-stats")
    assert set(mp[0]) >= {"name", "socket", "size", "in_use", "available"}
    assert mp[0]["in_use"] + mp[0]["available"] == mp[0]["size"]
    cmds = vswd.ctl("list-commands")
    names = [c["name"] for c in cmds]
    assert sorted(names) == sorted(_cmd_names_from_header())

    # without --json: human output, same exit codes
    r = run_vswctl(vswd.ctl_path, "show", json_out=False)
    assert r.returncode == 0 and "br0" in r.stdout and "vm1" in r.stdout

    vswd.ctl("fdb-del", "br0", vswlib.mac(7))
    assert vswd.ctl("fdb-show", "br0") == []


class Rpc:
    """A raw JSON-RPC connection to the control socket."""

    def __init__(self, path):
        import socket
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    def send(self, obj_or_bytes):
        data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else (
            json.dumps(obj_or_bytes).encode() + b"\n")
        self.s.sendall(data)

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params, id_=1):
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        return self.recv()


def test_protocol_raw(vswd):
    """docs/protocol.md on the wire: several requests per connection with
    replies in order, array and object params, JSON-RPC error codes."""
    st = os.stat(vswd.ctl_path)
    assert oct(st.st_mode & 0o777) == "0o660", oct(st.st_mode & 0o777)
    c = Rpc(vswd.ctl_path)
    # pipelined: three requests at once, replies in order
    c.send(b"".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}).encode()
                    + b"\n" for i, (m, p) in enumerate(
                        [("add-br", ["brA"]), ("add-br", {"bridge": "brB", "aging": "33"}),
                         ("list-br", [])], start=10)))
    r = [c.recv() for _ in range(3)]
    assert [x["id"] for x in r] == [10, 11, 12]
    assert r[0]["result"] == {} and r[1]["result"] == {}, r
    assert sorted(r[2]["result"]) == ["br0", "brA", "brB"]
    assert {b["name"]: b["aging"] for b in vswd.show()["bridges"]}["brB"] == 33
    # object params for a port command
    r = c.call("add-port", {"bridge": "brA", "port": "r1", "type": "dpdk",
                            "devargs": "net_ring%d" % vswlib.uniq()}, 20)
    assert r.get("result") == {} and r["id"] == 20, r
    # errors
    r = c.call("no-such-method", [], 21)
    assert r["error"]["code"] == -32601 and r["id"] == 21, r
    r = c.call("add-br", ["brA"], 22)
    assert r["error"]["code"] == -32000, r
    assert "\n" not in r["error"]["message"] and r["error"]["message"]
    r = c.call("fdb-add", ["brA", "not-a-mac", "r1"], 23)
    assert r["error"]["code"] in (-32602, -32000), r
    r = c.call("add-br", [], 24)
    assert r["error"]["code"] == -32602, r
    c.send(b'{"jsonrpc": "2.0", "id": 25, "method": \n')
    r = c.recv()
    assert r["error"]["code"] == -32700, r
    c.send({"jsonrpc": "2.0", "id": 26, "params": []})
    r = c.recv()
    assert r["error"]["code"] == -32600, r
    # the connection still works after errors
    assert c.call("list-ports", ["brA"], 27)["result"] == ["r1"]
    assert c.call("version", [], 28)["result"]["version"]
    assert vswd.ctl("list-br")


def _long_line_refused(vswd, n_pad):
    """Send a list-br request line n_pad bytes of padding long; return
    (reply or None, closed)."""
    big = Rpc(vswd.ctl_path)
    big.s.settimeout(3)
    line = (b'{"jsonrpc": "2.0", "id": 1, "method": "list-br", "params": ["'
            + b"x" * n_pad + b'"]}\n')
    reply, closed = None, False
    try:
        big.send(line)
        reply = big.recv()
        big.recv()
    except (EOFError, ConnectionResetError, BrokenPipeError):
        closed = True
    except OSError as e:   # timeout: neither a second reply nor a close
        closed = "timeout: %s" % e
    return len(line) - 1, reply, closed


@pytest.mark.parametrize("pad", [2 << 20, (1 << 20) + 64], ids=["2MiB", "1MiB+64"])
def test_protocol_line_limit(vswd, pad):
    """protocol.md: lines longer than 1 MiB are refused and the connection
    is closed; the daemon serves others on."""
    n, reply, closed = _long_line_refused(vswd, pad)
    assert n > (1 << 20)
    assert reply is None or reply.get("error", {}).get("code") == -32600, (
        "a %d-byte request line (> 1 MiB) was not refused (-32600) but served: %r"
        % (n, reply))
    assert closed is True, "connection not closed after a %d-byte line: %s" % (n, closed)
    assert vswd.ctl("list-br") == ["br0"]


def test_vhost_socket_path_conflicts(vswd, tmp_path):
    """A vhost-user port whose socket cannot be created is refused and
    nothing changes; a second port cannot take over the socket of another."""
    refused(vswd, "add-port", "br0", "vm0", "type=vhost-user",
            "path=%s" % (tmp_path / "no" / "such" / "dir" / "x.sock"))
    assert vswd.port_names() == []
    vswd.ctl("add-port", "br0", "vm1", "type=vhost-user")
    path = vswd.port("vm1")["path"]
    ino = os.stat(path).st_ino
    refused(vswd, "add-port", "br0", "vm2", "type=vhost-user", "path=%s" % path)
    assert vswd.port_names() == ["vm1"]
    assert os.path.exists(path) and os.stat(path).st_ino == ino, \
        "vm1's socket was replaced by the refused port"
    # vm1's socket still accepts a vhost-user connection
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.close()
