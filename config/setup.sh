#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what vsw needs (Debian 12), build it, reserve hugepages.
# Idempotent: run it as often as you like. Needs root (apt, hugepages).
#   VSW_BUILD=DIR   build directory (default ./build)
#   VSW_HUGEPAGES=N 2 MB hugepages to reserve (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential pkg-config meson ninja-build
      libdpdk-dev dpdk dpdk-dev libnuma-dev libpcap-dev libjansson-dev libcmocka-dev
      clang libclang-rt-14-dev cppcheck clang-tidy
      python3 python3-pytest python3-scapy python3-prometheus-client curl
      jq tcpdump iproute2 procps
      qemu-system-x86 iperf3 busybox-static ethtool valgrind python3-matplotlib)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD=${VSW_BUILD:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" ${VSW_MESON_ARGS:-} >/dev/null
fi
ninja -C "$BUILD" >/dev/null
echo "setup: built $BUILD/app/vswd/vswd and $BUILD/app/vswctl/vswctl"

# Hugepages: 2 MB pages, mounted on /dev/hugepages.
want=${VSW_HUGEPAGES:-1024}
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
    echo "$want" > /proc/sys/vm/nr_hugepages || true
fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages || true
echo "setup: $(cat /proc/sys/vm/nr_hugepages) hugepages of 2 MB reserved," \
     "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo) free"
