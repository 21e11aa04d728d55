# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the guest suite (`/usr/bin/python3 -m pytest dts/guests -v`).

The vswd fixtures, the per-test SIGALRM bound and the session setup (root,
no IPv6 on new interfaces, emergency cleanup) are the integration suite's
own (tests/integration/conftest.py, loaded here by path); this file adds
the `guests` factory and a measurement log."""
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(HERE))

_spec = importlib.util.spec_from_file_location("vsw_integration_conftest",
                                               ROOT / "tests" / "integration" / "conftest.py")
_ic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ic)

# the integration suite's hooks and fixtures, shared as they are
pytest_configure = _ic.pytest_configure
pytest_runtest_setup = _ic.pytest_runtest_setup
pytest_runtest_teardown = _ic.pytest_runtest_teardown
_session_env = _ic._session_env
binaries = _ic.binaries
vswd_factory = _ic.vswd_factory
vswd = _ic.vswd

import guestlib  # noqa: E402

RESULTS = {}


def record(test, **kv):
    """Keep a measurement for the end-of-session summary and the JSON log."""
    RESULTS.setdefault(test, {}).update(kv)
    print("VSWMEASURE %s %s" % (test, " ".join("%s=%s" % x for x in kv.items())), flush=True)


@pytest.fixture(scope="session", autouse=True)
def _guest_session():
    """The image is built (or found in the cache) once; the accelerator is
    said; at the end every QEMU still running is stopped and the
    measurements are written to build/guests/last-run.json."""
    guestlib.assert_qemu()
    t0 = time.monotonic()
    img = guestlib.image()
    print("\n%s\nimage: %s (%s), ready in %.1fs" % (
        guestlib.accel_note(), img["initrd"], img["meta"]["kernel_version"],
        time.monotonic() - t0), flush=True)
    yield
    guestlib.cleanup_all()
    if RESULTS:
        out = Path(img["initrd"]).parent / "last-run.json"
        RESULTS["_accel"] = guestlib.accel()
        RESULTS["_when"] = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        out.write_text(json.dumps(RESULTS, indent=1) + "\n")
        print("\nmeasurements (%s):" % out)
        for k, v in RESULTS.items():
            print("  %s: %s" % (k, v))


@pytest.fixture
def guests(tmp_path, vswd_factory):
    """Make Guest instances; every one is stopped at the end (before the
    vswd fixtures check the mbufs and stop vswd)."""
    made = []

    def make(name, nic, ip, mac, **kw):
        g = guestlib.Guest(tmp_path / "guests", name, nic, ip, mac, **kw)
        made.append(g)
        return g

    yield make
    for g in made:
        g.stop()
