# lib.sh — shared helpers for sekisho's shell integration tests (sourced, not run).
# Every test gets a private directory; the daemon runs with test options only,
# so nothing outside that directory (and namespaces the test made) is touched.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# The test builds: the release programs plus the test-only demo plugin (plugins/demo/Makefile.inc).
# RELEASE_SEKISHOD and RELEASE_SEKISHOCTL are what gets installed.
SEKISHOD="$top_builddir/sekishod-test"
SEKISHOCTL="$top_builddir/sekishoctl-test"
RELEASE_SEKISHOD="$top_builddir/sekishod"
RELEASE_SEKISHOCTL="$top_builddir/sekishoctl"
export ASAN_OPTIONS="${ASAN_OPTIONS:-verify_asan_link_order=0}"

T=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-test.XXXXXX")
DAEMON_PID=
cleanup_hooks=
at_exit() { cleanup_hooks="$1; $cleanup_hooks"; }
_cleanup() {
        rc=$?
        eval "$cleanup_hooks" 2>/dev/null || true
        if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
        # A test that ran only in part reports SKIP, never PASS (see skip_part).
        if [ $rc = 0 ] && [ -s "$T/.skipped-parts" ]; then
                sed 's/^/SKIP (part): /' "$T/.skipped-parts"
                rc=77
        fi
        if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -f "$T/daemon.log" ]; then
                echo "---- daemon log ----"; tail -n 50 "$T/daemon.log"
        fi
        rm -rf "$T"
        exit $rc
}
trap _cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
# skip_part REASON: this part cannot run here; the rest goes on, and the test ends
# with SKIP (77) instead of PASS unless something failed.
skip_part() { echo "# SKIP (part): $*"; echo "$*" >>"$T/.skipped-parts"; }
ok() { echo "ok - $*"; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"; done; }

# Wait until a shell condition holds (up to $2 tenths of a second, default 300: loaded CI machines are slow).
wait_for() {
        _wf=0
        while ! eval "$1" >/dev/null 2>&1; do
                _wf=$((_wf + 1))
                [ $_wf -ge "${2:-300}" ] && return 1
                sleep 0.1
        done
        return 0
}

# A minisign key pair without password in $T/keys/NAME.{pub,key}; the public key is trusted
# when it is in $T/keys.d.
make_key() {
        mkdir -p "$T/keys" "$T/keys.d"
        minisign -G -W -f -p "$T/keys/$1.pub" -s "$T/keys/$1.key" >/dev/null
        [ "${2:-trusted}" = trusted ] && cp "$T/keys/$1.pub" "$T/keys.d/$1.pub"
        return 0
}

# sign FILE KEYNAME: FILE.minisig with minisign itself.
sign() { minisign -S -s "$T/keys/$2.key" -m "$1" -t "sekisho test" >/dev/null </dev/null; }

# A terminal identity and directories for one daemon.
setup_dirs() {
        mkdir -p "$T/state" "$T/inbox" "$T/log" "$T/keys.d"
        cat >"$T/sekisho.conf" <<CONF
terminal-id: test-terminal
groups: [takeout, test]
audit-syslog: false
CONF
}

# start_daemon [extra sekishod options...]: runs in the background, waits for "enforcing".
# DAEMON_WRAP, if set, is a command line the daemon runs under (unshare, a mount first);
# DAEMON_READY, the log text to wait for instead of " enforcing: " (" degraded: ").
# Only the test-only demo plugin unless the test names its plugins: the real ones act on
# the machine (USB devices, nftables, other users' processes) and each test that starts
# one does so in the fake sysfs or namespace it made.
start_daemon() {
        case " $* " in *" --plugins="*) ;; *) set -- --plugins=demo "$@" ;; esac
        setup_dirs
        _lines=$(cat "$T/daemon.log" 2>/dev/null | wc -l)
        ${DAEMON_WRAP:-} "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
                --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none "$@" >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
        wait_for "tail -n +$((_lines + 1)) '$T/daemon.log' | grep -q '${DAEMON_READY:- enforcing: }'" 100 ||
                fail "daemon did not reach${DAEMON_READY:- enforcing: }"
}

stop_daemon() {
        [ -n "$DAEMON_PID" ] || return 0
        kill -TERM "$DAEMON_PID"
        _rc=0
        wait "$DAEMON_PID" || _rc=$?
        DAEMON_PID=
        # A clean stop exits 0: under the sanitizers this also catches leaks and errors at exit.
        [ $_rc = 0 ] || fail "sekishod exited with status $_rc when stopped"
}

ctl() { "$SEKISHOCTL" --state-dir "$T/state" --keys-dir "$T/keys.d" --config "$T/sekisho.conf" "$@"; }

# write_policy FILE SERIAL [EXTRA-YAML]: a bundle valid from an hour ago for 30 days.
write_policy() {
        issued=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
        expires=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
        {
                echo "sekisho: 1"
                echo "serial: $2"
                echo "issued: $issued"
                echo "expires: $expires"
                [ $# -ge 3 ] && printf '%s\n' "$3"
        } >"$1"
        return 0
}

# The serial the running daemon reports as in force.
serial_in_force() { sed -n 's/.*"policy":{"serial":\([0-9]*\).*/\1/p' "$T/state/status.json"; }

# drop FILE: push a bundle pair into the inbox the way a distribution tool would.
drop() {
        cp "$1" "$T/inbox/.tmp.$$" && mv "$T/inbox/.tmp.$$" "$T/inbox/$(basename "$1")"
        cp "$1.minisig" "$T/inbox/.tmp.$$" && mv "$T/inbox/.tmp.$$" "$T/inbox/$(basename "$1").minisig"
}

# Wait until the audit log has N records matching a pattern.
wait_audit() { wait_for "[ \$(grep -c '$1' '$T/log/audit.log') -ge ${2:-1} ]" "${3:-100}"; }

# start_private_bus: a private dbus-daemon (session type) whose socket a non-root caller can reach
# too; exports DBUS_SESSION_BUS_ADDRESS, stopped at exit.
start_private_bus() {
        BUSDIR=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-bus.XXXXXX")
        chmod 755 "$BUSDIR"
        cat >"$BUSDIR/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$BUSDIR/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
EOF
        dbus-daemon --config-file="$BUSDIR/bus.conf" --fork --print-address=3 --print-pid=4 3>"$BUSDIR/address" 4>"$BUSDIR/pid" \
                || fail "cannot start a private dbus-daemon"
        at_exit "kill $(cat "$BUSDIR/pid"); rm -rf '$BUSDIR'"
        DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$BUSDIR/address")
        export DBUS_SESSION_BUS_ADDRESS
}

# machine_wide_lock NAME: tests whose daemon sees the whole machine (the proc connector sees
# every exec) run one at a time, or one test's daemon would act on another test's processes.
machine_wide_lock() {
        exec 9>"${TMPDIR:-/tmp}/sekisho-test-$1.lock" # TMPDIR: the e2e guest's /tmp is read-only
        flock 9
}

# travel_state FILE PHASE TRIP REQUESTED [LINE...]: the travel plugin's state file as
# sekishod writes it for a trip to CN that ended, with more key=value lines after it
# (the reset tests start from it).
travel_state() {
        f=$1 phase=$2 trip=$3 req=$4; shift 4
        { printf 'format=1\nphase=%s\ntrip=%s\ndestination=CN\nrisk=high\ntrip-end=1800000000\n' "$phase" "$trip"
          printf 'since=1800000000\ndeadline=1800003600\nlast-wall=1800003600\nreset-requested=%s\n' "$req"
          for l in "$@"; do printf '%s\n' "$l"; done; } >"$f"
}
