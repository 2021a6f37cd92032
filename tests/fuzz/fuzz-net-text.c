/* fuzz-net-text.c — libFuzzer target: what the net plugin reads from outside as text or bytes: /etc/hosts, resolv.conf, NFLOG packet headers, addresses. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 65536)
                return 0;
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        struct net_ranges l = { 0 };
        net_resolv_parse(s, size, &l);
        net_ranges_normalize(&l);
        net_hosts_lookup(s, size, "server.test", &l);
        net_ranges_clear(&l);
        struct net_pkt p;
        net_pkt_parse(data, size, 0, &p);
        /* The first line as an address and as ports. */
        char line[128];
        size_t n = strcspn(s, "\n");
        if (n < sizeof line) {
                memcpy(line, s, n);
                line[n] = '\0';
                struct net_range r;
                char out[128];
                if (net_parse_cidr(line, &r, NULL) == 0)
                        net_range_format(&r, out, sizeof out);
                uint16_t lo, hi;
                net_parse_ports(line, &lo, &hi);
                net_valid_hostname(line);
        }
        free(s);
        return 0;
}
