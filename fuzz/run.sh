#!/bin/sh
# Build the core's libFuzzer targets with clang and run each for SECONDS
# (default 60 in all), from the seeds in fuzz/seeds/TARGET.  Exits non-zero
# on the first finding; the input that caused it is in $FUZZ_BUILD_DIR/crashes.
#
# usage: fuzz/run.sh [SECONDS] [TARGET...]
#   targets: fuzz_options fuzz_allowlist fuzz_packets (default: all three)
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_options fuzz_allowlist fuzz_packets}
here=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/trafan-core-fuzz}
cc=${CC:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz/run.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi
# A build directory configured from another checkout cannot be reused.
grep -qsx "CMAKE_HOME_DIRECTORY:INTERNAL=$here" "$build/out/CMakeCache.txt" || rm -rf "$build/out"
CC=$cc cmake -S "$here" -B "$build/out" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086  # the targets are meant to split
cmake --build "$build/out" -j 2 --target $targets >/dev/null

set -- $targets
per_target=$(( seconds / $# ))
[ "$per_target" -ge 1 ] || per_target=1
mkdir -p "$build/crashes"
for target in "$@"; do
    corpus=$build/corpus/$target
    mkdir -p "$corpus"
    [ -d "$here/seeds/$target" ] && cp "$here/seeds/$target"/* "$corpus"/
    echo "== $target: $per_target s"
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$build/out/$target" -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$build/crashes/$target-" "$corpus" 2>&1 |
        grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|runtime error|INFO: Running)' || true
    # libFuzzer leaves crash-/leak-/timeout- files: any is a finding.
    if ls "$build/crashes/$target-"* >/dev/null 2>&1; then
        echo "fuzz/run.sh: $target found a problem: $(ls "$build/crashes/$target-"*)" >&2
        exit 1
    fi
done
