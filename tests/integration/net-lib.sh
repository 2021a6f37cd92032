# net-lib.sh — the namespace LAN the network plugin's tests run on (sourced after lib.sh).
#
#   A (terminal, DHCP + SLAAC) ─┐
#                               ├─ br0 in R (router 192.0.2.1, 2001:db8:1::1, dnsmasq DHCP + RA + DNS)
#   B (terminal, 192.0.2.20)   ─┘   R ── S (server 198.51.100.10, 2001:db8:2::10)
#
# Only TEST-NET and 2001:db8:: addresses, only inside namespaces made here;
# every process the plugin runs in is started with `ip netns exec`.

need_root
need_cmd ip nft socat
[ -x /usr/sbin/dnsmasq ] || command -v dnsmasq >/dev/null 2>&1 || skip "'dnsmasq' is not installed"
command -v busybox >/dev/null 2>&1 || skip "'busybox' (udhcpc) is not installed"
ip netns add "sekisho-test-probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "sekisho-test-probe-$$"

NET_DRIVER="${NET_DRIVER:-$top_builddir/tests/integration/net-driver}"
NS_A="sekisho-test-a-$$"
NS_B="sekisho-test-b-$$"
NS_R="sekisho-test-r-$$"
NS_S="sekisho-test-s-$$"
IN_A="ip netns exec $NS_A"
IN_B="ip netns exec $NS_B"
IN_R="ip netns exec $NS_R"
IN_S="ip netns exec $NS_S"
BG_PIDS=

net_teardown() {
        for p in $BG_PIDS; do kill "$p" 2>/dev/null || true; done
        for ns in "$NS_A" "$NS_B" "$NS_R" "$NS_S"; do
                # Stop whatever still runs in the namespace (only our own test processes live there).
                for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
                ip netns del "$ns" 2>/dev/null || true
        done
}
at_exit net_teardown

bg() { "$@" & BG_PIDS="$BG_PIDS $!"; }

net_topology() {
        for ns in "$NS_A" "$NS_B" "$NS_R" "$NS_S"; do
                ip netns add "$ns"
                ip -n "$ns" link set lo up
        done
        $IN_R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
        ip -n "$NS_R" link add br0 type bridge
        ip -n "$NS_R" link set br0 type bridge mcast_snooping 0
        ip -n "$NS_R" addr add 192.0.2.1/24 dev br0
        ip -n "$NS_R" -6 addr add 2001:db8:1::1/64 dev br0 nodad
        ip -n "$NS_R" link set br0 up
        for t in a b; do
                ns=$NS_A
                [ $t = b ] && ns=$NS_B
                ip -n "$NS_R" link add "r$t" type veth peer name "${t}0" netns "$ns"
                ip -n "$NS_R" link set "r$t" master br0 up
                ip netns exec "$ns" sysctl -qw "net.ipv6.conf.${t}0.accept_dad=0"
                ip -n "$ns" link set "${t}0" up
        done
        ip -n "$NS_B" addr add 192.0.2.20/24 dev b0
        ip -n "$NS_B" -6 addr add 2001:db8:1::20/64 dev b0 nodad
        ip -n "$NS_B" route add default via 192.0.2.1
        ip -n "$NS_R" link add rs type veth peer name s0 netns "$NS_S"
        ip -n "$NS_R" addr add 198.51.100.1/24 dev rs
        ip -n "$NS_R" -6 addr add 2001:db8:2::1/64 dev rs nodad
        ip -n "$NS_R" link set rs up
        ip -n "$NS_S" addr add 198.51.100.10/24 dev s0
        ip -n "$NS_S" -6 addr add 2001:db8:2::10/64 dev s0 nodad
        ip -n "$NS_S" link set s0 up
        ip -n "$NS_S" route add default via 198.51.100.1
        ip -n "$NS_S" -6 route add default via 2001:db8:2::1
        # B's IPv6 default route comes from the router advertisements too.

        # DHCP, RA (SLAAC) and DNS on the router.
        DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
        bg $IN_R "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --user=root --no-resolv --no-hosts \
                --interface=br0 --bind-interfaces --listen-address=192.0.2.1 \
                --address=/server.test/198.51.100.10 \
                --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h --dhcp-option=3,192.0.2.1 \
                --dhcp-option=6,192.0.2.1 --enable-ra --ra-param=br0,10 \
                --dhcp-range=::,constructor:br0,ra-only,64,1h \
                --dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log"

        # The terminal's own files: name server and hosts, under a private sysroot.
        mkdir -p "$T/root/etc"
        echo "nameserver 192.0.2.1" >"$T/root/etc/resolv.conf"
        printf '127.0.0.1 localhost\n198.51.100.10 server.test\n192.0.2.20 printer.test\n' >"$T/root/etc/hosts"

        # Sanity before any table: A and B see each other, so a block later means something.
        ip -n "$NS_A" addr add 192.0.2.99/24 dev a0
        $IN_A busybox ping -c1 -W2 192.0.2.20 >/dev/null || fail "topology: A cannot reach B without the table"
        ip -n "$NS_A" addr del 192.0.2.99/24 dev a0
}

