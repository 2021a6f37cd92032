#!/bin/sh
# net-amule.sh — a real aMule (Debian's amuled, obfuscation off) on random ports: its Kad datagrams reach a second amuled behind the router while file sharing is allowed; with it denied, its Kad datagrams are stopped by the classifier (classify-own.c) and it never joins Kad.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

built_without_classifier && skip "built --without-classifier"
[ -x "$CLASSIFY" ] || fail "sekisho-classify was not built ($CLASSIFY)"
need_cmd amuled python3
rport() { echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000)); }

# amule_conf DIR NICK TCP UDP EC: a private aMule configuration. Protocol
# obfuscation off (encrypted eD2k/Kad cannot be told from noise by anyone,
# README-net.md); no IP filter, no update URLs, no UPnP; the external
# connection on loopback only (amuled refuses to run without one). aMule's
# own defaults fill the rest when it starts.
amule_conf() {
        mkdir -p "$1/Temp" "$1/Incoming"
        cat >"$1/amule.conf" <<CONF
[eMule]
Nick=$2
Port=$3
UDPPort=$4
UDPEnable=1
Autoconnect=1
ConnectToKad=1
ConnectToED2K=1
Reconnect=1
UPnPEnabled=0
FilterLanIPs=0
ParanoidFiltering=0
IPFilterAutoLoad=0
IPFilterURL=
NewVersionCheck=0
GeoIPEnabled=0
KadNodesUrl=
Ed2kServersUrl=
TempDir=$1/Temp
IncomingDir=$1/Incoming
OSDirectory=$1/
[ExternalConnect]
AcceptExternalConnections=1
ECAddress=127.0.0.1
ECPort=$5
ECPassword=$(printf 'sekisho-test' | md5sum | cut -d' ' -f1)
UPnPECEnabled=0
IpFilterClients=0
IpFilterServers=0
[WebServer]
Enabled=0
[Obfuscation]
IsClientCryptLayerSupported=0
IsCryptLayerRequested=0
IsClientCryptLayerRequired=0
CONF
}

# start_amuled NS DIR: amuled in namespace NS with its own HOME and configuration; $AMULED_PID.
start_amuled() {
        HOME=$2 ip netns exec "$1" amuled --config-dir="$2" >"$2/stdout.log" 2>&1 &
        AMULED_PID=$!
        BG_PIDS="$BG_PIDS $AMULED_PID"
        wait_for "grep -q 'IP filter is ready' '$2/logfile'" 300 ||
                { kill "$AMULED_PID" 2>/dev/null; skip "amuled does not start here: $(tail -3 "$2/logfile" "$2/stdout.log" 2>/dev/null | tr '\n' ' ')"; }
}
stop_amuled() {
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

classify_lan
echo "# the queue step: $QUEUE_PATH"

# peer N: a real amuled on the server (behind the router, so only the
# classifier stands between it and the terminal), fresh, on random ports
# ($S_TCP, $S_UDP), and what reaches it, counted in the server's own
# namespace (a table of this test's, in namespace S only): TCP segments to
# its eD2k port whose payload opens with 0xE3 (eDonkey), all TCP segments
# there (the handshake), and Kad datagrams (0xE4) to its UDP port. The
# lengths make sure there is a payload (IPv4 and TCP headers are at most 80
# bytes; aMule speaks IPv4): `@ih` matched payload-less packets on Debian's
# 6.1 kernel (dpi.c).
peer_start() {
        [ -n "${PEER_PID:-}" ] && stop_amuled "$PEER_PID"
        S_TCP=$(rport)
        S_UDP=$(rport)
        while [ "$S_UDP" -ge "$S_TCP" ] && [ "$S_UDP" -le $((S_TCP + 3)) ]; do S_UDP=$(rport); done # aMule's server UDP port is TCP + 3
        amule_conf "$T/peer$1" "sekisho-peer$1" "$S_TCP" "$S_UDP" "$(rport)"
        $IN_S nft delete table inet sekisho_test_peer 2>/dev/null || true
        $IN_S nft -f - <<NFT
table inet sekisho_test_peer {
        counter ed2k {}
        counter ed2k_all {}
        counter kad {}
        chain input {
                type filter hook input priority 0;
                tcp dport $S_TCP ip length > 80 @ih,0,8 0xe3 counter name ed2k
                tcp dport $S_TCP counter name ed2k_all
                udp dport $S_UDP udp length > 8 @ih,0,8 0xe4 counter name kad
        }
}
NFT
        start_amuled "$NS_S" "$T/peer$1"
        PEER_PID=$AMULED_PID
        LINK="ed2k://|file|sekisho-test.bin|300000|5ea1c1e00000000000000000000000f0|/|sources,198.51.100.10:$S_TCP|/"
}
peer() { $IN_S nft list counter inet sekisho_test_peer "$1" | awk '/packets/ {print $2 "/" $4}'; } # packets/bytes
packets() { peer "$1" | cut -d/ -f1; }

# A Kad node list (nodes.dat version 2, RoutingZone::ReadFile in aMule's
# sources: 0, version, count, then per contact ID 16, IPv4 4 as a
# little-endian number, UDP and TCP port, Kad version, UDP key 8, verified)
# naming only the peer, and an ed2k link naming the peer as a source, so
# that the terminal's amuled contacts it by itself, in both protocols.
nodes_dat() {
        python3 - "$1" "$S_UDP" "$S_TCP" <<'PY'
import os, struct, sys
ip = (198 << 24) | (51 << 16) | (100 << 8) | 10
contact = os.urandom(16) + struct.pack('<IHHB', ip, int(sys.argv[2]), int(sys.argv[3]), 8) + bytes(8) + b'\x01'
open(sys.argv[1], 'wb').write(struct.pack('<III', 0, 2, 1) + contact)
PY
}
# terminal N: a fresh amuled in A (its own directory, Kad ID and random
# ports), told about the peer; $A_PID, its directory $A_DIR.
terminal() {
        A_DIR="$T/terminal$1"
        amule_conf "$A_DIR" "sekisho-terminal$1" "$(rport)" "$(rport)" "$(rport)"
        nodes_dat "$A_DIR/nodes.dat"
        start_amuled "$NS_A" "$A_DIR"
        A_PID=$AMULED_PID
        # Read once a second by amuled (sources named in a link given on its
        # command line are dropped: the IP filter is not ready yet then).
        printf '%s\n' "$LINK" >"$A_DIR/ED2KLinks"
}

# sharing allow|deny: switch the profile. The plugin loads its queue chains
# only while file sharing is denied; the xt stand-in for kernels without nft
# queue (net-lib.sh) is added once, so it follows the profile here, as the
# plugin's own chains would.
sharing() {
        if [ "$1" = allow ]; then switch_profile sharing; op=-D; else switch_profile ""; op=-A; fi
        case $QUEUE_PATH in
        *stand-in*)
                for ipt in iptables-legacy ip6tables-legacy; do
                        $IN_A $ipt $op OUTPUT ! -o lo -j SEKISHO_Q
                        $IN_A $ipt $op INPUT ! -i lo -j SEKISHO_Q
                done ;;
        esac
}

