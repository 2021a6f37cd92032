#!/usr/bin/env python3
# journal-receiver.py — a stand-in for journald's native socket in tests: each datagram
# (systemd.io/JOURNAL_NATIVE_PROTOCOL: KEY=VALUE lines or KEY\n le64 VALUE\n) becomes one JSON line;
# with a third argument, also one entry of journal export format (systemd.io/JOURNAL_EXPORT_FORMATS)
# in that file, stamped as journald would, for systemd-journal-remote to turn into journal files.
import json, os, socket, struct, sys, time, uuid

def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            if data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field %r not followed by a newline" % k)
            i = nl + 10 + n
        key = k.decode()
        if not key or not all(c.isupper() or c.isdigit() or c == "_" for c in key) or key[0] == "_":
            raise ValueError("invalid field name %r" % key)
        fields.setdefault(key, []).append(v.decode("utf-8", "replace"))
    return fields

def export(fields, boot):
    out = bytearray()
    stamps = {"__REALTIME_TIMESTAMP": str(time.time_ns() // 1000), "__MONOTONIC_TIMESTAMP": str(time.monotonic_ns() // 1000),
              "_BOOT_ID": boot, "_HOSTNAME": "sekisho-test"}
    for k, vs in list(stamps.items()) + [(k, v) for k, vl in fields.items() for v in vl]:
        for v in [vs] if isinstance(vs, str) else vs:
            b = v.encode()
            out += (k.encode() + b"=" + b + b"\n") if b"\n" not in b else (k.encode() + b"\n" + struct.pack("<Q", len(b)) + b + b"\n")
    return bytes(out) + b"\n"

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
exp = open(sys.argv[3], "ab", buffering=0) if len(sys.argv) > 3 else None
boot = uuid.uuid4().hex
while True:
    data = s.recv(1 << 20)
    try:
        fields = parse(data)
        out.write(json.dumps(fields) + "\n")
        if exp:
            exp.write(export(fields, boot))
    except ValueError as e:
        out.write(json.dumps({"ERROR": [str(e)]}) + "\n")
