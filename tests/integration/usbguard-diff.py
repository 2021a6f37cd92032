#!/usr/bin/env python3
# usbguard-diff.py — generates random USB device trees (umockdev files) and condition-free rule sets, decides each with Debian's usbguard-daemon and with sekishoctl, and prints every decision that differs.
"""usage: usbguard-diff.py WORKDIR SEED SETS DEVICES SEKISHOCTL-COMMAND...

Exit 0 when every device decision agrees, 1 when one differs (each printed
with its rule set and device), 77 when usbguard cannot be run here."""
import base64
import hashlib
import os
import random
import re
import subprocess
import sys
import time

work, seed, n_sets, n_devs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ctl = sys.argv[5:]
rnd = random.Random(seed)

VIDS = ["046d", "0781", "1234", "05ac"]
PIDS = ["c31c", "5567", "5678"]
NAMES = ["Keyboard", "Stick", "Mouse", "", "Dock: USB #2"]
SERIALS = ["", "SN1", "4C530001"]
# What usbguard trims (NUL, LF, CR, TAB, BS) and what it does not (a blank).
TAILS = ["", "", "", "\t", "\r", "\b", "\0", "\0\0", "\t\0", "\r\b", " "]
IFACES = [(3, 1, 1), (3, 1, 2), (3, 0, 0), (8, 6, 0x50), (9, 0, 0), (0x0b, 0, 0), (0xff, 0xff, 0xff), (0x0e, 1, 0)]
PATTERNS = ["03:*:*", "03:01:*", "03:01:01", "08:*:*", "08:06:50", "09:00:00", "ff:*:*", "0e:01:00", "0b:*:*"]
OPS = ["all-of", "one-of", "none-of", "equals", "equals-ordered", "match-all"]


def descriptors(vid, pid, ifs):
    d = bytes([18, 1, 0x00, 0x02, 0, 0, 0, 64]) + bytes.fromhex(vid)[::-1] + bytes.fromhex(pid)[::-1]
    d += bytes([0x00, 0x01, 1, 2, 3, 1])
    total = 9 + 9 * len(ifs)
    d += bytes([9, 2, total & 0xff, total >> 8, len(ifs), 1, 0, 0x80, 50])
    for i, (c, s, p) in enumerate(ifs):
        d += bytes([9, 4, i, 0, 0, c, s, p, 0])
    return d


def usbguard_hash(name, vid, pid, serial, desc):
    h = hashlib.sha256()
    for part in (name, vid, pid, serial):
        h.update(part.encode("utf-8", "surrogateescape"))
    h.update(desc)
    return base64.b64encode(h.digest()).decode()


def trim(s):
    return s.rstrip("\0\n\r\t\b")


def gen_tree():
    root = "/devices/pci0000:00/0000:00:14.0"
    out = ["P: " + root, "E: SUBSYSTEM=pci", ""]
    hub = descriptors("1d6b", "0002", [(9, 0, 0)])
    out += ["P: %s/usb1" % root, "E: DEVTYPE=usb_device", "E: SUBSYSTEM=usb", "A: idVendor=1d6b", "A: idProduct=0002",
            "A: product=xHCI Host Controller", "A: authorized=1", "A: authorized_default=1",
            "H: descriptors=" + hub.hex().upper(), ""]
    devs = []
    for i in range(1, n_devs + 1):
        vid, pid = rnd.choice(VIDS), rnd.choice(PIDS)
        name = rnd.choice(NAMES) + rnd.choice(TAILS)
        serial = rnd.choice(SERIALS) + rnd.choice(TAILS)
        ifs = [rnd.choice(IFACES) for _ in range(rnd.randint(1, 3))]
        desc = descriptors(vid, pid, ifs)
        port = "1-%d" % i
        out += ["P: %s/usb1/%s" % (root, port), "E: DEVTYPE=usb_device", "E: SUBSYSTEM=usb",
                "A: idVendor=" + vid, "A: idProduct=" + pid, "A: authorized=1",
                "A: port/connect_type=hotplug",
                # as the kernel writes them: the string, then a newline
                "H: product=" + (name + "\n").encode("utf-8", "surrogateescape").hex().upper(),
                "H: serial=" + (serial + "\n").encode("utf-8", "surrogateescape").hex().upper(),
                "H: descriptors=" + desc.hex().upper(), ""]
        devs.append(dict(port=port, vid=vid, pid=pid, name=name, serial=serial, ifs=ifs,
                         hash=usbguard_hash(trim(name), vid, pid, trim(serial), desc)))
    return "\n".join(out), devs


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def value_set(kind, devs):
    def one():
        if kind == "id":
            d = rnd.choice(devs)
            return rnd.choice([d["vid"] + ":" + d["pid"], d["vid"] + ":*", "*:*", rnd.choice(VIDS) + ":" + rnd.choice(PIDS)])
        if kind == "with-interface":
            return rnd.choice(PATTERNS)
        if kind == "hash":
            return quote(rnd.choice(devs)["hash"])
        pool = NAMES if kind == "name" else SERIALS
        return quote(rnd.choice(pool))
    if rnd.random() < 0.4:
        return one()
    vals = [one() for _ in range(rnd.randint(1, 3))]
    op = rnd.choice(OPS + [""])
    return (op + " " if op else "") + "{ " + " ".join(vals) + " }"


