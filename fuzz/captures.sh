#!/usr/bin/env bash
# Capture fuzzer, in the manner of Wireshark's tools/fuzz-test.sh: mutate
# the bundled (and ../shared) captures — random byte errors (editcap -E),
# truncation, timestamp chaos (huge shifts either way, a pcapng shifted
# before 1970, time going backwards, -S) — and read each with tshark and an
# ASan/UBSan build of the plugin, with wmem in strict mode, in every output
# format and with out=DIR.  A finding is a sanitizer report, a crash, an
# unexpected exit status, JSON that does not parse, a CSV row of another
# width than its header, or a graph.dot that dot rejects; its capture and
# stderr are kept.
#
# usage: fuzz/captures.sh [-t SECONDS] [-n FILES] [-s SEED] [PLUGIN_BUILD_DIR]
#   -t SECONDS   stop after this long (default 60)
#   -n FILES     stop after this many mutated files (default: no limit;
#                the long mode is e.g. -n 5000 -t 0)
#   -s SEED      RANDOM seed (default: the time)
# environment: FUZZ_BUILD_DIR (default /tmp/trafan-capture-fuzz), CC (clang)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
seconds=60 files=0 seed=$(date +%s)
while getopts "t:n:s:h" opt; do
    case $opt in
        t) seconds=$OPTARG ;;
        n) files=$OPTARG ;;
        s) seed=$OPTARG ;;
        *) sed -n '/^# usage:/,/^# SPDX/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
work=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/trafan-capture-fuzz}
cc=${CC:-clang}
RANDOM=$seed

die() { echo "fuzz/captures.sh: $*" >&2; exit 2; }
for tool in "$cc" tshark editcap mergecap jq dot gc; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
asan=$("$cc" -print-file-name=libclang_rt.asan-x86_64.so)
[ -f "$asan" ] || die "no ASan runtime ($asan): apt-get install libclang-rt-14-dev"