# A udhcpc script that only touches A's own interface.
write_udhcpc_script() {
        cat >"$T/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
case "$1" in
bound|renew)
        ip addr replace "$ip/$mask" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        echo "$ip" >"$(dirname "$0")/lease" ;;
esac
exit 0
SCRIPT
        chmod +x "$T/udhcpc.sh"
}

# The file-sharing classifier in namespace A (sekisho-classify.service's
# process), when this build has one; its log is $T/classify.log.
CLASSIFY="${CLASSIFY:-$top_builddir/sekisho-classify}"
start_classify() {
        [ -x "$CLASSIFY" ] || return 0
        n=$(grep -c '^sekisho-classify: classifying' "$T/classify.log" 2>/dev/null || true)
        $IN_A "$CLASSIFY" --verbose >>"$T/classify.log" 2>&1 &
        CLASSIFY_PID=$!
        BG_PIDS="$BG_PIDS $CLASSIFY_PID"
        wait_for "[ \$(grep -c '^sekisho-classify: classifying' '$T/classify.log') -gt ${n:-0} ]" 100 ||
                fail "sekisho-classify did not start: $(tail -3 "$T/classify.log")"
}
# A kernel built without CONFIG_NFT_QUEUE (this test machine's, not
# Debian's) refuses the `queue` statement; the plugin then loads its
# classify chains without it (status: classifier=unavailable). So that the
# classifier is still tested end to end there, the same queue step is added
# with the xtables NFQUEUE target in namespace A only, just after our
# chains (filter priority 0), with the same marks: what the kernel keeps is
# the same, and the drop of a forbidden flow's rest stays our chain's.
# QUEUE_PATH says which one ran. NET_NEED_NFT_QUEUE=1 (the e2e guest, on
# Debian's kernel) refuses the stand-in.
QUEUE_PATH="nft queue (the plugin's own rule)"
queue_shim() {
        grep -q '^classifier=unavailable' "$T/status" 2>/dev/null || return 0
        [ "${NET_NEED_NFT_QUEUE:-0}" = 1 ] && fail "this kernel refuses the nft queue rule: $(grep '^classifier=' "$T/status")"
        QUEUE_PATH="xt NFQUEUE stand-in (iptables-legacy in namespace A; this kernel has no nft queue, the plugin's own queue rule did not run)"
        command -v iptables-legacy >/dev/null 2>&1 || skip "kernel without nft queue and no iptables-legacy (xt NFQUEUE) to stand in"
        for ipt in iptables-legacy ip6tables-legacy; do
                $IN_A $ipt -N SEKISHO_Q 2>/dev/null || $IN_A $ipt -F SEKISHO_Q
                $IN_A $ipt -A SEKISHO_Q -m connmark ! --mark 0/0x60000000 -j RETURN
                for m in 0x40000000 0x20000000; do
                        $IN_A $ipt -A SEKISHO_Q -m mark --mark $m/0x60000000 -j CONNMARK --save-mark --nfmask 0x60000000 --ctmask 0x60000000
                done
                $IN_A $ipt -A SEKISHO_Q -m mark --mark 0x40000000/0x60000000 -j DROP
                $IN_A $ipt -A SEKISHO_Q -m mark --mark 0x20000000/0x60000000 -j RETURN
                $IN_A $ipt -A SEKISHO_Q -p udp -m multiport --ports 67,68,546,547 -j RETURN
                # Packets without payload pass unqueued, as the nft rule's `@ih,0,8` does: the
                # IP length is the headers' (IPv4 without options, IPv6 without extension headers;
                # anything else is queued, which costs only time).
                if [ $ipt = iptables-legacy ]; then iplen="0&0xFFFF"; hdr=20; doff="0>>22&0x3C@12>>28"; v="0>>22&0x3C=20 && "
                else iplen="4>>16"; hdr=0; doff="52>>28"; v="6>>24=6 && "; fi
                for d in 5 6 7 8 9 10 11 12 13 14 15; do
                        $IN_A $ipt -A SEKISHO_Q -p tcp -m u32 --u32 "$v$doff=$d && $iplen=$((hdr + 4 * d))" -j RETURN
                done
                [ $ipt = iptables-legacy ] && v="0>>22&0x3C=20 && " || v="6>>24=17 && "
                $IN_A $ipt -A SEKISHO_Q -p udp -m u32 --u32 "$v$iplen=$((hdr + 8))" -j RETURN
                $IN_A $ipt -A SEKISHO_Q -p tcp -j NFQUEUE --queue-num 3142
                $IN_A $ipt -A SEKISHO_Q -p udp -j NFQUEUE --queue-num 3142
                $IN_A $ipt -A OUTPUT ! -o lo -j SEKISHO_Q
                $IN_A $ipt -A INPUT ! -i lo -j SEKISHO_Q
        done
        echo "# kernel without nft queue: the queue step stands in as xt NFQUEUE (iptables-legacy) in namespace A"
}

