#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build trafan and run its test suite against the Wireshark of other Debian
# releases: trixie (Wireshark 4.4) and sid (Wireshark 4.6), optionally the
# host's own Wireshark as well (Debian 12 bookworm: 4.0).
#
# Each release gets a minimal root made with `debootstrap --variant=minbase`,
# kept in a cache folder ($TRAFAN_ROOTS, default /var/cache/trafan-roots) and
# reused on later runs.  The project is copied into the root, configured with
# cmake, built, and tested with ctest inside a chroot.  One line per version
# is printed at the end, e.g.
#
#     wireshark 4.4.7: 123 passed, 0 failed
#
# and the script exits non-zero if any build or test failed.
#
# Usage: tests/wireshark-versions.sh [options] [RELEASE...]
#   RELEASE        Debian suite(s) to test (default: trixie sid)
#   --host         also build and test on the host itself
#   --head         test the committed HEAD (git archive) instead of the work
#                  tree (tracked and untracked, non-ignored files)
#   --refresh      apt-get update + upgrade the listed packages in the roots
#                  even when none is missing
#   --roots-only   create/refresh the roots, do not build anything
#   -h, --help     this text
#
# Environment:
#   TRAFAN_ROOTS   cache folder for the roots (default /var/cache/trafan-roots)
#   TRAFAN_MIRROR  Debian mirror (default: the host's configured debian URI)
#   TRAFAN_EXTRA_PACKAGES  more packages to install in every root
#   JOBS           parallel build jobs (default: nproc); ctest runs serially
#                  unless CTEST_PARALLEL_LEVEL is set
#
# Needs root (debootstrap, chroot, mount) and debootstrap installed
# (`apt-get install debootstrap`).
#
# Time (2 cores, measured): first creation of both roots takes 2.5-5 min
# (debootstrap 25-65 s per release, apt-get install of the packages above
# 30-110 s per release, depending on load; about 1.1 GB per root).  A cached
# run spends about 8 s on checks, copying and mounts, plus the project's own
# configure, build and ctest per release (a small plugin project: 15-25 s in
# total for host + trixie + sid).

set -euo pipefail

# Packages needed to build and test trafan.  The packages CI installs
# (scripts/debian-packages.txt, apt-get lines in .ci/run) are added too, so the
# roots stay in step with CI; names that do not exist in a release are skipped
# with a notice.
BASE_PACKAGES=(
  ca-certificates cmake gcc make pkg-config
  libglib2.0-dev libwireshark-dev wireshark-dev tshark
  libgraphviz-dev graphviz libgvplugin-neato-layout8 libjson-glib-dev
  util-linux git
)

DEFAULT_RELEASES=(trixie sid)

ROOTS=${TRAFAN_ROOTS:-/var/cache/trafan-roots}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

msg()  { printf '%s\n' "wireshark-versions: $*" >&2; }
die()  { msg "error: $*"; exit 2; }

usage() { sed -n '/^# Usage:/,/^# Needs root/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

WITH_HOST=0
USE_HEAD=0
REFRESH=0
ROOTS_ONLY=0
RELEASES=()
while (($#)); do
  case $1 in
    --host) WITH_HOST=1 ;;
    --head) USE_HEAD=1 ;;
    --refresh) REFRESH=1 ;;
    --roots-only) ROOTS_ONLY=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) RELEASES+=("$1") ;;
  esac
  shift
