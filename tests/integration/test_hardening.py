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
