#!/usr/bin/env bash
# trafan in the real Wireshark during a LIVE capture, under Xvfb:
#   Wireshark captures on the loopback interface (`wireshark -i lo -k`, a
#   capture filter limited to this test's two addresses); Statistics ▸
#   Traffic Analysis (trafan) is opened from the menu while it captures;
#   then this script port-scans a loopback address (TCP connects from
#   SCANNER to 40 closed ports, again and again).  While the capture still
#   runs, the window must come to list SCANNER with port_scan (threshold: 15
#   refused ports) and its packet count must grow from one read to the next.
#
# Wireshark's statistics-tree dialogs tap the packets captured so far when
# they open and on Apply, and do not redraw by themselves during a capture
# (ui/qt/stats_tree_dialog.cpp detaches the tap after drawing): each read
# presses Apply, then Copy, as a user does.
#
# Usage: tests/gui-live-test.sh PLUGIN WIRESHARK_VERSION SCANNER [SHOTS_DIR]
# SCANNER is a loopback address (127.x.y.z) the scan is sent from; the
# target is another, chosen at random, so that concurrent runs and other
# tests' loopback traffic stay out of the capture.
# SHOTS_DIR receives screenshots (gui-live-*.png).
# Exit 77 (skipped) without wireshark, dumpcap, Xvfb, xdotool, xclip, import
# or python3, or when the unprivileged user cannot capture on lo.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

plugin=$1 version=$2 scanner=$3 shots=${4:-}
for tool in wireshark dumpcap Xvfb xdotool xclip import python3; do
    command -v "$tool" >/dev/null || { echo "gui-live-test: $tool not installed, skipped"; exit 77; }
done
case $scanner in 127.*) ;; *) echo "gui-live-test: SCANNER must be a loopback address: $scanner"; exit 2 ;; esac

work=$(mktemp -d /tmp/trafan-gui-live-XXXXXX)
# (A process that has exited but is not yet waited for is not alive.)
alive() {
    local pid state
    for pid; do
        state=$(ps -o stat= -p "$pid" 2>/dev/null) || continue
        case $state in Z*) ;; *) return 0 ;; esac
    done
    return 1
}
xvfb_pid= ws_pid= dumpcap_pids= scan_pid=
cleanup() {
    [ -z "$scan_pid" ] || kill "$scan_pid" 2>/dev/null || true
    # A dumpcap whose Wireshark is killed keeps capturing: stop it first,
    # so that Wireshark, its parent, still reaps it.
    if [ -n "$dumpcap_pids" ]; then
        kill $dumpcap_pids 2>/dev/null || true
        for _ in $(seq 1 20); do alive $dumpcap_pids || break; sleep 0.25; done
    fi
    [ -z "$ws_pid" ] || kill "$ws_pid" 2>/dev/null || true
    [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)
elapsed() { echo $(($(date +%s) - started)); }
fail() { echo "gui-live-test: FAIL after $(elapsed) s: $*"; exit 1; }
chmod 755 "$work"
mkdir -p "$work/plugins/$version/epan" "$work/home" "$work/xdg" "$work/tmp"
cp "$plugin" "$work/plugins/$version/epan/trafan.so"
chmod -R a+rX "$work"
chmod 777 "$work/home" "$work/tmp"

# Wireshark run by root ignores WIRESHARK_PLUGIN_DIR: run it as nobody,
# with the capabilities dumpcap needs to capture (as tests/tshark-run.c).
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups
             --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin)
    chown 65534:65534 "$work/xdg"
fi
chmod 700 "$work/xdg"
user_env=(env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_RUNTIME_DIR="$work/xdg" TMPDIR="$work/tmp"
          NO_AT_BRIDGE=1 WIRESHARK_PLUGIN_DIR="$work/plugins")

# A target no other test uses: 127.0.0.1 to 127.0.0.3 are taken.
target=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
filter="host $scanner and host $target"
if ! "${as_user[@]}" "${user_env[@]}" timeout 60 dumpcap -i lo -a duration:1 -f "$filter" \
        -w "$work/tmp/probe.pcapng" >"$work/probe.log" 2>&1; then
    echo "gui-live-test: this user cannot capture on lo, skipped: $(cat "$work/probe.log")"
    exit 77
fi
rm -f "$work/tmp/probe.pcapng"

exec 3< <(Xvfb -displayfd 1 -screen 0 1600x1000x24 -ac -nolisten tcp 2>/dev/null)
xvfb_pid=$!
read -r -t 30 display <&3 || fail "Xvfb did not start"
export DISPLAY=:$display

"${as_user[@]}" "${user_env[@]}" DISPLAY="$DISPLAY" wireshark -i lo -k -f "$filter" >"$work/log" 2>&1 &
ws_pid=$!

