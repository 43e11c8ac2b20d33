#!/usr/bin/env bash
# No leak across retaps: tshark under valgrind with two passes (the taps are
# reset between them), two flags tables, the statistics tree (the GUI
# window's code), the report and a trafan display filter, so the life
# cycles of the post-dissector, its filter-only listener, the table, the
# tree and -z trafan,stat start, reset and end.  Fails on any invalid access
# or block definitely lost with trafan.so on its stack.
#
# Usage: tests/retap-leaks.sh PLUGIN WIRESHARK_VERSION CAPTURE
# Exit 77 (skipped) without valgrind or tshark.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

plugin=$1 version=$2 capture=$3
for tool in valgrind tshark; do
    command -v "$tool" >/dev/null || { echo "retap-leaks: $tool not installed, skipped"; exit 77; }
done
work=$(mktemp -d /tmp/trafan-leaks-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins/$version/epan" "$work/home"
cp "$plugin" "$work/plugins/$version/epan/trafan.so"
cp "$capture" "$work/"
chmod -R a+rwX "$work"
as_user=()
[ "$(id -u)" -ne 0 ] || as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)

"${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/plugins" \
    valgrind --leak-check=full --show-leak-kinds=definite --num-callers=40 --fullpath-after= --keep-debuginfo=yes \
        --log-file="$work/valgrind.log" \
    tshark -2 -q -r "$work/$(basename "$capture")" -Y 'trafan.flag' \
        -z trafan,flags -z trafan,flags -z trafan,tree -z trafan,stat,format=json >"$work/out" 2>&1 \
    || { cat "$work/out"; exit 1; }
grep -q '"flags"' "$work/out" || { echo "retap-leaks: no report"; cat "$work/out"; exit 1; }
grep -q 'port_scan' "$work/out" || { echo "retap-leaks: no flag"; exit 1; }
# Records (an invalid access, a block definitely lost) are separated by
# lines holding only "==PID==": one with trafan.so or trafan's sources on
# its stack is ours.  What registration allocates (epan_init,
# register_all_tap_listeners) lives as long as the program and only looks
# lost once Wireshark has unloaded the plugin at exit.
src=$(cd "$(dirname "$0")/.." && pwd)
ours=$(awk -v src="$src/" '
    /^==[0-9]+== *$/ {
        if ((block ~ /trafan\.so/ || index(block, src)) && block !~ /epan_init|register_all_tap_listeners/)
            print block
        block = ""; next
    }
    { block = block $0 "\n" }' "$work/valgrind.log")
grep -E 'definitely lost:|ERROR SUMMARY' "$work/valgrind.log" | sed 's/^==[0-9]*== */retap-leaks: /'
if [ -n "$ours" ]; then
    echo "retap-leaks: valgrind finds trafan.so at fault:"
    printf '%s\n' "$ours"
    exit 1
fi
echo "retap-leaks: ok"
