#!/bin/sh
# host-request.sh — the installed tier's host side of the guest's repository requests (INST-REQ, answered on ttyS1 by tests/e2e/driver.py --host-request): what this test's nginx served.
# Usage: host-request.sh repo-hits   (INSTALLED_WORK: run.sh's work directory)
# Prints one line: `ok N STATUS PATH` (the access log's line count, the last line's status and path) or `err why`.
set -u
W=${INSTALLED_WORK:?}
case "${1:-}" in
repo-hits)
        [ -f "$W/access.log" ] || { echo "err no repository on this host (nginx or socat missing)"; exit 0; }
        n=$(wc -l <"$W/access.log")
        # nginx's combined format: ... "GET /path HTTP/1.1" STATUS BYTES ...
        last=$(tail -n 1 "$W/access.log" | awk '{ print $9, $7 }')
        echo "ok $n ${last:-- -}"
        ;;
*)
        echo "err unknown request: $*"
        ;;
esac
