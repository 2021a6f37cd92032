/* test-net.c — unit tests of the network plugin's pure parts: addresses, the network: section checks, name resolution, the generated ruleset and the connection model. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "default-fragment.h"
#include "net.h"
#include "nlraw.h"
#include "util.h"

static void test_cidr(void **state) {
        struct net_range r;
        const char *why;
        char buf[128];
        assert_int_equal(net_parse_cidr("192.0.2.0/24", &r, &why), 0);
        net_range_format(&r, buf, sizeof buf);
        assert_string_equal(buf, "192.0.2.0/24");
        assert_int_equal(net_parse_cidr("2001:db8::/32", &r, &why), 0);
        net_range_format(&r, buf, sizeof buf);
        assert_string_equal(buf, "2001:db8::/32");
        assert_int_equal(net_parse_cidr("198.51.100.7", &r, &why), 0);
        net_range_format(&r, buf, sizeof buf);
        assert_string_equal(buf, "198.51.100.7");
        assert_int_equal(net_parse_cidr("192.0.2.5/24", &r, &why), -EINVAL);
        assert_non_null(strstr(why, "host bits"));
        assert_int_equal(net_parse_cidr("192.0.2.0/33", &r, &why), -EINVAL);
        assert_int_equal(net_parse_cidr("0.0.0.0/0", &r, &why), -EINVAL);
        assert_int_equal(net_parse_cidr("192.0.2.0/", &r, &why), -EINVAL);
        assert_int_equal(net_parse_cidr("192.0.2.0/+8", &r, &why), -EINVAL);
        assert_int_equal(net_parse_cidr("300.0.2.0", &r, &why), -EINVAL);
        assert_int_equal(net_parse_cidr("", &r, &why), -EINVAL);
}

static void test_ranges(void **state) {
        struct net_ranges l = { 0 };
        struct net_range r;
        const char *ins[] = { "192.0.2.128/25", "192.0.2.0/25", "198.51.100.1", "198.51.100.2", "2001:db8::/64" };
        for (size_t i = 0; i < ARRAY_SIZE(ins); i++) {
                assert_int_equal(net_parse_cidr(ins[i], &r, NULL), 0);
                assert_int_equal(net_ranges_add(&l, &r), 0);
        }
        net_ranges_normalize(&l);
        assert_int_equal(l.n, 3);
        char buf[128];
        net_range_format(&l.v[0], buf, sizeof buf);
        assert_string_equal(buf, "192.0.2.0/24");
        net_range_format(&l.v[1], buf, sizeof buf);
        assert_string_equal(buf, "198.51.100.1-198.51.100.2");
        uint8_t a[4] = { 192, 0, 2, 77 };
        assert_true(net_ranges_contains(&l, NET_V4, a));
        a[2] = 3;
        assert_false(net_ranges_contains(&l, NET_V4, a));
        net_ranges_clear(&l);
}

static void test_ports_names(void **state) {
        uint16_t lo, hi;
        assert_int_equal(net_parse_ports("3389", &lo, &hi), 0);
        assert_int_equal(lo, 3389);
        assert_int_equal(net_parse_ports("6881-6889", &lo, &hi), 0);
        assert_int_equal(hi, 6889);
        assert_true(net_parse_ports("0", &lo, &hi) < 0);
        assert_true(net_parse_ports("70000", &lo, &hi) < 0);
        assert_true(net_parse_ports("9-3", &lo, &hi) < 0);
        assert_true(net_parse_ports("-3", &lo, &hi) < 0);
        assert_true(net_parse_ports("3x", &lo, &hi) < 0);
        assert_true(net_valid_hostname("remediation.example.lg.jp"));
        assert_false(net_valid_hostname("-bad.example"));
        assert_false(net_valid_hostname("a..b"));
        assert_false(net_valid_hostname("1.2.3"));
}

/* Parse a YAML snippet and check its network: section. */
static size_t check_yaml(const char *yaml, struct perrors *errs, struct net_policy *ret, struct ptree **ret_tree) {
        struct ptree *t = NULL;
        assert_int_equal(ptree_parse("t.yaml", yaml, strlen(yaml), &t, errs), 0);
        size_t n = net_policy_parse(t->root ? pmap_get(t->root, "network") : NULL, ret, errs);
        if (ret_tree)
                *ret_tree = t;
        else
                ptree_free(t);
        return n;
}

