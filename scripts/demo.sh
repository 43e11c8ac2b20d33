#!/usr/bin/env bash
# Install what is missing, build, install the plugin and the tools, and
# run the main job on a bundled capture: the report on stdout, the exports,
# the host graph (out/hosts.svg) and the report page (out/report.html) in out/.
#
# As root the plugin goes into Wireshark's system plugin folder and the tool
# into /usr/local/bin (tshark run by root only loads system plugins); as an
# ordinary user into ~/.local/lib/wireshark/plugins and ~/.local/bin.
#
# Usage: scripts/demo.sh [CAPTURE]
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
. "$(dirname "$0")/common.sh"

capture=${1:-$top/captures/c2_beacon_tls_dns_slips.pcap}
out=$top/out

install_missing_packages
if [ "$(id -u)" -eq 0 ]; then
    build_project -DBUILD_TESTING=OFF
    bindir=/usr/local/bin
else
    build_project -DBUILD_TESTING=OFF -DTRAFAN_USER_INSTALL=ON -DCMAKE_INSTALL_PREFIX="$HOME/.local"
    bindir=$HOME/.local/bin
fi
say "cmake --install $build"
cmake --install "$build" >/dev/null

mkdir -p "$out"
say "tshark -q -r $capture -z trafan,stat,out=$out"
tshark -q -r "$capture" -z "trafan,stat,out=$out"
say "trafan-graph --title $(basename "$capture") $out/graph.dot -o $out/hosts.svg"
"$bindir/trafan-graph" --title "$(basename "$capture")" "$out/graph.dot" -o "$out/hosts.svg"
say "trafan-report --title $(basename "$capture") $out -o $out/report.html"
"$bindir/trafan-report" --title "$(basename "$capture")" "$out" -o "$out/report.html"
say "wrote $(cd "$out" && ls | tr '\n' ' ')in $out"
