#!/usr/bin/env bash
# Precision and recall of trafan's detection over the labelled captures:
# the scenarios gen-attacks writes (with their expected.tsv) and the public
# captures listed in tests/labels.tsv (found in captures/ or ../shared/captures/).
#
# A flag is a true positive when its (host, rule, role) is labelled for its
# capture, a false positive otherwise; a labelled (host, rule, role) that no
# flag names is a false negative.  Also printed per (host, role), which does
# not count a second rule on a rightly flagged host against precision.
#
# Usage: tests/detect-eval.sh [BUILD_DIR]      (default: build)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
plugin=$build/plugin/trafan.so
gen=$build/tests/gen-attacks
[ -f "$plugin" ] && [ -x "$gen" ] || { echo "detect-eval: build first (missing $plugin or $gen)" >&2; exit 2; }

work=$(mktemp -d /tmp/trafan-eval-XXXXXX)
trap '[ -n "${TRAFAN_KEEP:-}" ] || rm -rf "$work"' EXIT
version=$(tshark --version 2>/dev/null | sed -n '1s/.* \([0-9]*\.[0-9]*\)\..*/\1/p')
mkdir -p "$work/plugins/$version/epan" "$work/home" "$work/captures"
cp "$plugin" "$work/plugins/$version/epan/"
chmod -R a+rwX "$work"; chmod 755 "$work"

tshark_as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin LC_ALL=C \
            HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/plugins" tshark "$@"
    else
        env LC_ALL=C HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/plugins" tshark "$@"
    fi
}

"$gen" "$work/generated" >/dev/null
chmod -R a+rX "$work/generated"

# labels: file <TAB> host <TAB> rule <TAB> role, from both sources, with paths.
{
    tail -n +2 "$work/generated/expected.tsv" | while IFS=$'\t' read -r f h r o; do
        printf '%s\t%s\t%s\t%s\n' "$work/generated/$f" "$h" "$r" "$o"
    done
    grep -v '^#' "$top/tests/labels.tsv" | tail -n +2 | while IFS=$'\t' read -r f h r o; do
        for dir in "$top/captures" "$top/../shared/captures"; do
            if [ -f "$dir/$f" ]; then
                [ -f "$work/captures/$f" ] || cp "$dir/$f" "$work/captures/" && chmod a+r "$work/captures/$f"
                printf '%s\t%s\t%s\t%s\n' "$work/captures/$f" "$h" "$r" "$o"
                break
            fi
        done
    done
} > "$work/labels.tsv"

# flags: file <TAB> host <TAB> rule <TAB> role, from the plugin's CSV flags table.
cut -f1 "$work/labels.tsv" | sort -u | while read -r cap; do
    tshark_as_user -q -r "$cap" -z trafan,stat,format=csv 2>/dev/null |
        awk -F, -v cap="$cap" '/^# /{t=substr($0, 3); next} t=="flags" && $1!="Host" && NF>3 {printf "%s\t%s\t%s\t%s\n", cap, $1, $3, $2}' || true
done > "$work/flags.tsv"

awk -F'\t' '
    FNR == NR { if ($2 != "") { want[$1 "\t" $2 "\t" $3 "\t" $4] = 1; wanthr[$1 "\t" $2 "\t" $4] = 1 }
                files[$1] = 1; next }
    { got[$1 "\t" $2 "\t" $3 "\t" $4] = 1; gothr[$1 "\t" $2 "\t" $4] = 1 }
    END {
        for (k in got) if (k in want) tp++; else { fp++; print "false positive: " k }
        for (k in want) if (!(k in got)) { fn++; print "missed: " k }
        for (k in gothr) if (k in wanthr) tph++; else fph++
        for (k in wanthr) if (!(k in gothr)) fnh++
        n = 0; for (f in files) n++
        printf "captures: %d; labelled flags: %d; flags raised: %d\n", n, tp + fn, tp + fp
        printf "by host, rule and role: precision %d/%d = %.3f, recall %d/%d = %.3f\n", tp, tp + fp, (tp + fp) ? tp / (tp + fp) : 1, tp, tp + fn, (tp + fn) ? tp / (tp + fn) : 1
        printf "by host and role:       precision %d/%d = %.3f, recall %d/%d = %.3f\n", tph, tph + fph, (tph + fph) ? tph / (tph + fph) : 1, tph, tph + fnh, (tph + fnh) ? tph / (tph + fnh) : 1
    }' "$work/labels.tsv" "$work/flags.tsv" | sed "s|$work/[a-z]*/||g"
