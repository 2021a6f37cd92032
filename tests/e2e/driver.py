#!/usr/bin/env python3
# driver.py — host side of both QEMU tiers (tests/e2e, tests/installed): picks the accelerator by proof, boots QEMU, logs the serial console, answers the guest's hot-plug requests over QMP, times scenarios.
"""The guest script drives the scenarios and asserts on the guest kernel's
state. It asks the host for USB hot-plug by printing `TAG-REQ <verb> <args>`
on the console (TAG is E2E, or what --tag says); this driver performs the QMP
commands and answers `ok ...` or `err ...` on the guest's second serial port.
The guest reports `TAG-RESULT <name> ok|fail|skip <detail>` and ends with
`TAG-END rc=N`; a background watcher in the e2e guest prints
`TAG-AUDIT <event> <port>` for every USB decision the daemon records, which
the benchmark times against the QMP device_add.

The accelerator is chosen by proof, not by the presence of /dev/kvm: with
/dev/kvm usable, QEMU starts with `-accel kvm` and must put its first console
line out within --kvm-deadline seconds (a nested host whose KVM cannot run the
guest leaves it silent, QEMU only warning "host doesn't support requested
feature"); otherwise that QEMU is stopped and the guest boots under TCG. A
guest silent past --first-output-deadline is stopped early with its console
tail and the full QEMU command line. The last line printed is always
`TIER: N passed, N failed, N skipped`."""
import argparse
import json
import os
import select
import shlex
import socket
import subprocess
import sys
import time


class Qemu:
    def __init__(self, argv, workdir, log_path, err_path):
        self.argv = argv
        self.t_start = time.monotonic()
        self.err_path = err_path
        with open(err_path, "w") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        self.log = open(log_path, "w", buffering=1)
        self.buf = b""
        self.lines = []          # (t, line) not yet consumed by a waiter
        self.seen = []           # every console line, for the tail printed on failure
        self.qmp = None
        self.qbuf = b""
        self.events = []
        self.ctl = None
        self.workdir = workdir

    def connect(self):
        """Connect QMP and the guest's answer port (the sockets exist once QEMU parsed its options)."""
        for _ in range(200):
            try:
                self.qmp = socket.socket(socket.AF_UNIX)
                self.qmp.connect(os.path.join(self.workdir, "qmp.sock"))
                self.ctl = socket.socket(socket.AF_UNIX)
                self.ctl.connect(os.path.join(self.workdir, "ctl.sock"))
                break
            except OSError:
                self.qmp = self.ctl = None
                if self.proc.poll() is not None:
                    raise RuntimeError("qemu exited at start: " + self.stderr_tail())
                time.sleep(0.05)
        if self.qmp is None:
            raise RuntimeError("cannot connect to qemu's QMP/ctl sockets")
        self.qmp_recv_one()      # greeting
        self.qmp_cmd("qmp_capabilities")

    def first_line(self, deadline):
        """Wait up to deadline seconds for the guest's first console line; True if it came."""
        end = time.monotonic() + deadline
        while not self.seen:
            left = end - time.monotonic()
            if left <= 0:
                return False
            if not self._pump(min(left, 0.5)) and self.proc.poll() is not None:
                return bool(self.seen)
        return True

    def stderr_tail(self, n=5):
        try:
            with open(self.err_path, errors="replace") as f:
                return " | ".join(line.strip() for line in f.readlines()[-n:] if line.strip())
        except OSError:
            return ""

    def stop(self):
        """Quit over QMP if connected, else terminate; never leaves the process behind."""
        if self.qmp is not None:
            try:
                self.qmp_cmd("quit")
            except Exception:
                pass
        elif self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()

    def console_tail(self, n=60):
        return [text for _, text in self.seen[-n:]]

    def elapsed(self):
        return time.monotonic() - self.t_start

    def _pump(self, timeout):
        """Read whatever is ready from the console and QMP within timeout."""
        fds = [self.proc.stdout] + ([self.qmp] if self.qmp is not None else [])
        r, _, _ = select.select(fds, [], [], timeout)
        now = time.monotonic()
        if self.proc.stdout in r:
            data = os.read(self.proc.stdout.fileno(), 65536)
            if not data:
                return False
            self.buf += data
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace").rstrip("\r")
                self.log.write("[%8.3f] %s\n" % (now - self.t_start, text))
                self.lines.append((now, text))
                self.seen.append((now, text))
                del self.seen[:-200]
        if self.qmp in r:
            data = self.qmp.recv(65536)
            if not data:
                return False
            self.qbuf += data
        return True

    def qmp_recv_one(self, timeout=60):
        end = time.monotonic() + timeout
        while b"\n" not in self.qbuf:
            if time.monotonic() > end:
                raise TimeoutError("QMP did not answer")
            if not self._pump(0.5) and self.proc.poll() is not None:
                raise EOFError("qemu exited")
        line, self.qbuf = self.qbuf.split(b"\n", 1)
        return json.loads(line)

    def qmp_cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.qmp.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            m = self.qmp_recv_one()
            if "event" in m:
                self.events.append(m)
                continue
            if "error" in m:
                raise RuntimeError("%s: %s" % (name, m["error"].get("desc")))
            return m.get("return")

    def wait_event(self, name, device_id, timeout=30):
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.qbuf:
                line, self.qbuf = self.qbuf.split(b"\n", 1)
                m = json.loads(line)
                if "event" in m:
                    self.events.append(m)
            for i, e in enumerate(self.events):
                if e["event"] == name and e.get("data", {}).get("device") == device_id:
                    del self.events[i]
                    return
            if time.monotonic() > end:
                raise TimeoutError("no %s for %s" % (name, device_id))
            self._pump(0.2)

    def next_line(self, timeout):
        """The next console line (t, text), or None at timeout/exit."""
        end = time.monotonic() + timeout
        while not self.lines:
            left = end - time.monotonic()
            if left <= 0:
                return None
            if not self._pump(min(left, 0.5)) and self.proc.poll() is not None:
                if not self.lines:
                    return None
        return self.lines.pop(0)

    def answer(self, text):
        self.ctl.sendall(text.encode() + b"\n")


