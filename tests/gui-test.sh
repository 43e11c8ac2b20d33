#!/usr/bin/env bash
# Statistics ▸ Traffic Analysis (trafan) in the real Wireshark, under Xvfb:
# open a capture, open the window from the menu with the keyboard, copy its
# text with its Copy button, and check the flagged scanner is listed.
#
# Usage: tests/gui-test.sh PLUGIN WIRESHARK_VERSION CAPTURE [SCREENSHOT.png]
# Exit 77 (skipped) without wireshark, Xvfb, xdotool or xclip.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

plugin=$1 version=$2 capture=$3 screenshot=${4:-}
for tool in wireshark Xvfb xdotool xclip; do
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
chmod 755 "$work"
mkdir -p "$work/plugins/$version/epan" "$work/home" "$work/xdg"
cp "$plugin" "$work/plugins/$version/epan/trafan.so"
cp "$capture" "$work/"
chmod -R a+rX "$work"
chmod 777 "$work/home"

# Wireshark run by root ignores WIRESHARK_PLUGIN_DIR: run it as nobody.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chown 65534:65534 "$work/xdg"
fi
chmod 700 "$work/xdg"

exec 3< <(Xvfb -displayfd 1 -screen 0 1600x1000x24 -ac -nolisten tcp 2>/dev/null)
xvfb_pid=$!
read -r -t 30 display <&3 || { echo "gui-test: Xvfb did not start"; exit 1; }
export DISPLAY=:$display

name=$(basename "$capture")
"${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_RUNTIME_DIR="$work/xdg" NO_AT_BRIDGE=1 \
    DISPLAY="$DISPLAY" WIRESHARK_PLUGIN_DIR="$work/plugins" wireshark -r "$work/$name" >"$work/log" 2>&1 &
ws_pid=$!

regex() { printf '%s' "$1" | sed 's/[][().*+?^$|\\]/\\&/g'; }
main=$(timeout 60 xdotool search --sync --onlyvisible --name "$(regex "$name")" | head -n 1) \
    || { echo "gui-test: no main window"; cat "$work/log"; exit 1; }
sleep 2

# Statistics menu, then Up: the last entry, where plugin stats trees go.
xdotool windowfocus --sync "$main"
xdotool key alt+s
sleep 1
xdotool key Up
sleep 0.5
xdotool key Return
dialog=$(timeout 30 xdotool search --sync --onlyvisible --name "$(regex "Traffic Analysis (trafan)")" | head -n 1) \
    || { echo "gui-test: the Traffic Analysis window did not open"; exit 1; }

# Copy sits at (width - 236, height - 24) of the dialog; wait for the text.
text=
for _ in $(seq 1 20); do
    sleep 1
    eval "$(xdotool getwindowgeometry --shell "$dialog")"
    xdotool mousemove --window "$dialog" $((WIDTH - 236)) $((HEIGHT - 24)) click 1
    sleep 0.5
    text=$(xclip -o -selection clipboard 2>/dev/null || true)
    case $text in *"Suspicious hosts"*port_scan*) break ;; esac
done
[ -z "$screenshot" ] || import -window root "$screenshot" 2>/dev/null || true

printf '%s\n' "$text" | sed -n '1,12p'
case $text in
    *"Suspicious hosts"*) ;;
    *) echo "gui-test: no 'Suspicious hosts' in the window"; exit 1 ;;
esac
case $text in
    *"192.168.1.178 port_scan (source)"*) echo "gui-test: ok" ;;
    *) echo "gui-test: the scanner is not flagged in the window"; exit 1 ;;
esac
