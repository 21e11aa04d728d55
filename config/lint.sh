#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Static analysis of vsw's own C sources (lib/, app/, tests/unit/,
# dts/perf/macgen.c and vhostgen.c; never DPDK's headers): cppcheck and clang-tidy.
# Exits non-zero on any finding. Called by config/test.sh after the unit
# tests; run it alone with ./config/lint.sh (after a meson setup).
#   VSW_BUILD=DIR   build directory with compile_commands.json (default build)
#   VSW_LINT=cppcheck|clang-tidy   run only one of the two
#
# Checks: cppcheck --enable=warning,performance,portability; clang-tidy
# with the top-level .clang-tidy (clang-analyzer-*, bugprone-*, minus the
# noisy ones listed there).
# Suppressions, each one narrow and for one file only:
#   cppcheck:   config/cppcheck.supp (id:file[:line])
#   clang-tidy: TIDY_FILE_CHECKS below (checks turned off for one file)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${VSW_BUILD:-build}
WHICH=${VSW_LINT:-all}

for tool in cppcheck clang-tidy; do
    command -v "$tool" >/dev/null || { echo "lint: $tool is not installed (config/setup.sh)"; exit 1; }
done
if [ ! -f "$BUILD/compile_commands.json" ]; then
    meson setup "$BUILD" >/dev/null
fi

# Our translation units, from the build (so every file is checked with its
# real flags, include paths and defines).
mapfile -t FILES < <(python3 - "$BUILD/compile_commands.json" <<'EOF'
import json, os, re, sys
root = os.getcwd()
seen = set()
for e in json.load(open(sys.argv[1])):
    f = os.path.relpath(os.path.normpath(os.path.join(e["directory"], e["file"])), root)
    if re.match(r"^(lib|app|tests/unit)/.*\.c$", f) or f in ("dts/perf/macgen.c", "dts/perf/vhostgen.c"):
        if f not in seen:
            seen.add(f)
            print(f)
EOF
)
if [ ${#FILES[@]} -eq 0 ]; then
    echo "lint: no sources found in $BUILD/compile_commands.json"
    exit 1
fi

# clang-tidy checks turned off for one file, until its owner fixes the
# finding (then delete the entry). Format: [file]="-check,-check".
declare -A TIDY_FILE_CHECKS=(
    # Checks turned off for one file, each with its reason:
    # [path/file.c]="-check-name,-other-check"
)

fail=0
rm -f "$BUILD/lint-clang-tidy.log"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ "$WHICH" = all ] || [ "$WHICH" = cppcheck ]; then
    echo "== cppcheck ($(cppcheck --version)) on ${#FILES[@]} files"
    # The project is exactly our translation units (meson's
    # compile_commands.json). cppcheck does not predefine the compiler's
    # macros: without the byte order DPDK's rte_byteorder.h hits its
    # "#error Unknown endianness" and cppcheck silently skips every file
    # that includes DPDK, so give them (and do not suppress anything under
    # /usr: such an error must show). jansson's iteration macros must be
    # known, or cppcheck stops at them.
    if ! cppcheck --project="$BUILD/compile_commands.json" \
            --enable=warning,performance,portability --inline-suppr \
            -D__BYTE_ORDER__=1234 -D__ORDER_LITTLE_ENDIAN__=1234 -D__ORDER_BIG_ENDIAN__=4321 \
            -D__x86_64__=1 -D__linux__=1 -D__GNUC__=12 \
            --include=/usr/include/jansson.h \
            --suppressions-list=config/cppcheck.supp \
            --error-exitcode=1 --quiet -j "$(nproc)" \
            --template='{file}:{line}: {severity}: {message} [{id}]' > "$out/cppcheck" 2>&1; then
        fail=1
    fi
    # cppcheck prints findings and nothing else with --quiet
    if [ -s "$out/cppcheck" ]; then
        cat "$out/cppcheck"
        fail=1
    fi
fi

if [ "$WHICH" = all ] || [ "$WHICH" = clang-tidy ]; then
    echo "== clang-tidy ($(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)) on ${#FILES[@]} files"
    tidy_one() {
        local f=$1 extra=$2
        local args=(-p "$BUILD" --quiet --use-color=false)
        [ -n "$extra" ] && args+=("--checks=$extra")
        # only the findings: "N warnings generated" and suppressed-count notes are noise
        if ! clang-tidy "${args[@]}" "$f" > "$out/tidy.$(echo "$f" | tr / _)" 2>&1; then
            return 1
        fi
    }
    pids=()
    names=()
    jobs_max=$(nproc)
    for f in "${FILES[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
            sleep 0.1
        done
        tidy_one "$f" "${TIDY_FILE_CHECKS[$f]:-}" &
        pids+=($!)
        names+=("$f")
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            fail=1
        fi
        log="$out/tidy.$(echo "${names[$i]}" | tr / _)"
        if grep -qE '(warning|error): ' "$log"; then
            # the finding lines; the analyzer's path notes go to the full log
            grep -E '(warning|error): ' "$log" | sed -E 's%^([^ :]*/)?\.\./%%'
            cat "$log" >> "$BUILD/lint-clang-tidy.log"
            fail=1
        fi
    done
fi

if [ $fail -ne 0 ]; then
    [ -f "$BUILD/lint-clang-tidy.log" ] && echo "lint: clang-tidy's full output (with the analyzer's paths): $BUILD/lint-clang-tidy.log"
    echo "lint: findings above (fix them, or for a file you do not own add a narrow,"
    echo "      commented suppression: config/cppcheck.supp / TIDY_FILE_CHECKS in config/lint.sh)"
    exit 1
fi
echo "lint: clean"
