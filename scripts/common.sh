# Shared by demo.sh, test.sh and .ci/run: install what is missing, configure, build.
# SPDX-License-Identifier: GPL-2.0-or-later

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TRAFAN_BUILD_DIR:-$top/build}

say() { printf '+ %s\n' "$*" >&2; }

# Install the Debian packages of scripts/debian-packages.txt that are not
# installed yet (with sudo unless root); a name ending in '?' only where the
# release has it.
install_missing_packages() {
    local missing=() pkg name sudo=""
    while read -r pkg; do
        case $pkg in ''|'#'*) continue ;; esac
        name=${pkg%\?}
        dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed' && continue
        if [ "$name" != "$pkg" ]; then
            apt-cache policy "$name" 2>/dev/null | grep -q 'Candidate: [0-9]' || continue
        fi
        missing+=("$name")
    done < "$top/scripts/debian-packages.txt"
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configure and build into $build with the given extra cmake arguments.
build_project() {
    say "cmake -S $top -B $build $*"
    cmake -S "$top" -B "$build" "$@" >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
}