static bool has_error(const struct perrors *e, const char *needle) {
        for (size_t i = 0; i < e->n; i++)
                if (strstr(e->msgs[i], needle))
                        return true;
        return false;
}

/* The plugin's default fragment (plugins/net/default.yaml) is the strict one. */
static void test_policy_default(void **state) {
        struct perrors e = { 0 };
        struct net_policy p;
        struct ptree *t = default_fragment("net");
        assert_non_null(t);
        assert_int_equal(net_policy_parse(pmap_get(t->root, "network"), &p, &e), 0);
        assert_true(p.peer_deny);
        assert_true(p.fileshare_deny);
        assert_false(p.allowlist);
        assert_true(p.n_fs > 0);
        net_policy_done(&p);
        ptree_free(t);
}

static void test_policy_errors(void **state) {
        struct perrors e = { 0 };
        assert_int_equal(check_yaml("network:\n  allow-peers: [192.0.2.0/24, 192.0.2.10]\n", &e, NULL, NULL), 1);
        assert_true(has_error(&e, "t.yaml:2:31: allow-peers: overlaps the entry at 2:17"));
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  allow-peers: [192.0.2.1/24]\n", &e, NULL, NULL), 1);
        assert_true(has_error(&e, "host bits"));
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  allow-peers: [\"bad name!\"]\n", &e, NULL, NULL), 1);
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  file-sharing-ports: [6881, \"6880-6890\", 0]\n", &e, NULL, NULL), 2);
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  allow-discovery: [mdns, bonjour]\n", &e, NULL, NULL), 1);
        assert_true(has_error(&e, "'bonjour'"));
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  allow-destinations: [{host: 198.51.100.1, port: 80}]\n", &e, NULL, NULL), 1);
        assert_true(has_error(&e, "needs 'proto"));
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  allow-destinations: [{host: 198.51.100.1, proto: tcp, port: 99999}]\n", &e,
                                    NULL, NULL),
                         1);
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  peer-to-peer: maybe\n", &e, NULL, NULL), 1);
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  exempt-interfaces: [\"*\", docker0, \"a b\", virbr*]\n", &e, NULL, NULL), 2);
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  colour: blue\n", &e, NULL, NULL), 1);
        assert_true(has_error(&e, "unknown key"));
        perrors_clear(&e);
}

static void test_policy_management(void **state) {
        struct perrors e = { 0 };
        const char *cut = "network:\n  management: [{host: 203.0.113.10, proto: tcp, port: 443}]\n"
                          "  allow-destinations: [{host: 198.51.100.10, proto: tcp, port: 3389}]\n";
        assert_int_equal(check_yaml(cut, &e, NULL, NULL), 1);
        assert_true(has_error(&e, "would cut the management path"));
        perrors_clear(&e);
        const char *ok = "network:\n  management: [{host: 203.0.113.10, proto: tcp, port: 443}]\n"
                         "  allow-destinations: [203.0.113.0/24, {host: 198.51.100.10, proto: tcp, port: 3389}]\n";
        assert_int_equal(check_yaml(ok, &e, NULL, NULL), 0);
        const char *name = "network:\n  management: [mgmt.example.lg.jp]\n  allow-destinations: [MGMT.example.lg.jp]\n";
        assert_int_equal(check_yaml(name, &e, NULL, NULL), 0);
        const char *port = "network:\n  management: [{host: 203.0.113.10, proto: tcp, port: 443}]\n"
                           "  allow-destinations: [{host: 203.0.113.10, proto: tcp, port: \"1-442\"}]\n";
        assert_int_equal(check_yaml(port, &e, NULL, NULL), 1);
        perrors_clear(&e);
}

