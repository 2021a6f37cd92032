#!/usr/bin/env python3
# net-classify-peers.py — test helpers for net-classify.sh: a torrent maker, a one-peer HTTP tracker, raw file-sharing handshakes sent in chosen segments.
import hashlib, http.server, os, socket, sys, time


def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, str):
        return bencode(x.encode())
    if isinstance(x, list):
        return b"l" + b"".join(bencode(v) for v in x) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(x.items())) + b"e"


def maketorrent(path, tracker, out):
    data = open(path, "rb").read()
    plen = 16384
    pieces = b"".join(hashlib.sha1(data[i:i + plen]).digest() for i in range(0, len(data), plen))
    info = {"name": os.path.basename(path), "length": len(data), "piece length": plen, "pieces": pieces}
    open(out, "wb").write(bencode({"announce": tracker, "info": info}))


def tracker(port, peer_ip, peer_port):
    """Answers every announce with one peer (compact form)."""
    compact = socket.inet_aton(peer_ip) + int(peer_port).to_bytes(2, "big")

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = bencode({"interval": 5, "peers": compact})
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("0.0.0.0", int(port)), H).serve_forever()


def send(host, port, parts, proto="tcp"):
    """Send each hex part as its own segment (TCP_NODELAY, a pause between)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if proto == "udp":
        s = socket.socket(family, socket.SOCK_DGRAM)
        for p in parts:
            s.sendto(bytes.fromhex(p), (host, int(port)))
        return
    s = socket.create_connection((host, int(port)), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(1)
    for p in parts:
        try:
            s.send(bytes.fromhex(p))
        except OSError:
            break
        time.sleep(0.3)
    time.sleep(0.5)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "maketorrent":
        maketorrent(*sys.argv[2:5])
    elif cmd == "tracker":
        tracker(*sys.argv[2:5])
    elif cmd == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[5:], sys.argv[4])
