#!/usr/bin/env bash
# Install what is missing, build with the tests, and run the whole suite.
# Integration tests run tshark as an unprivileged user with the freshly built
# plugin; nothing is installed system-wide.
#
# Usage: scripts/test.sh [ctest arguments]
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
. "$(dirname "$0")/common.sh"

install_missing_packages
build_project -DBUILD_TESTING=ON
say "ctest --test-dir $build --output-on-failure $*"
ctest --test-dir "$build" --output-on-failure "$@"
