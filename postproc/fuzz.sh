#!/bin/sh
# Build the libFuzzer target with clang and run it for SECONDS (default 60),
# starting from the test fixtures.  Exits non-zero if it finds a crash.
#
# usage: postproc/fuzz.sh [SECONDS]
set -eu

seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/trafan-graph-fuzz}
cc=${CC:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz.sh: $cc not found (apt-get install clang)" >&2
    exit 2
fi

# The project without the plugin: the fuzz target needs no Wireshark.  A
# build directory configured from another checkout cannot be reused.
top=$(cd "$here/.." && pwd)
grep -qsx "CMAKE_HOME_DIRECTORY:INTERNAL=$top" "$build/out/CMakeCache.txt" || rm -rf "$build/out"
CC=$cc cmake -S "$top" -B "$build/out" -DTRAFAN_BUILD_PLUGIN=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build/out" --target fuzz_graph >/dev/null
fuzzer="$build/out/postproc/fuzz_graph"
if [ ! -x "$fuzzer" ]; then
    echo "fuzz.sh: $cc cannot build libFuzzer targets (apt-get install libclang-rt-dev)" >&2
    exit 2
fi

corpus="$build/corpus"
mkdir -p "$corpus" "$build/crashes"
cp "$here"/tests/fixtures/*.dot "$corpus"/

# Graphviz keeps caches and lexer state for the life of the process, which
# grow over millions of inputs (a program reads one graph): leaks are not
# findings, and fork mode runs the inputs in short-lived child processes.
ASAN_OPTIONS=detect_leaks=0 "$fuzzer" -fork=1 -max_total_time="$seconds" -timeout=20 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/" "$corpus"
