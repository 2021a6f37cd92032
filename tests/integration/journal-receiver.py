#!/usr/bin/env python3
# journal-receiver.py — a stand-in for journald's native socket in tests: each datagram
# (systemd.io/JOURNAL_NATIVE_PROTOCOL: KEY=VALUE lines or KEY\n le64 VALUE\n) becomes one JSON line.
import json, socket, struct, sys

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

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    data = s.recv(1 << 20)
    try:
        out.write(json.dumps(parse(data)) + "\n")
    except ValueError as e:
        out.write(json.dumps({"ERROR": [str(e)]}) + "\n")
