#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Five-minute tour: install, build, reserve hugepages, start vswd, create a
# bridge with two vhost-user ports, attach two DPDK testpmd "VMs" (virtio-user),
# send traffic across the switch, print show / fdb-show / port-stats /
# pmd-stats, and stop everything cleanly. Needs root.
#   VSW_DEMO_SECONDS=N   how long traffic runs (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
./config/setup.sh
BUILD=${VSW_BUILD:-build}
VSWD=$BUILD/app/vswd/vswd
VSWCTL=$BUILD/app/vswctl/vswctl
RUN=${VSW_DEMO_DIR:-/tmp/vsw-demo}
SECS=${VSW_DEMO_SECONDS:-5}
NCPU=$(nproc)
PMD_CPU=$((NCPU - 1))
GEN_CPU=0

rm -rf "$RUN"; mkdir -p "$RUN"
export VSW_RUNDIR=$RUN           # vswctl finds the control socket here
vswd_pid=""
gen_pid=""
cleanup() {
    [ -n "$gen_pid" ] && kill "$gen_pid" 2>/dev/null || true
    if [ -n "$vswd_pid" ] && kill -0 "$vswd_pid" 2>/dev/null; then
        kill -TERM "$vswd_pid"
        for _ in $(seq 50); do kill -0 "$vswd_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf /var/run/dpdk/vsw-demo /var/run/dpdk/vsw-demo-gen
    rm -f /dev/hugepages/vsw-demo* 2>/dev/null || true
}
trap cleanup EXIT

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "vswd --rundir $RUN --pmd-cores $PMD_CPU -- --file-prefix=vsw-demo"
"$VSWD" --rundir "$RUN" --pmd-cores "$PMD_CPU" --socket-mem 256 -- --file-prefix=vsw-demo
vswd_pid=$(cat "$RUN/vswd.pid")
echo "vswd running, pid $vswd_pid, log in $RUN/vswd.log"

say "vswctl show   (the embedded default: one bridge, no ports)"
"$VSWCTL" show
say "vswctl add-br vms"
"$VSWCTL" add-br vms
say "vswctl add-port vms vm1 type=vhost-user"
"$VSWCTL" add-port vms vm1 type=vhost-user
say "vswctl add-port vms vm2 type=vhost-user"
"$VSWCTL" add-port vms vm2 type=vhost-user

say "dpdk-testpmd: two virtio-user NICs (52:54:00:00:00:01 on vm1, :02 on vm2), start tx_first"
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 128 ]; then
    GEN_MEM=(--in-memory --single-file-segments -m 256)
else
    GEN_MEM=(--no-huge -m 256 --file-prefix=vsw-demo-gen)
fi
# Start sending once both virtio-user NICs are connected (vswd says "up").
up() { [ "$("$VSWCTL" show | grep -cE '^ +vm[12] .* up ')" = 2 ]; }
( for _ in $(seq 100); do up && break; sleep 0.2; done
  echo "start tx_first 8"; sleep "$SECS"; echo "stop"; sleep 1; echo "quit" ) |
    dpdk-testpmd "${GEN_MEM[@]}" --no-pci --lcores "0@$GEN_CPU,1@$GEN_CPU" \
        --vdev "net_virtio_user0,path=$RUN/vm1.sock,mac=52:54:00:00:00:01" \
        --vdev "net_virtio_user1,path=$RUN/vm2.sock,mac=52:54:00:00:00:02" \
        -- -i --nb-cores=1 --total-num-mbufs=8192 --forward-mode=mac \
        --eth-peer=0,52:54:00:00:00:02 --eth-peer=1,52:54:00:00:00:01 \
        > "$RUN/testpmd.log" 2>&1 &
gen_pid=$!
# Wait until both MACs are learned (traffic is flowing), then half the run.
for _ in $(seq 150); do
    [ "$("$VSWCTL" fdb-show vms | grep -c '52:54:00:00:00:0[12]')" = 2 ] && break
    sleep 0.2
done
sleep $(( (SECS + 1) / 2 ))

say "vswctl show";          "$VSWCTL" show
say "vswctl fdb-show vms";  "$VSWCTL" fdb-show vms
say "vswctl port-stats";    "$VSWCTL" port-stats
say "vswctl pmd-stats";     "$VSWCTL" pmd-stats
wait "$gen_pid" || true
gen_pid=""
echo
grep -A3 "Forward statistics for port" "$RUN/testpmd.log" | grep -E "statistics|RX-packets|TX-packets" || true
say "vswctl port-stats   (after the generator stopped)"; "$VSWCTL" port-stats
say "vswctl mempool-stats"; "$VSWCTL" mempool-stats

say "kill -TERM $vswd_pid   (vswd closes its ports and removes its sockets)"
kill -TERM "$vswd_pid"
for _ in $(seq 50); do kill -0 "$vswd_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$vswd_pid" 2>/dev/null; then echo "vswd did not stop"; exit 1; fi
vswd_pid=""
ls "$RUN"
echo "demo done: state kept in $RUN/state.json"
