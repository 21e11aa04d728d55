#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite. Exits non-zero on any failure. This is what .ci/run
# calls.
#   1. setup (packages, build, hugepages)
#   2. unit tests (cmocka) and the docs check
#   3. integration tests (pytest: the real vswd with real DPDK peers)
#   4. the same unit and integration tests again on an
#      AddressSanitizer + UndefinedBehaviorSanitizer build (VSW_ASAN=0 skips)
# Extra arguments go to pytest (e.g. -k vhost, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
./config/setup.sh
BUILD=${VSW_BUILD:-build}
start=$(date +%s)

echo "== unit tests"
meson test -C "$BUILD" --suite unit --print-errorlogs

echo "== integration tests"
VSW_BUILD="$PWD/$BUILD" /usr/bin/python3 -m pytest -v -p no:cacheprovider tests/integration "$@"

if [ "${VSW_ASAN:-1}" != "0" ]; then
    ASAN_BUILD=${VSW_ASAN_BUILD:-build-asan}
    echo "== sanitizers: build $ASAN_BUILD (-Db_sanitize=address,undefined)"
    if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
        meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
    fi
    ninja -C "$ASAN_BUILD" >/dev/null
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    echo "== unit tests (sanitizers)"
    meson test -C "$ASAN_BUILD" --suite unit --print-errorlogs
    echo "== integration tests (sanitizers)"
    VSW_BUILD="$PWD/$ASAN_BUILD" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        tests/integration "$@"
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
