#!/usr/bin/env bash
# Benchmark -z trafan,stat against tshark's own dissection and taps on a
# large synthetic capture: wall time and peak RSS, runs interleaved
# round-robin, medians.  It reports; it does not judge (exit 0 whatever the
# numbers, non-zero only on errors).  See bench/README.md.
#
# usage: bench/run.sh [options] [PLUGIN]
#   PLUGIN            trafan.so to load (default: $TRAFAN_PLUGIN, else
#                     build/plugin/trafan.so in the source tree)
#   -n RUNS           timed runs of each configuration (default 5)
#   -p PACKETS        packets in the capture (default 200000)
#   -H HOSTS          IP addresses in the capture (default 2000)
#   -s SEED           generator seed (default 1)
#   --quick           smoke test: 20000 packets, 2 runs
#   --mix NAME        a hostile capture instead of the ordinary one: flows
#                     (nearly every packet a new flow), synflood (SYNs from
#                     150,000 spoofed sources to 3 targets) or udpconv (every
#                     packet a new UDP conversation); 200,000 packets (-p to
#                     change); compares floor, builtins (-z conv,ip
#                     -z endpoints,ip) and -z trafan,stat
#   --tree            -z trafan,tree (the Statistics window) against
#                     -z conv,ip on udpconv captures of 25,000 and 50,000
#                     conversations (and 1,000,000 with --big)
#   --big             the issue-sized captures: 1,000,000 packets for
#                     synflood and udpconv, 1,000,000 conversations for --tree
#   --no-instructions skip the instruction counts (valgrind's callgrind on the
#                     first 10000 packets, start-up subtracted), which do not
#                     depend on the machine's load as wall times do
#   -h, --help        this text
# environment:
#   TRAFAN_PLUGIN     the plugin, when no argument names it
#   TRAFAN_BENCH_DIR  where the generated capture is kept (default /var/tmp/trafan-bench)
#   TSHARK            the tshark to run (default: tshark from PATH)
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

die() { echo "bench/run.sh: $*" >&2; exit 1; }
note() { echo "bench/run.sh: $*" >&2; }
usage() { sed -n '/^# usage:/,/^# SPDX/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

runs=5 packets=200000 hosts=2000 seed=1 plugin= instructions=yes mix= tree= big= packets_given=
while [ $# -gt 0 ]; do
    case $1 in
        -n) [ $# -ge 2 ] || die "-n needs a value"; runs=$2; shift 2 ;;
        -p) [ $# -ge 2 ] || die "-p needs a value"; packets=$2; packets_given=yes; shift 2 ;;
        -H) [ $# -ge 2 ] || die "-H needs a value"; hosts=$2; shift 2 ;;
        -s) [ $# -ge 2 ] || die "-s needs a value"; seed=$2; shift 2 ;;
        --quick) packets=20000 runs=2; shift ;;
        --no-instructions) instructions=no; shift ;;
        --mix) [ $# -ge 2 ] || die "--mix needs a name"; mix=$2; shift 2 ;;
        --tree) tree=yes; shift ;;
        --big) big=yes; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) note "unknown option $1"; usage >&2; exit 2 ;;
        *) [ -z "$plugin" ] || die "one plugin only (got '$plugin' and '$1')"; plugin=$1; shift ;;
    esac
done
for v in runs packets hosts seed; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
[ "$runs" -ge 1 ] || die "need at least one run"
case $mix in
    ''|flows|synflood|udpconv) ;;
    *) die "unknown mix '$mix' (flows, synflood, udpconv)" ;;
esac
if [ -n "$mix" ] || [ -n "$tree" ]; then
    instructions=no
    [ -n "$big" ] && [ -z "$packets_given" ] && [ "$mix" != flows ] && packets=1000000
fi

# ---- tools ------------------------------------------------------------------
tshark=${TSHARK:-$(command -v tshark || true)}
if [ -z "$tshark" ] || [ ! -x "$tshark" ]; then
    die "tshark not found (apt-get install tshark, or set TSHARK)"
fi
for tool in capinfos cc pkg-config awk sort; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
pkg-config --exists glib-2.0 || die "GLib development files not found (apt-get install libglib2.0-dev)"
if ! /usr/bin/time -f %e true >/dev/null 2>&1; then
    die "GNU time not found at /usr/bin/time (apt-get install time)"
fi