. "$(dirname "$0")/gui-lib.sh"
shot() { [ -z "$shots" ] || import -window root "$shots/gui-live-$1.png" 2>/dev/null || true; }
capturing() { case $(xdotool getwindowname "$main") in "Capturing from"*) return 0 ;; esac; return 1; }
# The window's text after Apply (at width - 52, height - 55), from its Copy
# button (at width - 236, height - 24).
copy_text() {
    eval "$(xdotool getwindowgeometry --shell "$tree")"
    xdotool mousemove --window "$tree" $((WIDTH - 52)) $((HEIGHT - 55)) click 1
    sleep 1
    xdotool mousemove --window "$tree" $((WIDTH - 236)) $((HEIGHT - 24)) click 1
    sleep 0.5
    xclip -o -selection clipboard 2>/dev/null || true
}
# A top-level branch's count in the copied text.
count_of() { printf '%s\n' "$2" | awk -v b="$1" 'index($0, b) == 1 { n = substr($0, length(b) + 1); split(n, f, " "); print f[1]; exit }'; }
flagged() { case $1 in *"$scanner port_scan (source)"*) return 0 ;; esac; return 1; }

main=$(window "Capturing from Loopback") || fail "no capturing main window: $(cat "$work/log")"
for _ in $(seq 1 40); do
    dumpcap_pids=$(pgrep -P "$ws_pid" -x dumpcap | tr '\n' ' ') || true
    [ -z "$dumpcap_pids" ] || break
    sleep 0.25
done
[ -n "$dumpcap_pids" ] || fail "Wireshark started no dumpcap: $(cat "$work/log")"
xdotool windowsize "$main" 1500 940
xdotool windowmove "$main" 0 0

# Statistics ▸ Traffic Analysis (trafan), while Wireshark captures.
tree=$(open_traffic_analysis "$main") || fail "the Traffic Analysis window did not open"
xdotool windowmove "$tree" 60 420
xdotool windowsize "$tree" 1400 480
capturing || fail "the capture is not running once the window is open: $(xdotool getwindowname "$main")"
text=$(copy_text)
flagged "$text" && fail "$scanner is flagged before any scan: $text"
before=$(count_of "Protocols (highest layer)" "$text")
echo "gui-live-test: window open during the capture, ${before:-?} packets in it"

# The scan: TCP connects from $scanner to 40 closed ports of $target, 50 ms
# apart, in turn until told to stop (at most 90 s), so that packets keep
# arriving while the window is read.
cat >"$work/scan.py" <<'EOF'
import os, socket, sys, time
src, dst, stop = sys.argv[1], sys.argv[2], sys.argv[3]
end = time.monotonic() + 90
i = 0
while not os.path.exists(stop) and time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.bind((src, 0))
        s.connect((dst, 47000 + i % 40))
    except OSError:
        pass
    finally:
        s.close()
    i += 1
    time.sleep(0.05)
EOF
python3 "$work/scan.py" "$scanner" "$target" "$work/stop" &
scan_pid=$!
echo "gui-live-test: scanning $target from $scanner"

# Wait up to 30 s for the flag, reading the window again and again.
deadline=$(($(date +%s) + 30))
last= seen=
while [ "$(date +%s)" -lt "$deadline" ]; do
    text=$(copy_text)
    last=$(count_of "Protocols (highest layer)" "$text")
    if flagged "$text" && capturing; then seen=1; break; fi
    sleep 1
done
if [ -z "$seen" ]; then
    shot no-flag
    fail "no port_scan flag for $scanner during the live capture ($(xdotool getwindowname "$main")," \
         "${last:-?} packets in the window): $text"
fi
shot tree
echo "gui-live-test: during the capture the window flags $scanner port_scan ($(elapsed) s)"

# The window keeps counting as packets arrive.
grown=
for _ in $(seq 1 15); do
    sleep 1
    n=$(count_of "Protocols (highest layer)" "$(copy_text)")
    if [ -n "$n" ] && [ -n "$last" ] && [ "$n" -gt "$last" ]; then grown=$n; break; fi
done
[ -n "$grown" ] || fail "the window's packet count stays at ${last:-?} while packets arrive"
echo "gui-live-test: its packet count grows: $last -> $grown"

# Stop the scan and the capture (Capture ▸ Stop), then Wireshark.
touch "$work/stop"
wait "$scan_pid" || true
scan_pid=
xdotool windowfocus --sync "$main"
xdotool key ctrl+e
for _ in $(seq 1 60); do capturing || break; sleep 0.5; done
capturing && fail "the capture does not stop"
shot stopped
for _ in $(seq 1 40); do alive $dumpcap_pids || break; sleep 0.25; done
alive $dumpcap_pids && fail "dumpcap ($dumpcap_pids) still runs 10 s after the capture stopped"
dumpcap_pids=
kill "$ws_pid"
for _ in $(seq 1 40); do alive "$ws_pid" || break; sleep 0.25; done
alive "$ws_pid" && fail "Wireshark still runs 10 s after SIGTERM"
wait "$ws_pid" 2>/dev/null || true
ws_pid=
echo "gui-live-test: ok ($(elapsed) s)"