# ---- the sanitized plugin ------------------------------------------------------
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -shared-libasan -fno-omit-frame-pointer -g -O1"
# A build directory configured from another checkout cannot be reused.
grep -qsx "CMAKE_HOME_DIRECTORY:INTERNAL=$top" "$work/build/CMakeCache.txt" || rm -rf "$work/build"
cmake -S "$top" -B "$work/build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_MODULE_LINKER_FLAGS="-shared-libasan" -DBUILD_TESTING=OFF -DTRAFAN_BUILD_GRAPH=OFF >/dev/null
cmake --build "$work/build" -j 2 --target trafan >/dev/null
version=$(tshark --version | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')

run=$work/run
rm -rf "$run"
mkdir -p "$run/plugins/$version/epan" "$run/extcap" "$run/home" "$run/files" "$work/findings"
cp "$work/build/plugin/trafan.so" "$run/plugins/$version/epan/"
chmod -R a+rwX "$run"
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# tshark with the plugin: the ASan runtime preloaded into tshark alone, no
# extcap helpers (they would inherit the preload), wmem checking every free.
sanitized_tshark() {
    "${as_user[@]}" env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$run/home" \
        WIRESHARK_PLUGIN_DIR="$run/plugins" WIRESHARK_EXTCAP_DIR="$run/extcap" \
        WIRESHARK_DEBUG_WMEM_OVERRIDE=strict LD_PRELOAD="$asan" \
        ASAN_OPTIONS=detect_leaks=0:exitcode=86:handle_abort=1 \
        UBSAN_OPTIONS=halt_on_error=1:exitcode=87:print_stacktrace=1 \
        tshark "$@"
}

seeds=()
for f in "$top"/captures/*.pcap* "$top"/../shared/captures/*.pcap*; do
    [ -s "$f" ] && seeds+=("$f")
done
[ ${#seeds[@]} -gt 0 ] || die "no captures to start from"

# ---- mutations ------------------------------------------------------------------
mutate() {      # SEED_FILE OUT
    local in=$1 out=$2 tmp=$2.tmp
    # The first 2000 frames: many short files find more than a few long ones.
    editcap -r "$in" "$out" 1-2000 2>/dev/null || cp "$in" "$out"
    case $((RANDOM % 7)) in
        0|1) editcap -E "0.0$((RANDOM % 5 + 1))" "$out" "$tmp" 2>/dev/null && mv "$tmp" "$out" ;;
        # a pcapng before 1970 reads as centuries ahead
        2) editcap -F pcapng -t "-$((RANDOM % 3 + 1))000000000" "$out" "$tmp" 2>/dev/null && mv "$tmp" "$out" ;;
        # up to +-2e10 s either way
        3) editcap -t "$(( (RANDOM % 2 * 2 - 1) * RANDOM * RANDOM * (RANDOM % 20 + 1) ))" "$out" "$tmp" 2>/dev/null \
               && mv "$tmp" "$out" ;;
        4) editcap -S 0.$((RANDOM % 9 + 1)) -E 0.005 "$out" "$tmp" 2>/dev/null && mv "$tmp" "$out" ;;
        # time going backwards: the file, then itself shifted back
        5) editcap -t "-$((RANDOM * 10))" "$out" "$tmp.back" 2>/dev/null \
               && mergecap -a -F pcapng -w "$tmp" "$out" "$tmp.back" 2>/dev/null && mv "$tmp" "$out"
           rm -f "$tmp.back" ;;
        6) ;;
    esac
    if [ $((RANDOM % 3)) -eq 0 ]; then      # truncate anywhere
        local size
        size=$(stat -c %s "$out")
        truncate -s $(( (RANDOM * 32768 + RANDOM) % (size + 1) )) "$out"
    fi
    rm -f "$tmp"
    chmod 644 "$out"
}

# ---- checks -------------------------------------------------------------------
# Every row of each CSV table as wide as its header (quotes respected).
csv_widths_ok() {
    awk '
    function fields(line,    n, i, c, q) {
        n = 1; q = 0
        for (i = 1; i <= length(line); i++) {
            c = substr(line, i, 1)
            if (c == "\"") q = !q
            else if (c == "," && !q) n++
        }
        return n
    }
    FNR == 1 || /^# / { width = 0 }         # a file, or a table of the csv format, begins
    /^# / { next }
    /^$/ { next }
    { if (!width) width = fields($0); else if (fields($0) != width) { print FILENAME ": row " FNR ": " fields($0) " fields, header " width; bad = 1 } }
    END { exit bad }' "$@"
}

finding=0 count=0
keep() {        # WHY CAPTURE STDERR
    local dir
    dir=$work/findings/$(date +%s)-$count
    mkdir -p "$dir"
    cp "$2" "$dir/" && cp "$3" "$dir/stderr"
    echo "$1" > "$dir/why"
    echo "FINDING: $1 ($dir)" >&2
    finding=$((finding + 1))
}

check_one() {   # CAPTURE
    local cap=$1 out=$run/files/out err=$run/files/err status format passes
    format=$(printf 'text\njson\ncsv\n' | sed -n "$((RANDOM % 3 + 1))p")
    # Half the runs in two passes, where the post-dissector marks packets.
    passes=(); [ $((RANDOM % 2)) -eq 0 ] || passes=(-2)
    rm -rf "$run/files/dir"; mkdir -m 777 "$run/files/dir"
    set +e
    sanitized_tshark "${passes[@]}" -q -r "$cap" \
        -z "trafan,stat,format=$format,out=$run/files/dir/x,interval=0.$((RANDOM % 9 + 1))" \
        -z trafan,tree -z trafan,flags > "$out" 2> "$err"
    status=$?
    set -e
    case $status in
        0|2) ;;             # 2: tshark's status for a cut-short or corrupt file
        *) keep "exit status $status" "$cap" "$err"; return ;;
    esac
    if grep -qE 'AddressSanitizer|runtime error|wmem|Assertion|CRITICAL' "$err"; then
        keep "sanitizer or assertion report" "$cap" "$err"; return
    fi
    # A file cut inside its first record is refused at open: tshark prints
    # no statistic at all, its own neither.
    [ "$status" -eq 2 ] && [ ! -s "$out" ] && return
    local d=$run/files/dir/x
    [ -s "$d/report.json" ] || { keep "no report.json" "$cap" "$err"; return; }
    jq -e .capture "$d/report.json" >/dev/null 2>&1 || { keep "report.json does not parse" "$cap" "$err"; return; }
    if [ "$format" = json ]; then
        sed -n '/^{/,$p' "$out" | jq -e .capture >/dev/null 2>&1 || { keep "stdout JSON does not parse" "$cap" "$err"; return; }
    fi
    if [ "$format" = csv ]; then
        awk '/^# conversations/,0' "$out" | sed '/^=\{5,\}/,$d' > "$run/files/out.csv"
        csv_widths_ok "$run/files/out.csv" >> "$err" 2>&1 || { keep "CSV row width" "$cap" "$err"; return; }
    fi
    csv_widths_ok "$d"/*.csv >> "$err" 2>&1 || { keep "CSV file row width" "$cap" "$err"; return; }
    # dot's layout takes minutes past some thousands of edges: there the
    # reader alone (gc, cgraph's parser, as dot's), which must say nothing.
    local dot_status=0
    if [ "$(wc -l < "$d/graph.dot")" -le 2000 ]; then
        dot -Tcanon "$d/graph.dot" >/dev/null 2> "$run/files/dot.err" || dot_status=$?
    else
        gc -ne "$d/graph.dot" >/dev/null 2> "$run/files/dot.err" || dot_status=$?
    fi
    if [ "$dot_status" -ne 0 ] || [ -s "$run/files/dot.err" ]; then
        cat "$run/files/dot.err" >> "$err"
        keep "dot rejects graph.dot" "$cap" "$err"
    fi
}

start=$(date +%s)
echo "fuzz/captures.sh: seed $seed, ${#seeds[@]} captures to mutate, ${seconds}s${files:+ / $files files}"
while :; do
    [ "$files" -gt 0 ] && [ "$count" -ge "$files" ] && break
    [ "$seconds" -gt 0 ] && [ $(( $(date +%s) - start )) -ge "$seconds" ] && break
    src=${seeds[$((RANDOM % ${#seeds[@]}))]}
    ext=${src##*.}
    mutate "$src" "$run/files/fuzzed.$ext"
    check_one "$run/files/fuzzed.$ext"
    count=$((count + 1))
done
echo "fuzz/captures.sh: $count mutated captures in $(( $(date +%s) - start )) s, $finding findings"
[ "$finding" -eq 0 ]