# 1. Control: file sharing allowed, both protocols reach the peer.
peer_start 1
sharing allow
terminal 1
wait_for "[ \$(packets kad) -gt 0 ]" 300 || fail "control: no Kad datagram from the terminal's amuled reached the peer ($(tail -3 "$A_DIR/logfile"); classifier: $(tail -5 "$T/classify.log"); A: $($IN_A ss -uan | tr '\n' ' '); S: $($IN_S ss -uan | tr '\n' ' '))"
wait_for "grep -q 'Connected to Kad' '$A_DIR/logfile'" 300 || fail "control: the terminal's amuled did not join Kad through the peer"
ok "control: amuled's Kad datagrams reach the peer's UDP port $S_UDP with file sharing allowed ($(peer kad) packets/bytes), it joins Kad"
# Its eD2k hello to the source named by the link comes on its own schedule, often a minute or more
# later (none in 150 s on a loaded machine): it is told as seen so far, never waited for, since no
# wait for it could fail the test. The hello's format is checked on crafted traffic (net-classify.sh).
echo "# control: eD2k to the peer's TCP port $S_TCP so far: $(peer ed2k) packets/bytes with 0xE3 payload, $(peer ed2k_all) TCP in all"
stop_amuled "$A_PID"
grep -q '^forbidden' "$T/classify.log" && fail "control: the classifier forbade a flow with file sharing allowed: $(grep '^forbidden' "$T/classify.log" | head -3)"

# 2. Denied: Kad. A new terminal amuled opens with Kad datagrams to the peer.
sharing deny
kad0=$(peer kad)
terminal 2
wait_for "grep -q '^forbidden Kad 192.0.2.50 -> 198.51.100.10$' '$T/classify.log'" 300 ||
        fail "no Kad decision for the terminal's amuled ($(tail -3 "$T/classify.log"))"
sleep 5
[ "$(peer kad)" = "$kad0" ] || fail "Kad datagrams reached the peer with file sharing denied ($kad0 -> $(peer kad) packets/bytes)"
grep -q 'Connected to Kad' "$A_DIR/logfile" && fail "the terminal's amuled joined Kad with file sharing denied"
ok "denied: amuled's Kad datagrams found by the classifier and stopped (peer's Kad counter stays at $kad0 packets/bytes; amuled never joins Kad)"
stop_amuled "$A_PID"

# Not shown here: the terminal's own eD2k hello stopped. amuled asks a
# source only while it is connected (to a server, or to Kad), and with file
# sharing denied its Kad never connects; one that joined Kad while sharing
# was allowed sent no hello within 150 s once the policy denied it (its Kad
# datagrams were dropped). The hello's format is checked on crafted traffic
# (net-classify.sh).
grep '^forbidden' "$T/classify.log" | sort | uniq -c | sed 's/^/# classifier: /'
echo "# every packet above reached the classifier through: $QUEUE_PATH"

exit 0
