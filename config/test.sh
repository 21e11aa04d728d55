#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite: setup, unit tests (cmocka, meson), integration
# tests (pytest, real vswd with real DPDK peers). Exits non-zero on any
# failure. This is what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
./config/setup.sh
BUILD=${VSW_BUILD:-build}

echo "== unit tests"
meson test -C "$BUILD" --suite unit --print-errorlogs

echo "== integration tests"
export VSW_BUILD="$PWD/$BUILD"
/usr/bin/python3 -m pytest -v -p no:cacheprovider tests/integration "$@"
