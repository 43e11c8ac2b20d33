#!/usr/bin/env bash
# trafan in the real Wireshark, under Xvfb, driven as a user drives it:
#   1. Statistics ▸ Suspicious Hosts (trafan) (opened with -z trafan,flags)
#      lists the scanner; its Copy button gives the rows as text;
#   2. Statistics ▸ Traffic Analysis (trafan), opened from the menu, lists it;
#   3. `trafan.flag` typed in the display-filter bar shows as many packets as
#      `tshark -2 -Y trafan.flag` (read back from the status bar);
#   4. Analyze ▸ Expert Information lists the flag, grouped by rule;
#   5. Tools ▸ Traffic Analysis (trafan) ▸ Host Graph writes an SVG in which
#      the scanner is red, and hands it to the desktop's SVG viewer;
#   6. a threshold raised in Edit ▸ Preferences removes the flag, and put
#      back restores it.
# The window text is read with each dialog's Copy button, the status bar
# and the Expert Information window with OCR (tesseract).
#
# Usage: tests/gui-test.sh PLUGIN WIRESHARK_VERSION CAPTURE SCANNER [SHOTS_DIR [TRAFAN_GRAPH]]
# SHOTS_DIR receives a screenshot of each step (gui-*.png).
# Exit 77 (skipped) without wireshark, tshark, Xvfb, xdotool, xclip, import or tesseract.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

plugin=$1 version=$2 capture=$3 scanner=$4 shots=${5:-} graph_tool=${6:-}
for tool in wireshark tshark Xvfb xdotool xclip import tesseract; do
    command -v "$tool" >/dev/null || { echo "gui-test: $tool not installed, skipped"; exit 77; }
done

work=$(mktemp -d /tmp/trafan-gui-XXXXXX)
xvfb_pid= ws_pid=
cleanup() {
    [ -z "$ws_pid" ] || kill "$ws_pid" 2>/dev/null || true
    [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "gui-test: $*"; exit 1; }
chmod 755 "$work"
mkdir -p "$work/plugins/$version/epan" "$work/home" "$work/xdg" "$work/bin" "$work/tmp" "$work/seen"
cp "$plugin" "$work/plugins/$version/epan/trafan.so"
cp "$capture" "$work/"
[ -z "$graph_tool" ] || ln -s "$graph_tool" "$work/bin/trafan-graph"

# The desktop's SVG viewer: one that keeps what it was asked to open.
mkdir -p "$work/home/.local/share/applications" "$work/home/.config"
printf '#!/bin/sh\ncp "$1" %s/seen/opened.svg\n' "$work" >"$work/bin/svg-viewer"
chmod 755 "$work/bin/svg-viewer"
printf '[Desktop Entry]\nType=Application\nName=SVG viewer\nExec=%s/bin/svg-viewer %%f\nMimeType=image/svg+xml;\n' \
    "$work" >"$work/home/.local/share/applications/svg-viewer.desktop"
printf '[Default Applications]\nimage/svg+xml=svg-viewer.desktop\n' >"$work/home/.config/mimeapps.list"
chmod -R a+rX "$work"
chmod 777 "$work/home" "$work/tmp" "$work/seen"
chmod -R a+rwX "$work/home"

# Wireshark run by root ignores WIRESHARK_PLUGIN_DIR: run it as nobody.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chown 65534:65534 "$work/xdg"
fi
chmod 700 "$work/xdg"
user_env=(env -i PATH="$work/bin:/usr/bin:/bin" HOME="$work/home" XDG_RUNTIME_DIR="$work/xdg" TMPDIR="$work/tmp"
          NO_AT_BRIDGE=1 WIRESHARK_PLUGIN_DIR="$work/plugins")
name=$(basename "$capture")
expected=$("${as_user[@]}" "${user_env[@]}" tshark -2 -r "$work/$name" -Y trafan.flag 2>/dev/null | wc -l)
[ "$expected" -gt 0 ] || fail "tshark -2 -Y trafan.flag marks no packet of $name"

exec 3< <(Xvfb -displayfd 1 -screen 0 1600x1000x24 -ac -nolisten tcp 2>/dev/null)
xvfb_pid=$!
read -r -t 30 display <&3 || fail "Xvfb did not start"
export DISPLAY=:$display

"${as_user[@]}" "${user_env[@]}" DISPLAY="$DISPLAY" wireshark -r "$work/$name" -z trafan,flags >"$work/log" 2>&1 &
ws_pid=$!

. "$(dirname "$0")/gui-lib.sh"
shot() { [ -z "$shots" ] || import -window root "$shots/gui-$1.png" 2>/dev/null || true; }
# The text of a TapParameterDialog, from its Copy button (at width - 236,
# height - 24), once it contains $2.
copy_text() {
    local text=
    for _ in $(seq 1 20); do
        eval "$(xdotool getwindowgeometry --shell "$1")"
        xdotool mousemove --window "$1" $((WIDTH - 236)) $((HEIGHT - 24)) click 1
        sleep 0.5
        text=$(xclip -o -selection clipboard 2>/dev/null || true)
        case $text in *"$2"*) break ;; esac
        sleep 1
    done
    printf '%s\n' "$text"
}
# OCR of a window's strip: window, x, y (from the bottom if negative), w, h.
read_pixels() {
    eval "$(xdotool getwindowgeometry --shell "$1")"
    local y=$3
    [ "$y" -ge 0 ] || y=$((HEIGHT + y))
    import -window root -crop "$4x$5+$((X + $2))+$((Y + y))" -resize 300% "$work/ocr.png"
    tesseract "$work/ocr.png" - 2>/dev/null | tr '\n' ' '
}
displayed() { read_pixels "$main" 0 -26 1500 26 | sed -n 's/.*Displayed: *\([0-9]*\).*/\1/p'; }
close() { xdotool windowfocus --sync "$1"; xdotool key Escape; sleep 0.5; }