def boot(argv, workdir, accel, kvm_dev, kvm_deadline, first_deadline):
    """Start QEMU (argv without an accelerator) with the accelerator chosen by proof.
    Returns (Qemu, None) once the guest wrote its first console line, else (None, why)."""
    reason = "forced by --accel tcg"
    if accel in ("auto", "kvm"):
        if not os.path.exists(kvm_dev):
            reason = "no %s" % kvm_dev
        elif not os.access(kvm_dev, os.R_OK | os.W_OK):
            reason = "%s is not usable by this user" % kvm_dev
        else:
            q = Qemu(argv + ["-accel", "kvm"], workdir, os.path.join(workdir, "console.log"),
                     os.path.join(workdir, "qemu-kvm.err"))
            if q.first_line(kvm_deadline):
                print("accel: kvm (first console line after %.1f s)" % q.elapsed(), flush=True)
                return q, None
            said = q.stderr_tail()
            q.stop()
            os.replace(os.path.join(workdir, "console.log"), os.path.join(workdir, "console-kvm.log"))
            reason = "kvm: no console line within %g s%s" % (kvm_deadline, ("; qemu said: " + said) if said else "")
        if accel == "kvm":
            return None, reason
    q = Qemu(argv + ["-accel", "tcg"], workdir, os.path.join(workdir, "console.log"),
             os.path.join(workdir, "qemu.err"))
    print("accel: tcg (%s)" % reason, flush=True)
    if q.first_line(first_deadline):
        return q, None
    tail, said = q.console_tail(), q.stderr_tail(20)
    q.stop()
    why = ["guest silent for %g s under tcg: stopped" % first_deadline,
           "---- console tail ----"] + tail + ["---- qemu stderr ----", said,
           "---- qemu command line ----", " ".join(shlex.quote(a) for a in q.argv)]
    return None, "\n".join(why)


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


