#!/usr/bin/env bash
# Write the out= directories test-report reads (report.json and graph.dot)
# from the bundled captures, with the plugin of a build folder:
#   report-c2       captures/c2_beacon_tls_dns_slips.pcap (a beacon)
#   report-attacks  four scenarios of tests/gen-attacks.c merged: an ICMP
#                   flood, a port scan, a beacon and a bandwidth spike
#   report-empty    captures/edge_empty.pcap
#   report-no-ip    five ARP requests (text2pcap): no hosts, no conversations
#
# Usage: postproc/tests/make-report-fixtures.sh BUILD_DIR
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
fixtures=$top/postproc/tests/fixtures
version=$(tshark -v 2>/dev/null | sed -n 's/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 755 "$scratch"
mkdir -p "$scratch/plugins/$version/epan" "$scratch/scenarios"
cp "$build/plugin/trafan.so" "$scratch/plugins/$version/epan/"
"$build/tests/gen-attacks" "$scratch/scenarios" >/dev/null
mergecap -w "$scratch/attacks.pcap" "$scratch"/scenarios/attack_{icmp_flood,syn_scan,beacon,bandwidth_spike}.pcap
cp "$top"/captures/{c2_beacon_tls_dns_slips,edge_empty}.pcap "$scratch/"
for i in 0 1 2 3 4; do
    printf '1700000000.%d\n0000  ff ff ff ff ff ff 00 11 22 33 44 55 08 06 00 01\n' $i
    printf '0010  08 00 06 04 00 01 00 11 22 33 44 55 c0 00 02 01\n0020  00 00 00 00 00 00 c0 00 02 %02x\n' $((i + 2))
done | text2pcap -q -t '%s.%f' - "$scratch/arp.pcap" >/dev/null
chmod -R a+rX "$scratch"

# tshark run by root ignores WIRESHARK_PLUGIN_DIR: run it as nobody.
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
for pair in c2:c2_beacon_tls_dns_slips.pcap attacks:attacks.pcap empty:edge_empty.pcap no-ip:arp.pcap; do
    name=${pair%%:*} capture=${pair#*:}
    mkdir -m 777 "$scratch/$name"
    "${as_user[@]}" env HOME="$scratch" WIRESHARK_PLUGIN_DIR="$scratch/plugins" \
        tshark -q -r "$scratch/$capture" -z "trafan,stat,out=$scratch/$name" >/dev/null 2>&1
    mkdir -p "$fixtures/report-$name"
    cp "$scratch/$name/report.json" "$scratch/$name/graph.dot" "$fixtures/report-$name/"
done
ls -l "$fixtures"/report-*
