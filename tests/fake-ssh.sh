#!/bin/sh
# fake-ssh.sh — stands in for ssh in tests: `fake-ssh.sh [ssh options] HOST
# COMMAND...` runs COMMAND on this machine, as ssh would on HOST, in
# $FAKE_SSH_HOME as the remote login's home; each command is appended to
# $FAKE_SSH_LOG when set.  GNU parallel (--sshlogin
# 'fake-ssh.sh HOST') and rsync (-e fake-ssh.sh) then take the remote path.
#
# SPDX-License-Identifier: GPL-2.0-or-later
while [ $# -gt 0 ]; do
    case $1 in
        -[bcDEeFIiLlmOoQRSWw]) shift 2 ;;     # ssh options that take a value
        -*) shift ;;
        *) break ;;
    esac
done
shift                                       # the host
[ "${1-}" = -- ] && shift
[ -n "${FAKE_SSH_LOG-}" ] && printf '%s\n' "$*" >> "$FAKE_SSH_LOG"
cd "${FAKE_SSH_HOME:?}" || exit 255
HOME=$FAKE_SSH_HOME exec /bin/sh -c "$*"