static const char hosts[] = "# hosts\n127.0.0.1 localhost\n198.51.100.10 server.test vdi\n2001:db8:2::10 server.test\n";

static void test_resolve_and_rules(void **state) {
        struct perrors e = { 0 };
        struct net_policy p;
        struct ptree *t;
        const char *y = "network:\n  allow-peers: [printer.test, 192.0.2.10]\n"
                        "  allow-destinations: [{host: server.test, proto: tcp, port: 3389}, 203.0.113.0/24,\n"
                        "                       {host: vdi, proto: tcp, port: 3389}, nowhere.test]\n"
                        "  allow-discovery: [mdns]\n";
        assert_int_equal(check_yaml(y, &e, &p, &t), 0);
        struct net_resolved res;
        assert_int_equal(net_resolve(&p, NULL, hosts, sizeof hosts - 1, &res), 0);
        assert_int_equal(res.n_unresolved, 2); /* printer.test, nowhere.test */
        assert_non_null(strstr(res.unresolved[0], "printer.test"));
        assert_int_equal(res.dests.n, 3); /* v4 + v6 of server.test, the /24; vdi is a duplicate */

        struct net_topo topo = { 0 };
        struct net_range r;
        net_parse_cidr("192.0.2.0/24", &r, NULL);
        net_ranges_add(&topo.onlink, &r);
        net_parse_cidr("192.0.2.1", &r, NULL);
        net_ranges_add(&topo.gw, &r);
        char *s = NULL;
        size_t size;
        FILE *f = open_memstream(&s, &size);
        struct net_counters zero = { .packets[NET_C_DHT] = 7 };
        assert_int_equal(net_ruleset(f, &p, &res, &topo, &zero, 3141), 0);
        fclose(f);
        assert_non_null(strstr(s, "counter dht { packets 7 bytes 0 }"));
        assert_non_null(strstr(s, "add table inet sekisho\ndelete table inet sekisho\n"));
        assert_non_null(strstr(s, "198.51.100.10 . tcp . 3389"));
        assert_non_null(strstr(s, "2001:db8:2::10 . tcp . 3389"));
        assert_non_null(strstr(s, "set dst4 { type ipv4_addr; flags interval; elements = { 203.0.113.0/24 } }"));
        assert_non_null(strstr(s, "elements = { fe80::/10, ff00::/8 }"));
        assert_non_null(strstr(s, "elements = { 169.254.0.0/16, 224.0.0.0/4, 255.255.255.255, 192.0.2.0/24 }"));
        assert_non_null(strstr(s, "priority filter - 10"));
        assert_non_null(strstr(s, "    udp dport 5353 accept\n")); /* mDNS allowed, to peers too */
        assert_non_null(strstr(s, "udp dport 1900 jump drop_discovery"));
        assert_non_null(strstr(s, "log group 3141 prefix \"bittorrent\""));
        assert_non_null(strstr(s, "jump drop_dest_out"));
        free(s);

        /* The C model agrees: RDP to the server allowed, anything else not. */
        uint8_t srv[4] = { 198, 51, 100, 10 }, peer[4] = { 192, 0, 2, 20 }, net3[4] = { 203, 0, 113, 9 };
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, srv, true, 6, 3389));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, srv, true, 6, 80));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, peer, true, 6, 3389));
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, net3, true, 17, 53));

        /* Refill mode: the table and its counters stay, sets are flushed and refilled. */
        s = NULL;
        f = open_memstream(&s, &size);
        assert_int_equal(net_ruleset(f, &p, &res, &topo, NULL, -1), 0);
        fclose(f);
        assert_non_null(strstr(s, "add table inet sekisho\nflush table inet sekisho\n"));
        assert_non_null(strstr(s, "flush set inet sekisho dsvc4\nadd element inet sekisho dsvc4 { 198.51.100.10 . tcp . 3389 }"));
        assert_null(strstr(s, "log group"));
        free(s);

        s = NULL;
        f = open_memstream(&s, &size);
        assert_int_equal(net_ruleset_sets(f, &topo, NULL), 0);
        fclose(f);
        assert_non_null(strstr(s, "flush set inet sekisho onlink4\nadd element inet sekisho onlink4 { 169.254.0.0/16, 224.0.0.0/4, 255.255.255.255, 192.0.2.0/24 }\n"));
        assert_non_null(strstr(s, "flush set inet sekisho gw6\nflush set"));
        uint8_t bcast[4] = { 255, 255, 255, 255 };
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, bcast, true, 17, 17500)); /* LAN sync broadcast */
        free(s);

        /* An address change (one more on-link prefix): only onlink4 is rewritten. */
        struct net_topo moved = { 0 };
        struct net_range extra;
        const char *why_extra;
        for (size_t i = 0; i < topo.onlink.n; i++)
                assert_int_equal(net_ranges_add(&moved.onlink, &topo.onlink.v[i]), 0);
        for (size_t i = 0; i < topo.gw.n; i++)
                assert_int_equal(net_ranges_add(&moved.gw, &topo.gw.v[i]), 0);
        for (size_t i = 0; i < topo.dns.n; i++)
                assert_int_equal(net_ranges_add(&moved.dns, &topo.dns.v[i]), 0);
        assert_int_equal(net_parse_cidr("203.0.113.0/25", &extra, &why_extra), 0);
        assert_int_equal(net_ranges_add(&moved.onlink, &extra), 0);
        net_ranges_normalize(&moved.onlink);
        s = NULL;
        f = open_memstream(&s, &size);
        assert_int_equal(net_ruleset_sets(f, &moved, &topo), 0);
        fclose(f);
        assert_string_equal(s, "flush set inet sekisho onlink4\nadd element inet sekisho onlink4 { 169.254.0.0/16, "
                               "224.0.0.0/4, 255.255.255.255, 192.0.2.0/24, 203.0.113.0/25 }\n");
        free(s);
        net_topo_done(&moved);

        net_resolved_done(&res);
        net_policy_done(&p);
        net_topo_done(&topo);
        ptree_free(t);
}