done
((${#RELEASES[@]})) || RELEASES=("${DEFAULT_RELEASES[@]}")

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
for tool in chroot mount umount findmnt flock tar; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

# The Debian mirror: the first URI of the host's apt sources that serves a
# plain 'debian' archive (not security), unless TRAFAN_MIRROR says otherwise.
find_mirror() {
  local uri
  uri=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
         awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' |
         grep -E '/debian/?$' | head -n1 || true)
  if [[ -z $uri ]]; then
    uri=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
           awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
           grep -E '/debian/?$' | head -n1 || true)
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
MIRROR=${TRAFAN_MIRROR:-$(find_mirror)}

# The packages CI installs: scripts/debian-packages.txt (one name a line, '#'
# comments; .ci/run installs from it) and names given directly to
# `apt-get install` in .ci/run (continuation lines joined; options, variables
# and shell words dropped).
ci_packages() {
  local list=$SRCDIR/scripts/debian-packages.txt run=$SRCDIR/.ci/run
  if [[ -f $list ]]; then
    sed 's/#.*//; s/?$//' "$list" | tr -s ' \t' '\n' | grep -E '^[a-z0-9][a-z0-9+.-]+$' || true
  fi
  [[ -f $run ]] || return 0
  sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$run" |
    grep -E 'apt(-get)?[[:space:]](.*[[:space:]])?install[[:space:]]' |
    sed -E 's/.*[[:space:]]install[[:space:]]//; s/[;&|#].*//' |
    tr -s ' \t' '\n' |
    grep -E '^[a-z0-9][a-z0-9+.-]+$' || true
}

mapfile -t CI_PACKAGES < <(ci_packages)
read -r -a EXTRA_PACKAGES <<< "${TRAFAN_EXTRA_PACKAGES:-}"
mapfile -t PACKAGES < <(printf '%s\n' "${BASE_PACKAGES[@]}" "${CI_PACKAGES[@]}" "${EXTRA_PACKAGES[@]}" |
                         awk 'NF && !seen[$0]++')

# --------------------------------------------------------------------------
# Mounts and cleanup.  Every mount this script makes is recorded; on exit,
# interrupt or termination they are lazily unmounted in reverse order, and
# anything still mounted below a root we used is unmounted too.
MOUNTS=()
ACTIVE_ROOTS=()
TMPFILES=()

mounts_below() {   # print mount points at or below $1, deepest first
  local dir
  dir=$(realpath -m "$1")
  findmnt -rn -o TARGET 2>/dev/null |
    awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r || true
}

unmount_all() {
  local i m r
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${MOUNTS[i]}
    if mountpoint -q "$m" 2>/dev/null; then
      umount -l "$m" 2>/dev/null || msg "warning: could not unmount $m"
    fi
  done
  MOUNTS=()
  for r in "${ACTIVE_ROOTS[@]}"; do
    while read -r m; do
      [[ -n $m ]] && { umount -l "$m" 2>/dev/null || msg "warning: could not unmount $m"; }
    done < <(mounts_below "$r")
  done
}

# shellcheck disable=SC2317  # invoked through trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  unmount_all
  ((${#TMPFILES[@]})) && rm -rf -- "${TMPFILES[@]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT
trap 'msg "terminated"; exit 143' TERM

do_mount() {   # do_mount TARGET mount-args...
  local target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  MOUNTS+=("$target")
}

mount_root() {
  local root=$1
  ACTIVE_ROOTS+=("$root")
  do_mount "$root/proc"    -t proc proc
  do_mount "$root/sys"     --bind /sys
  mount -o remount,bind,ro "$root/sys" 2>/dev/null || true
  do_mount "$root/dev"     --bind /dev
  do_mount "$root/dev/pts" --bind /dev/pts
}

umount_root() {
  unmount_all
}

# rm -rf only when nothing is mounted below the path.
safe_rm() {
  local p=$1 m
  [[ -e $p ]] || return 0
  m=$(mounts_below "$p")
  if [[ -n $m ]]; then
    while read -r x; do umount -l "$x" || true; done <<< "$m"
    m=$(mounts_below "$p")
    [[ -z $m ]] || die "refusing to remove $p: still mounted: $m"
  fi
  rm -rf --one-file-system -- "$p"
}

in_root() {    # in_root ROOT command...
  local root=$1; shift
  chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb \
    DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
    "$@"
}

# --------------------------------------------------------------------------
# Roots.
available_packages() {   # names from PACKAGES that the root's apt knows
  local root=$1 p
  for p in "${PACKAGES[@]}"; do
    if in_root "$root" apt-cache show --no-all-versions "$p" >/dev/null 2>&1; then
      printf '%s\n' "$p"
    else
      msg "$(basename "$root"): no package $p in this release, skipped"
    fi
  done
}

missing_packages() {
  local root=$1 p
  shift
  for p in "$@"; do
    # shellcheck disable=SC2016  # a dpkg-query format, not a shell expansion
    if [[ $(in_root "$root" dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
      printf '%s\n' "$p"
    fi
  done
}

# No daemons inside a root; apt stays small.  Mirrors that serve a dated
# snapshot of the archive carry an expired Valid-Until for sid, so that check
# is off (the signatures are still checked).
configure_apt() {
  local root=$1
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  printf '%s\n' 'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";' \
    'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99trafan"
}

create_root() {
  local rel=$1 root=$ROOTS/$1 new=$ROOTS/$1.new t0
  t0=$SECONDS
  msg "$rel: creating root in $root (debootstrap from $MIRROR)"
  safe_rm "$new"
  ACTIVE_ROOTS+=("$new")
  if ! debootstrap --variant=minbase "$rel" "$new" "$MIRROR" > "$ROOTS/$rel.debootstrap.log" 2>&1; then
    tail -n 20 "$ROOTS/$rel.debootstrap.log" >&2
    unmount_all
    die "$rel: debootstrap failed (log: $ROOTS/$rel.debootstrap.log)"
  fi
  unmount_all
  configure_apt "$new"
  [[ -z $(mounts_below "$new") ]] || die "$rel: mounts left below $new"
  mv -T "$new" "$root"
  msg "$rel: debootstrap took $((SECONDS - t0)) s"
}

prepare_root() {
  local rel=$1 root=$ROOTS/$1 t0 pkgs missing
  [[ -x $root/usr/bin/apt-get && -f $root/etc/apt/apt.conf.d/99trafan ]] || create_root "$rel"
  configure_apt "$root"
  mount_root "$root"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  if ! compgen -G "$root/var/lib/apt/lists/*_Packages*" >/dev/null; then
    in_root "$root" apt-get -q update >&2
  fi
  mapfile -t pkgs < <(available_packages "$root")
  mapfile -t missing < <(missing_packages "$root" "${pkgs[@]}")
  if ((REFRESH || ${#missing[@]})); then
    t0=$SECONDS
    if ((${#missing[@]})); then
      msg "$rel: installing ${missing[*]}"
    fi
    in_root "$root" apt-get -q update >&2
    in_root "$root" apt-get -q -y install "${pkgs[@]}" >&2
    in_root "$root" apt-get -q clean >&2
    msg "$rel: apt-get took $((SECONDS - t0)) s"
  fi
  umount_root
}

# --------------------------------------------------------------------------
# Building and testing.

# Write the project as a tar stream on stdout.
project_tar() {
  if ((USE_HEAD)); then
    git -C "$SRCDIR" archive --format=tar HEAD
  elif git -C "$SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$SRCDIR" &&
     git ls-files -z --cached --others --exclude-standard |
       grep -zvE '^(build[^/]*|_build|\.cache)/' |
       while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
       tar --null --no-recursion -T - -cf -)
  else
    tar -C "$SRCDIR" --exclude='./build*' --exclude=./.git -cf - .
  fi
}

# The commands run in the build environment (root or host); $1 = source dir,
# $2 = build dir, $3 = jobs.  ctest output goes to $2/ctest.log.
# shellcheck disable=SC2016  # expanded by the inner shell
BUILD_SCRIPT='
set -u
src=$1 build=$2 jobs=$3
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo || exit 10
cmake --build "$build" -j "$jobs" || exit 11
cd "$build" || exit 12
ctest --output-on-failure 2>&1 | tee "$build/ctest.log"
exit "${PIPESTATUS[0]}"
'

RESULTS=()
FAILED=0

# summarise LABEL RC CTEST_LOG
summarise() {
  local label=$1 rc=$2 log=$3 line total=0 failed=0 passed=0 skipped=0 note=
  case $rc in
    10) RESULTS+=("$label: configure failed"); FAILED=1; return ;;
    11) RESULTS+=("$label: build failed"); FAILED=1; return ;;
  esac
  if [[ -f $log ]]; then
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
      failed=${BASH_REMATCH[1]}; total=${BASH_REMATCH[2]}
      skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*Skipped' "$log" || true)
      passed=$((total - failed - skipped))
    fi
  fi
  ((skipped == 0)) || note=", $skipped skipped"
  if ((rc != 0 && failed == 0)); then
    RESULTS+=("$label: $passed passed, $failed failed$note (ctest exit $rc)")
    FAILED=1
  else
    RESULTS+=("$label: $passed passed, $failed failed$note")
    ((failed == 0)) || FAILED=1
  fi
  ((total > 0)) || msg "$label: no tests were run"
}

ws_version_in() {   # ws_version_in ROOT ('' = host)
  local root=$1 h
  h=$root/usr/include/wireshark/ws_version.h
  [[ -f $h ]] || { echo unknown; return; }
  awk '/#define WIRESHARK_VERSION_(MAJOR|MINOR|MICRO)/ { v = v (v == "" ? "" : ".") $3 } END { print v }' "$h"
}

test_in_root() {
  local rel=$1 root=$ROOTS/$1 ver rc t0
  ver=$(ws_version_in "$root")
  t0=$SECONDS
  msg "$rel: building and testing with Wireshark $ver"
  safe_rm "$root/trafan"
  mkdir -p "$root/trafan/src"
  project_tar | tar -C "$root/trafan/src" -xf -
  mount_root "$root"
  set +e
  in_root "$root" ${CTEST_PARALLEL_LEVEL:+CTEST_PARALLEL_LEVEL="$CTEST_PARALLEL_LEVEL"} \
    bash -c "$BUILD_SCRIPT" build /trafan/src /trafan/build "$JOBS" >&2
  rc=$?
  set -e
  umount_root
  summarise "wireshark $ver" "$rc" "$root/trafan/build/ctest.log"
  msg "$rel: done in $((SECONDS - t0)) s"
}

test_on_host() {
  local ver tmp rc t0
  ver=$(ws_version_in "")
  t0=$SECONDS
  tmp=$(mktemp -d /tmp/trafan-host.XXXXXX)
  TMPFILES+=("$tmp")
  chmod 755 "$tmp"   # tests may drop privileges (setpriv) and still need the build
  msg "host: building and testing with Wireshark $ver"
  mkdir -p "$tmp/src"
  project_tar | tar -C "$tmp/src" -xf -
  set +e
  bash -c "$BUILD_SCRIPT" build "$tmp/src" "$tmp/build" "$JOBS" >&2
  rc=$?
  set -e
  summarise "wireshark $ver" "$rc" "$tmp/build/ctest.log"
  msg "host: done in $((SECONDS - t0)) s"
}

# --------------------------------------------------------------------------
mkdir -p "$ROOTS"
exec 9> "$ROOTS/.lock"
flock -n 9 || { msg "waiting for another run to release $ROOTS/.lock"; flock 9; }

for rel in "${RELEASES[@]}"; do
  prepare_root "$rel"
done
((ROOTS_ONLY)) && { msg "roots ready in $ROOTS"; exit 0; }

((WITH_HOST)) && test_on_host
for rel in "${RELEASES[@]}"; do
  test_in_root "$rel"
done

printf '%s\n' "${RESULTS[@]}"
exit "$FAILED"
