# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the vsw integration tests (run as root with /usr/bin/python3:
`/usr/bin/python3 -m pytest tests/integration -v`).

vswd and vswctl come from $VSW_BUILD (default <repo>/build); a missing
binary fails the tests, it never skips them."""
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import vswlib  # noqa: E402
from vswlib import TestPmdVM, Vswd  # noqa: E402


DEFAULT_TIMEOUT = 120


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time bound")


class AlarmTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise AlarmTimeout("test exceeded its time limit")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Bound setup + call of every test with SIGALRM (default 120 s,
    @pytest.mark.timeout(S) to change); teardown always runs to the end,
    so started processes are stopped."""
    m = item.get_closest_marker("timeout")
    limit = int(m.args[0]) if m else DEFAULT_TIMEOUT
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(limit)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    signal.alarm(0)


@pytest.fixture(scope="session", autouse=True)
def _session_env():
    """Root is needed (DPDK, taps, AF_PACKET). New interfaces get no IPv6, so
    the kernel does not send router solicitations / MLD into the switch
    (restored at the end)."""
    assert os.geteuid() == 0, "the integration tests need root"
    vswlib.sweep_stale_prefixes()
    key = "net.ipv6.conf.default.disable_ipv6"
    try:
        old = vswlib.sysctl_get(key)
    except OSError:
        old = None
    if old is not None:
        vswlib.sysctl_set(key, 1)

    def on_term(signum, frame):
        # killed from outside (CI timeout): stop what we started, then die
        vswlib.emergency_cleanup()
        if old is not None:
            vswlib.sysctl_set(key, old)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    prev = signal.signal(signal.SIGTERM, on_term)
    yield
    signal.signal(signal.SIGTERM, prev)
    vswlib.emergency_cleanup()
    if old is not None:
        vswlib.sysctl_set(key, old)


@pytest.fixture
def binaries():
    for b in (vswlib.VSWD, vswlib.VSWCTL):
        assert os.access(b, os.X_OK), "missing binary %s (build with meson/ninja first)" % b


@pytest.fixture
def vswd_factory(tmp_path, binaries):
    """Start vswd instances in tmp_path; at the end every one still running
    must be alive (no crash), must give back every mbuf once its ports are
    deleted, and must stop with exit 0 on SIGTERM."""
    started = []

    def make(start=True, cls=Vswd, **kw):
        d = cls(tmp_path, **kw)
        started.append(d)
        if start:
            d.start()
        return d

    yield make
    errors = []
    for d in started:
        try:
            if d.proc is not None:
                if not d.alive():
                    errors.append("vswd died during the test (exit %s):\n%s"
                                  % (d.proc.returncode, vswlib.tail(d.log)))
                else:
                    try:
                        d.del_all_ports_and_check()
                    except AssertionError as e:
                        errors.append("teardown: %s" % e)
                    rc = d.stop()
                    if rc != 0:
                        errors.append("vswd exited %d on SIGTERM:\n%s" % (rc, vswlib.tail(d.log)))
        except Exception as e:  # noqa: BLE001
            errors.append("teardown: %r" % e)
        finally:
            d.cleanup()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def vswd(vswd_factory):
    """A running vswd with the default configuration (bridge br0, no ports)."""
    return vswd_factory()


@pytest.fixture
def vm_factory(tmp_path, vswd_factory):
    """Make TestPmdVM instances; any still running at the end are stopped
    (before the vswd fixture's teardown)."""
    vms = []

    def make(name, ports, **kw):
        vm = TestPmdVM(tmp_path / "vms", name, ports, **kw)
        vms.append(vm)
        return vm

    yield make
    for vm in vms:
        vm.cleanup()