/* cgroup: on an allow-destinations entry, and another plugin's claim: checked
 * paths, one accept for the cgroup and one drop for everyone else, before the
 * allow-list; a claim that could not get its cgroup only drops. */
static void test_claims(void **state) {
        (void)state;
        assert_true(net_valid_cgroup("sekisho.slice/sekisho-vdi.slice"));
        assert_true(net_valid_cgroup("a"));
        assert_false(net_valid_cgroup(""));
        assert_false(net_valid_cgroup(NULL));
        assert_false(net_valid_cgroup("/a"));
        assert_false(net_valid_cgroup("a/"));
        assert_false(net_valid_cgroup("a//b"));
        assert_false(net_valid_cgroup("a/../b"));
        assert_false(net_valid_cgroup("a\"b"));
        assert_false(net_valid_cgroup("a b"));
        assert_int_equal(net_cgroup_level("a/b.slice/c"), 3);
        struct perrors e = { 0 };
        assert_int_equal(check_yaml("network:\n  allow-destinations: [{host: 198.51.100.10, cgroup: \"../x\"}]\n", &e, NULL, NULL), 1);
        assert_non_null(strstr(e.msgs[0], "cgroup '../x'"));
        perrors_clear(&e);
        assert_int_equal(check_yaml("network:\n  management: [{host: 198.51.100.10, cgroup: a}]\n", &e, NULL, NULL), 1);
        assert_non_null(strstr(e.msgs[0], "only for allow-destinations"));
        perrors_clear(&e);

        struct net_policy p;
        struct ptree *t;
        assert_int_equal(check_yaml("network:\n  allow-destinations:\n    - {host: server.test, proto: tcp, port: 3389, cgroup: a/vdi}\n"
                                    "    - 203.0.113.0/24\n", &e, &p, &t), 0);
        struct net_dests claims = { 0 };
        struct net_dest c = { .proto = NET_PROTO_UDP, .port_lo = 53, .port_hi = 53, .cgroup = (char *)"b" };
        net_parse_cidr("192.0.2.53", &c.range, NULL);
        assert_int_equal(net_dests_add(&claims, &c), 0);
        struct net_resolved res;
        assert_int_equal(net_resolve(&p, &claims, hosts, sizeof hosts - 1, &res), 0);
        assert_int_equal(res.dests.n, 1);
        assert_int_equal(res.claims.n, 3); /* v4 + v6 of server.test, the claim */
        res.cg_prefix = "unified/";
        res.claims.v[2].cg_missing = true;
        struct net_topo topo = { 0 };
        char *s = NULL;
        size_t size;
        FILE *f = open_memstream(&s, &size);
        assert_int_equal(net_ruleset(f, &p, &res, &topo, NULL, -1), 0);
        fclose(f);
        assert_non_null(strstr(s, "    ip daddr 198.51.100.10 meta l4proto tcp th dport 3389 socket cgroupv2 level 2 \"unified/a/vdi\" accept\n"
                                  "    ip daddr 198.51.100.10 meta l4proto tcp th dport 3389 jump drop_dest_out\n"));
        assert_non_null(strstr(s, "ip6 daddr 2001:db8:2::10 meta l4proto tcp th dport 3389 socket cgroupv2 level 2"));
        assert_null(strstr(s, "level 1 \"unified/b\""));
        assert_non_null(strstr(s, "    ip daddr 192.0.2.53 meta l4proto udp th dport 53 jump drop_dest_out\n"));
        assert_true(strstr(s, "jump claims_out") < strstr(s, "jump policy_out"));
        uint8_t srv[4] = { 198, 51, 100, 10 };
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, srv, true, 6, 3389)); /* the socket's cgroup decides */
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, srv, true, 6, 22));
        free(s);
        free(claims.v);
        net_resolved_done(&res);
        net_policy_done(&p);
        ptree_free(t);
}

