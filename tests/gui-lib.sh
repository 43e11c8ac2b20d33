# gui-lib.sh — what the GUI tests (gui-test.sh, gui-live-test.sh) do alike
# in Wireshark under Xvfb; sourced, with DISPLAY set.
# SPDX-License-Identifier: GPL-2.0-or-later

regex() { printf '%s' "$1" | sed 's/[][().*+?^$|\\]/\\&/g'; }
# The first visible window whose name matches TITLE, waiting for it.
window() { timeout 60 xdotool search --sync --onlyvisible --name "$(regex "$1")" | head -n 1; }

# Statistics ▸ Traffic Analysis (trafan) from MAIN's menu (the last entry,
# where plugin statistics trees go); prints the window's id.
open_traffic_analysis() {
    xdotool windowfocus --sync "$1"
    xdotool key alt+s
    sleep 1
    xdotool key Up
    sleep 0.5
    xdotool key Return
    window "Traffic Analysis (trafan)"
}
