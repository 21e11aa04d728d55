# SPDX-License-Identifier: BSD-3-Clause
"""Hostile or careless control clients and paths: many clients at once,
clients that connect and never send, socket directories an operator did not
allow, file modes. The daemon answers everyone else and changes nothing."""
import json
import os
import socket
import stat
import threading
import time



def rpc(path, method, params=None, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    req = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def test_silent_clients_do_not_block(vswd):
    """Steps: open 40 connections that never send anything (and one that
    sends half a line), then issue commands from another client.
    Verify: every command is answered at once; the daemon is alive."""
    idle = []
    for _ in range(40):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(vswd.ctl_path)
        idle.append(s)
    half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half.connect(vswd.ctl_path)
    half.sendall(b'{"jsonrpc":"2.0","id":1,"meth')
    t0 = time.monotonic()
    for _ in range(5):
        assert rpc(vswd.ctl_path, "list-br")["result"] == ["br0"]
    assert time.monotonic() - t0 < 3
    for s in idle:
        s.close()
    half.close()
    assert vswd.alive()


def test_200_simultaneous_clients(vswd):
    """Steps: 200 threads each connect, send a request and read the reply,
    all at once (the server keeps at most 64 connections).
    Verify: every client gets a well-formed reply: a result, or the
    'too many control clients' error; at least 64 get results; the daemon
    keeps serving afterwards."""
    results, errors = [], []
    go = threading.Event()

    def client():
        go.wait()
        try:
            results.append(rpc(vswd.ctl_path, "version"))
        except (OSError, ValueError) as e:
            errors.append(e)
    threads = [threading.Thread(target=client) for _ in range(200)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(30)
    ok = [r for r in results if "result" in r]
    busy = [r for r in results if "error" in r]
    assert all(r["error"]["message"] == "too many control clients" for r in busy), busy[:3]
    # A refused client may also see the connection closed before its reply.
    assert len(ok) >= 64, (len(ok), len(busy), errors[:3])
    assert len(ok) + len(busy) + len(errors) == 200
    assert rpc(vswd.ctl_path, "list-br")["result"] == ["br0"]


def test_vhost_dir_restriction(vswd_factory, tmp_path):
    """Steps: vswd with --vhost-dir ALLOWED; add vhost-user ports in the
    allowed directory, in the run directory (default path), outside it, and
    through '..' and a symlink that leave it.
    Verify: the first two are created; the others are refused with a
    one-line reason and leave no port and no socket file behind."""
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    os.symlink(str(outside), str(allowed / "link"))
    d = vswd_factory(extra=["--vhost-dir", str(allowed)])
    d.ctl("add-port", "br0", "ok1", "type=vhost-user", "path=%s/ok1.sock" % allowed)
    d.ctl("add-port", "br0", "ok2", "type=vhost-user")           # RUNDIR/ok2.sock
    for name, path in (("bad1", "%s/bad1.sock" % outside),
                       ("bad2", "%s/../outside/bad2.sock" % allowed),
                       ("bad3", "%s/link/bad3.sock" % allowed),
                       ("bad4", "/tmp/bad4.sock")):
        rc, err = d.ctl_fail("add-port", "br0", name, "type=vhost-user", "path=" + path)
        assert rc == 1 and "outside the allowed vhost directories" in err, (name, err)
        assert not os.path.exists(path.replace("/../outside", "/../outside"))
    rc, err = d.ctl_fail("add-port", "br0", "bad5", "type=vhost-user-client",
                         "path=%s/c.sock" % outside)
    assert rc == 1 and "outside the allowed" in err
    assert sorted(d.port_names()) == ["ok1", "ok2"]
    assert os.listdir(str(outside)) == []


def test_file_modes(vswd):
    """Verify: the control socket and vhost sockets are not accessible to
    others (mode 0660 or stricter), the state file is not world-readable."""
    vswd.ctl("add-port", "br0", "vm1", "type=vhost-user")
    for path in (vswd.ctl_path, vswd.port("vm1")["path"], vswd.state):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode & 0o007 == 0, "%s has mode %o" % (path, mode)


# Requests of the wrong shape or with wrong types, sent raw on the socket,
# and the JSON-RPC error code each must get. (The unit tests in
# tests/unit/test_ctl.c go through the same parser without a socket.)
BAD_REQUESTS = [
    (b'[]', -32600),
    (b'[{"jsonrpc": "2.0", "id": 1, "method": "list-br"}]', -32600),   # no batches
    (b'42', -32600),
    (b'"list-br"', -32600),
    (b'null', -32600),
    (b'true', -32600),
    (b'   ', -32700),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 42, "params": []}', -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": null}', -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": ["list-br"]}', -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "list-br", "params": 7}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "list-br", "params": "br0"}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "add-br", "params": [{"name": "x"}]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "add-br", "params": [["x"]]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "add-br", "params": [null]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "add-br", "params": [1.5]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "set-br", "params": ["br0", "aging=-5"]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "set-br", "params": ["br0", '
     b'"aging=99999999999999999999"]}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "set-br", "params": {"bridge": "br0", '
     b'"aging": [1]}}', -32602),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "add-port", "params": ["br0", "p", '
     b'{"type": "dpdk"}]}', -32602),
    (b'\xff\xfe{"jsonrpc": "2.0"}', -32700),                                # not UTF-8
    (b'{"jsonrpc": "2.0", "id": 1, "method": "list-br\xc3"}', -32700),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "no-such-method"}', -32601),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "../../etc/passwd"}', -32601),
]