/* DNS only as a client, forward chain, every multicast scope. */
static void test_dns_forward_multicast(void **state) {
        (void)state;
        struct perrors e = { 0 };
        struct net_policy p;
        struct ptree *t;
        assert_int_equal(check_yaml("network:\n  exempt-interfaces: [vguest, \"br-*\", \"vir?br\"]\n"
                                    "  forward-exempt-interfaces: [lab0]\n", &e, &p, &t), 0);
        struct net_resolved res;
        assert_int_equal(net_resolve(&p, NULL, hosts, sizeof hosts - 1, &res), 0);
        struct net_topo topo = { 0 };
        struct net_range r;
        net_parse_cidr("192.0.2.0/24", &r, NULL);
        net_ranges_add(&topo.onlink, &r);
        net_parse_cidr("192.0.2.53", &r, NULL);
        net_ranges_add(&topo.dns, &r);
        char *s = NULL;
        size_t size;
        FILE *f = open_memstream(&s, &size);
        assert_int_equal(net_ruleset(f, &p, &res, &topo, NULL, -1), 0);
        fclose(f);
        assert_null(strstr(s, "sport 53"));
        assert_non_null(strstr(s, "ip daddr @dns4 meta l4proto { tcp, udp } th dport 53 accept"));
        assert_non_null(strstr(s, "type filter hook forward priority filter - 10"));
        assert_non_null(strstr(s, "iifname \"lab0\" accept\n    oifname \"lab0\" accept"));
        assert_non_null(strstr(s, "iifname \"vguest\" jump fwd_dst\n    iifname \"vguest\" accept"));
        assert_non_null(strstr(s, "iifname \"br-*\" jump fwd_dst"));
        assert_null(strstr(s, "vir?br")); /* nft cannot match it: checked at both ends */
        assert_null(strstr(s, "chain claims_fwd {\n    ip")); /* no claims */
        uint8_t dns[4] = { 192, 0, 2, 53 }, mc[4] = { 239, 1, 2, 3 }, mc6[16] = { 0xff, 0x0e, [15] = 1 };
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, dns, true, 17, 53));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, dns, false, 6, 53)); /* inbound to our 53 */
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, mc, true, 17, 5000));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V6, mc6, true, 17, 5000));
        free(s);
        net_resolved_done(&res);
        net_policy_done(&p);
        ptree_free(t);

        /* Allow-list mode: DNS only to dns-servers, not the learned ones. */
        assert_int_equal(check_yaml("network:\n  dns-servers: [198.51.100.53]\n  allow-destinations: [203.0.113.0/24]\n",
                                    &e, &p, &t), 0);
        assert_int_equal(net_resolve(&p, NULL, hosts, sizeof hosts - 1, &res), 0);
        f = open_memstream(&s, &size);
        assert_int_equal(net_ruleset(f, &p, &res, &topo, NULL, -1), 0);
        fclose(f);
        assert_null(strstr(s, "@dns4"));
        assert_non_null(strstr(s, "ip daddr @dnsp4 meta l4proto { tcp, udp } th dport 53 accept"));
        assert_non_null(strstr(s, "add element inet sekisho dnsp4 { 198.51.100.53 }"));
        uint8_t listed[4] = { 198, 51, 100, 53 };
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, dns, true, 17, 53));
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, listed, true, 17, 53));
        free(s);
        net_resolved_done(&res);
        net_policy_done(&p);
        ptree_free(t);
        net_topo_done(&topo);
        assert_int_equal(check_yaml("network:\n  forward-exempt-interfaces: [\"a*b\"]\n", &e, NULL, NULL), 1);
        perrors_clear(&e);
}

