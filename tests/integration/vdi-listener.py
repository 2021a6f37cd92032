#!/usr/bin/env python3
# vdi-listener.py — a TCP listener on loopback that records every connection (one line each) for the VDI tests.
import socket
import sys

port_file, log_file = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(port_file + ".tmp", port_file)
log = open(log_file, "a", buffering=1)
hold = len(sys.argv) > 3 and sys.argv[3] == "hold"  # keep connections open (a client then stays up)
held = []
while True:
    c, addr = s.accept()
    log.write("connection from %s:%d\n" % addr)
    if hold:
        held.append(c)
    else:
        c.close()