def test_wrong_types_over_the_socket(vswd):
    """Steps: each request of BAD_REQUESTS on its own connection, followed on
    the same connection by a valid `version` request.
    Verify: each gets a JSON-RPC error with the expected code and a message,
    and the valid request after it is served (the connection and the daemon
    go on); the configuration is unchanged at the end."""
    before = vswd.show()["bridges"]
    for line, code in BAD_REQUESTS:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(vswd.ctl_path)
        s.sendall(line + b"\n" + b'{"jsonrpc": "2.0", "id": 99, "method": "version"}\n')
        buf = b""
        while buf.count(b"\n") < 2:
            chunk = s.recv(65536)
            assert chunk, "connection closed after %r (got %r)" % (line, buf)
            buf += chunk
        s.close()
        first, second = [json.loads(x) for x in buf.split(b"\n")[:2]]
        assert "error" in first and first["error"]["code"] == code, (line, first)
        assert first["error"]["message"], (line, first)
        assert second.get("id") == 99 and second["result"]["version"], (line, second)
    assert vswd.show()["bridges"] == before
    assert vswd.alive()


def _as_user(fn, uid, gid, groups):
    """Run fn() in a child process whose effective uid/gid and supplementary
    groups are the given ones (what SO_PEERCRED / SO_PEERGROUPS report),
    while its file system uid stays 0 (setfsuid), so the socket file's mode
    does not hide what the daemon's own credential check does. Returns
    fn()'s result (JSON-serialisable) or {"exception": ...}."""
    import ctypes
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                     # child
        out = {}
        try:
            os.close(r)
            os.setgroups(list(groups))
            os.setegid(gid)
            os.seteuid(uid)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.setfsuid(0)
            if libc.setfsuid(-1) != 0:
                raise OSError("setfsuid(0) did not take")
            out = {"value": fn()}
        except Exception as e:  # noqa: BLE001
            out = {"exception": repr(e)}
        finally:
            os.write(w, json.dumps(out).encode())
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out = json.loads(data)
    assert "exception" not in out, out
    return out["value"]


def test_peer_credentials(vswd_factory):
    """Steps: vswd with --group daemon; connect as root, as nobody:nogroup,
    as nobody with primary group daemon, as nobody with daemon only as a
    supplementary group, as nobody with another supplementary group; then a
    vswd without --group and nobody:daemon.
    Verify: the socket is mode 0660 and group daemon; root and the two
    members of daemon get results; the others get the JSON-RPC error
    'permission denied' (errno EACCES) and nothing else; the daemon serves
    on."""
    import errno
    import grp
    gid = grp.getgrnam("daemon").gr_gid
    nobody, nogroup = 65534, 65534
    d = vswd_factory(extra=["--group", "daemon"])
    st = os.stat(d.ctl_path)
    assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == gid, (oct(st.st_mode), st.st_gid)
    path = d.ctl_path

    def call():
        # A refused client gets its error at once and the connection is
        # closed: its request may meet a closed socket (EPIPE), the error
        # line is still there to read.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        try:
            s.sendall(b'{"jsonrpc": "2.0", "id": 1, "method": "list-br"}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf)
    assert call()["result"] == ["br0"]                                     # root
    allowed = {"primary group daemon": (nobody, gid, []),
               "supplementary group daemon": (nobody, nogroup, [gid])}
    denied = {"nobody:nogroup": (nobody, nogroup, []),
              "nobody, other groups": (nobody, nogroup, [gid + 1, nogroup])}
    for what, (u, g, gs) in allowed.items():
        r = _as_user(call, u, g, gs)
        assert r.get("result") == ["br0"], (what, r)
    for what, (u, g, gs) in denied.items():
        r = _as_user(call, u, g, gs)
        assert "result" not in r, (what, r)
        assert r["error"]["message"] == "permission denied", (what, r)
        assert r["error"]["data"]["errno"] == errno.EACCES, (what, r)
    assert call()["result"] == ["br0"]

    # Without --group only root and vswd's own user are let in.
    assert d.stop() == 0
    d3 = vswd_factory()
    path = d3.ctl_path
    r = _as_user(call, nobody, gid, [gid])
    assert r["error"]["message"] == "permission denied", r
    assert call()["result"] == ["br0"]


def test_ctl_path_too_long(vswd_factory, tmp_path):
    """Steps: start vswd with a --ctl path longer than sun_path (107 bytes).
    Verify: it exits non-zero at once, says why (naming the limit), and
    leaves no socket, pid file or running process behind."""
    long_dir = tmp_path / ("d" * 60)
    long_dir.mkdir()
    ctl = str(long_dir / ("c" * 60 + ".ctl"))
    assert len(ctl) > 107
    d = vswd_factory(start=False)
    d.ctl_path = ctl
    d.spawn()
    try:
        rc = d.proc.wait(30)
    except Exception:
        raise AssertionError("vswd kept running with a too long --ctl path")
    d.proc = None
    d.logf.close()
    assert rc != 0
    log = d.log_text()
    assert "too long" in log, log[-2000:]
    assert not os.path.exists(ctl)
    assert not os.path.exists(os.path.join(d.dir, "vswd.pid"))