static void test_isolation_model(void **state) {
        struct net_policy p;
        struct perrors e = { 0 };
        struct ptree *t = default_fragment("net");
        assert_non_null(t);
        assert_int_equal(net_policy_parse(pmap_get(t->root, "network"), &p, &e), 0);
        ptree_free(t);
        struct net_resolved res = { 0 };
        struct net_topo topo = { 0 };
        struct net_range r;
        net_parse_cidr("192.0.2.0/24", &r, NULL);
        net_ranges_add(&topo.onlink, &r);
        net_parse_cidr("192.0.2.1", &r, NULL);
        net_ranges_add(&topo.gw, &r);
        net_ranges_add(&topo.dns, &r);
        uint8_t gw[4] = { 192, 0, 2, 1 }, peer[4] = { 192, 0, 2, 20 }, far[4] = { 198, 51, 100, 10 };
        uint8_t ll[16] = { 0xfe, 0x80, [15] = 7 };
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, gw, true, 6, 80));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, peer, true, 6, 445));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, peer, false, 6, 22));
        assert_false(net_conn_forbidden(&p, &res, &topo, NET_V4, far, true, 6, 443));
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, far, true, 6, 6881)); /* file-sharing port */
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V6, ll, true, 6, 22));
        uint8_t bcast[4] = { 255, 255, 255, 255 }, apipa[4] = { 169, 254, 3, 4 };
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, bcast, true, 17, 17500)); /* LAN-sync broadcast */
        assert_true(net_conn_forbidden(&p, &res, &topo, NET_V4, apipa, true, 6, 445));
        net_policy_done(&p);
        net_topo_done(&topo);
}

