#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the vsw test guest (busybox sh). Built into the initramfs by
# dts/guests/build_image.py.
#
# Kernel command line (all optional):
#   vsw.name=NAME        reported back
#   vsw.ip=A.B.C.D/NN    address of the first NIC
#   vsw.mtu=N            its MTU
#   vsw.queues=N         ethtool -L combined N (multiqueue virtio-net)
#   vsw.role=iperf-server   start iperf3 servers on ports 5201 and 5202
#   vsw.role=ping vsw.peer=IP vsw.count=N   ping the peer, report the result
#
# Results go to the console (ttyS0) as lines `VSWRESULT key=value ...`.
# A command agent runs on ttyS1 when present: the host writes
# `ID SHELL-COMMAND` lines, the guest answers with `VSWOUT ID <line>` for
# every output line and `VSWDONE ID rc=N` at the end.

export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /tmp
mount -t devpts devpts /dev/pts

res() { echo "VSWRESULT $*"; }

P_name=guest; P_ip=; P_mtu=; P_queues=; P_role=none; P_peer=; P_count=5
for w in $(cat /proc/cmdline); do
    case "$w" in
    vsw.*=*)
        k=${w%%=*}; k=${k#vsw.}; v=${w#*=}
        case "$k" in
        name|ip|mtu|queues|role|peer|count) eval "P_$k=\$v" ;;
        esac ;;
    esac
done

KVER=$(uname -r)
for m in $(cat /etc/modules.order); do
    insmod /lib/modules/$KVER/$m.ko 2>/dev/null || res event=modfail module=$m
done

ip link set lo up
IF=
i=0
while [ $i -lt 100 ]; do
    for n in /sys/class/net/*; do
        n=${n##*/}
        [ "$n" = lo ] && continue
        IF=$n; break
    done
    [ -n "$IF" ] && break
    sleep 0.1; i=$((i + 1))
done

if [ -z "$IF" ]; then
    res event=nonic name=$P_name
else
    [ -n "$P_mtu" ] && ip link set "$IF" mtu "$P_mtu"
    [ -n "$P_queues" ] && ethtool -L "$IF" combined "$P_queues" 2>/dev/null
    [ -n "$P_ip" ] && ip addr add "$P_ip" dev "$IF"
    ip link set "$IF" up
    drv=$(basename "$(readlink /sys/class/net/$IF/device/driver 2>/dev/null)" 2>/dev/null)
    [ -z "$drv" ] && drv=$(basename "$(readlink /sys/class/net/$IF/device/../driver 2>/dev/null)" 2>/dev/null)
    nq=$(ls -d /sys/class/net/$IF/queues/rx-* 2>/dev/null | wc -l)
    res event=ready name=$P_name if=$IF mac=$(cat /sys/class/net/$IF/address) \
        ip=$P_ip mtu=$(cat /sys/class/net/$IF/mtu) driver=$drv rxqs=$nq \
        uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$KVER
fi

case "$P_role" in
iperf-server)
    iperf3 -s -D -p 5201 >/dev/null 2>&1
    iperf3 -s -D -p 5202 >/dev/null 2>&1
    res event=role role=iperf-server
    ;;
ping)
    out=$(ping -c "$P_count" -W 2 "$P_peer" 2>&1)
    rc=$?
    rtt=$(echo "$out" | sed -n 's#.*= [0-9.]*/\([0-9.]*\)/.*#\1#p')
    rx=$(echo "$out" | sed -n 's#.* \([0-9]*\) packets received.*#\1#p')
    res event=ping peer=$P_peer rc=$rc received=${rx:-0} rtt_avg_ms=${rtt:-none}
    ;;
esac

agent() {
    stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null
    exec </dev/ttyS1 >/dev/ttyS1 2>&1
    echo "VSWAGENT ready"
    while IFS= read -r line; do
        id=${line%% *}
        cmd=${line#* }
        [ -z "$id" ] && continue
        sh -c "$cmd" >/tmp/out.$$ 2>&1
        rc=$?
        sed "s/^/VSWOUT $id /" /tmp/out.$$
        echo "VSWDONE $id rc=$rc"
        rm -f /tmp/out.$$
    done
}
[ -e /dev/ttyS1 ] && agent &

# pid 1 never exits
while :; do sleep 3600; done
