# plugins/net/demo.sh — the net plugin's part of tools/demo (sourced): two terminals in network namespaces, isolated from each other by sekishod --plugins=net.
# The daemon of the main demo runs in the host's namespace, where the net
# plugin refuses to touch the host's firewall in test mode; this part runs a
# second sekishod inside a namespace it makes (TEST-NET addresses only).
say "network: terminals A and B on one LAN (namespaces); A runs sekishod --plugins=net"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1 || ! command -v socat >/dev/null 2>&1 ||
        ! ip netns add "sekisho-demo-a-$$" 2>/dev/null; then
        echo "  (skipped: needs root, iproute2, socat and network namespaces)"
else
        (
                set +e
                NA="sekisho-demo-a-$$"
                NB="sekisho-demo-b-$$"
                NPID=
                LPID=
                net_demo_cleanup() {
                        [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
                        [ -n "$LPID" ] && kill "$LPID" 2>/dev/null
                        wait 2>/dev/null
                        ip netns del "$NA" 2>/dev/null
                        ip netns del "$NB" 2>/dev/null
                }
                trap net_demo_cleanup EXIT
                ip netns add "$NB"
                ip -n "$NA" link set lo up
                ip -n "$NB" link set lo up
                ip -n "$NA" link add a0 type veth peer name b0 netns "$NB"
                ip -n "$NA" addr add 192.0.2.10/24 dev a0
                ip -n "$NB" addr add 192.0.2.20/24 dev b0
                ip -n "$NA" link set a0 up
                ip -n "$NB" link set b0 up
                ip netns exec "$NB" socat -u TCP-LISTEN:7000,fork,reuseaddr /dev/null 2>/dev/null &
                LPID=$!
                sleep 0.5
                try() { echo hi | ip netns exec "$NA" timeout 4 socat -u - TCP:192.0.2.20:7000,connect-timeout=2 2>/dev/null && echo reached || echo blocked; }
                echo "  before: A -> B tcp/7000: $(try)"
                mkdir -p "$D/net/state" "$D/net/inbox"
                ip netns exec "$NA" "$SEKISHOD" --foreground --config "$D/sekisho.conf" --state-dir "$D/net/state" \
                        --keys-dir "$D/keys.d" --inbox "$D/net/inbox" --audit-log "$D/net/audit.log" --bus=none \
                        --plugins=net 2>"$D/net/daemon.log" &
                NPID=$!
                n=0
                while ! grep -q enforcing "$D/net/daemon.log" 2>/dev/null && [ $n -lt 50 ]; do n=$((n + 1)); sleep 0.1; done
                grep -E 'Plugin net|enforcing' "$D/net/daemon.log" | sed 's/^/  /'
                echo "  after:  A -> B tcp/7000: $(try)"
                echo "  the rules that did it (table inet sekisho, chain policy_out):"
                ip netns exec "$NA" nft list chain inet sekisho policy_out | sed -n '/jump\|accept/p' | sed 's/^\t*/    /'
                echo "  learned on-link subnets: $(ip netns exec "$NA" nft list set inet sekisho onlink4 | tr -d '\n\t' | sed -n 's/.*elements = { \([^}]*\) }.*/\1/p')"
                echo "  drop counters: $(ip netns exec "$NA" nft list counters table inet sekisho | awk '/counter/ {c=$2} /packets/ && $2 > 0 {printf "%s=%s ", c, $2}')"
                sleep 0.3
                grep '"event":"network-traffic-blocked"' "$D/net/audit.log" | head -n 1 |
                        sed -e 's/,"prev":"[0-9a-f]*"}/}/' -e 's/^{"seq":[0-9]*,"time":"[^"]*","host":"[^"]*",/  audit: /'
                kill "$NPID"
                wait "$NPID" 2>/dev/null
                NPID=
                echo "  daemon stopped; the table stays (fail-closed): A -> B tcp/7000: $(try)"
        )
fi
