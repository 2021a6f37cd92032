/* fuzz-net-policy.c — libFuzzer target: a network: section through the checks, name resolution and the ruleset generator. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "util.h"

static const char hosts[] = "198.51.100.10 server.test vdi.test\n2001:db8:2::10 server.test\n192.0.2.20 printer.test\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 65536)
                return 0;
        struct perrors errs = { 0 };
        struct ptree *t = NULL;
        if (ptree_parse("fuzz.yaml", (const char *)data, size, &t, &errs) == 0) {
                const struct pnode *section = t->root && t->root->kind == PNODE_MAP ? pmap_get(t->root, "network") : NULL;
                struct net_policy p;
                if (net_policy_parse(section, &p, &errs) == 0) {
                        struct net_resolved res;
                        if (net_resolve(&p, NULL, hosts, sizeof hosts - 1, &res) == 0) {
                                struct net_topo topo = { 0 };
                                struct net_range r;
                                net_parse_cidr("192.0.2.0/24", &r, NULL);
                                net_ranges_add(&topo.onlink, &r);
                                char *s = NULL;
                                size_t n;
                                FILE *f = open_memstream(&s, &n);
                                if (f) {
                                        net_ruleset(f, &p, &res, &topo, NULL, 3141);
                                        fclose(f);
                                }
                                free(s);
                                uint8_t a[16] = { 198, 51, 100, 10 };
                                net_conn_forbidden(&p, &res, &topo, NET_V4, a, true, 6, 3389);
                                net_topo_done(&topo);
                                net_resolved_done(&res);
                        }
                        net_policy_done(&p);
                }
        }
        perrors_clear(&errs);
        ptree_free(t);
        return 0;
}