def gen_rules(devs):
    rules = []
    for _ in range(rnd.randint(1, 4)):
        attrs = rnd.sample(["id", "name", "serial", "with-interface", "hash"], rnd.randint(1, 2))
        rules.append(rnd.choice(["allow", "block"]) + "".join(" %s %s" % (a, value_set(a, devs)) for a in attrs))
    return rules


def run_usbguard(d, rules):
    with open(os.path.join(d, "rules.conf"), "w") as f:
        f.write("".join(r + "\n" for r in rules))
    with open(os.path.join(d, "usbguard.conf"), "w") as f:
        f.write("RuleFile=%s/rules.conf\nImplicitPolicyTarget=block\nPresentDevicePolicy=apply-policy\n"
                "PresentControllerPolicy=keep\nInsertedDevicePolicy=apply-policy\nRestoreControllerDeviceState=false\n"
                "DeviceManagerBackend=umockdev\nIPCAllowedUsers=root\nAuditBackend=FileAudit\n"
                "AuditFilePath=%s/usbguard-audit.log\n" % (d, d))
    for n in ("rules.conf", "usbguard.conf"):
        os.chmod(os.path.join(d, n), 0o600)
    # Its own network namespace: the IPC socket is abstract, so runs here never meet another usbguard.
    script = ('USBGUARD_UMOCKDEV_DEVICEDIR=%s/tree umockdev-wrapper usbguard-daemon -k -P -c %s/usbguard.conf '
              '>%s/usbguard.log 2>&1 &\n'
              'for i in $(seq 100); do usbguard list-devices >%s/list 2>/dev/null && [ $(grep -c . %s/list) -ge %d ] '
              '&& exit 0; sleep 0.1; done; exit 1\n') % (d, d, d, d, d, n_devs + 1)
    r = subprocess.run(["unshare", "--net", "--pid", "--fork", "--kill-child", "--", "sh", "-c", script])
    if r.returncode != 0:
        return None
    got = {}
    for line in open(os.path.join(d, "list"), encoding="utf-8", errors="replace"):
        parts = line.split()
        if len(parts) > 2 and ' via-port "' in line:
            port = line.split(' via-port "')[1].split('"')[0]
            got[port] = parts[1]
    return got


def run_sekisho(d, rules):
    with open(os.path.join(d, "policy.yaml"), "w") as f:
        f.write("usb:\n  default: block\n  rules:\n")
        for r in rules:
            f.write("    - '" + r.replace("'", "''") + "'\n")
    r = subprocess.run(["umockdev-run", "-d", os.path.join(d, "tree", "devices.umockdev"), "--"] + ctl +
                       ["usb", "list", "--policy", os.path.join(d, "policy.yaml")], capture_output=True, text=True,
                       errors="replace")
    if r.returncode != 0:
        sys.exit("sekishoctl usb list failed: " + r.stderr)
    got = {}
    for line in r.stdout.splitlines():
        m = re.match(r'^(\S+) \S+ ".*?" (allow|block|reject) \(', line)
        if m:
            got[m.group(1)] = m.group(2)
    return got


differ = total = 0
for k in range(n_sets):
    d = os.path.join(work, "set%d" % k)
    os.makedirs(os.path.join(d, "tree"), exist_ok=True)
    tree, devs = gen_tree()
    with open(os.path.join(d, "tree", "devices.umockdev"), "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(tree)
    rules = gen_rules(devs)
    ug = run_usbguard(d, rules)
    if ug is None:
        print("SKIP: usbguard-daemon did not list the devices (see %s/usbguard.log)" % d)
        sys.exit(77)
    sk = run_sekisho(d, rules)
    for dev in devs:
        total += 1
        a, b = ug.get(dev["port"]), sk.get(dev["port"])
        if a != b:
            differ += 1
            print("DIFFER set %d: %s %s:%s name %r serial %r interfaces %s: usbguard %s, sekisho %s\n  rules: %s" %
                  (k, dev["port"], dev["vid"], dev["pid"], dev["name"], dev["serial"],
                   " ".join("%02x:%02x:%02x" % t for t in dev["ifs"]), a, b, " | ".join(rules)))
print("%d of %d device decisions differ (%d rule sets of %d devices, seed %d)" % (differ, total, n_sets, n_devs, seed))
sys.exit(1 if differ else 0)