static void test_text_parsers(void **state) {
        struct net_ranges l = { 0 };
        const char rc[] = "# x\nnameserver 192.0.2.1\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver\n"
                          "search example\nnameserver 999.1.1.1\n";
        net_resolv_parse(rc, sizeof rc - 1, &l);
        assert_int_equal(l.n, 2);
        net_ranges_clear(&l);
        assert_int_equal(net_hosts_lookup(hosts, sizeof hosts - 1, "SERVER.test", &l), 2);
        net_ranges_clear(&l);


        uint8_t pkt[40] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 5, 198, 51, 100, 10,
                            0x1a, 0xe1, 0x0d, 0x3d };
        struct net_pkt s;
        assert_int_equal(net_pkt_parse(pkt, sizeof pkt, 0, &s), 0);
        assert_int_equal(s.proto, 6);
        assert_int_equal(s.dport, 3389);
        assert_int_equal(s.sport, 6881);
        pkt[0] = 0x4f; /* IHL 60 > length */
        assert_true(net_pkt_parse(pkt, sizeof pkt, 0, &s) < 0);
        assert_true(net_pkt_parse(pkt, 3, 0, &s) < 0);
}

/* The netlink attributes the plugin reads from the kernel: whole ones are
 * seen, one that claims more than its container holds ends the walk, and a
 * request that would not fit is refused, never truncated. */
static void test_nlraw(void **state) {
        (void)state;
        struct nlraw_req req;
        struct nlmsghdr *h = nlraw_req_init(&req, 16, 0, "abcd", 4);
        uint32_t v = 0x01020304;
        nlraw_put(&req, 1, &v, sizeof v);
        struct nlattr *nest = nlraw_nest_start(&req, 2);
        nlraw_put(&req, 3, "xyz", 3);
        nlraw_nest_end(&req, nest);
        assert_false(req.full);
        assert_int_equal(h->nlmsg_len, NLMSG_SPACE(4) + 8 + 4 + 8);
        const struct nlattr *tb[4];
        assert_true(nlraw_parse_msg(h, 4, tb, 3));
        assert_non_null(tb[1]);
        assert_int_equal(nlraw_len(tb[1]), 4);
        assert_memory_equal(nlraw_data(tb[1]), &v, 4);
        assert_non_null(tb[2]);
        assert_null(tb[3]); /* nested: not at the top */
        const struct nlattr *nt[4];
        nlraw_parse(nlraw_data(tb[2]), nlraw_len(tb[2]), nt, 3);
        assert_non_null(nt[3]);
        assert_memory_equal(nlraw_data(nt[3]), "xyz", 3);
        assert_false(nlraw_parse_msg(h, 4096, tb, 3)); /* shorter than its fixed part */

        /* An attribute longer than what is left, or shorter than its header. */
        _Alignas(struct nlattr) uint8_t buf[16] = { 0 };
        struct nlattr *a = (struct nlattr *)buf;
        a->nla_type = 1;
        a->nla_len = 20;
        nlraw_parse(buf, sizeof buf, nt, 3);
        assert_null(nt[1]);
        a->nla_len = 2;
        nlraw_parse(buf, sizeof buf, nt, 3);
        assert_null(nt[1]);
        a->nla_len = 8;
        struct nlattr *b = (struct nlattr *)(buf + 8);
        b->nla_type = 2;
        b->nla_len = 12; /* past the end */
        nlraw_parse(buf, sizeof buf, nt, 3);
        assert_non_null(nt[1]);
        assert_null(nt[2]);

        nlraw_req_init(&req, 16, 0, NULL, 0);
        uint8_t big[2000] = { 0 };
        nlraw_put(&req, 1, big, sizeof big);
        assert_true(req.full);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cidr),           cmocka_unit_test(test_ranges),
                cmocka_unit_test(test_ports_names),    cmocka_unit_test(test_policy_default),
                cmocka_unit_test(test_policy_errors),  cmocka_unit_test(test_policy_management),
                cmocka_unit_test(test_resolve_and_rules), cmocka_unit_test(test_isolation_model),
                cmocka_unit_test(test_claims), cmocka_unit_test(test_dns_forward_multicast),
                cmocka_unit_test(test_text_parsers),   cmocka_unit_test(test_nlraw),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
