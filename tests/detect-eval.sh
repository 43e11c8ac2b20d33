#!/usr/bin/env bash
# Precision and recall of trafan's detection over the labelled captures:
# the scenarios gen-attacks writes (with their expected.tsv) and the public
# captures listed in tests/labels.tsv (found in captures/ or ../shared/captures/).
#
# A flag is true when its (host, rule, role) is labelled for its capture,
# false otherwise; a labelled (host, rule, role) that no flag names is a
# miss.  Prints every false flag and every miss, then precision and recall
# per rule and overall, and per (host, role), which does not count a second
# rule on a rightly flagged host against precision.
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

# Per rule and overall, by (host, rule, role); then by (host, role), which
# does not count a second rule on a rightly flagged host against precision.
awk -F'\t' '
    function ratio(n, d) { return d ? sprintf("%.3f", n / d) : "-" }
    function shown(k) { sub(/^[^\t]*\//, "", k); return k }
    function row(name, tp, fp, fn) {
        printf "%-16s %8d %7d %6d %6d %6d  %-9s %s\n", name, tp + fn, tp + fp, tp, fp, fn,
               ratio(tp, tp + fp), ratio(tp, tp + fn)
    }
    FNR == NR { if ($2 != "") { want[$1 "\t" $2 "\t" $3 "\t" $4] = 1; wanthr[$1 "\t" $2 "\t" $4] = 1
                                rules[$3] = 1 }
                files[$1] = 1; next }
    { got[$1 "\t" $2 "\t" $3 "\t" $4] = 1; gothr[$1 "\t" $2 "\t" $4] = 1; rules[$3] = 1 }
    END {
        for (k in got) { split(k, f, "\t")
            if (k in want) { tp++; rtp[f[3]]++ } else { fp++; rfp[f[3]]++; print "false flag\t" shown(k) | "sort" } }
        for (k in want) if (!(k in got)) { split(k, f, "\t"); fn++; rfn[f[3]]++; print "miss\t" shown(k) | "sort" }
        close("sort")
        for (k in gothr) if (k in wanthr) tph++; else fph++
        for (k in wanthr) if (!(k in gothr)) fnh++
        n = 0; for (x in files) n++
        printf "\ncaptures: %d; labelled flags: %d; flags raised: %d\n\n", n, tp + fn, tp + fp
        printf "%-16s %8s %7s %6s %6s %6s  %-9s %s\n", "rule", "labelled", "raised", "true", "false", "missed", "precision", "recall"
        nr = 0; for (r in rules) names[++nr] = r
        for (i = 2; i <= nr; i++) for (j = i; j > 1 && names[j] < names[j - 1]; j--) { t = names[j]; names[j] = names[j - 1]; names[j - 1] = t }
        for (i = 1; i <= nr; i++) row(names[i], rtp[names[i]], rfp[names[i]], rfn[names[i]])
        row("all", tp, fp, fn)
        printf "\nby host and role: precision %d/%d = %s, recall %d/%d = %s\n", tph, tph + fph, ratio(tph, tph + fph), tph, tph + fnh, ratio(tph, tph + fnh)
    }' "$work/labels.tsv" "$work/flags.tsv"