plugin=${plugin:-${TRAFAN_PLUGIN:-$top/build/plugin/trafan.so}}
[ -f "$plugin" ] || die "no plugin at $plugin: build it (cmake -S . -B build && cmake --build build) or name it (bench/run.sh PATH, or TRAFAN_PLUGIN=PATH)"
plugin=$(cd "$(dirname "$plugin")" && pwd)/$(basename "$plugin")

ws_version=$("$tshark" --version 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$ws_version" ] || die "cannot read the Wireshark version from '$tshark --version'"

# ---- scratch ----------------------------------------------------------------
work=
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/trafan-bench-XXXXXX")
chmod 755 "$work"

# tshark sees only our plugin: WIRESHARK_PLUGIN_DIR replaces the system
# plugin folder and HOME a clean one (no personal plugins or preferences).
# tshark ignores both when run as root, so root runs it as nobody.
plugdir=$work/plugins
mkdir -p "$plugdir/$ws_version/epan"
cp "$plugin" "$plugdir/$ws_version/epan/trafan.so"
chmod -R a+rX "$plugdir"
mkdir -m 777 "$work/exports"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    command -v setpriv >/dev/null || die "running as root needs setpriv (util-linux) to run tshark as nobody"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
run_tshark() {
    "${as_user[@]}" env HOME="$plugdir" XDG_CONFIG_HOME="$plugdir/.config" \
        WIRESHARK_PLUGIN_DIR="$plugdir" "$tshark" "$@"
}

# ---- the capture ------------------------------------------------------------
cache=${TRAFAN_BENCH_DIR:-/var/tmp/trafan-bench}
if [ ! -d "$cache" ]; then
    mkdir -p "$cache" || die "cannot create $cache"
    chmod 755 "$cache"
fi
gen_id=$(sha256sum "$here/gen-traffic.c" | cut -c1-12)
generator_built=

# make_capture MIX PACKETS: sets cap and info (MIX empty: the ordinary capture)
make_capture() {
    local mix=$1 packets=$2 gen_args
    if [ -n "$mix" ]; then
        cap=$cache/$mix-p$packets-s$seed-$gen_id.pcap
        gen_args=(-m "$mix" -n "$packets" -s "$seed")
    else
        cap=$cache/traffic-p$packets-h$hosts-s$seed-$gen_id.pcap
        gen_args=(-n "$packets" -H "$hosts" -s "$seed")
    fi
    info=${cap%.pcap}.info
    if [ -s "$cap" ] && [ -s "$info" ]; then
        note "reusing $cap"
    else
        if [ -z "$generator_built" ]; then
            note "building the generator"
            # shellcheck disable=SC2046  # pkg-config prints several words
            cc -std=c11 -O2 -Wall -Wextra -o "$work/gen-traffic" "$here/gen-traffic.c" \
                $(pkg-config --cflags --libs glib-2.0) -lm || die "cannot build bench/gen-traffic.c"
            generator_built=yes
        fi
        note "generating ${mix:-ordinary traffic}: $packets packets into $cap"
        "$work/gen-traffic" "${gen_args[@]}" -o "$cap.tmp$$" > "$info.tmp$$" \
            || { rm -f "$cap.tmp$$" "$info.tmp$$"; die "gen-traffic failed"; }
        chmod 644 "$cap.tmp$$" "$info.tmp$$"
        mv -f "$cap.tmp$$" "$cap"
        mv -f "$info.tmp$$" "$info"
    fi
    # nobody must read the capture: use it in place if it can, else a copy
    if [ ${#as_user[@]} -gt 0 ] && ! "${as_user[@]}" test -r "$cap"; then
        note "copying the capture where nobody can read it"
        cp "$cap" "$work/capture-$mix-$packets.pcap"
        chmod 644 "$work/capture-$mix-$packets.pcap"
        cap=$work/capture-$mix-$packets.pcap
    fi
}
info_get() { awk -v k="$1" '$1 == k { print $2 }' "$info"; }

# ---- the configurations -----------------------------------------------------
declare -A args=(
    [none]=""
    [floor]="-z conv,eth"
    [tree]="-z io,phs"
    [builtins]="-z conv,ip -z conv,ipv6 -z endpoints,ip -z endpoints,ipv6 -z io,stat,1 -z io,phs"
    [trafan]="-z trafan,stat"
    [trafan+exports]="-z trafan,stat,format=json,out=$work/exports/out"
    [conv,ip]="-z conv,ip"
    [builtins-ip]="-z conv,ip -z endpoints,ip"
    [trafan,tree]="-z trafan,tree"
)

# measure NAME: one timed run, appends "NAME SECONDS PEAK_KB" to $results
results=$work/results
: > "$results"
measure() {
    local name=$1
    # shellcheck disable=SC2086  # the arguments are meant to split
    if ! /usr/bin/time -f "%e %M" -o "$work/time" \
            "${as_user[@]}" env HOME="$plugdir" XDG_CONFIG_HOME="$plugdir/.config" \
            WIRESHARK_PLUGIN_DIR="$plugdir" "$tshark" -q -r "$cap" ${args[$name]} \
            > /dev/null 2> "$work/stderr"; then
        echo "bench/run.sh: tshark failed in configuration '$name' (tshark -q -r CAP ${args[$name]}):" >&2
        grep -v 'Running as user' "$work/stderr" | tail -n 20 >&2
        exit 1
    fi
    echo "$name $(tail -n 1 "$work/time")" >> "$results"
}

# measure_all RUNS NAME...: a warm-up, then the runs round-robin, starting
# one further each round so that no configuration always follows the same
# neighbour; then the table: medians, ratios to the floor (and to conv,ip
# when measured), peak RSS over the floor's.
measure_all() {
    local n=$1 r i name
    shift
    local names=("$@")
    measure none          # warm-up: brings the capture into the page cache
    : > "$results"
    for ((r = 0; r < n; r++)); do
        for ((i = 0; i < ${#names[@]}; i++)); do
            name=${names[(i + r) % ${#names[@]}]}
            rm -rf "$work/exports/out"
            measure "$name"
            if [ "$name" = trafan+exports ]; then
                [ -s "$work/exports/out/report.json" ] || die "trafan+exports wrote no $work/exports/out/report.json"
            fi
        done
        printf '.' >&2
    done
    echo >&2
    awk -v order="${names[*]}" '
function median(list, n,    a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++)            # insertion sort, n is small
        for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function minimum(list,    a, i, n, m) {
    n = split(list, a, " "); m = a[1]
    for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]
    return m
}
{ wall[$1] = wall[$1] " " $2; rss[$1] = rss[$1] " " $3 }
END {
    n = split(order, name, " ")
    fw = median(wall["floor"]); fr = median(rss["floor"]) / 1024
    cw = ("conv,ip" in wall) ? median(wall["conv,ip"]) : 0
    printf "\n%-16s %10s %8s %9s %10s %10s%s\n", "configuration", "median s", "min s", "/ floor", "peak MB", "- floor", cw ? "  / conv,ip" : ""
    for (i = 1; i <= n; i++) {
        c = name[i]; w = median(wall[c]); m = median(rss[c]) / 1024
        printf "%-16s %10.2f %8.2f %9.2f %10.1f %+10.1f", c, w, minimum(wall[c]), w / fw, m, m - fr
        if (cw) printf "  %9.2f", w / cw
        printf "\n"
    }
}' "$results"
}

header() {
    echo "trafan benchmark, $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "tshark:  $("$tshark" --version 2>/dev/null | head -n 1)"
    echo "plugin:  $plugin"
}

# the plugin must load
run_tshark -G plugins 2>/dev/null | grep -q 'trafan\.so' \
    || die "tshark $ws_version does not load $plugin (built for another Wireshark?)"

if [ -n "$tree" ]; then
    sizes="25000 50000"
    [ -n "$big" ] && sizes="$sizes 1000000"
    [ -n "$packets_given" ] && sizes=$packets
    header
    for size in $sizes; do
        make_capture udpconv "$size"
        echo "capture: $cap ($size packets, $size UDP conversations)"
        measure_all "$runs" floor conv,ip trafan,tree
        echo
    done
    echo "(medians of $runs runs; load at the end $(cut -d' ' -f1-3 /proc/loadavg))"
    exit 0
fi

if [ -n "$mix" ]; then
    make_capture "$mix" "$packets"
    header
    echo "capture: $cap"
    echo "         $(info_get packets) packets, $(( $(info_get bytes) / 1000000 )) MB, $(info_get span_s) s, mix $mix"
    measure_all "$runs" floor builtins-ip trafan
    echo
    echo "(medians of $runs runs; builtins-ip = -z conv,ip -z endpoints,ip; load at the end $(cut -d' ' -f1-3 /proc/loadavg))"
    exit 0
fi

make_capture "" "$packets"
got=$(capinfos -T -r -c "$cap" 2>/dev/null | awk -F'\t' 'NF >= 2 { print $2; exit }')
[ "$got" = "$packets" ] || die "$cap: capinfos counts '${got:-nothing}' packets, expected $packets (delete it to regenerate)"
if [ -z "$(info_get verified_hosts)" ]; then
    # once per capture: count the IP endpoints as tshark sees them
    n=$(run_tshark -q -r "$cap" -z endpoints,ip -z endpoints,ipv6 2>/dev/null \
        | awk '/^[0-9a-f:.]+ +[0-9]/ { n++ } END { print n + 0 }')
    echo "verified_hosts $n" >> "$info"
fi
[ "$(info_get verified_hosts)" = "$(info_get hosts)" ] \
    || note "warning: tshark counts $(info_get verified_hosts) hosts, the generator $(info_get hosts)"
[ "$(info_get hosts)" -ge "$hosts" ] \
    || note "warning: only $(info_get hosts) of $hosts hosts appear (too few packets for every host)"

header
echo "capture: $cap"
echo "         $(info_get packets) packets, $(info_get hosts) hosts ($(info_get ipv4_hosts) IPv4, $(info_get ipv6_hosts) IPv6), $(( $(info_get bytes) / 1000000 )) MB, $(info_get span_s) s"
echo "runs:    $runs of each configuration, interleaved; plus one warm-up"
measure_all "$runs" none floor tree builtins trafan trafan+exports | tee "$work/table"
awk '$1 == "floor" { f = $2; fr = $5 } $1 == "trafan" { t = $2; tr = $5 } $1 == "trafan+exports" { e = $2; er = $5 }
     $1 == "builtins" { b = $2 }
     END {
        printf "\ntrafan wall / floor = %.2f (target <= 1.10)\n", t / f
        printf "trafan peak RSS - floor = %.1f MB (target <= 20)\n", tr - fr
        printf "trafan+exports wall / floor = %.2f, peak RSS - floor = %.1f MB\n", e / f, er - fr
        printf "builtins / floor = %.2f\n", b / f
     }' "$work/table"
echo
echo "(medians of $runs runs; peak = maximum resident set size; load at the end $(cut -d' ' -f1-3 /proc/loadavg))"

# ---- instructions per packet ----------------------------------------------------
# Wall times on a shared machine drift by several percent from run to run;
# instruction counts do not.  Count them for the first packets of the capture
# and for none (the start-up), and compare what the packets cost.
if [ "$instructions" = yes ] && command -v valgrind >/dev/null && command -v editcap >/dev/null; then
    slice=10000
    editcap -r "$cap" "$work/slice.pcap" "1-$slice" 2>/dev/null || die "editcap cannot cut $cap"
    head -c 24 "$cap" > "$work/empty.pcap"           # the pcap file header alone
    chmod 644 "$work/slice.pcap" "$work/empty.pcap"
    instructions_of() {     # FILE CONFIGURATION
        # shellcheck disable=SC2086  # the arguments are meant to split
        "${as_user[@]}" env HOME="$plugdir" XDG_CONFIG_HOME="$plugdir/.config" WIRESHARK_PLUGIN_DIR="$plugdir" \
            valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tshark" -q -r "$1" ${args[$2]} 2>&1 >/dev/null |
            sed -n 's/.*Collected : //p'
    }
    printf 'counting instructions (callgrind, %d packets)' "$slice" >&2
    declare -A per_packet
    for name in floor builtins trafan; do
        full=$(instructions_of "$work/slice.pcap" "$name"); printf '.' >&2
        start=$(instructions_of "$work/empty.pcap" "$name"); printf '.' >&2
        [ -n "$full" ] && [ -n "$start" ] || die "callgrind gave no count for '$name'"
        per_packet[$name]=$(( (full - start) / slice ))
    done
    echo >&2
    awk -v f="${per_packet[floor]}" -v b="${per_packet[builtins]}" -v t="${per_packet[trafan]}" 'BEGIN {
        printf "instructions per packet (first %d packets, start-up subtracted): floor %d, builtins %d, trafan %d\n", '"$slice"', f, b, t
        printf "trafan instructions / floor = %.3f (target <= 1.10); builtins / floor = %.3f\n", t / f, b / f
    }'
fi