class Driver:
    def __init__(self, q, args):
        self.q = q
        self.args = args
        self.results = []
        self.t_mark = None
        self.plugged = {}
        self.end_rc = None
        self.bench = None
        self.tag = args.tag + "-"

    def do_request(self, words):
        verb = words[0]
        if verb == "plug":           # plug ID KIND [serial]
            dev_id, kind = words[1], words[2]
            if kind == "stick":
                drive = words[3] if len(words) > 3 else "stickimg"
                self.q.qmp_cmd("device_add", driver="usb-storage", id=dev_id, bus="xhci.0",
                               drive=drive, serial=self.args.tag + dev_id.upper()[:10])
            elif kind == "hub":
                self.q.qmp_cmd("device_add", driver="usb-hub", id=dev_id, bus="xhci.0")
            elif kind == "behind":       # plug ID behind HUBID: a stick on the hub's first port
                port = self.usb_port(words[3])
                self.q.qmp_cmd("device_add", driver="usb-storage", id=dev_id, bus="xhci.0", port=port + ".1",
                               drive="stickimg", serial=self.args.tag + dev_id.upper()[:10])
            elif kind == "kbd":
                self.q.qmp_cmd("device_add", driver="usb-kbd", id=dev_id, bus="xhci.0")
            else:
                raise RuntimeError("unknown kind " + kind)
            return "ok"
        if verb == "unplug":
            self.q.qmp_cmd("device_del", id=words[1])
            self.q.wait_event("DEVICE_DELETED", words[1])
            return "ok"
        if verb == "bench":
            return self.run_bench(int(words[1]))
        if self.args.host_request:     # the tier's own requests (tests/installed: the repository's server)
            out = subprocess.run(shlex.split(self.args.host_request) + words, capture_output=True, text=True,
                                 timeout=120)
            lines = out.stdout.strip().splitlines()
            return lines[-1] if lines else "err %s: no answer (exit %d) %s" % (verb, out.returncode,
                                                                              out.stderr.strip()[-200:])
        raise RuntimeError("unknown request " + verb)

    def usb_port(self, dev_id):
        """The QEMU port path of a plugged device (from HMP `info usb`)."""
        out = self.q.qmp_cmd("human-monitor-command", **{"command-line": "info usb"})
        for line in out.splitlines():
            if ("ID: %s" % dev_id) in line:
                return line.split("Port ")[1].split(",")[0]
        raise RuntimeError("no port for " + dev_id)

    def wait_audit(self, timeout):
        """Console lines until an E2E-AUDIT decision line; returns its host time."""
        end = time.monotonic() + timeout
        while True:
            item = self.q.next_line(max(0.0, end - time.monotonic()))
            if item is None:
                return None
            t, text = item
            self.handle_line(t, text, from_bench=True)
            if self.tag + "AUDIT usb.device." in text:
                return t

    def run_bench(self, n):
        lat = []
        for i in range(n):
            dev_id = "bench%d" % i
            t0 = time.monotonic()
            self.q.qmp_cmd("device_add", driver="usb-storage", id=dev_id, bus="xhci.0",
                           drive="stickimg", serial="E2EBENCH%03d" % i)
            t1 = self.wait_audit(60)
            if t1 is None:
                return "err no decision for plug %d" % i
            lat.append((t1 - t0) * 1000.0)
            self.q.qmp_cmd("device_del", id=dev_id)
            self.q.wait_event("DEVICE_DELETED", dev_id)
            time.sleep(0.3)          # let the guest see the removal before the next plug
        self.bench = lat
        return "ok n=%d p50=%.1fms p99=%.1fms" % (n, pct(lat, 50), pct(lat, 99))

    def handle_line(self, t, text, from_bench=False):
        idx = text.find(self.tag)
        if idx < 0:
            return
        text = text[idx + len(self.tag):]
        words = text.split()
        tag = words[0]
        if tag == "BOOT":
            print("boot: guest init up after %.1f s" % (t - self.q.t_start), flush=True)
            self.t_mark = t
        elif tag == "RESULT" and len(words) >= 3:
            name, status, detail = words[1], words[2], " ".join(words[3:])
            took = t - (self.t_mark or self.q.t_start)
            self.t_mark = t
            self.results.append((name, status, took, detail))
            print("%-4s %-28s %6.1f s  %s" % (status, name, took, detail), flush=True)
        elif tag == "LOG":
            print("     %s" % " ".join(words[1:]), flush=True)
        elif tag == "MARK":
            self.t_mark = t
        elif tag == "REQ" and not from_bench:
            try:
                reply = self.do_request(words[1:])
            except Exception as e:           # the guest reports the failure with its scenario
                reply = "err %s" % e
            self.q.answer(reply)
        elif tag == "END":
            self.end_rc = words[1] if len(words) > 1 else "?"

    def run(self, timeout):
        end = time.monotonic() + timeout
        while self.end_rc is None:
            left = end - time.monotonic()
            if left <= 0:
                print("FAIL: guest did not finish within %d s" % timeout, flush=True)
                break
            item = self.q.next_line(left)
            if item is None:
                if self.q.proc.poll() is not None:
                    print("FAIL: qemu exited before the guest finished", flush=True)
                    break
                continue
            self.handle_line(*item)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--timeout", type=int, default=540)
    ap.add_argument("--umockdev-figure", default="")
    ap.add_argument("--tier", default="e2e", help="name on the summary line")
    ap.add_argument("--tag", default="E2E", help="prefix of the guest's lines: TAG-RESULT, TAG-REQ, ...")
    ap.add_argument("--host-request", default="",
                    help="command run with the words of any other TAG-REQ; its last output line is the answer")
    ap.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    ap.add_argument("--kvm-dev", default="/dev/kvm")
    ap.add_argument("--kvm-deadline", type=float, default=10)
    ap.add_argument("--first-output-deadline", type=float, default=90)
    ap.add_argument("--probe-only", action="store_true", help="choose the accelerator, print it, stop QEMU")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    argv = args.qemu[1:] if args.qemu and args.qemu[0] == "--" else args.qemu
    summary = lambda p, f, s: print("%s: %d passed, %d failed, %d skipped" % (args.tier, p, f, s), flush=True)
    q, why = boot(argv, args.workdir, args.accel, args.kvm_dev, args.kvm_deadline, args.first_output_deadline)
    if q is None:
        print("FAIL: %s" % why, flush=True)
        summary(0, 1, 0)
        sys.exit(1)
    if args.probe_only:
        q.stop()
        summary(1, 0, 0)
        sys.exit(0)
    d = Driver(q, args)
    problem = None
    try:
        q.connect()
        d.run(args.timeout)
    except Exception as e:               # QEMU died, QMP broke: reported with the console tail below
        problem = "driver: %s" % e
    finally:
        q.stop()
    total = q.elapsed()
    fails = [r for r in d.results if r[1] == "fail"]
    oks = [r for r in d.results if r[1] == "ok"]
    skips = [r for r in d.results if r[1] == "skip"]
    if d.bench:
        print("bench: real kernel (QEMU), QMP device_add -> sekishod's decision in the audit log: "
              "n=%d p50=%.1f ms p99=%.1f ms (min %.1f, max %.1f)"
              % (len(d.bench), pct(d.bench, 50), pct(d.bench, 99), min(d.bench), max(d.bench)))
        if args.umockdev_figure:
            print("bench: umockdev figure for comparison: %s" % args.umockdev_figure)
    if problem:
        print("FAIL: %s" % problem, flush=True)
    elif d.end_rc is None:
        problem = "the guest did not finish"
    elif d.end_rc != "rc=0" and not fails:
        problem = "the guest script ended with %s" % d.end_rc
    elif not oks:
        problem = "the guest reported no result"
    print("info: guest %s, %.1f s total" % (d.end_rc or "unfinished", total), flush=True)
    if problem or fails:
        print("---- guest console (last 60 lines of %s) ----" % os.path.join(args.workdir, "console.log"))
        for line in q.console_tail():
            print(line)
        print("---- end of console ----", flush=True)
    summary(len(oks), len(fails) + (1 if problem else 0), len(skips))
    sys.exit(1 if problem or fails else 0)


if __name__ == "__main__":
    main()
