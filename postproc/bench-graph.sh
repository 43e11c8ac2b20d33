#!/bin/sh
# Time trafan-graph against Graphviz's circo, and on large exports.
# Prints times (best of 3 for trafan-graph), peak memory and ratios; it
# asserts nothing.
#
# usage: postproc/bench-graph.sh [TRAFAN_GRAPH]
#   CIRCO_TIMEOUT  seconds allowed to one circo run (default 120); a run cut
#                  short gives a lower bound on its time, marked ">".
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-}
for guess in "$tool" /tmp/build-graph/postproc/trafan-graph "$here/../build/postproc/trafan-graph"; do
    if [ -n "$guess" ] && [ -x "$guess" ]; then tool=$guess; break; fi
done
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
    echo "bench-graph.sh: build trafan-graph first, or name it as the argument" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
circo_timeout=${CIRCO_TIMEOUT:-120}

# measure RUNS TIMEOUT COMMAND...: prints "SECONDS PEAK_KB" (best time; a
# run cut by the timeout prints ">TIMEOUT").
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
runs, timeout, cmd = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
best = None
for _ in range(runs):
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        print(">%.0f -" % timeout)
        sys.exit(0)
    took = time.perf_counter() - start
    if done.returncode != 0:
        print("failed(%d) -" % done.returncode)
        sys.exit(0)
    best = took if best is None else min(best, took)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("%.3f %d" % (best, peak))
PY
}

ratio() {
    python3 -c "import sys; a, b = sys.argv[1], float(sys.argv[2]); \
print(('>' if a[0] == '>' else '') + '%.0fx' % (float(a.lstrip('>')) / b) if a[0] in '>0123456789' else '-')" "$1" "$2"
}

echo "trafan-graph: $tool"
echo "circo: $(command -v circo) ($(dot -V 2>&1))"
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine slows every figure)"
echo
echo "== ring (SVG, every host drawn) against circo -Tsvg on the same graph.dot =="
printf '%8s %8s %12s %12s %10s\n' hosts edges trafan-graph circo speed-up
for hosts in 100 200 300 500; do
    python3 "$here/gen-graph.py" "$hosts" > "$work/g.dot"
    edges=$(grep -c -- ' -- ' "$work/g.dot")
    set -- $(measure 3 60 "$tool" "$work/g.dot" --max-nodes 0 -o "$work/g.svg")
    ours=$1
    set -- $(measure 1 "$circo_timeout" circo -Tsvg -o "$work/c.svg" "$work/g.dot")
    theirs=$1
    printf '%8s %8s %11ss %11ss %10s\n' "$hosts" "$edges" "$ours" "$theirs" "$(ratio "$theirs" "$ours")"
done
echo
echo "== large exports to SVG: time and peak memory =="
printf '%8s %8s %14s %10s %14s %10s\n' hosts edges default-300 peak-MB all-hosts peak-MB
for hosts in 2500 5000 10000 20000; do
    python3 "$here/gen-graph.py" "$hosts" > "$work/g.dot"
    edges=$(grep -c -- ' -- ' "$work/g.dot")
    set -- $(measure 3 120 "$tool" "$work/g.dot" -o "$work/g.svg")
    folded=$1 folded_kb=$2
    set -- $(measure 3 120 "$tool" "$work/g.dot" --max-nodes 0 -o "$work/g.svg")
    printf '%8s %8s %13ss %10.1f %13ss %10.1f\n' "$hosts" "$edges" "$folded" \
        "$(awk "BEGIN { print $folded_kb / 1024 }")" "$1" "$(awk "BEGIN { print $2 / 1024 }")"
done