# 0 when configure was told to leave the classifier out (config.h says so).
built_without_classifier() { grep -q '^#define HAVE_CLASSIFIER 0' "$top_builddir/config.h" 2>/dev/null; }

# Start the plugin in namespace A on policy file $1 (extra driver args after it),
# with the classifier beside it as on a terminal ($NET_WRAP, if set, runs first
# inside the namespace and execs the rest).
# classify_lan: the LAN with terminal A at 192.0.2.50 / 2001:db8:1::50 (static, default routes
# through the router) and the net plugin running a policy that denies file sharing, with a
# profile "sharing" that allows it (the classifier tests' control).
classify_lan() {
        net_topology
        ip -n "$NS_A" addr add 192.0.2.50/24 dev a0
        ip -n "$NS_A" -6 addr add 2001:db8:1::50/64 dev a0 nodad
        ip -n "$NS_A" route replace default via 192.0.2.1
        ip -n "$NS_A" -6 route replace default via 2001:db8:1::1
        NET_POLICY="$T/policy.yaml"
        printf '%s\n' 'network:' '  peer-to-peer: deny' '  file-sharing: deny' 'profiles:' '  sharing:' \
                '    network:' '      file-sharing: allow' >"$NET_POLICY"
        start_net "$NET_POLICY"
}

start_net() {
        pol=$1
        shift
        [ -n "${CLASSIFY_PID:-}" ] || start_classify
        $IN_A ${NET_WRAP:-} "$NET_DRIVER" --policy "$pol" --sysroot "$T/root" --audit "$T/audit" --status "$T/status" "$@" \
                >>"$T/daemon.log" 2>&1 &
        NET_PID=$!
        BG_PIDS="$BG_PIDS $NET_PID"
        wait_for "grep -q enforcing '$T/daemon.log'" 100 || fail "the net plugin did not start"
        if [ -n "${CLASSIFY_PID:-}" ] && [ -z "${QUEUE_SHIM_DONE:-}" ]; then
                kill -USR1 "$NET_PID" 2>/dev/null || true # the driver writes its status
                wait_for "[ -s '$T/status' ]" 50 || true
                queue_shim
                QUEUE_SHIM_DONE=1
        fi
}

# Switch the active profile ("" for none) and wait for the re-application.
switch_profile() {
        n=$(grep -c '^applied' "$T/daemon.log" || true)
        printf '%s\n' "$1" >"$NET_POLICY.profile"
        kill -HUP "$NET_PID"
        wait_for "[ \$(grep -c -e '^applied' -e '^apply failed' '$T/daemon.log') -gt $n ]" 100 || fail "no re-application"
}

counter() { $IN_A nft list counter inet sekisho "$1" | awk '/packets/ {print $2}'; }

# Listeners (dual stack) that accept and discard, or append what they get to a file.
listen_discard() { bg ip netns exec "$1" socat -u "TCP6-LISTEN:$2,fork,reuseaddr,ipv6only=0" /dev/null; }
listen_file() { bg ip netns exec "$1" socat -u "TCP6-LISTEN:$2,fork,reuseaddr,ipv6only=0" "OPEN:$3,creat,append"; }
listen_udp_file() { bg ip netns exec "$1" socat -u "UDP6-RECVFROM:$2,fork,reuseaddr,ipv6only=0" "OPEN:$3,creat,append"; }

# tcp_ok NS HOST PORT: a TCP connection from NS succeeds (HOST in [] for IPv6).
tcp_ok() { printf 'hello\n' | ip netns exec "$1" timeout 6 socat -u - "TCP:$2:$3,connect-timeout=3" >/dev/null 2>&1; }

# The cgroup v2 hierarchy as this machine mounts it (unified or hybrid), or "".
cgroup2_mount() { awk '$0 ~ / - cgroup2 / && $4 == "/" {print $5; exit}' /proc/self/mountinfo; }

# Inside `ip netns exec` /sys is the namespace's own sysfs, without the cgroup
# mount nft resolves `socket cgroupv2` paths under: mount the hierarchy at
# /sys/fs/cgroup there (that mount namespace is private to the command).
write_cgroup_wrap() {
        cat >"$T/cgwrap.sh" <<'SCRIPT'
#!/bin/sh
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
exec "$@"
SCRIPT
        chmod +x "$T/cgwrap.sh"
}

# in_cgroup DIR CMD...: run CMD with its process moved into cgroup DIR first.
in_cgroup() { sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$@"; }