main=$(window "$name") || fail "no main window: $(cat "$work/log")"
xdotool windowsize "$main" 1500 900
# 1. The flags table.
table=$(window "Suspicious Hosts (trafan)") || fail "the Suspicious Hosts window did not open"
xdotool windowmove "$table" 40 120
xdotool windowsize "$table" 1500 300
text=$(copy_text "$table" "$scanner")
shot flags-table
printf '%s\n' "$text" | grep -q "$scanner.*source.*port_scan" || fail "the scanner is not in the flags table: $text"
echo "gui-test: flags table lists $scanner"
close "$table"

# 2. Statistics ▸ Traffic Analysis (trafan).
tree=$(open_traffic_analysis "$main") || fail "the Traffic Analysis window did not open"
text=$(copy_text "$tree" "port_scan")
shot statistics
case $text in *"$scanner port_scan (source)"*) ;; *) fail "the scanner is not flagged in the statistics tree" ;; esac
echo "gui-test: statistics tree flags $scanner"
close "$tree"

# 3. The display filter.
xdotool windowfocus --sync "$main"
xdotool key ctrl+slash
xdotool type --delay 30 'trafan.flag'
xdotool key Return
sleep 3
shot filter
count=$(displayed)
[ "$count" = "$expected" ] || fail "trafan.flag displays '$count' packets, tshark -2 marks $expected"
echo "gui-test: trafan.flag displays $count packets, as tshark -2"

# 4. Analyze ▸ Expert Information, its last entry; the first group opened.
xdotool windowfocus --sync "$main"
xdotool key alt+a
sleep 1
xdotool key Up Return
expert=$(window "Expert Information") || fail "Expert Information did not open"
xdotool windowmove "$expert" 0 0
xdotool windowsize "$expert" 1400 500
sleep 2
xdotool mousemove --window "$expert" 200 55 click 1    # the second row selected: the first readable
sleep 1
shot expert
text=$(read_pixels "$expert" 0 20 1000 200)
# (OCR may read the underscore as nothing or a space.)
printf '%s' "$text" | grep -Eq 'Suspicious host: port.?scan' || fail "Expert Information does not list the flag: $text"
echo "gui-test: Expert Information lists Suspicious host: port_scan"
close "$expert"

# 5. Tools ▸ Traffic Analysis (trafan) ▸ Host Graph.
if [ -n "$graph_tool" ]; then
    xdotool windowfocus --sync "$main"
    xdotool key alt+t
    sleep 1
    xdotool key Up Right
    sleep 1
    shot graph-menu
    xdotool key Return
    for _ in $(seq 1 60); do [ -s "$work/seen/opened.svg" ] && break; sleep 0.5; done
    [ -s "$work/seen/opened.svg" ] || { shot graph-failed; fail "no picture reached the SVG viewer: $(ls -R "$work/tmp" "$work/seen")"; }
    # The scanner's node: a flagged source, filled red.
    node=$(awk -v host="$scanner" '/<g id="host/ { block = "" } { block = block $0 "\n" }
                                    /<\/text>/ && index($0, ">" host "<") { print block; exit }' "$work/seen/opened.svg")
    case $node in *'class="node host source"'*'fill="#d7191c"'*) ;; *) fail "the scanner is not red in the graph: $node" ;; esac
    echo "gui-test: the host graph draws $scanner red"
fi

# 6. Edit ▸ Preferences ▸ Statistics ▸ Traffic Analysis (trafan): the
# stealth-port threshold one above what the scanner reached, then back.
set_stealth_ports() {
    xdotool windowfocus --sync "$main"
    xdotool key ctrl+shift+p
    prefs=$(window "Preferences") || fail "Preferences did not open"
    xdotool windowsize "$prefs" 1200 800
    sleep 1
    xdotool type --delay 50 Statistics
    xdotool key Right Down
    sleep 1
    xdotool mousemove --window "$prefs" 640 149 click --repeat 3 1
    xdotool type "$1"
    sleep 0.5
    shot "preferences-$1"
    xdotool key Return
    sleep 4
}
set_stealth_ports 4
shot retap
count=$(displayed)
[ "$count" = 0 ] || fail "with port_scan_stealth_ports 4, trafan.flag still displays '$count' packets"
echo "gui-test: port_scan_stealth_ports 4: no flag"
set_stealth_ports 3
count=$(displayed)
[ "$count" = "$expected" ] || fail "with port_scan_stealth_ports 3 again, trafan.flag displays '$count' packets"
echo "gui-test: port_scan_stealth_ports 3: $count packets again"
echo "gui-test: ok"
